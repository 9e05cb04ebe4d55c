"""Point sources of the built-in baselines from the real facility tables.

Power = GEM coal units + GPPD gas plants, steel = GEM iron and steel blocks, cement = GEM
clinker-making plants (integrated, clinker-only and unknown type; grinding-only plants have no
kiln and are left out of the emissions and of the table), chemicals = the illustrative sites of
``data/<set>_plants.csv`` (no open plant list; labelled ``illustrative`` in ``source``).

Each row's CO2 comes from physical activity in the base year
(:mod:`gridcarbon.inputs.facility_co2`, t CO2/yr); each sector is then scaled to the study's
sector total (``data/<set>_calibration.yaml``) by one factor, so every plant keeps its share
and each province keeps the share its plants give it (the calibration files hold no
provincial sector targets). :func:`calibration_table` reports the factor per province x sector.

Rows not operating in the base year but in the pipeline (construction, permitted, pre-permit,
announced, shelved, mothballed, or operating with a later start year) are kept with their
``status``, planned ``start_year`` and ``planned_retirement_year`` and ``emission_t`` 0; retired
rows, and operating steel blocks without iron or steelmaking capacity, are left out.
"""
from __future__ import annotations

import geopandas as gpd
import pandas as pd

from gridcarbon.core.units import T_PER_MT
from gridcarbon.inputs import facility_co2 as co2
from gridcarbon.inputs.data import read_table
from gridcarbon.inputs.facilities import (
    read_cement_plants,
    read_coal_units,
    read_gas_plants,
    read_steel_plants,
)

#: columns of the facility point frame, beyond geometry
COLUMNS = ["id", "name", "sector", "region", "capacity", "capacity_unit", "year_built", "fuel", "technology",
           "status", "start_year", "planned_retirement_year", "raw_t", "emission_t", "calibration_factor",
           "basis", "source"]
#: ``source`` label of each table
SOURCES = {"coal": "GEM Global Coal Plant Tracker 2023-07", "gas": "WRI GPPD v1.3.0",
           "steel": "GEM Global Iron and Steel Tracker", "cement": "GEM Global Cement and Concrete Tracker",
           "chemical": "illustrative (data/<set>_plants.csv)"}


def _frame(src: gpd.GeoDataFrame, est: pd.DataFrame, prefix: str, **cols) -> pd.DataFrame:
    """One table's rows in :data:`COLUMNS`, ids ``<prefix>-<id>`` (``cols``: column -> Series or scalar)."""
    out = pd.DataFrame({"id": prefix + "-" + src["id"].astype(str), "region": src["region"], "status": src["status"],
                        "start_year": src["start_year"], "raw_t": est["co2_t"], "basis": est["basis"],
                        "lon": src["lon"], "lat": src["lat"]}, index=src.index)
    out["planned_retirement_year"] = pd.Series(pd.NA, index=src.index, dtype="Int64")
    for k, v in cols.items():
        out[k] = v
    out["year_built"] = out["start_year"]
    return out


def _coal(year: int) -> pd.DataFrame:
    units = read_coal_units()
    name = units["plant_name"] + " " + units["unit_name"].fillna("")
    return _frame(units, co2.coal_co2(units, year), "COAL", name=name.str.strip(), sector="power",
                  capacity=units["capacity_mw"], capacity_unit="MW", fuel="coal",
                  technology=units["combustion_technology"], planned_retirement_year=units["planned_retirement_year"],
                  source=SOURCES["coal"])


def _gas(year: int) -> pd.DataFrame:
    plants = read_gas_plants()
    return _frame(plants, co2.gas_co2(plants, year), "GAS", name=plants["name"], sector="power",
                  capacity=plants["capacity_mw"], capacity_unit="MW", fuel="gas", technology="gas",
                  source=SOURCES["gas"])


def steel_capacity_mt(blocks: pd.DataFrame) -> pd.Series:
    """Capacity (Mt/yr) of steel tracker blocks: BOF + EAF steel + DRI iron, else BF iron (kt/yr columns)."""
    cap = blocks[["bof_steel_kt", "eaf_steel_kt", "dri_iron_kt"]].fillna(0.0).sum(axis=1)
    return cap.where(cap > 0, blocks["bf_iron_kt"].fillna(0.0)) / 1e3


def _steel(year: int) -> pd.DataFrame:
    blocks = read_steel_plants()
    cap = steel_capacity_mt(blocks)
    return _frame(blocks, co2.steel_co2(blocks, year), "STEEL", name=blocks["name"], sector="steel", capacity=cap,
                  capacity_unit="Mt", fuel=None, technology=blocks["main_route"], source=SOURCES["steel"])


def _cement(year: int) -> pd.DataFrame:
    plants = read_cement_plants()
    kiln = plants[plants["plant_type"] != "grinding"]  # grinding-only: no kiln, no direct CO2
    clinker, _ = co2.clinker_capacity(kiln)
    return _frame(kiln, co2.cement_co2(kiln, year), "CEMENT", name=kiln["name"], sector="cement", capacity=clinker,
                  capacity_unit="Mt", fuel="coal", technology=kiln["plant_type"], source=SOURCES["cement"])


def _chemical(region_set: str, year: int, cal: dict) -> pd.DataFrame:
    """Illustrative chemical sites with the capacity x intensity estimate of ``cal``."""
    plants = read_table(f"{region_set}_plants.csv")
    plants = plants[plants.sector == "chemical"].copy()
    intensity = plants.technology.map(cal["chemical_intensity"]).fillna(cal["chemical_intensity"]["default"])
    names = read_table("china_provinces.csv").set_index("adcode").region
    return pd.DataFrame({"id": plants["id"].astype(str), "name": plants["name"], "sector": "chemical",
                         "region": plants.province_adcode.map(names), "capacity": plants.capacity,
                         "capacity_unit": plants.capacity_unit, "year_built": plants.year_built.astype("Int64"),
                         "fuel": plants.fuel, "technology": plants.technology, "status": "operating",
                         "start_year": plants.year_built.astype("Int64"), "raw_t": plants.capacity * T_PER_MT * intensity,
                         "basis": "capacity x illustrative intensity",
                         "source": SOURCES["chemical"].replace("<set>", region_set),
                         "lon": plants.lon, "lat": plants.lat})


def facility_rows(region_set: str, regions: list[str], cal: dict) -> pd.DataFrame:
    """Every non-retired facility of ``regions`` with its uncalibrated ``raw_t`` (t CO2/yr in the
    base year; 0 for pipeline rows) and an ``active`` flag (operating in the base year)."""
    year = int(cal["base_year"])
    parts = [_coal(year), _gas(year), _steel(year), _cement(year)]
    frame = pd.concat(parts, ignore_index=True)
    frame["active"] = co2.operating_in(frame.assign(retired_year=pd.NA), year).to_numpy()
    frame.loc[~frame["active"], "raw_t"] = 0.0
    chem = _chemical(region_set, year, cal).assign(active=True)
    frame = pd.concat([frame, chem], ignore_index=True)
    # retired rows are history; an operating row without CO2 (a steel block with no iron or
    # steelmaking capacity, e.g. rolling mills) has nothing to grid or evolve
    keep = frame["region"].isin(regions) & ~frame["status"].eq("retired") & ~(frame["active"] & frame.raw_t.le(0))
    return frame[keep].reset_index(drop=True)


def calibrate(frame: pd.DataFrame, totals: dict[str, float]) -> pd.DataFrame:
    """``emission_t`` = ``raw_t`` x the sector's factor (study total / sum of ``raw_t``) and
    ``calibration_factor`` per row."""
    raw = frame.groupby("sector").raw_t.sum()
    factor = pd.Series({s: totals[s] / raw[s] for s in raw.index if raw[s] > 0})
    out = frame.copy()
    out["calibration_factor"] = out.sector.map(factor).astype(float)
    out["emission_t"] = out.raw_t * out.calibration_factor.fillna(0.0)
    return out


def calibration_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per province x sector: facilities emitting in the base year, ``raw_t`` (physical activity),
    ``calibrated_t`` and ``factor`` (calibrated / raw)."""
    live = frame[frame.raw_t > 0]
    table = live.groupby(["region", "sector"]).agg(facilities=("id", "size"), raw_t=("raw_t", "sum"),
                                                   calibrated_t=("emission_t", "sum")).reset_index()
    table["factor"] = table.calibrated_t / table.raw_t
    return table


def facility_points(region_set: str, regions: list[str], cal: dict, totals: dict[str, float]) -> gpd.GeoDataFrame:
    """Calibrated facility points (WGS84) of a built-in region set (columns :data:`COLUMNS`)."""
    frame = calibrate(facility_rows(region_set, regions, cal), totals)
    geometry = gpd.points_from_xy(frame.lon, frame.lat)
    return gpd.GeoDataFrame(frame[COLUMNS + ["active"]], geometry=geometry, crs="EPSG:4326")
