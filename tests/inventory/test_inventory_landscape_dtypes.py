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
