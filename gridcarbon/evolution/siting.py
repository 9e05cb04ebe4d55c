"""Greedy siting on a suitability surface with minimum spacing and a per-cell cap (numba).

Spacing is in cells (Euclidean, between cell indices), caps in sources per cell, scores are
siting probabilities 0..1 (docs/architecture.md, "Evolution"). The spacing and cap values
come from the scenario's point rules (``min_spacing_km``, converted to cells, and
``max_plants_per_cell``).
"""
from __future__ import annotations

import numpy as np

from gridcarbon.core.jitahead import kernel


@kernel
def pick_sites(order, nx, occupied, n, spacing_cells, cap):
    """Take up to ``n`` cells from ``order`` (flat indices, best first) of a grid ``nx`` cells wide.

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


class SiteOrders:
    """Best-first orders of siting surfaces over candidate cells, kept for one evolution.

    An evolution owns one (its fleet carries it): the suitability surfaces and the
    per-region cell lists do not change during it, so each (surface, cells) pair is sorted
    once, and siting on a 1 km national grid does not sort millions of cells per plant.
    """

    def __init__(self) -> None:
        self._orders: dict[tuple[int, int], tuple[np.ndarray, np.ndarray | None, np.ndarray]] = {}

    def best_first(self, score: np.ndarray, cells: np.ndarray | None) -> np.ndarray:
        """``cells`` (default all) by descending ``score``, ties by index; neither array may
        change in place while this object lives (it holds them, so their ids stay theirs)."""
        key = (id(score), id(cells))
        if key not in self._orders:
            self._orders[key] = (score, cells, _best_first(score, cells))
        return self._orders[key][2]


def ranked_cells(score: np.ndarray, allowed: np.ndarray, rng: np.random.Generator | None,
                 noise: float, cells: np.ndarray | None = None, *,
                 orders: SiteOrders | None = None) -> np.ndarray:
    """Flat indices of allowed cells, best ``score`` (0..1) first; Gumbel noise of scale ``noise`` if > 0.

    ``cells`` (ascending flat indices, e.g. :meth:`Grid.cells_of` a region) limits the
    candidates. Ties break by cell index, so the order is deterministic. Without noise the
    candidates are sorted (once per ``score`` and ``cells`` when ``orders`` keeps them) and
    filtered.
    """
    if noise > 0 and rng is not None:
        jitter = noise * rng.gumbel(size=score.size)
        cand = np.flatnonzero(allowed.ravel()) if cells is None else cells[allowed.ravel()[cells]]
        flat = score.ravel()[cand].astype(np.float64) + jitter[cand]
        return cand[np.lexsort((cand, -flat))]
    order = orders.best_first(score, cells) if orders is not None else _best_first(score, cells)
    return order[allowed.ravel()[order]]


def _best_first(score: np.ndarray, cells: np.ndarray | None) -> np.ndarray:
    """``cells`` (default all) by descending score, ties by index."""
    cand = np.arange(score.size) if cells is None else cells
    return cand[np.lexsort((cand, -score.ravel()[cand].astype(np.float64)))]
