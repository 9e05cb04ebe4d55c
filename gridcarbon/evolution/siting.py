"""Greedy siting on a suitability surface with minimum spacing and a per-cell cap (numba)."""
from __future__ import annotations

import weakref

import numpy as np
from numba import njit


@njit(cache=True)
def pick_sites(order, nx, occupied, n, spacing_cells, cap):
    """Take up to ``n`` cells from ``order`` (flat indices, best first).

    A cell is taken if it holds fewer than ``cap`` sources (``occupied`` cells and those
    already taken) and lies at least ``spacing_cells`` (Euclidean, in cells) from every
    *other* such cell; sharing an occupied cell is governed by ``cap`` alone, which is what
    makes a cap above 1 meaningful. Returns the chosen flat indices (possibly fewer than n).
    """
    chosen = np.empty(n, np.int64)
    k = 0
    occ_r = np.empty(occupied.size + n, np.int64)
    occ_c = np.empty(occupied.size + n, np.int64)
    m = occupied.size
    for i in range(m):
        occ_r[i] = occupied[i] // nx
        occ_c[i] = occupied[i] % nx
    s2 = spacing_cells * spacing_cells
    for idx in order:
        if k == n:
            break
        r, c = idx // nx, idx % nx
        ok, here = True, 0
        for j in range(m):
            dr, dc = r - occ_r[j], c - occ_c[j]
            if dr == 0 and dc == 0:
                here += 1
            elif dr * dr + dc * dc < s2:
                ok = False
                break
        if not ok or here >= cap:
            continue
        chosen[k] = idx
        occ_r[m], occ_c[m] = r, c
        m += 1
        k += 1
    return chosen[:k]


def ranked_cells(score: np.ndarray, allowed: np.ndarray, rng: np.random.Generator | None,
                 noise: float, cells: np.ndarray | None = None) -> np.ndarray:
    """Flat indices of allowed cells, best score first; Gumbel noise of scale ``noise`` if > 0.

    ``cells`` (ascending flat indices, e.g. :meth:`Grid.cells_of` a region) limits the
    candidates. Ties break by cell index, so the order is deterministic. Without noise the
    candidates are sorted once per ``score`` and ``cells`` array (neither may change in
    place) and filtered, so siting on a 1 km national grid does not sort millions of cells
    per plant.
    """
    if noise > 0 and rng is not None:
        jitter = noise * rng.gumbel(size=score.size)
        cand = np.flatnonzero(allowed.ravel()) if cells is None else cells[allowed.ravel()[cells]]
        flat = score.ravel()[cand].astype(np.float64) + jitter[cand]
        return cand[np.lexsort((cand, -flat))]
    order = _best_first(score, cells)
    return order[allowed.ravel()[order]]


_ORDERS: dict[tuple[int, int], tuple[weakref.ref, weakref.ref | None, np.ndarray]] = {}


def _best_first(score: np.ndarray, cells: np.ndarray | None) -> np.ndarray:
    """``cells`` (default all) by descending score, ties by index (cached while both live)."""
    key = (id(score), id(cells))
    hit = _ORDERS.get(key)
    if hit is not None and hit[0]() is score and (cells is None or hit[1]() is cells):
        return hit[2]
    for k in [k for k, (s, c, _) in _ORDERS.items() if s() is None or (c is not None and c() is None)]:
        del _ORDERS[k]
    cand = np.arange(score.size) if cells is None else cells
    order = cand[np.lexsort((cand, -score.ravel()[cand].astype(np.float64)))]
    _ORDERS[key] = (weakref.ref(score), None if cells is None else weakref.ref(cells), order)
    return order
