"""Burden sharing: each region's target share of the area's gross pathway, year by year.

Four principles (``docs/architecture.md``, "Allocation") each give shares summing to one per
year; the scenario's ``principles`` weights blend them, and the target phases in linearly
from pure grandfathering at the base year to the blend at the end year. The LP prices
its target times the gross pathway as its allowance (permits), see :mod:`gridcarbon.allocation.model`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from gridcarbon.core.errors import InputError, SchemaError
from gridcarbon.inputs.columns import require_columns
from gridcarbon.inputs.drivers import DRIVER_COLUMNS


def grandfather_share(base_gross: np.ndarray, population: np.ndarray, gdp: np.ndarray) -> np.ndarray:
    """Base-year share of the area's gross emissions, held in every year."""
    share = base_gross / base_gross.sum()
    return np.repeat(share[:, None], population.shape[1], axis=1)


def per_capita_share(base_gross: np.ndarray, population: np.ndarray, gdp: np.ndarray) -> np.ndarray:
    """Population share: equal emissions per person, so high per-capita emitters cut more."""
    return population / population.sum(axis=0)


def ability_to_pay_share(base_gross: np.ndarray, population: np.ndarray, gdp: np.ndarray) -> np.ndarray:
    """Share proportional to population / (GDP per capita relative to the area's mean).

    Richer regions (higher GDP per capita) receive less per person, so they pay more.
    """
    relative_income = (gdp / population) / (gdp.sum(axis=0) / population.sum(axis=0))
    weight = population / relative_income
    return weight / weight.sum(axis=0)


def efficiency_share(base_gross: np.ndarray, population: np.ndarray, gdp: np.ndarray) -> np.ndarray:
    """GDP share: equal carbon intensity, so carbon-intensive regions cut more."""
    return gdp / gdp.sum(axis=0)


#: principle name (as in the scenario's ``principles``) -> rule giving (region, year) shares
SHARE_RULES = {"grandfather": grandfather_share, "per_capita": per_capita_share,
               "ability_to_pay": ability_to_pay_share, "efficiency": efficiency_share}


def target_shares(base_gross: pd.Series, drivers: pd.DataFrame, weights: dict[str, float], *,
                  base_year: int, end_year: int) -> pd.DataFrame:
    """Target share of the gross pathway per region and year.

    ``base_gross``: base-year gross t CO2/yr by region (incl. indirect). Each principle gives
    shares summing to one per year; ``blend`` weights them; ``target`` phases in linearly
    from pure grandfathering at the base year to the blend at the end year.
    Columns: region, year, one per principle, blend, target.
    """
    regions, years = list(base_gross.index), list(range(base_year, end_year + 1))
    return shares_of(base_gross, *driver_arrays(drivers, regions, years), weights, base_year=base_year,
                     end_year=end_year)


def shares_of(base_gross: pd.Series, population: np.ndarray, gdp: np.ndarray, weights: dict[str, float], *,
              base_year: int, end_year: int) -> pd.DataFrame:
    """:func:`target_shares` of the (region, year) ``population`` and ``gdp`` arrays of
    :func:`driver_arrays` (regions in ``base_gross``'s order)."""
    regions, years = list(base_gross.index), list(range(base_year, end_year + 1))
    shares = {name: rule(base_gross.to_numpy(float), population, gdp) for name, rule in SHARE_RULES.items()}
    blend = sum(weights.get(name, 0.0) * share for name, share in shares.items())
    phase = (np.array(years) - base_year) / (end_year - base_year)
    target = (1 - phase) * shares["grandfather"] + phase * blend
    columns = shares | {"blend": blend, "target": target}
    index = pd.MultiIndex.from_product([regions, years], names=["region", "year"])
    return pd.DataFrame({k: v.ravel() for k, v in columns.items()}, index=index).reset_index()


def driver_arrays(drivers: pd.DataFrame, regions: list[str], years: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Population and GDP as (region, year) arrays; every pair must be present and positive."""
    require_columns(drivers, DRIVER_COLUMNS, source="drivers")
    numeric = drivers[DRIVER_COLUMNS[1:]].apply(pd.to_numeric, errors="coerce")
    table = numeric.assign(region=drivers["region"]).dropna(subset=["year"]).astype({"year": int})
    table = table.set_index(["region", "year"])[["population", "gdp_yuan"]]
    if table.index.duplicated().any():
        raise SchemaError("duplicate region/year rows", source="drivers",
                          record=table.index[table.index.duplicated()][0])
    wanted = pd.MultiIndex.from_product([regions, years])
    missing = wanted.difference(table.index)
    if len(missing):
        raise InputError(f"drivers lack {len(missing)} region/year pair(s), first {missing[0]}", source="drivers",
                         hint=f"give population and gdp_yuan for every region, {years[0]}-{years[-1]}")
    table = table.loc[wanted]
    if not (table > 0).all().all():
        raise SchemaError("population and gdp_yuan must be positive numbers", source="drivers",
                          record=table.index[~(table > 0).all(axis=1)][0])
    shape = (len(regions), len(years))
    return table["population"].to_numpy().reshape(shape), table["gdp_yuan"].to_numpy().reshape(shape)
