"""Fixtures of the evolution tests: the two-region grid and a toy base year on it.

The grid is :func:`gridcarbon.testing.two_region_grid`: regions A (west, columns 0-9) and
B (east, columns 10-19), 10 x 10 cells of 1 km each in EPSG:3857; flat cell = row * 20 + col.
"""
from __future__ import annotations

import numpy as np
import pytest

from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import GRIDDED, POINT_SECTORS
from gridcarbon.suitability.fitting import Suitability
from gridcarbon.testing import plant, toy_inventory, toy_landscape, two_region_grid


@pytest.fixture(scope="module")
def grid() -> Grid:
    g = two_region_grid()
    assert g.shape == (10, 20)
    assert (g.region_index[:, :10] == 0).all() and (g.region_index[:, 10:] == 1).all()
    return g


@pytest.fixture(scope="module")
def toy_base(grid):
    """A 2024 base year on ``grid``: (inventory, landscape, suitability).

    Two towns (built-up 0.6 around A's cell (2, 2) and B's cell (6, 15), 0.05 elsewhere),
    forest 0.2 on the southern rows 7-9, a wet western edge, land rising 30 m a row to the
    south, 5 Mt of storage in B's SE corner. Power plants P1 (A, built 2000), P2 (A, built
    1990), Q1 (B, built 2010) and a steel plant S1 (B) of 100 t CO2/yr each; area sectors
    follow people, GDP, cropland and forest. Every suitability surface falls away from the
    NW corner (no ties).
    """
    rows, cols = np.indices(grid.shape)
    built = np.full(grid.shape, 0.05)
    built[1:4, 1:4] = built[5:8, 14:17] = 0.6
    forest = np.where(rows >= 7, 0.2, 0.0)
    water = np.zeros(grid.shape)
    water[5:, 0] = 0.6
    storage = np.zeros(grid.shape)
    storage[9, 19] = 5.0
    crop = np.clip(1.0 - water - built - forest, 0.0, 1.0)
    land = toy_landscape(grid, built_up=built, forest=forest, water=water, elevation_m=30.0 * rows,
                         storage_mt=storage, population=1e4 * (built + 0.02), gdp=1e9 * (built + 0.02),
                         cropland=crop)
    layers = np.zeros((len(GRIDDED),) + grid.shape)
    layers[GRIDDED.index("other_industry")] = 1e-7 * land.gdp.values
    layers[GRIDDED.index("buildings")] = 1e-3 * land.population.values
    layers[GRIDDED.index("agriculture")] = 5.0 * crop
    layers[GRIDDED.index("forest_sink")] = -300.0 * forest * grid.cell_area_km2
    plants = [plant("P1", 2 * 20 + 2, built=2000), plant("P2", 7 * 20 + 4, built=1990),
              plant("Q1", 5 * 20 + 15, region="B", built=2010),
              plant("S1", 3 * 20 + 12, region="B", sector="steel")]
    inv = toy_inventory(grid, layers=layers, plants=plants)
    ramp = 0.9 - 0.6 * (rows + 1.1 * cols) / (rows.max() + 1.1 * cols.max())
    suitability = Suitability({}, {s: grid.cell_index.compact(ramp) for s in [*POINT_SECTORS, "urban"]})
    return inv, land, suitability
