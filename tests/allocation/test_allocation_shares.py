"""Burden-sharing principles: the target shares, and their effect on the allocated gross.

The principles set allowances; without trade (``allocation.trade: false``) each region emits
exactly its allowance, so these tests read the principles' effect on the allocated gross there.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from allocation.allocation_fixtures import generous_capacities, regional_shares, variant

from gridcarbon.allocation import SHARE_RULES, AllocationResult, allocate, target_shares
from gridcarbon.core.sectors import EMITTING


@pytest.fixture(scope="module")
def shares_with(baseline, drivers):
    """Regional shares of the allocated gross without trade for principle weights (solved once per weighting)."""
    solved: dict[tuple, AllocationResult] = {}

    def shares(weights: dict, year: int = 2060) -> pd.Series:
        key = tuple(sorted(weights.items()))
        if key not in solved:
            scenario = variant(principles={k: weights.get(k, 0.0) for k in SHARE_RULES}, allocation={"trade": False})
            solved[key] = allocate(scenario, baseline, drivers, generous_capacities())
        return regional_shares(solved[key], year)
    return shares


def per_capita_emissions(baseline, drivers) -> pd.Series:
    gross = baseline[baseline["sector"].isin(EMITTING)].groupby("region")["value_t"].sum()
    population = drivers[drivers["year"] == 2024].set_index("region")["population"]
    return gross / population


def test_grandfathering_keeps_base_shares(baseline, shares_with):
    gross = baseline[baseline["sector"].isin(EMITTING)].groupby("region")["value_t"].sum()
    for year in (2035, 2060):
        assert np.allclose(shares_with({"grandfather": 1}, year), gross / gross.sum(), atol=1e-3)


def test_per_capita_weight_lowers_the_high_per_capita_region(baseline, drivers, shares_with):
    highest = per_capita_emissions(baseline, drivers).idxmax()
    assert highest == "Jiangsu"
    low = shares_with({"grandfather": 0.8, "per_capita": 0.2})
    high = shares_with({"grandfather": 0.2, "per_capita": 0.8})
    assert high[highest] < low[highest] - 0.01


def test_ability_to_pay_shifts_effort_to_the_richest(drivers, shares_with):
    latest = drivers[drivers["year"] == 2060].set_index("region")
    richest = (latest["gdp_yuan"] / latest["population"]).idxmax()
    assert richest == "Shanghai"
    pays = shares_with({"grandfather": 0.2, "ability_to_pay": 0.8})
    assert pays[richest] < shares_with({"grandfather": 1})[richest] - 0.01


def test_efficiency_shifts_effort_to_the_most_carbon_intensive(baseline, drivers, shares_with):
    gross = baseline[baseline["sector"].isin(EMITTING)].groupby("region")["value_t"].sum()
    gdp = drivers[drivers["year"] == 2024].set_index("region")["gdp_yuan"]
    most_intensive = (gross / gdp).idxmax()
    assert most_intensive == "Anhui"
    efficient = shares_with({"grandfather": 0.2, "efficiency": 0.8})
    assert efficient[most_intensive] < shares_with({"grandfather": 1})[most_intensive] - 0.01


def test_target_shares_sum_to_one_and_phase_in(baseline, drivers):
    gross = baseline[baseline["sector"].isin(EMITTING)].groupby("region", sort=False)["value_t"].sum()
    shares = target_shares(gross, drivers, {"per_capita": 1.0}, base_year=2024, end_year=2060)
    per_year = shares.groupby("year")[["grandfather", "per_capita", "ability_to_pay", "efficiency", "target"]].sum()
    assert np.allclose(per_year, 1.0)
    jiangsu = shares[shares["region"] == "Jiangsu"].set_index("year")
    assert jiangsu.at[2024, "target"] == pytest.approx(jiangsu.at[2024, "grandfather"])
    assert jiangsu.at[2060, "target"] == pytest.approx(jiangsu.at[2060, "per_capita"])
    assert jiangsu.at[2042, "target"] == pytest.approx((jiangsu.at[2042, "grandfather"]
                                                        + jiangsu.at[2042, "per_capita"]) / 2)
