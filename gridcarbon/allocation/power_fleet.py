"""Today's power fleet from the real units, its retirements and committed pipeline (capacity in GW).

Coal: GEM coal plant tracker units (``facilities/coal_units.csv``) with their heat rates and
fuel emission factors; gas: WRI/GPPD gas plants (``facilities/gas_plants.csv``); nuclear,
hydro, wind and solar: GEM trackers (``facilities/power_capacity.csv``). The trackers list
utility-scale plants only: the rest of the 2024 national capacity (NEA statistics in
``power/technologies.csv``, e.g. distributed solar) is spread over provinces by
:data:`UNLISTED_KEY`.
"""
from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

from gridcarbon.allocation.power_data import (
    BIOMASS_POTENTIAL_X,
    PIPELINE,
    RETIRE_GRACE,
    TECHNOLOGIES,
    TJ_PER_BTU,
    resource_potentials,
)
from gridcarbon.core.errors import SchemaError
from gridcarbon.inputs.columns import require_columns

#: ASSUMPTION: how capacity missing from the unit trackers is spread over provinces: distributed
#: solar, gas and biomass follow electricity demand; wind and hydro follow the listed plants
UNLISTED_KEY = {"gas": "demand", "solar": "demand", "biomass": "demand", "onshore_wind": "listed",
                "offshore_wind": "listed", "hydro": "listed", "nuclear": "listed"}
#: ASSUMPTION: committed coal units without a start year come online 2 years after the base year
COMMITTED_DELAY = 2
#: ASSUMPTION: nuclear units under construction without a start year come online 4 years after the
#: base year (Hualong One and CAP1000 units in China take about 5-6 years from first concrete; the
#: undated ones in the GEM tracker began construction in 2021-2024)
NUCLEAR_DELAY = 4


def _facilities(name: str, columns: list[str]) -> pd.DataFrame:
    path = resources.files("gridcarbon") / "data" / "facilities" / name
    frame = pd.read_csv(path)
    require_columns(frame, columns, source=str(path))
    cap = pd.to_numeric(frame["capacity_mw"], errors="coerce")
    if (cap.isna() | (cap < 0)).any():
        row = int(np.flatnonzero(cap.isna() | (cap < 0))[0])
        raise SchemaError(f"capacity_mw must be a number >= 0, got {frame['capacity_mw'].iloc[row]!r}",
                          source=str(path), record=frame.iloc[row, 0])
    return frame


def coal_units(base_year: int, lifetime: float) -> pd.DataFrame:
    """Operating and committed coal units: id, region, capacity_mw, factor_t_per_mwh, start, retire.

    Factor = heat rate (btu/kWh) x fuel emission factor (kg/TJ), in t CO2/MWh. Retire year:
    GEM's planned retirement, else start + ``lifetime`` (years), not before base + grace.
    """
    units = _facilities("coal_units.csv", ["id", "region", "status", "start_year", "planned_retirement_year",
                                           "capacity_mw", "heat_rate_btu_per_kwh", "emission_factor_kg_per_tj"])
    units = units[units["status"].isin(("operating", "construction", "permitted"))]
    factor = units["heat_rate_btu_per_kwh"] * 1e3 * TJ_PER_BTU * units["emission_factor_kg_per_tj"] / 1e3
    if not factor.between(0.5, 1.5).all():
        row = units.index[~factor.between(0.5, 1.5)][0]
        raise SchemaError(f"coal unit emission factor {factor[row]:.3g} t/MWh outside 0.5-1.5",
                          source="facilities/coal_units.csv", record=units.loc[row, "id"])
    committed = units["status"] != "operating"
    start = units["start_year"].fillna(base_year + COMMITTED_DELAY)
    start = np.where(committed, np.maximum(start, base_year + 1), np.minimum(start, base_year))
    retire = units["planned_retirement_year"].fillna(pd.Series(start + lifetime, index=units.index))
    retire = np.maximum(retire, base_year + RETIRE_GRACE)
    return pd.DataFrame({"id": units["id"], "region": units["region"], "capacity_mw": units["capacity_mw"],
                         "factor_t_per_mwh": factor, "start": start.astype(int),
                         "retire": retire.astype(int)}).reset_index(drop=True)


def listed(base_year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Listed operating capacity (GW, region x technology) and committed pipeline (GW) of the trackers."""
    plants = _facilities("power_capacity.csv", ["region", "technology", "status", "capacity_mw"])
    plants = plants[plants["technology"].isin(TECHNOLOGIES)]
    gas = _facilities("gas_plants.csv", ["region", "status", "capacity_mw"]).assign(technology="gas")
    operating = pd.concat([plants[plants["status"] == "operating"], gas[gas["status"] == "operating"]])
    pipeline = plants[plants["status"].isin(PIPELINE)]

    def table(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.pivot_table(index="region", columns="technology", values="capacity_mw",
                                 aggfunc="sum").reindex(columns=TECHNOLOGIES).fillna(0.0) / 1e3
    return table(operating), table(pipeline)


def nuclear_under_construction(base_year: int) -> pd.DataFrame:
    """Nuclear units under construction that come online after ``base_year``: region, start
    (year, :data:`NUCLEAR_DELAY` after the base year when the tracker gives none), capacity_mw.

    They are committed, not optional: a reactor under construction in China is finished (none of
    the GEM tracker's units under construction has been cancelled). Units the tracker dates to
    the base year or before are already in the national 2024 capacity the listed fleet is
    topped up to, so they are left out here.
    """
    plants = _facilities("power_capacity.csv", ["region", "technology", "status", "start_year", "capacity_mw"])
    units = plants[(plants["technology"] == "nuclear") & (plants["status"] == "construction")]
    start = units["start_year"].fillna(base_year + NUCLEAR_DELAY).astype(int)
    keep = start > base_year
    return pd.DataFrame({"region": units["region"][keep], "start": start[keep],
                         "capacity_mw": units["capacity_mw"][keep]}).reset_index(drop=True)


def listed_pumped_hydro(regions: list[str]) -> np.ndarray:
    """Operating pumped-hydro capacity (R,) GW of the GEM tracker: firm at peak, no net generation."""
    plants = _facilities("power_capacity.csv", ["region", "technology", "status", "capacity_mw"])
    plants = plants[(plants["technology"] == "pumped_hydro") & (plants["status"] == "operating")]
    return plants.groupby("region")["capacity_mw"].sum().reindex(regions).fillna(0.0).to_numpy() / 1e3


def fleet(regions: list[str], years: list[int], tech: pd.DataFrame, prov: pd.DataFrame
          ) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Existing capacity (R, G, T) GW, coal fleet factor (R, T) t/MWh and the coal units.

    Nuclear units under construction join from their start year (:func:`nuclear_under_construction`).
    Non-coal plants do not retire within the horizon unless a lifetime is given (wind and solar
    are repowered at their sites: ASSUMPTION); with one (gas) today's fleet declines linearly
    over it; coal follows its units; listed capacity is topped
    up to the national 2024 statistics (:data:`UNLISTED_KEY`).
    """
    base = years[0]
    listed_gw, _ = listed(base)
    listed_gw = listed_gw.reindex(index=prov.index).fillna(0.0)
    national = tech["national_2024_gw"].fillna(0.0)
    demand_share = prov["demand_2024_twh"] / prov["demand_2024_twh"].sum()
    now = listed_gw.copy()
    for g, key in UNLISTED_KEY.items():
        missing = max(national[g] - listed_gw[g].sum(), 0.0)
        weight = demand_share if key == "demand" or listed_gw[g].sum() == 0 else listed_gw[g] / listed_gw[g].sum()
        now[g] = listed_gw[g] + missing * weight
    units = coal_units(base, tech.loc["coal", "lifetime_years"])
    units = units[units["region"].isin(regions)]
    reactors = nuclear_under_construction(base)
    existing = np.zeros((len(regions), len(TECHNOLOGIES), len(years)))
    factor = np.zeros((len(regions), len(years)))
    yr = np.array(years)
    for r, region in enumerate(regions):
        for g, name in enumerate(TECHNOLOGIES):
            life = tech.loc[name, "lifetime_years"]
            # a fleet of mixed age retires linearly over one lifetime (coal: per unit, below)
            keep = np.clip(1 - (yr - base) / life, 0, 1) if life > 0 else np.ones(len(years))
            existing[r, g] = now.loc[region, name] * keep
        building = reactors[reactors["region"] == region]
        online = building["start"].to_numpy()[:, None] <= yr
        existing[r, TECHNOLOGIES.index("nuclear")] += (building["capacity_mw"].to_numpy()[:, None] * online).sum(0) / 1e3
        mine = units[units["region"] == region]
        alive = (mine["start"].to_numpy()[:, None] <= yr) & (mine["retire"].to_numpy()[:, None] > yr)
        cap = mine["capacity_mw"].to_numpy()[:, None] * alive / 1e3
        existing[r, TECHNOLOGIES.index("coal")] = cap.sum(axis=0)
        weighted = (cap * mine["factor_t_per_mwh"].to_numpy()[:, None]).sum(axis=0)
        fallback = units["factor_t_per_mwh"].mean()
        factor[r] = np.where(cap.sum(axis=0) > 0, weighted / np.maximum(cap.sum(axis=0), 1e-12), fallback)
    return existing, factor, units


def potentials(regions: list[str], tech: pd.DataFrame, prov: pd.DataFrame, existing0: np.ndarray,
               base_year: int) -> tuple[np.ndarray, np.ndarray]:
    """Potential (R, G) GW of total capacity and build rate (R, G) GW/yr per region and technology.

    Solar (ground + rooftop), onshore and offshore wind from the technical potentials of
    ``power/potentials.csv`` (offshore only in coastal provinces), nuclear and hydro up to today's
    fleet plus the trackers' pipeline (nuclear only where a site exists or is planned), biomass a
    multiple of today, gas and CCS unbounded, no new coal beyond the committed units. Build rates:
    ``build_gw_per_year_per_100twh`` of ``technologies.csv`` x the province's 2024 demand / 100 TWh.
    """
    _, pipeline = listed(base_year)
    pipeline = pipeline.reindex(index=regions).fillna(0.0)
    resource = resource_potentials().loc[regions]
    pot = np.full((len(regions), len(TECHNOLOGIES)), np.inf)
    col = TECHNOLOGIES.index
    pot[:, col("solar")] = (resource["solar_ground_gw"] + resource["solar_rooftop_gw"]).to_numpy()
    pot[:, col("onshore_wind")] = resource["onshore_wind_gw"].to_numpy()
    pot[:, col("offshore_wind")] = resource["offshore_wind_gw"].to_numpy()
    for g in ("nuclear", "hydro"):
        pot[:, col(g)] = existing0[:, col(g)] + pipeline[g].to_numpy()
    pot[:, col("biomass")] = existing0[:, col("biomass")] * BIOMASS_POTENTIAL_X
    pot[:, col("coal")] = 0.0
    pot = np.where(np.isfinite(pot), np.maximum(pot, existing0), pot)
    rate = np.outer(prov.loc[regions, "demand_2024_twh"].to_numpy() / 100, tech["build_gw_per_year_per_100twh"])
    return pot, rate
