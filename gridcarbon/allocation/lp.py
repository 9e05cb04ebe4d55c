"""Top-down allocation: a linear program sharing the area pathway among regions and sectors.

Decisions (DESIGN section 4), each for region r and year t from the base year to the end year:

- ``E[r, s, t] >= 0`` emissions of emitting sector s (incl. ``indirect``), t CO2/yr;
- ``R[r, k, t] >= 0`` removal magnitudes of k in (forest_sink, beccs), t CO2/yr.

The base year is fixed to the baseline. Constraints: the yearly sums meet the gross and
removal pathways; ramp limits ``|E[t] - E[t-1]| <= ramp_s * max(E0, 1 % of the region's
base-year gross)`` (the second term lets zero sectors start); hard-to-abate floors
``E >= floor_s * E0``; capacities (removals, and emitting sectors when the table holds
them); optional sector trajectories and user bounds.

Objective (yuan, undiscounted: every year's cost counts the same):

- abatement ``E0 - E`` priced by convex piecewise-linear marginal abatement cost curves
  (``data/mac_curves.csv``, segment widths as fractions of E0; growth above E0 is free
  but ramp-limited);
- removals priced per tonne by kind;
- ``share_penalty`` per tonne of deviation of a region's gross from its target share of the
  gross pathway (see :func:`target_shares`);
- 1 yuan per tonne of deviation of a region's removals from its share of the base-year
  sink: a tie-breaker, so removals spread like today's sinks where costs and capacities
  leave the split open (without it the LP may put them all in one region).

Before solving, :func:`diagnose` checks the obvious conflicts and explains them in numbers;
if HiGHS still finds the LP infeasible, an elastic copy (slack per constraint family) names
the families that must give way. Either way :class:`InfeasibleAllocationError` is raised.

The LP is built and solved in Mt (values of order 1e3, for numerical range); results are
returned in t. Solver output is suppressed.
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import xarray as xr
from pyomo.common.gc_manager import PauseGC
from pyomo.contrib.appsi.base import TerminationCondition
from pyomo.contrib.appsi.solvers import Highs
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from gridcarbon.allocation.pathway import annual_pathway
from gridcarbon.config.scenario import Scenario, load_scenario
from gridcarbon.core.errors import (
    InfeasibleAllocationError,
    InputError,
    MassBalanceError,
    SchemaError,
)
from gridcarbon.core.sectors import EMITTING, REMOVALS, SECTORS, check_sector
from gridcarbon.inputs.data import DATA_DIR

MT = 1e6                # t per Mt: the LP's working unit
RAMP_MIN_FRAC = 0.01    # ramp base is at least 1 % of the region's base-year gross (t CO2/yr)
BALANCE_RTOL = 1e-6     # allowed relative residual of yearly sums against the pathway
FEAS_TOL = 1e-7         # Mt: tolerance of the pre-solve checks
SLACK_TOL = 1e-6        # Mt: elastic slack above this marks a family as conflicting
ZERO_TOL = 1e-9         # Mt: solver noise below this is rounded to zero
REMOVAL_SHARE_PENALTY = 1.0  # yuan per t off the base-year sink share: a tie-breaker for the removal split
SMOOTHING = 1.0         # yuan per t of year-on-year change: without it, costs linear in each year's level
                        # leave the split across years open and solutions zig-zag within the ramps
DRIVER_COLUMNS = ["region", "year", "population", "gdp_yuan"]


# -- result ---------------------------------------------------------------------------------------
@dataclass
class AllocationResult:
    """Allocated totals and how they were obtained.

    ``totals``: tidy table ``region, sector, year, allocated_t`` (t CO2/yr; removals
    negative; all sectors). ``pathway``: the annual pathway (:func:`annual_pathway`).
    ``objective``: yuan. ``timings``: seconds, ``build_s`` (pyomo model and its
    translation to HiGHS) and ``solve_s`` (HiGHS). ``target_shares``: per region and
    year, each principle's share, their blend and the phased-in target. ``provenance``:
    scenario name and hash, solver and version.
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
                "years": [int(self.totals["year"].min()), int(self.totals["year"].max())]}


# -- public entry points ------------------------------------------------------------------------------
def allocate_scenario(name_or_path: str | os.PathLike | Scenario, baseline: pd.DataFrame,
                      drivers: pd.DataFrame | None = None,
                      capacities: pd.DataFrame | None = None) -> AllocationResult:
    """Load a scenario (and its drivers file unless given) and :func:`allocate`."""
    scenario = name_or_path if isinstance(name_or_path, Scenario) else load_scenario(name_or_path)
    if drivers is None:
        drivers = read_drivers(drivers_path(scenario))
    return allocate(scenario, baseline, drivers, capacities)


def allocate(scenario: Scenario, baseline: pd.DataFrame, drivers: pd.DataFrame,
             capacities: pd.DataFrame | None = None, *,
             mac_curves: dict[str, list[tuple[float, float]]] | None = None,
             resolver: "Resolver | None" = None) -> AllocationResult:
    """Allocate the scenario's pathway to region x sector x year totals.

    ``baseline``: ``region, sector, value_t`` base-year t CO2/yr for every region (missing
    sectors count as 0; removal sectors <= 0). ``drivers``: ``region, year, population,
    gdp_yuan`` covering base..end. ``capacities``: optional ``region, sector, year,
    capacity_t`` upper limits (t CO2/yr, magnitudes for removals); scenario
    ``removals.capacity`` overrides it; with neither, removals are unbounded.
    Raises :class:`InfeasibleAllocationError` naming the conflicting constraints. A
    :class:`Resolver` carried across calls (the coupling loop) re-solves the previous LP
    with the new bounds when nothing else changed.
    """
    problem = _prepare(scenario, baseline, drivers, capacities, mac_curves or load_mac_curves())
    conflicts = diagnose(problem)
    if conflicts:
        raise InfeasibleAllocationError(conflicts, source=scenario.source)
    solved = _solve(problem, elastic=False, resolver=resolver)
    if solved.status != "optimal":
        raise InfeasibleAllocationError(_elastic_conflicts(problem), source=scenario.source)
    provenance = {"scenario": scenario.name, "scenario_hash": scenario.hash(), "solver": solved.solver}
    return _result(problem, solved, provenance=provenance)


def read_drivers(path: str | os.PathLike) -> pd.DataFrame:
    """Read ``region, year, population, gdp_yuan`` (persons, yuan at constant prices).

    Values are checked where they are used (:func:`target_shares`), for tables read here
    and tables passed in alike.
    """
    try:
        table = pd.read_csv(path)
    except (OSError, pd.errors.ParserError) as err:
        raise InputError(f"cannot read drivers: {err}", source=str(path)) from err
    _require_columns(table, DRIVER_COLUMNS, source=str(path))
    return table


def load_mac_curves(path: str | os.PathLike | None = None) -> dict[str, list[tuple[float, float]]]:
    """Marginal abatement cost curves: sector -> [(width as fraction of E0, yuan per t), ...].

    Emitting sectors need segments with nondecreasing cost (convex curve) whose widths
    sum to 1; removal sectors one segment (a cost per tonne removed). Costs are >= 0.
    """
    path = Path(path) if path else DATA_DIR / "mac_curves.csv"
    table = pd.read_csv(path)
    _require_columns(table, ["sector", "segment", "width_frac", "cost_yuan_per_t"], source=str(path))
    curves = {check_sector(sector, source=str(path)):
              list(zip(rows["width_frac"].astype(float), rows["cost_yuan_per_t"].astype(float)))
              for sector, rows in table.sort_values(["sector", "segment"]).groupby("sector")}
    for sector in SECTORS:
        _check_curve(sector, curves.get(sector), source=str(path))
    return curves


def _check_curve(sector: str, curve: list[tuple[float, float]] | None, *, source: str) -> None:
    if not curve:
        raise SchemaError(f"no cost curve for sector {sector!r}", source=source)
    widths, costs = np.array(curve).T
    if (costs < 0).any() or (np.diff(costs) < 0).any() or (widths <= 0).any():
        raise SchemaError(f"{sector}: costs must be >= 0 and nondecreasing, widths > 0", source=source)
    if sector in REMOVALS and len(curve) != 1:
        raise SchemaError(f"{sector}: removals take one cost segment", source=source)
    if sector in EMITTING and abs(widths.sum() - 1) > 1e-9:
        raise SchemaError(f"{sector}: segment widths sum to {widths.sum():.6g}, not 1", source=source)


def _require_columns(table: pd.DataFrame, columns: list[str], *, source: str | None) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise SchemaError(f"missing column(s) {', '.join(missing)}", source=source,
                          hint=f"expected {', '.join(columns)}")


def drivers_path(scenario: Scenario) -> str:
    if scenario.drivers:
        return scenario.drivers
    if scenario.region_set in ("yrd", "china"):
        return str(DATA_DIR / f"{scenario.region_set}_drivers.csv")
    raise InputError(f"no built-in drivers for region set {scenario.region_set!r}", source=scenario.source,
                     record="drivers", hint="set drivers: to a csv with region, year, population, gdp_yuan")


# -- target shares -------------------------------------------------------------------------------------
def grandfather_share(base_gross: np.ndarray, population: np.ndarray, gdp: np.ndarray) -> np.ndarray:
    """Base-year share of the area's gross emissions, held in every year."""
    share = base_gross / base_gross.sum()
    return np.repeat(share[:, None], population.shape[1], axis=1)


def per_capita_share(base_gross: np.ndarray, population: np.ndarray, gdp: np.ndarray) -> np.ndarray:
    """Population share: equal emissions per person, so high per-capita emitters cut more."""
    return population / population.sum(axis=0)


def ability_to_pay_share(base_gross: np.ndarray, population: np.ndarray, gdp: np.ndarray) -> np.ndarray:
    """Share proportional to population / (GDP per capita relative to the area's mean).

    Richer regions (higher GDP per capita) receive less per person, so they pay more.
    """
    relative_income = (gdp / population) / (gdp.sum(axis=0) / population.sum(axis=0))
    weight = population / relative_income
    return weight / weight.sum(axis=0)


def efficiency_share(base_gross: np.ndarray, population: np.ndarray, gdp: np.ndarray) -> np.ndarray:
    """GDP share: equal carbon intensity, so carbon-intensive regions cut more."""
    return gdp / gdp.sum(axis=0)


SHARE_RULES = {"grandfather": grandfather_share, "per_capita": per_capita_share,
               "ability_to_pay": ability_to_pay_share, "efficiency": efficiency_share}


def target_shares(base_gross: pd.Series, drivers: pd.DataFrame, weights: dict[str, float], *,
                  base_year: int, end_year: int) -> pd.DataFrame:
    """Target share of the gross pathway per region and year.

    ``base_gross``: base-year gross t CO2/yr by region (incl. indirect). Each principle gives
    shares summing to one per year; ``blend`` weights them; ``target`` phases in linearly
    from pure grandfathering at the base year to the blend at the end year.
    Columns: region, year, one per principle, blend, target.
    """
    regions, years = list(base_gross.index), list(range(base_year, end_year + 1))
    population, gdp = _driver_arrays(drivers, regions, years)
    shares = {name: rule(base_gross.to_numpy(float), population, gdp) for name, rule in SHARE_RULES.items()}
    blend = sum(weights.get(name, 0.0) * share for name, share in shares.items())
    phase = (np.array(years) - base_year) / (end_year - base_year)
    target = (1 - phase) * shares["grandfather"] + phase * blend
    columns = shares | {"blend": blend, "target": target}
    index = pd.MultiIndex.from_product([regions, years], names=["region", "year"])
    return pd.DataFrame({k: v.ravel() for k, v in columns.items()}, index=index).reset_index()


def _driver_arrays(drivers: pd.DataFrame, regions: list[str], years: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Population and GDP as (region, year) arrays; every pair must be present and positive."""
    _require_columns(drivers, DRIVER_COLUMNS, source="drivers")
    numeric = drivers[DRIVER_COLUMNS[1:]].apply(pd.to_numeric, errors="coerce")
    table = numeric.assign(region=drivers["region"]).dropna(subset=["year"]).astype({"year": int})
    table = table.set_index(["region", "year"])[["population", "gdp_yuan"]]
    if table.index.duplicated().any():
        raise SchemaError("duplicate region/year rows", source="drivers",
                          record=table.index[table.index.duplicated()][0])
    wanted = pd.MultiIndex.from_product([regions, years])
    missing = wanted.difference(table.index)
    if len(missing):
        raise InputError(f"drivers lack {len(missing)} region/year pair(s), first {missing[0]}", source="drivers",
                         hint=f"give population and gdp_yuan for every region, {years[0]}-{years[-1]}")
    table = table.loc[wanted]
    if not (table > 0).all().all():
        raise SchemaError("population and gdp_yuan must be positive numbers", source="drivers",
                          record=table.index[~(table > 0).all(axis=1)][0])
    shape = (len(regions), len(years))
    return table["population"].to_numpy().reshape(shape), table["gdp_yuan"].to_numpy().reshape(shape)


# -- the problem in numbers -----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Limit:
    """Bounds from one constraint family on E (emitting) or R (removals), Mt, shape (R, S|K, T)."""

    family: str
    on: str     # "E" or "R"
    lo: np.ndarray
    hi: np.ndarray


@dataclass(frozen=True)
class _Problem:
    """Everything the LP and the diagnosis need, in Mt. Year axis: base..end (index 0 = base)."""

    regions: list[str]
    years: list[int]
    e0: np.ndarray                 # (R, S) base-year emissions, S = EMITTING
    r0: np.ndarray                 # (R, K) base-year removal magnitudes, K = REMOVALS
    gross: np.ndarray              # (T,)
    removals: np.ndarray           # (T,)
    ramp: np.ndarray               # (R, S) max annual change
    limits: list[_Limit]
    trajectories: dict[str, np.ndarray]   # sector -> (T,) sum over regions (magnitude), NaN = free
    shares: np.ndarray             # (R, T) phased-in target shares
    mac: dict[str, list[tuple[float, float]]]
    share_penalty: float           # yuan per t
    net_zero_year: int | None
    pathway: pd.DataFrame          # t CO2/yr, for the result
    target_shares: pd.DataFrame

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


def _prepare(scenario: Scenario, baseline: pd.DataFrame, drivers: pd.DataFrame,
             capacities: pd.DataFrame | None, mac: dict[str, list[tuple[float, float]]]) -> _Problem:
    table = _baseline_table(baseline)
    regions = list(table.index)
    _check_regions(regions, scenario)
    e0, r0 = table[EMITTING].to_numpy(float) / MT, -table[REMOVALS].to_numpy(float) / MT
    pathway = annual_pathway(scenario.pathway, scenario.base_year, scenario.end_year, e0.sum() * MT,
                             base_removals_t=r0.sum() * MT, source=scenario.source)
    projection = pathway[pathway["kind"] == "projection"]
    shares = target_shares(table[EMITTING].sum(axis=1), drivers, scenario.principles.weights(),
                           base_year=scenario.base_year, end_year=scenario.end_year)
    # sectors absent in a region's base year stay absent (no ramp room); others may move at least
    # RAMP_MIN_FRAC of the region's gross a year
    ramp_base = np.where(e0 > 0, np.maximum(e0, RAMP_MIN_FRAC * e0.sum(axis=1, keepdims=True)), 0.0)
    ramp = np.array([scenario.allocation.ramp_for(s) for s in EMITTING])[None, :] * ramp_base
    return _Problem(
        regions=regions, years=scenario.all_years, e0=e0, r0=r0,
        gross=projection["gross_t"].to_numpy() / MT, removals=projection["removals_t"].to_numpy() / MT,
        ramp=ramp, limits=_limits(scenario, regions, e0, capacities), trajectories=_trajectories(scenario),
        shares=shares["target"].to_numpy().reshape(len(regions), -1), mac=mac,
        share_penalty=scenario.allocation.share_penalty,
        net_zero_year=scenario.pathway.net_zero.year if scenario.pathway.net_zero else None,
        pathway=pathway, target_shares=shares)


def _baseline_table(baseline: pd.DataFrame) -> pd.DataFrame:
    """Baseline as a region x sector table (t CO2/yr), regions in order of appearance."""
    _require_columns(baseline, ["region", "sector", "value_t"], source="baseline")
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


def _limits(scenario: Scenario, regions: list[str], e0: np.ndarray, capacities: pd.DataFrame | None) -> list[_Limit]:
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
    return [_Limit("floors", "E", floor_lo, np.full(shape_e, np.inf)),
            *(_Limit("capacities", on, np.zeros(caps[on].shape), caps[on]) for on in ("E", "R")),
            *(_Limit("user bounds", on, bound_lo[on], bound_hi[on]) for on in ("E", "R"))]


def _cell(sector: str, region: str, regions: list[str], *, source: str) -> tuple[str, int, int]:
    """(variable, region index, sector index) of a region x sector pair."""
    if region not in regions:
        raise InputError(f"unknown region {region!r} (baseline regions: {', '.join(regions)})", source=source)
    check_sector(sector, source=source)
    on, names = ("R", REMOVALS) if sector in REMOVALS else ("E", EMITTING)
    return on, regions.index(region), names.index(sector)


def _apply_capacity_table(caps: dict[str, np.ndarray], capacities: pd.DataFrame | None,
                          regions: list[str], years: list[int]) -> None:
    if capacities is None:
        return
    _require_columns(capacities, ["region", "sector", "year", "capacity_t"], source="capacities")
    for row in capacities.itertuples(index=False):
        if row.year not in years[1:]:
            continue
        if not row.capacity_t >= 0:
            raise SchemaError(f"capacity must be >= 0, got {row.capacity_t}", source="capacities",
                              record=f"{row.region}/{row.sector}/{row.year}")
        on, r, s = _cell(row.sector, row.region, regions, source="capacities")
        caps[on][r, s, years.index(row.year)] = row.capacity_t / MT


def _apply_capacity_overrides(cap_r: np.ndarray, scenario: Scenario, regions: list[str]) -> None:
    """Scenario ``removals.capacity`` replaces grid-derived capacities in every year."""
    for region, kinds in scenario.removals.capacity.items():
        for kind, value in kinds.items():
            _, r, k = _cell(kind, region, regions, source=scenario.source or "scenario")
            cap_r[r, k, 1:] = value * scenario.pathway.factor_t / MT


def _apply_user_bounds(lo: dict[str, np.ndarray], hi: dict[str, np.ndarray], scenario: Scenario,
                       regions: list[str]) -> None:
    """User bounds on allocated values; removals are negative, so they flip for magnitudes."""
    unit = scenario.pathway.factor_t / MT
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
        curve = np.interp(years, given, [abs(values[y]) * scenario.pathway.factor_t / MT for y in given])
        found[sector] = np.where(inside, curve, np.nan)
    return found


# -- diagnosis ----------------------------------------------------------------------------------------------
def diagnose(problem: _Problem) -> list[str]:
    """Sentences naming the conflicts visible without solving; [] when none is found."""
    checks = (_check_base_year, _check_cells, _check_removals, _check_floors, _check_ramp_steps,
              _check_reach, _check_trajectories)
    return [sentence for check in checks for sentence in check(problem)]


def _mt(value: float) -> str:
    """Mt as a short string."""
    if abs(value) >= 100:
        return f"{value:,.0f} Mt"
    return f"{value:.1f} Mt" if abs(value) >= 10 else f"{value:.3g} Mt"


def _worst(excess: np.ndarray, years: list[int]) -> tuple[int, str]:
    """Index of the largest positive excess (Mt) and a note on the other years that exceed."""
    bad = np.flatnonzero(excess > FEAS_TOL)
    worst = int(bad[np.argmax(excess[bad])])
    note = f" ({len(bad)} years affected, {years[bad[0]]}-{years[bad[-1]]})" if len(bad) > 1 else ""
    return worst, note


def _check_base_year(p: _Problem) -> list[str]:
    if abs(p.gross[0] - p.e0.sum()) <= BALANCE_RTOL * p.e0.sum():
        return []
    return [f"the pathway's {p.years[0]} gross total {_mt(p.gross[0])} differs from the baseline total "
            f"{_mt(p.e0.sum())} (set pathway.base_total to null or match the baseline)"]


def _check_cells(p: _Problem) -> list[str]:
    """Cells whose lower bound (floors, user minima) exceeds their upper bound (capacities, user maxima)."""
    found = []
    for on, names in (("E", EMITTING), ("R", REMOVALS)):
        lo, hi = p.bounds(on)
        bad = np.argwhere(lo > hi + FEAS_TOL)
        if len(bad):
            r, s, t = bad[0]
            found.append(f"{p.regions[r]} {names[s]} must be at least {_mt(lo[r, s, t])} in {p.years[t]} "
                         f"(floors and bounds) but at most {_mt(hi[r, s, t])} (capacities and bounds)"
                         + (f", and in {len(bad) - 1} other cases" if len(bad) > 1 else ""))
    return found


def _check_removals(p: _Problem) -> list[str]:
    lo, hi = p.bounds("R")
    capacity, minimum = hi.sum(axis=(0, 1)), lo.sum(axis=(0, 1))
    found = []
    if (p.removals[1:] > capacity[1:] + FEAS_TOL).any():
        t, note = _worst(np.r_[0, p.removals[1:] - capacity[1:]], p.years)
        what = "net-zero needs" if p.years[t] == p.net_zero_year else "pathway needs"
        found.append(f"{p.years[t]} {what} {_mt(p.removals[t])} of removals; regions can hold at most "
                     f"{_mt(capacity[t])}{note}")
    if (minimum[1:] > p.removals[1:] + FEAS_TOL).any():
        t, note = _worst(np.r_[0, minimum[1:] - p.removals[1:]], p.years)
        found.append(f"{p.years[t]} user bounds force at least {_mt(minimum[t])} of removals but the pathway "
                     f"has {_mt(p.removals[t])}{note}")
    return found


def _check_floors(p: _Problem) -> list[str]:
    floor_lo = next(lim for lim in p.limits if lim.family == "floors").lo
    floors = floor_lo.sum(axis=(0, 1))
    minimum = p.bounds("E")[0].sum(axis=(0, 1))
    if (floors > p.gross + FEAS_TOL).any():
        t, note = _worst(floors - p.gross, p.years)
        sectors = [s for s, v in zip(EMITTING, floor_lo[:, :, -1].sum(axis=0)) if v > 0]
        return [f"{p.years[t]} gross pathway {_mt(p.gross[t])} is below the hard-to-abate floors "
                f"{_mt(floors[t])} ({', '.join(sectors)}){note}"]
    if (minimum > p.gross + FEAS_TOL).any():
        t, note = _worst(minimum - p.gross, p.years)
        return [f"{p.years[t]} gross pathway {_mt(p.gross[t])} is below the {_mt(minimum[t])} that floors "
                f"and user minimum bounds require{note}"]
    return []


def _check_ramp_steps(p: _Problem) -> list[str]:
    step, limit = np.abs(np.diff(p.gross)), p.ramp.sum()
    if not (step > limit + FEAS_TOL).any():
        return []
    t = int(np.argmax(step))
    return [f"ramp limits let total emissions change by at most {_mt(limit)} a year but the pathway changes by "
            f"{_mt(step[t])} from {p.years[t]} to {p.years[t + 1]}"]


def _check_reach(p: _Problem) -> list[str]:
    """Years the pathway leaves the range the ramps (from the base year) and bounds can reach."""
    down, up = (a.sum(axis=(0, 1)) for a in p.ramp_reach())
    minimum, maximum = (a.sum(axis=(0, 1)) for a in p.bounds("E"))
    found = []
    too_low = (p.gross < down - FEAS_TOL) & (p.gross >= minimum - FEAS_TOL)
    if too_low.any():
        t = int(np.argmax(too_low))
        found.append(f"by {p.years[t]} ramp limits let gross emissions fall no lower than {_mt(down[t])} "
                     f"but the pathway asks for {_mt(p.gross[t])}")
    too_high = p.gross > up + FEAS_TOL
    if too_high.any():
        t = int(np.argmax(too_high))
        cause = "ramp limits" if p.gross[t] <= maximum[t] + FEAS_TOL else "capacities and user maximum bounds"
        found.append(f"by {p.years[t]} {cause} let gross emissions rise to at most {_mt(up[t])} "
                     f"but the pathway asks for {_mt(p.gross[t])}")
    return found


def _check_trajectories(p: _Problem) -> list[str]:
    down, up = p.ramp_reach()
    found = []
    for sector, values in p.trajectories.items():
        if sector in REMOVALS:
            k = REMOVALS.index(sector)
            low, high = (a[:, k, :].sum(axis=0) for a in p.bounds("R"))
        else:
            s = EMITTING.index(sector)
            low, high = down[:, s, :].sum(axis=0), up[:, s, :].sum(axis=0)
        outside = (values < low - FEAS_TOL) | (values > high + FEAS_TOL)
        if outside.any():
            t = int(np.argmax(outside))
            found.append(f"pathway.sectors.{sector} asks for {_mt(values[t])} in {p.years[t]} but floors, ramp "
                         f"limits, capacities and bounds allow {_mt(low[t])} to {_mt(high[t])}")
    return found + _check_trajectory_sums(p, down, up)


def _check_trajectory_sums(p: _Problem, down: np.ndarray, up: np.ndarray) -> list[str]:
    """Fixed sector totals against the pathway: what is left for the other sectors must fit."""
    found = []
    for names, total, low, high in (
            (EMITTING, p.gross, down.sum(axis=0), up.sum(axis=0)),
            (REMOVALS, p.removals, *(a.sum(axis=0) for a in p.bounds("R")))):
        fixed = [i for i, s in enumerate(names) if s in p.trajectories]
        if not fixed:
            continue
        given = np.nansum([p.trajectories[names[i]] for i in fixed], axis=0)
        active = ~np.all([np.isnan(p.trajectories[names[i]]) for i in fixed], axis=0)
        free = [i for i in range(len(names)) if i not in fixed]
        left_low, left_high = low[free].sum(axis=0), high[free].sum(axis=0)
        bad = active & ((total - given < left_low - FEAS_TOL) | (total - given > left_high + FEAS_TOL))
        if bad.any():
            t = int(np.argmax(bad))
            found.append(f"sector trajectories ({', '.join(names[i] for i in fixed)}) take {_mt(given[t])} of the "
                         f"{p.years[t]} total {_mt(total[t])}, leaving {_mt(total[t] - given[t])} for the other "
                         f"sectors, which can take {_mt(left_low[t])} to {_mt(left_high[t])}")
    return found


# -- the LP --------------------------------------------------------------------------------------------------
@dataclass
class _Solved:
    """What one solve returned: status, objective (yuan), E and R (Mt) and elastic slack by family/year."""

    status: str
    objective: float = float("nan")
    E: np.ndarray | None = None
    R: np.ndarray | None = None
    slack: dict[str, dict[int, float]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    size: dict[str, int] = field(default_factory=dict)
    solver: str = ""


class _LP:
    """The pyomo model of a problem, its variables kept as (r, i, t) object arrays for fast lookup.

    Variables exist for the years after the base year (slot 0 holds None). Rows are added
    as ``lo <= expr <= hi``; in the elastic copy every row of a family gets two slack
    variables, and the objective becomes their sum (Mt).
    """

    def __init__(self, p: _Problem, *, elastic: bool):
        self.p, self.elastic = p, elastic
        self.model = pyo.ConcreteModel()
        self.model.rows = pyo.ConstraintList()
        self.model.slack = pyo.VarList(domain=pyo.NonNegativeReals)
        self.slacks: list[tuple[str, int, object]] = []
        self.E = self.variables("E", *((None, None) if elastic else p.bounds("E")), shape=p.e0.shape)
        self.R = self.variables("R", *((None, None) if elastic else p.bounds("R")), shape=p.r0.shape)

    def variables(self, name: str, lo: np.ndarray | None, hi: np.ndarray | None, *,
                  shape: tuple[int, int]) -> np.ndarray:
        """Non-negative variables for every (r, i, t > 0), bounded by ``lo``/``hi`` (Mt) when given."""
        cells = [(r, i, t) for r in range(shape[0]) for i in range(shape[1]) for t in range(1, len(self.p.years))]
        bounds = [(0.0, None) if lo is None else (float(lo[c]), None if np.isinf(hi[c]) else float(hi[c]))
                  for c in cells]
        var = pyo.Var(range(len(cells)), domain=pyo.NonNegativeReals, bounds=lambda _m, n: bounds[n])
        self.model.add_component(name, var)
        out = np.full((*shape, len(self.p.years)), None, dtype=object)
        for cell, data in zip(cells, var.values()):
            out[cell] = data
        return out

    def add(self, expr, lo: float | None, hi: float | None, *, family: str | None = None, year: int = 0) -> None:
        """Add a row; ``family`` None marks a row that always holds (never relaxed)."""
        if self.elastic and family is not None:
            up, down = self.model.slack.add(), self.model.slack.add()
            expr = expr + up - down
            self.slacks += [(family, year, up), (family, year, down)]
        self.model.rows.add((_float(lo), expr, _float(hi)))

    def values(self, var: np.ndarray, base: np.ndarray) -> np.ndarray:
        """Solution values (Mt) of ``self.E`` or ``self.R``, the base year filled from ``base``."""
        out = np.zeros(var.shape)
        out[:, :, 0] = base
        out[:, :, 1:] = np.array([v.value for v in var[:, :, 1:].ravel()]).reshape(out[:, :, 1:].shape)
        out[np.abs(out) < ZERO_TOL] = 0.0
        return out


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)


def _linear(terms) -> LinearExpression:
    """A linear expression from (coefficient, variable) pairs."""
    return LinearExpression([MonomialTermExpression(term) for term in terms])


def _with_minus(plus: list, minus: list) -> LinearExpression:
    """Sum of the ``plus`` variables minus the ``minus`` variables."""
    return LinearExpression([*plus, *(MonomialTermExpression((-1.0, v)) for v in minus)])


def _total(variables) -> LinearExpression:
    """Sum of variables."""
    return LinearExpression(list(variables))


class Resolver:
    """The last LP of a sequence of allocations, re-solved warm when only bounds change.

    Structure (pathway, shares, ramps, costs) is keyed by a hash; floors, capacities and
    user bounds become new variable bounds of the kept model. One per coupling loop, so a
    run's sequence of solves (and its result) does not depend on earlier runs.
    """

    def __init__(self):
        self.key, self.lp, self.solver, self.bounds = None, None, None, {}

    def model(self, p: _Problem) -> tuple["_LP", Highs]:
        key = _structure_key(p)
        if key != self.key:
            self.lp, self.solver = _instance(p, elastic=False)
            self.key, self.bounds = key, {on: p.bounds(on) for on in ("E", "R")}
            return self.lp, self.solver
        changed = []
        for on, var in (("E", self.lp.E), ("R", self.lp.R)):
            lo, hi = p.bounds(on)
            old_lo, old_hi = self.bounds[on]
            for cell in zip(*np.nonzero((lo != old_lo) | (hi != old_hi))):
                if cell[2] > 0:
                    var[cell].setlb(float(lo[cell]))
                    var[cell].setub(None if np.isinf(hi[cell]) else float(hi[cell]))
                    changed.append(var[cell])
            self.bounds[on] = (lo, hi)
        self.lp.p = p
        self.solver.update_variables(changed)
        return self.lp, self.solver


def _structure_key(p: _Problem) -> str:
    """Hash of everything in a problem except its bounds."""
    h = hashlib.sha256(repr((p.regions, p.years, p.mac, p.share_penalty, sorted(p.trajectories))).encode())
    for array in (p.e0, p.r0, p.gross, p.removals, p.ramp, p.shares, *p.trajectories.values()):
        h.update(np.ascontiguousarray(array, dtype=float).tobytes())
    return h.hexdigest()


def _instance(p: _Problem, *, elastic: bool) -> tuple["_LP", Highs]:
    with PauseGC():  # the model is one large acyclic burst of objects: cyclic GC passes only cost time
        lp = _build(p, elastic=elastic)
        solver = _solver()
        solver.set_instance(lp.model)
    return lp, solver


def _solve(p: _Problem, *, elastic: bool, resolver: Resolver | None = None) -> _Solved:
    """Build the LP (or its elastic copy, or re-bound the resolver's), solve it with HiGHS and read the solution."""
    start = time.perf_counter()
    lp, solver = resolver.model(p) if resolver is not None and not elastic else _instance(p, elastic=elastic)
    built = time.perf_counter()
    result = solver.solve(lp.model)
    timings = {"build_s": built - start, "solve_s": time.perf_counter() - built}
    size = {"variables": lp.model.nvariables(), "constraints": lp.model.nconstraints()}
    if result.termination_condition != TerminationCondition.optimal:
        return _Solved(status=result.termination_condition.name, timings=timings, size=size)
    solver.load_vars()
    name = "HiGHS " + ".".join(map(str, solver.version()))
    slack: dict[str, dict[int, float]] = {}
    for family, year, var in lp.slacks:
        per_year = slack.setdefault(family, {})
        per_year[year] = per_year.get(year, 0.0) + var.value
    return _Solved(status="optimal", objective=result.best_feasible_objective * MT,
                   E=lp.values(lp.E, p.e0), R=lp.values(lp.R, p.r0), slack=slack, timings=timings, size=size,
                   solver=name)


def _solver() -> Highs:
    """HiGHS through pyomo's persistent interface, silent, no automatic change tracking.

    Changes reach the solver only when pushed explicitly (:class:`Resolver`).
    """
    solver = Highs(only_child_vars=True)
    solver.config.load_solution = False
    solver.config.stream_solver = False
    solver.highs_options = {"output_flag": False}
    for check in ("check_for_new_or_removed_constraints", "check_for_new_or_removed_vars",
                  "check_for_new_or_removed_params", "check_for_new_objective", "update_constraints",
                  "update_vars", "update_params", "update_named_expressions", "update_objective"):
        setattr(solver.update_config, check, False)
    return solver


def _build(p: _Problem, *, elastic: bool) -> _LP:
    """The LP: abatement segments, pathway, ramp and trajectory rows, and the objective.

    In the elastic copy, bounds from floors, capacities and user bounds become rows and the
    objective is the total slack; otherwise the objective is the cost in million yuan.
    """
    lp = _LP(p, elastic=elastic)
    cost = _abatement(lp)
    _pathway_rows(lp)
    smoothing = _ramp_rows(lp)
    _trajectory_rows(lp)
    if elastic:
        _limit_rows(lp)
        lp.model.objective = pyo.Objective(expr=_total(var for _, _, var in lp.slacks))
    else:
        lp.model.objective = pyo.Objective(expr=cost + _removal_cost(lp) + _share_cost(lp) + smoothing)
    return lp


def _cells(array: np.ndarray) -> list[tuple[int, int, int]]:
    """(r, i, t) of every variable cell (years after the base year)."""
    return [(r, i, t) for r in range(array.shape[0]) for i in range(array.shape[1]) for t in range(1, array.shape[2])]


def _abatement(lp: _LP) -> LinearExpression:
    """Segment variables A (Mt) with E + sum(A) >= E0, and their cost (million yuan)."""
    p = lp.p
    curves = [p.mac[s] for s in EMITTING]
    cells = [c for c in _cells(lp.E) if p.e0[c[:2]] > 0]
    segments = [(c, j) for c in cells for j in range(len(curves[c[1]]))]
    widths = [(0.0, float(curves[c[1]][j][0] * p.e0[c[:2]])) for c, j in segments]
    lp.model.A = pyo.Var(range(len(segments)), domain=pyo.NonNegativeReals, bounds=lambda _m, n: widths[n])
    by_cell: dict[tuple, list] = {}
    for (cell, _), var in zip(segments, lp.model.A.values()):
        by_cell.setdefault(cell, []).append(var)
    for cell in cells:
        lp.add(LinearExpression([lp.E[cell], *by_cell[cell]]), p.e0[cell[:2]], None)
    return _linear((curves[c[1]][j][1], var) for (c, j), var in zip(segments, lp.model.A.values()))


def _removal_cost(lp: _LP) -> LinearExpression:
    return _linear((lp.p.mac[REMOVALS[k]][0][1], lp.R[r, k, t]) for r, k, t in _cells(lp.R))


def _share_cost(lp: _LP) -> LinearExpression | float:
    """Priced deviations from the target shares: of the gross pathway, and of the removals.

    Removals follow each region's share of the base-year sink (equal shares without one)
    wherever costs and capacities leave their split open; the small
    ``REMOVAL_SHARE_PENALTY`` only breaks ties.
    """
    p = lp.p
    sink = p.r0.sum(axis=1)
    sink_share = sink / sink.sum() if sink.sum() > 0 else np.full(len(sink), 1 / len(sink))
    return (_deviation_cost(lp, "gross", lp.E, p.shares * p.gross[None, :], penalty=p.share_penalty)
            + _deviation_cost(lp, "removals", lp.R, sink_share[:, None] * p.removals[None, :],
                              penalty=REMOVAL_SHARE_PENALTY))


def _deviation_cost(lp: _LP, name: str, var: np.ndarray, target: np.ndarray, *,
                    penalty: float) -> LinearExpression | float:
    """``penalty`` (yuan/t) x |sum over sectors of ``var`` - ``target``| per region and year (Mt)."""
    if penalty == 0:
        return 0.0
    cells = [(r, t) for r in range(var.shape[0]) for t in range(1, var.shape[2])]
    over = pyo.Var(range(len(cells)), domain=pyo.NonNegativeReals)
    under = pyo.Var(range(len(cells)), domain=pyo.NonNegativeReals)
    lp.model.add_component(f"{name}_over", over)
    lp.model.add_component(f"{name}_under", under)
    for (r, t), up, down in zip(cells, over.values(), under.values()):
        row = _with_minus([*var[r, :, t], down], [up])
        lp.add(row, target[r, t], target[r, t])
    return _linear((penalty, v) for v in [*over.values(), *under.values()])


def _pathway_rows(lp: _LP) -> None:
    p = lp.p
    for t in range(1, len(p.years)):
        lp.add(_total(lp.E[:, :, t].ravel()), p.gross[t], p.gross[t], family="gross pathway", year=t)
        lp.add(_total(lp.R[:, :, t].ravel()), p.removals[t], p.removals[t], family="removal pathway", year=t)


def _ramp_rows(lp: _LP) -> LinearExpression | float:
    """|E[t] - E[t-1]| <= ramp per cell; returns the smoothing cost of the changes.

    The change is split into ``rise - fall`` with both bounded by the ramp, so the ramp is a
    pair of variable bounds and the change can be priced (SMOOTHING). The elastic copy keeps
    the ramps as relaxable rows instead.
    """
    p = lp.p
    cells = _cells(lp.E)
    if lp.elastic:
        for r, s, t in cells:
            change = _with_minus([lp.E[r, s, t]], [lp.E[r, s, t - 1]]) if t > 1 else lp.E[r, s, t]
            start = 0.0 if t > 1 else p.e0[r, s]
            lp.add(change, start - p.ramp[r, s], start + p.ramp[r, s], family="ramp limits", year=t)
        return 0.0
    limit = [(0.0, float(p.ramp[r, s])) for r, s, _ in cells]
    lp.model.rise = pyo.Var(range(len(cells)), domain=pyo.NonNegativeReals, bounds=lambda _m, n: limit[n])
    lp.model.fall = pyo.Var(range(len(cells)), domain=pyo.NonNegativeReals, bounds=lambda _m, n: limit[n])
    for (r, s, t), rise, fall in zip(cells, lp.model.rise.values(), lp.model.fall.values()):
        before = [lp.E[r, s, t - 1]] if t > 1 else []
        start = 0.0 if t > 1 else p.e0[r, s]
        lp.add(_with_minus([lp.E[r, s, t], fall], [*before, rise]), start, start, family="ramp limits", year=t)
    return _linear((SMOOTHING, v) for v in [*lp.model.rise.values(), *lp.model.fall.values()])


def _trajectory_rows(lp: _LP) -> None:
    for sector, values in lp.p.trajectories.items():
        var, i = (lp.R, REMOVALS.index(sector)) if sector in REMOVALS else (lp.E, EMITTING.index(sector))
        for t in np.flatnonzero(~np.isnan(values)):
            lp.add(_total(var[:, i, t]), values[t], values[t], family="sector trajectories", year=int(t))


def _limit_rows(lp: _LP) -> None:
    """Elastic copy only: each family's bounds as rows (so they can be relaxed)."""
    for limit in lp.p.limits:
        var = lp.E if limit.on == "E" else lp.R
        for cell in zip(*np.nonzero((limit.lo > 0) | np.isfinite(limit.hi))):
            if cell[2] > 0:
                hi = None if np.isinf(limit.hi[cell]) else limit.hi[cell]
                lp.add(var[cell], limit.lo[cell], hi, family=limit.family, year=int(cell[2]))


def _elastic_conflicts(p: _Problem) -> list[str]:
    """Families the elastic copy had to relax, each as a sentence with the amount and years."""
    solved = _solve(p, elastic=True)
    if solved.status != "optimal":
        return [f"the solver reports the allocation as {solved.status} and its elastic copy as well"]
    found = []
    for family, per_year in solved.slack.items():
        years = [p.years[t] for t, v in sorted(per_year.items()) if v > SLACK_TOL]
        if years:
            total = sum(per_year.values())
            found.append(f"{family} must give way by {_mt(total)} in total over {years[0]}-{years[-1]}")
    return found or ["the solver reports the allocation as infeasible but no constraint family needs relaxing"]


# -- result ---------------------------------------------------------------------------------------------------
def _result(p: _Problem, solved: _Solved, *, provenance: dict[str, str]) -> AllocationResult:
    residual = _mass_balance(p, solved)
    values = np.concatenate([solved.E, -solved.R], axis=1) * MT
    names = EMITTING + REMOVALS
    array = xr.DataArray(values, dims=("region", "sector", "year"),
                         coords={"region": p.regions, "sector": names, "year": p.years})
    totals = (array.sel(sector=list(SECTORS)).to_dataframe(name="allocated_t").reset_index()
              [["region", "sector", "year", "allocated_t"]])
    return AllocationResult(totals=totals, pathway=p.pathway, status=solved.status, objective=solved.objective,
                            timings=solved.timings, target_shares=p.target_shares, residual_rel=residual,
                            size=solved.size, provenance=provenance)


def _mass_balance(p: _Problem, solved: _Solved) -> float:
    """Largest relative residual of the yearly sums; raise :class:`MassBalanceError` above the tolerance."""
    worst = 0.0
    for what, got, want in (("gross", solved.E.sum(axis=(0, 1)), p.gross),
                            ("removals", solved.R.sum(axis=(0, 1)), p.removals)):
        residual = np.abs(got - want) / np.maximum(np.abs(want), 1.0 / MT)
        t = int(np.argmax(residual))
        if residual[t] > BALANCE_RTOL:
            raise MassBalanceError(f"allocated {what} {got[t] * MT:.6g} t in {p.years[t]} differ from the "
                                   f"pathway {want[t] * MT:.6g} t (relative residual {residual[t]:.2g})")
        worst = max(worst, float(residual[t]))
    return worst
