"""The CF-1.8 NetCDF4 cube ``cube.nc``: (sector, year, y, x) of t CO2/yr/cell, written one year at a time.

Values are float32 on disk, :data:`~.export.NODATA` (``_FillValue``) outside every region, as
in the COGs (:mod:`.export`); the writer is byte-deterministic. The layout is in
docs/architecture.md, "Outputs".
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np
import xarray as xr
from zlib_ng import zlib_ng

from gridcarbon.core.errors import OutputError
from gridcarbon.core.grid import Grid
from gridcarbon.core.options import get_option
from gridcarbon.core.shuffle import shuffled_window
from gridcarbon.output.export import NODATA

#: UDUNITS spelling of t CO2 / yr (per cell: see LONG_NAME)
CF_UNITS = "t yr-1"
LONG_NAME = "CO2 emission per grid cell (t CO2/yr/cell)"
CUBE_DIMS = ("sector", "year", "y", "x")
#: zlib level of the cube: half the time of level 4 for ~7 % more bytes (1 km national year:
#: 6.7 s vs 13.1 s, 106 vs 99 MB); zlib, not zstd, so every netCDF reader opens it
CUBE_COMPLEVEL = 1
#: zlib strategy of the cube's chunks: run-length matches only (distance 1), still a standard
#: deflate stream any reader inflates. Byte-shuffled float32 layers are long runs (zeros inside,
#: the fill outside): on the 1024 x 1024 chunks of a 2 km national year (415 MB) 0.67 s for
#: 25.2 MB against 0.93 s for 25.9 MB with the default strategy (docs/performance.md, "eleventh round").
#: Deflated by zlib-ng, whose run-length deflate writes zlib's very bytes (the 231 chunks of a 2 km
#: national year: 25,211,761 bytes either way, all equal) in 0.22 s against zlib's 0.52 s
#: (docs/performance.md, "twelfth round")
CUBE_STRATEGY = zlib_ng.Z_RLE
#: zlib's default memory level (``zlib.h``, DEF_MEM_LEVEL), as ``zlib.compress`` uses
ZLIB_MEM_LEVEL = 8
#: the bytes of the float32 fill value, in memory order (what a chunk's padding holds)
_FILL_BYTES = np.array([NODATA], np.float32).view(np.uint8)


def write_netcdf(path: str | Path, ds: xr.Dataset, grid: Grid, *, attrs: dict[str, object]) -> Path:
    """Write an in-memory (sector, year, y, x) ``emission`` cube (t CO2/yr/cell) with :class:`CubeWriter`."""
    path = Path(path)
    if "emission" not in ds or set(ds["emission"].dims) != set(CUBE_DIMS):
        raise OutputError(f"{path}: need an 'emission' variable with dims {CUBE_DIMS}")
    emission = ds["emission"].transpose(*CUBE_DIMS)
    years = [int(y) for y in ds["year"].values]
    with CubeWriter(path, grid, sectors=[str(s) for s in ds["sector"].values], years=years, attrs=attrs) as cube:
        for k, year in enumerate(years):
            cube.write(year, emission.isel(year=k).values)
    return path


class CubeWriter:
    """CF-1.8 NetCDF4 cube (sector, year, y, x) of t CO2/yr/cell written one year at a time.

    float32 with shuffle + zlib, chunks of one sector and year and at most
    ``cube_chunk_cells`` (an engine option) a side, ``_FillValue`` outside every region (a chunk
    with no inside cell is not written: it reads as ``_FillValue`` and takes no bytes). A ``crs``
    grid-mapping variable (CF Albers parameters, ``crs_wkt``, ``spatial_ref``,
    ``GeoTransform``) lets xarray/rioxarray, GDAL and QGIS place the grid; ``attrs`` become
    global attributes. Use as a context manager; years may come in any order.

    netCDF-C makes the file, its variables and the filters of ``emission``; the values go in
    through h5py's direct chunk writes, each chunk shuffled and deflated here (:func:`packed_chunk`)
    on all cores (HDF5 filters a chunk on the writing thread only: China at 1 km spent 4.1 s a
    year in them on one core). The chunks are the bytes HDF5's own shuffle and deflate filters
    read back, written in a fixed order, so the file stays byte-deterministic.
    """

    def __init__(self, path: str | Path, grid: Grid, *, sectors: list[str], years: list[int],
                 attrs: dict[str, object]):
        import h5py
        import netCDF4

        self.path, self.grid, self.years = Path(path), grid, list(years)
        ny, nx = grid.shape
        edge = get_option("cube_chunk_cells")
        self.chunk = (min(ny, edge), min(nx, edge))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with netCDF4.Dataset(self.path, "w", format="NETCDF4") as nc:
                _define(nc, grid, sectors, self.years, attrs, chunk=self.chunk)
            self.h5 = h5py.File(self.path, "r+")
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc}") from exc
        self.var = self.h5["emission"]
        # only the chunks that hold an inside cell are written: HDF5 allocates no chunk never
        # written, and reads it back as _FillValue, so the chunks all outside are not compressed
        # (China at 1 km: 9 of a layer's 30 chunks, a quarter of its cells)
        self._windows = inside_windows(grid.inside, self.chunk)
        # each layer is stored through one float32 layer, filled in place: a new one per layer
        # (where, then astype) had the kernel zero 2 x 107 MB of fresh pages 407 times in a
        # 1 km national run
        self._stored = np.empty((ny, nx), np.float32)
        self._outside = ~grid.inside
        self._pool = ThreadPoolExecutor(min(os.cpu_count() or 1, len(self._windows)) or 1,
                                        thread_name_prefix="gridcarbon-cube")

    def write(self, year: int, layers: np.ndarray) -> None:
        """Write ``year``'s (n_sectors, y, x) layers (t CO2/yr/cell), or compact ones (n_sectors,
        n_inside) on the grid's :attr:`~Grid.cell_index`, one sector's rectangle at a time; cells
        outside every region become fill."""
        if year not in self.years:
            raise OutputError(f"{self.path}: year {year} is not in the cube's years")
        k = self.years.index(year)
        try:
            for i, layer in enumerate(layers):
                stored = self._stored_layer(layer)
                pack = partial(packed_chunk, stored, chunk=self.chunk)
                packed = self._pool.map(pack, self._windows) if len(self._windows) > 1 else map(pack, self._windows)
                for (rows, cols), data in zip(self._windows, packed):
                    self.var.id.write_direct_chunk((i, k, rows.start, cols.start), data)
        except (OSError, RuntimeError, ValueError) as exc:
            raise OutputError(f"cannot write {self.path}: {exc}") from exc

    def _stored_layer(self, layer: np.ndarray) -> np.ndarray:
        """The values of :func:`stored` of a (y, x) layer, or of a compact (n_inside,) one on the
        grid's :attr:`~Grid.cell_index`, in the writer's one float32 layer (overwritten by the next)."""
        if np.ndim(layer) == 1:
            self.grid.cell_index.expand(layer, fill=NODATA, out=self._stored)
        else:  # as stored(layer, inside) makes it: astype's cast, then the fill outside
            np.copyto(self._stored, layer, casting="unsafe")
            np.copyto(self._stored, np.float32(NODATA), where=self._outside)
        return self._stored

    def close(self) -> None:
        """Close the file (again: no-op)."""
        if self._stored is None:
            return
        self._stored = self._outside = None  # 0.13 GB at 1 km, not needed past the last year
        self._pool.shutdown()
        try:
            self.h5.close()
        except (OSError, RuntimeError) as exc:
            raise OutputError(f"cannot write {self.path}: {exc}") from exc

    def __enter__(self) -> "CubeWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _define(nc, grid: Grid, sectors: list[str], years: list[int], attrs: dict[str, object], *,
            chunk: tuple[int, int]) -> None:
    """The cube's dimensions, coordinates, ``crs`` and the (empty) ``emission`` variable in the
    open netCDF4 dataset ``nc``."""
    ny, nx = grid.shape
    nc.setncatts({"Conventions": "CF-1.8", **{k: _attr(v) for k, v in attrs.items()}})
    for name, size in (("sector", len(sectors)), ("year", len(years)), ("y", ny), ("x", nx)):
        nc.createDimension(name, size)
    sector = nc.createVariable("sector", str, ("sector",))
    sector.long_name = "emission sector id"
    sector[:] = np.array(sectors, dtype=object)
    year = nc.createVariable("year", "i4", ("year",))
    year.long_name = "calendar year"
    year[:] = np.asarray(years, np.int32)
    _write_axes(nc, grid)
    crs = nc.createVariable("crs", "i4", ())
    crs.setncatts({"long_name": "coordinate reference system of the grid", **_grid_mapping(grid).attrs})
    var = nc.createVariable("emission", "f4", CUBE_DIMS, zlib=True, complevel=CUBE_COMPLEVEL, shuffle=True,
                            chunksizes=(1, 1, *chunk), fill_value=np.float32(NODATA))
    var.setncatts({"units": CF_UNITS, "long_name": LONG_NAME, "cell_methods": "area: sum",
                   "coverage_content_type": "modelResult", "grid_mapping": "crs", "coordinates": "crs"})


def packed_chunk(stored: np.ndarray, window: tuple[slice, slice], *, chunk: tuple[int, int]) -> bytes:
    """The ``window`` of a float32 (y, x) layer as a stored cube chunk: padded with
    :data:`NODATA` to the full ``chunk`` (an edge chunk), byte-shuffled as HDF5's shuffle filter
    does (every value's first byte, then every second byte...:
    :func:`~gridcarbon.core.shuffle.shuffled_window`), then deflated at :data:`CUBE_COMPLEVEL`
    with :data:`CUBE_STRATEGY` (a zlib stream HDF5's deflate filter reads)."""
    shuffled = np.empty((4, *chunk), np.uint8)
    shuffled_window(np.ascontiguousarray(stored, np.float32).view(np.uint8), window[0].start, window[1].start,
                    _FILL_BYTES, shuffled)
    packer = zlib_ng.compressobj(CUBE_COMPLEVEL, zlib_ng.DEFLATED, zlib_ng.MAX_WBITS, ZLIB_MEM_LEVEL, CUBE_STRATEGY)
    return packer.compress(shuffled) + packer.flush()


def inside_windows(inside: np.ndarray, chunk: tuple[int, int]) -> list[tuple[slice, slice]]:
    """The (rows, cols) windows of the ``chunk`` (y, x cells) tiling of a grid whose (y, x)
    ``inside`` mask holds an inside cell, in row-major order (edge windows clipped to the grid)."""
    ny, nx = inside.shape
    cy, cx = chunk
    return [(slice(r, min(r + cy, ny)), slice(c, min(c + cx, nx)))
            for r in range(0, ny, cy) for c in range(0, nx, cx) if inside[r:r + cy, c:c + cx].any()]


def _write_axes(nc, grid: Grid) -> None:
    """x / y cell-centre coordinates (m) with their CF cell bounds ``x_bnds`` / ``y_bnds`` (edges, m)."""
    nc.createDimension("nv", 2)
    for axis, values, step in (("y", grid.y, -grid.res), ("x", grid.x, grid.res)):  # rows run north to south
        var = nc.createVariable(axis, "f8", (axis,))
        var.setncatts({**grid.coords()[axis].attrs, "axis": axis.upper(),
                       "long_name": f"{axis} coordinate of cell centre", "bounds": f"{axis}_bnds"})
        var[:] = values
        nc.createVariable(f"{axis}_bnds", "f8", (axis, "nv"))[:] = np.stack([values - step / 2, values + step / 2], 1)


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
