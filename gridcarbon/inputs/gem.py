"""Readers of the original Global Energy Monitor (GEM) and WRI GPPD files, converted to the package format.

:func:`build_facility_tables` regenerates the shipped ``data/facilities/*.csv`` byte for byte from
the folder of original files (``shared/data``: ``gem_plant_trackers/`` and ``gppd_china/``, each
described by its ``SOURCE.md``). This module converts coal units, steel plants and cement plants;
:mod:`gridcarbon.inputs.gem_power` converts gas plants and the other power capacity. Row filters
and column changes are written in ``data/SOURCES.md``, "Facility tables".
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from gridcarbon.inputs.facilities import (
    CEMENT,
    COAL,
    GAS,
    OPERATING_STATUSES,
    POWER,
    STEEL,
    Table,
    validate_facilities,
)
from gridcarbon.inputs.facility_regions import regions_from_names
from gridcarbon.inputs.gem_power import gas_plants, power_capacity

GCPT_FILE = "gem_plant_trackers/gcpt_jul2023_china_units.csv"
GIST_PLANTS_FILE = "gem_plant_trackers/gem_gist_2025_12_steel_china_plants.csv"
GIST_BLOCKS_FILE = "gem_plant_trackers/gem_gist_2025_12_steel_china_capacity_by_status.csv"
GIST_PRODUCTION_FILE = "gem_plant_trackers/gem_gist_2025_12_steel_china_production.csv"
GCCT_FILE = "gem_plant_trackers/gem_gcct_2025_07_cement_china.csv"
#: decimals kept of lon/lat: 5 decimals is about 1 m, finer than any tracker's accuracy
COORD_DECIMALS = 5
#: statuses left out of every table: cancelled projects never existed
DROPPED_STATUSES = ("cancelled",)
#: GCPT column -> package column
GCPT_COLUMNS = {
    "GEM unit/phase ID": "id", "GEM location ID": "plant_id", "Plant name": "plant_name", "Unit name": "unit_name",
    "Owner": "owner", "Major area (prefecture, district)": "prefecture", "Longitude": "lon", "Latitude": "lat",
    "Location accuracy": "location_accuracy", "Status": "status", "Start year": "start_year",
    "Retired year": "retired_year", "Planned retirement": "planned_retirement_year", "Capacity (MW)": "capacity_mw",
    "Combustion technology": "combustion_technology", "Coal type": "coal_type",
    "Heat rate (Btu per kWh)": "heat_rate_btu_per_kwh",
    "Emission factor (kg of CO2 per TJ)": "emission_factor_kg_per_tj",
    "Capacity factor": "capacity_factor", "Annual CO2 (million tonnes / annum)": "gem_co2_mt"}
#: GIST capacity column (thousand t/yr = kt/yr) -> package column
GIST_CAPACITIES = {"bof_steel_ttpa": "bof_steel_kt", "eaf_steel_ttpa": "eaf_steel_kt", "bf_iron_ttpa": "bf_iron_kt",
                   "dri_iron_ttpa": "dri_iron_kt"}
#: GIST capacities left out (nil or negligible for China; their operating totals go to the build report)
GIST_DROPPED = ("ohf_steel_ttpa", "other_steel_ttpa", "other_iron_ttpa")
#: a block's main route: BOF (or EAF) holds at least this share of its steelmaking capacity, else
#: "mixed". ASSUMPTION: three quarters marks a clear majority without splitting hairs
ROUTE_MAJORITY = 0.75
#: an EAF block is DRI-EAF when its DRI capacity feeds at least this share of its EAF capacity.
#: ASSUMPTION: half the charge from DRI makes DRI, not scrap, the main iron source
DRI_SHARE = 0.5
#: GCCT plant type -> package plant type
CEMENT_TYPES = {"integrated": "integrated", "clinker only": "clinker", "grinding": "grinding", "unknown": "unknown"}


def build_facility_tables(shared_data_dir: str | Path, out_dir: str | Path) -> dict[str, dict]:
    """Write the five facility tables from the original files; return a build report per file.

    The report holds ``rows``, ``dropped`` (rows left out and why) and ``unmapped_provinces``
    (GEM province names that did not map to a region id and were placed by their coordinates).
    """
    shared, out = Path(shared_data_dir), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    steel = steel_plants(shared / GIST_PLANTS_FILE, shared / GIST_BLOCKS_FILE, shared / GIST_PRODUCTION_FILE)
    built = [(COAL, coal_units(shared / GCPT_FILE)), (STEEL, steel),
             (CEMENT, cement_plants(shared / GCCT_FILE)), (GAS, gas_plants(shared)), (POWER, power_capacity(shared))]
    report = {}
    for table, (frame, notes) in built:
        write_table(frame, table, out / table.file)
        report[table.file] = {"rows": len(frame), **notes}
    return report


def write_table(frame: pd.DataFrame, table: Table, path: Path) -> None:
    """Validate ``frame`` as ``table`` and write it: UTF-8, ``\\n`` line ends, rounded lon/lat, sorted ids."""
    frame = frame[table.columns].copy()
    frame[["lon", "lat"]] = frame[["lon", "lat"]].astype(float).round(COORD_DECIMALS)
    frame = frame.sort_values("id", kind="stable").reset_index(drop=True)
    checked = validate_facilities(frame, table, path.name)
    for col in table.years:
        frame[col] = checked[col]
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def _year(text: pd.Series) -> pd.Series:
    """Year of GEM date cells (``2003``, ``2010-04-01 00:00:00``, ``unknown``) as Int64."""
    return pd.to_numeric(text.astype(str).str.extract(r"^(\d{4})", expand=False), errors="coerce").astype("Int64")


def _notes(raw_status: pd.Series, unmapped) -> dict:
    """Build notes: rows left out by status, GEM province names that did not map."""
    dropped = raw_status[raw_status.isin(DROPPED_STATUSES)].value_counts()
    return {"dropped": {str(k): int(v) for k, v in dropped.items()},
            "unmapped_provinces": dict(sorted(unmapped.items()))}


# ------------------------------------------------------------------ coal
def coal_units(path: Path) -> tuple[pd.DataFrame, dict]:
    """GCPT China units, every status but cancelled, renamed to :data:`GCPT_COLUMNS`."""
    raw = pd.read_csv(path, encoding="utf-8")
    raw = raw[raw["Country"].eq("China")]
    kept = raw[~raw["Status"].isin(DROPPED_STATUSES)]
    region, unmapped = regions_from_names(kept["Subnational unit (province, state)"], kept["Longitude"],
                                          kept["Latitude"])
    frame = kept.rename(columns=GCPT_COLUMNS)[list(GCPT_COLUMNS.values())].assign(region=region)
    return frame, _notes(raw["Status"], unmapped)


# ------------------------------------------------------------------ steel
def main_route(bof: pd.Series, eaf: pd.Series, bf_iron: pd.Series, dri: pd.Series) -> pd.Series:
    """Main route of each block from its capacities (kt/yr; NaN counts as 0).

    BF-BOF when BOF holds >= :data:`ROUTE_MAJORITY` of BOF + EAF steel capacity; EAF (DRI-EAF when
    DRI capacity >= :data:`DRI_SHARE` x EAF capacity) when EAF holds that share; "mixed" otherwise;
    "BF-iron" for ironmaking-only blocks (blast furnaces without steelmaking capacity).
    """
    bof, eaf, bf_iron, dri = (s.fillna(0.0) for s in (bof, eaf, bf_iron, dri))
    steel = bof + eaf
    route = pd.Series("mixed", index=bof.index, dtype=object)
    route[bof >= ROUTE_MAJORITY * steel] = "BF-BOF"
    eaf_main = (eaf >= ROUTE_MAJORITY * steel) & (steel > 0)
    route[eaf_main] = "EAF"
    route[eaf_main & (dri >= DRI_SHARE * eaf)] = "DRI-EAF"
    route[steel <= 0] = "BF-iron"
    route[(steel <= 0) & (bf_iron <= 0) & (dri > 0)] = "DRI-EAF"
    return route


def _latest_production(path: Path) -> pd.DataFrame:
    """Latest reported crude steel production per plant: ``reported_crude_steel_kt``, ``reported_year``."""
    prod = pd.read_csv(path, encoding="utf-8")
    crude = prod[prod["production_type"].str.startswith("Crude steel") & prod["production_ttpa"].notna()]
    latest = crude.sort_values(["gem_plant_id", "year"]).groupby("gem_plant_id").last()
    return latest.rename(columns={"production_ttpa": "reported_crude_steel_kt", "year": "reported_year"})[
        ["reported_crude_steel_kt", "reported_year"]]


def steel_plants(plants_path: Path, blocks_path: Path, production_path: Path) -> tuple[pd.DataFrame, dict]:
    """GIST plant x status blocks (cancelled left out) with the plant's location and reported production."""
    plants = pd.read_csv(plants_path, encoding="utf-8").set_index("gem_plant_id")
    blocks = pd.read_csv(blocks_path, encoding="utf-8")
    kept = blocks[~blocks["status"].isin(DROPPED_STATUSES)].copy()
    site = plants.loc[kept["gem_plant_id"]].reset_index(drop=True)
    kept = kept.reset_index(drop=True)
    region, unmapped = regions_from_names(site["province"], site["longitude"], site["latitude"])
    frame = pd.DataFrame({
        "id": kept["gem_plant_id"] + ":" + kept["status"], "plant_id": kept["gem_plant_id"],
        "name": site["name_en"], "owner": site["owner"], "region": region, "lon": site["longitude"],
        "lat": site["latitude"], "location_accuracy": site["coord_accuracy"], "status": kept["status"],
        "start_year": _year(kept["start_date"]),
        "retired_year": _year(site["retired_date"]).where(kept["status"].eq("retired")),
        **{new: kept[old] for old, new in GIST_CAPACITIES.items()}})
    frame["main_route"] = main_route(frame.bof_steel_kt, frame.eaf_steel_kt, frame.bf_iron_kt, frame.dri_iron_kt)
    reported = _latest_production(production_path).reindex(frame["plant_id"]).reset_index(drop=True)
    operating = frame["status"].isin(OPERATING_STATUSES)
    frame["reported_crude_steel_kt"] = reported["reported_crude_steel_kt"].where(operating)
    frame["reported_year"] = reported["reported_year"].where(operating).astype("Int64")
    notes = _notes(blocks["status"], unmapped)
    live = kept["status"].isin(OPERATING_STATUSES)
    notes["dropped_operating_capacity_kt"] = {c: float(kept.loc[live, c].fillna(0).sum()) for c in GIST_DROPPED}
    return frame, notes


# ------------------------------------------------------------------ cement
def cement_plants(path: Path) -> tuple[pd.DataFrame, dict]:
    """GCCT China plants (no status is dropped: the file has no cancelled plant)."""
    raw = pd.read_csv(path, encoding="utf-8")
    kept = raw[~raw["status"].isin(DROPPED_STATUSES)].reset_index(drop=True)
    region, unmapped = regions_from_names(kept["province"], kept["longitude"], kept["latitude"])
    frame = pd.DataFrame({
        "id": kept["gem_plant_id"], "name": kept["name_en"], "owner": kept["owner"], "region": region,
        "lon": kept["longitude"], "lat": kept["latitude"], "location_accuracy": kept["coord_accuracy"],
        "status": kept["status"], "start_year": _year(kept["start_date"]),
        "plant_type": kept["plant_type"].map(CEMENT_TYPES),
        "clinker_capacity_mt": kept["clinker_capacity_mtpa"], "cement_capacity_mt": kept["cement_capacity_mtpa"]})
    return frame, _notes(raw["status"], unmapped)
