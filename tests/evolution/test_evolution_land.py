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
from gridcarbon.evolution.forest import AFFOREST_SHARE, ForestLand, read_uptake
from gridcarbon.testing import toy_drivers, toy_inventory, toy_landscape


def test_capacity_table_counts_forest_room_and_storage(grid):
    """Forest: the base-year sink plus every open cell's new-stand room at full growth (by
    2060 all ramps are done), less what built-up land took; storage: the basins' capacity over the injection years."""
    storage = np.zeros(grid.shape)
    storage[3, 3] = 2.0  # Mt, in A
    forest0 = np.full(grid.shape, 0.3)
    wet = np.where(grid.region_index == 0, 1000.0, 500.0)  # A humid, B semi-humid
    land = toy_landscape(grid, storage_mt=storage, forest=forest0, grassland=np.full(grid.shape, 0.5),
                         precipitation_mm=wet)
    layers = np.zeros((len(GRIDDED),) + grid.shape)
    layers[GRIDDED.index("forest_sink")] = -300.0 * forest0 * grid.cell_area_km2
    forest_land = ForestLand.build(toy_inventory(grid, layers=layers), land)
    built, forest = {2060: np.full(grid.shape, 0.2)}, {2060: forest0}
    caps = capacity_table(grid, land, built, forest, forest_land, injection_years=37)
    caps = caps.set_index(["region", "sector"]).capacity_t
    uptake = read_uptake().set_index("zone").peak_uptake_t_co2_ha_yr * 100.0  # t CO2/km2/yr
    base = 100 * 0.3 * 300.0  # 100 cells of 1 km2
    room = AFFOREST_SHARE * 0.5 * (1.0 - 0.2 - 0.3) / (1.0 - 0.3)  # built-up 0.2 took its share of open land
    assert caps["A", "forest_sink"] == pytest.approx(base + 100 * room * uptake["humid"])
    assert caps["B", "forest_sink"] == pytest.approx(base + 100 * room * uptake["semi_humid"])
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


def test_a_large_grid_measures_the_same_capacities_beside_the_next_years_land(toy_base):
    """On a large grid each year's capacities are measured in a second thread while the next
    year's land grows: the same table, bit for bit and in year order, as one thread makes."""
    import gridcarbon

    inv, land, suitability = toy_base
    land = land.assign(grassland=land.built_up * 0 + 0.5, precipitation_mm=land.built_up * 0 + 1000.0)  # room
    years = list(range(2024, 2036))
    ctx = EvolutionContext.build(inv, land, toy_drivers(inv.grid, years, gdp_growth=0.08), suitability,
                                 spec=EvolutionSpec(), seed=3, end_year=years[-1])  # towns grow
    base = inv.totals[inv.totals.sector.isin(GRIDDED)].rename(columns={"value_t": "allocated_t"})
    totals = pd.concat([base.assign(year=y, allocated_t=base.allocated_t * (1 + 0.1 * (y - 2024)))
                        for y in years], ignore_index=True)
    one = land_capacities(ctx, totals)
    with gridcarbon.set_options(large_grid_cells=0):
        assert ctx.grid.large
        two = land_capacities(ctx, totals)
    pd.testing.assert_frame_equal(two, one, check_exact=True)
    assert one.year.tolist() == sorted(one.year) and one.capacity_t.nunique() > len(years)


def test_a_context_builds_its_storage_sites_once_for_the_fleet_limits_and_the_evolution(toy_base):
    """The storage sites (a distance transform of the whole grid) are made on first use and
    kept: the fleet limits and the evolution's storage account read the same arrays, those a
    storage built from the landscape's layer has."""
    from gridcarbon.evolution import fleet_limits
    from gridcarbon.evolution.storage import Storage

    inv, land, suitability = toy_base
    years = list(range(2024, 2027))
    ctx = EvolutionContext.build(inv, land, toy_drivers(inv.grid, years), suitability, spec=EvolutionSpec(),
                                 seed=0, end_year=years[-1])
    sites = ctx.storage_sites
    fleet_limits(ctx, None)
    assert ctx.storage_sites is sites
    built = Storage.build(land.storage_mt.values, inv.grid, reach_km=ctx.spec.ccs_reach_km,
                          removals=np.ones((len(years), 2)), years=years)
    on = Storage.on(sites, removals=np.ones((len(years), 2)), years=years)
    assert on.stored_cells is sites.stored_cells and on.reach_site is sites.reach_site
    for name in ("stored_cells", "stored_site", "reach_site", "capacity_t", "region_pos", "beccs_t", "captured_t"):
        np.testing.assert_array_equal(getattr(on, name), getattr(built, name))
    assert (on.columns, on.res_km, on.reach_km) == (built.columns, built.res_km, built.reach_km)
    assert on.capacity_t.sum() == pytest.approx(5e6)
