"""Source tables -> the base-year emission Dataset (sector, y, x) on a grid.

The one path every inventory takes, built-in or user-supplied: validated point, line and
area frames are gridded exactly (:mod:`gridcarbon.core.gridding`), region-total layers are
spread over proxies, and the result is checked for mass balance before it leaves.
Point sources keep the region of their own geometry; lines and polygons count in the
region of the cells they cross (docs/architecture.md, "Sources and inventories"). Source
values are t CO2/yr; gridded layers t CO2/yr/cell.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr

from gridcarbon.core.errors import RasterInputError
from gridcarbon.core.grid import Grid
from gridcarbon.core.gridding import Coverage, coverage
from gridcarbon.core.sectors import GRIDDED, SECTORS
from gridcarbon.core.units import UNITS

#: characters of a GDAL error message quoted in an input error (its first line): enough to
#: name the problem, short enough for the CLI's one-line reason
ERROR_DETAIL_CHARS = 120


@dataclass
class Inventory:
    """A gridded base-year inventory and the tables it came from.

    ``emissions``: Dataset with ``emission`` (sector, y, x), t CO2/yr/cell; or (sector, cell),
    one value per cell of the grid's :attr:`~Grid.cell_index` once :meth:`compacted`.
    ``totals``: region, sector, value_t for every sector incl. the non-gridded ``indirect``.
    ``facilities``: point sources (grid CRS) with their ``cell`` (flat index).
    ``lines``: line sources (grid CRS); ``line_coverage`` their exact cell shares.
    ``calibration``: built-in baselines: per region x sector, the point sources' physical-activity
    total ``raw_t``, the ``calibrated_t`` total and their ratio ``factor``.
    """

    grid: Grid
    year: int
    emissions: xr.Dataset
    totals: pd.DataFrame
    facilities: gpd.GeoDataFrame
    lines: gpd.GeoDataFrame
    line_coverage: Coverage | None
    history: list[str] = field(default_factory=list)
    calibration: pd.DataFrame | None = None  # region, sector, facilities, raw_t, calibrated_t, factor

    def calibration_records(self) -> list[dict]:
        """The calibration factors per region x sector as JSON-ready records (empty when none)."""
        if self.calibration is None:
            return []
        return [{k: (round(v, 6) if isinstance(v, float) else v) for k, v in r.items()}
                for r in self.calibration.astype(object).to_dict("records")]

    def layers(self) -> np.ndarray:
        """(n_gridded, y, x) t CO2/yr/cell in GRIDDED order, (n_gridded, n_inside) once
        :meth:`compacted`: the stored layers, not a copy (:func:`assemble` lays sectors out in
        that order; a ``.sel`` by the sector list would copy them, 1.2 GB for China at 1 km)."""
        return self.emissions["emission"].values

    def layer(self, sector: str) -> np.ndarray:
        """(y, x) t CO2/yr/cell of one gridded sector ((n_inside,) once :meth:`compacted`)."""
        return self.emissions["emission"].sel(sector=sector).values

    def region_sums(self, sector: str) -> np.ndarray:
        """t CO2/yr of one gridded sector per region (the same bits held full or compact)."""
        layer = self.layer(sector)
        return self.grid.region_sums(layer) if layer.ndim == 2 else self.grid.compact_region_sums(layer)

    def compacted(self) -> Inventory:
        """This inventory with its layers held compact, (sector, cell) on the grid's
        :attr:`~Grid.cell_index` (the same values: :func:`assemble` leaves 0 outside every
        region). What a large grid's run holds once its study area is built (China at 1 km:
        0.42 GB of float32 layers instead of 1.18)."""
        emission = self.emissions["emission"]
        if emission.ndim == 2:
            return self
        compact = self.grid.cell_index.compact(emission.values)
        ds = xr.Dataset({"emission": (("sector", "cell"), compact, emission.attrs)},
                        coords={"sector": emission["sector"].values}, attrs=self.emissions.attrs)
        return replace(self, emissions=ds)


def region_positions(frame: pd.DataFrame, grid: Grid) -> np.ndarray:
    """Position of each record's region in ``grid.regions``; -1 when the table has none."""
    if "region" not in frame.columns:
        return np.full(len(frame), -1, np.int64)
    lookup = {r: i for i, r in enumerate(grid.regions)}
    return frame["region"].map(lookup).fillna(-1).astype(np.int64).to_numpy()


def frame_coverage(frame: gpd.GeoDataFrame, grid: Grid, *, own_region: bool) -> Coverage:
    """Exact cell shares (fractions summing to 1 per record) of one validated source frame's records."""
    return coverage(frame.geometry, grid, region_positions(frame, grid) if own_region
                    else np.full(len(frame), -1, np.int64))


def grid_frame(frame: gpd.GeoDataFrame, grid: Grid, *, own_region: bool) -> tuple[np.ndarray, Coverage]:
    """Grid one validated source frame -> ((n_sectors, y, x) over GRIDDED in t CO2/yr/cell, coverage)."""
    cov = frame_coverage(frame, grid, own_region=own_region)
    layer = frame["sector"].map({s: i for i, s in enumerate(GRIDDED)}).to_numpy()
    return cov.spread(frame["emission_t"].to_numpy(), grid, layer=layer, n_layers=len(GRIDDED)), cov


def assemble(grid: Grid, year: int, layers: np.ndarray, *, sums: np.ndarray | None = None,
             indirect: pd.Series | None = None, attrs: dict | None = None) -> tuple[xr.Dataset, pd.DataFrame]:
    """(n_sectors, y, x) layers, or compact (n_sectors, n_inside) ones on the grid's
    :attr:`~Grid.cell_index` -> emission Dataset ((sector, y, x) or (sector, cell), as
    :meth:`Inventory.compacted` holds it) and region x sector totals table.

    Float64 and float32 ``layers`` are taken over, not copied (a 1 km national cube is 2.4 GB
    in float64): cells outside every region are set to 0 in place. ``sums`` (n_sectors,
    n_regions, t CO2/yr) are the region sums of float64 layers that were stored in float32
    (:attr:`Grid.storage_dtype`), so the totals stay exact; by default they are summed here.
    """
    layers = np.asarray(layers)
    if layers.dtype != np.float32:
        layers = layers.astype(np.float64, copy=False)
    attrs = {"base_year": year, **(attrs or {})}
    if layers.ndim == 2:
        ds = xr.Dataset({"emission": (("sector", "cell"), layers, {"units": UNITS})},
                        coords={"sector": list(GRIDDED)}, attrs=attrs)
        sums = grid.compact_region_sums(layers) if sums is None else sums
    else:
        np.copyto(layers, 0.0, where=~grid.inside)
        ds = xr.Dataset({"emission": (("sector", "y", "x"), layers, {"units": UNITS})},
                        coords={"sector": list(GRIDDED), **grid.coords()}, attrs=attrs)
        sums = grid.region_sums(layers) if sums is None else sums
    rows = [(r, s, sums[i, j]) for i, s in enumerate(GRIDDED) for j, r in enumerate(grid.regions)]
    ind = (indirect if indirect is not None else pd.Series(dtype=float)).reindex(list(grid.regions)).fillna(0.0)
    rows += [(r, "indirect", float(ind[r])) for r in grid.regions]
    return ds, pd.DataFrame(rows, columns=["region", "sector", "value_t"])


def grid_regions(grid: Grid):
    """Polygons (grid CRS) of the cells inside regions, one per connected block of cells."""
    import shapely
    from rasterio import features

    mask = grid.inside.astype(np.uint8)
    return np.array([shapely.geometry.shape(g) for g, v in
                     features.shapes(mask, mask=mask.astype(bool), transform=grid.transform) if v])


def regrid_raster(path, grid: Grid, *, band_sectors: list[str] | None = None) -> np.ndarray:
    """Regrid a gridded inventory (GeoTIFF/NetCDF, any CRS, t CO2/yr per pixel) mass-conservingly.

    Each non-zero pixel overlapping a region is a polygon whose value spreads by exact
    area share onto the grid; the part of such a pixel outside every region moves to the
    nearest region cell, so the total of these pixels is conserved. Pixels touching no
    region are left out (a national raster on a regional grid keeps the study area's
    share); a raster touching no region at all is an error (wrong CRS?). Bands map to
    ``band_sectors`` (default: band descriptions as sector ids). Returns (n_sectors, y, x)
    over GRIDDED, t CO2/yr/cell.
    """
    import shapely

    name = Path(path).name if isinstance(path, (str, os.PathLike)) else getattr(path, "name", str(path))
    data, sectors, transform, crs = _read_raster(path, name, band_sectors)
    out = np.zeros((len(GRIDDED),) + grid.shape)
    rows, cols = np.nonzero(np.any(data != 0, axis=0))
    if rows.size == 0:
        return out
    x0, y0 = transform * (cols, rows)
    x1, y1 = transform * (cols + 1, rows + 1)
    pixels = gpd.GeoSeries(shapely.box(np.minimum(x0, x1), np.minimum(y0, y1), np.maximum(x0, x1),
                                       np.maximum(y0, y1)), crs=crs).to_crs(grid.crs)
    touching = np.zeros(rows.size, bool)
    touching[shapely.STRtree(pixels.values).query(grid_regions(grid), predicate="intersects")[1]] = True
    if not touching.any():
        raise RasterInputError("lies outside every region", source=name,
                               hint="check the raster's CRS and extent")
    rows, cols, pixels = rows[touching], cols[touching], pixels[touching]
    cov = coverage(pixels, grid, np.full(rows.size, -1, np.int64))
    for b, s in enumerate(sectors):
        out[GRIDDED.index(s)] += cov.spread(data[b, rows, cols], grid)[0]
    return out


def _read_raster(path, name: str, band_sectors: list[str] | None):
    """(bands, y, x) float64 values (nodata -> 0), the sector of each band, transform and CRS.

    Raises :class:`RasterInputError` (naming the file ``name``) for an unreadable file, a
    missing CRS, bands that are not gridded sectors, or NaN / infinite values.
    """
    import rasterio

    try:
        src = rasterio.open(path)
    except rasterio.errors.RasterioIOError as err:
        raise RasterInputError(f"cannot be read as a raster ({_first_line(err)})", source=name,
                               hint="give a complete GeoTIFF or NetCDF file") from err
    with src:
        if src.crs is None:
            raise RasterInputError("raster has no CRS", source=name, hint="assign one with gdal_edit.py -a_srs")
        sectors = band_sectors or [d or "" for d in src.descriptions]
        if len(sectors) != src.count:
            raise RasterInputError(f"{src.count} bands but {len(sectors)} sectors given", source=name,
                                   hint="give one sector per band")
        for b, s in enumerate(sectors, start=1):
            if s not in SECTORS or not SECTORS[s].gridded:
                raise RasterInputError(f"not a gridded sector ({s!r})", source=name, record=f"band {b}",
                                       hint="set band descriptions to sector ids or pass band_sectors")
        try:
            data = src.read(masked=True).astype(np.float64).filled(0.0)
        except rasterio.errors.RasterioError as err:
            raise RasterInputError(f"raster data cannot be read ({_first_line(err)})",
                                   source=name, hint="the file may be truncated: export it again") from err
        finite = np.isfinite(data)
        if not finite.all():
            band, row, col = (int(i[0]) for i in np.nonzero(~finite))
            raise RasterInputError(f"raster holds NaN or infinite values outside nodata (row {row}, column {col})",
                                   source=name, record=f"band {band + 1}",
                                   hint="set those pixels to the nodata value or to 0")
        return data, sectors, src.transform, src.crs


def _first_line(err: Exception) -> str:
    """The first line of a GDAL error, cut to :data:`ERROR_DETAIL_CHARS` characters."""
    return str(err).splitlines()[0][:ERROR_DETAIL_CHARS]
