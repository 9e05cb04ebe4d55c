"""The numba kernels a run calls (exact gridding, accumulation, region sums, proxy spreading,
land-use steps, siting): arrays in, arrays out, no CRS and no units.

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
#: remaining need (sum of fractions) below which :func:`fill_room` stops early: float noise
_NEED_TOL = 1e-12
#: guard against division by an all-zero normaliser
_TINY = 1e-300
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
def spread_by_proxy(runs, proxy, totals, out, fallback):
    """Fill ``out`` with each cell's share of its region's total, in proportion to ``|proxy|``.

    ``runs`` are the region runs of :func:`region_sums`. Where a region's proxy sums to <= 0
    the share follows ``fallback`` (when it has cells), else it is even; 0 outside regions.
    Sums run in cell order, as in :func:`region_sums`; ``out`` may be float32 (values are
    computed in float64).
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
    if fallback.size:
        for j in range(runs.shape[1]):
            r = runs[2, j]
            if sums[r] <= 0:
                acc = backup[r]
                for i in range(runs[0, j], runs[1, j]):
                    acc += fallback[i]
                backup[r] = acc
    done = 0
    for j in range(runs.shape[1]):
        r, start, stop = runs[2, j], runs[0, j], runs[1, j]
        for i in range(done, start):
            out[i] = 0.0
        done = stop
        if sums[r] > 0:
            for i in range(start, stop):
                out[i] = (abs(proxy[i]) / sums[r]) * totals[r]
        elif backup[r] > 0:
            for i in range(start, stop):
                out[i] = (fallback[i] / backup[r]) * totals[r]
        else:
            for i in range(start, stop):
                out[i] = (1.0 / max(counts[r], 1)) * totals[r]
    for i in range(done, out.size):
        out[i] = 0.0


# ------------------------------------------------------------------- land use
@kernel
def uniform3(values):
    """3 x 3 moving mean of a (y, x) array, zero beyond the edges: bit for bit
    ``scipy.ndimage.uniform_filter(values, 3, mode="constant")`` (its running sums, rows
    then columns), at a third of the time."""
    ny, nx = values.shape
    down = np.empty((ny, nx))
    run = np.empty(nx)
    for c in range(nx):
        run[c] = (0.0 + values[0, c]) + (values[1, c] if ny > 1 else 0.0)
        down[0, c] = run[c] / 3.0
    for r in range(1, ny):
        for c in range(nx):
            run[c] += (values[r + 1, c] if r + 1 < ny else 0.0) - (values[r - 2, c] if r >= 2 else 0.0)
            down[r, c] = run[c] / 3.0
    out = np.empty((ny, nx))
    for r in range(ny):
        acc = (0.0 + down[r, 0]) + (down[r, 1] if nx > 1 else 0.0)
        out[r, 0] = acc / 3.0
        for c in range(1, nx):
            acc += (down[r, c + 1] if c + 1 < nx else 0.0) - (down[r, c - 2] if c >= 2 else 0.0)
            out[r, c] = acc / 3.0
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
def forest_sums(zone_runs, region_runs, open_share, forest0, water, built, forest, n_zones, n_regions):
    """The sums a year's forest capacity needs, without a layer: per label of ``zone_runs``
    (n_zones), the new stands and the room left, ``max(forest - forest0, 0) + room``
    (:func:`forest_room`); per region of ``region_runs`` (n_regions), the base-year forest
    still standing, ``min(forest, forest0)``. Fractions summed in cell order; ``max`` and
    ``min`` as numpy's ``maximum`` and ``minimum`` (a NaN propagates), so the sums are those
    of the numpy layers."""
    stands = np.zeros(n_zones)
    for j in range(zone_runs.shape[1]):
        acc = stands[zone_runs[2, j]]
        for i in range(zone_runs[0, j], zone_runs[1, j]):
            d = forest[i] - forest0[i]
            acc += (d if not d < 0.0 else 0.0) + _forest_room_at(open_share, forest0, water, built, forest, i)
        stands[zone_runs[2, j]] = acc
    kept = np.zeros(n_regions)
    for j in range(region_runs.shape[1]):
        acc = kept[region_runs[2, j]]
        for i in range(region_runs[0, j], region_runs[1, j]):
            a, b = forest[i], forest0[i]
            acc += a if (a <= b or a != a) else b
        kept[region_runs[2, j]] = acc
    return stands, kept


@kernel
def add_region_share(region, base, potential, frac):
    """``base + potential x frac[region]`` cell by cell; ``base`` alone outside regions (-1)."""
    out = np.empty(base.size)
    for i in range(base.size):
        r = region[i]
        out[i] = base[i] + (potential[i] * frac[r] if r >= 0 else 0.0)
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
def fill_room(runs, eligible, water, drive, out, need, passes):
    """Add to ``out`` (fractions) so each region gains ``need`` (sum of fractions), in place.

    Each pass gives a region's remaining need to its ``eligible`` cells in proportion to
    ``drive x room`` (room = 1 - water - out, at least 0), never more than a cell's room;
    what full cells could not take goes round again. ``runs`` are the region runs of
    :func:`region_sums` (sums in cell order). Returns the need left per region.
    """
    n = need.size
    need = need.copy()
    for _ in range(passes):
        norm = np.zeros(n)
        for j in range(runs.shape[1]):
            r = runs[2, j]
            acc = norm[r]
            for i in range(runs[0, j], runs[1, j]):
                if eligible[i]:
                    acc += drive[i] * max(1.0 - water[i] - out[i], 0.0)
            norm[r] = acc
        if not (need > _NEED_TOL).any() or not (norm > 0).any():
            break
        added = np.zeros(n)
        for j in range(runs.shape[1]):
            r = runs[2, j]
            scale, acc = max(norm[r], _TINY), added[r]
            for i in range(runs[0, j], runs[1, j]):
                if eligible[i]:
                    room = max(1.0 - water[i] - out[i], 0.0)
                    add = min(drive[i] * room / scale * need[r], room)
                    out[i] += add
                    acc += add
            added[r] = acc
        need -= added
    return need


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
