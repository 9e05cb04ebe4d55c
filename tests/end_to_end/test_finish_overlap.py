"""The run writer's last step (``RunWriter.finish``): the provenance rasters are written in the
writer thread while the calling thread writes the tables, on a large grid too; the largest
tables and the report's maps are made by the map process; either way the folder holds the same
bytes."""
from __future__ import annotations

import copy
import dataclasses
import os
import threading
import time
from pathlib import Path

import pytest

import gridcarbon
from gridcarbon.output import export, maps, market, run_folder
from gridcarbon.output.layers import SPILLED

REAL_WRITE_TABLES = market.write_tables
REAL_BUILD_MAPS, REAL_OUTLINE_PATH = run_folder.build_maps, maps.outline_path


def tables_noting_the_writer(root: Path, tables: dict) -> None:
    """``market.write_tables`` that notes, beside the run folder, the process writing each table
    (module level: the map process receives it by name)."""
    for file in tables:
        (root.parent / f"{Path(file).name}.pid").write_text(str(os.getpid()))
    REAL_WRITE_TABLES(root, tables)


def maps_noting_the_drawer(root: Path, *args, **kwargs):
    """``report_maps.build_maps`` that notes, beside the run folder, the process drawing them."""
    (root.parent / "report-maps.pid").write_text(str(os.getpid()))
    return REAL_BUILD_MAPS(root, *args, **kwargs)


def outlines_noting_each_call(*args, **kwargs):
    """``maps.outline_path`` that adds a line beside the run folder per call, in any process."""
    with open(os.environ["GRIDCARBON_TEST_OUTLINE_CALLS"], "a") as calls:
        calls.write(f"{os.getpid()}\n")
    return REAL_OUTLINE_PATH(*args, **kwargs)


@pytest.fixture
def watched(monkeypatch):
    """The thread and order in which ``finish`` starts and ends the provenance and the tables."""
    events = []

    def watch(name, real):
        def run(*args, **kwargs):
            events.append((name, "start", threading.current_thread().name))
            out = real(*args, **kwargs)
            events.append((name, "end", threading.current_thread().name))
            return out
        return run
    monkeypatch.setattr(run_folder, "write_provenance", watch("provenance", run_folder.write_provenance))
    monkeypatch.setattr(run_folder, "write_facilities", watch("tables", run_folder.write_facilities))
    return events


def _rewrite(default_run, folder):
    result = dataclasses.replace(default_run, manifest=copy.deepcopy(default_run.manifest), out_dir=None)
    return run_folder.write_outputs(result, folder)


def _same_files(a, b, pattern):
    files = sorted(p.relative_to(a) for p in a.rglob(pattern))
    assert files and all((a / f).read_bytes() == (b / f).read_bytes() for f in files)


def test_provenance_is_written_in_the_writer_thread_beside_the_tables(default_run, tmp_path, watched, monkeypatch):
    """The writer thread writes the provenance while the calling thread writes the tables, of
    which the map process writes the largest, and draws the report's maps from the written COGs;
    the outlines of the maps are made once; the folder holds the default run's bytes."""
    monkeypatch.setattr(market, "write_tables", tables_noting_the_writer)
    monkeypatch.setattr(run_folder, "write_tables", tables_noting_the_writer)
    monkeypatch.setattr(run_folder, "build_maps", maps_noting_the_drawer)
    monkeypatch.setattr(maps, "outline_path", outlines_noting_each_call)
    monkeypatch.setenv("GRIDCARBON_TEST_OUTLINE_CALLS", str(tmp_path / "outline-calls.txt"))
    final = _rewrite(default_run, tmp_path)
    threads = {(name, when): thread for name, when, thread in watched}
    assert threads[("provenance", "start")].startswith("gridcarbon-writer")
    assert threads[("tables", "start")] == threading.main_thread().name
    writers = {p.stem: int(p.read_text()) for p in tmp_path.glob("*.pid")}
    assert {"storage.csv", "market.csv", "mac.csv", "report-maps"} <= set(writers)
    assert os.getpid() not in writers.values()
    # the region outlines are made once, by the writer, for all 13 maps of the four years and the change
    assert (tmp_path / "outline-calls.txt").read_text().split() == [str(os.getpid())]
    for pattern in ("provenance.*", "report.html", "*.csv"):
        _same_files(default_run.out_dir, final, pattern)


def test_on_a_large_grid_provenance_is_written_beside_the_tables(default_run, tmp_path, watched, monkeypatch):
    """The tables start before the provenance ends (held until they start), in another thread.
    The provenance and the report's maps read the exported years' layers from the files the
    writer spilled them to, no COG decoded, and the finished folder keeps none of those files.
    The heap maps its large blocks again first."""
    tables_started, real_provenance = threading.Event(), run_folder.write_provenance
    held, decoded = [], []
    for reader in ("read_raster_band", "read_raster_cells"):
        real = getattr(export, reader)
        monkeypatch.setattr(export, reader, lambda path, *args, real=real: decoded.append(path) or real(path, *args))

    def provenance_held(*args, **kwargs):
        held.append(tables_started.wait(timeout=10))
        return real_provenance(*args, **kwargs)

    def tables_starting(*args, **kwargs):
        tables_started.set()
        return watched_tables(*args, **kwargs)
    watched_tables = run_folder.write_facilities
    real_map = run_folder.memory.map_large_blocks
    monkeypatch.setattr(run_folder.memory, "map_large_blocks",
                        lambda: watched.append(("heap", "mapped", threading.current_thread().name)) or real_map())
    monkeypatch.setattr(run_folder, "write_provenance", provenance_held)
    monkeypatch.setattr(run_folder, "write_facilities", tables_starting)
    with gridcarbon.set_options(large_grid_cells=1):  # the YRD grid counts as large
        final = _rewrite(default_run, tmp_path)
    threads = {(name, when): thread for name, when, thread in watched}
    assert held == [True]
    # the finish's large blocks are mapped (not kept in the heap) before the provenance starts
    assert [e[:2] for e in watched].index(("heap", "mapped")) < [e[:2] for e in watched].index(("provenance", "start"))
    assert threads[("provenance", "start")].startswith("gridcarbon-writer")
    assert threads[("tables", "start")] == threading.main_thread().name
    _same_files(default_run.out_dir, final, "provenance.*")
    _same_files(default_run.out_dir, final, "report.html")  # its maps drawn from the spilled layers
    assert [p for p in decoded if Path(p).parent.name.isdigit()] == []  # no year's COG
    assert not (final / SPILLED).exists() and not list(final.rglob("*.npy"))


@pytest.mark.parametrize("queue_bytes, queued", [(256 * 2**20, True), (0, False)])
def test_years_queue_for_the_writer_within_the_option(default_run, tmp_path, monkeypatch, queue_bytes, queued):
    """The first year's write is held until the last year is added: with room in the queue
    every year is added meanwhile; with ``writer_queue_bytes=0`` the second add waits for it,
    so the hold runs out (the years' adds take milliseconds: 2 s is ample for them to arrive)."""
    last_added, real_write, real_add = threading.Event(), run_folder.RunWriter._write_year, run_folder.RunWriter.add
    years = [int(y) for y in default_run.emissions["year"].values]
    seen = []

    def held_write(self, year, layers):
        if year == years[0]:
            seen.append(last_added.wait(timeout=10 if queued else 2))
        real_write(self, year, layers)

    def add(self, year, layers):
        real_add(self, year, layers)
        if year == years[-1]:
            last_added.set()
    monkeypatch.setattr(run_folder.RunWriter, "_write_year", held_write)
    monkeypatch.setattr(run_folder.RunWriter, "add", add)
    with gridcarbon.set_options(writer_queue_bytes=queue_bytes):
        final = _rewrite(default_run, tmp_path)
    assert seen == [queued]
    _same_files(default_run.out_dir, final, "*.tif")


def test_a_large_grids_exported_year_is_written_before_the_next_evolves_but_the_last_is_not_waited_for(
        default_run, tmp_path, monkeypatch):
    """On a large grid ``add`` returns once an exported year is written (its temporaries would add
    to the next year's evolution), except for the cube's last year, after which nothing evolves:
    the run lets its static layers go meanwhile. Each exported year's write is slowed down, so a
    write that ``add`` does not wait for ends after ``add`` has returned."""
    real_write, real_add = run_folder.RunWriter._write_year, run_folder.RunWriter.add
    years = [int(y) for y in default_run.emissions["year"].values]
    exported = [default_run.scenario.base_year, *default_run.scenario.years]
    returned, after_add = set(), {}

    def slow_write(self, year, layers):
        if year in exported:
            time.sleep(0.2)
        real_write(self, year, layers)
        after_add[year] = year in returned

    def add(self, year, layers):
        real_add(self, year, layers)
        returned.add(year)
    monkeypatch.setattr(run_folder.RunWriter, "_write_year", slow_write)
    monkeypatch.setattr(run_folder.RunWriter, "add", add)
    with gridcarbon.set_options(large_grid_cells=1):  # the YRD grid counts as large
        final = _rewrite(default_run, tmp_path)
    assert years[-1] in exported and len(exported) > 2
    assert {y: after_add[y] for y in exported} == {y: y == years[-1] for y in exported}
    _same_files(default_run.out_dir, final, "*.tif")
