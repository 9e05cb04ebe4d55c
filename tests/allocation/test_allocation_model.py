"""The LP formulation: floors, ramps, user bounds, capacities, trajectories and the removal split hold."""
from __future__ import annotations

import numpy as np
import pytest
from allocation.allocation_fixtures import generous_capacities, variant

from gridcarbon.allocation import allocate
from gridcarbon.allocation.problem import RAMP_MIN_FRAC
from gridcarbon.config import load_scenario
from gridcarbon.core.sectors import EMITTING, REMOVALS


def test_enhanced_respects_floors_and_ramps(enhanced):
    cube = enhanced.to_dataarray()
    base = cube.sel(year=2024)
    for sector, floor in load_scenario("yrd-enhanced").allocation.floors.items():
        assert (cube.sel(sector=sector) >= floor * base.sel(sector=sector) - 1).all()
    steps = np.abs(cube.sel(sector=EMITTING).diff("year"))
    ramp_base = np.maximum(base.sel(sector=EMITTING), RAMP_MIN_FRAC * base.sel(sector=EMITTING).sum("sector"))
    assert (steps <= 0.25 * ramp_base + 1).all()


def test_user_bounds_capacities_and_trajectories_hold(baseline, drivers):
    scenario = variant(
        allocation={"bounds": [{"region": "Anhui", "sector": "power", "years": [2030, 2060], "min": 100},
                               {"region": "Jiangsu", "sector": "beccs", "years": [2040, 2060], "min": -50}]},
        removals={"capacity": {"Shanghai": {"forest_sink": 5.0, "beccs": 0.0}}},
        pathway={"sectors": {"steel": {2030: 240, 2060: 40}}})
    result = allocate(scenario, baseline, drivers)
    cube = result.to_dataarray() / 1e6
    assert (cube.sel(region="Anhui", sector="power", year=slice(2030, 2060)) >= 100 - 1e-6).all()
    assert (cube.sel(region="Jiangsu", sector="beccs", year=slice(2040, 2060)) >= -50 - 1e-6).all()
    assert (cube.sel(region="Shanghai", sector="forest_sink", year=slice(2025, 2060)) >= -5 - 1e-6).all()
    assert (cube.sel(region="Shanghai", sector="beccs", year=slice(2025, 2060)) == 0).all()
    steel = cube.sel(sector="steel").sum("region")
    assert float(steel.sel(year=2030)) == pytest.approx(240)
    assert float(steel.sel(year=2045)) == pytest.approx(140)


def test_unbounded_removals_spread_like_todays_sinks(enhanced, baseline):
    sinks = baseline[baseline["sector"] == "forest_sink"].set_index("region")["value_t"]
    cube = enhanced.to_dataarray().sel(sector=REMOVALS)
    for year in (2035, 2060):
        removals = cube.sel(year=year).sum("sector").to_series()
        assert np.allclose(removals / removals.sum(), (sinks / sinks.sum())[removals.index], atol=1e-6)


def test_capacity_table_limits_removals(baseline, drivers):
    capacities = generous_capacities(value_mt=40.0)
    result = allocate(variant(), baseline, drivers, capacities)
    removals = -result.to_dataarray().sel(sector=REMOVALS, year=slice(2025, 2060)) / 1e6
    assert float(removals.max()) <= 40 + 1e-6
    assert float(removals.sel(year=2060).sum()) == pytest.approx(result.pathway.at[2060, "removals_t"] / 1e6)
