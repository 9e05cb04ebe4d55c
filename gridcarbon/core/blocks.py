"""numpy's k x k block sums of a layer over its inside cells, in one pass (numba).

A COG's sum overviews (:mod:`gridcarbon.output.overviews`) and a map's display blocks
(:mod:`gridcarbon.output.maps`) sum each k x k block of a layer's inside cells. numpy does it as
``padded.reshape(my, k, mx, k).sum(axis=(1, 3))`` on a zero-padded copy with the outside cells
zeroed: two full copies and a strided reduction (China at 1 km: 0.5-0.7 s a layer, 0.24 s here).
:func:`block_sums` reads the layer once, row by row, and adds the same numbers in numpy's order,
so the sums are the same bits: each block's part of a row is summed from zero by numpy's
pairwise rule (one accumulator below :data:`_PW_UNROLL` values, eight from there to
:data:`_PW_BLOCK`), and the block's rows are added one by one to a zero. numpy takes that order
only while the blocks are more than one to a row (``mx > 1``; a single column of blocks is one
contiguous run that numpy sums whole): :func:`numpy_order` says when.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from gridcarbon.core.jitahead import kernel
from gridcarbon.core.pairwise import _PW_BLOCK, _PW_UNROLL


def numpy_order(shape: tuple[int, int], k: int) -> bool:
    """Whether :func:`block_sums` adds k x k blocks of a ``shape`` (y, x) layer in numpy's order."""
    return 1 < k <= _PW_BLOCK and -(-shape[1] // k) > 1


def inside_block_sums(values: np.ndarray, inside: np.ndarray, k: int, dtype) -> tuple[np.ndarray, np.ndarray]:
    """Sums (in ``dtype``, the values' unit per block) and counts of the ``inside`` cells of each
    k x k block of the (y, x) ``values``: what numpy's padded reshape-and-sum gives, by
    :func:`block_sums` where :func:`numpy_order` holds, else by numpy itself."""
    ny, nx = values.shape
    shape = (-(-ny // k), -(-nx // k))
    if numpy_order(values.shape, k):
        sums, counts = np.empty(shape, dtype), np.empty(shape, np.int64)
        block_sums(np.ascontiguousarray(values), np.ascontiguousarray(inside), k, sums, counts)
        return sums, counts
    padded = np.zeros((shape[0] * k, shape[1] * k), dtype)
    np.copyto(padded[:ny, :nx], values, where=inside)  # one padded copy, the outside cells 0
    holds = np.zeros(padded.shape, np.int64)
    holds[:ny, :nx] = inside
    blocks = (shape[0], k, shape[1], k)
    return padded.reshape(blocks).sum(axis=(1, 3)), holds.reshape(blocks).sum(axis=(1, 3))


@njit(cache=True)
def _row_part(values, inside, i, j0, k, zero, acc):
    """numpy's pairwise sum of the inside cells of row ``i`` from column ``j0`` (k of them, cells
    past the row's end and outside adding ``zero``, whose type is the sum's), and their count;
    ``acc``: _PW_UNROLL accumulators of that type, overwritten."""
    nx = values.shape[1]
    res, n, u = zero, 0, 0
    if k >= _PW_UNROLL:
        for w in range(_PW_UNROLL):
            j = j0 + w
            acc[w] = values[i, j] if j < nx and inside[i, j] else zero
        u = _PW_UNROLL
        while u < k - k % _PW_UNROLL:
            for w in range(_PW_UNROLL):
                j = j0 + u + w
                acc[w] += values[i, j] if j < nx and inside[i, j] else zero
            u += _PW_UNROLL
        res = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
    for w in range(u, k):
        j = j0 + w
        if j < nx:
            res += values[i, j] if inside[i, j] else zero
    for j in range(j0, min(j0 + k, nx)):
        n += inside[i, j]
    return res, n


@njit(cache=True)
def _short_row_part(values, inside, i, j0, k, zero):
    """:func:`_row_part` of a block inside the row (j0 + k <= row length) and k < _PW_UNROLL: one
    accumulator, no bounds to check."""
    res, n = zero, 0
    for j in range(j0, j0 + k):
        m = inside[i, j]
        res += values[i, j] if m else zero
        n += m
    return res, n


@kernel
def block_sums(values, inside, k, sums, counts):
    """Sum (into ``sums``, whose dtype is the accumulator's) and count (into ``counts``) of the
    ``inside`` cells of each k x k block of the (y, x) ``values``; cells outside or past the
    layer's edge add 0. ``sums`` and ``counts`` are (ceil(y / k), ceil(x / k)), filled here;
    the sums are numpy's bits where :func:`numpy_order` holds (the rows of zeros numpy pads the
    last block row with add nothing: a block's sum starts at +0, which adding zeros keeps)."""
    nx = values.shape[1]
    acc = np.zeros(_PW_UNROLL, sums.dtype)
    zero = acc[0]
    sums[:] = zero
    counts[:] = 0
    whole = nx // k if k < _PW_UNROLL else 0  # blocks read without bounds checks
    for i in range(values.shape[0]):
        bi = i // k
        for bj in range(whole):
            part, n = _short_row_part(values, inside, i, bj * k, k, zero)
            sums[bi, bj] += part
            counts[bi, bj] += n
        for bj in range(whole, sums.shape[1]):
            part, n = _row_part(values, inside, i, bj * k, k, zero, acc)
            sums[bi, bj] += part
            counts[bi, bj] += n
