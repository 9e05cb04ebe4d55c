"""The run folder (docs/architecture.md, "Outputs"): written as the years arrive, atomically.

``<out>/<scenario>/`` holds per exported year a styled COG per sector plus ``total``,
``net`` and the storage fill (fraction of each site's capacity), the maps, ``cube.nc`` with
every simulated year, ``totals.csv``, the facility tables, the fitted models and ``manifest.json`` (written last, with every file's sha256).
The folder appears complete or not at all (:func:`~gridcarbon.output.atomic.atomic_dir`).
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from gridcarbon.core import memory
from gridcarbon.core.cells import FullLayers
from gridcarbon.core.errors import OutputError
from gridcarbon.core.grid import Grid, LookedUpCRS
from gridcarbon.core.options import get_option
from gridcarbon.core.sectors import GRIDDED
from gridcarbon.output import cube, maps
from gridcarbon.output.atomic import atomic_dir
from gridcarbon.output.energy import replot_energy, write_energy
from gridcarbon.output.layers import (
    FILL_UNITS,
    SPILLED,
    WrittenLayers,
    named_layers,
    spill_layers,
    write_layers,
    write_storage_fill,
)
from gridcarbon.output.map_process import MapProcess, draw_now
from gridcarbon.output.market import replot_market, write_market, write_tables
from gridcarbon.output.metadata import acdd_attributes, lonlat_bounds
from gridcarbon.output.provenance import write_provenance
from gridcarbon.output.report import write_report
from gridcarbon.output.report_charts import CHART_GROUPS
from gridcarbon.output.report_maps import MapSet, build_maps
from gridcarbon.output.stac import write_stac

if TYPE_CHECKING:  # the result is made above this layer; the writer only reads it
    from matplotlib.path import Path as MplPath

    from gridcarbon.config import Scenario
    from gridcarbon.result import RunResult


def final_dir(out: Path, name: str) -> Path:
    """``out/name``, refusing names that could write outside ``out``."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
        raise OutputError(f"unsafe scenario name {name!r} for an output folder")
    return out / name


def run_meta(sc: Scenario, status: str) -> dict:
    """Tags every file of a run carries: scenario, hash, seed, base year, version, solver status, resolution."""
    return {"scenario": sc.name, "scenario_hash": sc.hash(), "seed": sc.seed, "base_year": sc.base_year,
            "gridcarbon_version": version("gridcarbon"), "solver_status": status, "resolution_m": sc.resolution}


class RunWriter:
    """Writes a run folder as the years arrive.

    Every year goes into ``cube.nc``; exported years also get a COG + QML per layer and
    their maps. Writing happens in one background thread, in year order, so it overlaps the
    evolution of the next years: years queue for it while the queue holds at most the
    ``writer_queue_bytes`` engine option (an exported year's COGs then no longer hold up the
    evolution), and the maps are drawn in a process of their own
    (``drawing``, a :class:`~gridcarbon.output.map_process.MapProcess` forked earlier, by
    default one of its own; the writer closes it when it closes: no map is drawn into the folder
    after that); a writer error surfaces at the next :meth:`add` or at :meth:`finish`. Use as a
    context manager.
    """

    def __init__(self, root: Path, sc: Scenario, grid: Grid, boundaries: gpd.GeoDataFrame, *, status: str,
                 history: list[str], drawing: MapProcess | None = None):
        self.root, self.sc, self.grid, self.boundaries = root, sc, grid, boundaries
        self.exported = [sc.base_year, *sc.years]
        self.meta = run_meta(sc, status)
        acdd = acdd_attributes(self.meta, history="; ".join(history + [f"coupled run, seed {sc.seed}"]),
                               bounds_lonlat=lonlat_bounds(grid.crs, grid.bounds), years=(sc.base_year, sc.end_year))
        attrs = {**acdd, "scenario": sc.name, "scenario_hash": self.meta["scenario_hash"], "seed": sc.seed,
                 "solver_status": status}
        self.cube = cube.CubeWriter(root / "cube.nc", grid, sectors=list(GRIDDED),
                                      years=list(range(sc.base_year, sc.end_year + 1)), attrs=attrs)
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gridcarbon-writer")
        self.drawing = drawing if drawing is not None else MapProcess(inline=grid.large)
        self.outlines = maps.outline_path(boundaries, grid)
        self.pending: deque[tuple[Future, int]] = deque()  # queued years' writes and their bytes
        # first and last exported years' gross layers for the change map, compact (the layers are 0
        # outside every region): China at 1 km holds the base year's through the evolution, 76 MB, not 214
        self.gross: dict[int, np.ndarray] = {}
        # the exported years' named layers, for the provenance and the report (on a large grid
        # they wait on disk instead, 0.5 GB a year at 1 km: layers.SPILLED)
        self.kept: dict[int, dict[str, np.ndarray]] = {}

    def add(self, year: int, layers: np.ndarray) -> None:
        """Queue ``year``'s (n_gridded, y, x) layers (t CO2/yr/cell), or compact ones (n_gridded,
        n_inside) on the grid's :attr:`~Grid.cell_index` (what the evolution hands on for a large
        grid); they must not change afterwards. The files are the same either way: a compact
        year's rectangles are made one layer at a time as they are written.

        Waits for the oldest queued years until this one fits the ``writer_queue_bytes`` engine
        option (a year larger than it, e.g. at 1 km, waits for every earlier one). On a
        :attr:`~Grid.large` grid an exported year is written before this returns: its COGs and
        maps need ~1 GB of temporaries at 1 km, which would otherwise add to the next year's
        evolution. Not the cube's last year: no year evolves after it, and the caller lets the
        run's static layers go while it is written (China at 1 km: 1.4 GB).
        """
        self._wait(keep_bytes=get_option("writer_queue_bytes") - layers.nbytes)
        self.pending.append((self.pool.submit(self._write_year, year, layers), layers.nbytes))
        if year in self.exported and self.grid.large and year != self.cube.years[-1]:
            self._wait()

    def _wait(self, keep_bytes: int = 0) -> None:
        """Wait for the oldest queued writes until at most ``keep_bytes`` of layers stay queued
        (by default none); a failed write raises here, also one done before its turn."""
        while self.pending and (sum(n for _, n in self.pending) > keep_bytes or self.pending[0][0].done()):
            job, _ = self.pending.popleft()
            job.result()

    def _write_year(self, year: int, layers: np.ndarray) -> None:
        try:
            self._write_layers(year, layers)
        finally:  # on a large grid an exported year's maps leave reference cycles that hold its
            # layers: collect them and hand the freed pages back (a full collection takes 0.1-0.2 s:
            # not worth it for a small grid's megabytes). Other years are not trimmed: the heap
            # reuses their pages for the next year (China at 1 km: trimming every year cost 19 s of
            # its 240, with the same peak; docs/performance.md, "twelfth round")
            if self.grid.large and year in self.exported:
                memory.release(cycles=True)

    def _write_layers(self, year: int, layers: np.ndarray) -> None:
        self.cube.write(year, layers)
        if year not in self.exported:
            return
        named = named_layers(layers)  # compact when the layers are
        draw_maps = partial(self.drawing.submit, render_year_maps, self.root / "maps", named, self.grid,
                            outlines=self.outlines, name=self.sc.name, year=year)
        if not self.drawing.inline:  # first: a map worker draws them while this thread writes the COGs
            draw_maps()
        write_layers(self.root / str(year), FullLayers(self.grid.cell_index, named), self.grid, year=year,
                     meta=self.meta)
        if self.drawing.inline:  # here, after the COGs: drawn first, on a large grid the maps' reference
            draw_maps()  # cycles would hold their layers through the COGs' temporaries
        if year in (self.exported[0], self.exported[-1]):
            self.gross[year] = self.grid.cell_index.compacted(named["total"])
        if self.grid.large:
            spill_layers(self.root / SPILLED, year, named, self.grid.cell_index)
        else:
            self.kept[year] = named

    def finish(self, result: RunResult, *, started: float | None = None) -> None:
        """After the last year: tables, facilities, change map, models, then the manifest.

        The provenance rasters are written in the writer thread (GDAL compresses them without
        the interpreter lock) while this thread writes the tables, on a large grid too: the
        caller has let the run's static layers go by then (China at 1 km: the finish peaks below
        the year loop), and the two take a core each. The report's maps are drawn by a map
        worker from the written COGs (the same values the kept layers give), inline on a large
        grid. ``started`` (a ``time.perf_counter()`` value) adds the whole run's wall time.
        """
        self._wait()
        self.cube.close()
        # first in the map workers' queue after the last year's maps (inline: below, from the spilled layers)
        report_maps = None if self.drawing.inline else self.drawing.call(build_maps, self.root, self.boundaries)
        if self.grid.large:  # hand back what the caller let go (the run's static layers: GiBs at 1 km),
            # map the finish's large blocks (its maps' and tables' holes would otherwise stay
            # resident beside the provenance), and draw the change map (inline) so that its two
            # float64 layers go before the provenance
            memory.release(cycles=True)
            memory.map_large_blocks()
            self._draw_change()
        tmp = self.root
        written = WrittenLayers(tmp, self.grid, self.kept, spilled=tmp / SPILLED)
        # a facility table of its own (pandas objects are not safe to share between threads), and a
        # plain one (no geometry: faster filters)
        facilities = pd.DataFrame(result.facilities.drop(columns="geometry", errors="ignore"))
        provenance = self.pool.submit(write_provenance, tmp, self.grid, facilities, self.exported, self.meta,
                                      written)
        self._write_tables(result)
        # the report's charts, drawn by the map workers from the tables written here; storage.csv
        # is written by a map worker itself, so its chart waits for them
        charts = [self.drawing.call(draw, tmp) for table, draw in CHART_GROUPS.items() if table != "storage.csv"]
        models_dir = tmp / "models"
        models_dir.mkdir()
        result.manifest["models"] = {k: {"file": f"models/{k}.pkl", "sha256": m.save(models_dir / f"{k}.pkl")}
                                     for k, m in sorted(result.models.items())}
        if report_maps is None:
            report_maps = self.drawing.call(build_maps, tmp, self.boundaries, written)
        result.manifest["provenance"] = provenance.result()
        shutil.rmtree(tmp / SPILLED, ignore_errors=True)  # read by the two above alone
        self.drawing.wait()
        charts.append(self.drawing.call(CHART_GROUPS["storage.csv"], tmp))
        result.manifest["files"] = file_hashes(tmp)
        write_catalogue(tmp, result.manifest, self.boundaries, written, report_maps.result(),
                        drawn={name: chart for job in charts for name, chart in job.result().items()})
        if started is not None:
            result.manifest.setdefault("timings_s", {})["total_s"] = round(time.perf_counter() - started, 3)
        (tmp / "manifest.json").write_text(json.dumps(result.manifest, indent=2, default=_json))

    def _write_tables(self, result: RunResult) -> None:
        """``totals.csv``, the facility tables, the storage fill layers, the market and energy
        tables; the figures, the largest tables (quotas, storage) and the change map go to the
        map process."""
        tmp = self.root
        write_energy(result.energy, tmp, submit=self.drawing.submit)  # first: its 31-panel figure is the longest
        result.totals.to_csv(tmp / "totals.csv", index=False, float_format="%.6f")
        write_facilities(result, tmp / "facilities.gpkg", submit=self.drawing.submit)
        self._write_storage_fill(result)
        write_market(tmp, result.market, name=self.sc.name, years=self.exported[1:], submit=self.drawing.submit)
        if self.gross:  # not drawn yet (see finish)
            self._draw_change()

    def _draw_change(self) -> None:
        """Submit the map of the gross change between the first and last exported years, and let
        their layers go."""
        first, last = self.exported[0], self.exported[-1]
        gross, self.gross = self.gross, {}
        self.drawing.submit(maps.render_change, self.root / "maps" / f"change_{first}_{last}.png",
                            *(self.grid.cell_index.expand(gross[y]) for y in (first, last)), self.grid,
                            outlines=self.outlines, title=f"{self.sc.name}: gross CO2 change {first}-{last}")

    def _write_storage_fill(self, result: RunResult) -> None:
        """Storage fill layer of every exported year (when the run has storage sites), listed in
        the manifest under ``storage_fill``."""
        if result.storage is None or result.storage_sites is None or result.storage_sites.empty:
            return
        files = [write_storage_fill(self.root, result.storage, result.storage_sites, self.grid, year=y,
                                    meta=self.meta).relative_to(self.root).as_posix() for y in self.exported]
        fill = result.storage[result.storage.year.isin(self.exported)].groupby("year").fill.max()
        result.manifest["storage_fill"] = {"files": files, "units": FILL_UNITS,
                                           "sites": int(result.storage_sites.site.nunique()),
                                           "fill_max": {int(y): round(float(v), 6) for y, v in fill.items()}}

    def __enter__(self) -> "RunWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.drawing.close()
        self.cube.close()


def write_catalogue(root: Path, manifest: dict, boundaries: gpd.GeoDataFrame | None,
                    layers: WrittenLayers | None = None, report_maps: MapSet | None = None,
                    drawn: dict[str, str] | None = None) -> None:
    """``report.html`` and the STAC catalogue of the run folder ``root`` (``layers``: its
    exported years' layers, default read from its COGs; ``report_maps`` and ``drawn``: the
    report's maps and charts when already drawn); their time goes into
    ``manifest["timings_s"]["report_s"]`` (the manifest itself is written after them)."""
    t0 = time.perf_counter()
    write_report(root, manifest, boundaries, layers, report_maps, drawn)
    write_stac(root, manifest)
    manifest.setdefault("timings_s", {})["report_s"] = round(time.perf_counter() - t0, 3)


def write_outputs(result: RunResult, out: Path, *, started: float | None = None) -> Path:
    """Write an in-memory result as a run folder ``out/<scenario>/``, atomically.

    The manifest is written last, inside the temporary folder, with the export's timing
    (and the whole run's when ``started``, a ``time.perf_counter()`` value, is given).
    """
    final = final_dir(Path(out), result.scenario.name)
    t0 = time.perf_counter()
    with atomic_dir(final) as tmp:
        with RunWriter(tmp, result.scenario, result.grid, result.boundaries,
                       status=result.manifest["allocation"]["status"],
                       history=result.manifest["inventory"]["history"]) as writer:
            emission = result.emissions["emission"].transpose("sector", "year", "y", "x")
            for k, year in enumerate(result.emissions["year"].values):
                writer.add(int(year), emission.isel(year=k).values)
            result.manifest.setdefault("timings_s", {})["export_s"] = round(time.perf_counter() - t0, 3)
            writer.finish(result, started=started)
    return final


def write_facilities(result: RunResult, path: Path, *, submit: Callable[..., None] = draw_now) -> None:
    """The facility table of every exported year as layers ``facilities_<year>`` of a GeoPackage,
    the facility events as ``facility_events.csv``, the storage account (when the run has
    one) as ``storage.csv`` (written by ``submit(write_tables, ...)``: default here and now; China's
    is 94,000 rows) and the industrial transfers (when the run transfers) as ``transfers.csv`` beside it."""
    fac = result.facilities.copy()
    crs = LookedUpCRS(fac.crs)  # its EPSG code looked up once, not per layer
    for year, part in fac.groupby("year"):
        part.drop(columns=["year"]).set_crs(crs, allow_override=True).to_file(path, layer=f"facilities_{year}",
                                                                            driver="GPKG")
    result.events.to_csv(path.with_name("facility_events.csv"), index=False)
    if result.storage is not None:
        submit(write_tables, path.parent, {"storage.csv": result.storage})
    if result.transfers is not None:
        result.transfers.to_csv(path.with_name("transfers.csv"), index=False, float_format="%.6f")


def render_year_maps(root: Path, named: dict[str, np.ndarray], grid: Grid, *, outlines: MplPath | None, name: str,
                     year: int) -> None:
    """Gross and net map and the sector panel of one year's named layers, (y, x) or compact
    (:class:`~gridcarbon.core.cells.FullLayers`: a compact layer's rectangle is made when drawn),
    with the region ``outlines`` of :func:`~gridcarbon.output.maps.outline_path`."""
    index = grid.cell_index
    maps.render_map(root / f"total_{year}.png", index.full(named["total"]), grid, outlines=outlines,
                    title=f"{name}: gross CO2 {year}")
    maps.render_map(root / f"net_{year}.png", index.full(named["net"]), grid, outlines=outlines,
                    title=f"{name}: net CO2 {year}", kind="diverging")
    maps.render_panel(root / f"sectors_{year}.png", FullLayers(index, {s: named[s] for s in GRIDDED}), grid,
                      outlines=outlines, title=f"{name}: sectors {year}")


def file_hashes(root: Path) -> dict[str, str]:
    """sha256 of every raster, cube and table under ``root``, read in blocks (a 1 km cube is 4 GB)."""
    def digest(path: Path) -> str:
        with path.open("rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    return {str(p.relative_to(root)): digest(p)
            for p in sorted(root.rglob("*")) if p.is_file() and p.suffix in {".tif", ".nc", ".csv"}}


def _json(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    return str(value)


def write_maps(result: RunResult, root: Path) -> None:
    """Maps of every exported year and the change map, from a result (e.g. :func:`~gridcarbon.load_run`)."""
    sc = result.scenario
    years, outlines = [sc.base_year, *sc.years], maps.outline_path(result.boundaries, result.grid)
    for year in years:
        render_year_maps(root, result.layers(year), result.grid, outlines=outlines, name=sc.name, year=year)
    maps.render_change(root / f"change_{years[0]}_{years[-1]}.png", result.total(years[0]).values,
                       result.total(years[-1]).values, result.grid, outlines=outlines,
                       title=f"{sc.name}: gross CO2 change {years[0]}-{years[-1]}")
    if result.out_dir is not None:  # the energy and market figures come from the run folder's tables
        replot_energy(Path(result.out_dir), root)
        replot_market(Path(result.out_dir), root, name=sc.name, years=list(sc.years))
