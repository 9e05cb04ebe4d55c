"""The evolution's context: everything a year of the evolution reads that the allocation does not change.

Built once per run (:meth:`EvolutionContext.build`) and shared by the coupling loop's land
steps and by the full evolution; the allocated totals, which change between coupling
iterations, are passed beside it as a :class:`Targets` array.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import xarray as xr

from gridcarbon.config import Assumptions, EvolutionSpec
from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import GRIDDED
from gridcarbon.evolution.areas import allowed_runs, urban_allowed
from gridcarbon.evolution.forest import ForestLand
from gridcarbon.evolution.storage import Sites
from gridcarbon.inventory.base import Inventory
from gridcarbon.suitability.covariates import barred
from gridcarbon.suitability.fitting import Suitability

#: landscape layers the coupling loop and the year loop read once the context is built (land
#: steps, patterns, storage, capacities). GDP, cropland, grassland, shrub, precipitation and
#: the arid share serve only the suitability covariates and :meth:`ForestLand.build`; elevation
#: and eco reserves only the context's :attr:`~EvolutionContext.allowed` and
#: :attr:`~EvolutionContext.barred` masks: the context does not hold them (China at 1 km: 0.86 GB
#: of float32 layers, for 0.05 GB of masks), and holds these compact (0.19 GB, not 0.54)
YEAR_LANDSCAPE = ("water", "forest", "storage_mt", "built_up", "population")


@dataclass(frozen=True)
class EvolutionContext:
    """The base year, its land, the rules, the drivers and the suitability of one run.

    Arrays: ``gdp_ratio`` and ``pop_ratio`` (n_years, n_regions), each year's driver over
    the base year's; ``forest`` the base-year forest, its sink and the room and uptake of
    new stands (:class:`~gridcarbon.evolution.forest.ForestLand`); ``landscape`` the layers of
    :data:`YEAR_LANDSCAPE`, compact (dimension ``cell``: one value per cell of the grid's
    :attr:`~gridcarbon.core.grid.Grid.cell_index`; a landscape is 0 outside every region, so
    nothing is lost); ``assumptions`` the
    scenario's scale factors on named constants (:class:`~gridcarbon.config.Assumptions`);
    ``allowed`` the region runs of the cells where built-up land may grow
    (:func:`~gridcarbon.evolution.areas.allowed_runs` of
    :func:`~gridcarbon.evolution.areas.urban_allowed`: the CA reads no other cells) and
    ``barred`` the cells where large point sources may never stay under ``spec``
    (:func:`~gridcarbon.suitability.covariates.barred`, boolean, y, x).
    """

    inv: Inventory
    landscape: xr.Dataset
    spec: EvolutionSpec
    seed: int
    years: list[int]  # base year .. end year
    suitability: Suitability
    gdp_ratio: np.ndarray
    pop_ratio: np.ndarray
    forest: ForestLand
    assumptions: Assumptions
    allowed: np.ndarray
    barred: np.ndarray

    @property
    def grid(self) -> Grid:
        return self.inv.grid

    @property
    def surfaces(self) -> dict[str, np.ndarray]:
        return self.suitability.surfaces

    @cached_property
    def storage_sites(self) -> Sites:
        """The landscape's storage sites (:class:`~.storage.Sites`), made on first use and kept:
        the coupling's fleet limits and the evolution share them (each is a distance transform of
        the whole grid with its indices: China at 1 km, 27 M cells)."""
        return Sites.of(self.landscape.storage_mt.values, self.grid, reach_km=self.spec.ccs_reach_km)

    @classmethod
    def build(cls, inv: Inventory, landscape: xr.Dataset, drivers: pd.DataFrame, suitability: Suitability, *,
              spec: EvolutionSpec, seed: int, end_year: int,
              assumptions: Assumptions | None = None) -> "EvolutionContext":
        """Context of ``inv`` evolved to ``end_year`` under ``spec`` (the scenario's evolution
        section) and ``assumptions`` (default: all 1); ``drivers`` has region, year, population,
        gdp_yuan."""
        years = list(range(inv.year, end_year + 1))
        gdp_ratio, pop_ratio = _driver_ratios(drivers, inv.grid, years, inv.year)
        assumptions = Assumptions() if assumptions is None else assumptions
        forest = ForestLand.build(inv, landscape, uptake_scale=assumptions.forest_uptake,
                                  room_scale=assumptions.afforest_share)
        return cls(inv, compact_landscape(landscape, inv.grid), spec, seed, years, suitability, gdp_ratio, pop_ratio,
                   forest,
                   assumptions, allowed_runs(urban_allowed(landscape), inv.grid), barred(landscape, relocate_from=list(spec.relocate_from)))

    def targets(self, totals: pd.DataFrame) -> np.ndarray:
        """Allocated ``totals`` (region, sector, year, allocated_t) as a (n_years, n_gridded,
        n_regions) array of t CO2/yr, removals negative, 0 where the table has no row."""
        cube = totals.pivot_table(index=["year", "sector"], columns="region", values="allocated_t", aggfunc="sum")
        full = pd.MultiIndex.from_product([self.years, GRIDDED], names=["year", "sector"])
        cube = cube.reindex(index=full, columns=list(self.grid.regions)).fillna(0.0)
        return cube.to_numpy().reshape(len(self.years), len(GRIDDED), len(self.grid.regions))


def compact_landscape(landscape: xr.Dataset, grid: Grid) -> xr.Dataset:
    """The :data:`YEAR_LANDSCAPE` layers of ``landscape`` (y, x) as compact layers on ``grid``'s
    cell index (dimension ``cell``), in their dtypes."""
    index = grid.cell_index
    return xr.Dataset({k: (("cell",), index.compact(landscape[k].values)) for k in YEAR_LANDSCAPE})


def _driver_ratios(drivers: pd.DataFrame, grid: Grid, years: list[int], base_year: int):
    """GDP and population of each year over the base year, (n_years, n_regions) each."""
    def ratio(col):
        t = drivers.pivot_table(index="year", columns="region", values=col).reindex(columns=list(grid.regions))
        t = t.reindex(sorted(set(t.index) | set(years))).interpolate().ffill().bfill()
        return (t.loc[years] / t.loc[base_year]).to_numpy()
    return ratio("gdp_yuan"), ratio("population")
