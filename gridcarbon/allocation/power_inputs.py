"""Assemble the :class:`~gridcarbon.allocation.power_data.PowerSystem` of an allocation problem.

The base year is a calibrated state, not a decision: non-fossil plants run at their capacity
factors, gas plants at theirs, and coal generates what the baseline's power emissions leave
(``(E0_power - gas) / coal fleet factor``), so the base-year power CO2 equals the inventory's.
What the region uses beyond its own generation is imported: the study area's net imports come
from outside and are split over regions by their base-year ``indirect`` emissions (so the
calibrated import intensity reproduces those emissions); the rest is trade between study
regions, which sums to zero. An area without indirect emissions (China) imports nothing: its
base-year demand is scaled to what its plants generate (the power CO2 of the inventory at the
units' emission factors covers about 91 % of NBS electricity use). Units: GW, TWh, t CO2/MWh, Mt CO2.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from gridcarbon.allocation.power_data import (
    DEMAND_GDP_ELASTICITY,
    ELECTRIFIED,
    HOURS_TWH,
    IMPORT_FLOOR,
    IMPORT_GROWTH_2060,
    IMPORT_INTENSITY_2060,
    LINE_UTILISATION,
    LOAD_FACTOR,
    RESERVE,
    TECHNOLOGIES,
    TRADE_DEMAND_FRAC,
    TRADE_GROWTH,
    PowerSystem,
    covers,
    provinces,
    technologies,
)
from gridcarbon.allocation.power_fleet import fleet, listed_pumped_hydro, potentials
from gridcarbon.core.errors import InputError
from gridcarbon.core.sectors import EMITTING

#: the year by which import limits and intensity reach their 2060 values (linear from the base year)
TARGET_YEAR = 2060


def power_system(regions: list[str], years: list[int], e0: np.ndarray, drivers: pd.DataFrame,
                 electrification: dict[int, float], *,
                 demand_elasticity: float = DEMAND_GDP_ELASTICITY) -> PowerSystem | None:
    """The power system of ``regions`` (None when a region is not a province of the shipped tables).

    ``e0``: (R, S) base-year emissions, Mt CO2, S = EMITTING. ``drivers``: region, year,
    population, gdp_yuan. ``electrification``: year -> share of road transport and building
    fuel use electrified (the evolution's path). ``demand_elasticity``: of electricity demand
    to GDP (dimensionless, :data:`DEMAND_GDP_ELASTICITY`).
    """
    if not covers(regions):
        return None
    prov, tech = provinces(), technologies()
    existing, coal_factor, units = fleet(regions, years, tech, prov)
    demand = _demand(prov, regions, years, e0, drivers, electrification, demand_elasticity)
    factor = np.zeros_like(existing)
    factor[:, TECHNOLOGIES.index("coal")] = coal_factor
    for g in ("gas", "coal_ccs", "gas_ccs"):
        factor[:, TECHNOLOGIES.index(g)] = tech.loc[g, "emission_factor_t_per_mwh"]
    cf = np.tile(np.where(tech["dispatchable"] == 1, tech["max_capacity_factor"], tech["capacity_factor"]),
                 (len(regions), 1)).astype(float)
    gen0 = _base_generation(existing[:, :, 0], factor[:, :, 0], e0[:, EMITTING.index("power")], tech, cf)
    if e0[:, EMITTING.index("indirect")].sum() == 0:  # a closed area: demand as generated
        demand = demand * gen0.sum() / demand[:, 0].sum()
    net0 = demand[:, 0] - gen0.sum(axis=1)
    imports0, exports0 = _outside(net0, e0[:, EMITTING.index("indirect")])
    trade0 = net0 - imports0 + exports0
    ramp = np.clip((np.array(years) - years[0]) / max(TARGET_YEAR - years[0], 1), 0, 1)
    growth = 1 + (IMPORT_GROWTH_2060 - 1) * ramp
    intensity0 = e0[:, EMITTING.index("indirect")].sum() / imports0.sum() if imports0.sum() > 0 else 0.0
    trade_cap = np.maximum(TRADE_DEMAND_FRAC * demand[:, 0], TRADE_GROWTH * np.abs(trade0))
    pot, rate = potentials(regions, tech, prov, existing[:, :, 0], years[0])
    headroom = np.maximum(pot[:, :, None] - existing, 0.0)
    headroom[:, np.array(years)[None, :] < tech["first_build_year"].to_numpy()[:, None]] = 0.0
    headroom[:, :, 0] = 0.0
    firm = tech["firm_fraction"].to_numpy()
    peak = _peak(demand, existing, firm, imports0[:, None] * growth + np.maximum(trade0, 0)[:, None],
                 listed_pumped_hydro(regions))
    return PowerSystem(
        regions=regions, years=years, demand=demand, existing=existing, headroom=headroom, build_rate=rate,
        first_build=tech["first_build_year"].to_numpy(), cf=cf, dispatchable=tech["dispatchable"].to_numpy() == 1,
        fossil=tech["fossil"].to_numpy() == 1, factor=factor, firm=firm, peak=peak,
        import_cap=imports0[:, None] * growth, import_min=IMPORT_FLOOR * imports0[:, None] * np.ones(len(years)),
        export_cap=exports0[:, None] * growth, trade_cap=trade_cap,
        intensity=intensity0 * (1 - (1 - IMPORT_INTENSITY_2060) * ramp), gen0=gen0, imports0=imports0,
        exports0=exports0, trade0=trade0, coal_units=units)


def _driver(drivers: pd.DataFrame, regions: list[str], years: list[int], column: str) -> np.ndarray:
    table = drivers.pivot_table(index="region", columns="year", values=column)
    missing = [(r, y) for r in regions for y in years if r not in table.index or y not in table.columns]
    if missing:
        raise InputError(f"no {column} for {missing[0][0]} in {missing[0][1]}", source="drivers",
                         record=f"{missing[0][0]}/{missing[0][1]}")
    return table.loc[regions, years].to_numpy(dtype=float)


def _demand(prov: pd.DataFrame, regions: list[str], years: list[int], e0: np.ndarray, drivers: pd.DataFrame,
            electrification: dict[int, float], elasticity: float) -> np.ndarray:
    """Electricity demand (R, T) TWh: 2024 use x GDP growth^elasticity + newly electrified end uses."""
    gdp = _driver(drivers, regions, years, "gdp_yuan")
    base = prov.loc[regions, "demand_2024_twh"].to_numpy()[:, None] * (gdp / gdp[:, :1]) ** elasticity
    given = sorted(electrification)
    share = np.interp(years, given, [electrification[y] for y in given])
    fuel_twh = sum(e0[:, EMITTING.index(s)] / carbon * twh for s, (carbon, twh) in ELECTRIFIED.items())
    return base + fuel_twh[:, None] * np.maximum(share - share[0], 0.0)[None, :]


def _base_generation(cap0: np.ndarray, factor0: np.ndarray, power0: np.ndarray, tech: pd.DataFrame,
                     cf: np.ndarray) -> np.ndarray:
    """Base-year generation (R, G) TWh; coal (or gas where there is no coal) closes the power CO2.

    Raises the dispatchable maximum capacity factor in ``cf`` where the calibration needs more.
    """
    col = TECHNOLOGIES.index
    gen = cap0 * tech["capacity_factor"].to_numpy()[None, :] * HOURS_TWH
    gen[:, [col("coal"), col("gas"), col("coal_ccs"), col("gas_ccs")]] = 0.0
    gas = np.minimum(cap0[:, col("gas")] * tech.loc["gas", "capacity_factor"] * HOURS_TWH,
                     power0 / factor0[:, col("gas")])
    has_coal = cap0[:, col("coal")] > 0
    gen[:, col("gas")] = np.where(has_coal, gas, power0 / factor0[:, col("gas")])
    rest = power0 - gen[:, col("gas")] * factor0[:, col("gas")]
    gen[:, col("coal")] = np.where(has_coal, np.maximum(rest, 0.0) / factor0[:, col("coal")], 0.0)
    for g in ("coal", "gas"):
        need = gen[:, col(g)] / np.maximum(cap0[:, col(g)] * HOURS_TWH, 1e-9)
        cf[:, col(g)] = np.where(gen[:, col(g)] > 0, np.maximum(cf[:, col(g)], need), cf[:, col(g)])
    return gen


def _outside(net0: np.ndarray, indirect0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Base-year imports from and exports to outside the study area (TWh) from the regions' net imports."""
    total = net0.sum()
    if total > 0:
        weight = indirect0 if indirect0.sum() > 0 else np.maximum(net0, 0.0)
        return total * weight / weight.sum(), np.zeros_like(net0)
    out = np.maximum(-net0, 0.0)
    return np.zeros_like(net0), -total * out / out.sum() if out.sum() > 0 else np.zeros_like(net0)


def _peak(demand: np.ndarray, existing: np.ndarray, firm: np.ndarray, line_twh: np.ndarray,
          pumped: np.ndarray) -> np.ndarray:
    """Firm plant capacity needed (R, T) GW: peak x reserve minus lines and pumped hydro.

    A base-year shortfall against today's fleet (unlisted plants, demand response) is carried
    as a constant allowance: ASSUMPTION, so the base year meets its own standard.
    """
    need = demand / HOURS_TWH / LOAD_FACTOR * RESERVE - line_twh / HOURS_TWH / LINE_UTILISATION - pumped[:, None]
    have0 = (existing[:, :, 0] * firm[None, :]).sum(axis=1)
    return need - np.maximum(need[:, :1] - have0[:, None], 0.0)
