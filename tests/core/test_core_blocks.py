"""The one-pass k x k block sums give numpy's bits: COG overviews and map blocks as before."""
import numpy as np
import pytest

import gridcarbon
from gridcarbon.core.blocks import block_sums, numpy_order
from gridcarbon.output import maps
from gridcarbon.output.overviews import block_sums_by_level


def _numpy(values, inside, k, dtype):
    """The block sums and counts as numpy makes them (the expressions the kernel replaced)."""
    ny, nx = values.shape
    pad = ((0, -ny % k), (0, -nx % k))
    shape = ((ny + pad[0][1]) // k, k, (nx + pad[1][1]) // k, k)
    padded = np.zeros((ny + pad[0][1], nx + pad[1][1]), dtype)
    np.copyto(padded[:ny, :nx], values, where=inside)
    return padded.reshape(shape).sum(axis=(1, 3)), np.pad(inside, pad).reshape(shape).sum(axis=(1, 3))


def _layer(rng, shape, dtype):
    """Values over 12 decades with signed zeros and NaN outside, and an inside mask."""
    values = (rng.standard_normal(shape) * 10.0 ** rng.integers(-6, 6, shape)).astype(dtype)
    values[rng.random(shape) < 0.3] = -0.0
    values[rng.random(shape) < 0.2] = 0.0
    inside = rng.random(shape) < 0.7
    values[~inside & (rng.random(shape) < 0.5)] = np.nan
    return values, inside


@pytest.mark.parametrize("k", [2, 3, 6, 8, 9, 12, 17, 40])
@pytest.mark.parametrize("dtype, acc", [(np.float32, np.float64), (np.float64, np.float64), (np.float32, np.float32)])
def test_block_sums_are_numpys_bits(k, dtype, acc):
    rng = np.random.default_rng(k)
    for _ in range(6):
        shape = tuple(int(n) for n in rng.integers(k + 1, 6 * k, 2))  # blocks cut by both edges too
        values, inside = _layer(rng, shape, dtype)
        assert numpy_order(shape, k)
        want, count = _numpy(values, inside, k, acc)
        sums, counts = np.empty(want.shape, acc), np.empty(want.shape, np.int64)
        block_sums(values, inside, k, sums, counts)
        assert sums.tobytes() == want.tobytes()  # -0.0 and +0.0 told apart
        np.testing.assert_array_equal(counts, count)


def test_one_block_wide_layers_are_left_to_numpy():
    """numpy sums a single column of blocks as one contiguous run, in another order."""
    assert not numpy_order((40, 6), 6) and not numpy_order((40, 12), 12) and numpy_order((40, 13), 12)
    assert not numpy_order((40, 400), 200)  # wider than numpy's pairwise block


def test_overview_levels_and_map_blocks_keep_numpys_sums():
    """Overview levels (float32 and float64 layers, down to one block wide) and a map's display
    blocks are the sums numpy's expressions give."""
    rng = np.random.default_rng(5)
    for dtype in (np.float32, np.float64):
        values, inside = _layer(rng, (203, 117), dtype)
        total, holds = values, inside
        for level in block_sums_by_level(values, inside, [2, 4, 8, 16, 32, 64, 128]):
            total, count = _numpy(np.where(holds, total, 0.0), holds, 2, np.float64)
            holds = count > 0
            assert np.where(holds, total, np.nan).tobytes() == level.tobytes()
        with gridcarbon.set_options(max_display_cells=30):
            shown, shown_inside = maps._display(values, inside)
        want, count = _numpy(values, inside, 7, np.result_type(dtype, 0.0))
        assert shown.tobytes() == (want / np.maximum(count, 1)).tobytes()
        np.testing.assert_array_equal(shown_inside, count > 0)
