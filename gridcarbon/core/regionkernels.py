"""The numba kernels a run calls over a grid's regions and land: region sums, proxy spreading,
scaling by region, the urban CA's steps and the forest's room and sums. Arrays in, arrays
out, no CRS and no units; fractions are of a cell's area.

The per-region kernels walk the *region runs* of a label array
(:func:`~gridcarbon.core.cells.label_runs`: start, stop and label of each run of consecutive
cells of one label, in flat order) and never read the cells outside; each run is summed in a
local accumulator, the same additions in the same order as adding cell by cell into the
region's sum. Kernels called from Python are :func:`~gridcarbon.core.jitahead.kernel`,
helpers only other kernels call ``njit``.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from gridcarbon.core.jitahead import kernel

#: remaining need (sum of fractions) below which :func:`fill_room` stops early: float noise
_NEED_TOL = 1e-12
#: guard against division by an all-zero normaliser
_TINY = 1e-300


# ---------------------------------------------------------------- region totals
@kernel
def region_sums(runs, values, n_regions):
    """Sum (n_layers, n_cells) ``values`` per region, in cell order: ``runs`` (3, n_runs) holds
    the start, stop and region of each run of cells of one region (:func:`~gridcarbon.core.cells.label_runs`),
    so cells outside every region are never read. Each run is summed in a local accumulator:
    the same additions in the same order as adding cell by cell into the region's sum."""
    out = np.zeros((values.shape[0], n_regions))
    for k in range(values.shape[0]):
        for j in range(runs.shape[1]):
            r = runs[2, j]
            acc = out[k, r]
            for i in range(runs[0, j], runs[1, j]):
                acc += values[k, i]
            out[k, r] = acc
    return out


@kernel
def min_region_sums(runs, a, b, n_regions):
    """Sum of ``min(a, b)`` (two flat layers, cell by cell) per region, in cell order: what
    :func:`region_sums` gives of ``np.minimum(a, b)`` (computed in the wider of the two dtypes),
    without that layer. ``runs`` are the region runs of :func:`region_sums`."""
    out = np.zeros(n_regions)
    for j in range(runs.shape[1]):
        r = runs[2, j]
        acc = out[r]
        for i in range(runs[0, j], runs[1, j]):
            acc += np.minimum(a[i], b[i])
        out[r] = acc
    return out


@kernel
def spread_by_proxy(runs, proxy, totals, out, fallback):
    """Fill ``out`` with each cell's share of its region's total, in proportion to ``|proxy|``.

    ``runs`` are the region runs of :func:`region_sums`. Where a region's proxy sums to <= 0
    the share follows ``fallback`` (when it has cells), else it is even; 0 outside regions.
    Sums run in cell order, as in :func:`region_sums`; ``out`` may be float32 (values are
    computed in float64). A fourth row of ``runs``, when there is one, holds where each run's
    cells go in ``out`` (a compact ``out``, the inside cells alone: the starts of
    :attr:`~gridcarbon.core.grid.Grid.compact_runs`), and a fifth where they are in ``fallback``
    (:meth:`~gridcarbon.core.grid.Grid.spread_runs`: each layer full or compact); the values are
    the same, bit for bit.
    """
    n = totals.size
    sums, backup, counts = np.zeros(n), np.zeros(n), np.zeros(n, np.int64)
    for j in range(runs.shape[1]):
        r = runs[2, j]
        acc = sums[r]
        for i in range(runs[0, j], runs[1, j]):
            acc += abs(proxy[i])
        sums[r] = acc
        counts[r] += runs[1, j] - runs[0, j]
    at = runs[3] if runs.shape[0] > 3 else runs[0]
    fat = runs[4] if runs.shape[0] > 4 else runs[0]
    if fallback.size:
        for j in range(runs.shape[1]):
            r = runs[2, j]
            if sums[r] <= 0:
                acc = backup[r]
                for i in range(fat[j], fat[j] + runs[1, j] - runs[0, j]):
                    acc += fallback[i]
                backup[r] = acc
    done = 0
    for j in range(runs.shape[1]):
        r, start, stop, to = runs[2, j], runs[0, j], runs[1, j], at[j] - runs[0, j]
        for i in range(done, at[j]):
            out[i] = 0.0
        done = stop + to
        if sums[r] > 0:
            for i in range(start, stop):
                out[i + to] = (abs(proxy[i]) / sums[r]) * totals[r]
        elif backup[r] > 0:
            back = fat[j] - start
            for i in range(start, stop):
                out[i + to] = (fallback[i + back] / backup[r]) * totals[r]
        else:
            for i in range(start, stop):
                out[i + to] = (1.0 / max(counts[r], 1)) * totals[r]
    for i in range(done, out.size):
        out[i] = 0.0


# ------------------------------------------------------------------- land use
@kernel
def urban_drive(cells, ny, nx, built, offset, weight):
    """The urban CA's drive, ``(mean3(built) + offset) x weight``, at the cells of a compact
    layer: ``built`` and ``weight`` hold the values of the flat ``cells`` (ascending) of a
    (``ny``, ``nx``) grid, 0 elsewhere. Bit for bit ``(scipy.ndimage.uniform_filter(full, 3,
    mode="constant") + offset) * weight`` of their expanded layers at those cells (the filter's
    running sums, rows then columns; ``weight`` of any float dtype): each row's vertical means are
    made in one row's buffer just before its horizontal pass, from the rows it adds and drops."""
    rows = np.empty(ny + 1, np.int64)  # where each row's cells start in the compact layers
    p = 0
    for r in range(ny + 1):
        while p < cells.size and cells[p] < r * nx:
            p += 1
        rows[r] = p
    run, down = np.zeros(nx), np.empty(nx)
    both = np.empty((2, nx))  # the row the sums add, and the row they drop (the first row: its own and the next)
    out = np.empty(cells.size)
    for r in range(ny):
        for q in range(2):
            row = (r + 1 if r > 0 else 0) if q == 0 else (r - 2 if r > 0 else 1)
            for c in range(nx):
                both[q, c] = 0.0
            if 0 <= row < ny:  # a row off the grid is all 0
                for i in range(rows[row], rows[row + 1]):
                    both[q, cells[i] - row * nx] = built[i]
        for c in range(nx):
            if r == 0:
                run[c] = (0.0 + both[0, c]) + both[1, c]
            else:
                run[c] += both[0, c] - both[1, c]
        for c in range(nx):
            down[c] = run[c] / 3.0
        p, acc = rows[r], (0.0 + down[0]) + (down[1] if nx > 1 else 0.0)
        for c in range(nx):
            if c > 0:
                acc += (down[c + 1] if c + 1 < nx else 0.0) - (down[c - 2] if c >= 2 else 0.0)
            if p < rows[r + 1] and cells[p] == r * nx + c:
                out[p] = (acc / 3.0 + offset) * weight[p]
                p += 1
    return out


@kernel
def forest_left(forest, water, built, one):
    """The forest (fractions) the land leaves beside ``water`` and ``built``, cell by cell, in a
    new layer: bit for bit numpy's ``np.minimum(forest, np.clip(1.0 - water - built, 0.0, 1.0))``,
    whose ``1.0 - water`` is made in water's dtype (``one`` is 1 in it)."""
    out = np.empty(forest.size)
    for i in range(forest.size):
        free = (one - water[i]) - built[i]
        out[i] = np.minimum(forest[i], np.minimum(np.maximum(free, 0.0), 1.0))
    return out


@njit(cache=True)
def _forest_room_at(open_share, forest0, water, built, forest, i):
    """:func:`forest_room` of cell ``i``."""
    kept = min(forest[i], forest0[i])
    added = max(forest[i] - forest0[i], 0.0)
    return max(open_share[i] * (1.0 - water[i] - built[i] - kept) - added, 0.0)


@kernel
def forest_room(open_share, forest0, water, built, forest, out):
    """Room for new forest cell by cell (fractions): ``open_share`` of the land neither water,
    built-up nor base-year forest (``forest0``) still standing, less the forest added since
    (``forest - forest0``, if positive), at least 0."""
    for i in range(out.size):
        out[i] = _forest_room_at(open_share, forest0, water, built, forest, i)


@kernel
def room_sums(runs, open_share, forest0, water, built, forest, n_labels):
    """:func:`region_sums` of :func:`forest_room` over the label ``runs``, without its layer."""
    out = np.zeros(n_labels)
    for j in range(runs.shape[1]):
        r = runs[2, j]
        acc = out[r]
        for i in range(runs[0, j], runs[1, j]):
            acc += _forest_room_at(open_share, forest0, water, built, forest, i)
        out[r] = acc
    return out


@kernel
def plant_room(runs, open_share, forest0, water, built, forest, frac):
    """``forest + room x frac[region]`` cell by cell (room: :func:`forest_room`) over the region
    ``runs`` (:func:`region_sums`), ``forest`` alone elsewhere, in a new float64 layer."""
    out = np.empty(forest.size)
    for i in range(forest.size):
        out[i] = forest[i]
    for j in range(runs.shape[1]):
        f = frac[runs[2, j]]
        for i in range(runs[0, j], runs[1, j]):
            out[i] = forest[i] + _forest_room_at(open_share, forest0, water, built, forest, i) * f
    return out


@kernel
def stand_sums(runs, open_share, forest0, water, built, forest, n_labels, like):
    """:func:`region_sums` over the label ``runs`` of the stands a land holds: the forest added
    since the base year (``forest - forest0``, at least 0) plus the room left
    (:func:`forest_room`), bit for bit numpy's ``added = np.maximum(forest - forest0, 0.0);
    added += room`` in the dtype of ``forest - forest0`` (``like``, one element of it: a float32
    land's stands are rounded to float32 as numpy's in-place sum rounds them)."""
    out = np.zeros(n_labels)
    for j in range(runs.shape[1]):
        r = runs[2, j]
        acc = out[r]
        for i in range(runs[0, j], runs[1, j]):
            like[0] = forest[i] - forest0[i]
            like[0] = max(like[0], 0.0) + _forest_room_at(open_share, forest0, water, built, forest, i)
            acc += like[0]
        out[r] = acc
    return out


@kernel
def scale_by_region(runs, values, scale):
    """``values`` (flat) times the ``scale`` of their region, in place: cells of the region
    ``runs`` (:func:`region_sums`) times their run's region's scale, the cells outside times 0
    (what ``values *= np.where(inside, scale[region], 0.0)`` gives, without its index and
    scale layers)."""
    done = 0
    for j in range(runs.shape[1]):
        for i in range(done, runs[0, j]):
            values[i] *= 0.0
        f = scale[runs[2, j]]
        for i in range(runs[0, j], runs[1, j]):
            values[i] *= f
        done = runs[1, j]
    for i in range(done, values.size):
        values[i] *= 0.0


@kernel
def fill_room(runs, water, drive, out, need, passes):
    """Add to ``out`` (fractions) so each region gains ``need`` (sum of fractions), in place.

    Each pass gives a region's remaining need to the cells of its ``runs`` (the region runs of
    :func:`region_sums` of the eligible cells alone: sums in cell order) in proportion to
    ``drive x room`` (room = 1 - water - out, at least 0), never more than a cell's room;
    what full cells could not take goes round again. Returns the need left per region.
    """
    n = need.size
    need = need.copy()
    for _ in range(passes):
        norm = np.zeros(n)
        for j in range(runs.shape[1]):
            r = runs[2, j]
            acc = norm[r]
            for i in range(runs[0, j], runs[1, j]):
                acc += drive[i] * max(1.0 - water[i] - out[i], 0.0)
            norm[r] = acc
        if not (need > _NEED_TOL).any() or not (norm > 0).any():
            break
        added = np.zeros(n)
        for j in range(runs.shape[1]):
            r = runs[2, j]
            scale, acc = max(norm[r], _TINY), added[r]
            for i in range(runs[0, j], runs[1, j]):
                room = max(1.0 - water[i] - out[i], 0.0)
                add = min(drive[i] * room / scale * need[r], room)
                out[i] += add
                acc += add
            added[r] = acc
        need -= added
    return need
