"""Greedy siting on a suitability surface with minimum spacing and a per-cell cap (numba)."""
from __future__ import annotations

import weakref

import numpy as np
from numba import njit


@njit(cache=True)
def pick_sites(order, nx, occupied, count, n, spacing_cells, cap):
    """Take up to ``n`` cells from ``order`` (flat indices, best first).

    A cell is taken if it holds fewer than ``cap`` sources and lies at least
    ``spacing_cells`` (Euclidean, in cells) from every *other* cell in ``occupied`` and from
    the cells already taken; sharing an occupied cell is governed by ``cap`` alone, which is
    what makes a cap above 1 meaningful. ``count`` (per flat cell) is updated in place.
    Returns the chosen flat indices (possibly fewer than n).
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
        if count[idx] >= cap:
            continue
        r, c = idx // nx, idx % nx
        ok = True
        for j in range(m):
            dr, dc = r - occ_r[j], c - occ_c[j]
            if (dr == 0 and dc == 0) or dr * dr + dc * dc >= s2:
                continue
            ok = False
            break
        if not ok:
            continue
        chosen[k] = idx
        count[idx] += 1
        occ_r[m], occ_c[m] = r, c
        m += 1
        k += 1
    return chosen[:k]


def ranked_cells(score: np.ndarray, allowed: np.ndarray, rng: np.random.Generator | None,
                 noise: float) -> np.ndarray:
    """Flat indices of allowed cells, best score first; Gumbel noise of scale ``noise`` if > 0.

    Ties break by cell index, so the order is deterministic. Without noise the order of all
    cells is sorted once per ``score`` array (which must not change in place) and filtered,
    so siting on a 1 km national grid does not sort millions of cells per plant.
    """
    if noise > 0 and rng is not None:
        flat = score.ravel().astype(np.float64) + noise * rng.gumbel(size=score.size)
        cand = np.flatnonzero(allowed.ravel())
        return cand[np.lexsort((cand, -flat[cand]))]
    order = _best_first(score)
    return order[allowed.ravel()[order]]


_ORDERS: dict[int, tuple[weakref.ref, np.ndarray]] = {}


def _best_first(score: np.ndarray) -> np.ndarray:
    """All flat indices by descending score, ties by index (cached while ``score`` lives)."""
    hit = _ORDERS.get(id(score))
    if hit is not None and hit[0]() is score:
        return hit[1]
    for key in [k for k, (ref, _) in _ORDERS.items() if ref() is None]:
        del _ORDERS[key]
    flat = score.ravel().astype(np.float64)
    order = np.lexsort((np.arange(flat.size), -flat))
    _ORDERS[id(score)] = (weakref.ref(score), order)
    return order
