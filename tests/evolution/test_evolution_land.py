"""The land through the years and what it can hold (gridcarbon.evolution.land), on the
two-region grid of ``conftest.py``."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridcarbon.config import EvolutionSpec
from gridcarbon.core.sectors import GRIDDED
from gridcarbon.evolution import (
    EvolutionContext,
    capacity_table,
    initial_capacities,
    land_capacities,
)
from gridcarbon.evolution.areas import AFFOREST_SHARE, hill_factor
from gridcarbon.testing import toy_drivers, toy_landscape


def test_capacity_table_counts_forest_room_and_storage(grid):
    elevation = np.where(grid.region_index == 0, 170.0, 0.0)  # A all hill land (factor 1), B flat (0.1)
    storage = np.zeros(grid.shape)
    storage[3, 3] = 2.0  # Mt, in A
    land = toy_landscape(grid, elevation_m=elevation, storage_mt=storage)  # dry, bare land
    built, forest = {2030: np.full(grid.shape, 0.2)}, {2030: np.full(grid.shape, 0.3)}
    rate = np.array([500.0, 300.0])
    caps = capacity_table(grid, land, built, forest, rate, hill=hill_factor(land), injection_years=37)
    caps = caps.set_index(["region", "sector"]).capacity_t
    room = 1.0 - 0.2 - 0.3  # per cell, before the afforestable share and the hill factor
    assert caps["A", "forest_sink"] == pytest.approx(100 * (0.3 + AFFOREST_SHARE * room * 1.0) * 500.0)
    assert caps["B", "forest_sink"] == pytest.approx(100 * (0.3 + AFFOREST_SHARE * room * 0.1) * 300.0)
    assert caps["A", "beccs"] == pytest.approx(2.0e6 / 37)  # storage spread over the 37 years
    assert caps["B", "beccs"] == 0.0


def test_a_standing_land_keeps_its_initial_capacities(toy_base):
    """Constant drivers and the base year's sink every year: no town grows, no forest is
    planted, so what the land can hold each year is what the base-year land holds."""
    inv, land, suitability = toy_base
    years = list(range(2024, 2031))
    ctx = EvolutionContext.build(inv, land, toy_drivers(inv.grid, years), suitability, spec=EvolutionSpec(),
                                 seed=0, end_year=years[-1])
    base = inv.totals[inv.totals.sector.isin(GRIDDED)].rename(columns={"value_t": "allocated_t"})
    totals = pd.concat([base.assign(year=y) for y in years], ignore_index=True)
    caps = land_capacities(ctx, totals)
    initial = initial_capacities(inv, land, years)
    assert list(caps.columns) == list(initial.columns) and len(caps) == len(initial) == 2 * 2 * len(years)
    merged = caps.merge(initial, on=["region", "sector", "year"], suffixes=("", "_initial"))
    assert len(merged) == len(caps)
    np.testing.assert_allclose(merged.capacity_t, merged.capacity_t_initial, rtol=1e-12)
    assert (merged[merged.sector == "beccs"].groupby("region").capacity_t.first() == [0.0, 5e6 / len(years)]).all()
