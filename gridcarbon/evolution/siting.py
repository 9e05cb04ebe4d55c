"""Candidate cells for siting, best first, on a suitability surface (greedy picking with spacing
and a per-cell cap: :func:`gridcarbon.core.kernels.pick_sites`).

Spacing is in cells (Euclidean, between cell indices), caps in sources per cell, scores are
siting probabilities 0..1 (docs/architecture.md, "Evolution"). The spacing and cap values
come from the scenario's point rules (``min_spacing_km``, converted to cells, and
``max_plants_per_cell``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gridcarbon.core.cells import CellIndex


@dataclass(frozen=True, eq=False)
class Surface:
    """A siting surface read at flat cells: ``scores`` (0..1) held compact on ``index`` (one per
    cell of the index; 0 at the grid's other cells), so a national 1 km surface is 38 MB, not 107."""

    scores: np.ndarray
    index: CellIndex

    @property
    def n_cells(self) -> int:
        """Number of cells of the whole grid (the flat indices run over them)."""
        return math.prod(self.index.shape)

    def at(self, flat: np.ndarray) -> np.ndarray:
        """Scores (0..1, the surface's dtype) at the flat cells ``flat``."""
        return self.index.at(self.scores, flat)


class SiteOrders:
    """Best-first orders of siting surfaces over candidate cells, kept for one evolution.

    An evolution owns one (its fleet carries it): the suitability surfaces and the
    per-region cell lists do not change during it, so each (surface, cells) pair is sorted
    once, and siting on a 1 km national grid does not sort millions of cells per plant.
    """

    def __init__(self) -> None:
        self._orders: dict[tuple[int, int], tuple[np.ndarray, np.ndarray | None, np.ndarray]] = {}

    def best_first(self, score: Surface, cells: np.ndarray | None) -> np.ndarray:
        """``cells`` (default all) by descending ``score``, ties by index; neither array may
        change in place while this object lives (it holds them, so their ids stay theirs)."""
        key = (id(score), id(cells))
        if key not in self._orders:
            self._orders[key] = (score, cells, _best_first(score, cells))
        return self._orders[key][2]


def ranked_cells(score: Surface, allowed: np.ndarray, rng: np.random.Generator | None,
                 noise: float, cells: np.ndarray | None = None, *,
                 orders: SiteOrders | None = None) -> np.ndarray:
    """Flat indices of allowed cells, best ``score`` (0..1) first; Gumbel noise of scale ``noise``
    if > 0 (one draw per cell of the grid).

    ``cells`` (ascending flat indices, e.g. :meth:`Grid.cells_of` a region) limits the
    candidates. Ties break by cell index, so the order is deterministic. Without noise the
    candidates are sorted (once per ``score`` and ``cells`` when ``orders`` keeps them) and
    filtered.
    """
    order = candidates(score, allowed, rng, noise, cells, orders=orders)
    return order[allowed.ravel()[order]]


def candidates(score: Surface, allowed: np.ndarray, rng: np.random.Generator | None,
               noise: float, cells: np.ndarray | None = None, *,
               orders: SiteOrders | None = None) -> np.ndarray:
    """:func:`ranked_cells`' order, except that without noise cells not ``allowed`` stay in
    it: a reader that skips them (:func:`~gridcarbon.core.kernels.pick_sites`) then reads a
    kept order as it is, and stops at the first cells it takes instead of filtering them all."""
    if noise > 0 and rng is not None:
        jitter = noise * rng.gumbel(size=score.n_cells)
        cand = np.flatnonzero(allowed.ravel()) if cells is None else cells[allowed.ravel()[cells]]
        flat = score.at(cand).astype(np.float64) + jitter[cand]
        return cand[np.lexsort((cand, -flat))]
    return orders.best_first(score, cells) if orders is not None else _best_first(score, cells)


def _best_first(score: Surface, cells: np.ndarray | None) -> np.ndarray:
    """``cells`` (default all) by descending score, ties by index."""
    cand = np.arange(score.n_cells) if cells is None else cells
    return cand[np.lexsort((cand, -score.at(cand).astype(np.float64)))]
