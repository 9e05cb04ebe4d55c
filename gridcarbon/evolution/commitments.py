"""Bottom-up limits of the real fleet for the allocation: committed emissions and capture capacity.

The coupling (``docs/architecture.md``, "Coupling") hands these to the allocation beside the
land's removal capacities, and recomputes them after each allocation:

- **committed emissions** (lower bound, t CO2/yr, per region x point sector x year): a plant
  younger than :data:`MIN_LIFETIME_YEARS` cannot retire, and runs at no less than
  :data:`MIN_UTILISATION` of its base-year output; the bound is the sum over the region's
  base-year plants still that young in the year;
- **capture capacity** (upper bound on captured t CO2/yr, per region x year, shared by the
  industrial CCS steps of the cost curves and the power block's capture plants): plants that
  can capture (industrial and power point sectors with a storage site within ``ccs_reach_km``)
  capture at most ``capture_rate`` of their base-year output (a plant retrofitted while young
  keeps its capture; under capacity replacement a retired line's successor takes its site), and
  no more than the region's storage sites within reach of those plants hold per year once the
  allocated BECCS has taken its share (BECCS fills a region's sites by capacity share; storage
  left / run years, as :func:`.land.capacity_table` shares storage over the years).
  This part moves with the allocation: more BECCS leaves less room for fossil capture.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from gridcarbon.evolution.context import EvolutionContext
from gridcarbon.evolution.fleet import UNKNOWN_PLANT_AGE, base_year_active
from gridcarbon.evolution.storage import Storage

#: ASSUMPTION: a coal unit, blast furnace, kiln or chemical plant is not closed before it is
#: 20 years old: project loans of Chinese power and heavy-industry plants run 15-20 years, and
#: closing a plant before its debt is repaid strands the lender (the reason China's early
#: closures targeted small units past that age). Beyond it a plant may retire at any time.
MIN_LIFETIME_YEARS = 30
#: ASSUMPTION: a plant that must stay open runs at least 30 % of its base-year output (coal
#: units kept for adequacy and heat still run some 1,300 h/yr against 4,400 h/yr today, CEC 2023
#: full-load hours; kilns and furnaces cannot idle for long without damage)
MIN_UTILISATION = 0.3
#: point sectors whose plants can capture: those with CCS steps in the allocation's cost curves
#: (:data:`gridcarbon.allocation.supply.CCS_SEGMENTS`) and power, whose capture plants of the
#: allocation's power block stand at coal stations (:mod:`.power_units`)
CAPTURE_SECTORS = ("steel", "cement", "chemical", "power")
#: columns of the limits table
COLUMNS = ["region", "limit", "sector", "year", "value_t"]


def fleet_limits(ctx: EvolutionContext, totals: pd.DataFrame | None) -> pd.DataFrame:
    """``region, limit, sector, year, value_t`` for every year after the base year: ``limit``
    ``committed`` (per point sector, lower bound, t CO2/yr) and ``capture`` (sector ``ccs``,
    upper bound on captured t CO2/yr). ``totals``: the last allocation (``region, sector, year,
    allocated_t``; its ``beccs`` uses storage), None before the first one."""
    facilities = ctx.inv.facilities
    active = base_year_active(facilities, ctx.years[0])
    plants = pd.DataFrame({
        "region": facilities["region"].to_numpy(), "sector": facilities["sector"].to_numpy(),
        "emission_t": facilities["emission_t"].to_numpy(float),
        "built": _built(facilities, ctx.years[0]), "cell": facilities["cell"].to_numpy(np.int64)})[active]
    return pd.concat([_committed(ctx, plants), _capture(ctx, plants, totals)], ignore_index=True)[COLUMNS]


def _built(facilities: pd.DataFrame, base_year: int) -> np.ndarray:
    """Build year of each facility; unknown ones are :data:`UNKNOWN_PLANT_AGE` old in the base year."""
    if "year_built" not in facilities:
        return np.full(len(facilities), base_year - UNKNOWN_PLANT_AGE, float)
    return pd.to_numeric(facilities["year_built"], errors="coerce").fillna(base_year - UNKNOWN_PLANT_AGE).to_numpy()


def _committed(ctx: EvolutionContext, plants: pd.DataFrame) -> pd.DataFrame:
    years = np.array(ctx.years[1:])
    young = plants["built"].to_numpy()[:, None] + MIN_LIFETIME_YEARS > years[None, :]
    floor = young * (MIN_UTILISATION * plants["emission_t"].to_numpy())[:, None]
    frame = pd.DataFrame(floor, columns=years).assign(region=plants["region"].to_numpy(),
                                                      sector=plants["sector"].to_numpy())
    table = frame.groupby(["region", "sector"]).sum().stack().rename("value_t").reset_index()
    return table.rename(columns={"level_2": "year"}).assign(limit="committed")


def _capture(ctx: EvolutionContext, plants: pd.DataFrame, totals: pd.DataFrame | None) -> pd.DataFrame:
    """Capture capacity per region and year: capture-able plants in reach, within the storage
    left in the region's sites that they reach."""
    grid, years = ctx.grid, np.array(ctx.years[1:])
    storage = Storage.build(ctx.landscape.storage_mt.values, grid, reach_km=ctx.spec.ccs_reach_km,
                            removals=np.zeros((len(ctx.years), len(grid.regions))), years=ctx.years)
    cells = plants["cell"].to_numpy()
    fit = plants["sector"].isin(CAPTURE_SECTORS).to_numpy() & (storage.reach_site[cells] >= 0)
    pos = plants["region"].map({r: i for i, r in enumerate(grid.regions)}).to_numpy()
    reach = np.bincount(pos[fit], weights=ctx.spec.capture_rate * plants["emission_t"].to_numpy()[fit],
                        minlength=len(grid.regions))
    total = np.bincount(storage.region_pos, weights=storage.capacity_t, minlength=len(grid.regions))
    within = np.array([storage.capacity_t[storage.reachable(cells[fit & (pos == i)]) & (storage.region_pos == i)].sum()
                       for i in range(len(grid.regions))])
    # BECCS fills a region's sites by capacity share, so the reachable ones take their share of it
    beccs = _beccs_used(grid.regions, totals) * np.divide(within, total, out=np.zeros(len(total)), where=total > 0)
    value = np.repeat(np.minimum(reach, np.maximum(within - beccs, 0.0) / len(ctx.years))[:, None], len(years), axis=1)
    return pd.DataFrame({"region": np.repeat(grid.regions, len(years)), "limit": "capture", "sector": "ccs",
                         "year": np.tile(years, len(grid.regions)), "value_t": value.ravel()})


def _beccs_used(regions: list[str], totals: pd.DataFrame | None) -> np.ndarray:
    """Storage (t) the allocated BECCS takes over the run, per region (0 before any allocation)."""
    if totals is None:
        return np.zeros(len(regions))
    beccs = totals[totals["sector"] == "beccs"].groupby("region")["allocated_t"].sum()
    return -beccs.reindex(regions).fillna(0.0).to_numpy()
