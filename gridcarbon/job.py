"""The main job: inventory -> suitability -> coupled allocation and evolution -> exports.

:func:`run` is the Python API that ``gridcarbon run`` mirrors (docs/architecture.md, "Data
flow"). Everything is built once and passed once: one :class:`~gridcarbon.core.grid.Grid`,
one inventory and landscape, one suitability fit, one
:class:`~gridcarbon.evolution.EvolutionContext` shared by the coupling loop and the
evolution. Stages report through the ``gridcarbon`` logger (the CLI shows them on stderr).
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, replace
from importlib.metadata import version
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rioxarray  # noqa: F401 - registers the Dataset.rio accessor used below
import shapely
import xarray as xr

from gridcarbon.allocation import AllocationResult, allocate
from gridcarbon.allocation.quotas import quota_tables
from gridcarbon.config import Scenario, load_scenario, validate_scenario
from gridcarbon.core import jitahead, memory
from gridcarbon.core.cache import cached_pickle, code_fingerprint, digest
from gridcarbon.core.errors import InputError, MassBalanceError
from gridcarbon.core.grid import Grid, crs_lookup
from gridcarbon.core.options import OPTIONS, get_option
from gridcarbon.core.progress import stage_extra, year_extra
from gridcarbon.core.sectors import GRIDDED, SECTORS
from gridcarbon.core.units import UNITS
from gridcarbon.coupling import Agreement, agree
from gridcarbon.evolution import (
    EvolutionContext,
    EvolutionResult,
    evolve,
    initial_capacities,
)
from gridcarbon.evolution.transfer import transfer_manifest, transfer_table
from gridcarbon.inputs.area_drivers import scenario_drivers
from gridcarbon.inputs.data import read_table
from gridcarbon.inputs.regions import load_regions
from gridcarbon.inputs.study_area import scenario_outlines, scenario_regions
from gridcarbon.inventory.base import Inventory
from gridcarbon.inventory.builtin import build_baseline, builtin_landscape
from gridcarbon.inventory.study import clipped_baseline, clipped_landscape
from gridcarbon.inventory.user import input_problems, user_inventory
from gridcarbon.output.atomic import atomic_dir, check_unlocked
from gridcarbon.output.energy import energy_manifest, energy_tables
from gridcarbon.output.map_process import MapProcess
from gridcarbon.output.market import market_tables
from gridcarbon.output.metadata import library_versions
from gridcarbon.output.run_folder import RunWriter, final_dir
from gridcarbon.output.targets import check_targets, log_targets
from gridcarbon.result import RunResult, open_cube
from gridcarbon.suitability.fitting import Suitability, fit_suitability_surfaces

log = logging.getLogger(__name__)
#: largest relative residual of any region x sector x year tolerated in a result
RESIDUAL_RTOL = 1e-6
#: landscape layers a run reads (covariates, land steps, patterns, capacities; grassland,
#: shrub, precipitation and the arid share for the afforestation room of
#: :mod:`gridcarbon.evolution.forest`): all of a built-in landscape's
RUN_LANDSCAPE = ("elevation_m", "water", "forest", "eco_reserve", "storage_mt", "built_up", "population",
                 "gdp", "cropland", "grassland", "shrub", "precipitation_mm", "arid_share")


@dataclass(frozen=True)
class StudyArea:
    """Everything the model needs about the study area, built once per run."""

    grid: Grid
    inventory: Inventory
    landscape: xr.Dataset
    boundaries: gpd.GeoDataFrame  # drawn on maps (prefecture cities when known, else regions)
    city_points: gpd.GeoSeries
    coast: gpd.GeoSeries


def resolve(scenario: str | Path | Scenario, *, years=None, resolution=None, seed=None) -> Scenario:
    """Load a scenario and apply command-line overrides (validated like the file itself)."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    return sc.with_overrides(years=years, resolution=resolution, seed=seed)


def study_area(sc: Scenario, grid: Grid, regions: gpd.GeoDataFrame) -> StudyArea:
    """Inventory (built-in, clipped from the national one, or the user's), landscape and map
    layers of a scenario on ``grid``.

    A built-in region set's study area on a grid that is not large is a function of the
    package and the grid alone: it is read from the on-disk cache (:mod:`gridcarbon.core.cache`)
    when an earlier run built it, keyed by the region set, the grid, the engine options and
    :func:`~gridcarbon.core.cache.code_fingerprint` (1.2 s of CPU for the Yangtze River Delta at
    10 km, 3.9 s for China; a 1 km grid's would be gigabytes, so those are always built).
    """
    if sc.boundaries is not None or sc.inventory is not None or grid.large:
        return _build_study_area(sc, grid, regions)
    key = digest(sc.region_set, grid.crs.to_wkt(), tuple(grid.transform), grid.shape,
                 grid.regions, sorted(OPTIONS.items()), code_fingerprint())
    return cached_pickle("study_area", key, lambda: _build_study_area(sc, grid, regions))


def _build_study_area(sc: Scenario, grid: Grid, regions: gpd.GeoDataFrame) -> StudyArea:
    """:func:`study_area`, built."""
    custom = sc.boundaries is not None
    source = Path(sc.boundaries).name if custom else None
    if sc.inventory is not None:
        landscape = (clipped_landscape(regions, grid) if custom
                     else builtin_landscape(sc.region_set, grid).astype(grid.storage_dtype, copy=False))
        inv = user_inventory(sc, grid, regions)
    elif custom:
        inv, landscape = clipped_baseline(regions, grid, source=source)
    else:
        inv, landscape = build_baseline(sc.region_set, grid=grid, compact=grid.large)
    if grid.large:  # held compact from here on: the fit expands the layers it reads one at a time
        # (China at 1 km: 0.42 GB held instead of 1.18, and no full stack made by a built-in one)
        inv = inv.compacted()
    cities = read_table(f"{sc.region_set}_cities.csv")
    cities = cities[cities.level == "prefecture"]
    city_points = gpd.GeoSeries(gpd.points_from_xy(cities.lon, cities.lat), crs="EPSG:4326").to_crs(grid.crs)
    if custom:  # the prefecture seats inside the study area
        city_points = city_points[city_points.within(shapely.union_all(regions.to_crs(grid.crs).geometry.values))]
    coast = load_regions(sc.region_set, "coast").to_crs(grid.crs).geometry
    return StudyArea(grid, inv, landscape[list(RUN_LANDSCAPE)], scenario_outlines(sc), city_points, coast)


@dataclass(frozen=True)
class Prepared:
    """What a run builds before the coupling loop: the study area, drivers, suitability and
    the evolution context (with the seconds each took, in ``timings``)."""

    area: StudyArea
    drivers: pd.DataFrame
    suitability: Suitability
    context: EvolutionContext
    timings: dict[str, float]


def prepare(sc: Scenario, grid: Grid | None = None, regions: gpd.GeoDataFrame | None = None) -> Prepared:
    """Study area, drivers, fitted suitability and evolution context of a resolved scenario,
    on ``grid`` (default: the scenario's regions at its resolution)."""
    t0 = time.perf_counter()
    regions = scenario_regions(sc) if regions is None else regions
    grid = Grid.from_regions(regions, res=sc.resolution) if grid is None else grid
    if grid.large:  # layers of 0.1-0.2 GB made and freed by the thousand: reuse their pages
        memory.reuse_freed_blocks()
    log.info("inventory", extra=stage_extra(sc.name))
    area = study_area(sc, grid, regions)
    drivers = scenario_drivers(sc, regions)
    _between_stages(grid)
    t1 = time.perf_counter()
    log.info("suitability models", extra=stage_extra(sc.name))
    suitability = fit_suitability_surfaces(area.inventory, area.landscape, seed=sc.seed,
                                           city_points=area.city_points, coast=area.coast)
    _between_stages(grid)
    ctx = EvolutionContext.build(area.inventory, area.landscape, drivers, suitability, spec=sc.evolution,
                                 seed=sc.seed, end_year=sc.end_year, assumptions=sc.assumptions)
    timings = {"inventory_s": t1 - t0, "suitability_s": time.perf_counter() - t1}
    return Prepared(area, drivers, suitability, ctx, timings)


def validate(scenario: str | Path) -> list[str]:
    """Every problem of a scenario and of the input files it names, one line each ([] if fine)."""
    problems = validate_scenario(scenario)
    if problems:
        return problems
    sc = resolve(scenario)
    if sc.inventory is None:
        return []
    regions = scenario_regions(sc)
    grid = Grid.from_regions(regions, res=sc.resolution) if sc.inventory.raster else None
    return input_problems(sc, regions, grid)


@memory.without_huge_page_advice()
def run(scenario: str | Path | Scenario = "yrd-enhanced", *, out: str | Path | None = None,
        years: list[int] | None = None, resolution: float | None = None, seed: int | None = None) -> RunResult:
    """Run a scenario end to end; with ``out`` write ``<out>/<scenario>/`` atomically.

    Each year is written as soon as it is evolved (in a writer thread overlapping the next
    year's evolution). A cube larger than the ``in_memory_bytes`` option
    (:func:`gridcarbon.set_options`) is not kept in memory: such runs need ``out``, evolve
    in float32 (what the files hold) and their ``emissions`` are read lazily from ``cube.nc``.
    """
    jitahead.start()  # no-op when the kernels are cached or the CLI started it
    t0 = time.perf_counter()
    sc = resolve(scenario, years=years, resolution=resolution, seed=seed)
    final = final_dir(Path(out), sc.name) if out is not None else None
    if final is not None:
        check_unlocked(final)
    regions = scenario_regions(sc)
    grid = Grid.from_regions(regions, res=sc.resolution)
    in_memory = _in_memory(sc, grid, streamed=final is not None)
    # a run folder's map workers are forked here, before the run's data exist, and warm up beside
    # its preparation (output.map_process); on a large grid and without a folder there are none
    with MapProcess(inline=final is None or grid.large) as drawing:
        return _run(sc, grid, regions, final, drawing, in_memory=in_memory, started=t0)


def _run(sc: Scenario, grid: Grid, regions: gpd.GeoDataFrame, final: Path | None, drawing: MapProcess, *,
         in_memory: bool, started: float) -> RunResult:
    """:func:`run` from the study area on (one frame: the stages' large objects are let go as
    soon as the next stage no longer needs them)."""
    prep = prepare(sc, grid, regions)
    timings = dict(prep.timings)
    (ctx, area), drivers, suitability = _kept(prep), prep.drivers, prep.suitability
    del prep
    t2 = time.perf_counter()
    agreed = agree(sc, ctx, drivers, parent=parent_totals(sc))
    _between_stages(grid)
    timings["coupling_s"] = time.perf_counter() - t2  # the allocate / land loop
    evolve_args = _evolve_args(sc, agreed, in_memory=in_memory)
    t3 = time.perf_counter()
    if final is None:
        log.info("evolution", extra=stage_extra(sc.name))
        evo = evolve(ctx, agreed.allocation.totals, on_year=_reporting(sc), **evolve_args)
        timings["evolution_s"] = time.perf_counter() - t3
        del ctx
        area, suitability = _without_layers(area, suitability)
        result = _result(sc, area, agreed, suitability, evo, timings)
        timings["total_s"] = time.perf_counter() - started
        result.manifest["timings_s"] = {k: round(v, 3) for k, v in timings.items()}
        return result
    with atomic_dir(final) as tmp:
        log.info("evolution and export", extra=stage_extra(sc.name))
        with RunWriter(tmp, sc, grid, area.boundaries, status=agreed.allocation.status,
                       history=area.inventory.history, drawing=drawing) as writer:
            evo = evolve(ctx, agreed.allocation.totals, on_year=_reporting(sc, writer.add), **evolve_args)
            timings["evolution_s"] = time.perf_counter() - t3
            # the context's layers go while the writer exports the last year (China at 1 km: that
            # export and the result's assembly were the run's peak): the result reads none of them
            del ctx
            area, suitability = _without_layers(area, suitability)
            _between_stages(grid, mapped=True)
            result = _result(sc, area, agreed, suitability, evo, timings)
            # the result holds all the writer reads: the static layers, the context and the
            # evolution's state go before the run folder is finished (China at 1 km: GiBs)
            del drivers, suitability, area, agreed, evo
            log.info("writing", extra=stage_extra(sc.name))
            writer.finish(result, started=started)
    result.out_dir = final
    if not in_memory:
        result.emissions = open_cube(final / "cube.nc", grid)
    return result


def _evolve_args(sc: Scenario, agreed: Agreement, *, in_memory: bool) -> dict:
    """:func:`~gridcarbon.evolution.evolve`'s keywords for ``sc`` under the ``agreed`` allocation: every
    year kept in float64 when the cube fits in memory, else none (streamed, float32)."""
    return dict(snapshot_years=[sc.base_year, *sc.years], keep_years=None if in_memory else (),
                dtype=np.float64 if in_memory else np.float32,
                transfers=agreed.transfers if sc.evolution.transfer else None, power=agreed.allocation.power)


def _in_memory(sc: Scenario, grid: Grid, *, streamed: bool) -> bool:
    """Whether the run's float64 cube fits the ``in_memory_bytes`` option; a run whose cube does
    not needs an output folder to stream it to (``streamed``), else an :class:`InputError`."""
    cube_bytes = len(GRIDDED) * (sc.end_year - sc.base_year + 1) * grid.shape[0] * grid.shape[1] * 8
    in_memory = cube_bytes <= get_option("in_memory_bytes")
    if not (streamed or in_memory):
        raise InputError(f"a {cube_bytes / 2**30:.0f} GiB emission cube does not fit in memory: "
                         "give an output folder (out=, --out) to stream it to disk", record="resolution")
    return in_memory


def _without_layers(area: StudyArea, suitability: Suitability) -> tuple[StudyArea, Suitability]:
    """The study area and suitability a finished evolution leaves for the result: no landscape
    layers, no surfaces (the models and their summary stay; China at 1 km: 1.1 GB of full
    float32 layers the result does not read)."""
    return replace(area, landscape=area.landscape[[]]), Suitability(suitability.models, {})


def _between_stages(grid: Grid, *, mapped: bool = False) -> None:
    """On a large grid, hand the heap's free pages back (the next stage starts from what is
    live); with ``mapped``, map its large blocks afresh from now on (the run's end: few blocks,
    of many sizes, whose holes stayed resident; :func:`~gridcarbon.core.memory.map_large_blocks`)."""
    if grid.large:
        memory.release()
        if mapped:
            memory.map_large_blocks()


def _kept(prep: Prepared) -> tuple[EvolutionContext, StudyArea]:
    """The context and study area a run keeps once prepared: the study area keeps the context's
    landscape layers only (the others served the fit)."""
    return prep.context, replace(prep.area, landscape=prep.context.landscape)


def _reporting(sc: Scenario, on_year=None):
    """A year callback for :func:`~gridcarbon.evolution.evolve` that logs each simulated year
    (:mod:`gridcarbon.core.progress`) and then hands the year's layers to ``on_year``."""
    steps = sc.end_year - sc.base_year + 1

    def report(year: int, layers: np.ndarray) -> None:
        log.info("year %d", year, extra=year_extra(sc.name, year - sc.base_year + 1, steps))
        if on_year is not None:
            on_year(year, layers)
    return report


def allocate_only(scenario: str | Path | Scenario) -> AllocationResult:
    """The top-down allocation of a scenario alone, against its base-year land (no coupling)."""
    sc = resolve(scenario)
    regions = scenario_regions(sc)
    area = study_area(sc, Grid.from_regions(regions, res=sc.resolution), regions)
    caps = initial_capacities(area.inventory, area.landscape, list(range(sc.base_year, sc.end_year + 1)))
    return allocate(sc, area.inventory.totals, scenario_drivers(sc, regions), capacities=caps,
                    parent=parent_totals(sc))


def parent_totals(sc: Scenario) -> pd.DataFrame | None:
    """The totals of the allocation ``pathway.from`` names (allocated alone, as :func:`allocate_only`)."""
    if sc.pathway.parent is None:
        return None
    log.info("allocation of the parent %s", sc.pathway.parent, extra=stage_extra(sc.name))
    return allocate_only(sc.pathway.parent).totals


def run_to_folder(scenario: str | Path, out: str | Path, years=None, resolution=None, seed=None) -> str:
    """Run and write one scenario; returns the folder (a picklable task for workers)."""
    return str(run(scenario, out=out, years=years, resolution=resolution, seed=seed).out_dir)


def _result(sc: Scenario, area: StudyArea, agreed: Agreement, suitability: Suitability, evo: EvolutionResult,
            timings: dict) -> RunResult:
    """The run's result; fails loudly if the grid does not obey the top-down totals."""
    alloc, grid = agreed.allocation, area.grid
    worst = evo.summary()["max_relative_residual"]
    if worst > RESIDUAL_RTOL:
        raise MassBalanceError(f"{sc.name}: a region x sector x year total is off by {worst:.3g} (relative)")
    years = sorted(evo.layers)
    ds = xr.Dataset(coords={"sector": list(GRIDDED), "year": years, **grid.coords()},
                    attrs={"scenario": sc.name, "scenario_hash": sc.hash(), "seed": sc.seed})
    if years:
        cube = evo.cube if evo.cube is not None else np.stack([evo.layers[y] for y in years], axis=1)
        ds["emission"] = (("sector", "year", "y", "x"), cube, {"units": UNITS})
    ds.rio.write_crs(grid.crs.to_wkt(), inplace=True)  # not a deep copy of the cube (0.9 GB for China at 10 km)
    indirect = alloc.totals[alloc.totals.sector == "indirect"].assign(gridded_t=np.nan, residual_t=np.nan)
    totals = pd.concat([evo.residuals, indirect[evo.residuals.columns]], ignore_index=True)
    totals = totals.sort_values(["year", "region", "sector"], key=_sector_order).reset_index(drop=True)
    facilities = pd.concat([evo.snapshots[y] for y in sorted(evo.snapshots)], ignore_index=True)
    events = pd.DataFrame(evo.fleet.events, columns=["year", "id", "event", "sector", "region", "from_cell", "to_cell"])
    events["region"] = np.asarray(grid.regions, dtype=object)[events.region.to_numpy(int)] if len(events) else []
    manifest = _manifest(sc, area, agreed, suitability, evo, timings)
    energy = energy_tables(alloc, sc.evolution.capture_rate)
    manifest["energy"] = energy_manifest(alloc, energy, [sc.base_year, *sc.years])
    transfers = None
    if sc.evolution.transfer:  # the moves that happened (a planned plant the age hazard retired first stays)
        done = agreed.transfers[agreed.transfers.id.isin(events.id[events.event == "transferred"])]
        transfers = transfer_table(done, agreed.moved, sc.base_year)
    manifest["transfers"] = transfer_manifest(transfers, planned=len(agreed.transfers))
    manifest["targets"] = check_targets(sc.targets, totals, energy.get("energy_summary"))
    log_targets(manifest["targets"], sc.name)
    return RunResult(sc, grid, ds, totals, gpd.GeoDataFrame(facilities, crs=grid.crs), events, manifest,
                     area.boundaries, models=suitability.models, market=market_tables(alloc) | quotas(sc, area, alloc),
                     storage=evo.storage, storage_sites=evo.storage_sites, energy=energy, transfers=transfers)


def quotas(sc: Scenario, area: StudyArea, alloc: AllocationResult) -> dict[str, pd.DataFrame]:
    """City and facility quotas of an allocation (:func:`gridcarbon.allocation.quotas.quota_tables`)."""
    inv = area.inventory
    return quota_tables(alloc.totals, inv.layers(), inv.facilities, area.grid, read_table(f"{sc.region_set}_cities.csv"),
                        read_table("china_provinces.csv"), sc.principles.weights(), base_year=sc.base_year,
                        end_year=sc.end_year)


def _manifest(sc: Scenario, area: StudyArea, agreed: Agreement, suitability: Suitability, evo: EvolutionResult,
              timings: dict) -> dict:
    """What made the run: scenario, grid, inventory history, allocation, coupling, evolution, versions."""
    summary = evo.summary()
    return {
        "gridcarbon": version("gridcarbon"), "scenario": sc.name, "scenario_hash": sc.hash(),
        "scenario_file": sc.source, "seed": sc.seed, "base_year": sc.base_year, "years": sc.years,
        "resolution_m": sc.resolution, "grid": area.grid.describe() | {"crs": crs_lookup(area.grid.crs)[0]},
        "inventory": {"history": area.inventory.history, "calibration": area.inventory.calibration_records()},
        "allocation": agreed.allocation.summary(),
        "coupling": agreed.report(), "evolution": summary | {"suitability": suitability.summary()},
        "conservation": {"max_abs_residual_t": float(evo.residuals.residual_t.abs().max()),
                         "max_relative_residual": summary["max_relative_residual"]},
        "versions": library_versions(), "scenario_resolved": json.loads(sc.model_dump_json()),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }


def _sector_order(col: pd.Series) -> pd.Series:
    order = {s: i for i, s in enumerate(SECTORS)}
    return col.map(order) if col.name == "sector" else col
