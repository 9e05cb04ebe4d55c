"""A run folder's map workers (gridcarbon.output.map_process): forked as the run starts, before
its study area is built, so they warm up beside its preparation; each exported year's maps go to
them before the year's COGs are written."""
from __future__ import annotations

import multiprocessing

import numpy as np
import pytest

import gridcarbon
from gridcarbon import job
from gridcarbon.output import map_process, run_folder


class Stop(Exception):
    """Ends a run at its preparation (the test has seen what it needs)."""


@pytest.mark.parametrize("with_folder", [True, False])
def test_the_map_workers_exist_before_the_run_prepares(tmp_path, monkeypatch, with_folder):
    seen = []

    def prepare(*args, **kwargs):
        seen.append(len(multiprocessing.active_children()))
        raise Stop
    monkeypatch.setattr(job, "prepare", prepare)
    with pytest.raises(Stop):
        gridcarbon.run("yrd-enhanced", out=tmp_path / "out" if with_folder else None)
    assert seen == [map_process.WORKERS if with_folder else 0]
    assert not multiprocessing.active_children()  # ended with the failed run
    assert not (tmp_path / "out" / "yrd-enhanced").exists()


class Drawing:
    """A :class:`~gridcarbon.output.map_process.MapProcess` stand-in that notes its calls in ``order``."""

    def __init__(self, order: list[str], *, inline: bool):
        self.order, self.inline = order, inline

    def submit(self, draw, *args, **kwargs):
        self.order.append(draw.__name__)

    def close(self):
        pass


@pytest.mark.parametrize("inline, expected", [(False, ["render_year_maps", "write_layers"]),
                                              (True, ["write_layers", "render_year_maps"])])
def test_a_years_maps_go_to_the_workers_before_its_cogs_are_written(default_run, tmp_path, monkeypatch, inline,
                                                                     expected):
    """In workers, the maps are drawn while the COGs are written; drawn here (a large grid), after them."""
    order: list[str] = []
    monkeypatch.setattr(run_folder, "write_layers", lambda *a, **k: order.append("write_layers"))
    sc, year = default_run.scenario, default_run.scenario.years[0]
    layers = default_run.emissions["emission"].sel(year=year).transpose("sector", "y", "x").values
    with run_folder.RunWriter(tmp_path, sc, default_run.grid, default_run.boundaries, status="optimal", history=[],
                              drawing=Drawing(order, inline=inline)) as writer:
        writer.add(year, np.ascontiguousarray(layers))
        writer._wait()
    assert order == expected
