"""Area-source evolution (gridcarbon.evolution.areas): the urban automaton and the numba
land-use kernels, on the two-region grid of ``conftest.py`` (afforestation: test_forest_*.py)."""
from __future__ import annotations

import numpy as np
import pytest

from gridcarbon.evolution.areas import grow_urban


def test_grow_urban_follows_probability_and_respects_constraints(grid):
    rows, cols = np.indices(grid.shape)
    prob = 0.05 + 0.9 * np.random.default_rng(3).uniform(size=grid.shape)
    prob[2, 2] = 0.999  # the most probable allowed, dry cell
    prob[7, 7] = 0.998  # nearly as probable but mostly water
    prob[0:2, 5:9] = 1.0  # the most probable of all, but disallowed (eco reserve)
    allowed = np.ones(grid.shape, bool)
    allowed[0:2, 5:9] = False
    water = np.zeros(grid.shape)
    water[7, 7] = 0.97
    built = np.zeros(grid.shape)
    built[:, 12:] = 0.2  # B already holds 16 cells' worth (away from A's edge: no neighbour effect in A)
    demand = np.array([5.0, 10.0])  # A grows by 5 cells' worth; B's demand is below what it has
    out = grow_urban(built, demand, prob, allowed, water, grid)
    inc = out - built
    assert (inc >= 0).all()
    assert (inc[~allowed] == 0).all()
    assert (out <= 1.0 - water + 1e-12).all()
    assert inc[7, 7] <= 0.03 + 1e-12
    assert grid.region_sums(out)[0] == pytest.approx(5.0, rel=1e-9)
    assert np.array_equal(out[:, 10:], built[:, 10:])  # no need in B: unchanged
    a = (grid.region_index == 0) & allowed & (water == 0)
    assert np.unravel_index(np.argmax(np.where(a, inc, -1)), grid.shape) == (2, 2)
    # with no built-up neighbours the increment is proportional to probability on dry cells
    ratio = inc[a] / prob[a]
    assert ratio == pytest.approx(np.full(ratio.shape, ratio.mean()), rel=1e-9)


def test_grow_urban_reaches_large_demand_when_room_allows(grid):
    prob = np.random.default_rng(4).uniform(0.01, 1.0, size=grid.shape)
    allowed = np.ones(grid.shape, bool)
    allowed[5:, 0:4] = False  # 20 cells barred
    water = np.zeros(grid.shape)
    water[0, :] = 0.5  # 10 cells half water in A
    built = np.zeros(grid.shape)
    built[3:6, 3:6] = 0.6
    # A's room: 100 cells - 20 barred - 5 water - 0.6 x 9 built, minus 1 x 2 overlap... ~70; ask 50
    room = np.where((grid.region_index == 0) & allowed, np.clip(1 - water - built, 0, None), 0).sum()
    demand = np.array([built[:, :10].sum() + 0.75 * room, 0.0])
    out = grow_urban(built, demand, prob, allowed, water, grid)
    assert grid.region_sums(out)[0] == pytest.approx(demand[0], rel=1e-9)
    assert (out <= 1.0 - water + 1e-12).all() and (out >= built).all()
    assert (out[~allowed] == built[~allowed]).all()


@pytest.mark.parametrize("shape", [(1, 1), (1, 6), (6, 1), (2, 2), (7, 9), (61, 47)])
def test_land_kernels_match_the_numpy_and_scipy_formulas_bit_for_bit(shape):
    """The numba land-use kernels replace numpy / scipy expressions without changing a bit."""
    from scipy import ndimage

    from gridcarbon.core import regionkernels

    rng = np.random.default_rng(shape[0] * 100 + shape[1])
    values = rng.uniform(size=shape) * 10.0 ** rng.integers(-4, 4, size=shape)
    assert np.array_equal(regionkernels.uniform3(values), ndimage.uniform_filter(values, size=3, mode="constant"))
    forest = rng.uniform(0, 0.6, size=shape)
    region = rng.integers(-1, 3, size=values.size)
    frac = rng.uniform(size=3)
    assert np.array_equal(regionkernels.add_region_share(region, forest.ravel(), values.ravel(), frac),
                          forest.ravel() + np.where(region >= 0, values.ravel() * frac[np.maximum(region, 0)], 0.0))
