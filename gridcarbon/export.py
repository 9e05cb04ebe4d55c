"""Raster and cube writers: Cloud-Optimized GeoTIFF per layer, CF NetCDF for the cube.

Values are t CO2 / yr / cell, float64 in memory and float32 on disk. Cells outside every
region are nodata; a cell inside with no emission is 0 (DESIGN section 2). Writers are
byte-deterministic: the same input gives the same file, so runs can be compared by hash.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil
import xarray as xr
from rasterio.crs import CRS as RioCRS
from rasterio.errors import RasterioError
from rasterio.io import DatasetWriter, MemoryFile
from rasterio.windows import Window

from .errors import OutputError, RasterInputError
from .grid import Grid

UNITS = "t CO2/yr/cell"
CF_UNITS = "t yr-1"  # UDUNITS spelling of t CO2 / yr (per cell: see long_name)
LONG_NAME = "CO2 emission per grid cell (t CO2/yr/cell)"
NODATA = -9999.0
CUBE_DIMS = ("sector", "year", "y", "x")
BLOCK = 512  # COG internal tile edge (pixels), also the row stripe streamed to GDAL

#: GDAL COG creation options: lossless DEFLATE with the floating-point predictor,
#: average-resampled overviews (nodata-aware), no timestamps (GDAL adds none unless asked).
COG_OPTIONS = {"COMPRESS": "DEFLATE", "PREDICTOR": "FLOATING_POINT", "LEVEL": "6",
               "BLOCKSIZE": str(BLOCK), "OVERVIEW_RESAMPLING": "AVERAGE",
               "BIGTIFF": "IF_SAFER", "NUM_THREADS": "ALL_CPUS"}


def write_cog(path: str | Path, values: np.ndarray, grid: Grid, *, description: str,
              tags: dict[str, object], nodata: float = NODATA) -> Path:
    """Write one (y, x) layer of t CO2/yr/cell as a float32 Cloud-Optimized GeoTIFF.

    Cells outside every region become ``nodata``. ``description`` names the band;
    ``tags`` (sector, year, scenario, scenario_hash, seed, gridcarbon_version...) are
    stored as dataset tags next to ``units``. Returns the path written.
    """
    path = Path(path)
    values = np.asarray(values)
    if values.shape != grid.shape:
        raise OutputError(f"{path}: layer shape {values.shape} does not match grid {grid.shape}")
    profile = {"driver": "GTiff", "width": grid.shape[1], "height": grid.shape[0], "count": 1,
               "dtype": "float32", "crs": RioCRS.from_wkt(grid.crs.to_wkt()),
               "transform": grid.transform, "nodata": nodata, "tiled": True,
               "blockxsize": BLOCK, "blockysize": BLOCK}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with MemoryFile() as mem, mem.open(**profile) as staging:
            _stream_rows(staging, values, grid.inside, nodata)
            staging.set_band_description(1, description)
            staging.set_band_unit(1, UNITS)
            staging.update_tags(**{k: str(v) for k, v in tags.items()}, units=UNITS)
            rasterio.shutil.copy(staging, path, driver="COG", **COG_OPTIONS)
    except (OSError, RasterioError) as exc:
        raise OutputError(f"cannot write {path}: {exc}") from exc
    return path


def _stream_rows(dst: DatasetWriter, values: np.ndarray, inside: np.ndarray, nodata: float) -> None:
    """Copy ``values`` to ``dst`` band 1 in float32 stripes of BLOCK rows, nodata outside."""
    ny, nx = values.shape
    for row in range(0, ny, BLOCK):
        rows = slice(row, min(row + BLOCK, ny))
        stripe = np.where(inside[rows], values[rows], nodata).astype(np.float32)
        dst.write(stripe, 1, window=Window(0, row, nx, stripe.shape[0]))


def read_raster_band(path: str | Path) -> tuple[np.ndarray, dict[str, str]]:
    """Band 1 of a raster as float64 t CO2/yr/cell with nodata as NaN, plus its tags.

    The tags are the dataset tags with the band description added as ``description``.
    """
    try:
        with rasterio.open(path) as src:
            values = src.read(1, masked=True).astype(np.float64).filled(np.nan)
            tags = {**src.tags(), "description": src.descriptions[0] or ""}
    except RasterioError as exc:
        raise RasterInputError(f"cannot read raster: {exc}", source=str(path)) from exc
    return values, tags


def write_netcdf(path: str | Path, ds: xr.Dataset, grid: Grid, *, attrs: dict[str, object]) -> Path:
    """Write the (sector, year, y, x) ``emission`` cube as CF-1.8 NetCDF4, float32 + zlib.

    Only ``emission`` (t CO2/yr/cell) is written, one compressed chunk per sector and year.
    Outside cells get ``_FillValue``; a ``crs`` grid-mapping variable (CF Albers
    parameters, ``crs_wkt``, ``spatial_ref``, ``GeoTransform``) lets xarray/rioxarray,
    GDAL and QGIS place the grid. ``attrs`` become global attributes.
    """
    path = Path(path)
    if "emission" not in ds or set(ds["emission"].dims) != set(CUBE_DIMS):
        raise OutputError(f"{path}: need an 'emission' variable with dims {CUBE_DIMS}")
    out = _cf_dataset(ds, grid, attrs)
    ny, nx = grid.shape
    encoding = {"emission": {"dtype": "float32", "zlib": True, "complevel": 4,
                             "_FillValue": np.float32(NODATA), "chunksizes": (1, 1, ny, nx)},
                "sector": {"dtype": str}, "year": {"dtype": "int32"}}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        out.to_netcdf(path, format="NETCDF4", engine="netcdf4", encoding=encoding)
    except (OSError, RuntimeError) as exc:
        raise OutputError(f"cannot write {path}: {exc}") from exc
    return path


def _cf_dataset(ds: xr.Dataset, grid: Grid, attrs: dict[str, object]) -> xr.Dataset:
    """A copy of ``ds`` on the grid's coordinates with CF metadata; outside cells NaN."""
    inside = xr.DataArray(grid.inside, dims=("y", "x"))
    coords = grid.coords()
    coords["x"].attrs.update(axis="X", long_name="x coordinate of cell centre")
    coords["y"].attrs.update(axis="Y", long_name="y coordinate of cell centre")
    emission = ds["emission"].reset_coords(drop=True).transpose(*CUBE_DIMS).assign_coords(
        sector=[str(s) for s in ds["sector"].values], year=ds["year"].values.astype(np.int32),
        **coords).where(inside)
    emission.encoding = {}  # drop what a previous read left (the writer sets its own)
    emission.attrs = {"units": CF_UNITS, "long_name": LONG_NAME, "cell_methods": "area: sum",
                      "grid_mapping": "crs"}
    out = xr.Dataset({"emission": emission}, coords={"crs": _grid_mapping(grid)})
    out["sector"].attrs = {"long_name": "emission sector id"}
    out["year"].attrs = {"long_name": "calendar year"}
    out.attrs = {"Conventions": "CF-1.8", **{k: _attr(v) for k, v in attrs.items()}}
    return out


def _grid_mapping(grid: Grid) -> xr.DataArray:
    """Scalar CF grid-mapping variable describing ``grid.crs`` and its transform."""
    cf = {k: _attr(v) for k, v in grid.crs.to_cf().items()}
    wkt = grid.crs.to_wkt()
    geotransform = " ".join(repr(float(v)) for v in grid.transform.to_gdal())
    return xr.DataArray(np.int32(0), attrs={**cf, "crs_wkt": wkt, "spatial_ref": wkt,
                                            "GeoTransform": geotransform})


def _attr(value: object) -> object:
    """A NetCDF-storable attribute: numbers, strings and number lists pass, the rest as text."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, (str, int, float, np.number)):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) for v in value):
        return list(value)
    return str(value)
