"""The allocation's result: totals in t CO2/yr with how they were obtained, after the mass balance.

:func:`build_result` converts a solve (Mt) to the tidy totals table (t) and checks first that
the yearly sums meet the pathway (:func:`mass_balance`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from gridcarbon.allocation.lp import Solved
from gridcarbon.allocation.power import PowerSolution
from gridcarbon.allocation.problem import FLEET_FAMILIES, Problem
from gridcarbon.core.errors import MassBalanceError
from gridcarbon.core.sectors import EMITTING, REMOVALS, SECTORS
from gridcarbon.core.units import T_PER_MT

#: ASSUMPTION: the yearly sums may differ from the pathway by 1e-6 of it (about 2 kt in 2.4 Gt):
#: well above what the solver's feasibility tolerance leaves, well below any reported figure.
#: The diagnosis uses it too, for the base year against the baseline.
BALANCE_RTOL = 1e-6
#: ASSUMPTION: residuals are relative to at least 1 t, so years with a zero pathway (no
#: removals) are compared in absolute terms instead of dividing by zero
BALANCE_FLOOR_T = 1.0
#: ASSUMPTION: a value within 1e-6 Mt (1 t) of its bound sits on it (HiGHS' primal feasibility
#: tolerance is 1e-7 per row; values of order 1e3 Mt)
BINDING_TOL_MT = 1e-6


@dataclass
class AllocationResult:
    """Allocated totals and how they were obtained.

    ``totals``: tidy table ``region, sector, year, allocated_t`` (t CO2/yr; removals
    negative; all sectors). ``pathway``: the annual pathway
    (:func:`gridcarbon.allocation.annual_pathway`). ``objective``: yuan. ``timings``:
    seconds, ``build_s`` (the LP's sparse matrix, passed to HiGHS) and ``solve_s``
    (HiGHS). ``target_shares``: per region and year, each principle's share, their blend
    and the phased-in target. ``provenance``: scenario name and hash, solver and version.
    ``market``: per region and year ``allowance_t`` (target share x gross pathway),
    ``emissions_t`` (allocated gross), ``permits_bought_t`` (emissions - allowance; negative:
    sold), ``transfer_payment_yuan`` (permits bought x price; negative: received) and
    ``carbon_price_yuan_per_t`` (dual of the cap, yuan of that year). ``mac``: ``region,
    sector, year, mac_yuan_per_t``, the marginal abatement cost of each cell.
    ``trade``: whether regions traded (one area cap) or each met its own allowance.
    ``fleet_binding``: the fleet's limits (:data:`.problem.FLEET_FAMILIES`, capture capacity)
    the solution sits on, one record per family, region and sector with the Mt held in each
    year it binds.
    """

    totals: pd.DataFrame
    pathway: pd.DataFrame
    status: str
    objective: float
    timings: dict[str, float]
    target_shares: pd.DataFrame
    residual_rel: float = 0.0
    size: dict[str, int] = field(default_factory=dict)
    provenance: dict[str, str] = field(default_factory=dict)
    market: pd.DataFrame = field(default_factory=pd.DataFrame)
    mac: pd.DataFrame = field(default_factory=pd.DataFrame)
    trade: bool = True
    discount_rate: float = 0.0
    binding: list[dict] = field(default_factory=list)
    power: PowerSolution | None = None   # the solved power system (gridcarbon.allocation.power)
    fleet_binding: list[dict] = field(default_factory=list)   # the fleet's limits that bind, per cell

    def carbon_price(self) -> pd.Series:
        """Carbon price per year (yuan/t of that year): the area's, or with ``trade`` off the
        allowance-weighted mean of the regions' own prices."""
        m = self.market
        weighted = (m["carbon_price_yuan_per_t"] * m["allowance_t"]).groupby(m["year"]).sum()
        return (weighted / m.groupby("year")["allowance_t"].sum()).rename("carbon_price_yuan_per_t")

    def to_dataarray(self) -> xr.DataArray:
        """Totals as a DataArray (region, sector, year) named ``allocated_t``."""
        totals = self.totals
        array = (totals.set_index(["region", "sector", "year"])["allocated_t"].to_xarray()
                 .reindex(region=pd.unique(totals["region"]), sector=pd.unique(totals["sector"])))
        array.attrs.update(units="t CO2 / yr", long_name="allocated CO2 emissions (removals negative)")
        return array

    def summary(self) -> dict:
        """JSON-ready facts for a manifest."""
        return {**self.provenance, "status": self.status, "objective_yuan": float(self.objective),
                "timings_s": {k: round(v, 4) for k, v in self.timings.items()},
                "mass_balance_residual_rel": float(self.residual_rel), "lp_size": dict(self.size),
                "regions": sorted(self.totals["region"].unique().tolist()),
                "years": [int(self.totals["year"].min()), int(self.totals["year"].max())],
                "market": self.market_summary(), "binding_limits": self.binding}

    def market_summary(self) -> dict:
        """Trade mode, discount rate, the carbon price path and the permits traded, for the manifest."""
        m = self.market
        traded = m[m["permits_bought_t"] > 0].groupby("year")["permits_bought_t"].sum()
        return {"trade": self.trade, "discount_rate": self.discount_rate,
                "carbon_price_yuan_per_t": {int(y): round(float(v), 3) for y, v in self.carbon_price().items()},
                "permits_traded_t": {int(y): round(float(traded.get(y, 0.0)), 1) for y in sorted(m["year"].unique())}}


def build_result(p: Problem, solved: Solved, *, provenance: dict[str, str]) -> AllocationResult:
    """The result of an optimal solve, in t CO2/yr; raises :class:`MassBalanceError` (see :func:`mass_balance`)."""
    residual = mass_balance(p, solved)
    values = np.concatenate([solved.E, -solved.R], axis=1) * T_PER_MT
    names = EMITTING + REMOVALS
    array = xr.DataArray(values, dims=("region", "sector", "year"),
                         coords={"region": p.regions, "sector": names, "year": p.years})
    totals = (array.sel(sector=list(SECTORS)).to_dataframe(name="allocated_t").reset_index()
              [["region", "sector", "year", "allocated_t"]])
    mac = xr.DataArray(solved.mac, dims=("region", "sector", "year"),
                       coords={"region": p.regions, "sector": EMITTING, "year": p.years})
    return AllocationResult(totals=totals, pathway=p.pathway, status=solved.status, objective=solved.objective,
                            timings=solved.timings, target_shares=p.target_shares, residual_rel=residual,
                            size=solved.size, provenance=provenance, market=market_table(p, solved),
                            mac=mac.to_dataframe(name="mac_yuan_per_t").reset_index(), trade=p.trade,
                            discount_rate=p.discount_rate, binding=binding_limits(p, solved), power=solved.power,
                            fleet_binding=fleet_binding(p, solved))


def binding_limits(p: Problem, solved: Solved) -> list[dict]:
    """Bounds the solution sits on, per constraint family, bound side and sector: how many
    region-years, the first and last year, the regions and the Mt held at the bound."""
    found = []
    for limit in p.limits:
        values = solved.E if limit.on == "E" else solved.R
        names = EMITTING if limit.on == "E" else REMOVALS
        for side, bound, active in (("lower", limit.lo, limit.lo > 0), ("upper", limit.hi, np.isfinite(limit.hi))):
            on = active & (np.abs(values - np.where(active, bound, 0.0)) <= BINDING_TOL_MT)
            on[:, :, 0] = False                       # the base year is fixed, not bound
            for s in np.flatnonzero(on.any(axis=(0, 2))):
                r, t = np.nonzero(on[:, s, :])
                found.append({"family": limit.family, "bound": side, "sector": names[s], "cells": len(t),
                              "years": [p.years[int(t.min())], p.years[int(t.max())]],
                              "regions": sorted({p.regions[i] for i in r}),
                              "held_mt": round(float(values[:, s, :][on[:, s, :]].sum()), 3)})
    return found + [{k: v for k, v in b.items() if k != "per_region"} for b in _binding_capture(p, solved)]


def fleet_binding(p: Problem, solved: Solved) -> list[dict]:
    """The fleet's limits where the solution sits on them: ``limit`` (family), ``region``,
    ``sector``, the ``years`` it binds and ``held_mt`` in each (Mt CO2/yr at the bound; sector
    ``ccs``: captured Mt/yr)."""
    found = []
    sides = dict(FLEET_FAMILIES.values())
    for limit in (lim for lim in p.limits if lim.family in sides):
        side = limit.lo if sides[limit.family] == "lo" else limit.hi
        active = (side > 0) & np.isfinite(side)
        on = active & (np.abs(solved.E - np.where(active, side, 0.0)) <= BINDING_TOL_MT)
        on[:, :, 0] = False
        for r, s in zip(*np.nonzero(on.any(axis=2))):
            t = np.flatnonzero(on[r, s])
            found.append({"limit": limit.family, "region": p.regions[r], "sector": EMITTING[s],
                          "years": [int(p.years[k]) for k in t], "held_mt": np.round(solved.E[r, s, t], 3).tolist()})
    return found + [{"limit": b["family"], "region": region, "sector": "ccs", **held}
                    for b in _binding_capture(p, solved) for region, held in b["per_region"].items()]


def _binding_capture(p: Problem, solved: Solved) -> list[dict]:
    """The fleet's capture capacity, where the captured tonnes sit on it (sector ``ccs``)."""
    if p.capture is None or solved.captured is None:
        return []
    on = np.isfinite(p.capture) & (np.abs(solved.captured - np.where(np.isfinite(p.capture), p.capture, 0.0))
                                   <= BINDING_TOL_MT) & (p.capture > 0)
    on[:, 0] = False
    if not on.any():
        return []
    r, t = np.nonzero(on)
    per_region = {p.regions[i]: {"years": [int(p.years[k]) for k in np.flatnonzero(on[i])],
                                 "held_mt": np.round(solved.captured[i, on[i]], 3).tolist()} for i in np.unique(r)}
    return [{"family": "capture capacity", "bound": "upper", "sector": "ccs", "cells": len(t),
             "years": [p.years[int(t.min())], p.years[int(t.max())]], "regions": sorted({p.regions[i] for i in r}),
             "held_mt": round(float(solved.captured[on].sum()), 3), "per_region": per_region}]


def market_table(p: Problem, solved: Solved) -> pd.DataFrame:
    """Allowance, emissions, permits bought and the transfer payment per region and year (t, yuan)."""
    allowance, emissions = p.allowance * T_PER_MT, solved.E.sum(axis=1) * T_PER_MT
    bought = emissions - allowance
    bought[np.abs(bought) < BALANCE_RTOL * np.abs(allowance)] = 0.0   # below the mass-balance tolerance
    index = pd.MultiIndex.from_product([p.regions, p.years], names=["region", "year"])
    return pd.DataFrame({"allowance_t": allowance.ravel(), "emissions_t": emissions.ravel(),
                         "permits_bought_t": bought.ravel(),
                         "transfer_payment_yuan": (bought * solved.price).ravel(),
                         "carbon_price_yuan_per_t": solved.price.ravel()}, index=index).reset_index()


def mass_balance(p: Problem, solved: Solved) -> float:
    """Largest relative residual of the yearly sums; raise :class:`MassBalanceError` above :data:`BALANCE_RTOL`."""
    worst = 0.0
    for what, got, want in (("gross", solved.E.sum(axis=(0, 1)), p.gross),
                            ("removals", solved.R.sum(axis=(0, 1)), p.removals)):
        residual = np.abs(got - want) / np.maximum(np.abs(want), BALANCE_FLOOR_T / T_PER_MT)
        t = int(np.argmax(residual))
        if residual[t] > BALANCE_RTOL:
            raise MassBalanceError(f"allocated {what} {got[t] * T_PER_MT:.6g} t in {p.years[t]} differ from the "
                                   f"pathway {want[t] * T_PER_MT:.6g} t (relative residual {residual[t]:.2g})")
        worst = max(worst, float(residual[t]))
    return worst
