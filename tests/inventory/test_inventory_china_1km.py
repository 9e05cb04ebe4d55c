"""The national baseline at 1 km (26.8 M cells) builds with windowed urban footprints and
keeps the 10 km region x sector totals; the windowed sums match numpy's full-grid sums."""
import numpy as np
import pandas as pd
import pytest

from gridcarbon.core.pairwise import window_grid_sum_f32
from gridcarbon.inputs.data import read_table
from gridcarbon.inventory.builtin import build_baseline, region_totals
from gridcarbon.inventory.landscape import urban_kernels
from gridcarbon.testing import yrd_grid


def test_urban_footprint_windows_sum_like_full_grid_layers():
    grid = yrd_grid(10_000)
    for rows, cols, k in urban_kernels(read_table("yrd_cities.csv"), grid):
        full = np.zeros(grid.shape, np.float32)
        full[rows, cols] = k
        assert window_grid_sum_f32(k, rows.start, cols.start, *grid.shape) == full.sum() > 0


@pytest.fixture(scope="module")
def china_1km():
    return build_baseline("china", res=1_000)


@pytest.mark.slow
def test_china_1km_keeps_the_10km_region_sector_totals(china_1km, china_baseline):
    fine, _ = china_1km
    coarse, _ = china_baseline  # build_baseline("china", res=10_000), made once per session
    assert fine.grid.coarsen_factor(coarse.grid) == 10 and fine.grid.shape == (5530, 4840)
    a = coarse.totals.set_index(["region", "sector"]).value_t
    b = fine.totals.set_index(["region", "sector"]).value_t.reindex(a.index)
    np.testing.assert_allclose(b.to_numpy(), a.to_numpy(), rtol=1e-9, atol=1.0)


@pytest.mark.slow
def test_china_1km_landscape_fractions_and_people(china_1km):
    inv, land = china_1km
    grid = inv.grid
    for name in ("water", "forest", "eco_reserve", "built_up", "cropland"):
        values = land[name].values
        assert values.min() >= 0.0 and values.max() <= 1.0, name
    built, land_share = land.built_up.values[grid.inside], 1.0 - land.water.values[grid.inside]
    # rural floor (to float32 resolution: 1 - water of a nearly all-water cell is coarse); dense city cores
    assert (built >= 0.0399 * land_share - 1e-6).all() and built.max() > 0.9
    expected = region_totals(read_table("china_cities.csv")).reindex(list(grid.regions))
    # a 27 M-cell grid stores its static layers in float32 (Grid.storage_dtype): sums to float32 precision
    assert grid.large and grid.storage_dtype is np.float32 and land.population.dtype == inv.emissions["emission"].dtype == np.float32
    np.testing.assert_allclose(grid.region_sums(land.population.values), expected.population, rtol=1e-6)
    np.testing.assert_allclose(grid.region_sums(land.gdp.values), expected.gdp, rtol=1e-6)
    # the stored sector layers sum to the exact (float64) inventory totals to float32 precision
    table = inv.totals[inv.totals.sector != "indirect"].set_index(["sector", "region"]).value_t
    sums = grid.region_sums(inv.emissions["emission"].values)
    stored = pd.Series(sums.ravel(), index=pd.MultiIndex.from_product([inv.emissions.sector.values, grid.regions]))
    np.testing.assert_allclose(stored.reindex(table.index), table, rtol=1e-6, atol=1.0)
    outside = ~grid.inside
    assert not land.population.values[outside].any()
    assert not inv.emissions["emission"].values[:, outside].any()
