"""A compact cell index: the cells of a grid inside its study area, and arrays over them alone.

A national grid is mostly sea and neighbouring countries: China at 1 km is a 5530 x 4840
rectangle (26.8 M cells) of which 9.5 M cells lie inside a region. A layer kept as a
*compact* array (one value per inside cell, in ascending flat order) holds 35 % of the full
rectangle's bytes; the rectangle is made again only where it is needed (a distance transform,
a file). Values are in the unit of the layer they come from.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class CellIndex:
    """The flat indices (ascending, into a grid of ``shape``) of the cells arrays of length
    :attr:`size` hold: a compact array's element ``i`` is the value of flat cell ``cells[i]``."""

    shape: tuple[int, int]
    cells: np.ndarray

    @classmethod
    def of_mask(cls, mask: np.ndarray) -> CellIndex:
        """The cells where the boolean (y, x) ``mask`` is true."""
        return cls(tuple(mask.shape), np.flatnonzero(mask))

    @property
    def size(self) -> int:
        """Number of cells in the index."""
        return int(self.cells.size)

    def compact(self, values: np.ndarray) -> np.ndarray:
        """The values at the index's cells of a (..., y, x) array, as a new (..., size) array
        of the same dtype."""
        values = np.asarray(values)
        lead = values.shape[:-2]
        if values.shape[-2:] != self.shape:
            raise ValueError(f"a {values.shape[-2:]} layer on a {self.shape} cell index")
        return np.take(values.reshape(lead + (-1,)), self.cells, axis=-1)

    def expand(self, values: np.ndarray, *, fill: float = 0.0, dtype=None, out: np.ndarray | None = None) -> np.ndarray:
        """A new (..., y, x) array with the compact (..., size) ``values`` at the index's cells and
        ``fill`` elsewhere, in ``dtype`` (default: the values' dtype); or ``out`` (C-contiguous,
        (..., y, x)) filled so."""
        values = np.asarray(values)
        if values.shape[-1] != self.size:
            raise ValueError(f"{values.shape[-1]} values on a cell index of {self.size} cells")
        lead = values.shape[:-1]
        if out is None:
            out = np.empty(lead + self.shape, values.dtype if dtype is None else dtype)
        out.fill(fill)
        out = out.reshape(lead + (-1,))
        out[..., self.cells] = values
        return out.reshape(lead + self.shape)

    def full(self, layer: np.ndarray) -> np.ndarray:
        """A (y, x) layer as it is, a compact (size,) one expanded (:meth:`expand`, 0 elsewhere)."""
        return self.expand(layer) if np.ndim(layer) == 1 else layer

    def compacted(self, layer: np.ndarray) -> np.ndarray:
        """A compact (size,) layer as it is, a (y, x) one compacted (:meth:`compact`)."""
        return layer if np.ndim(layer) == 1 else self.compact(layer)

    def positions(self, flat: np.ndarray) -> np.ndarray:
        """Position in the compact arrays of each flat cell of ``flat`` (int64); -1 where a cell
        is not in the index."""
        flat = np.asarray(flat, np.int64)
        pos = np.searchsorted(self.cells, flat)
        hit = pos < self.size
        hit[hit] = self.cells[pos[hit]] == flat[hit]
        return np.where(hit, pos, -1)

    def at(self, values: np.ndarray, flat: np.ndarray) -> np.ndarray:
        """The compact ``values`` (size,) at each flat cell of ``flat`` (its dtype), 0 where a cell
        is not in the index: what the expanded layer holds there."""
        return take(values, self.positions(flat))

    def runs(self, runs: np.ndarray) -> np.ndarray:
        """Runs (:func:`label_runs`: start, stop, label) of cells all in the index, as positions in
        compact arrays: a run's cells are consecutive cells of the index, so are their positions."""
        start = self.positions(runs[0])
        return np.ascontiguousarray(np.stack([start, start + runs[1] - runs[0], runs[2]]))


class FullLayers(Mapping):
    """Named layers, each (y, x) or compact (size,) on ``index``, seen as (y, x) layers: a compact
    one is expanded (:meth:`CellIndex.full`) each time it is asked for, so a loop over them holds
    one rectangle at a time (China at 1 km: 0.1 GB a float32 layer, not 1.2 GB for 11 sectors)."""

    def __init__(self, index: CellIndex, layers: Mapping[str, np.ndarray]):
        self.index, self.layers = index, layers

    def __getitem__(self, name: str) -> np.ndarray:
        return self.index.full(self.layers[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)


def take(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The compact ``values`` at ``positions`` (:meth:`CellIndex.positions`), 0 at position -1
    (a cell not in the index), in the values' dtype."""
    return np.where(positions >= 0, values[np.maximum(positions, 0)], values.dtype.type(0))


def label_runs(labels: np.ndarray) -> np.ndarray:
    """The runs of equal labels >= 0 along the flat (row-major) order of ``labels``, as a
    (3, n_runs) int64 array of start, stop (flat indices, stop exclusive) and label.

    A region of a grid is a few runs per row: kernels that sum or spread per region walk
    these runs (:func:`~gridcarbon.core.regionkernels.region_sums`), in cell order, and never read
    the cells outside (label < 0).
    """
    flat = np.ravel(labels)
    if flat.size == 0:
        return np.zeros((3, 0), np.int64)
    edge = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    start = np.concatenate([[0], edge])
    stop = np.concatenate([edge, [flat.size]])
    label = flat[start]
    keep = label >= 0
    return np.ascontiguousarray(np.stack([start[keep], stop[keep], label[keep]]).astype(np.int64))
