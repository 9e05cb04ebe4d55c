"""A large grid's study area holds its base-year inventory compact from the start (China at
1 km: 0.42 GB instead of 1.18 GB through the suitability fit, whose start was the run's peak);
the fit and the forest land read it to the same models, surfaces and sinks as full layers."""
from __future__ import annotations

import pytest

import gridcarbon
from gridcarbon import job
from gridcarbon.evolution.forest import ForestLand
from gridcarbon.inventory.base import Inventory
from gridcarbon.inventory.builtin import build_baseline


def test_a_large_grids_study_area_is_compact_and_fits_what_full_layers_fit(monkeypatch):
    sc = job.resolve("yrd-enhanced")
    regions = job.scenario_regions(sc)
    with gridcarbon.set_options(large_grid_cells=0):  # the default grid, taken as large
        compact = job.prepare(sc, None, regions)
        with monkeypatch.context() as m:  # the layers built and kept as rectangles
            m.setattr(Inventory, "compacted", lambda self: self)
            m.setattr(job, "build_baseline", lambda *args, **kwargs: build_baseline(*args, **{**kwargs, "compact": False}))
            full = job.prepare(sc, None, regions)
    grid, inv, rect = compact.area.grid, compact.area.inventory, full.area.inventory
    assert inv.layers().shape == (rect.layers().shape[0], grid.cell_index.size) and rect.layers().ndim == 3
    assert inv.layers().tobytes() == grid.cell_index.compact(rect.layers()).tobytes()
    # the same covariates and layers: the same forests, AUCs and surfaces, bit for bit
    assert compact.suitability.summary() == full.suitability.summary()
    for sector, surface in full.suitability.surfaces.items():
        assert compact.suitability.surfaces[sector].tobytes() == surface.tobytes(), sector
    for sector in ("forest_sink", "power"):
        assert inv.region_sums(sector).tobytes() == rect.region_sums(sector).tobytes()
    land = compact.area.landscape
    assert ForestLand.build(inv, land).base_sink.tobytes() == ForestLand.build(rect, land).base_sink.tobytes()
    assert compact.context.forest.base_sink.tobytes() == full.context.forest.base_sink.tobytes()


@pytest.fixture
def heap_events(monkeypatch):
    """What the run asks of the heap, in order (``release``, ``map``, ``reuse``), none of it done."""
    from gridcarbon.core import memory

    events = []
    monkeypatch.setattr(memory, "release", lambda cycles=False: events.append("release") or True)
    monkeypatch.setattr(memory, "map_large_blocks", lambda: events.append("map") or True)
    monkeypatch.setattr(memory, "reuse_freed_blocks", lambda: events.append("reuse") or True)
    return events


def test_a_large_grids_preparation_hands_the_heap_back_between_its_stages(monkeypatch, heap_events):
    """On a large grid the heap reuses freed blocks from the start, and its free pages go back
    after the study area and after the fit (``job._between_stages``), so a stage starts from
    what is live; a small grid's preparation asks nothing of the heap."""
    events = heap_events

    def noting(name, real):
        def call(*args, **kwargs):
            out = real(*args, **kwargs)
            events.append(name)
            return out
        return call
    monkeypatch.setattr(job, "study_area", noting("study area", job.study_area))
    monkeypatch.setattr(job, "fit_suitability_surfaces", noting("fit", job.fit_suitability_surfaces))
    sc = job.resolve("yrd-enhanced")
    regions = job.scenario_regions(sc)
    with gridcarbon.set_options(large_grid_cells=0):  # the default grid, taken as large
        job.prepare(sc, None, regions)
    assert events == ["reuse", "study area", "release", "fit", "release"]
    events.clear()
    job.prepare(sc, None, regions)
    assert events == ["study area", "fit"]


def test_the_runs_end_maps_large_blocks_again(heap_events):
    """Between two stages of a large grid the heap is trimmed; before the run's end (the last
    year's export, the result and the finish) it also maps its large blocks afresh again; a
    small grid asks nothing."""
    grid = job.Grid.from_regions(job.scenario_regions(job.resolve("yrd-enhanced")), res=10_000)
    with gridcarbon.set_options(large_grid_cells=0):
        job._between_stages(grid)
        job._between_stages(grid, mapped=True)
    job._between_stages(grid, mapped=True)
    assert heap_events == ["release", "release", "map"]
