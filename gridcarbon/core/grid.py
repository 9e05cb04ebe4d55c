"""The project grid: an equal-area raster whose origin snaps to multiples of the resolution.

Values on the grid are t CO2 / yr / cell. A cell belongs to the region holding its
centroid (docs/architecture.md, "The grid"); cells outside every region are nodata.
Because origins snap to the resolution, 1 km cells nest exactly inside 10 km cells.
Coordinates and resolutions are in metres (the CRS's unit).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import geopandas as gpd
import numpy as np
import pyproj
import xarray as xr
from affine import Affine
from pyproj import CRS
from rasterio import features

from gridcarbon.core import regionkernels
from gridcarbon.core.cache import cached_pickle, digest
from gridcarbon.core.cells import CellIndex, label_runs
from gridcarbon.core.errors import CRSError, InputError
from gridcarbon.core.options import get_option

#: Albers equal-area conic for China (docs/architecture.md, "The grid"): standard
#: parallels 25 and 47 degrees N, central meridian 105 degrees E, metres.
CHINA_ALBERS = ("+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 "
                "+datum=WGS84 +units=m +no_defs")
#: default cell size (m): 10 km (docs/architecture.md, "The grid"); 1 km must work too
DEFAULT_RES_M = 10_000


def _named_crs(definition: str, name: str) -> CRS:
    """A CRS with a human name, so GIS tools show it instead of 'unknown'."""
    spec = CRS.from_user_input(definition).to_json_dict()
    spec["name"] = name
    return CRS.from_json_dict(spec)


#: the default grid CRS, written into every GeoTIFF and NetCDF as named WKT
CHINA_ALBERS_CRS = _named_crs(CHINA_ALBERS, "China Albers Equal Area (gridcarbon)")
#: region index of cells outside every region
OUTSIDE = -1
#: grid bounds snap to multiples of this (m) whenever the resolution divides it, so grids of
#: 10 km, 5 km, 1 km ... over the same regions share one extent and nest exactly
ALIGN_M = 10_000.0
#: tolerance on a ratio of two resolutions that must be a whole number (e.g. 10000 / 1000):
#: float noise, far below any real mismatch
WHOLE_RATIO_TOL = 1e-9


@dataclass(frozen=True, eq=False)
class Grid:
    """A north-up raster grid with a region index.

    ``bounds`` are (xmin, ymin, xmax, ymax) in ``crs`` units (m), multiples of ``res`` (m).
    ``region_index`` holds, per cell, the position of its region in ``regions`` or -1.
    """

    crs: CRS
    res: float
    bounds: tuple[float, float, float, float]
    regions: tuple[str, ...] = ()
    region_index: np.ndarray = field(default=None, repr=False)

    # -- construction -------------------------------------------------------------
    @classmethod
    def from_regions(cls, regions: gpd.GeoDataFrame, *, res: float = DEFAULT_RES_M,
                     crs: str | CRS = CHINA_ALBERS_CRS, region_field: str = "region") -> "Grid":
        """Grid of ``res`` metres covering ``regions`` (one polygon row per region), centroid membership."""
        if regions.crs is None:
            raise CRSError("region boundaries have no CRS", hint="set one, e.g. EPSG:4326")
        if res <= 0:
            raise InputError(f"resolution must be positive, got {res}")
        crs = CRS.from_user_input(crs)
        reg = regions.to_crs(crs)
        xmin, ymin, xmax, ymax = reg.total_bounds
        step = ALIGN_M if res <= ALIGN_M and abs(ALIGN_M / res - round(ALIGN_M / res)) < WHOLE_RATIO_TOL else res
        bounds = (np.floor(xmin / step) * step, np.floor(ymin / step) * step,
                  np.ceil(xmax / step) * step, np.ceil(ymax / step) * step)
        ids = tuple(str(r) for r in reg[region_field])
        grid = cls(crs, float(res), tuple(float(b) for b in bounds), ids)
        shapes = ((geom, i) for i, geom in enumerate(reg.geometry))
        index = features.rasterize(shapes, out_shape=grid.shape, transform=grid.transform,
                                   fill=OUTSIDE, dtype="int32", all_touched=False)
        _give_small_regions_a_cell(index, reg.geometry, grid)
        object.__setattr__(grid, "region_index", index)
        return grid

    # -- geometry -----------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        xmin, ymin, xmax, ymax = self.bounds
        return int(round((ymax - ymin) / self.res)), int(round((xmax - xmin) / self.res))

    @property
    def transform(self) -> Affine:
        return Affine(self.res, 0.0, self.bounds[0], 0.0, -self.res, self.bounds[3])

    @cached_property
    def x(self) -> np.ndarray:
        """Cell-centre x coordinates (m), west to east."""
        return self.bounds[0] + (np.arange(self.shape[1]) + 0.5) * self.res

    @cached_property
    def y(self) -> np.ndarray:
        """Cell-centre y coordinates (m), north to south."""
        return self.bounds[3] - (np.arange(self.shape[0]) + 0.5) * self.res

    @property
    def large(self) -> bool:
        """More cells than the ``large_grid_cells`` engine option (e.g. China at 1 km).

        Large grids keep their static layers (base-year inventory, landscape, suitability
        surfaces) in float32, the precision of the files: a national 1 km grid (27 M cells)
        then holds its 11 base-year sectors in 1.1 GB instead of 2.2 GB. Sums still run in
        float64, and base-year totals come from the float64 layers before they are stored.
        """
        return self.shape[0] * self.shape[1] > get_option("large_grid_cells")

    @property
    def storage_dtype(self) -> type:
        """dtype of static layers on this grid: float32 on a :attr:`large` grid, else float64."""
        return np.float32 if self.large else np.float64

    @property
    def cell_area_km2(self) -> float:
        """Area of one cell (km2)."""
        return self.res * self.res / 1e6

    @cached_property
    def inside(self) -> np.ndarray:
        """Boolean mask of cells that belong to some region."""
        return self.region_index >= 0

    @cached_property
    def cell_index(self) -> CellIndex:
        """The cells of every region as a :class:`~gridcarbon.core.cells.CellIndex`: what compact
        layers (one value per inside cell) are laid out on."""
        return CellIndex(self.shape, self.cells_of(-1))

    @cached_property
    def region_runs(self) -> np.ndarray:
        """The runs of cells of one region along the flat order (:func:`~gridcarbon.core.cells.label_runs`
        of the region index): what the per-region kernels walk instead of the whole rectangle."""
        return label_runs(self.region_index)

    @cached_property
    def compact_runs(self) -> np.ndarray:
        """:attr:`region_runs` as positions in compact layers (:attr:`cell_index`): the cells of
        a run are consecutive inside cells, so their compact positions are consecutive too."""
        return self.cell_index.runs(self.region_runs)

    def spread_runs(self, *, proxy: bool, out: bool, fallback: bool) -> np.ndarray:
        """The region runs of :func:`~gridcarbon.core.regionkernels.spread_by_proxy`, each flag
        True where that layer is compact: :attr:`compact_runs` (a compact ``proxy``) or
        :attr:`region_runs`, then each run's start in the ``out`` layer and in the ``fallback``
        layer, (5, n_runs); made once per combination (every sector of every year spreads by them)."""
        key = (proxy, out, fallback)
        if key not in self._spread:
            rows = [(self.compact_runs if compact else self.region_runs)[:1] for compact in (out, fallback)]
            self._spread[key] = np.ascontiguousarray(
                np.concatenate([self.compact_runs if proxy else self.region_runs, *rows]))
        return self._spread[key]

    @cached_property
    def _spread(self) -> dict[tuple[bool, bool, bool], np.ndarray]:
        return {}

    @cached_property
    def _cells(self) -> dict[int, np.ndarray]:
        return {}

    def cells_of(self, region_pos: int) -> np.ndarray:
        """Flat indices (ascending) of the cells of region ``region_pos``; -1: of every region (cached)."""
        cells = self._cells.get(region_pos)
        if cells is None:
            flat = self.region_index.ravel()
            cells = self._cells[region_pos] = np.flatnonzero(flat >= 0 if region_pos < 0 else flat == region_pos)
        return cells

    @cached_property
    def region_boxes(self) -> list[tuple[slice, slice]]:
        """Per region, the (rows, cols) slices bounding its cells."""
        from scipy import ndimage

        return ndimage.find_objects(self.region_index + 1, max_label=len(self.regions))

    def cell_of(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row and column of the cells holding points (x, y, m in the grid CRS); -1 where off the grid."""
        col = np.floor((np.asarray(x, float) - self.bounds[0]) / self.res).astype(np.int64)
        row = np.floor((self.bounds[3] - np.asarray(y, float)) / self.res).astype(np.int64)
        ny, nx = self.shape
        off = (row < 0) | (row >= ny) | (col < 0) | (col >= nx)
        return np.where(off, -1, row), np.where(off, -1, col)

    # -- aggregation ---------------------------------------------------------------
    def region_sums(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` (..., y, x) per region -> (..., n_regions), in the values' unit
        (t CO2/yr/cell -> t CO2/yr). Cells outside are ignored."""
        values = np.asarray(values)
        return self._run_sums(self.region_runs, values, cell_dims=2)

    def compact_region_sums(self, values: np.ndarray) -> np.ndarray:
        """:meth:`region_sums` of compact ``values`` (..., :attr:`cell_index` size): the very
        sums of the expanded layers (the same cells added in the same order)."""
        values = np.asarray(values)
        return self._run_sums(self.compact_runs, values, cell_dims=1)

    def _run_sums(self, runs: np.ndarray, values: np.ndarray, *, cell_dims: int) -> np.ndarray:
        """Sums per region (..., n_regions) of ``values`` whose last ``cell_dims`` axes are the
        cells ``runs`` index."""
        if values.dtype not in (np.float32, np.float64):  # float32 layers are summed in float64 without a copy
            values = values.astype(np.float64)
        flat = values.reshape((-1, math.prod(values.shape[-cell_dims:])))
        sums = regionkernels.region_sums(runs, flat, len(self.regions))
        return sums.reshape(values.shape[:-cell_dims] + (len(self.regions),))

    def coords(self) -> dict[str, xr.DataArray]:
        """x / y coordinates with CF attributes, for building DataArrays on this grid."""
        return {"y": xr.DataArray(self.y, dims="y", attrs={"units": "m", "standard_name": "projection_y_coordinate"}),
                "x": xr.DataArray(self.x, dims="x", attrs={"units": "m", "standard_name": "projection_x_coordinate"})}

    def nearest_region_cell(self, region_pos: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Flat index of the cell of region ``region_pos`` nearest to (u, v) in cell units.

        ``region_pos = -1`` means the nearest cell of any region. The search tree is not kept:
        on a 1 km national grid the trees of all regions hold 0.4 GB.
        """
        from scipy.spatial import cKDTree

        if region_pos < 0:
            rows, cols = np.nonzero(self.inside)
        else:  # search the region's bounding box only: same cells, same order
            box = self.region_boxes[region_pos]
            rows, cols = np.nonzero(self.region_index[box] == region_pos)
            rows, cols = rows + box[0].start, cols + box[1].start
        _, k = cKDTree(np.column_stack([cols + 0.5, rows + 0.5])).query(np.column_stack([u, v]))
        return rows[k] * self.shape[1] + cols[k]

    def describe(self) -> dict:
        """JSON-ready summary for manifests."""
        return {"crs": self.crs.to_wkt(), "res_m": self.res, "bounds": list(self.bounds),
                "shape": list(self.shape), "regions": list(self.regions),
                "cells_inside": int(self.inside.sum())}

    def coarsen_factor(self, other: "Grid") -> int:
        """Integer factor k such that ``other`` (coarser) cells hold k x k of ours."""
        k = other.res / self.res
        if abs(k - round(k)) > WHOLE_RATIO_TOL or round(k) < 1:
            raise InputError(f"resolution {other.res} is not a multiple of {self.res}")
        return int(round(k))


def _give_small_regions_a_cell(index: np.ndarray, geoms: gpd.GeoSeries, grid: Grid) -> None:
    """A region too small to hold any cell centroid takes the cell of its representative point."""
    present = np.bincount(index[index >= 0], minlength=len(geoms))
    for i in np.flatnonzero(present == 0):  # loop over (rare) regions, not cells
        pt = geoms.iloc[i].representative_point()
        row, col = grid.cell_of(pt.x, pt.y)
        if row >= 0:
            index[row, col] = i


def block_sum(values: np.ndarray, k: int) -> np.ndarray:
    """Aggregate (..., y, x) by k x k block sums (1 km -> 10 km with k = 10).

    Shapes must be multiples of k: grids built by :meth:`Grid.from_regions` at resolutions
    dividing 10 km share the 10 km extent, so they are.
    """
    *lead, ny, nx = values.shape
    return values.reshape(*lead, ny // k, k, nx // k, k).sum(axis=(-3, -1))



def crs_lookup(crs: CRS) -> tuple[str, int | None]:
    """``crs.to_string()`` and ``crs.to_epsg()``, asked once per process and definition: both
    search the EPSG database, 0.1-0.4 s each for :data:`CHINA_ALBERS_CRS`, which has no code
    (one search answers both there, :func:`_search`).
    Keyed by the text the CRS was made from (``srs``), not by CRS equality: equal CRSs made from
    WKT and from PROJJSON have different ``to_string()``. The answers are kept in the on-disk
    cache (:mod:`gridcarbon.core.cache`, kind ``crs``), keyed by that text and the pyproj and
    PROJ versions (which fix the EPSG database searched)."""
    return _lookup(crs.srs)


@lru_cache(maxsize=16)
def _lookup(srs: str) -> tuple[str, int | None]:
    return cached_pickle("crs", digest(srs, pyproj.__version__, pyproj.proj_version_str), lambda: _search(srs))


def _search(srs: str) -> tuple[str, int | None]:
    """``to_string()`` and ``to_epsg()`` of ``CRS(srs)``. Where no authority's CRS matches at
    ``to_epsg``'s confidence (70), none matches at ``to_string``'s (100) and no EPSG code does:
    one search answers both (``to_string`` is then the definition's own text)."""
    crs = CRS(srs)
    if crs.to_authority(min_confidence=70) is None:
        return crs.srs, None
    return crs.to_string(), crs.to_epsg()


class LookedUpCRS(CRS):
    """A CRS that answers :meth:`to_epsg` from :func:`crs_lookup` (pyogrio asks it again for
    every layer of a GeoPackage it writes)."""

    def to_epsg(self, min_confidence: int = 70) -> int | None:
        if min_confidence != 70:  # pyproj's default, the one crs_lookup asks with
            return super().to_epsg(min_confidence)
        return crs_lookup(CRS(self))[1]
