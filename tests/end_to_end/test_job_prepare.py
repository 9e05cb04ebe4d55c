"""What ``job.prepare`` hands the coupling loop and the evolution."""
from dataclasses import fields

import numpy as np

from gridcarbon import job
from gridcarbon.evolution.areas import allowed_runs, urban_allowed
from gridcarbon.evolution.context import YEAR_LANDSCAPE
from gridcarbon.inventory.landscape import ECO_RESERVE_CELL, WATER_CELL
from gridcarbon.suitability.covariates import restricted


def test_a_run_carries_only_the_landscape_layers_it_reads(default_prepared):
    """The built landscape has more layers (MODIS groups, precipitation, arid share) than a run
    reads; the run keeps only those it reads, and its grid is the inventory's."""
    prep = default_prepared  # job.prepare of yrd-enhanced
    assert tuple(prep.area.landscape.data_vars) == job.RUN_LANDSCAPE
    assert prep.area.inventory.grid is prep.area.grid is prep.context.grid
    assert set(prep.suitability.surfaces) >= {"power", "steel", "cement", "urban"}


def test_the_context_holds_the_static_masks_not_elevation_and_reserves(default_prepared):
    """The year loop reads elevation and eco reserves only through two static masks, which the
    context holds instead of the layers (two float32 layers at 1 km: 0.21 GB): the cells that
    may be built up as their region runs, the barred cells as a boolean layer."""
    prep = default_prepared
    ctx, land = prep.context, prep.area.landscape
    assert tuple(ctx.landscape.data_vars) == YEAR_LANDSCAPE
    assert not {"elevation_m", "eco_reserve"} & set(ctx.landscape.data_vars)
    assert ctx.barred.dtype == bool and ctx.barred.shape == ctx.grid.shape
    assert np.array_equal(ctx.allowed, allowed_runs(urban_allowed(land), ctx.grid))
    index = ctx.grid.cell_index
    cells = np.zeros(index.size, bool)  # the runs are of positions in compact layers
    for start, stop, region in ctx.allowed.T:
        cells[start:stop] = True
        assert (ctx.grid.region_index.ravel()[index.cells[start:stop]] == region).all()
    assert np.array_equal(index.expand(cells), urban_allowed(land) & ctx.grid.inside)
    water, reserve = land.water.values > WATER_CELL, land.eco_reserve.values > ECO_RESERVE_CELL
    assert (reserve & ~water).any() and ctx.spec.relocate_from == ["urban_core", "eco_reserve"]
    assert np.array_equal(ctx.barred, water | reserve)
    built = land.built_up.values
    mask = restricted(ctx.barred, built_up=ctx.grid.cell_index.compact(built), index=ctx.grid.cell_index,
                      urban_core_threshold=0.5, relocate_from=["urban_core"])
    assert np.array_equal(mask, water | reserve | (built >= 0.5)) and mask is not ctx.barred


def test_the_forest_state_holds_zone_runs_not_a_label_layer(default_prepared):
    """The forest's base-year state holds no full layer: the forest and its open share are compact
    (one value per inside cell), the zone x region labels are held as their runs of compact
    positions (at 1 km a full int32 layer is 107 MB, a float64 one 214 MB)."""
    ctx = default_prepared.context
    forest, grid = ctx.forest, ctx.grid
    held = [f.name for f in fields(forest) if np.shape(getattr(forest, f.name)) == (grid.cell_index.size,)]
    assert held == ["forest0", "open_share"] and grid.cell_index.size < grid.shape[0] * grid.shape[1]
    assert not [f.name for f in fields(forest) if np.shape(getattr(forest, f.name)) == grid.shape]
    runs = forest.zone_runs
    assert runs.shape[0] == 3 and (runs[0, 1:] >= runs[1, :-1]).all() and (runs[2] >= 0).all()
    n_zones, n_regions = len(forest.uptake), len(grid.regions)
    cells = np.bincount(runs[2], weights=runs[1] - runs[0], minlength=n_zones * n_regions)
    assert 0 < cells.sum() <= grid.cell_index.size  # inside cells of a zone of the table
    want = cells.reshape(n_regions, n_zones).T * grid.cell_area_km2 * forest.uptake[:, None]
    assert np.allclose(forest.zone_sums(grid, np.ones(grid.cell_index.size)), want, rtol=1e-12)
