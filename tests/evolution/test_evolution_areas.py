"""Area-source evolution (gridcarbon.evolution.areas): the urban automaton and the numba
land-use kernels, on the two-region grid of ``conftest.py`` (afforestation: test_forest_*.py)."""
from __future__ import annotations

import numpy as np
import pytest

from gridcarbon.evolution.areas import allowed_runs, grow_urban


def _grow(grid, built, demand, prob, allowed, water):
    """:func:`grow_urban` of full (y, x) layers, on the grid's compact cells, expanded again."""
    index = grid.cell_index
    out = grow_urban(index.compact(built), demand, index.compact(prob), allowed_runs(allowed, grid),
                     index.compact(water), grid)
    return index.expand(out)


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
    out = _grow(grid, built, demand, prob, allowed, water)
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
    out = _grow(grid, built, demand, prob, allowed, water)
    assert grid.region_sums(out)[0] == pytest.approx(demand[0], rel=1e-9)
    assert (out <= 1.0 - water + 1e-12).all() and (out >= built).all()
    assert (out[~allowed] == built[~allowed]).all()


def _bits(a: np.ndarray) -> np.ndarray:
    """The bytes of ``a``: equal arrays with other signed zeros differ."""
    return np.ascontiguousarray(a).view(np.uint8)


@pytest.mark.parametrize("inside", [1.0, 0.6, 0.0])
@pytest.mark.parametrize("land", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(1, 1), (1, 6), (6, 1), (2, 2), (3, 3), (7, 9), (61, 47)])
def test_land_kernels_match_the_numpy_and_scipy_formulas_bit_for_bit(shape, land, inside):
    """The numba land-use kernels replace numpy / scipy expressions without changing a bit, on
    float64 land and on a large grid's float32 landscape (water, base-year forest, probability);
    the urban drive on the compact cells of a grid of which a share ``inside`` is held (land
    elsewhere 0, as a landscape's outside its regions) equals the full filter's at those cells."""
    from scipy import ndimage

    from gridcarbon.core import regionkernels
    from gridcarbon.core.cells import CellIndex, label_runs

    rng = np.random.default_rng(shape[0] * 100 + shape[1])
    index = CellIndex.of_mask(rng.uniform(size=shape) < inside)
    built = rng.uniform(size=shape) * 10.0 ** rng.integers(-4, 1, size=shape)
    built[rng.uniform(size=shape) < 0.2] = 0.0
    prob = rng.uniform(size=shape).astype(land)
    held = index.expand(index.compact(built))  # 0 outside the index
    want = ndimage.uniform_filter(held, size=3, mode="constant")
    want += 0.3
    want *= prob
    got = regionkernels.urban_drive(index.cells, *shape, index.compact(held), 0.3, index.compact(prob))
    assert np.array_equal(_bits(got), _bits(index.compact(want)))
    water = np.where(rng.uniform(size=shape) < 0.3, rng.uniform(size=shape), 0.0).astype(land)
    water[rng.uniform(size=shape) < 0.1] = 1.0
    forest0 = np.clip(rng.uniform(-0.2, 0.7, size=shape), 0.0, None).astype(land)
    forest = np.maximum(forest0 + rng.uniform(-0.2, 0.2, size=shape), 0.0)
    free = 1.0 - water - built
    left = np.minimum(forest, np.clip(free, 0.0, 1.0, out=free), out=free)
    got = regionkernels.forest_left(forest.ravel(), water.ravel(), built.ravel(), water.dtype.type(1.0))
    assert np.array_equal(_bits(got), _bits(left.ravel()))
    open_share = rng.uniform(size=shape)
    labels = rng.integers(-1, 4, size=shape).astype(np.int32)
    runs, flat = label_runs(labels), (open_share.ravel(), forest0.ravel(), water.ravel(), built.ravel())
    for now in (forest, forest0):  # a year's float64 forest, and the base year's own land
        room = np.empty(now.size)
        regionkernels.forest_room(*flat, now.ravel(), room)
        sums = regionkernels.region_sums(runs, room[None], 4)[0]
        assert np.array_equal(_bits(regionkernels.room_sums(runs, *flat, now.ravel(), 4)), _bits(sums))
        frac = rng.uniform(size=4)
        planted = np.where(labels.ravel() >= 0, now.ravel() + room * frac[np.maximum(labels.ravel(), 0)], now.ravel())
        assert np.array_equal(_bits(regionkernels.plant_room(runs, *flat, now.ravel(), frac)), _bits(planted))
        added = np.subtract(now, forest0)
        np.maximum(added, 0.0, out=added)
        added += room.reshape(shape)
        like = np.empty(1, added.dtype)
        stands = regionkernels.stand_sums(runs, *flat, now.ravel(), 4, like)
        assert np.array_equal(_bits(stands), _bits(regionkernels.region_sums(runs, added.reshape(1, -1), 4)[0]))
