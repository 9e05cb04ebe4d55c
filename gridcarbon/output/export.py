"""Raster writers and readers: a Cloud-Optimized GeoTIFF per layer (the cube: :mod:`.cube`).

Values are t CO2 / yr / cell, float64 in memory and float32 on disk. Cells outside every
region are nodata; a cell inside with no emission is 0 (docs/architecture.md, "The
grid"). Writers are byte-deterministic: the same input gives the same file, so runs can be
compared by hash. The layout they fill is in docs/architecture.md, "Outputs".
"""
from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.crs import CRS as RioCRS
from rasterio.errors import RasterioError
from rasterio.io import DatasetWriter, MemoryFile
from rasterio.windows import Window

from gridcarbon.core.cells import CellIndex
from gridcarbon.core.errors import OutputError, RasterInputError
from gridcarbon.core.grid import Grid
from gridcarbon.core.units import UNITS
from gridcarbon.output.overviews import OVERVIEW_RESAMPLING, with_sum_overviews

#: value of cells outside every region (t CO2/yr/cell), in COGs and as the cube's _FillValue:
#: a common nodata convention, far from any real cell value (removals included)
NODATA = -9999.0
#: COG internal tile edge (pixels), also the row stripe streamed to GDAL
BLOCK = 512
#: smallest tile edge of a multi-band COG (pixels; GDAL's COG driver takes powers of two from
#: 128 up): a band is compressed tile by tile, so a grid smaller than a 512 px tile pads every
#: band to 512 x 512 (a 20-band provenance COG of the 89 x 80 YRD grid took 0.42 s with 512 px
#: tiles, 0.07 s with 128 px: ``write_bands_cog``)
MIN_BLOCK = 128
#: DEFLATE level of the COGs: zlib's default trade of time for size
COG_DEFLATE_LEVEL = 6

#: GDAL COG creation options: lossless DEFLATE with the floating-point predictor, the
#: sum overviews of :mod:`.overviews` as given, no timestamps (GDAL adds none unless asked).
COG_OPTIONS = {"COMPRESS": "DEFLATE", "PREDICTOR": "FLOATING_POINT", "LEVEL": str(COG_DEFLATE_LEVEL),
               "BLOCKSIZE": str(BLOCK), "OVERVIEWS": "FORCE_USE_EXISTING",
               "BIGTIFF": "IF_SAFER", "NUM_THREADS": "ALL_CPUS"}
#: compression of the in-memory staging copy of a large multi-band COG: ZSTD at its fastest
#: level (the values are the same whatever the staging; 20 bands of 1030 x 4840 cells staged in
#: 2.7 s against 15.3 s with DEFLATE, in a 2-core machine at load 10)
STAGING_COMPRESSION = {"compress": "ZSTD", "zstd_level": 1}
#: GDAL block cache while writing a COG (MB): GDAL's default (5 % of RAM) would hold another
#: ~0.5 GB of a 1 km national layer's blocks; 128 MB writes as fast
COG_CACHE_MB = 128
#: where GDAL builds each overview level of a multi-band COG before copying it: in memory. Its
#: default, for a level of more than about 10 MB, is a temporary GeoTIFF of one-row strips
#: beside the output, which GDAL re-read many times over (the 20-band provenance of China at
#: 1 km: 24 s of user and 56 s of system CPU; 17 and 3 s in memory, the same bytes, for 0.34 GB
#: more at the peak: its first level is 535 MB)
OVERVIEW_TEMP_DRIVER = "MEM"
#: held while a COG is written under ``rasterio.Env``: the Env sets GDAL's process-wide
#: configuration, and two threads entering and leaving it at once (the run writer's provenance
#: beside the storage-fill layers) left it changed for the rest of the process (a later GeoTIFF
#: of the same values, written band by band, came out 37 % larger)
GDAL_ENV_LOCK = threading.Lock()


def write_cog(path: str | Path, values: np.ndarray, grid: Grid, *, description: str,
              tags: dict[str, object], nodata: float = NODATA, units: str = UNITS,
              overviews: str = OVERVIEW_RESAMPLING) -> Path:
    """Write one (y, x) layer of ``units`` (default t CO2/yr/cell) as a float32 Cloud-Optimized GeoTIFF.

    Cells outside every region become ``nodata``. Overview pixels hold the sum of the cells
    they cover (t CO2/yr per overview pixel, tag ``overview_resampling=sum``,
    :mod:`.overviews`), so every zoom level keeps the layer's total; a layer that is not a
    quantity per cell (a fraction, a class) names a GDAL resampling instead (``"average"``,
    ``"mode"``), also given in the tag. ``description`` names the band;
    ``tags`` (sector, year, scenario, scenario_hash, seed, gridcarbon_version...) are
    stored as dataset tags next to ``units``. Returns the path written.
    """
    path = Path(path)
    values = np.asarray(values)
    if values.shape != grid.shape:
        raise OutputError(f"{path}: layer shape {values.shape} does not match grid {grid.shape}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with GDAL_ENV_LOCK, rasterio.Env(GDAL_CACHEMAX=COG_CACHE_MB), MemoryFile() as mem:
            with mem.open(**_staging_profile(grid, 1, nodata)) as staging:
                _stream_rows(staging, values, grid.inside, nodata)
                staging.set_band_description(1, description)
                staging.set_band_unit(1, units)
                staging.update_tags(**{k: str(v) for k, v in tags.items()}, units=units,
                                    overview_resampling=overviews)
            if overviews != OVERVIEW_RESAMPLING:
                rasterio.shutil.copy(mem.name, path, driver="COG", **{
                    **COG_OPTIONS, "OVERVIEWS": "AUTO", "OVERVIEW_RESAMPLING": overviews.upper()})
                return path
            with mem.open() as staged, with_sum_overviews(staged, values, grid.inside, block=BLOCK,
                                                          nodata=nodata) as vrt, rasterio.open(vrt) as source:
                rasterio.shutil.copy(source, path, driver="COG", **COG_OPTIONS)
    except (OSError, RasterioError) as exc:
        raise OutputError(f"cannot write {path}: {exc}") from exc
    return path


def write_bands_cog(path: str | Path, bands: Iterable[tuple[str, np.ndarray]], grid: Grid, *, count: int,
                    tags: dict[str, object], nodata: float = NODATA) -> Path:
    """Write ``count`` (y, x) float32 layers as the bands of one Cloud-Optimized GeoTIFF.

    ``bands`` yields (description, values) one band at a time, so only one full layer is held
    beside the compressed staging copy; cells outside every region become ``nodata``. The
    values' unit is the caller's (say it in the descriptions); overviews sample the nearest cell
    (classes and shares, not quantities to sum). Returns the path written.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        block = band_block(grid)
        # staged band by band (a band's tiles are compressed once, not re-read and recompressed
        # with every later band, as pixel-interleaved tiles were: 4x the time for China at 10 km),
        # and compressed only on a large grid (20 float32 bands of China at 1 km: 2.1 GB; at
        # 10 km, 21 MB, where a compressed staging copy only costs a compression pass).
        # GDAL copies the staged bands to the COG in swaths of GDAL_SWATH_SIZE bytes; its default
        # (a quarter of the block cache) holds a fraction of a row of tiles of all bands and the
        # copy re-read each tile many times (20 bands of China at 1 km: minutes): a swath of one
        # row of tiles of every band (the same bytes, 0.2 GB there)
        swath = grid.shape[1] * block * count * np.dtype(np.float32).itemsize
        with GDAL_ENV_LOCK, rasterio.Env(GDAL_CACHEMAX=COG_CACHE_MB, GDAL_SWATH_SIZE=swath,
                                         GDAL_OVR_TEMP_DRIVER=OVERVIEW_TEMP_DRIVER), MemoryFile() as mem, \
                mem.open(**_staging_profile(grid, count, nodata, block), interleave="band",
                         **(STAGING_COMPRESSION if grid.large else {"compress": "NONE"})) as staging:
            written = 0
            for written, (description, values) in enumerate(bands, 1):
                if np.shape(values) != grid.shape:
                    raise OutputError(f"{path}: band {description!r} shape {np.shape(values)} is not {grid.shape}")
                _stream_rows(staging, values, grid.inside, nodata, band=written)
                staging.set_band_description(written, description)
            if written != count:
                raise OutputError(f"{path}: {written} bands given, {count} announced")
            staging.update_tags(**{k: str(v) for k, v in tags.items()}, overview_resampling="nearest")
            rasterio.shutil.copy(staging, path, driver="COG", **{**COG_OPTIONS, "OVERVIEWS": "AUTO",
                                                                 "OVERVIEW_RESAMPLING": "NEAREST",
                                                                 "BLOCKSIZE": str(block)})
    except (OSError, RasterioError) as exc:
        raise OutputError(f"cannot write {path}: {exc}") from exc
    return path


def band_block(grid: Grid) -> int:
    """Tile edge (pixels) of a multi-band COG on ``grid``: the smallest power of two that holds
    the grid's longer side, from :data:`MIN_BLOCK` to :data:`BLOCK`."""
    return int(min(BLOCK, max(MIN_BLOCK, 2 ** math.ceil(math.log2(max(grid.shape))))))


def _staging_profile(grid: Grid, count: int, nodata: float, block: int = BLOCK) -> dict:
    """GTiff profile of the in-memory staging copy of a float32 COG of ``count`` bands on ``grid``
    (tiles of ``block`` pixels)."""
    return {"driver": "GTiff", "width": grid.shape[1], "height": grid.shape[0], "count": count,
            "dtype": "float32", "crs": RioCRS.from_wkt(grid.crs.to_wkt()),
            "transform": grid.transform, "nodata": nodata, "tiled": True,
            "blockxsize": block, "blockysize": block}


def _stream_rows(dst: DatasetWriter, values: np.ndarray, inside: np.ndarray, nodata: float, *,
                 band: int = 1) -> None:
    """Copy ``values`` to ``dst`` ``band`` in float32 stripes of BLOCK rows, nodata outside."""
    ny, nx = values.shape
    for row in range(0, ny, BLOCK):
        rows = slice(row, min(row + BLOCK, ny))
        stripe = stored(values[rows], inside[rows], nodata)
        dst.write(stripe, band, window=Window(0, row, nx, stripe.shape[0]))


def stored(values: np.ndarray, inside: np.ndarray, nodata: float = NODATA) -> np.ndarray:
    """A layer as a COG band stores it: float32 ``values`` (t CO2/yr/cell) inside the regions, ``nodata`` outside."""
    return np.where(inside, values, nodata).astype(np.float32)


def as_read(band: np.ndarray, nodata: float = NODATA) -> np.ndarray:
    """What :func:`read_raster_band` gives for a stored float32 ``band``: float64, ``nodata`` as NaN."""
    return np.where(band == np.float32(nodata), np.nan, band.astype(np.float64))


def read_raster_band(path: str | Path) -> tuple[np.ndarray, dict[str, str]]:
    """Band 1 of a raster as float64 t CO2/yr/cell with nodata as NaN, plus its tags.

    The tags are the dataset tags with the band description added as ``description``.
    """
    band, tags = _read_masked(path)
    values = band.data.astype(np.float64)  # filled in place: no masked float64 copy (China at 1 km: 0.5 GB)
    values[np.ma.getmaskarray(band)] = np.nan
    return values, tags


def read_raster_cells(path: str | Path, index: CellIndex) -> np.ndarray:
    """What :func:`read_raster_band` gives at the cells of ``index`` alone: compact float64
    (t CO2/yr/cell), nodata as NaN, without a float64 rectangle (China at 1 km: 214 MB, and as
    much again to fill it)."""
    band, _ = _read_masked(path)
    return np.where(index.compact(np.ma.getmaskarray(band)), np.nan, index.compact(band.data).astype(np.float64))


def _read_masked(path: str | Path) -> tuple[np.ma.MaskedArray, dict[str, str]]:
    """Band 1 of a raster as stored, nodata masked, and its tags (with ``description``)."""
    try:
        with rasterio.open(path) as src:
            return src.read(1, masked=True), {**src.tags(), "description": src.descriptions[0] or ""}
    except RasterioError as exc:
        raise RasterInputError(f"cannot read raster: {exc}", source=str(path)) from exc
