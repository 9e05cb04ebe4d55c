"""Coupling to agreement, and runs too large for memory: streamed years, lazy result, same bytes."""
import gc
import hashlib
import weakref

import numpy as np
import pandas as pd
import pytest

import gridcarbon
from gridcarbon import job
from gridcarbon.core.errors import InputError
from gridcarbon.core.sectors import GRIDDED
from gridcarbon.output.run_folder import RunWriter

pytestmark = pytest.mark.slow


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def streamed_run(tmp_path_factory):
    """The default run with the in-memory limit at zero: every year streamed to disk; and which
    of the run's evolution context, its landscape and surfaces, the inventory and the suitability
    fit were alive when the result began to be assembled and when ``RunWriter.finish`` began."""
    made, alive, real_prepare, real_result, real_finish = [], {}, job.prepare, job._result, RunWriter.finish

    def prepare(*args, **kwargs):
        prep = real_prepare(*args, **kwargs)
        made.extend((name, weakref.ref(obj)) for name, obj in
                    (("context", prep.context), ("inventory", prep.area.inventory), ("suitability", prep.suitability),
                     ("landscape", prep.context.landscape.water.values),
                     ("surface", prep.suitability.surfaces["urban"])))
        return prep

    def seen(moment):
        gc.collect()
        alive[moment] = [name for name, ref in made if ref() is not None]

    def result(*args, **kwargs):
        seen("result")
        return real_result(*args, **kwargs)

    def finish(self, *args, **kwargs):
        seen("finish")
        return real_finish(self, *args, **kwargs)
    with pytest.MonkeyPatch.context() as patch, gridcarbon.set_options(in_memory_bytes=0):
        patch.setattr(job, "prepare", prepare)
        patch.setattr(job, "_result", result)
        patch.setattr(RunWriter, "finish", finish)
        return job.run("yrd-enhanced", out=tmp_path_factory.mktemp("streamed")), made, alive


@pytest.fixture(scope="module")
def streamed(streamed_run):
    return streamed_run[0]


def test_the_run_lets_its_static_layers_go_before_the_writer_finishes(streamed_run):
    """What the evolution used (China at 1 km: GiBs of static layers) is not held while the
    result is assembled and the writer exports the last year (the context, its landscape and
    the fit with its surfaces: the result reads none of them, and keeps the models), nor while
    the run folder's provenance, tables and report are written (the inventory, which the quotas
    read, too)."""
    _, made, alive = streamed_run
    assert [name for name, _ in made] == ["context", "inventory", "suitability", "landscape", "surface"]
    assert alive == {"result": ["inventory"], "finish": []}


def test_streamed_run_writes_the_same_sector_bytes_as_an_in_memory_run(streamed, default_run):
    """Streamed years are float32 from the start: the files hold float32 either way."""
    for name in ["cube.nc", "2035/power.tif", "2060/buildings.tif", "2024/net.tif"]:
        assert _digest(streamed.out_dir / name) == _digest(default_run.out_dir / name), name
    # gross and net sum float32 layers instead of float64 ones: equal to float32 precision
    import rasterio

    with rasterio.open(streamed.out_dir / "2060/total.tif") as a, rasterio.open(default_run.out_dir / "2060/total.tif") as b:
        np.testing.assert_allclose(a.read(1), b.read(1), rtol=1e-6)
    mine = pd.read_csv(streamed.out_dir / "totals.csv").dropna(subset=["gridded_t"])
    assert (mine.residual_t.abs() <= 1e-6 * mine.allocated_t.abs().clip(lower=1.0)).all()


def test_streamed_result_reads_the_cube_lazily_and_matches(streamed, default_run):
    emission = streamed.emissions["emission"]
    assert emission.chunks is not None  # dask-backed, read from cube.nc
    assert emission.sizes == default_run.emissions["emission"].sizes
    lazy = streamed.total(2060).values
    exact = default_run.total(2060).values
    np.testing.assert_allclose(lazy, exact, rtol=1e-6, atol=1e-3)  # float32 on disk


def test_a_cube_too_large_for_memory_needs_an_output_folder():
    with gridcarbon.set_options(in_memory_bytes=0):
        with pytest.raises(InputError, match="does not fit in memory"):
            job.run("yrd-enhanced")


def test_coupling_ends_with_an_allocation_the_land_can_hold(default_run, default_prepared):
    """The allocated forest sink of every region and year fits the evolved land's capacity."""
    from gridcarbon.evolution import initial_capacities, land_capacities

    report = default_run.manifest["coupling"]
    assert report["converged"] and report["iterations"] >= 1
    assert report["history"][-1]["capacity_change_rel"] <= default_run.scenario.coupling.tolerance
    sc = default_run.scenario
    prep = default_prepared  # job.prepare(sc)
    assert prep.context.seed == sc.seed and prep.area.grid.shape == default_run.grid.shape
    inv, landscape = prep.area.inventory, prep.area.landscape
    totals = default_run.totals
    caps = land_capacities(prep.context, totals[totals.sector != "indirect"])
    sink = totals[totals.sector == "forest_sink"].merge(caps[caps.sector == "forest_sink"],
                                                        on=["region", "sector", "year"])
    assert len(sink) == 4 * (sc.end_year - sc.base_year + 1)
    slack = sink.capacity_t * (1 + 2 * sc.coupling.tolerance) - (-sink.allocated_t)
    assert (slack >= -1.0).all(), sink[slack < -1.0]
    # the feedback is the evolved land's, not the base landscape's: cities eat afforestation room
    base = initial_capacities(inv, landscape, sorted(sink.year.unique()))
    moved = sink.merge(base[base.sector == "forest_sink"], on=["region", "sector", "year"], suffixes=("", "_base"))
    assert (moved.capacity_t != moved.capacity_t_base).mean() > 0.9


def test_the_writer_hands_freed_memory_back_after_every_exported_year(default_run, tmp_path, monkeypatch):
    """On a large grid each exported year ends with memory.release(cycles=True) (its maps' reference
    cycles collected, then malloc_trim on glibc); the other years' pages stay in the heap for the
    next year (China at 1 km: trimming every year cost 19 s, with the same peak)."""
    import platform

    from gridcarbon.core import memory

    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert memory.release() is True
    calls = []
    monkeypatch.setattr(memory, "release", lambda cycles=False: calls.append(cycles) or True)
    emission = default_run.emissions["emission"]
    # the default grid written as a 1 km one is (a large grid)
    with gridcarbon.set_options(large_grid_cells=0), \
            RunWriter(tmp_path, default_run.scenario, default_run.grid, default_run.boundaries, status="ok",
                      history=[]) as writer:
        for year in (2026, 2027, 2028, 2030):  # 2030 exported: COGs and maps, whose cycles are collected
            writer.add(year, emission.sel(year=year).values)
        writer._wait()
    assert calls == [True]
    calls.clear()
    with RunWriter(tmp_path / "small", default_run.scenario, default_run.grid, default_run.boundaries,
                   status="ok", history=[]) as writer:
        writer.add(2030, emission.sel(year=2030).values)
        writer._wait()
    assert calls == []  # a small grid's megabytes are not worth a collection


def test_written_years_are_not_kept_alive(default_run, tmp_path):
    """On a large grid, once written, a year's layer stack is freed (exported years too: their maps'
    reference cycles are collected), so a 1 km run holds at most the year in flight and the next.
    (A small grid keeps its exported years' layers for the provenance and the report.)"""
    import weakref

    emission = default_run.emissions["emission"]
    refs = {}
    with gridcarbon.set_options(large_grid_cells=0), \
            RunWriter(tmp_path, default_run.scenario, default_run.grid, default_run.boundaries, status="ok",
                      history=[]) as writer:
        for year in (2029, 2030, 2031, 2035, 2036):  # 2030 and 2035 exported: COGs and maps
            layers = np.array(emission.sel(year=year).values)
            refs[year] = weakref.ref(layers)
            writer.add(year, layers)
            del layers
            writer._wait()
            assert [y for y, ref in refs.items() if ref() is not None] == [], year
    assert (tmp_path / "2035" / "net.tif").exists() and (tmp_path / "maps" / "sectors_2030.png").exists()


def test_a_compact_year_writes_the_files_of_its_full_layers(default_run, tmp_path):
    """On a large grid the evolution hands the writer each year compact (n_gridded, n_inside), a
    third of the rectangle's bytes at 1 km: the cube, the COGs with their styles and the maps are
    the bytes the run wrote from the year's full (n_gridded, y, x) layers, and the change map's
    gross layer is kept compact."""
    import xarray as xr

    grid, year = default_run.grid, default_run.scenario.base_year  # exported: COGs, styles and maps
    layers = default_run.emissions["emission"].sel(year=year).values
    with gridcarbon.set_options(large_grid_cells=0), \
            RunWriter(tmp_path, default_run.scenario, grid, default_run.boundaries,
                      status=default_run.manifest["allocation"]["status"],
                      history=default_run.manifest["inventory"]["history"]) as writer:  # the run's tags
        writer.add(year, grid.cell_index.compact(layers))
        writer._wait()
        gross = writer.gross[year]
    total = default_run.total(year).values
    assert gross.tobytes() == grid.cell_index.compact(np.where(grid.inside, total, 0.0)).tobytes()
    files = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.suffix in {".tif", ".qml", ".png"})
    assert {p.as_posix() for p in files} >= {f"{year}/power.tif", f"{year}/net.qml", f"maps/sectors_{year}.png"}
    assert len(files) == 2 * (len(GRIDDED) + 2) + 3
    assert [p for p in files if _digest(tmp_path / p) != _digest(default_run.out_dir / p)] == []
    with xr.open_dataset(tmp_path / "cube.nc", mask_and_scale=False) as mine, \
            xr.open_dataset(default_run.out_dir / "cube.nc", mask_and_scale=False) as theirs:
        assert mine["emission"].sel(year=year).values.tobytes() == theirs["emission"].sel(year=year).values.tobytes()
