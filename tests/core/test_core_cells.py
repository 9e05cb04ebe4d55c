"""The compact cell index (gridcarbon.core.cells): inside cells only, the rectangle made again on demand."""
from __future__ import annotations

import numpy as np
import pytest

from gridcarbon.core.cells import CellIndex
from gridcarbon.core.grid import Grid
from gridcarbon.testing import two_region_grid


def test_compact_and_expand_round_trip_a_layer_and_a_stack():
    rng = np.random.default_rng(3)
    mask = rng.uniform(size=(7, 9)) > 0.4
    index = CellIndex.of_mask(mask)
    assert index.size == mask.sum() and np.all(np.diff(index.cells) > 0)
    layer = np.where(mask, rng.uniform(size=mask.shape), 0.0).astype(np.float32)
    compact = index.compact(layer)
    assert compact.shape == (index.size,) and compact.dtype == np.float32
    assert np.array_equal(index.expand(compact), layer)
    stack = rng.normal(size=(3, 7, 9))
    back = index.expand(index.compact(stack), fill=-9999.0)
    assert np.array_equal(back[:, mask], stack[:, mask]) and (back[:, ~mask] == -9999.0).all()
    assert index.expand(compact, dtype=np.float64).dtype == np.float64


def test_positions_find_inside_cells_and_mark_the_others():
    mask = np.zeros((4, 5), bool)
    mask.flat[[1, 6, 7, 19]] = True
    index = CellIndex.of_mask(mask)
    assert index.positions(np.array([7, 1, 19, 6])).tolist() == [2, 0, 3, 1]
    assert index.positions(np.array([0, 2, 18, 20])).tolist() == [-1, -1, -1, -1]


def test_a_layer_of_another_shape_is_refused():
    index = CellIndex.of_mask(np.ones((3, 3), bool))
    with pytest.raises(ValueError, match="cell index"):
        index.compact(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="cell index"):
        index.expand(np.zeros(8))


def test_a_grid_index_holds_its_region_cells():
    grid = two_region_grid(6)
    index = grid.region_index.copy()
    index[:2, :3] = -1  # a corner outside every region
    grid = Grid(grid.crs, grid.res, grid.bounds, grid.regions, index)
    cells = grid.cell_index
    assert cells.size == int((index >= 0).sum()) and cells.shape == grid.shape
    assert np.array_equal(cells.cells, np.flatnonzero(index >= 0))
    assert np.array_equal(cells.expand(cells.compact(grid.region_index), fill=-1), grid.region_index)


def test_compact_region_sums_are_the_sums_of_the_expanded_layers_bit_for_bit():
    grid = two_region_grid(6)
    index = grid.region_index.copy()
    index[:2, :3] = -1  # a corner outside every region
    index[4, 2:5] = 1  # region B reaching into A's rows: several runs per row
    grid = Grid(grid.crs, grid.res, grid.bounds, grid.regions, index)
    rng = np.random.default_rng(8)
    stack = rng.lognormal(sigma=3.0, size=(3, *grid.shape))  # magnitudes whose sum depends on order
    compact = grid.cell_index.compact(stack)
    assert grid.compact_region_sums(compact).tobytes() == grid.region_sums(stack).tobytes()
    assert grid.compact_region_sums(compact[0]).tobytes() == grid.region_sums(stack[0]).tobytes()
    assert grid.compact_region_sums(compact).shape == (3, 2)
