"""The year loop on a large grid hands each year on compact (the inside cells alone): the toy
base year of ``conftest.py`` on the two-region grid with a corner outside every region."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import gridcarbon
from gridcarbon.config import EvolutionSpec
from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import GRIDDED
from gridcarbon.evolution import EvolutionContext, evolve
from gridcarbon.testing import toy_drivers, two_region_grid

YEARS = list(range(2024, 2028))


@pytest.fixture(scope="module")
def grid() -> Grid:
    """The conftest's two-region grid with its NW corner (rows 0-1, columns 0-2) outside."""
    g = two_region_grid()
    index = g.region_index.copy()
    index[:2, :3] = -1
    return Grid(g.crs, g.res, g.bounds, g.regions, index)


def _evolve(toy_base, grid: Grid, *, large: bool, compact_inventory: bool = False, keep_years=()):
    """The toy base year evolved to 2027 under totals growing 10 % of the base a year, in float32
    keeping ``keep_years`` (default none: streamed), with the grid taken as large or not and the
    inventory's layers held compact or not (as a large grid's run holds them): the result and the
    (year, layers) handed on."""
    inv, land, suitability = toy_base
    handed = []
    with gridcarbon.set_options(large_grid_cells=0 if large else 10**9):
        ctx = EvolutionContext.build(inv, land, toy_drivers(grid, YEARS, gdp_growth=0.03), suitability,
                                     spec=EvolutionSpec(min_spacing_km=3.0), seed=5, end_year=YEARS[-1])
        if compact_inventory:
            ctx = replace(ctx, inv=inv.compacted())
        base = inv.totals[inv.totals.sector.isin(GRIDDED)]
        totals = pd.concat([base.assign(year=y, allocated_t=base.value_t * (1.0 + 0.1 * (y - YEARS[0])))
                            for y in YEARS], ignore_index=True).drop(columns="value_t")
        evo = evolve(ctx, totals, keep_years=keep_years, dtype=np.float32,
                     on_year=lambda year, layers: handed.append((year, layers)))
    return evo, handed


@pytest.fixture(scope="module")
def streamed(toy_base, grid):
    """:func:`_evolve` streamed with the grid taken as large, then not."""
    return _evolve(toy_base, grid, large=True), _evolve(toy_base, grid, large=False)


def test_a_large_grid_hands_each_year_on_compact_with_the_full_layers_values(streamed, grid):
    (compact, compact_years), (full, full_years) = streamed
    index = grid.cell_index
    assert index.size == grid.shape[0] * grid.shape[1] - 6
    assert [y for y, _ in compact_years] == [y for y, _ in full_years] == YEARS
    for (year, mine), (_, theirs) in zip(compact_years, full_years):
        # a year's stack holds the inside cells alone: n_gridded x n_inside values (float32 once
        # evolved; the base year's are the inventory's, float32 on a real large grid)
        assert mine.shape == (len(GRIDDED), index.size) and theirs.shape == (len(GRIDDED), *grid.shape)
        assert mine.dtype == theirs.dtype and mine.nbytes == len(GRIDDED) * index.size * mine.itemsize
        assert year == YEARS[0] or mine.dtype == np.float32
        assert mine.tobytes() == index.compact(theirs).tobytes(), year
    assert compact.residuals.equals(full.residuals)  # the same sums, bit for bit
    assert compact.summary()["max_relative_residual"] <= 1e-6


def test_a_compact_inventory_evolves_to_the_same_bytes(toy_base, grid, streamed):
    inv = toy_base[0]
    held = inv.compacted()
    index = grid.cell_index
    assert held.layers().shape == (len(GRIDDED), index.size) and held.layers().dtype == inv.layers().dtype
    assert held.layer("buildings").tobytes() == index.compact(inv.layer("buildings")).tobytes()
    assert index.expand(held.layers()).tobytes() == inv.layers().tobytes()  # 0 outside every region
    assert held.compacted() is held and held.totals is inv.totals
    for keep in ((), None):  # streamed compact years, a kept cube of full ones
        full, full_years = streamed[0] if keep == () else _evolve(toy_base, grid, large=True, keep_years=keep)
        compact, compact_years = _evolve(toy_base, grid, large=True, keep_years=keep, compact_inventory=True)
        assert [y for y, _ in compact_years] == YEARS
        for (year, mine), (_, theirs) in zip(compact_years, full_years):
            assert mine.shape == theirs.shape and mine.tobytes() == theirs.tobytes(), (keep, year)
        assert compact.residuals.equals(full.residuals)
        assert sorted(compact.layers) == sorted(full.layers)
        assert all(compact.layers[y].tobytes() == full.layers[y].tobytes() for y in full.layers)
