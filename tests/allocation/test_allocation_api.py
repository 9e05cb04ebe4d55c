"""Entry points (``allocate``, ``allocate_scenario``): calibration, determinism, pathway forms, bad inputs."""
from __future__ import annotations

import pandas as pd
import pytest
from allocation.allocation_fixtures import generous_capacities, variant, yearly

import gridcarbon
from gridcarbon.allocation import allocate, allocate_scenario
from gridcarbon.config import load_scenario
from gridcarbon.core.sectors import EMITTING


def test_enhanced_reproduces_the_calibration_figures(enhanced, baseline):
    gross = yearly(enhanced)
    base_gross = baseline.loc[baseline["sector"].isin(EMITTING), "value_t"].sum()
    assert gross[2024] == pytest.approx(2390e6)
    assert gross[2027] == pytest.approx(2430e6, rel=0.01)
    assert enhanced.pathway.at[2020, "gross_t"] == pytest.approx(1990e6)
    assert gross[2035] / gross[2027] - 1 == pytest.approx(-0.10, abs=0.01)
    net_2060 = gross[2060] + yearly(enhanced, removals=True)[2060]
    assert abs(net_2060) <= 0.05 * base_gross


def test_determinism(baseline, drivers):
    scenario = load_scenario("yrd-policy")
    first = allocate(scenario, baseline, drivers, generous_capacities())
    second = allocate(scenario, baseline, drivers, generous_capacities())
    pd.testing.assert_frame_equal(first.totals, second.totals, check_exact=True)


def test_allocate_scenario_reads_the_built_in_drivers(baseline, drivers):
    by_name = allocate_scenario("yrd-policy", baseline, capacities=generous_capacities())
    given = allocate(load_scenario("yrd-policy"), baseline, drivers, generous_capacities())
    pd.testing.assert_frame_equal(by_name.totals, given.totals, check_exact=True)
    assert gridcarbon.allocate is allocate and gridcarbon.allocate_scenario is allocate_scenario


def test_explicit_series_and_net_target_are_met(baseline, drivers):
    scenario = variant(pathway={"unit": "Gt", "series": {2030: 2.2, 2045: 1.0, 2060: 0.8},
                                "net_zero": {"year": 2060, "net": 0.5}, "removals_start": 2024})
    result = allocate(scenario, baseline, drivers)
    gross, removals = yearly(result), -yearly(result, removals=True)
    assert gross[2030] == pytest.approx(2.2e9) and gross[2045] == pytest.approx(1.0e9)
    assert gross[2060] - removals[2060] == pytest.approx(0.5e9)

