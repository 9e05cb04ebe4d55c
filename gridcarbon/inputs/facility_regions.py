"""Province ids for plant databases: GEM's province names and GPPD's coordinates.

Region ids are the English names of ``data/china_provinces.csv`` (``Jiangsu``, ``Inner Mongolia``,
``Tibet``...). GEM trackers spell provinces in several ways (``Xinjiang Uygur Autonomous Region``,
``Xizang``, ``Hubei Province``, ``Sichuan - Tibet border``); :func:`regions_from_names` maps the
spellings it knows and falls back to the province holding the point for the rest, reporting every
name it could not map. GPPD has no province column: :func:`regions_from_points` joins the points
to the shipped province polygons (``boundaries/china.gpkg``).
"""
from __future__ import annotations

import re
from collections import Counter

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridcarbon.core.grid import CHINA_ALBERS
from gridcarbon.inputs.regions import load_regions, province_table

#: other spellings of province names met in GEM trackers (after :func:`_normalise`)
ALIASES = {"Xizang": "Tibet", "Nei Mongol": "Inner Mongolia", "Inner Mongolia Autonomous Region": "Inner Mongolia"}
#: suffixes GEM sometimes appends to a province name
_SUFFIX = re.compile(r"\s+(Uygur|Zhuang|Hui)?\s*(Autonomous Region|Province|City|Municipality)$", re.IGNORECASE)
#: lon/lat boxes (min lon, min lat, max lon, max lat) of the special administrative regions, outside
#: the 31 mainland provinces: plants there are dropped (GPPD lists them under China)
SAR_BOXES = {"Hong Kong": (113.82, 22.13, 114.45, 22.57), "Macau": (113.52, 22.10, 113.60, 22.22)}
#: how far (m) outside every province polygon a plant may lie and still take the nearest province:
#: ASSUMPTION: offshore wind farms, island and border-river plants within 20 km of the
#: simplified coastline or border (Rudong intertidal wind, Yalu river dams)
NEAR_PROVINCE_M = 20_000.0


def region_ids() -> list[str]:
    """The 31 province ids (``region`` of ``china_provinces.csv``)."""
    return province_table()["region"].astype(str).tolist()


def _normalise(name: object) -> str:
    text = re.sub(r"\s+", " ", str(name)).strip()
    return ALIASES.get(text, _SUFFIX.sub("", text).strip())


def map_names(names: pd.Series) -> tuple[pd.Series, Counter]:
    """Province ids for GEM province names; unmapped names give NA and are counted."""
    known = set(region_ids())
    normalised = names.map(_normalise)
    mapped = normalised.map(lambda n: ALIASES.get(n, n)).where(lambda s: s.isin(known))
    unmapped = Counter(names[mapped.isna()].fillna("(empty)").astype(str))
    return mapped, unmapped


def regions_from_points(lon: pd.Series, lat: pd.Series) -> pd.Series:
    """Province id of each WGS84 point: the province holding it, else the nearest one within
    :data:`NEAR_PROVINCE_M`; NA for points in Hong Kong or Macau or farther out."""
    provinces = load_regions("china")
    points = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    tree = shapely.STRtree(provinces.geometry.values)
    src, reg = tree.query(points.values, predicate="intersects")
    region = np.full(len(points), None, dtype=object)
    region[src] = provinces["region"].astype(str).values[reg]
    orphan = pd.isna(region) & ~in_sar(lon, lat).to_numpy()
    if orphan.any():
        far = shapely.STRtree(provinces.geometry.to_crs(CHINA_ALBERS).values)
        near_src, near_reg = far.query_nearest(points[orphan].to_crs(CHINA_ALBERS).values,
                                               max_distance=NEAR_PROVINCE_M, all_matches=False)
        region[np.flatnonzero(orphan)[near_src]] = provinces["region"].astype(str).values[near_reg]
    return pd.Series(region, index=lon.index, dtype=object)


def in_sar(lon: pd.Series, lat: pd.Series) -> pd.Series:
    """True for points inside the Hong Kong or Macau boxes (:data:`SAR_BOXES`)."""
    inside = pd.Series(False, index=lon.index)
    for x0, y0, x1, y1 in SAR_BOXES.values():
        inside |= lon.between(x0, x1) & lat.between(y0, y1)
    return inside


def regions_from_names(names: pd.Series, lon: pd.Series, lat: pd.Series) -> tuple[pd.Series, Counter]:
    """GEM province names mapped to ids; names that do not map take the province at the point.

    Returns the ids and a counter of the names that did not map (for the build report).
    """
    mapped, unmapped = map_names(names)
    missing = mapped.isna()
    if missing.any():
        mapped[missing] = regions_from_points(lon[missing], lat[missing])
    return mapped, unmapped


def location_disagreements(region: pd.Series, lon: pd.Series, lat: pd.Series) -> int:
    """How many rows lie in another province than the one they name (a diagnostic, not a fix)."""
    located = regions_from_points(lon, lat)
    return int((located.notna() & (located != region)).sum())
