"""Landscape layers read from rasters stay in the grid's storage dtype (gridcarbon.inventory.landscape)."""
from __future__ import annotations

import numpy as np

import gridcarbon
from gridcarbon.core.grid import Grid
from gridcarbon.inputs.regions import load_regions
from gridcarbon.inventory.builtin import builtin_landscape

AS_READ = ("storage_mt", "precipitation_mm", "arid_share")


def test_raster_layers_keep_the_storage_dtype_of_large_grids():
    with gridcarbon.set_options(large_grid_cells=0):  # this grid counts as large
        grid = Grid.from_regions(load_regions("yrd"), res=40_000.0)
        assert grid.storage_dtype is np.float32
        land = builtin_landscape("yrd", grid)
    for k in AS_READ:  # float32 as read, 0 outside the regions
        values = land[k].values
        assert values.dtype == np.float32 and not values[~grid.inside].any(), k
    assert land.precipitation_mm.values[grid.inside].all() and land.storage_mt.values.any()
    assert land.population.dtype == land.water.dtype == np.float64  # computed layers stay float64


def test_the_modis_groups_kept_are_copies_and_the_others_are_not_carried():
    """The landscape keeps layers of their own of the MODIS groups the model reads (grassland and
    shrub, the afforestation room's open land), so the compact land-cover stack of all groups
    (0.34 GB for China at 1 km) goes once the landscape is built; the other groups are not carried."""
    from gridcarbon.inputs.layers import land_cover_fractions
    from gridcarbon.inventory.landscape import EXTRA_COVER

    grid = Grid.from_regions(load_regions("yrd"), res=40_000.0)
    land = builtin_landscape("yrd", grid)
    cover = land_cover_fractions(grid)
    assert EXTRA_COVER == ("grassland", "shrub")
    assert not {"wetland", "barren", "snow_ice", "urban"} & set(land.data_vars)
    for group in EXTRA_COVER:
        values = land[group].values
        owner = values if values.base is None else values.base
        assert owner.nbytes == values.nbytes, group  # a buffer of its own, not a row of a stack
        want = np.where(grid.inside, cover[group].values, 0.0)
        assert np.array_equal(values, want), group
    assert land.grassland.values[grid.inside].any()  # the delta has grassland (and no MODIS shrub)
