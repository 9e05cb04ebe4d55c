"""The evolution's context: everything a year of the evolution reads that the allocation does not change.

Built once per run (:meth:`EvolutionContext.build`) and shared by the coupling loop's land
steps and by the full evolution; the allocated totals, which change between coupling
iterations, are passed beside it as a :class:`Targets` array.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from gridcarbon.config import EvolutionSpec
from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import GRIDDED
from gridcarbon.evolution.areas import hill_factor
from gridcarbon.inventory.base import Inventory
from gridcarbon.suitability.fitting import Suitability

#: forest uptake used where a region had no forest sink in the base year (t CO2/km2/yr;
#: ~3 t/ha/yr, subtropical plantation forests)
DEFAULT_SINK_T_KM2 = 300.0


@dataclass(frozen=True)
class EvolutionContext:
    """The base year, its land, the rules, the drivers and the suitability of one run.

    Arrays: ``gdp_ratio`` and ``pop_ratio`` (n_years, n_regions), each year's driver over
    the base year's; ``sink_rate`` (n_regions) t CO2/km2/yr of forest; ``hill`` (y, x) the
    terrain's afforestation preference.
    """

    inv: Inventory
    landscape: xr.Dataset
    spec: EvolutionSpec
    seed: int
    years: list[int]  # base year .. end year
    suitability: Suitability
    gdp_ratio: np.ndarray
    pop_ratio: np.ndarray
    sink_rate: np.ndarray
    hill: np.ndarray

    @property
    def grid(self) -> Grid:
        return self.inv.grid

    @property
    def surfaces(self) -> dict[str, np.ndarray]:
        return self.suitability.surfaces

    @classmethod
    def build(cls, inv: Inventory, landscape: xr.Dataset, drivers: pd.DataFrame, suitability: Suitability, *,
              spec: EvolutionSpec, seed: int, end_year: int) -> "EvolutionContext":
        """Context of ``inv`` evolved to ``end_year`` under ``spec`` (the scenario's evolution
        section); ``drivers`` has region, year, population, gdp_yuan."""
        years = list(range(inv.year, end_year + 1))
        gdp_ratio, pop_ratio = _driver_ratios(drivers, inv.grid, years, inv.year)
        return cls(inv, landscape, spec, seed, years, suitability, gdp_ratio, pop_ratio,
                   forest_sink_rate(inv, landscape), hill_factor(landscape))

    def targets(self, totals: pd.DataFrame) -> np.ndarray:
        """Allocated ``totals`` (region, sector, year, allocated_t) as a (n_years, n_gridded,
        n_regions) array of t CO2/yr, removals negative, 0 where the table has no row."""
        cube = totals.pivot_table(index=["year", "sector"], columns="region", values="allocated_t", aggfunc="sum")
        full = pd.MultiIndex.from_product([self.years, GRIDDED], names=["year", "sector"])
        cube = cube.reindex(index=full, columns=list(self.grid.regions)).fillna(0.0)
        return cube.to_numpy().reshape(len(self.years), len(GRIDDED), len(self.grid.regions))


def forest_sink_rate(inv: Inventory, landscape: xr.Dataset) -> np.ndarray:
    """Forest uptake per km2 of forest in each region (t/km2/yr, magnitude)."""
    sink = -inv.grid.region_sums(inv.layer("forest_sink"))
    area = inv.grid.region_sums(landscape.forest.values) * inv.grid.cell_area_km2
    rate = np.where(area > 0, sink / np.maximum(area, 1e-12), 0.0)
    return np.where(rate > 0, rate, DEFAULT_SINK_T_KM2)


def _driver_ratios(drivers: pd.DataFrame, grid: Grid, years: list[int], base_year: int):
    """GDP and population of each year over the base year, (n_years, n_regions) each."""
    def ratio(col):
        t = drivers.pivot_table(index="year", columns="region", values=col).reindex(columns=list(grid.regions))
        t = t.reindex(sorted(set(t.index) | set(years))).interpolate().ffill().bfill()
        return (t.loc[years] / t.loc[base_year]).to_numpy()
    return ratio("gdp_yuan"), ratio("population")
