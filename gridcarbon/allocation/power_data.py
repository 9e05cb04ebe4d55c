"""The provincial power system in numbers: demand, fleet, limits, imports (``docs/architecture.md``, "Power system").

:func:`power_system` turns the shipped tables under ``gridcarbon/data/power/`` and the real
units under ``gridcarbon/data/facilities/`` into a :class:`PowerSystem` for the regions and
years of an allocation problem. Units: capacity GW, energy TWh, emission factors t CO2/MWh
(= Mt/TWh), so ``factor x generation`` is Mt CO2 as in the LP. Year axis as the LP's
(index 0 = base year, the calibrated state; decisions from index 1).
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from gridcarbon.core.errors import SchemaError
from gridcarbon.inputs.columns import require_columns

TECHNOLOGIES = ["coal", "gas", "nuclear", "hydro", "onshore_wind", "offshore_wind", "solar", "biomass",
                "coal_ccs", "gas_ccs"]
#: hours per year / 1000: GW x HOURS_TWH = TWh per year at full output
HOURS_TWH = 8.76
#: btu -> TJ (1 btu = 1055.06 J), for the coal units' heat rates (GEM coal plant tracker)
TJ_PER_BTU = 1.05506e-9
#: ASSUMPTION: coal units already past their lifetime (``technologies.csv``) retire no earlier than
#: 3 years after the base year (a phase-out, not a cliff)
RETIRE_GRACE = 3
#: ASSUMPTION: electricity demand grows with GDP at an elasticity of 0.45 (China 2015-2024: demand
#: +70 % against GDP +75 % at constant prices, elasticity near 1; falling with the service share)
DEMAND_GDP_ELASTICITY = 0.3
#: ASSUMPTION: electrified end uses: sector -> (t CO2 per tce of the fuel replaced, TWh of
#: electricity per Mtce of fuel replaced). 1 Mtce = 8.14 TWh of heat; electric drives and heat
#: pumps need about a third (road) to half (buildings) of it. Fuel factors: IPCC 2006 default
#: carbon contents (oil 2.15, gas 1.64, coal 2.77 t CO2/tce) in the sector's fuel mix.
ELECTRIFIED = {"transport_road": (2.15, 8.14 / 3), "buildings": (2.2, 8.14 / 2)}
#: ASSUMPTION: system load factor 0.6 (average / peak load) and a 10 % planning reserve
LOAD_FACTOR, RESERVE = 0.6, 1.10
#: ASSUMPTION: interregional lines run at 55 % of their rating on average (UHV DC lines into East
#: China, about 4800 h/yr), so a line's firm contribution is its average flow / 0.55
LINE_UTILISATION = 0.55
#: MEE and NBS (2024-12-26): national average grid CO2 factor 2022, t CO2/MWh; the reference for
#: the calibrated intensity of imports reported in the manifest
GRID_FACTOR_2022 = 0.5366
#: ASSUMPTION: the carbon intensity of imports from outside the study area falls linearly to 5 %
#: of its base-year value by 2060 (sending grids about 95 % non-fossil, in line with China's 2060 goal)
IMPORT_INTENSITY_2060 = 0.05
#: ASSUMPTION: lines from outside the study area can carry up to 2x the base-year imports by
#: 2060 (linear), trade between study regions up to 25 % of a region's base-year demand or
#: 1.5x its base-year flow, whichever is larger
IMPORT_GROWTH_2060, TRADE_DEMAND_FRAC, TRADE_GROWTH = 2.0, 0.25, 1.5
#: ASSUMPTION: lines from outside keep carrying at least this share of their base-year flow every
#: year: the UHV lines into the YRD are recent long-lived assets built to deliver the output of
#: named sending bases (Baihetan-Jiangsu and Baihetan-Zhejiang, 8 GW each, 2022, about 30 TWh/yr
#: each of hydropower: Xinhua 2022-07-01 and 2022-12-30; Zhundong-Wannan, 2019, 300 TWh delivered
#: by January 2025: Xinhua 2025-01-13), so they do not fall idle when local supply grows
IMPORT_FLOOR = 1.0
#: columns of ``power/potentials.csv``: technical potentials per province, GW of total capacity
#: (sources in ``ALLOCATION_SOURCES.md``: ground solar Odhiambo et al. 2021 for the YRD, He and
#: Kammen 2016 elsewhere; rooftop solar from the national 6.5 PWh/yr of Sustainability 15:3380
#: (2023); onshore wind CMA 2010; offshore wind ASSUMPTION)
POTENTIAL_COLUMNS = ["solar_ground_gw", "solar_rooftop_gw", "onshore_wind_gw", "offshore_wind_gw"]
#: ASSUMPTION: biomass power potential 2x the 2024 capacity
BIOMASS_POTENTIAL_X = 2.0
#: facility statuses that count as the committed pipeline of a technology (GEM trackers)
PIPELINE = ("construction", "pre-construction", "permitted", "announced")


@dataclass(frozen=True)
class PowerSystem:
    """Power-system data for R regions, G = :data:`TECHNOLOGIES`, T years (index 0 = base)."""

    regions: list[str]
    years: list[int]
    demand: np.ndarray        # (R, T) TWh
    existing: np.ndarray      # (R, G, T) GW of today's fleet (and committed coal) still operating
    headroom: np.ndarray      # (R, G, T) GW of new capacity allowed (potential minus existing)
    build_rate: np.ndarray    # (R, G) GW per year of new capacity
    first_build: np.ndarray   # (G,) first year new capacity may come online
    cf: np.ndarray            # (R, G) capacity factor (non-dispatchable: fixed; dispatchable: maximum)
    dispatchable: np.ndarray  # (G,) bool
    fossil: np.ndarray        # (G,) bool
    factor: np.ndarray        # (R, G, T) t CO2/MWh
    firm: np.ndarray          # (G,) firm fraction of capacity at peak
    peak: np.ndarray          # (R, T) GW needed (peak load x reserve) minus firm line capacity
    import_cap: np.ndarray    # (R, T) TWh from outside the study area
    import_min: np.ndarray    # (R, T) TWh from outside the lines carry at least
    export_cap: np.ndarray    # (R, T) TWh to outside the study area
    trade_cap: np.ndarray     # (R,) TWh in or out between study regions
    intensity: np.ndarray     # (T,) t CO2/MWh of imports from outside
    gen0: np.ndarray          # (R, G) base-year generation TWh
    imports0: np.ndarray      # (R,) base-year imports from outside TWh
    exports0: np.ndarray      # (R,) base-year exports to outside TWh
    trade0: np.ndarray        # (R,) base-year net inflow from study regions TWh
    coal_units: pd.DataFrame  # real coal units: region, id, capacity_mw, factor_t_per_mwh, start, retire


def _table(name: str, columns: list[str], path=None) -> pd.DataFrame:
    path = path or resources.files("gridcarbon") / "data" / "power" / name
    frame = pd.read_csv(path)
    require_columns(frame, columns, source=str(path))
    numeric = [c for c in columns if c not in ("region", "technology")]
    values = frame[numeric].apply(pd.to_numeric, errors="coerce")
    bad = (values.isna() & frame[numeric].notna()) | (values < 0)
    if bad.to_numpy().any():
        row = int(np.flatnonzero(bad.any(axis=1))[0])
        raise SchemaError(f"values must be non-negative numbers, got {frame.iloc[row].to_dict()}",
                          source=str(path), record=frame.iloc[row, 0])
    return frame.assign(**values)


def provinces(path=None) -> pd.DataFrame:
    """``provinces.csv`` (or ``path``): region, demand_2024_twh, area_km2, coastal."""
    return _table("provinces.csv", ["region", "demand_2024_twh", "area_km2", "coastal"], path).set_index("region")


def resource_potentials(path=None) -> pd.DataFrame:
    """``potentials.csv`` (or ``path``), indexed by region: :data:`POTENTIAL_COLUMNS`, GW.

    Every province of ``provinces.csv`` exactly once, no empty cell, offshore wind only in
    coastal provinces.
    """
    source = str(path or "power/potentials.csv")
    frame = _table("potentials.csv", ["region", *POTENTIAL_COLUMNS], path)
    empty = frame[POTENTIAL_COLUMNS].isna().any(axis=1)
    if empty.any():
        raise SchemaError("empty potential", source=source, record=frame.loc[empty, "region"].iloc[0])
    prov = provinces()
    unknown = frame.loc[~frame["region"].isin(prov.index) | frame["region"].duplicated(), "region"]
    if len(unknown):
        raise SchemaError("not a province of power/provinces.csv, or listed twice", source=source,
                          record=unknown.iloc[0])
    missing = sorted(set(prov.index) - set(frame["region"]))
    if missing:
        raise SchemaError("province without potentials", source=source, record=missing[0])
    frame = frame.set_index("region")
    inland = (prov.loc[frame.index, "coastal"] == 0) & (frame["offshore_wind_gw"] > 0)
    if inland.any():
        raise SchemaError("offshore wind potential in an inland province", source=source,
                          record=inland[inland].index[0])
    return frame


def technologies(path=None) -> pd.DataFrame:
    """``technologies.csv`` (or ``path``), one row per technology of :data:`TECHNOLOGIES` in that order."""
    frame = _table("technologies.csv", ["technology", "fossil", "dispatchable", "capacity_factor",
                                        "max_capacity_factor", "emission_factor_t_per_mwh", "firm_fraction",
                                        "lifetime_years", "national_2024_gw", "first_build_year",
                                        "build_gw_per_year_per_100twh"], path).set_index("technology")
    unknown = sorted(set(frame.index) ^ set(TECHNOLOGIES))
    if unknown:
        raise SchemaError(f"technologies must be exactly {TECHNOLOGIES}, differ in {unknown}",
                          source=str(path or "power/technologies.csv"), record=unknown[0])
    return frame.loc[TECHNOLOGIES]


def covers(regions: list[str]) -> bool:
    """Whether every region is a province of the shipped power tables (the power system applies)."""
    return set(regions) <= set(provinces().index)
