"""The land through the years, and what it can hold: the coupling's feedback to the allocation.

Each year the built-up land grows (the urban cellular automaton of :mod:`.areas`) and,
where the allocated forest sink exceeds what the forest absorbs, afforestation fills the
most suitable room. From the evolved land, :func:`capacity_table` reports per region and
year the forest sink it could hold and the CO2 its storage basins can take.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import xarray as xr

from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import GRIDDED
from gridcarbon.evolution.areas import (
    afforest,
    afforestable,
    built_demand,
    grow_urban,
    hill_factor,
    urban_allowed,
)
from gridcarbon.evolution.context import EvolutionContext, forest_sink_rate
from gridcarbon.evolution.storage import T_PER_MT
from gridcarbon.inventory.base import Inventory


def land_steps(ctx: EvolutionContext, targets: np.ndarray) -> Iterator[tuple]:
    """Yield ``(k, year, rng, built, forest)`` for every year, the base year first (``rng`` None).

    ``targets`` is :meth:`EvolutionContext.targets` of the allocation. Urban growth first
    (the CA), then afforestation for the allocated sink. ``rng`` is the year's generator,
    already used by the CA; the point rules continue drawing from it. ``built`` and
    ``forest`` are fractions of each cell (y, x).
    """
    grid, land, spec = ctx.grid, ctx.landscape, ctx.spec
    allowed, water = urban_allowed(land), land.water.values
    # the CA and afforestation run in float64 whatever the landscape's storage dtype
    b, f = (land[v].values.astype(np.float64, copy=False) for v in ("built_up", "forest"))
    built_r0 = grid.region_sums(b)
    sink = GRIDDED.index("forest_sink")
    yield 0, ctx.years[0], None, b, f
    for k, year in enumerate(ctx.years[1:], start=1):
        rng = np.random.default_rng([ctx.seed, year])
        b = grow_urban(b, built_demand(built_r0, ctx.gdp_ratio[k], ctx.pop_ratio[k]), ctx.surfaces["urban"],
                       allowed, water, grid, rng=rng, noise=spec.siting_noise)
        f = np.minimum(f, np.clip(1.0 - water - b, 0.0, 1.0))
        need_km2 = -targets[k, sink] / ctx.sink_rate / grid.cell_area_km2
        f = afforest(f, np.maximum(need_km2 - grid.region_sums(f), 0.0) * grid.cell_area_km2,
                     afforestable(land, b, f, hill=ctx.hill), grid)
        yield k, year, rng, b, f


def land_capacities(ctx: EvolutionContext, totals: pd.DataFrame) -> pd.DataFrame:
    """What the evolved land can hold each year under allocated ``totals`` (t CO2/yr).

    Runs only the land part of the evolution (urban growth and afforestation, identical
    draws), which is all the capacities depend on.
    """
    return pd.concat([year_capacities(ctx, year, b, f) for _, year, _, b, f in land_steps(ctx, ctx.targets(totals))],
                     ignore_index=True)


def year_capacities(ctx: EvolutionContext, year: int, built: np.ndarray, forest: np.ndarray) -> pd.DataFrame:
    """:func:`capacity_table` of one year's land."""
    return capacity_table(ctx.grid, ctx.landscape, {year: built}, {year: forest}, ctx.sink_rate, hill=ctx.hill,
                          injection_years=len(ctx.years))


def initial_capacities(inv: Inventory, landscape: xr.Dataset, years: list[int]) -> pd.DataFrame:
    """Capacities of the base-year landscape in every one of ``years``, used before the first evolution."""
    built = {y: landscape.built_up.values for y in years}
    forest = {y: landscape.forest.values for y in years}
    return capacity_table(inv.grid, landscape, built, forest, forest_sink_rate(inv, landscape),
                          hill=hill_factor(landscape), injection_years=len(years))


def capacity_table(grid: Grid, landscape: xr.Dataset, built: dict[int, np.ndarray], forest: dict[int, np.ndarray],
                   sink_rate: np.ndarray, *, hill: np.ndarray, injection_years: int) -> pd.DataFrame:
    """What the grid can hold per region and year: forest sink and geological storage.

    ``built`` and ``forest`` are fractions (y, x) by year; ``sink_rate`` t CO2/km2/yr per
    region; ``hill`` the terrain's afforestation preference; ``injection_years`` the years over
    which storage is used (the run's years: capacity / years = t/yr). Returns region, sector
    (``forest_sink`` or ``beccs``), year, capacity_t (t CO2/yr, magnitudes).
    """
    storage = grid.region_sums(landscape.storage_mt.values) * T_PER_MT / injection_years
    rows = []
    for year in sorted(built):
        room = forest[year] + afforestable(landscape, built[year], forest[year], hill=hill)
        sink = grid.region_sums(room) * grid.cell_area_km2 * sink_rate
        rows += [(r, "forest_sink", year, float(sink[i])) for i, r in enumerate(grid.regions)]
        rows += [(r, "beccs", year, float(storage[i])) for i, r in enumerate(grid.regions)]
    return pd.DataFrame(rows, columns=["region", "sector", "year", "capacity_t"])
