"""The numba kernels a run calls for gridding, accumulation and siting (exact pieces, weighted
sums, greedy siting with spacing): arrays in, arrays out, no CRS and no units. The kernels over
a grid's regions and land (region sums, proxy spreading, land-use steps) are
:mod:`gridcarbon.core.regionkernels`.

The gridding kernels return *pieces*: for each source, the cells it touches and how much of it
falls there (a length in m for lines, an area in m2 for polygons), plus a representative
coordinate of the piece (used to re-home pieces that fall outside their region). Cell
indices are flat (row * nx + col); -1 marks a piece off the grid.

Grid coordinates: ``u = (x - x0) / res`` (column), ``v = (y_top - y) / res`` (row). Kernels
called from Python are :func:`~gridcarbon.core.jitahead.kernel`, helpers only other kernels call ``njit``.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from gridcarbon.core.jitahead import kernel

#: area (cell units squared, i.e. fractions of a cell) at or below which a clipped polygon
#: piece is dropped: degenerate slivers from edges that run along a grid line
_EPS = 1e-12
#: smallest side (cells) of the buckets :func:`pick_sites` keeps sources in: with no spacing
#: (a sources-per-cap check) one-cell buckets would be as many as the grid's cells
_BUCKET_MIN_CELLS = 16


@njit(cache=True)
def _piece_buffers(m):
    """Uninitialised outputs for ``m`` pieces: (src, cell, amount, u, v)."""
    return np.empty(m, np.int64), np.empty(m, np.int64), np.empty(m), np.empty(m), np.empty(m)


# --------------------------------------------------------------------------- lines
@njit(cache=True)
def _crossing_count(a, b):
    """Number of integers strictly between ``a`` and ``b`` (grid lines a segment crosses on one axis)."""
    return max(0, int(np.ceil(max(a, b))) - int(np.floor(min(a, b))) - 1)


@njit(cache=True)
def _crossings(a, b):
    """Parameters t in (0, 1) where the run a -> b crosses an integer, ascending."""
    t = np.empty(_crossing_count(a, b))
    k0 = int(np.floor(min(a, b))) + 1
    for i in range(t.size):
        k = k0 + i if b > a else k0 + t.size - 1 - i
        t[i] = (k - a) / (b - a)
    return t


@njit(cache=True)
def _segment_breaks(au, av, bu, bv):
    """Sorted parameters t in [0, 1] where a segment crosses grid lines, with 0 and 1: the column
    and row crossings merged (what ``np.sort`` gives, without compiling a sort)."""
    tu, tv = _crossings(au, bu), _crossings(av, bv)
    t, i, j = np.empty(tu.size + tv.size + 2), 0, 0
    t[0], t[t.size - 1] = 0.0, 1.0
    for k in range(1, t.size - 1):
        if j >= tv.size or (i < tu.size and tu[i] <= tv[j]):
            t[k] = tu[i]
            i += 1
        else:
            t[k] = tv[j]
            j += 1
    return t


@njit(cache=True)
def _line_piece_count(u, v, offsets):
    total = 0
    for i in range(offsets.size - 1):
        for j in range(offsets[i], offsets[i + 1] - 1):
            total += _crossing_count(u[j], u[j + 1]) + _crossing_count(v[j], v[j + 1]) + 1
    return total


@kernel
def line_pieces(u, v, offsets, ny, nx, res):
    """Split polylines at grid lines: ``u, v`` are vertex coordinates in cell units,
    ``offsets[i]:offsets[i+1]`` the vertices of line i. Returns (src, cell, length_m, mid_u,
    mid_v); lengths are exact (segment-cell intersection), summing per line to its length."""
    src, cell, length, mu, mv = _piece_buffers(_line_piece_count(u, v, offsets))
    k = 0
    for i in range(offsets.size - 1):
        for j in range(offsets[i], offsets[i + 1] - 1):
            au, av, bu, bv = u[j], v[j], u[j + 1], v[j + 1]
            seg = np.hypot(bu - au, bv - av) * res
            t = _segment_breaks(au, av, bu, bv)
            for q in range(t.size - 1):
                tm = 0.5 * (t[q] + t[q + 1])
                pu = au + tm * (bu - au)
                pv = av + tm * (bv - av)
                col, row = int(np.floor(pu)), int(np.floor(pv))
                src[k] = i
                cell[k] = row * nx + col if (0 <= row < ny and 0 <= col < nx) else -1
                length[k] = seg * (t[q + 1] - t[q])
                mu[k], mv[k] = pu, pv
                k += 1
    return src, cell, length, mu, mv


# ------------------------------------------------------------------------ polygons
@njit(cache=True)
def _clip(xs, ys, n, bound, axis, keep_above):
    """Sutherland-Hodgman clip of a ring against one axis-parallel half-plane."""
    ox = np.empty(2 * n + 2)
    oy = np.empty(2 * n + 2)
    m = 0
    for i in range(n):
        j = i - 1 if i > 0 else n - 1  # buffers are longer than n: never index -1
        px, py = xs[j], ys[j]
        cx, cy = xs[i], ys[i]
        pc = px if axis == 0 else py
        cc = cx if axis == 0 else cy
        p_in = pc >= bound if keep_above else pc <= bound
        c_in = cc >= bound if keep_above else cc <= bound
        if c_in != p_in:
            t = (bound - pc) / (cc - pc)
            ox[m] = px + t * (cx - px)
            oy[m] = py + t * (cy - py)
            m += 1
        if c_in:
            ox[m], oy[m] = cx, cy
            m += 1
    return ox, oy, m


@njit(cache=True)
def _area(xs, ys, n):
    a = 0.0
    for i in range(n):
        j = i - 1 if i > 0 else n - 1
        a += xs[j] * ys[i] - xs[i] * ys[j]
    return abs(0.5 * a)


@njit(cache=True)
def _span(xs, n):
    """floor of the least and ceil of the largest of ``xs[:n]`` (a loop: no array reductions to compile)."""
    lo = hi = xs[0]
    for i in range(1, n):
        lo, hi = min(lo, xs[i]), max(hi, xs[i])
    return int(np.floor(lo)), int(np.ceil(hi))


@kernel
def polygon_pieces(u, v, offsets, ring_src, ring_sign, ny, nx, res, capacity):
    """Exact area of each polygon ring inside each cell.

    Rings are closed vertex runs ``offsets[r]:offsets[r+1]`` (last vertex may repeat the
    first) in cell units; ``ring_sign`` is +1 for exteriors and -1 for holes. Each ring is
    clipped to every row strip of its bounding box, then to every cell of the strip.
    Returns (src, cell, area_m2, centre_u, centre_v); holes give negative areas that
    cancel the exterior's share of the same cell. Off-grid parts get cell -1.
    """
    src, cell, area, cu, cv = _piece_buffers(capacity)
    k = 0
    cell_m2 = res * res
    for r in range(offsets.size - 1):
        xs = u[offsets[r]:offsets[r + 1]]
        ys = v[offsets[r]:offsets[r + 1]]
        n = xs.size
        if n > 1 and xs[0] == xs[n - 1] and ys[0] == ys[n - 1]:
            n -= 1
        if n < 3:  # no area
            continue
        r0, r1 = _span(ys, n)
        c0, c1 = _span(xs, n)
        for row in range(r0, r1):
            sx, sy, sn = _clip(xs, ys, n, row, 1, True)
            sx, sy, sn = _clip(sx, sy, sn, row + 1, 1, False)
            if sn < 3:
                continue
            for col in range(c0, c1):
                px, py, pn = _clip(sx, sy, sn, col, 0, True)
                px, py, pn = _clip(px, py, pn, col + 1, 0, False)
                if pn < 3:
                    continue
                a = _area(px, py, pn)
                if a <= _EPS:
                    continue
                src[k] = ring_src[r]
                cell[k] = row * nx + col if (0 <= row < ny and 0 <= col < nx) else -1
                area[k] = ring_sign[r] * a * cell_m2
                cu[k], cv[k] = col + 0.5, row + 0.5
                k += 1
    return src[:k], cell[:k], area[:k], cu[:k], cv[:k]


# -------------------------------------------------------------------- accumulation
@kernel
def accumulate(layer, cell, amount, n_layers, n_cells):
    """Sum ``amount`` into a (n_layers, n_cells) array at (layer, cell); -1 cells skipped."""
    out = np.zeros((n_layers, n_cells))
    for i in range(cell.size):
        if cell[i] >= 0:
            out[layer[i], cell[i]] += amount[i]
    return out


@kernel
def add_weighted(out, weights, pixel, cell, area):
    """``out[g, cell] += weights[pixel, g] * area`` for each piece (in place): pixels' weighted
    areas summed per (layer, cell)."""
    for k in range(cell.size):
        for g in range(out.shape[0]):
            w = weights[pixel[k], g]
            if w != 0.0:
                out[g, cell[k]] += w * area[k]


# --------------------------------------------------------------------- siting
@njit(cache=True)
def _bucket(r, c, side, nbx):
    """Bucket of cell (r, c) (row -1 allowed: an off-grid cell -1) in squares of ``side`` cells."""
    return ((r + 1) // side) * nbx + c // side


@kernel
def pick_sites(order, allowed, ny, nx, occupied, n, spacing_cells, cap, centre, reach2_cells):
    """Take up to ``n`` cells from ``order`` (flat indices, best first) of a (``ny``, ``nx``) grid.

    A cell is taken if it is ``allowed`` (flat booleans), lies within ``reach2_cells``
    (squared Euclidean distance, in cells) of the cell ``centre`` (-1: anywhere), holds fewer
    than ``cap`` sources (``occupied`` cells and those already taken) and lies at least
    ``spacing_cells`` (Euclidean, in cells) from every *other* such cell; sharing an occupied
    cell is governed by ``cap`` alone, which is what makes a cap above 1 meaningful. Returns
    the chosen flat indices (possibly fewer than n). The order is read only until ``n`` cells
    are taken: a kept best-first order of a whole region serves without being filtered first.

    Sources are kept in square buckets of at least the spacing (and :data:`_BUCKET_MIN_CELLS`):
    a candidate is compared with the sources of its own and the 8 neighbouring buckets only,
    which hold every source nearer than the spacing, so the choice is that of comparing it
    with every source.
    """
    chosen = np.empty(n, np.int64)
    m = occupied.size
    side = max(int(np.ceil(spacing_cells)), _BUCKET_MIN_CELLS)
    nbx, nby = nx // side + 1, (ny + 1) // side + 1
    head = np.full(nbx * nby, -1, np.int64)
    nxt = np.empty(m + n, np.int64)
    occ_r = np.empty(m + n, np.int64)
    occ_c = np.empty(m + n, np.int64)
    for j in range(m):
        occ_r[j], occ_c[j] = occupied[j] // nx, occupied[j] % nx
        b = _bucket(occ_r[j], occ_c[j], side, nbx)
        nxt[j], head[b] = head[b], j
    s2 = spacing_cells * spacing_cells
    r0, c0 = centre // nx, centre % nx
    k = 0
    for idx in order:
        if k == n:
            break
        if not allowed[idx]:
            continue
        r, c = idx // nx, idx % nx
        if centre >= 0 and (r - r0) * (r - r0) + (c - c0) * (c - c0) > reach2_cells:
            continue
        br, bc = (r + 1) // side, c // side
        ok, here = True, 0
        for qr in range(max(br - 1, 0), min(br + 2, nby)):
            for qc in range(max(bc - 1, 0), min(bc + 2, nbx)):
                j = head[qr * nbx + qc]
                while j >= 0 and ok:
                    dr, dc = r - occ_r[j], c - occ_c[j]
                    if dr == 0 and dc == 0:
                        here += 1
                    elif dr * dr + dc * dc < s2:
                        ok = False
                    j = nxt[j]
        if not ok or here >= cap:
            continue
        chosen[k] = idx
        occ_r[m], occ_c[m] = r, c
        b = _bucket(r, c, side, nbx)
        nxt[m], head[b] = head[b], m
        m += 1
        k += 1
    return chosen[:k]
