"""numpy's float32 sum of a whole grid that is zero outside a window, at the window's cost (numba).

A city footprint's float32 weights (:mod:`gridcarbon.inventory.landscape`) are normalised by
their whole-grid float32 sum as numpy gives it, which rounds differently from a sum of the
window alone; :func:`window_grid_sum_f32` walks numpy's pairwise tree over the whole grid and
skips the blocks outside the window (their sum is an exact 0), so a 1 km national grid costs
the window's rows only.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from gridcarbon.core.jitahead import kernel

#: numpy's pairwise float32 summation, reproduced by :func:`window_grid_sum_f32`: blocks of
#: at most 128 values summed with 8 accumulators, halves cut at multiples of 8 (numpy
#: ``PW_BLOCKSIZE`` and the unrolled loop of its ``pairwise_sum``); 64 levels of halving
#: cover any array that fits in memory
_PW_BLOCK, _PW_UNROLL, _PW_DEPTH = 128, 8, 64


@njit(cache=True)
def _cells_before(i, r0, c0, h, w, nx):
    """Number of cells of the h x w window at (r0, c0) whose flat index is below i."""
    row, col = i // nx, i % nx
    part = min(max(col - c0, 0), w) if r0 <= row < r0 + h else 0
    return min(max(row - r0, 0), h) * w + part


@njit(cache=True)
def _window_value(win, r0, c0, nx, i):
    """Value of flat cell i of the grid holding the window ``win`` at (r0, c0), else 0."""
    row, col = i // nx - r0, i % nx - c0
    if 0 <= row < win.shape[0] and 0 <= col < win.shape[1]:
        return win[row, col]
    return np.float32(0.0)


@njit(cache=True)
def _block_sum_f32(win, r0, c0, nx, lo, n):
    """numpy's float32 sum of flat cells lo..lo+n-1 (n <= _PW_BLOCK: _PW_UNROLL accumulators); 0 if
    none is in the window."""
    h, w = win.shape
    if _cells_before(lo + n, r0, c0, h, w, nx) == _cells_before(lo, r0, c0, h, w, nx):
        return np.float32(0.0)
    res = np.float32(0.0)
    i = 0
    if n >= _PW_UNROLL:
        acc = np.empty(_PW_UNROLL, np.float32)
        for j in range(_PW_UNROLL):
            acc[j] = _window_value(win, r0, c0, nx, lo + j)
        i = _PW_UNROLL
        while i < n - n % _PW_UNROLL:
            for j in range(_PW_UNROLL):
                acc[j] += _window_value(win, r0, c0, nx, lo + i + j)
            i += _PW_UNROLL
        res = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
    for k in range(lo + i, lo + n):
        res += _window_value(win, r0, c0, nx, k)
    return res


@kernel
def window_grid_sum_f32(win, r0, c0, ny, nx):
    """Float32 sum of a (ny, nx) grid that is 0 outside the window ``win`` at (r0, c0).

    Bit-identical to numpy's ``sum`` of the whole grid: the same pairwise tree (halves cut
    at multiples of 8 down to blocks of 128: :data:`_PW_UNROLL`, :data:`_PW_BLOCK`), walked
    with a stack and skipping blocks outside the window (their sum is an exact 0), so the
    cost is the window's rows only.
    """
    h, w = win.shape
    lo = np.zeros(_PW_DEPTH, np.int64)
    n = np.zeros(_PW_DEPTH, np.int64)
    step = np.zeros(_PW_DEPTH, np.int64)  # 0: not entered, 1: left half summed, 2: both halves summed
    left = np.zeros(_PW_DEPTH, np.float32)
    n[0] = ny * nx
    res = np.float32(0.0)
    d = 0
    while d >= 0:
        half = n[d] // 2 - (n[d] // 2) % _PW_UNROLL
        if step[d] == 0 and n[d] > _PW_BLOCK and (_cells_before(lo[d] + n[d], r0, c0, h, w, nx)
                                                  > _cells_before(lo[d], r0, c0, h, w, nx)):
            step[d] = 1
            lo[d + 1], n[d + 1], step[d + 1] = lo[d], half, 0
            d += 1
        elif step[d] == 1:
            left[d], step[d] = res, 2
            lo[d + 1], n[d + 1], step[d + 1] = lo[d] + half, n[d] - half, 0
            d += 1
        else:
            res = left[d] + res if step[d] == 2 else _block_sum_f32(win, r0, c0, nx, lo[d], n[d])
            d -= 1
    return res
