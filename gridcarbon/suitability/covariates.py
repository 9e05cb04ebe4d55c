"""Per-cell covariates for the suitability models, on any grid.

Distances come from Euclidean distance transforms of rasterised features (one pass over
the grid, no per-cell Python), densities from box filters. The same code serves 10 km
and 1 km: neighbourhoods are given in km and converted to cells.
"""
from __future__ import annotations


import geopandas as gpd
import numpy as np
import xarray as xr
from rasterio import features as rfeatures
from scipy import ndimage

from gridcarbon.core.cells import CellIndex
from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import POINT_SECTORS
from gridcarbon.inventory.landscape import ECO_RESERVE_CELL, WATER_CELL

#: radius (km) of the neighbourhood over which industrial density is summed. ASSUMPTION:
#: the scale of an industrial cluster (a port or riverside chemical park and its suppliers);
#: the cross-validation blocks (:data:`~gridcarbon.suitability.model.BLOCK_KM`) are wider
DENSITY_RADIUS_KM = 25.0
#: distance (km) reported where a feature does not exist on the grid (e.g. no coast).
#: ASSUMPTION: any distance well beyond the tens of km over which a coast, river or road
#: still matters for siting serves; every cell of such a grid then ranks as "far"
FAR_KM = 500.0
#: name prefixes of the corridor table's waterways that carry sea-going and 3,000 t bulk ships:
#: the two east-west trunks ("two horizontals") of the Ministry of Communications' National
#: Inland Waterway and Port Layout Plan (2007): the Yangtze trunk (12.5 m deep-water channel
#: up to Nanjing since 2019) and the Xijiang trunk. The Grand Canal (the plan's "one vertical",
#: class II: 2,000 t barges) and smaller rivers do not count
TRUNK_WATERWAYS = ("Yangtze River", "Xi River")
#: yuan per million yuan: ``log_gdp_density`` is log1p of million yuan / yr / km2
YUAN_PER_MILLION = 1e6


def distance_km(geoms: gpd.GeoSeries, grid: Grid) -> np.ndarray:
    """Distance (km) from each cell centre to the nearest cell touched by ``geoms``."""
    geoms = geoms[~geoms.is_empty]
    if len(geoms) == 0:
        return np.full(grid.shape, FAR_KM)
    hit = rfeatures.rasterize(((g, 1) for g in geoms), out_shape=grid.shape, transform=grid.transform,
                              fill=0, dtype="uint8", all_touched=True)
    if not hit.any():
        return np.full(grid.shape, FAR_KM)
    out = ndimage.distance_transform_edt(hit == 0)
    out *= grid.res  # in place: the bits of ``edt * res / 1000``, without two more full layers
    out /= 1000.0
    return out


def neighbourhood_sum(values: np.ndarray, grid: Grid, radius_km: float = DENSITY_RADIUS_KM,
                      *, exclude_centre: bool = False) -> np.ndarray:
    """Sum of ``values`` over a square window of +-``radius_km`` (km) around each cell (values' unit)."""
    k = max(1, int(round(radius_km * 1000.0 / grid.res)))
    size = 2 * k + 1
    total = ndimage.uniform_filter(np.asarray(values, np.float64), size=size, mode="constant")
    total *= size  # in place, as ``mean * size * size - values`` evaluates, without more full layers
    total *= size
    if exclude_centre:
        total -= values
    return total


def cluster_density(values: np.ndarray, grid: Grid) -> np.ndarray:
    """log1p of the emissions ``values`` (t CO2/yr/cell) within :data:`DENSITY_RADIUS_KM`, centre excluded."""
    total = neighbourhood_sum(values, grid, exclude_centre=True)
    return np.log1p(np.maximum(total, 0.0, out=total), out=total)


def port_distance_km(lines: gpd.GeoDataFrame, coast_km: np.ndarray, grid: Grid) -> np.ndarray:
    """Distance (km) to the nearest coast (``coast_km``, km per cell) or trunk waterway
    (:data:`TRUNK_WATERWAYS`): where bulk carriers land iron ore, coal and clinker. Lines
    without a ``name`` column are no trunk waterway."""
    if "name" not in lines.columns:
        return coast_km
    trunk = (lines.kind == "waterway") & lines["name"].fillna("").str.startswith(TRUNK_WATERWAYS)
    return np.minimum(coast_km, distance_km(lines.geometry[trunk.to_numpy()], grid))


def build_covariates(grid: Grid, *, landscape: xr.Dataset, lines: gpd.GeoDataFrame,
                     coast: gpd.GeoSeries, city_points: gpd.GeoSeries,
                     point_layers: dict[str, np.ndarray]) -> xr.Dataset:
    """Covariate stack as a Dataset of named float32 layers over the grid's inside cells: each
    layer has the one dimension ``cell``, laid out by ``grid.cell_index``
    (:class:`~gridcarbon.core.cells.CellIndex`).

    ``lines`` carries ``kind`` (motorway, rail, waterway) and optionally ``name``; ``lines``,
    ``coast`` and ``city_points`` are in the grid CRS; ``point_layers`` maps point sectors to their base-year layers
    (t CO2/yr/cell, (y, x) or compact on the grid's cell index: expanded one at a time). Units are in the layer names: distances in km, ``log_pop_density``
    log1p(persons / km2), ``log_gdp_density`` log1p(million yuan / yr / km2), elevation in
    m, land-cover layers fractions 0..1, ``ind_<sector>`` the sector's :func:`cluster_density`.

    Distances and densities need the whole rectangle: each is made there and kept compact at
    once, one at a time (China at 1 km: 20 compact layers of 38 MB instead of full ones of 107 MB).
    """
    km2 = grid.cell_area_km2

    def kept(values: np.ndarray) -> np.ndarray:  # float32: what the tree models compute in anyway
        return np.asarray(grid.cell_index.compact(values), np.float32)

    by_kind = {k: lines.geometry[lines.kind == k] for k in ("waterway", "motorway", "rail")}
    # one distance transform at a time: scipy's holds an int32 (2, y, x) feature transform beside
    # its float64 result (China at 1 km: about 0.6 GB); two at once made the run's peak
    coast_km = distance_km(coast, grid)
    layers = {"dist_coast_km": kept(coast_km), "dist_port_km": kept(port_distance_km(lines, coast_km, grid))}
    del coast_km
    for kind, geoms in (*by_kind.items(), ("city", city_points)):
        layers[f"dist_{kind}_km"] = kept(distance_km(geoms, grid))
    population, gdp = (grid.cell_index.compact(landscape[k].values) for k in ("population", "gdp"))
    layers["log_pop_density"] = np.asarray(np.log1p(population / km2), np.float32)
    layers["log_gdp_density"] = np.asarray(np.log1p(gdp / km2 / YUAN_PER_MILLION), np.float32)
    for k in ("elevation_m", "water", "forest", "cropland", "eco_reserve", "built_up"):
        layers[k] = kept(landscape[k].values)
    for s in POINT_SECTORS:
        layers[f"ind_{s}"] = kept(cluster_density(grid.cell_index.full(point_layers.get(s, np.zeros(grid.shape))),
                                                  grid))
    return xr.Dataset({k: (("cell",), v) for k, v in layers.items()})


def barred(landscape: xr.Dataset, *, relocate_from: list[str]) -> np.ndarray:
    """Cells where large point sources may not stay or be built whatever a year's land: water
    cells (above :data:`~gridcarbon.inventory.landscape.WATER_CELL`) always, and cells above
    :data:`~gridcarbon.inventory.landscape.ECO_RESERVE_CELL` of reserve when ``relocate_from``
    names them. Returns a boolean (y, x) mask (what :func:`restricted` adds a year's urban cores to)."""
    mask = landscape.water.values > WATER_CELL
    if "eco_reserve" in relocate_from:
        mask |= landscape.eco_reserve.values > ECO_RESERVE_CELL
    return mask


def restricted(always: np.ndarray, *, built_up: np.ndarray, index: CellIndex, urban_core_threshold: float,
               relocate_from: list[str]) -> np.ndarray:
    """Cells where large point sources may not stay or be built (urban cores, eco red lines, water).

    The ``always`` barred cells (boolean (y, x), :func:`barred`), and cells with a built-up
    fraction ``built_up`` (0..1, compact on ``index``) of at least ``urban_core_threshold``
    (0..1) when ``relocate_from`` names urban cores. Returns a new boolean (y, x) mask.
    """
    mask = always.copy()
    if "urban_core" in relocate_from:
        mask.reshape(-1)[index.cells[built_up >= urban_core_threshold]] = True
    return mask
