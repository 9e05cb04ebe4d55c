"""The built-in CHRED-style baselines (the Yangtze River Delta and China).

No open CHRED release exists, so the built-in inventories are assembled from the
package's data (see ``data/SOURCES.md``): the real coal units, gas plants, steel and cement
plants of ``data/facilities/`` (:mod:`gridcarbon.inventory.facilities`) and illustrative
chemical sites, transport along real corridors, area sources on population, built-up and
MODIS cropland proxies around real cities, forest sinks on MODIS forest. Sector totals are
calibrated to ``data/<set>_calibration.yaml``. Generation is deterministic.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr

from gridcarbon.core import memory
from gridcarbon.core.cache import cached_pickle, code_fingerprint, digest
from gridcarbon.core.errors import MassBalanceError
from gridcarbon.core.grid import DEFAULT_RES_M, Grid
from gridcarbon.core.gridding import distribute
from gridcarbon.core.options import OPTIONS
from gridcarbon.core.sectors import GRIDDED, POINT_SECTORS
from gridcarbon.core.units import T_PER_MT
from gridcarbon.inputs.data import read_table, read_yaml
from gridcarbon.inputs.regions import load_regions
from gridcarbon.inputs.sources import prepare_sources
from gridcarbon.inventory.base import Inventory, assemble, frame_coverage
from gridcarbon.inventory.facilities import calibration_table, facility_points
from gridcarbon.inventory.landscape import build_landscape
from gridcarbon.inventory.proxies import activity_proxy


def calibration(region_set: str) -> dict:
    """The region set's calibration figures (``data/<set>_calibration.yaml``)."""
    return read_yaml(f"{region_set}_calibration.yaml")


def sector_totals_t(cal: dict) -> dict[str, float]:
    """Gridded sector totals (t CO2/yr); other_industry closes the direct total."""
    totals = {s: v * T_PER_MT for s, v in cal["sectors_mt"].items()}
    direct = cal["total_mt"] * (1 - cal["indirect_share"]) * T_PER_MT
    totals["other_industry"] = direct - sum(v for s, v in totals.items() if v > 0)
    return totals


def plant_points(region_set: str, grid: Grid, regions: gpd.GeoDataFrame, cal: dict,
                 totals: dict) -> gpd.GeoDataFrame:
    """Real facilities (and the illustrative chemical sites) -> calibrated point sources.

    ``totals``: t CO2/yr per sector (:func:`sector_totals_t`); ``emission_t`` is t CO2/yr,
    ``raw_t`` the physical-activity estimate and ``calibration_factor`` the sector's scale
    (:mod:`gridcarbon.inventory.facilities`). Pipeline rows carry ``emission_t`` 0.
    """
    frame = facility_points(region_set, list(regions.region), cal, {s: totals[s] for s in POINT_SECTORS})
    return prepare_sources(frame, "points", regions, crs=grid.crs, name=f"{region_set} facilities")


def corridor_lines(region_set: str, grid: Grid, regions: gpd.GeoDataFrame, totals: dict,
                   road_corridor_t: float) -> gpd.GeoDataFrame:
    """Corridors -> line sources: each sector's total spread by traffic weight x length.

    ``road_corridor_t`` (t CO2/yr) is the road emission carried by the corridors; the rest
    of ``totals["transport_road"]`` goes to city streets. ``activity`` is traffic weight x
    length (m).
    """
    name = f"{region_set}_corridors.csv"
    corr = read_table(name).copy()
    frame = gpd.GeoDataFrame(corr.drop(columns=["wkt"]), geometry=gpd.GeoSeries.from_wkt(corr.wkt),
                             crs="EPSG:4326")
    length = frame.to_crs(grid.crs).length.to_numpy()
    activity = frame.traffic_weight.to_numpy() * length
    target = {"transport_road": road_corridor_t, "transport_other": totals["transport_other"]}
    share = activity / pd.Series(activity).groupby(frame.sector.values).transform("sum").to_numpy()
    frame["emission_t"] = share * frame.sector.map(target).to_numpy()
    frame["activity"] = activity
    lines = prepare_sources(frame, "lines", regions, crs=grid.crs, name=name, join=False)
    return split_by_region(lines, regions.to_crs(grid.crs))


def split_by_region(lines: gpd.GeoDataFrame, regions: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Cut lines at region borders; each piece keeps the share of emission_t of its length.

    Region totals of line sources then follow the geometry alone, not the grid, so they
    are the same at every resolution. Pieces are named ``<id>@<region>``.
    """
    pieces = gpd.overlay(lines, regions[["region", "geometry"]], how="intersection", keep_geom_type=True)
    pieces = pieces[pieces.length > 0].copy()
    full = lines.set_index("id").length
    pieces["emission_t"] *= pieces.length.to_numpy() / full.reindex(pieces["id"]).to_numpy()
    pieces["activity"] *= pieces.length.to_numpy() / full.reindex(pieces["id"]).to_numpy()
    pieces["id"] = pieces["id"] + "@" + pieces["region"]
    # the share of a corridor beyond the simplified coast (bridges, ports) stays in its sector
    kept = pieces.groupby("sector").emission_t.transform("sum")
    pieces["emission_t"] *= pieces.sector.map(lines.groupby("sector").emission_t.sum()).to_numpy() / kept
    return pieces.sort_values("id").reset_index(drop=True)


#: resolution (m) on which the region x sector totals of area sectors are defined; finer or
#: coarser grids redistribute exactly those totals, so runs agree across resolutions
#: (the default resolution, docs/architecture.md, "The grid")
REFERENCE_RES = 10_000.0
#: relative and absolute (t CO2/yr) tolerance of the check that each gridded sector total
#: equals its calibration figure: float64 summation noise over a national grid, not a model
#: error, stays far below both
CALIBRATION_RTOL, CALIBRATION_ATOL_T = 1e-9, 1.0


@dataclass
class _Parts:
    """The pieces of a built-in inventory on one grid, before its layers are formed."""

    grid: Grid
    cal: dict
    totals: dict
    road_urban_t: float
    points: gpd.GeoDataFrame
    lines: gpd.GeoDataFrame
    point_cov: object
    line_cov: object
    landscape: object


def _grid_parts(region_set: str, grid: Grid) -> _Parts:
    cal = calibration(region_set)
    regions = load_regions(region_set)
    totals = sector_totals_t(cal)
    points = plant_points(region_set, grid, regions, cal, totals)
    road_urban = cal["road_urban_share"] * totals["transport_road"]
    lines = corridor_lines(region_set, grid, regions, totals, totals["transport_road"] - road_urban)
    landscape = _store_unproxied(builtin_landscape(region_set, grid), grid)
    point_cov = frame_coverage(points, grid, own_region=True)
    line_cov = frame_coverage(lines, grid, own_region=True)
    points["cell"] = point_cov.cell
    return _Parts(grid, cal, totals, road_urban, points, lines, point_cov, line_cov, landscape)


def _source_layer(parts: _Parts, sector: str) -> np.ndarray:
    """(y, x) t CO2/yr/cell of the plants and corridors of one sector."""
    out = np.zeros(parts.grid.shape)
    for frame, cov in ((parts.points, parts.point_cov), (parts.lines, parts.line_cov)):
        mine = frame.sector.to_numpy() == sector
        if mine.any():
            out += cov.spread(np.where(mine, frame.emission_t.to_numpy(), 0.0), parts.grid)[0]
    return out


@lru_cache(maxsize=4)
def reference_area_totals(region_set: str) -> np.ndarray:
    """(n_gridded, n_regions) region sums (t CO2/yr) of the area-sector layers on the reference grid.

    A function of the package and the region set alone: read from the on-disk cache
    (:mod:`gridcarbon.core.cache`, beside the built-in study areas) when an earlier run made it,
    keyed like :func:`gridcarbon.job.study_area` (the engine options and
    :func:`~gridcarbon.core.cache.code_fingerprint`): a 1 km run then does not build the
    reference grid's inventory (2.5 s for the Yangtze River Delta).
    """
    key = digest("reference_area_totals", region_set, REFERENCE_RES, sorted(OPTIONS.items()), code_fingerprint())
    return cached_pickle("study_area", key, lambda: _reference_area_totals(region_set))


def _reference_area_totals(region_set: str) -> np.ndarray:
    """:func:`reference_area_totals`, computed."""
    parts = _grid_parts(region_set, Grid.from_regions(load_regions(region_set), res=REFERENCE_RES))
    out = np.zeros((len(GRIDDED), len(parts.grid.regions)))
    for k, _, area in _sector_layers(parts):
        if area is not None:
            out[k] = parts.grid.region_sums(area)
    return out


def build_yrd_baseline(*, res: float = DEFAULT_RES_M) -> tuple[Inventory, xr.Dataset]:
    """The default region's built-in inventory (see :func:`build_baseline`)."""
    return build_baseline("yrd", res=res)


@memory.without_huge_page_advice()  # China at 1 km: 31 s, against 51 s with the advice
def build_baseline(region_set: str, *, grid: Grid | None = None, res: float = DEFAULT_RES_M,
                   compact: bool = False) -> tuple[Inventory, xr.Dataset]:
    """A built-in inventory for its base year on ``grid`` (default: the region set's grid of
    ``res`` metres), and its landscape.

    The inventory's layers are t CO2/yr/cell, held compact when ``compact``
    (:meth:`~gridcarbon.inventory.base.Inventory.compacted`, the same values; no full stack is
    made: China at 1 km, 1.18 GB); the landscape's units are those of
    :mod:`gridcarbon.inventory.landscape`.
    """
    grid = grid if grid is not None else Grid.from_regions(load_regions(region_set), res=res)
    res = grid.res
    reference = reference_area_totals(region_set) if res != REFERENCE_RES else None
    parts = _grid_parts(region_set, grid)
    grid, cal, totals, points, lines = parts.grid, parts.cal, parts.totals, parts.points, parts.lines
    layers = np.zeros((len(GRIDDED),) + ((grid.cell_index.size,) if compact else grid.shape), grid.storage_dtype)
    sums = np.zeros((len(GRIDDED), len(grid.regions)))  # of the float64 layers, before storage
    for k, layer, area in _sector_layers(parts):
        if area is not None and reference is not None:  # region totals of area sectors are the reference grid's
            # in place: a cell's share reads its own proxy value alone, after the region sums
            distribute(reference[k][None], np.abs(area, out=area), grid, out=area[None])
        if area is not None:
            layer += area
        sums[k] = grid.region_sums(layer)
        layers[k] = grid.cell_index.compact(layer) if compact else layer
        del layer, area  # not held while the generator makes the next sector's (China at 1 km: 0.43 GB)

    indirect = pd.Series(cal["indirect_split"] or {}, dtype=float) * cal["total_mt"] * cal["indirect_share"] * T_PER_MT
    ds, table = assemble(grid, cal["base_year"], layers, sums=sums, indirect=indirect,
                         attrs={"inventory": f"gridcarbon built-in {region_set} baseline (real facilities)"})
    expected = table[table.sector != "indirect"]
    by_sector = expected.groupby("sector").value_t.sum()
    for s in GRIDDED:  # calibration check: sector totals must equal the study figures
        if not np.isclose(by_sector[s], totals.get(s, 0.0), rtol=CALIBRATION_RTOL, atol=CALIBRATION_ATOL_T):
            raise MassBalanceError(f"baseline {s}: {by_sector[s]:.6g} t, calibrated to {totals[s]:.6g} t")
    history = _history(region_set, cal, res, points, lines)
    # float64 for the area layers above, then stored like them, one layer at a time (each float64
    # layer goes as its copy is made: China at 1 km, 0.2 GB at a time, not 1.1 GB at the study
    # area's end, the run's peak moment)
    landscape = parts.landscape
    for name in list(landscape.data_vars):
        landscape[name] = landscape[name].astype(grid.storage_dtype, copy=False)
    return Inventory(grid, cal["base_year"], ds, table, points, lines, parts.line_cov, history,
                     calibration=calibration_table(points)), landscape


def _history(region_set: str, cal: dict, res: float, points: gpd.GeoDataFrame, lines: gpd.GeoDataFrame) -> list[str]:
    """The inventory's history lines: what the sources are and how they were calibrated."""
    live = points[points.emission_t > 0]
    pipeline = points[~points.active.astype(bool)]
    chem = int((live.sector == "chemical").sum())
    return [f"built-in {region_set} baseline {cal['base_year']} at {res:g} m: {len(live)} point facilities "
            f"emitting in {cal['base_year']} (real GEM coal units, GPPD gas plants, GEM steel blocks and "
            f"clinker-making cement plants; {chem} chemical sites illustrative), {len(pipeline)} pipeline "
            f"facilities (emitting 0), {len(lines)} corridors",
            "point CO2 from physical activity (gridcarbon.inputs.facility_co2), each sector scaled by one factor "
            f"to its total in data/{region_set}_calibration.yaml (factors per province x sector: "
            "Inventory.calibration, manifest inventory.calibration)",
            "landscape: MODIS MCD12C1 2019 land cover, ERA5 precipitation, Koppen-Geiger arid share, "
            "Xing et al. 2021 county CO2 storage; population, GDP and built-up from the city table"]


def builtin_landscape(region_set: str, grid: Grid) -> xr.Dataset:
    """Landscape layers of a built-in region set's grid, calibrated to its provinces (dtypes as
    :func:`~gridcarbon.inventory.landscape.build_landscape` makes them)."""
    cities = read_table(f"{region_set}_cities.csv")
    feats = read_table(f"{region_set}_landscape.csv")
    features = gpd.GeoDataFrame(feats.drop(columns=["wkt"]), geometry=gpd.GeoSeries.from_wkt(feats.wkt),
                                crs="EPSG:4326").to_crs(grid.crs)
    prefectures = load_regions(region_set, layer="cities").to_crs(grid.crs)
    return build_landscape(grid, cities=cities, features=features, prefectures=prefectures,
                           region_totals=region_totals(cities))


def region_totals(cities: pd.DataFrame) -> pd.DataFrame:
    """Population (persons), GDP (yuan/yr) and official forest cover per region id.

    People and GDP are the sums of the prefecture rows of the cities table; forest cover
    comes from ``china_provinces.csv`` (provincial forestry bulletins).
    """
    prov = read_table("china_provinces.csv").set_index("adcode")
    pref = cities[cities.level == "prefecture"]
    sums = pref.groupby("province_adcode")[["population_m", "gdp_bn_yuan"]].sum()
    out = pd.DataFrame({"population": sums.population_m * 1e6, "gdp": sums.gdp_bn_yuan * 1e9})
    out["forest_cover"] = prov.forest_cover_frac.reindex(out.index)
    return out.set_index(prov.region.reindex(out.index).to_numpy())


#: landscape layers :func:`area_proxy` reads: kept in float64 until the inventory is gridded
PROXY_LAYERS = ("population", "gdp", "built_up", "cropland", "forest")


def _store_unproxied(land: xr.Dataset, grid: Grid) -> xr.Dataset:
    """``land`` with the layers no area proxy reads already in :attr:`Grid.storage_dtype`, as
    :func:`build_baseline` stores them in the end (the same values; China at 1 km then grids its
    inventory with 0.6 GB less landscape held)."""
    return land.assign({k: land[k].astype(grid.storage_dtype, copy=False)
                        for k in land.data_vars if k not in PROXY_LAYERS})


def area_proxy(land, sector: str, cell_km2: float) -> np.ndarray:
    """(y, x) proxy over which an area sector is spread (and its region totals set).

    Persons for road transport and buildings, km2 of cropland or forest for agriculture and
    the forest sink (``cell_km2``: km2 per cell), :func:`activity_proxy` (yuan / yr) for
    other_industry.
    """
    if sector in ("transport_road", "buildings"):
        return land.population.values
    if sector == "agriculture":
        return land.cropland.values * cell_km2
    if sector == "forest_sink":
        return land.forest.values * cell_km2
    return activity_proxy(land.gdp.values, land.built_up.values)


def _sector_layers(parts: _Parts) -> Iterator[tuple[int, np.ndarray, np.ndarray | None]]:
    """Per gridded sector, one at a time: (position in GRIDDED, plants + corridors, area
    sources or None), each (y, x) t CO2/yr/cell; the area layer is the caller's to reuse.

    Area sectors get region totals from proxies and are spread over the same proxies;
    other_industry comes last, filling the gaps the others leave to the CEADs shares.
    """
    grid, totals = parts.grid, parts.totals
    amounts = {"transport_road": parts.road_urban_t, "buildings": totals["buildings"],
               "agriculture": totals["agriculture"], "forest_sink": totals["forest_sink"]}
    have = np.zeros(len(grid.regions))  # per region, t CO2/yr gridded so far
    for k, sector in enumerate(GRIDDED):
        sources = _source_layer(parts, sector)
        area = _area_layer(parts, sector, amounts[sector]) if sector in amounts else None
        have += _positive_sums(grid, sources, area)
        if sector != "other_industry":
            yield k, sources, area
        del sources, area  # hold no 1 km layer (0.2 GB) while the next is made
    oi = _other_industry_split(grid, parts.cal, totals["other_industry"], have)
    yield (GRIDDED.index("other_industry"), _source_layer(parts, "other_industry"),
           distribute(oi[None, :], area_proxy(parts.landscape, "other_industry", grid.cell_area_km2), grid)[0])


def _positive_sums(grid: Grid, sources: np.ndarray, area: np.ndarray | None) -> np.ndarray:
    """Per region, t CO2/yr of the positive part of ``sources`` (+ ``area``)."""
    gridded = sources.copy() if area is None else sources + area
    return grid.region_sums(np.clip(gridded, 0, None, out=gridded))


def _area_layer(parts: _Parts, sector: str, total_t: float) -> np.ndarray:
    """(y, x) t CO2/yr/cell of an area sector: ``total_t`` split over regions and cells by its proxy."""
    grid = parts.grid
    proxy = area_proxy(parts.landscape, sector, grid.cell_area_km2)
    share = grid.region_sums(proxy) / max(grid.region_sums(proxy).sum(), 1e-300)
    return distribute(share[None, :] * total_t, proxy, grid)[0]


def _other_industry_split(grid: Grid, cal: dict, total_t: float, have: np.ndarray) -> np.ndarray:
    """Split other_industry over regions so region totals approach the CEADs 2019 shares.

    ``have``: per region, t CO2/yr already gridded in every sector. Returns t CO2/yr per
    region; at least ``other_industry_min_share`` (``data/<set>_calibration.yaml``) of it
    is an even split.
    """
    ceads = read_table("china_provinces.csv").set_index("region").ceads_2019_mt.reindex(list(grid.regions))
    direct = cal["total_mt"] * (1 - cal["indirect_share"]) * T_PER_MT
    target = ceads.to_numpy() / ceads.sum() * direct
    gap = np.maximum(target - have, 0.0)
    even = np.full(len(grid.regions), 1.0 / len(grid.regions))
    floor = cal["other_industry_min_share"]
    share = floor * even + (1 - floor) * (gap / gap.sum() if gap.sum() > 0 else even)
    return share * total_t
