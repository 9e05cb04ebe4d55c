"""The allocation problem in numbers: baseline, pathway, target shares, ramps, limits, trajectories.

:func:`prepare` turns a scenario, a baseline, the drivers and optional capacities into a
:class:`Problem`: everything the LP (:mod:`gridcarbon.allocation.model`) and the diagnosis
(:mod:`gridcarbon.allocation.diagnosis`) need, in Mt (values of order 1e3, for the LP's
numerical range), with a year axis from the base year to the end year (index 0 = base).
See ``docs/architecture.md``, "Allocation".
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gridcarbon.allocation.nesting import nested_pathway
from gridcarbon.allocation.pathway import annual_pathway
from gridcarbon.allocation.power_data import DEMAND_GDP_ELASTICITY, PowerSystem
from gridcarbon.allocation.power_inputs import power_system
from gridcarbon.allocation.shares import driver_arrays, shares_of
from gridcarbon.allocation.supply import (
    AUTONOMOUS_INTENSITY_DECLINE,
    business_as_usual,
    regional_curves,
    supply_facts,
)
from gridcarbon.config import Scenario
from gridcarbon.core.errors import InputError, SchemaError
from gridcarbon.core.sectors import EMITTING, REMOVALS, SECTORS, check_sector
from gridcarbon.core.units import T_PER_MT
from gridcarbon.inputs.columns import require_columns

#: ASSUMPTION: a sector present in a region's base year may change by at least its ramp rate
#: times 1 % of the region's base-year gross a year (t CO2/yr), not only times its own size:
#: otherwise small sectors are all but frozen while the region's total moves. Sectors absent
#: in the base year stay absent (no ramp room).
RAMP_MIN_FRAC = 0.01


@dataclass(frozen=True)
class Limit:
    """Bounds from one constraint family on E (emitting) or R (removals), Mt, shape (R, S|K, T)."""

    family: str
    on: str     # "E" or "R"
    lo: np.ndarray
    hi: np.ndarray


@dataclass(frozen=True)
class Problem:
    """Everything the LP and the diagnosis need, in Mt. Year axis: base..end (index 0 = base)."""

    regions: list[str]
    years: list[int]
    e0: np.ndarray                 # (R, S) base-year emissions, S = EMITTING
    r0: np.ndarray                 # (R, K) base-year removal magnitudes, K = REMOVALS
    gross: np.ndarray              # (T,)
    removals: np.ndarray           # (T,)
    ramp: np.ndarray               # (R, S) max annual change
    limits: list[Limit]
    trajectories: dict[str, np.ndarray]   # sector -> (T,) sum over regions (magnitude), NaN = free
    shares: np.ndarray             # (R, T) phased-in target shares; allowance = shares x gross
    mac: dict[str, list[tuple[float, float]]]
    bau: np.ndarray                # (R, S, T) business-as-usual emissions, abatement is measured from it
    widths: np.ndarray             # (R, S, J) cost segment widths, fractions of BAU
    costs: np.ndarray              # (R, S, J) cost segment prices, yuan per t
    trade: bool                    # one area cap (True) or one cap per region
    discount_rate: float           # per year
    net_zero_year: int | None
    pathway: pd.DataFrame          # t CO2/yr, for the result
    target_shares: pd.DataFrame
    power: PowerSystem | None = None   # the provincial power system (provinces only), see allocation.power
    capture: np.ndarray | None = None  # (R, T) Mt/yr of capture a region's plants can reach (inf: no limit)

    @property
    def discount(self) -> np.ndarray:
        """Discount factor of each year's costs, (T,), 1 in the base year."""
        return (1 + self.discount_rate) ** -np.arange(len(self.years), dtype=float)

    @property
    def allowance(self) -> np.ndarray:
        """Each region's allowance (Mt, (R, T)): its principle-blend target share of the gross pathway."""
        return self.shares * self.gross[None, :]

    def bounds(self, on: str) -> tuple[np.ndarray, np.ndarray]:
        """Combined lower and upper bounds over all families for ``on`` ("E" or "R")."""
        mine = [lim for lim in self.limits if lim.on == on]
        return np.maximum.reduce([lim.lo for lim in mine]), np.minimum.reduce([lim.hi for lim in mine])

    def ramp_reach(self) -> tuple[np.ndarray, np.ndarray]:
        """Lowest and highest E each cell can reach by each year under ramps and bounds, (R, S, T)."""
        steps = np.arange(len(self.years))[None, None, :]
        lo, hi = self.bounds("E")
        down = np.maximum(self.e0[:, :, None] - steps * self.ramp[:, :, None], lo)
        up = np.minimum(self.e0[:, :, None] + steps * self.ramp[:, :, None], hi)
        return down, up


def prepare(scenario: Scenario, baseline: pd.DataFrame, drivers: pd.DataFrame,
            capacities: pd.DataFrame | None, mac: dict[str, list[tuple[float, float]]],
            supply: pd.DataFrame | None = None, parent: pd.DataFrame | None = None,
            fleet: pd.DataFrame | None = None, kept: dict | None = None) -> Problem:
    """The scenario's allocation problem for ``baseline`` (see :func:`gridcarbon.allocation.allocate`).

    ``supply``: province facts of :func:`gridcarbon.allocation.supply.supply_facts` (default
    the shipped facilities) that make the cost curves regional. ``parent``: the totals of the
    allocation named by ``pathway.from`` (:mod:`gridcarbon.allocation.nesting`). ``fleet``:
    the fleet's limits (``region, limit, sector, year, value_t``; ``committed`` lower bounds
    on emitting sectors and ``capture`` upper bounds on captured t CO2/yr per region).
    ``kept``: a dict carried across the allocations of one run (the :class:`~.lp.Resolver`'s)
    that keeps the power system's inputs, built once for the inputs they depend on.
    """
    table = _baseline_table(baseline)
    regions = list(table.index)
    _check_regions(regions, scenario)
    e0, r0 = table[EMITTING].to_numpy(float) / T_PER_MT, -table[REMOVALS].to_numpy(float) / T_PER_MT
    pathway = _pathway(scenario, regions, e0.sum() * T_PER_MT, r0.sum() * T_PER_MT, parent)
    projection = pathway[pathway["kind"] == "projection"]
    population, gdp = driver_arrays(drivers, regions, scenario.all_years)
    shares = shares_of(table[EMITTING].sum(axis=1), population, gdp, scenario.principles.weights(),
                       base_year=scenario.base_year, end_year=scenario.end_year)
    ramp_base = np.where(e0 > 0, np.maximum(e0, RAMP_MIN_FRAC * e0.sum(axis=1, keepdims=True)), 0.0)
    ramp = np.array([scenario.allocation.ramp_for(s) for s in EMITTING])[None, :] * ramp_base
    widths, costs = regional_curves(mac, regions, supply_facts() if supply is None else supply)
    factors = scenario.assumptions
    power = _power(scenario, regions, e0, drivers, kept)
    return Problem(
        regions=regions, years=scenario.all_years, e0=e0, r0=r0,
        gross=projection["gross_t"].to_numpy() / T_PER_MT, removals=projection["removals_t"].to_numpy() / T_PER_MT,
        ramp=ramp, limits=_limits(scenario, regions, e0, capacities) + _fleet_bounds(fleet, regions, scenario.all_years,
                                                                                     power),
        trajectories=_trajectories(scenario), capture=_capture(fleet, regions, scenario.all_years),
        shares=shares["target"].to_numpy().reshape(len(regions), -1), mac=mac,
        bau=business_as_usual(e0, gdp, EMITTING, AUTONOMOUS_INTENSITY_DECLINE * factors.intensity_decline),
        widths=widths, costs=costs * factors.mac_cost, trade=scenario.allocation.trade,
        discount_rate=scenario.allocation.discount_rate,
        net_zero_year=scenario.pathway.net_zero.year if scenario.pathway.net_zero else None,
        pathway=pathway, target_shares=shares, power=power)


def _power(scenario: Scenario, regions: list[str], e0: np.ndarray, drivers: pd.DataFrame,
           kept: dict | None) -> PowerSystem | None:
    """The power system of the regions (:func:`.power_inputs.power_system`), taken from ``kept``
    when it was built there for the same regions, years, baseline, drivers and electrification."""
    electrification = scenario.evolution.electrification.blended()
    elasticity = DEMAND_GDP_ELASTICITY * scenario.assumptions.demand_elasticity
    key = hashlib.sha256(repr((regions, scenario.all_years, sorted(electrification.items()), elasticity)).encode())
    key.update(np.ascontiguousarray(e0).tobytes())
    key.update(pd.util.hash_pandas_object(drivers, index=False).to_numpy().tobytes())
    if kept is not None and kept.get("power", (None,))[0] == key.hexdigest():
        return kept["power"][1]
    system = power_system(regions, scenario.all_years, e0, drivers, electrification, demand_elasticity=elasticity)
    if kept is not None:
        kept["power"] = (key.hexdigest(), system)
    return system


def _pathway(scenario: Scenario, regions: list[str], base_gross_t: float, base_removals_t: float,
             parent: pd.DataFrame | None) -> pd.DataFrame:
    """The scenario's own pathway, or the one its ``pathway.from`` allocation gives these regions."""
    name = scenario.pathway.parent
    if name is None:
        return annual_pathway(scenario.pathway, scenario.base_year, scenario.end_year, base_gross_t,
                              base_removals_t=base_removals_t, source=scenario.source)
    if parent is None:
        raise InputError(f"the pathway comes from the allocation of {name!r}, which was not given",
                         source=scenario.source, record="pathway.from",
                         hint="run it through gridcarbon.job (it allocates the parent first) or pass parent=")
    return nested_pathway(parent, regions, scenario.all_years, base_gross_t, base_removals_t, parent=name)


def _baseline_table(baseline: pd.DataFrame) -> pd.DataFrame:
    """Baseline as a region x sector table (t CO2/yr), regions in order of appearance."""
    require_columns(baseline, ["region", "sector", "value_t"], source="baseline")
    for i, sector in enumerate(baseline["sector"]):
        check_sector(sector, source="baseline", record=i)
    if baseline.duplicated(["region", "sector"]).any():
        raise SchemaError("duplicate region/sector rows", source="baseline")
    values = pd.to_numeric(baseline["value_t"], errors="coerce")
    removal = baseline["sector"].isin(REMOVALS)
    wrong = values.isna() | (removal & (values > 0)) | (~removal & (values < 0))
    if wrong.any():
        raise SchemaError("values must be numbers, >= 0 for emitting and <= 0 for removal sectors",
                          source="baseline", record=int(np.flatnonzero(wrong)[0]))
    table = baseline.assign(value_t=values).pivot(index="region", columns="sector", values="value_t")
    return table.reindex(index=pd.unique(baseline["region"]), columns=list(SECTORS)).fillna(0.0)


def _check_regions(regions: list[str], scenario: Scenario) -> None:
    """The baseline must cover exactly the scenario's regions when those are known."""
    expected = scenario.regions
    if expected is None or set(regions) == set(expected):
        return
    extra, missing = sorted(set(regions) - set(expected)), sorted(set(expected) - set(regions))
    raise InputError(f"baseline regions do not match region set {scenario.region_set!r}: "
                     f"unknown {extra or 'none'}, missing {missing or 'none'}", source="baseline")


# -- limits: per-cell bounds by constraint family ---------------------------------------------------
def _limits(scenario: Scenario, regions: list[str], e0: np.ndarray, capacities: pd.DataFrame | None) -> list[Limit]:
    """Floors, capacities and user bounds as per-cell bounds (Mt); none apply in the base year."""
    n_t = len(scenario.all_years)
    shape_e, shape_r = (len(regions), len(EMITTING), n_t), (len(regions), len(REMOVALS), n_t)
    floors = np.array([scenario.allocation.floors.get(s, 0.0) for s in EMITTING])
    floor_lo = np.repeat((floors[None, :] * e0)[:, :, None], n_t, axis=2)
    floor_lo[:, :, 0] = 0.0
    caps = {"E": np.full(shape_e, np.inf), "R": np.full(shape_r, np.inf)}
    _apply_capacity_table(caps, capacities, regions, scenario.all_years)
    _apply_capacity_overrides(caps["R"], scenario, regions)
    bound_lo = {"E": np.zeros(shape_e), "R": np.zeros(shape_r)}
    bound_hi = {"E": np.full(shape_e, np.inf), "R": np.full(shape_r, np.inf)}
    _apply_user_bounds(bound_lo, bound_hi, scenario, regions)
    return [Limit("floors", "E", floor_lo, np.full(shape_e, np.inf)),
            *(Limit("capacities", on, np.zeros(caps[on].shape), caps[on]) for on in ("E", "R")),
            *(Limit("user bounds", on, bound_lo[on], bound_hi[on]) for on in ("E", "R"))]


def _fleet_rows(fleet: pd.DataFrame | None, limit: str) -> pd.DataFrame | None:
    """The rows of one kind of the fleet's limits table (checked), None without a table."""
    if fleet is None:
        return None
    require_columns(fleet, ["region", "limit", "sector", "year", "value_t"], source="fleet limits")
    bad = ~(pd.to_numeric(fleet["value_t"], errors="coerce") >= 0)
    if bad.any():
        row = fleet[bad].iloc[0]
        raise SchemaError(f"value must be >= 0, got {row.value_t}", source="fleet limits",
                          record=f"{row.region}/{row.limit}/{row.sector}/{row.year}")
    return fleet[fleet["limit"] == limit]


#: the fleet's limits on emitting sectors: table ``limit`` -> (constraint family, bound side)
FLEET_FAMILIES = {"committed": ("committed emissions", "lo"), "retirement": ("retirement rate", "lo"),
                  "build": ("build rate", "hi")}
#: the fleet's rate limits, which the power block replaces for the power sector when it joins
#: (its coal units retire on their own schedule, its capacity grows within its build rates)
RATE_LIMITS = ("retirement", "build")


def _fleet_bounds(fleet: pd.DataFrame | None, regions: list[str], years: list[int],
                  power: PowerSystem | None) -> list[Limit]:
    """The fleet's committed emissions, retirement and build rates as bounds on E (Mt); [] without
    a table. With a power system the power sector keeps only its committed emissions."""
    if fleet is None:
        return []
    found = []
    for limit, (family, side) in FLEET_FAMILIES.items():
        rows = _fleet_rows(fleet, limit)
        rows = rows[rows["year"].isin(years[1:])]
        if power is not None and limit in RATE_LIMITS:
            rows = rows[rows["sector"] != "power"]
        if rows.empty:
            continue
        r, s = _cells(rows, regions)
        t = np.searchsorted(years, rows["year"].to_numpy())
        shape = (len(regions), len(EMITTING), len(years))
        lo, hi = np.zeros(shape), np.full(shape, np.inf)
        (lo if side == "lo" else hi)[r, s, t] = rows["value_t"].to_numpy(float) / T_PER_MT
        found.append(Limit(family, "E", lo, hi))
    return found


def _cells(rows: pd.DataFrame, regions: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Region and emitting-sector indices of fleet-limit rows (unknown ones refused)."""
    for name, known in (("region", regions), ("sector", EMITTING)):
        unknown = sorted(set(rows[name]) - set(known))
        if unknown:
            raise InputError(f"unknown {name} {unknown[0]!r} (known: {', '.join(known)})", source="fleet limits")
    return (pd.Index(regions).get_indexer(rows["region"]), pd.Index(EMITTING).get_indexer(rows["sector"]))


def _capture(fleet: pd.DataFrame | None, regions: list[str], years: list[int]) -> np.ndarray | None:
    """Capture capacity per region and year (Mt/yr, inf where the table says nothing); None without a table."""
    rows = _fleet_rows(fleet, "capture")
    if rows is None:
        return None
    cap = np.full((len(regions), len(years)), np.inf)
    for row in rows[rows["year"].isin(years[1:])].itertuples(index=False):
        if row.region not in regions:
            raise InputError(f"unknown region {row.region!r} (baseline regions: {', '.join(regions)})",
                             source="fleet limits")
        cap[regions.index(row.region), years.index(row.year)] = row.value_t / T_PER_MT
    return cap


def _cell(sector: str, region: str, regions: list[str], *, source: str) -> tuple[str, int, int]:
    """(variable, region index, sector index) of a region x sector pair."""
    if region not in regions:
        raise InputError(f"unknown region {region!r} (baseline regions: {', '.join(regions)})", source=source)
    check_sector(sector, source=source)
    on, names = ("R", REMOVALS) if sector in REMOVALS else ("E", EMITTING)
    return on, regions.index(region), names.index(sector)


def _apply_capacity_table(caps: dict[str, np.ndarray], capacities: pd.DataFrame | None,
                          regions: list[str], years: list[int]) -> None:
    """Capacities from the ``capacities`` table (t CO2/yr magnitudes) for the years after the base year."""
    if capacities is None:
        return
    require_columns(capacities, ["region", "sector", "year", "capacity_t"], source="capacities")
    for row in capacities.itertuples(index=False):
        if row.year not in years[1:]:
            continue
        if not row.capacity_t >= 0:
            raise SchemaError(f"capacity must be >= 0, got {row.capacity_t}", source="capacities",
                              record=f"{row.region}/{row.sector}/{row.year}")
        on, r, s = _cell(row.sector, row.region, regions, source="capacities")
        caps[on][r, s, years.index(row.year)] = row.capacity_t / T_PER_MT


def _apply_capacity_overrides(cap_r: np.ndarray, scenario: Scenario, regions: list[str]) -> None:
    """Scenario ``removals.capacity`` replaces grid-derived capacities in every year."""
    for region, kinds in scenario.removals.capacity.items():
        for kind, value in kinds.items():
            _, r, k = _cell(kind, region, regions, source=scenario.source or "scenario")
            cap_r[r, k, 1:] = value * scenario.pathway.factor_t / T_PER_MT


def _apply_user_bounds(lo: dict[str, np.ndarray], hi: dict[str, np.ndarray], scenario: Scenario,
                       regions: list[str]) -> None:
    """User bounds on allocated values; removals are negative, so they flip for magnitudes."""
    unit = scenario.pathway.factor_t / T_PER_MT
    for b in scenario.allocation.bounds:
        on, r, s = _cell(b.sector, b.region, regions, source=scenario.source or "scenario")
        t0, t1 = max(b.years[0] - scenario.base_year, 1), b.years[1] - scenario.base_year + 1
        low, high = (b.min, b.max) if on == "E" else (_neg(b.max), _neg(b.min))
        if low is not None:
            lo[on][r, s, t0:t1] = np.maximum(lo[on][r, s, t0:t1], low * unit)
        if high is not None:
            hi[on][r, s, t0:t1] = np.minimum(hi[on][r, s, t0:t1], high * unit)


def _neg(value: float | None) -> float | None:
    return None if value is None else -value


def _trajectories(scenario: Scenario) -> dict[str, np.ndarray]:
    """Sector totals over all regions (Mt, magnitudes), linear between given years, NaN elsewhere."""
    years = np.array(scenario.all_years)
    found = {}
    for sector, values in scenario.pathway.sectors.items():
        given = sorted(values)
        inside = (years >= given[0]) & (years <= given[-1]) & (years > scenario.base_year)
        curve = np.interp(years, given, [abs(values[y]) * scenario.pathway.factor_t / T_PER_MT for y in given])
        found[sector] = np.where(inside, curve, np.nan)
    return found
