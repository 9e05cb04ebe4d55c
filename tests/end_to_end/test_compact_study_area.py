"""A large grid's study area holds its base-year inventory compact from the start (China at
1 km: 0.42 GB instead of 1.18 GB through the suitability fit, whose start was the run's peak);
the fit and the forest land read it to the same models, surfaces and sinks as full layers."""
from __future__ import annotations

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


def test_a_large_grids_preparation_hands_the_heap_back_between_its_stages(monkeypatch):
    """On a large grid the heap's free pages go back after the study area and after the fit
    (``job._between_stages``; the run does the same after the coupling and the evolution), so a
    stage starts from what is live; a small grid's preparation trims nothing."""
    from gridcarbon.core import memory

    events = []

    def noting(name, real):
        def call(*args, **kwargs):
            out = real(*args, **kwargs)
            events.append(name)
            return out
        return call
    monkeypatch.setattr(memory, "release", lambda cycles=False: events.append("release") or True)
    monkeypatch.setattr(job, "study_area", noting("study area", job.study_area))
    monkeypatch.setattr(job, "fit_suitability_surfaces", noting("fit", job.fit_suitability_surfaces))
    sc = job.resolve("yrd-enhanced")
    regions = job.scenario_regions(sc)
    with gridcarbon.set_options(large_grid_cells=0):  # the default grid, taken as large
        job.prepare(sc, None, regions)
    assert events == ["study area", "release", "fit", "release"]
    events.clear()
    job.prepare(sc, None, regions)
    assert events == ["study area", "fit"]
