"""Unit- and plant-level facility tables: coal units, steel and cement plants, gas and other power plants.

The shipped tables live in ``data/facilities/`` (built from Global Energy Monitor trackers and
WRI's Global Power Plant Database by :func:`gridcarbon.inputs.gem.build_facility_tables`; origin,
licence and changes in ``data/SOURCES.md``, "Facility tables"). A user may give a file of their own
in the same format. Every reader returns a GeoDataFrame of WGS84 points (EPSG:4326) keeping the
``lon``/``lat`` columns, with these dtypes:

- ids, names and categories: strings (pandas ``str``/object), NA where empty;
- capacities, factors and generation: ``float64`` (NaN where unknown);
- years (``start_year``, ``retired_year``, ``planned_retirement_year``, ``reported_year``): ``Int64``.

Anything wrong raises an :class:`~gridcarbon.core.errors.InputError` (exit code 2) whose one-line
message names the file and the record id: missing columns, an empty or duplicated id, a
non-numeric or negative number, coordinates missing or outside China's box (with a hint when lon
and lat look swapped), an unknown status / technology / route / plant type, an unknown region.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from gridcarbon.core.errors import GeometryError, InputError, SchemaError
from gridcarbon.inputs.columns import require_columns
from gridcarbon.inputs.data import data_path
from gridcarbon.inputs.facility_regions import region_ids

#: folder of the shipped tables under ``gridcarbon/data``
FOLDER = "facilities"
#: China's lon/lat box (degrees): mainland China lies in 73-136 E, 17-54 N (Hainan to Heilongjiang,
#: Xinjiang to the Wusuli river), with room for offshore wind farms
LON_RANGE, LAT_RANGE = (73.0, 136.0), (17.0, 54.0)

#: statuses that emit in a year (with start / retirement years): GEM's "operating" and, in the
#: steel and cement trackers, "operating pre-retirement" (operating, with retirement announced)
OPERATING_STATUSES = ("operating", "operating pre-retirement")
#: GEM Global Coal Plant Tracker unit statuses (GEM wiki, "Global Coal Plant Tracker/Methodology");
#: "cancelled" units are not in the table
COAL_STATUSES = ("announced", "pre-permit", "permitted", "construction", "shelved", "operating",
                 "mothballed", "retired")
#: GCPT combustion technologies (CFB = circulating fluidised bed, IGCC = gasification combined cycle)
COMBUSTION_TECHNOLOGIES = ("subcritical", "supercritical", "ultra-supercritical", "cfb", "igcc",
                           "igcc/ccs", "unknown", "unknown/ccs")
#: GCPT coal types
COAL_TYPES = ("bituminous", "subbituminous", "anthracite", "lignite", "waste coal", "unknown")
#: GEM Global Iron and Steel Tracker statuses of a plant's capacity blocks (GIST methodology);
#: "cancelled" blocks are not in the table
STEEL_STATUSES = ("announced", "construction", "operating", "operating pre-retirement", "mothballed",
                  "mothballed pre-retirement", "retired")
#: main steelmaking route of a block (rule in :func:`gridcarbon.inputs.gem.main_route`)
STEEL_ROUTES = ("BF-BOF", "EAF", "DRI-EAF", "mixed", "BF-iron")
#: GEM Global Cement and Concrete Tracker statuses
CEMENT_STATUSES = ("announced", "construction", "operating", "operating pre-retirement", "mothballed",
                   "retired")
#: GCCT plant types: integrated (kiln + mill), clinker (kiln only; GEM "clinker only"), grinding
#: (mill only, no kiln: no process CO2), unknown (GEM's own term)
CEMENT_PLANT_TYPES = ("integrated", "clinker", "grinding", "unknown")
#: GPPD lists plants in operation only
GAS_STATUSES = ("operating",)
#: GEM hydro / nuclear / wind tracker statuses ("pre-construction" = permitting; "inactive" = GEM
#: hydro's stopped projects); GPPD rows are "operating"
POWER_STATUSES = ("announced", "pre-construction", "construction", "shelved", "operating", "mothballed",
                  "inactive", "retired")
#: technologies of ``power_capacity.csv``
POWER_TECHNOLOGIES = ("hydro", "pumped_hydro", "nuclear", "onshore_wind", "offshore_wind", "solar",
                      "geothermal", "biomass")
LOCATION_ACCURACY = ("exact", "approximate")


@dataclass(frozen=True)
class Table:
    """Format of one facility table: column order, kinds and vocabularies.

    ``floats`` are non-negative numbers, ``years`` whole years; ``required`` columns may not be
    empty; ``vocab`` maps a column to its allowed values (empty cells allowed unless required).
    """

    file: str
    text: tuple[str, ...]
    floats: tuple[str, ...]
    years: tuple[str, ...]
    vocab: dict[str, tuple[str, ...]] = field(default_factory=dict)
    required: tuple[str, ...] = ()

    @property
    def columns(self) -> list[str]:
        """Every column, in the shipped order (text, lon/lat, years, numbers)."""
        return [*self.text, "lon", "lat", *self.years, *self.floats]


COAL = Table(
    "coal_units.csv",
    text=("id", "plant_id", "plant_name", "unit_name", "owner", "region", "prefecture", "location_accuracy",
          "status", "combustion_technology", "coal_type"),
    years=("start_year", "retired_year", "planned_retirement_year"),
    floats=("capacity_mw", "heat_rate_btu_per_kwh", "emission_factor_kg_per_tj", "capacity_factor", "gem_co2_mt"),
    vocab={"status": COAL_STATUSES, "combustion_technology": COMBUSTION_TECHNOLOGIES, "coal_type": COAL_TYPES,
           "location_accuracy": LOCATION_ACCURACY},
    required=("status", "combustion_technology", "capacity_mw"))
STEEL = Table(
    "steel_plants.csv",
    text=("id", "plant_id", "name", "owner", "region", "location_accuracy", "status", "main_route"),
    years=("start_year", "retired_year", "reported_year"),
    floats=("bof_steel_kt", "eaf_steel_kt", "bf_iron_kt", "dri_iron_kt", "reported_crude_steel_kt"),
    vocab={"status": STEEL_STATUSES, "main_route": STEEL_ROUTES, "location_accuracy": LOCATION_ACCURACY},
    required=("plant_id", "status", "main_route"))
CEMENT = Table(
    "cement_plants.csv",
    text=("id", "name", "owner", "region", "location_accuracy", "status", "plant_type"),
    years=("start_year",),
    floats=("clinker_capacity_mt", "cement_capacity_mt"),
    vocab={"status": CEMENT_STATUSES, "plant_type": CEMENT_PLANT_TYPES, "location_accuracy": LOCATION_ACCURACY},
    required=("status", "plant_type"))
GAS = Table(
    "gas_plants.csv",
    text=("id", "name", "owner", "region", "status"),
    years=("start_year",),
    floats=("capacity_mw", "generation_gwh_2017"),
    vocab={"status": GAS_STATUSES},
    required=("status", "capacity_mw"))
POWER = Table(
    "power_capacity.csv",
    text=("id", "name", "technology", "source", "region", "location_accuracy", "status"),
    years=("start_year", "retired_year"),
    floats=("capacity_mw",),
    vocab={"status": POWER_STATUSES, "technology": POWER_TECHNOLOGIES, "location_accuracy": LOCATION_ACCURACY},
    required=("technology", "status", "capacity_mw"))
TABLES = {t.file: t for t in (COAL, STEEL, CEMENT, GAS, POWER)}


def shipped_path(table: Table) -> Path:
    """Path of the shipped file of ``table`` (``data/facilities/<file>``)."""
    return data_path(f"{FOLDER}/{table.file}")


def read_coal_units(path: str | Path | None = None) -> gpd.GeoDataFrame:
    """GEM coal power units (one row per unit; capacity MW, heat rate Btu/kWh, emission factor
    kg CO2/TJ, capacity factor 0-1, GEM's own CO2 estimate Mt/yr)."""
    return read_facilities(COAL, path)


def read_steel_plants(path: str | Path | None = None) -> gpd.GeoDataFrame:
    """GEM steel plants, one row per plant x status block (capacities kt/yr; reported crude steel
    kt/yr of ``reported_year`` on the plant's operating blocks)."""
    return read_facilities(STEEL, path)


def read_cement_plants(path: str | Path | None = None) -> gpd.GeoDataFrame:
    """GEM cement plants (clinker and cement capacity Mt/yr)."""
    return read_facilities(CEMENT, path)


def read_gas_plants(path: str | Path | None = None) -> gpd.GeoDataFrame:
    """GPPD gas-fired plants (capacity MW, WRI's estimated generation 2017 GWh)."""
    return read_facilities(GAS, path)


def read_power_capacity(path: str | Path | None = None) -> gpd.GeoDataFrame:
    """Hydro, nuclear, wind (GEM) and solar / geothermal (GPPD) plants or units (capacity MW)."""
    return read_facilities(POWER, path)


def read_facilities(table: Table, path: str | Path | None = None) -> gpd.GeoDataFrame:
    """Read and validate a facility table (``path`` None: the shipped one)."""
    path = Path(path) if path is not None else shipped_path(table)
    return validate_facilities(_read_csv(path), table, path.name)


def validate_facilities(frame: pd.DataFrame, table: Table, name: str) -> gpd.GeoDataFrame:
    """Check ``frame`` against ``table`` (``name`` labels errors); return typed EPSG:4326 points."""
    if frame.empty:
        raise SchemaError("table has no records", source=name, hint="add at least one record")
    require_columns(frame, table.columns, source=name)
    frame = frame[table.columns].copy()
    _check_ids(frame, name)
    for col in table.text:
        frame[col] = frame[col].astype(str).where(frame[col].notna())
    for col in table.floats:
        frame[col] = _numeric(frame, col, name)
        _check_non_negative(frame, col, name)
    for col in table.years:
        frame[col] = _years(frame, col, name)
    for col in table.required:
        _check_filled(frame, col, name)
    for col, allowed in table.vocab.items():
        _check_vocab(frame, col, allowed, name)
    _check_regions(frame, name)
    lon, lat = _coordinates(frame, name)
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


# ------------------------------------------------------------------ reading
def _read_csv(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise InputError("file not found", source=str(path), hint="check the path")
    try:
        frame = pd.read_csv(path, dtype=str, encoding="utf-8")
    except UnicodeDecodeError as err:
        raise InputError("not UTF-8 text", source=path.name, hint="re-save the file as UTF-8") from err
    except pd.errors.EmptyDataError as err:
        raise SchemaError("file is empty", source=path.name, hint="write a header line and records") from err
    except (ValueError, pd.errors.ParserError) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        raise InputError(f"cannot be read: {first}", source=path.name,
                         hint="check the separators and quoting of the CSV") from err
    if not isinstance(frame.index, pd.RangeIndex):
        raise SchemaError("the first record has more fields than the header", source=path.name,
                          record="row 1", hint="check the separators and quoting of the CSV")
    return frame


def _rid(frame: pd.DataFrame, mask) -> object:
    """Id of the first offending record (its row number when the id is empty)."""
    pos = int(np.flatnonzero(np.asarray(mask))[0])
    value = frame["id"].iloc[pos]
    return value if pd.notna(value) and str(value).strip() else f"row {pos + 1}"


def _show(value: object) -> str:
    return repr(value.item() if isinstance(value, np.generic) else value)


# ------------------------------------------------------------------ checks
def _check_ids(frame: pd.DataFrame, name: str) -> None:
    empty = frame["id"].isna() | frame["id"].astype(str).str.strip().eq("")
    if empty.any():
        raise SchemaError("empty id", source=name, record=_rid(frame, empty), hint="give every record a unique id")
    dup = frame["id"].astype(str).duplicated()
    if dup.any():
        raise SchemaError("duplicate id", source=name, record=frame["id"][dup].iloc[0],
                          hint="ids must be unique within a table")


def _numeric(frame: pd.DataFrame, col: str, name: str) -> pd.Series:
    values = pd.to_numeric(frame[col], errors="coerce")
    wrong = (values.isna() & frame[col].notna()) | ~np.isfinite(values.fillna(0.0))
    if wrong.any():
        raise SchemaError(f"column {col!r} is not numeric ({_show(frame[col][wrong].iloc[0])})", source=name,
                          record=_rid(frame, wrong),
                          hint="use plain finite numbers: a dot as decimal separator, no units")
    return values.astype("float64")


def _check_non_negative(frame: pd.DataFrame, col: str, name: str) -> None:
    negative = frame[col] < 0
    if negative.any():
        raise SchemaError(f"negative {col} ({frame[col][negative].iloc[0]:g})", source=name,
                          record=_rid(frame, negative), hint=f"{col} must be >= 0 (empty when unknown)")


def _years(frame: pd.DataFrame, col: str, name: str) -> pd.Series:
    values = _numeric(frame, col, name)
    wrong = values.notna() & ((values % 1 != 0) | (values < 1800) | (values > 2100))
    if wrong.any():
        raise SchemaError(f"column {col!r} is not a year ({_show(frame[col][wrong].iloc[0])})", source=name,
                          record=_rid(frame, wrong), hint="give a four-digit year or leave the cell empty")
    return values.astype("Int64")


def _check_filled(frame: pd.DataFrame, col: str, name: str) -> None:
    empty = frame[col].isna()
    if empty.any():
        raise SchemaError(f"empty {col}", source=name, record=_rid(frame, empty), hint=f"every record needs a {col}")


def _check_vocab(frame: pd.DataFrame, col: str, allowed: tuple[str, ...], name: str) -> None:
    unknown = frame[col].notna() & ~frame[col].isin(allowed)
    if unknown.any():
        label = col.replace("_", " ")
        raise SchemaError(f"unknown {label} {_show(frame[col][unknown].iloc[0])}", source=name,
                          record=_rid(frame, unknown), hint="use one of " + ", ".join(allowed))


def _check_regions(frame: pd.DataFrame, name: str) -> None:
    known = region_ids()
    unknown = ~frame["region"].isin(known)
    if unknown.any():
        raise SchemaError(f"unknown region {_show(frame['region'][unknown].iloc[0])}", source=name,
                          record=_rid(frame, unknown),
                          hint="use a province id of data/china_provinces.csv (e.g. Jiangsu, Inner Mongolia)")


def _coordinates(frame: pd.DataFrame, name: str) -> tuple[pd.Series, pd.Series]:
    lon, lat = _numeric(frame, "lon", name), _numeric(frame, "lat", name)
    missing = lon.isna() | lat.isna()
    if missing.any():
        raise GeometryError("lon/lat is missing", source=name, record=_rid(frame, missing),
                            hint="give every record WGS84 lon/lat in degrees")
    out = ~lon.between(*LON_RANGE) | ~lat.between(*LAT_RANGE)
    if out.any():
        swapped = lat.between(*LON_RANGE) & lon.between(*LAT_RANGE)
        pos = int(np.flatnonzero(out.to_numpy())[0])
        hint = ("lon and lat look swapped" if swapped.iloc[pos] else
                f"WGS84 degrees inside {LON_RANGE[0]:g}-{LON_RANGE[1]:g}E, {LAT_RANGE[0]:g}-{LAT_RANGE[1]:g}N")
        raise GeometryError(f"coordinates outside China ({lon.iloc[pos]:g}, {lat.iloc[pos]:g})", source=name,
                            record=_rid(frame, out), hint=hint)
    frame["lon"], frame["lat"] = lon, lat
    return lon, lat
