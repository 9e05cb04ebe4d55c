"""Gas plants (WRI GPPD) and non-coal power capacity (GEM hydro / nuclear / wind trackers + GPPD) in package format.

Used by :func:`gridcarbon.inputs.gem.build_facility_tables`. GEM's gas tracker is under a
non-commercial licence and is not used: gas plants come from GPPD v1.3.0. GPPD has no province
column, so its plants take the province holding them (Hong Kong and Macau plants are dropped; so
are 5 GEM wind rows named in Yunnan whose coordinates lie in Macau).
Coal power is in ``coal_units.csv`` and gas in ``gas_plants.csv``; ``power_capacity.csv`` holds
the rest: GEM hydro, nuclear and wind (newer than GPPD's, with statuses) and GPPD solar and
geothermal. GPPD's hydro, nuclear and wind rows are left out (GEM covers them) and so are its 5
oil plants (1.3 GW; fossil, no tracker to cross-check).
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from gridcarbon.inputs.facility_regions import (
    in_sar,
    regions_from_names,
    regions_from_points,
)

GPPD_FILE = "gppd_china/gppd_v130_china.csv"
HYDRO_FILE = "gem_plant_trackers/Global-Hydropower-Tracker-May-2023.xlsx"
NUCLEAR_FILE = "gem_plant_trackers/Global-Nuclear-Power-Tracker-October-2023.xlsx"
WIND_FILE = "gem_plant_trackers/Global-Wind-Power-Tracker-May-2023.xlsx"
#: ``source`` values of power_capacity.csv
SOURCES = {"hydro": "GEM hydro 2023-05", "nuclear": "GEM nuclear 2023-10", "wind": "GEM wind 2023-05",
           "gppd": "WRI GPPD 1.3.0"}
#: GPPD primary fuels kept in power_capacity.csv -> technology
GPPD_TECHNOLOGIES = {"Solar": "solar", "Geothermal": "geothermal", "Biomass": "biomass"}
#: GEM hydro "Technology Type" -> technology. Mixed conventional + pumped storage plants (2 in
#: China, 222 MW) count as hydro: their split is not given and conventional generation is present
HYDRO_TECHNOLOGIES = {"pumped storage": "pumped_hydro"}
#: statuses left out (cancelled projects never existed)
DROPPED_STATUSES = ("cancelled",)


def _gppd(shared: Path) -> pd.DataFrame:
    return pd.read_csv(shared / GPPD_FILE, encoding="utf-8", dtype={"gppd_idnr": str})


def _gppd_regions(plants: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """GPPD plants with ``region`` from their coordinates, and the plants outside every province."""
    region = regions_from_points(plants["longitude"], plants["latitude"])
    return plants.assign(region=region)[region.notna()], plants[region.isna()]


def _start_year(years: pd.Series) -> pd.Series:
    """GPPD commissioning year (fractional = capacity-weighted) floored to a whole year (Int64)."""
    return np.floor(pd.to_numeric(years, errors="coerce")).astype("Int64")


def gas_plants(shared: Path) -> tuple[pd.DataFrame, dict]:
    """GPPD plants whose primary fuel is Gas (all listed as operating)."""
    raw = _gppd(shared)
    gas, outside = _gppd_regions(raw[raw["primary_fuel"].eq("Gas")])
    frame = pd.DataFrame({
        "id": gas["gppd_idnr"], "name": gas["name"], "owner": gas["owner"], "region": gas["region"],
        "lon": gas["longitude"], "lat": gas["latitude"], "status": "operating",
        "start_year": _start_year(gas["commissioning_year"]), "capacity_mw": gas["capacity_mw"],
        "generation_gwh_2017": gas["estimated_generation_gwh_2017"]})
    notes = {"dropped": {"outside the 31 provinces (Hong Kong, Macau)": len(outside)},
             "dropped_plants": sorted(outside["name"].astype(str)), "unmapped_provinces": {}}
    return frame, notes


def _gppd_power(shared: Path) -> tuple[pd.DataFrame, int]:
    raw = _gppd(shared)
    plants, outside = _gppd_regions(raw[raw["primary_fuel"].isin(list(GPPD_TECHNOLOGIES))])
    frame = pd.DataFrame({
        "id": plants["gppd_idnr"], "name": plants["name"],
        "technology": plants["primary_fuel"].map(GPPD_TECHNOLOGIES),
        "source": SOURCES["gppd"], "region": plants["region"], "lon": plants["longitude"], "lat": plants["latitude"],
        "location_accuracy": None, "status": "operating", "start_year": _start_year(plants["commissioning_year"]),
        "retired_year": pd.NA, "capacity_mw": plants["capacity_mw"]})
    return frame, len(outside)


def _gem(rows: pd.DataFrame, cols: dict[str, str], technology: pd.Series, source: str) -> pd.DataFrame:
    """A GEM tracker's rows in power_capacity format (``cols`` maps package -> GEM column)."""
    region, unmapped = regions_from_names(rows[cols["province"]], rows[cols["lon"]], rows[cols["lat"]])
    frame = pd.DataFrame({
        "id": rows[cols["id"]].astype(str), "name": rows[cols["name"]], "technology": technology, "source": source,
        "region": region, "lon": rows[cols["lon"]], "lat": rows[cols["lat"]],
        "location_accuracy": rows[cols["accuracy"]], "status": rows["Status"],
        "start_year": pd.to_numeric(rows[cols["start"]], errors="coerce").astype("Int64"),
        "retired_year": pd.to_numeric(rows[cols["retired"]], errors="coerce").astype("Int64"),
        "capacity_mw": pd.to_numeric(rows["Capacity (MW)"], errors="coerce")})
    frame.attrs["unmapped"] = unmapped
    return frame


def _joined(first: pd.Series, second: pd.Series) -> pd.Series:
    """``first, second`` (``first`` alone where ``second`` is empty)."""
    return first.astype(str).where(second.isna(), first.astype(str) + ", " + second.astype(str))


def _sheet(path: Path) -> pd.DataFrame:
    """The Data sheet of a GEM workbook (openpyxl's warning about GEM's Excel extensions silenced)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Unknown extension", category=UserWarning)
        return pd.read_excel(path, sheet_name="Data")


def _china(data: pd.DataFrame, country: str) -> tuple[pd.DataFrame, dict[str, int]]:
    """A tracker's China rows without cancelled projects and without rows placed in Hong Kong or
    Macau (GEM wind has 5 Yunnan farms at one point in Macau: wrong coordinates), and the counts."""
    china = data[data[country].eq("China")]
    cancelled = china["Status"].isin(DROPPED_STATUSES)
    china = china[~cancelled].reset_index(drop=True)
    lon, lat = china["Longitude"].astype(float), china["Latitude"].astype(float)
    misplaced = in_sar(lon, lat) & regions_from_points(lon, lat).isna()
    return china[~misplaced].reset_index(drop=True), {"cancelled (GEM)": int(cancelled.sum()),
                                                       "GEM coordinates in Hong Kong / Macau": int(misplaced.sum())}


def _hydro(shared: Path) -> pd.DataFrame:
    rows, dropped = _china(_sheet(shared / HYDRO_FILE), "Country 1")
    tech = rows["Technology Type"].map(HYDRO_TECHNOLOGIES).fillna("hydro")
    cols = {"id": "GEM unit ID", "name": "Project Name", "province": "State/Province 1", "lon": "Longitude",
            "lat": "Latitude", "accuracy": "Location Accuracy", "start": "Start Year", "retired": "Retired Year"}
    frame = _gem(rows, cols, tech, SOURCES["hydro"])
    shared_id = frame["id"].duplicated(keep=False)  # one GEM id for a dam and its pumped-storage plant
    frame.loc[shared_id, "id"] = frame["id"] + "-" + frame["technology"]
    frame.attrs["dropped"] = dropped
    return frame


def _nuclear(shared: Path) -> pd.DataFrame:
    rows, dropped = _china(_sheet(shared / NUCLEAR_FILE), "Country")
    rows["name"] = _joined(rows["Project Name"], rows["Unit Name"])
    cols = {"id": "GEM unit ID", "name": "name", "province": "State/Province", "lon": "Longitude",
            "lat": "Latitude", "accuracy": "Location Accuracy", "start": "Start Year", "retired": "Retirement Year"}
    frame = _gem(rows, cols, pd.Series("nuclear", index=rows.index), SOURCES["nuclear"])
    frame.attrs["dropped"] = dropped
    return frame


def _wind(shared: Path) -> pd.DataFrame:
    rows, dropped = _china(_sheet(shared / WIND_FILE), "Country")
    rows["name"] = _joined(rows["Project Name"], rows["Phase Name"])
    tech = np.where(rows["Installation Type"].astype(str).str.startswith("offshore"), "offshore_wind", "onshore_wind")
    cols = {"id": "GEM phase ID", "name": "name", "province": "State/Province", "lon": "Longitude",
            "lat": "Latitude", "accuracy": "Location accuracy", "start": "Start year", "retired": "Retired year"}
    frame = _gem(rows, cols, pd.Series(tech, index=rows.index), SOURCES["wind"])
    frame.attrs["dropped"] = dropped
    return frame


def power_capacity(shared: Path) -> tuple[pd.DataFrame, dict]:
    """GEM hydro, nuclear and wind (every status but cancelled) + GPPD solar and geothermal plants."""
    gem = [_hydro(shared), _nuclear(shared), _wind(shared)]
    gppd, outside = _gppd_power(shared)
    unmapped: dict[str, int] = {}
    dropped = {"GPPD outside the 31 provinces": outside}
    for part in gem:
        for reason, n in part.attrs.pop("dropped").items():
            dropped[reason] = dropped.get(reason, 0) + n
        for name, n in part.attrs.pop("unmapped").items():
            unmapped[name] = unmapped.get(name, 0) + n
    frame = pd.concat([*gem, gppd], ignore_index=True)
    notes = {"dropped": dict(sorted(dropped.items())),
             "unmapped_provinces": dict(sorted(unmapped.items()))}
    return frame, notes
