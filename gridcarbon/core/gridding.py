"""Geometries -> exact cell shares (coverage) -> grids, conserving mass per region.

A :class:`Coverage` is a sparse table: source ``i`` puts ``share[k]`` of its value into
flat cell ``cell[k]``; shares of a source sum to one. Sources are assigned to regions by
their own geometry, cells by their centroid (docs/architecture.md, "The grid"), so a
piece that lands in a cell of another region, or off the grid, is re-homed to the nearest
cell of the source's own region. Sum over a region's cells then equals the sum of its
sources exactly. Values are t CO2/yr per source and t CO2/yr/cell once gridded.
"""
from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from gridcarbon.core import kernels, regionkernels
from gridcarbon.core.errors import GeometryError
from gridcarbon.core.grid import Grid

#: shapely geometry type ids (:func:`shapely.get_type_id`) of each source class:
#: Point / MultiPoint, LineString / MultiLineString, Polygon / MultiPolygon
POINT_TYPES, LINE_TYPES, POLYGON_TYPES = {0, 4}, {1, 5}, {3, 6}
#: guard against division by an all-zero amount (m, m2 or points summed over pieces)
TINY = 1e-300


@dataclass(frozen=True)
class Coverage:
    """Sparse source -> cell shares on one grid (shares per source sum to 1).

    ``src``: source position; ``cell``: flat cell index (row * nx + col); ``share``: the
    fraction of the source's value in that piece (a polygon hole's pieces are negative and
    cancel the exterior's share of the same cell).
    """

    src: np.ndarray
    cell: np.ndarray
    share: np.ndarray
    n_sources: int
    rehomed_share: float = 0.0  # fraction (0..1) of all pieces' weight moved to their own region

    def spread(self, values: np.ndarray, grid: Grid, *, layer: np.ndarray | None = None,
               n_layers: int = 1) -> np.ndarray:
        """Grid per-source ``values`` (t CO2/yr) -> (n_layers, y, x) t CO2/yr/cell."""
        values = np.asarray(values, dtype=np.float64)
        layer_of_piece = (np.zeros(self.src.size, np.int64) if layer is None
                          else np.asarray(layer, np.int64)[self.src])
        flat = kernels.accumulate(layer_of_piece, self.cell, values[self.src] * self.share,
                                  n_layers, grid.shape[0] * grid.shape[1])
        return flat.reshape(n_layers, *grid.shape)


def _to_cell_units(coords: np.ndarray, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    u = (coords[:, 0] - grid.bounds[0]) / grid.res
    v = (grid.bounds[3] - coords[:, 1]) / grid.res
    return np.ascontiguousarray(u), np.ascontiguousarray(v)


def _finish(src, cell, amount, pu, pv, region_pos, grid, n_sources) -> Coverage:
    """Re-home foreign pieces, then normalise amounts to shares per source.

    A source with ``region_pos`` -1 has no region of its own: its pieces stay in whatever
    region they land in, and only pieces outside every region move to the nearest cell.
    """
    src = np.asarray(src, np.int64)
    cell = np.asarray(cell, np.int64).copy()
    own = np.asarray(region_pos, np.int64)[src]
    landed = np.where(cell >= 0, grid.region_index.ravel()[np.maximum(cell, 0)], -1)
    foreign = np.where(own >= 0, landed != own, landed < 0)
    for r in np.unique(own[foreign]):  # loop over regions with foreign pieces
        sel = foreign & (own == r)
        cell[sel] = grid.nearest_region_cell(int(r), pu[sel], pv[sel])
    totals = np.bincount(src, weights=amount, minlength=n_sources)
    share = amount / totals[src]
    moved = float(np.abs(amount[foreign]).sum() / max(np.abs(amount).sum(), TINY))
    return Coverage(src, cell, share, n_sources, moved)


def point_coverage(geoms: gpd.GeoSeries, grid: Grid, region_pos: np.ndarray) -> Coverage:
    """Each point puts all its value in the cell that holds it (``region_pos``: each point's region, -1: none)."""
    coords = shapely.get_coordinates(geoms.values)
    u, v = _to_cell_units(coords, grid)
    ny, nx = grid.shape
    col, row = np.floor(u).astype(np.int64), np.floor(v).astype(np.int64)
    cell = np.where((row >= 0) & (row < ny) & (col >= 0) & (col < nx), row * nx + col, -1)
    n = len(geoms)
    return _finish(np.arange(n), cell, np.ones(n), u, v, region_pos, grid, n)


def line_coverage(geoms: gpd.GeoSeries, grid: Grid, region_pos: np.ndarray) -> Coverage:
    """Each line spreads by the exact share of its length (m) inside each cell."""
    parts, index = shapely.get_parts(geoms.values, return_index=True)
    coords, vidx = shapely.get_coordinates(parts, return_index=True)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(vidx, minlength=len(parts)))])
    u, v = _to_cell_units(coords, grid)
    src, cell, length, pu, pv = kernels.line_pieces(u, v, offsets, *grid.shape, grid.res)
    src = index[src]
    zero = np.bincount(src, weights=length, minlength=len(geoms)) <= 0
    if zero.any():
        raise GeometryError("line has zero length", record=int(np.flatnonzero(zero)[0]))
    return _finish(src, cell, length, pu, pv, region_pos, grid, len(geoms))


def polygon_pieces(geoms: gpd.GeoSeries, grid: Grid) -> tuple[np.ndarray, ...]:
    """Exact area of each polygon in each cell: (src, cell, area_m2, centre_u, centre_v).

    ``src`` is the position in ``geoms``; holes give negative areas; off-grid parts get cell -1.
    """
    polys, pidx = shapely.get_parts(geoms.values, return_index=True)
    rings, ridx = shapely.get_rings(polys, return_index=True)
    first = np.r_[True, ridx[1:] != ridx[:-1]]  # first ring of each polygon is its exterior
    coords, vidx = shapely.get_coordinates(rings, return_index=True)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(vidx, minlength=len(rings)))])
    u, v = _to_cell_units(coords, grid)
    b = shapely.bounds(rings)
    span = ((np.ceil((b[:, 2] - grid.bounds[0]) / grid.res) - np.floor((b[:, 0] - grid.bounds[0]) / grid.res))
            * (np.ceil((grid.bounds[3] - b[:, 1]) / grid.res) - np.floor((grid.bounds[3] - b[:, 3]) / grid.res)))
    capacity = int(span.sum()) + len(rings)
    return kernels.polygon_pieces(u, v, offsets, pidx[ridx].astype(np.int64), np.where(first, 1.0, -1.0),
                                  *grid.shape, grid.res, capacity)


def polygon_coverage(geoms: gpd.GeoSeries, grid: Grid, region_pos: np.ndarray) -> Coverage:
    """Each polygon spreads by the exact fraction of its area (m2) inside each cell."""
    return _finish(*polygon_pieces(geoms, grid), region_pos, grid, len(geoms))


def coverage(geoms: gpd.GeoSeries, grid: Grid, region_pos: np.ndarray) -> Coverage:
    """Dispatch on geometry type: points, lines or polygons (one type per call)."""
    kinds = set(shapely.get_type_id(geoms.values))
    if kinds <= POINT_TYPES:
        return point_coverage(geoms, grid, region_pos)
    if kinds <= LINE_TYPES:
        return line_coverage(geoms, grid, region_pos)
    if kinds <= POLYGON_TYPES:
        return polygon_coverage(geoms, grid, region_pos)
    raise GeometryError(f"mixed or unsupported geometry types {sorted(kinds)}",
                        hint="split points, lines and polygons into separate tables")


def distribute(totals: np.ndarray, proxy: np.ndarray, grid: Grid, *, fallback: np.ndarray | None = None,
               out: np.ndarray | None = None) -> np.ndarray:
    """Spread region totals over cells in proportion to a proxy's magnitude.

    ``totals`` is (n_layers, n_regions) t CO2/yr; ``proxy`` is (n_layers, y, x), (y, x), or one
    compact (n_inside,) layer on the grid's :attr:`~Grid.cell_index` (the values at its cells).
    The proxy is normalised to sum to one within each region (HERMES-style); a region whose
    proxy is all zero follows ``fallback`` ((y, x) or compact, non-negative) if given and not
    all zero there, else gets its total spread evenly over its cells. Returns (n_layers, y, x)
    t CO2/yr/cell summing per region to ``totals``, in ``out`` when given (e.g. float32); an
    ``out`` of (n_layers, n_inside) is filled compact (the values at the grid's
    :attr:`~Grid.cell_index` cells alone, the same bits).
    """
    # a writable copy: numba compiles a kernel once per argument type, and a read-only array
    # is another type (a second compilation of spread_by_proxy on a fresh install)
    totals = np.array(totals, np.float64, ndmin=2)
    compact_proxy = np.ndim(proxy) == 1
    proxy = np.broadcast_to(proxy, (totals.shape[0],) + np.shape(proxy)[-1 if compact_proxy else -2:])
    backup = np.empty(0) if fallback is None else np.ravel(fallback)
    out = np.empty((totals.shape[0],) + grid.shape) if out is None else out
    runs = grid.spread_runs(proxy=compact_proxy, out=out.ndim == 2,
                            fallback=fallback is not None and np.ndim(fallback) == 1)
    for k in range(len(out)):  # loop over layers, not cells
        regionkernels.spread_by_proxy(runs, np.ravel(proxy[k]), totals[k], out[k].reshape(-1), backup)
    return out
