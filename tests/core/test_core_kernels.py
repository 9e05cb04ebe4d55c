"""Numba kernels (gridcarbon.core.kernels) against the numpy expressions they replace."""
import numpy as np
import pytest

from gridcarbon.core.kernels import window_grid_sum_f32


@pytest.mark.parametrize("ny, nx", [(1, 7), (3, 50), (89, 80), (301, 257)])
def test_window_sum_is_numpys_full_grid_float32_sum(ny, nx):
    rng = np.random.default_rng(ny * nx)
    for _ in range(40):
        h, w = rng.integers(1, ny + 1), rng.integers(1, nx + 1)
        r0, c0 = rng.integers(0, ny - h + 1), rng.integers(0, nx - w + 1)
        win = (rng.random((h, w)) * 10.0 ** rng.integers(-3, 4)).astype(np.float32)
        full = np.zeros((ny, nx), np.float32)
        full[r0:r0 + h, c0:c0 + w] = win
        assert window_grid_sum_f32(win, r0, c0, ny, nx) == full.sum()
