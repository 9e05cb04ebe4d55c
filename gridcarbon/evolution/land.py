"""The land through the years, and what it can hold: the coupling's feedback to the allocation.

Each year the built-up land grows (the urban cellular automaton of :mod:`.areas`) and new
forest is planted where trees grow for the allocated sink ahead (:mod:`.forest`). From the
evolved land, :func:`capacity_table` reports per region and year the forest sink it could
hold and the CO2 its storage basins can take.
"""
from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import xarray as xr

from gridcarbon.core import regionkernels
from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import GRIDDED
from gridcarbon.core.units import T_PER_MT
from gridcarbon.evolution.areas import built_demand, grow_urban
from gridcarbon.evolution.context import EvolutionContext
from gridcarbon.evolution.forest import ForestLand, Planting
from gridcarbon.inventory.base import Inventory


def land_steps(ctx: EvolutionContext, targets: np.ndarray) -> Iterator[tuple]:
    """Yield ``(k, year, rng, built, forest)`` for every year, the base year first (``rng`` None).

    ``targets`` is :meth:`EvolutionContext.targets` of the allocation. Urban growth first
    (the CA), then afforestation for the allocated sink (:class:`~.forest.Planting`).
    ``rng`` is the year's generator, already used by the CA; the point rules continue
    drawing from it. ``built`` and ``forest`` are fractions of each cell, compact (one float64
    value per cell of the grid's :attr:`~gridcarbon.core.grid.Grid.cell_index`: the land never
    changes outside the regions, where it is 0).
    """
    grid, land, spec = ctx.grid, ctx.landscape, ctx.spec
    allowed, water = ctx.allowed, land.water.values
    # the CA and afforestation run in float64 whatever the landscape's storage dtype
    b, f = (land[v].values.astype(np.float64, copy=False) for v in ("built_up", "forest"))
    built_r0 = grid.compact_region_sums(b)
    demand = -targets[:, GRIDDED.index("forest_sink")]
    planting = Planting(ctx.forest, grid, len(ctx.years))
    urban = ctx.surfaces["urban"]
    yield 0, ctx.years[0], None, b, f
    for k, year in enumerate(ctx.years[1:], start=1):
        rng = np.random.default_rng([ctx.seed, year])
        b = grow_urban(b, built_demand(built_r0, ctx.gdp_ratio[k], ctx.pop_ratio[k]), urban,
                       allowed, water, grid, rng=rng, noise=spec.siting_noise)
        f = regionkernels.forest_left(f, water, b, water.dtype.type(1.0))
        f = planting.step(k, water, b, f, demand)
        yield k, year, rng, b, f


def land_capacities(ctx: EvolutionContext, totals: pd.DataFrame) -> pd.DataFrame:
    """What the evolved land can hold each year under allocated ``totals`` (t CO2/yr).

    Runs only the land part of the evolution (urban growth and afforestation, identical
    draws), which is all the capacities depend on. On a :attr:`~gridcarbon.core.grid.Grid.large`
    grid a year's capacities are measured in a second thread while the next year's land grows
    (numpy's layer arithmetic and the kernels run without the interpreter lock; the lands are
    not changed once made): the same tables, in year order, for one more year's land held
    (China at 1 km: 0.43 GB).
    """
    steps = land_steps(ctx, ctx.targets(totals))
    if not ctx.grid.large:  # small layers: a thread would only contend for the interpreter lock
        return pd.concat([year_capacities(ctx, year, b, f) for _, year, _, b, f in steps], ignore_index=True)
    tables, measuring = [], None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gridcarbon-capacities") as pool:
        for _, year, _, b, f in steps:
            if measuring is not None:  # at most one year's land waits to be measured
                tables.append(measuring.result())
            measuring = pool.submit(year_capacities, ctx, year, b, f)
            del b, f  # the generator's next year is made while this one is measured
        tables.append(measuring.result())
    return pd.concat(tables, ignore_index=True)


def year_capacities(ctx: EvolutionContext, year: int, built: np.ndarray, forest: np.ndarray) -> pd.DataFrame:
    """:func:`capacity_table` of one year's land."""
    return capacity_table(ctx.grid, ctx.landscape, {year: built}, {year: forest}, ctx.forest,
                          injection_years=len(ctx.years))


def initial_capacities(inv: Inventory, landscape: xr.Dataset, years: list[int],
                       forest: ForestLand | None = None) -> pd.DataFrame:
    """Capacities of the base-year landscape in every one of ``years``, used before the first
    evolution; ``forest`` the run's :class:`ForestLand` (default: built with every assumption at 1)."""
    built = {y: landscape.built_up.values for y in years}
    cover = {y: landscape.forest.values for y in years}
    land = ForestLand.build(inv, landscape) if forest is None else forest
    return capacity_table(inv.grid, landscape, built, cover, land, injection_years=len(years))


def capacity_table(grid: Grid, landscape: xr.Dataset, built: dict[int, np.ndarray], forest: dict[int, np.ndarray],
                   forest_land: ForestLand, *, injection_years: int) -> pd.DataFrame:
    """What the grid can hold per region and year: forest sink and geological storage.

    ``landscape``'s layers, ``built`` and ``forest`` (fractions by year) are (y, x) or compact
    (on the grid's :attr:`~Grid.cell_index`); ``forest_land`` the base-year
    forest and the room and uptake of new stands (:meth:`.forest.ForestLand.capacity`);
    ``injection_years`` the years over which storage is used (the run's years: capacity / years = t/yr). Returns region, sector
    (``forest_sink`` or ``beccs``), year, capacity_t (t CO2/yr, magnitudes).
    """
    index = grid.cell_index
    storage = grid.compact_region_sums(index.compacted(landscape.storage_mt.values)) * T_PER_MT / injection_years
    water = index.compacted(landscape.water.values)
    rows, stands = [], {}  # what the land holds, once per land (every year of initial_capacities has the same)
    for year in sorted(built):
        key = (id(built[year]), id(forest[year]))
        if key not in stands:
            stands[key] = forest_land.stands(grid, water, index.compacted(built[year]), index.compacted(forest[year]))
        sink = forest_land.capacity(*stands[key], year)
        rows += [(r, "forest_sink", year, float(sink[i])) for i, r in enumerate(grid.regions)]
        rows += [(r, "beccs", year, float(storage[i])) for i, r in enumerate(grid.regions)]
    return pd.DataFrame(rows, columns=["region", "sector", "year", "capacity_t"])
