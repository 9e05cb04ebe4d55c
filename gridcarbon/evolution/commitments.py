"""Bottom-up limits of the real fleet for the allocation: committed emissions, retirement and
build rates, capture capacity.

The coupling (``docs/architecture.md``, "Coupling") hands these to the allocation beside the
land's removal capacities, and recomputes them after each allocation:

- **committed emissions** (lower bound, t CO2/yr, per region x point sector x year): a plant
  younger than :data:`MIN_LIFETIME_YEARS` cannot retire, and runs at no less than
  :data:`MIN_UTILISATION` of its base-year output; the bound is the sum over the region's
  base-year plants still that young in the year;
- **retirement rate** (lower bound, t CO2/yr, per region x point sector x year): the fleet
  cannot shrink faster than its plants may retire. A plant may retire from
  :data:`MIN_LIFETIME_YEARS` of age or its planned retirement (GEM), and a region's fleet loses
  at most :func:`fleet_rates` ``closure`` of its standing potential a year (the fast end of
  observed province-years); what still stands runs at no less than the evolution's
  ``retire_utilisation`` (below it the point rules retire plants), less the most its plants
  within reach of storage could capture (``capture_rate``). Plants the last allocation made the
  fleet build (a region x sector rising above ``build_utilisation`` x its base-year potential)
  stand too: this part moves with the allocation. ASSUMPTION: what stands emits at its base-year
  intensity less capture; intensity cuts other than capture (clinker substitution, a furnace's
  switch to scrap) count only within the utilisation margin;
- **build rate** (upper bound, t CO2/yr, per region x point sector x year): the fleet grows at
  most by its due pipeline (GEM construction, permitted, ... rows with their start years) or
  :func:`fleet_rates` ``build`` x its base-year potential a year (linear: a region's
  construction capacity does not compound), whichever is more, and runs at most at
  ``build_utilisation``;
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

from functools import lru_cache

import numpy as np
import pandas as pd

from gridcarbon.evolution.context import EvolutionContext
from gridcarbon.evolution.fleet import PIPELINE, Fleet
from gridcarbon.evolution.lifecycle import AT_RISK, HAZARD_WINDOW, STEEL_WINDOW
from gridcarbon.evolution.storage import Storage
from gridcarbon.inputs.data import read_table
from gridcarbon.inventory.facilities import steel_capacity_mt

#: ASSUMPTION: a coal unit, blast furnace, kiln or chemical plant is not closed before it is
#: 30 years old: project loans of Chinese power and heavy-industry plants run 15-20 years and
#: their design life 30 (closing a plant before its debt is repaid strands the lender: the
#: reason China's early closures targeted small units past that age). Beyond it a plant may
#: retire at any time.
MIN_LIFETIME_YEARS = 30
#: ASSUMPTION: a plant that must stay open runs at least 30 % of its base-year output (coal
#: units kept for adequacy and heat still run some 1,300 h/yr against 4,400 h/yr today, CEC 2023
#: full-load hours; kilns and furnaces cannot idle for long without damage)
MIN_UTILISATION = 0.3
#: point sectors whose plants can capture: those with CCS steps in the allocation's cost curves
#: (:data:`gridcarbon.allocation.supply.CCS_SEGMENTS`) and power, whose capture plants of the
#: allocation's power block stand at coal stations (:mod:`.power_units`)
CAPTURE_SECTORS = ("steel", "cement", "chemical", "power")
#: quantile of the province-year shares of a tracker's standing capacity retired (or started)
#: in a year of its hazard window (:data:`~.lifecycle.HAZARD_WINDOW`, :data:`~.lifecycle.STEEL_WINDOW`),
#: taken as the fastest a region's fleet closes (or grows). ASSUMPTION: the 95th
#: percentile, a fast year of a province's closure campaign or construction boom; the maximum
#: belongs to small fleets closing whole (Beijing's last coal units, 64 % in 2015) or doubling
RATE_QUANTILE = 0.95
#: tracker whose rates each point sector takes (``power``: GEM Global Coal Plant Tracker, July
#: 2023; ``steel``: GEM Global Iron and Steel Tracker, December 2025). ASSUMPTION: cement and
#: chemical plants (no tracker dates cement retirements, none covers chemical plants) close and
#: grow like steel, the heavy industry under the same capacity-replacement rules
RATE_TRACKER = {"power": "power", "steel": "steel", "cement": "steel", "chemical": "steel"}
#: columns of the limits table
COLUMNS = ["region", "limit", "sector", "year", "value_t"]


class FleetLimits:
    """The fleet's limits of one evolution context (module docstring): the plants, their groups and
    the parts that do not move with the allocation (committed emissions, build rates) are made
    once; calling it with an allocation's totals adds the parts that do (retirement, capture).
    The coupling asks for them after every allocation (the default run: six times)."""

    def __init__(self, ctx: EvolutionContext):
        table = Fleet.from_facilities(ctx.inv.facilities, ctx.grid, ctx.years[0]).table
        regions = np.asarray(ctx.grid.regions, dtype=object)
        plants = pd.DataFrame({"region": regions[table["region_pos"].to_numpy()], "sector": table["sector"].to_numpy(),
                               "emission_t": table["potential_t"].to_numpy(float),
                               "built": table["year_built"].to_numpy(float), "cell": table["cell"].to_numpy(np.int64),
                               "retires": table["planned_retirement"].to_numpy(float),
                               "due": table["planned_year"].to_numpy(float)})
        self.storage = Storage.on(ctx.storage_sites, removals=np.zeros((len(ctx.years), len(ctx.grid.regions))),
                                  years=ctx.years)
        plants["reach"] = (plants["sector"].isin(CAPTURE_SECTORS).to_numpy()
                           & (self.storage.reach_site[plants["cell"]] >= 0))
        status = table["status"].to_numpy()
        self.ctx, self.active = ctx, plants[status == "active"]
        self.committed = _committed(ctx, self.active)
        self.build = _build(ctx, self.active, plants[status == PIPELINE])

    def __call__(self, totals: pd.DataFrame | None) -> pd.DataFrame:
        """``region, limit, sector, year, value_t`` under ``totals`` (see :func:`fleet_limits`)."""
        parts = [self.committed, _retirement(self.ctx, self.active, totals), self.build,
                 _capture(self.ctx, self.active, self.storage, totals)]
        return pd.concat(parts, ignore_index=True)[COLUMNS]


def fleet_limits(ctx: EvolutionContext, totals: pd.DataFrame | None) -> pd.DataFrame:
    """``region, limit, sector, year, value_t`` for every year after the base year: ``limit``
    ``committed`` and ``retirement`` (per point sector, lower bounds, t CO2/yr), ``build`` (per
    point sector, upper bound, t CO2/yr) and ``capture`` (sector ``ccs``, upper bound on captured
    t CO2/yr). ``totals``: the last allocation (``region, sector, year, allocated_t``; its
    ``beccs`` uses storage, its point sectors' rises build plants), None before the first one.
    Asked for several allocations of one context, :class:`FleetLimits` makes the fixed parts once."""
    return FleetLimits(ctx)(totals)


@lru_cache(maxsize=1)
def fleet_rates() -> pd.DataFrame:
    """Fastest yearly ``closure`` and ``build`` of a region's fleet (shares of its standing
    capacity, 0..1) per point sector (index): the :data:`RATE_QUANTILE` of the trackers'
    province-year shares (capacity retired, or started, in a year of the sector's hazard window:
    today's closure and capacity-replacement policies, over the capacity standing at the year's
    start). Coal units: closure 4.2 %, build 15.7 % a year; steel 5.5 % and 5.5 %."""
    coal, steel = read_table("facilities/coal_units.csv"), read_table("facilities/steel_plants.csv")
    trackers = {"power": (coal, coal["capacity_mw"].to_numpy(float), HAZARD_WINDOW),
                "steel": (steel, steel_capacity_mt(steel).to_numpy(float), STEEL_WINDOW)}
    rates = {name: {"closure": _province_share(table, cap, AT_RISK[name], window, closure=True),
                    "build": _province_share(table, cap, AT_RISK[name], window, closure=False)}
             for name, (table, cap, window) in trackers.items()}
    return pd.DataFrame({sector: rates[name] for sector, name in RATE_TRACKER.items()}).T


def _province_share(table: pd.DataFrame, cap: np.ndarray, statuses: tuple[str, ...], window: tuple[int, int], *,
                    closure: bool) -> float:
    """:data:`RATE_QUANTILE` over province-years of ``window`` of the capacity retired
    (``closure``) or started in the year over the capacity standing at its start; rows as the
    age hazard counts them (dated, of ``statuses``; retired rows without a year left out)."""
    keep = (table["status"].isin(statuses) & table["start_year"].notna()
            & ~((table["status"] == "retired") & table["retired_year"].isna())).to_numpy()
    t, cap = table[keep], cap[keep]
    start, retired, region = t["start_year"].to_numpy(), t["retired_year"].to_numpy(), t["region"].to_numpy()
    shares = []
    for year in range(window[0], window[1] + 1):
        alive = (start < year) & ~(retired < year)
        event = alive & (retired == year) if closure else start == year
        standing = pd.Series(cap * alive).groupby(region).sum()
        moved = pd.Series(cap * event).groupby(region).sum()
        shares.append((moved / standing)[standing > 0])
    return float(pd.concat(shares).quantile(RATE_QUANTILE))


def _committed(ctx: EvolutionContext, plants: pd.DataFrame) -> pd.DataFrame:
    years = np.array(ctx.years[1:])
    young = plants["built"].to_numpy()[:, None] + MIN_LIFETIME_YEARS > years[None, :]
    floor = young * (MIN_UTILISATION * plants["emission_t"].to_numpy())[:, None]
    frame = pd.DataFrame(floor, columns=years).assign(region=plants["region"].to_numpy(),
                                                      sector=plants["sector"].to_numpy())
    table = frame.groupby(["region", "sector"]).sum().stack().rename("value_t").reset_index()
    return table.rename(columns={"level_2": "year"}).assign(limit="committed")


def _capture(ctx: EvolutionContext, plants: pd.DataFrame, storage: Storage,
             totals: pd.DataFrame | None) -> pd.DataFrame:
    """Capture capacity per region and year: capture-able plants in reach, within the storage
    left in the region's sites that they reach."""
    grid, years = ctx.grid, np.array(ctx.years[1:])
    cells, fit = plants["cell"].to_numpy(), plants["reach"].to_numpy()
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


def _groups(plants: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The region x sector groups of the rate-limited sectors (``region, sector, potential_t,
    reach_share``: base-year potential, t CO2/yr, and its share in reach of storage) and each
    plant's group (-1: another sector)."""
    rated = plants["sector"].isin(list(RATE_TRACKER)).to_numpy()
    keys = pd.MultiIndex.from_arrays([plants["region"], plants["sector"]])
    groups = pd.MultiIndex.from_frame(plants.loc[rated, ["region", "sector"]].drop_duplicates()).sort_values()
    which = np.where(rated, groups.get_indexer(keys), -1)
    weight = plants["emission_t"].to_numpy(float)
    potential = np.bincount(which[rated], weights=weight[rated], minlength=len(groups))
    within = np.bincount(which[rated], weights=(weight * plants["reach"].to_numpy())[rated], minlength=len(groups))
    frame = groups.to_frame(index=False).assign(
        potential_t=potential, reach_share=np.divide(within, potential, out=np.zeros(len(groups)), where=potential > 0))
    return frame, which


def _per_year(which: np.ndarray, values: np.ndarray, year: np.ndarray, years: np.ndarray, n: int) -> np.ndarray:
    """(n groups, len(years)) sums of ``values`` of the rows of group ``which`` (>= 0) from their
    ``year`` on (cumulative; NaN years never count)."""
    out = np.zeros((n, len(years)))
    ok = (which >= 0) & np.isfinite(year) & (year <= years[-1])
    at = np.searchsorted(years, np.maximum(year[ok], years[0]))
    np.add.at(out, (which[ok], at), values[ok])
    return np.cumsum(out, axis=1)


def _base_totals(ctx: EvolutionContext, groups: pd.DataFrame) -> np.ndarray:
    """The inventory's base-year total (t CO2/yr) of each group."""
    totals = ctx.inv.totals.set_index(["region", "sector"])["value_t"]
    return totals.reindex(pd.MultiIndex.from_frame(groups[["region", "sector"]])).fillna(0.0).to_numpy(float)


def _frame(groups: pd.DataFrame, years: np.ndarray, values: np.ndarray, limit: str) -> pd.DataFrame:
    """Limits table rows of ``values`` (n groups, len(years)) for the years after the base year."""
    n_t = len(years) - 1
    return pd.DataFrame({"region": np.repeat(groups["region"].to_numpy(), n_t), "limit": limit,
                         "sector": np.repeat(groups["sector"].to_numpy(), n_t),
                         "year": np.tile(years[1:], len(groups)), "value_t": values[:, 1:].ravel()})


def _retirement(ctx: EvolutionContext, plants: pd.DataFrame, totals: pd.DataFrame | None) -> pd.DataFrame:
    """Lowest emissions (t CO2/yr) of each region x sector the fleet can reach by retiring as
    fast as it may (module docstring): what must still stand x ``retire_utilisation`` x
    (1 - ``capture_rate`` x the share in reach of storage)."""
    years = np.array(ctx.years, float)
    groups, which = _groups(plants)
    p0 = groups["potential_t"].to_numpy()
    eligible = np.fmin(plants["built"].to_numpy(float) + MIN_LIFETIME_YEARS, plants["retires"].to_numpy(float))
    free = _per_year(which, plants["emission_t"].to_numpy(float), eligible, years, len(groups))
    built = _builds(ctx, groups, totals)                                   # cumulative, (G, T)
    free[:, MIN_LIFETIME_YEARS:] += built[:, :max(len(years) - MIN_LIFETIME_YEARS, 0)]   # new plants age too
    standing_max = p0[:, None] + built
    closure = groups["sector"].map(fleet_rates()["closure"]).to_numpy(float)
    retired = np.zeros_like(standing_max)
    for t in range(1, len(years)):
        retired[:, t] = np.minimum(retired[:, t - 1] + closure * (standing_max[:, t - 1] - retired[:, t - 1]),
                                   free[:, t])
    after_capture = 1.0 - ctx.spec.capture_rate * groups["reach_share"].to_numpy()
    floor = ctx.spec.retire_utilisation * (standing_max - retired) * after_capture[:, None]
    return _frame(groups, years.astype(int), floor, "retirement")


def _builds(ctx: EvolutionContext, groups: pd.DataFrame, totals: pd.DataFrame | None) -> np.ndarray:
    """Potential (t CO2/yr, cumulative, (G, T)) the point rules would add to each group's fleet
    under ``totals``: what its highest total so far needs beyond ``build_utilisation`` x the
    base-year potential (0 before any allocation)."""
    shape = (len(groups), len(ctx.years))
    if totals is None:
        return np.zeros(shape)
    cube = totals.pivot_table(index=["region", "sector"], columns="year", values="allocated_t", aggfunc="sum")
    cube = cube.reindex(index=pd.MultiIndex.from_frame(groups[["region", "sector"]]), columns=ctx.years).fillna(0.0)
    p0, base = groups["potential_t"].to_numpy(), _base_totals(ctx, groups)
    in_fleet = cube.to_numpy() * np.divide(p0, base, out=np.zeros(len(p0)), where=base > 0)[:, None]
    need = np.maximum.accumulate(in_fleet, axis=1) / ctx.spec.build_utilisation - p0[:, None]
    return np.maximum(need, 0.0)


def _build(ctx: EvolutionContext, plants: pd.DataFrame, pipeline: pd.DataFrame) -> pd.DataFrame:
    """Highest emissions (t CO2/yr) of each region x sector the fleet can reach by building as
    fast as it may (module docstring), scaled from the fleet to the inventory's total."""
    years = np.array(ctx.years, float)
    groups, _ = _groups(plants)
    keys = pd.MultiIndex.from_arrays([pipeline["region"], pipeline["sector"]])
    which = pd.MultiIndex.from_frame(groups[["region", "sector"]]).get_indexer(keys)
    due = _per_year(which, pipeline["emission_t"].to_numpy(float), pipeline["due"].to_numpy(float), years,
                    len(groups))
    p0 = groups["potential_t"].to_numpy()
    rate = groups["sector"].map(fleet_rates()["build"]).to_numpy(float)
    grown = np.maximum(due, rate[:, None] * p0[:, None] * (years - years[0])[None, :])
    scale = np.divide(_base_totals(ctx, groups), p0, out=np.zeros(len(p0)), where=p0 > 0)
    ceiling = ctx.spec.build_utilisation * (p0[:, None] + grown) * scale[:, None]
    return _frame(groups, years.astype(int), ceiling, "build")


def _beccs_used(regions: list[str], totals: pd.DataFrame | None) -> np.ndarray:
    """Storage (t) the allocated BECCS takes over the run, per region (0 before any allocation)."""
    if totals is None:
        return np.zeros(len(regions))
    beccs = totals[totals["sector"] == "beccs"].groupby("region")["allocated_t"].sum()
    return -beccs.reindex(regions).fillna(0.0).to_numpy()
