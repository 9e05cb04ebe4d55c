"""Industrial transfer told to the allocation: moved capacity takes its origin's tonnes along.

The evolution's transfer rule (:mod:`gridcarbon.evolution.transfer`) plans which plants move
from a region whose sector total falls faster than the region set's to one with room. A
plant of base-year potential ``p`` (t CO2/yr) moved in year ``y0`` from region ``o`` carries
``p x T_o(y) / T_o(y_base)`` of ``o``'s sector total to its destination in every year
``y >= y0``: what stays in ``o`` keeps ``o``'s allocated trend, the destination's total
rises by the same tonnes, and the pathway total of every year is unchanged. The market table
follows: with trading, the destination emits more and buys the permits the origin no longer
needs, at the year's carbon price; without trading (each region meets its own allowance) the
allowance moves with the plant, as capacity-replacement quotas do, and no permits appear.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from gridcarbon.allocation.result import BALANCE_RTOL, AllocationResult
from gridcarbon.core.errors import MassBalanceError

#: columns of a transfer plan (:func:`gridcarbon.evolution.transfer.plan_transfers`): year of the
#: move, plant id, sector, origin and destination regions, the plant's base-year potential (t CO2/yr)
PLAN_COLUMNS = ["year", "id", "sector", "from_region", "to_region", "potential_t"]


def moved_emissions(totals: pd.DataFrame, plan: pd.DataFrame) -> pd.DataFrame:
    """Per move and year from its move on: ``year, id, sector, from_region, to_region,
    moved_t`` (t CO2/yr the move carries from origin to destination), from the allocated
    ``totals`` (region, sector, year, allocated_t) before any transfer."""
    cols = ["year", "id", "sector", "from_region", "to_region", "moved_t"]
    if plan.empty:
        return pd.DataFrame(columns=cols)
    cube = totals.pivot_table(index="year", columns=["region", "sector"], values="allocated_t", aggfunc="sum")
    base = cube.iloc[0]
    rows = []
    for move in plan.itertuples():
        key = (move.from_region, move.sector)
        trend = cube.loc[cube.index >= move.year, key] / base[key]
        rows.append(pd.DataFrame({"year": trend.index, "id": move.id, "sector": move.sector,
                                  "from_region": move.from_region, "to_region": move.to_region,
                                  "moved_t": move.potential_t * trend.to_numpy()}))
    return pd.concat(rows, ignore_index=True)[cols]


def apply_transfers(result: AllocationResult, plan: pd.DataFrame) -> tuple[AllocationResult, pd.DataFrame]:
    """``result`` with the ``plan``'s moves (:data:`PLAN_COLUMNS`) in its totals and market
    table, and the :func:`moved_emissions` of every move and year.

    Raises :class:`MassBalanceError` if a year's pathway total changed or an origin's total
    would fall below zero (beyond :data:`BALANCE_RTOL`).
    """
    moved = moved_emissions(result.totals, plan)
    if moved.empty:
        return result, moved
    delta = pd.concat([moved.rename(columns={"from_region": "region"}).assign(d=-moved.moved_t),
                       moved.rename(columns={"to_region": "region"}).assign(d=moved.moved_t)])
    delta = delta.groupby(["region", "sector", "year"]).d.sum()
    totals = result.totals.set_index(["region", "sector", "year"])
    shifted = totals.allocated_t.add(delta.reindex(totals.index, fill_value=0.0))
    _check(totals.allocated_t, shifted)
    market = _shift_market(result.market, delta, trade=result.trade)
    new = dataclasses.replace(result, totals=totals.assign(allocated_t=shifted).reset_index(), market=market)
    return new, moved


def _check(before: pd.Series, after: pd.Series) -> None:
    """Same total per year, no region x sector below zero where it was not."""
    b, a = before.groupby(level="year").sum(), after.groupby(level="year").sum()
    if (np.abs(a - b) > BALANCE_RTOL * np.abs(b).clip(lower=1.0)).any():
        raise MassBalanceError("transfers changed a year's pathway total")
    if ((after < -BALANCE_RTOL * before.abs().clip(lower=1.0)) & (before >= 0)).any():
        raise MassBalanceError("transfers took more from a region than its allocated total")


def _shift_market(market: pd.DataFrame, delta: pd.Series, *, trade: bool) -> pd.DataFrame:
    """The market table with each region's emissions moved by ``delta`` (region, sector, year ->
    t CO2/yr), and with it the permits bought and transfer payment (``trade``) or the allowance."""
    if market.empty:
        return market
    per = delta.groupby(level=["region", "year"]).sum()
    m = market.set_index(["region", "year"])
    d = per.reindex(m.index, fill_value=0.0)
    m["emissions_t"] += d
    if not trade:
        m["allowance_t"] += d
        return m.reset_index()
    m["permits_bought_t"] += d
    m["transfer_payment_yuan"] = m.permits_bought_t * m.carbon_price_yuan_per_t
    return m.reset_index()
