"""Read and validate point, line and area source tables (docs/architecture.md, "Sources and inventories").

Every table leaves here as a GeoDataFrame in the grid CRS with at least ``id``,
``sector``, ``region`` and ``emission_t`` (t CO2 / yr in the base year). Anything wrong
raises an :class:`~gridcarbon.errors.InputError` that names the file, the record and
the problem, so the CLI can print one line and exit 2.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridcarbon.core.errors import CRSError, GeometryError, InputError, SchemaError
from gridcarbon.core.grid import CHINA_ALBERS
from gridcarbon.core.sectors import SECTORS
from gridcarbon.inputs.columns import require_columns

Kind = Literal["points", "lines", "areas"]
REQUIRED = ("id", "sector", "emission_t")
GEOM_TYPES = {"points": {"Point"}, "lines": {"LineString", "MultiLineString"},
              "areas": {"Polygon", "MultiPolygon"}}
NEWLINE = b"\n"
#: how far (m) outside every region polygon a source may lie and still count for the nearest
#: region: piers, offshore platforms and plants on reclaimed land beyond a simplified coastline
NEAR_REGION_M = 5_000.0
VECTOR_SUFFIXES = {".gpkg", ".shp", ".geojson", ".json", ".parquet", ".geoparquet", ".fgb"}


def read_sources(path: str | Path, kind: Kind, regions: gpd.GeoDataFrame, *, crs,
                 columns: Mapping[str, str] | None = None, region_field: str = "region") -> gpd.GeoDataFrame:
    """Read one source table from disk and :func:`prepare_sources` it.

    ``columns`` maps source column names to contract names
    (e.g. ``{"lng": "lon", "co2_t": "emission_t"}``).
    """
    path = Path(path)
    frame = _read_table(path)
    if columns:
        frame = frame.rename(columns=dict(columns))
    if not isinstance(frame, gpd.GeoDataFrame) and not frame.empty:
        frame = _points_from_lonlat(frame, path.name)
    return prepare_sources(frame, kind, regions, crs=crs, name=path.name, region_field=region_field)


def prepare_sources(frame: gpd.GeoDataFrame, kind: Kind, regions: gpd.GeoDataFrame, *, crs, name: str,
                    region_field: str = "region", join: bool | None = None) -> gpd.GeoDataFrame:
    """Validate, reproject and region-join a source frame (``name`` labels errors).

    ``regions`` holds one polygon per region (column ``region_field``); ``crs`` is the grid
    CRS. Points get the ``region`` holding them; lines and areas (``join=False`` by
    default) count in the regions of the cells they cross and need only touch a region.
    """
    if frame.empty:
        raise SchemaError("table has no records", source=name,
                          hint="add at least one record or remove the file from the scenario")
    if frame.crs is None:
        raise CRSError("layer has no CRS", source=name, hint="assign one (e.g. EPSG:4326) before use")
    frame = frame.copy()
    require_columns(frame, REQUIRED, source=name,
                    hint="map your column names with `columns`, e.g. {co2: emission_t}")
    _check_ids(frame, name)
    _check_sectors(frame, name)
    _check_emissions(frame, name)
    _check_geometry(frame, kind, name)
    frame = frame.to_crs(crs)
    regions = regions.to_crs(crs)
    if join if join is not None else kind == "points":
        return _join_regions(frame, regions, region_field, name)
    _check_touches_regions(frame, regions, name)
    return frame


def _in_metres(geoms: gpd.GeoSeries) -> np.ndarray:
    """Geometries for distance tests in metres: the grid CRS, or Albers when it is geographic."""
    return (geoms.to_crs(CHINA_ALBERS) if geoms.crs is not None and geoms.crs.is_geographic else geoms).values


def _check_touches_regions(frame: gpd.GeoDataFrame, regions: gpd.GeoDataFrame, name: str) -> None:
    """Every record must lie in, or within NEAR_REGION_M of, some region (distances in metres)."""
    tree = shapely.STRtree(_in_metres(regions.geometry))
    hit = np.zeros(len(frame), bool)
    hit[tree.query(_in_metres(frame.geometry), predicate="dwithin", distance=NEAR_REGION_M)[0]] = True
    if not hit.all():
        raise GeometryError("lies outside every region", source=name, record=_rid(frame, ~hit),
                            hint="check the coordinates (swapped lon/lat? wrong CRS?) or drop the record")


# ------------------------------------------------------------------ reading
def _read_table(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise InputError("file not found", source=str(path),
                         hint="check the path (scenario paths are relative to the scenario file)")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return _read_csv(path)
        if suffix in {".parquet", ".geoparquet"}:
            return gpd.read_parquet(path)
        if suffix in VECTOR_SUFFIXES:
            return gpd.read_file(path)
    except InputError:
        raise
    except UnicodeDecodeError as err:
        raise _not_utf8(path) from err
    except pd.errors.EmptyDataError as err:
        raise SchemaError("file is empty", source=path.name,
                          hint="write a header line and at least one record") from err
    except (ValueError, OSError, RuntimeError) as err:  # GDAL / pyarrow reading failures
        raise InputError(f"cannot be read: {_first_line(err)}", source=path.name,
                         hint="check the file is complete and in a supported format") from err
    raise InputError(f"unsupported format {suffix!r}", source=path.name,
                     hint="use CSV (lon/lat), GeoPackage, GeoParquet, GeoJSON or Shapefile")


def _read_csv(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, encoding="utf-8")
    if not isinstance(frame.index, pd.RangeIndex):  # pandas made the first column an index
        raise SchemaError("the first record has more fields than the header", source=path.name,
                          record="row 1", hint="check the separators and quoting of the CSV")
    return frame


def _not_utf8(path: Path) -> InputError:
    """Name the line and byte of the first invalid UTF-8 sequence (pandas reports chunk offsets)."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
        where, record = "", None
    except UnicodeDecodeError as err:
        where, record = f" (byte {err.start})", f"line {data.count(NEWLINE, 0, err.start) + 1}"
    return InputError(f"not UTF-8 text{where}", source=path.name, record=record,
                      hint="re-save the file as UTF-8")


def _show(value: object) -> str:
    """repr of a cell value without numpy's type wrapper (``1`` not ``np.int64(1)``)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:200]


def _points_from_lonlat(frame: pd.DataFrame, name: str) -> gpd.GeoDataFrame:
    """CSV tables carry WGS84 ``lon``/``lat`` columns."""
    missing = [c for c in ("lon", "lat") if c not in frame.columns]
    if missing:
        raise SchemaError(f"missing column(s) {missing}", source=name,
                          hint="CSV sources need lon/lat in WGS84; map other names with `columns`")
    lon = _numeric(frame, "lon", name)
    lat = _numeric(frame, "lat", name)
    bad = ~np.isfinite(lon) | ~np.isfinite(lat)
    if bad.any():
        raise GeometryError("lon/lat is missing or not finite", source=name, record=_rid(frame, bad),
                            hint="give every record WGS84 lon/lat in degrees")
    out = (lon.abs() > 180) | (lat.abs() > 90)
    if out.any():
        swapped = (lat.abs() <= 180) & (lon.abs() <= 90)
        hint = "lon and lat look swapped" if swapped[out].all() else "coordinates must be WGS84 degrees"
        raise GeometryError("coordinates out of range", source=name, record=_rid(frame, out), hint=hint)
    return gpd.GeoDataFrame(frame.drop(columns=["lon", "lat"]),
                            geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def _numeric(frame: pd.DataFrame, col: str, name: str) -> pd.Series:
    values = pd.to_numeric(frame[col], errors="coerce")
    wrong = values.isna() & frame[col].notna()
    if wrong.any():
        raise SchemaError(f"column {col!r} is not numeric ({_show(frame[col][wrong].iloc[0])})",
                          source=name, record=_rid(frame, wrong),
                          hint="use plain numbers: a dot as decimal separator, no units or text")
    return values.astype(float)


def _rid(frame: pd.DataFrame, mask) -> object:
    """Id of the first offending record (its id if the table has one, else its row number)."""
    pos = int(np.flatnonzero(np.asarray(mask))[0])
    if "id" in frame.columns and pd.notna(frame["id"].iloc[pos]):
        return frame["id"].iloc[pos]
    return f"row {pos + 1}"


# ------------------------------------------------------------------ checks
def _check_ids(frame: pd.DataFrame, name: str) -> None:
    empty = frame["id"].isna() | frame["id"].astype(str).str.strip().eq("")
    if empty.any():
        raise SchemaError("empty id", source=name, record=_rid(frame.assign(id=None), empty),
                          hint="give every record a unique id")
    dup = frame["id"].astype(str).duplicated()
    if dup.any():
        raise SchemaError("duplicate id", source=name, record=frame["id"][dup].iloc[0],
                          hint="ids must be unique within a table")


def _check_sectors(frame: pd.DataFrame, name: str) -> None:
    unknown = ~frame["sector"].isin(list(SECTORS)) | (frame["sector"] == "indirect")
    if unknown.any():
        raise SchemaError(f"unknown sector {_show(frame['sector'][unknown].iloc[0])}", source=name,
                          record=_rid(frame, unknown),
                          hint="use one of " + ", ".join(s for s in SECTORS if s != "indirect"))


def _check_emissions(frame: pd.DataFrame, name: str) -> None:
    values = _numeric(frame, "emission_t", name)
    bad = ~np.isfinite(values)
    if bad.any():
        raise SchemaError("emission_t is NaN or infinite", source=name, record=_rid(frame, bad),
                          hint="give a finite emission in t CO2/yr or drop the record")
    removal = frame["sector"].map(lambda s: SECTORS[s].removal)
    wrong_sign = np.where(removal, values > 0, values < 0)
    if wrong_sign.any():
        pos = int(np.flatnonzero(np.asarray(wrong_sign))[0])
        raise SchemaError(f"emission_t {values.iloc[pos]:g} has the wrong sign for sector "
                          f"{frame['sector'].iloc[pos]!r}", source=name, record=_rid(frame, wrong_sign),
                          hint="emitting sectors need emission_t >= 0, removals (forest_sink, beccs) <= 0")
    frame["emission_t"] = values


def _check_geometry(frame: gpd.GeoDataFrame, kind: Kind, name: str) -> None:
    geoms = frame.geometry.values
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        raise GeometryError("empty or missing geometry", source=name, record=_rid(frame, empty),
                            hint="give the record a geometry or drop it")
    types = pd.Series(shapely.get_type_id(geoms)).map(
        {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString",
         6: "MultiPolygon", 7: "GeometryCollection"}).fillna("other")
    wrong = ~types.isin(GEOM_TYPES[kind])
    if wrong.any():
        raise GeometryError(f"{types[wrong].iloc[0]} geometry in a {kind} table", source=name,
                            record=_rid(frame, wrong), hint=f"{kind} need {sorted(GEOM_TYPES[kind])}")
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        reason = shapely.is_valid_reason(geoms[invalid][0])
        raise GeometryError(f"invalid geometry ({reason})", source=name, record=_rid(frame, invalid),
                            hint="repair it, e.g. with shapely.make_valid or QGIS 'Fix geometries'")
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    bad = np.zeros(len(frame), bool)
    bad[index[~np.isfinite(coords).all(axis=1)]] = True
    if bad.any():
        raise GeometryError("non-finite coordinates", source=name, record=_rid(frame, bad),
                            hint="repair or drop the record")


def _join_regions(frame: gpd.GeoDataFrame, regions: gpd.GeoDataFrame, region_field: str,
                  name: str) -> gpd.GeoDataFrame:
    """Fill ``region`` from the geometry's representative point; reject records outside all."""
    known = set(regions[region_field].astype(str))
    if "region" in frame.columns and frame["region"].notna().all():
        frame["region"] = frame["region"].astype(str)
        unknown = ~frame["region"].isin(known)
        if unknown.any():
            raise SchemaError(f"unknown region {_show(frame['region'][unknown].iloc[0])}", source=name,
                              record=_rid(frame, unknown), hint="use one of " + ", ".join(sorted(known)))
        _check_touches_regions(frame, regions, name)  # a given region must not pull in far-away records
        return frame
    probe = frame.geometry.representative_point()
    tree = shapely.STRtree(regions.geometry.values)
    src, reg = tree.query(probe.values, predicate="intersects")
    region = np.full(len(frame), None, dtype=object)
    region[src] = regions[region_field].astype(str).values[reg]
    orphan = pd.isna(region)
    if orphan.any():  # just outside (a pier, a simplified coast): the nearest region within reach
        near_src, near_reg = shapely.STRtree(_in_metres(regions.geometry)).query_nearest(
            _in_metres(probe[orphan]), max_distance=NEAR_REGION_M)
        region[np.flatnonzero(orphan)[near_src]] = regions[region_field].astype(str).values[near_reg]
        orphan = pd.isna(region)
    if orphan.any():
        raise GeometryError("lies outside every region", source=name, record=_rid(frame, orphan),
                            hint="check the coordinates (swapped lon/lat? wrong CRS?) or drop the record")
    frame["region"] = region
    return frame


# ------------------------------------------------------------------ GPPD plant lists
#: t CO2 per MWh generated, by primary fuel. IPCC 2006 default combustion factors
#: (coal 94.6, oil 77.4, gas 56.1 kg CO2/GJ) over typical Chinese net efficiencies
#: (coal 38 %, oil 36 %, gas 52 %). Non-fossil and biomass plants emit no fossil CO2.
GPPD_EMISSION_FACTORS = {"Coal": 0.896, "Oil": 0.774, "Gas": 0.388, "Petcoke": 0.92,
                         "Cogeneration": 0.70}


def read_gppd(path: str | Path, regions: gpd.GeoDataFrame, *, crs, region_field: str = "region",
              year: int = 2017) -> gpd.GeoDataFrame:
    """Turn a GPPD-style plant list into power-sector point sources.

    Emissions = ``estimated_generation_gwh_<year>`` (GWh) x 1000 x fuel factor
    (:data:`GPPD_EMISSION_FACTORS`, t CO2/MWh). Plants of other fuels are dropped;
    plants outside ``regions`` are dropped too (a national list on a regional grid).
    """
    path = Path(path)
    table = _read_table(path)
    need = ["gppd_idnr", "latitude", "longitude", "primary_fuel", "capacity_mw",
            f"estimated_generation_gwh_{year}"]
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise SchemaError(f"missing GPPD column(s) {missing}", source=path.name,
                          hint="use the Global Power Plant Database column names")
    table = table[table.primary_fuel.isin(list(GPPD_EMISSION_FACTORS))].copy()
    if table.empty:
        raise SchemaError("no plant burns a fossil fuel", source=path.name,
                          hint="primary_fuel must be one of " + ", ".join(GPPD_EMISSION_FACTORS))
    gen = _numeric(table, f"estimated_generation_gwh_{year}", path.name).fillna(0.0).clip(lower=0)
    table = pd.DataFrame({
        "id": table.gppd_idnr.astype(str), "name": table.get("name"), "sector": "power",
        "lon": table.longitude, "lat": table.latitude,
        "emission_t": gen * 1000.0 * table.primary_fuel.map(GPPD_EMISSION_FACTORS),
        "capacity": table.capacity_mw, "capacity_unit": "MW", "fuel": table.primary_fuel.str.lower(),
        "year_built": np.floor(pd.to_numeric(table.get("commissioning_year"), errors="coerce")),
    })
    points = _points_from_lonlat(table.reset_index(drop=True), path.name)
    inside = points.intersects(shapely.union_all(regions.to_crs("EPSG:4326").geometry.values))
    points = points[inside.values].reset_index(drop=True)
    if points.empty:
        raise GeometryError("no fossil-fuel plant lies inside the regions", source=path.name,
                            hint="check latitude/longitude (WGS84) and the region set")
    return prepare_sources(points, "points", regions, crs=crs, name=path.name, region_field=region_field)
