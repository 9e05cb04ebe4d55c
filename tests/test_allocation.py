"""Allocation LP: calibration, principles, constraints, infeasibility diagnosis, determinism."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from allocation_fixtures import (
    YRD,
    generous_capacities,
    regional_baseline_from_calibration,
    yrd_drivers,
)

from gridcarbon.allocation import lp as allocation
from gridcarbon.allocation.lp import (
    AllocationResult,
    allocate,
    allocate_scenario,
    load_mac_curves,
    target_shares,
)
from gridcarbon.config.scenario import Scenario, deep_merge, load_scenario
from gridcarbon.core.errors import (
    InfeasibleAllocationError,
    InputError,
    MassBalanceError,
    SchemaError,
)
from gridcarbon.core.sectors import EMITTING, REMOVALS, SECTORS


@pytest.fixture(scope="module")
def baseline() -> pd.DataFrame:
    return regional_baseline_from_calibration()


@pytest.fixture(scope="module")
def drivers() -> pd.DataFrame:
    return yrd_drivers()


@pytest.fixture(scope="module")
def enhanced(baseline) -> AllocationResult:
    return allocate_scenario("yrd-enhanced", baseline, capacities=generous_capacities())


def variant(name: str = "yrd-enhanced", **sections) -> Scenario:
    """A built-in scenario with ``sections`` merged over it as an ``extends`` file would be."""
    return Scenario.model_validate(deep_merge(load_scenario(name).model_dump(), sections))


def yearly(result: AllocationResult, *, removals: bool = False) -> pd.Series:
    totals = result.totals
    chosen = totals[totals["sector"].isin(REMOVALS if removals else EMITTING)]
    return chosen.groupby("year")["allocated_t"].sum()


def regional_shares(result: AllocationResult, year: int) -> pd.Series:
    totals = result.totals
    gross = totals[(totals["year"] == year) & totals["sector"].isin(EMITTING)]
    by_region = gross.groupby("region")["allocated_t"].sum()
    return by_region / by_region.sum()


# -- calibration ---------------------------------------------------------------------------------------
def test_enhanced_reproduces_the_calibration_figures(enhanced, baseline):
    gross = yearly(enhanced)
    base_gross = baseline.loc[baseline["sector"].isin(EMITTING), "value_t"].sum()
    assert gross[2024] == pytest.approx(2390e6)
    assert gross[2027] == pytest.approx(2430e6, rel=0.01)
    assert enhanced.pathway.at[2020, "gross_t"] == pytest.approx(1990e6)
    assert gross[2035] / gross[2027] - 1 == pytest.approx(-0.10, abs=0.01)
    net_2060 = gross[2060] + yearly(enhanced, removals=True)[2060]
    assert abs(net_2060) <= 0.05 * base_gross


def test_enhanced_signs_and_sums(enhanced):
    totals = enhanced.totals
    assert set(totals["sector"]) == set(SECTORS) and set(totals["region"]) == set(YRD)
    assert len(totals) == len(YRD) * len(SECTORS) * 37
    assert (totals.loc[totals["sector"].isin(EMITTING), "allocated_t"] >= 0).all()
    assert (totals.loc[totals["sector"].isin(REMOVALS), "allocated_t"] <= 0).all()
    projection = enhanced.pathway[enhanced.pathway["kind"] == "projection"]
    assert np.allclose(yearly(enhanced), projection["gross_t"], rtol=1e-6, atol=0)
    assert np.allclose(-yearly(enhanced, removals=True), projection["removals_t"], rtol=1e-6, atol=0)
    assert enhanced.residual_rel <= 1e-6


def test_enhanced_respects_floors_and_ramps(enhanced, baseline):
    cube = enhanced.to_dataarray()
    base = cube.sel(year=2024)
    for sector, floor in load_scenario("yrd-enhanced").allocation.floors.items():
        assert (cube.sel(sector=sector) >= floor * base.sel(sector=sector) - 1).all()
    steps = np.abs(cube.sel(sector=EMITTING).diff("year"))
    ramp_base = np.maximum(base.sel(sector=EMITTING), 0.01 * base.sel(sector=EMITTING).sum("sector"))
    assert (steps <= 0.25 * ramp_base + 1).all()


def test_result_exports(enhanced):
    cube = enhanced.to_dataarray()
    assert cube.name == "allocated_t" and cube.attrs["units"] == "t CO2 / yr"
    assert cube.dims == ("region", "sector", "year")
    assert list(cube["sector"].values) == list(SECTORS) and list(cube["region"].values) == YRD
    assert float(cube.sel(region="Jiangsu", sector="forest_sink", year=2024)) < 0
    summary = enhanced.summary()
    json.dumps(summary)
    assert summary["status"] == "optimal" and summary["timings_s"]["build_s"] > 0
    assert summary["scenario_hash"] == load_scenario("yrd-enhanced").hash()
    assert summary["solver"].startswith("HiGHS 1.")
    assert set(enhanced.target_shares.columns) >= {"region", "year", "grandfather", "blend", "target"}


def test_allocation_prints_no_solver_output(baseline, capfd):
    allocate_scenario("yrd-policy", baseline, capacities=generous_capacities())
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


def test_determinism(baseline, drivers):
    scenario = load_scenario("yrd-policy")
    first = allocate(scenario, baseline, drivers, generous_capacities())
    second = allocate(scenario, baseline, drivers, generous_capacities())
    pd.testing.assert_frame_equal(first.totals, second.totals, check_exact=True)


# -- pathway forms through the LP ------------------------------------------------------------------------
def test_explicit_series_and_net_target_are_met(baseline, drivers):
    scenario = variant(pathway={"unit": "Gt", "series": {2030: 2.2, 2045: 1.0, 2060: 0.8},
                                "net_zero": {"year": 2060, "net": 0.5}, "removals_start": 2024})
    result = allocate(scenario, baseline, drivers)
    gross, removals = yearly(result), -yearly(result, removals=True)
    assert gross[2030] == pytest.approx(2.2e9) and gross[2045] == pytest.approx(1.0e9)
    assert gross[2060] - removals[2060] == pytest.approx(0.5e9)


# -- principles ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shares_with(baseline, drivers):
    """Regional shares of the allocated gross for principle weights (solved once per weighting)."""
    solved: dict[tuple, AllocationResult] = {}

    def shares(weights: dict, year: int = 2060) -> pd.Series:
        key = tuple(sorted(weights.items()))
        if key not in solved:
            scenario = variant(principles={k: weights.get(k, 0.0) for k in allocation.SHARE_RULES})
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


# -- constraints -------------------------------------------------------------------------------------------
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


def test_resolver_rebounds_the_kept_lp_and_agrees_with_a_cold_solve(baseline, drivers):
    from gridcarbon.allocation.lp import Resolver

    resolver = Resolver()
    loose = allocate(variant(), baseline, drivers, generous_capacities(value_mt=60.0), resolver=resolver)
    tight_caps = generous_capacities(value_mt=40.0)
    warm = allocate(variant(), baseline, drivers, tight_caps, resolver=resolver)
    cold = allocate(variant(), baseline, drivers, tight_caps)
    assert warm.objective == pytest.approx(cold.objective, rel=1e-7)
    assert warm.objective > loose.objective  # tighter removal capacities cost more
    removals = -warm.to_dataarray().sel(sector=REMOVALS, year=slice(2025, 2060)) / 1e6
    assert float(removals.max()) <= 40 + 1e-6
    assert warm.timings["build_s"] < 0.5 * cold.timings["build_s"]  # re-bounded, not rebuilt


# -- infeasibility ------------------------------------------------------------------------------------------
def diagnosis(scenario, baseline, drivers, capacities=None) -> str:
    with pytest.raises(InfeasibleAllocationError) as caught:
        allocate(scenario, baseline, drivers, capacities)
    message = str(caught.value)
    assert "\n" not in message and caught.value.conflicts
    return message


def test_removals_beyond_capacity_name_year_and_both_numbers(baseline, drivers):
    message = diagnosis(variant(), baseline, drivers, generous_capacities(value_mt=15.0))
    need = load_scenario("yrd-enhanced")
    assert need.pathway.net_zero.year == 2060
    assert "2060 net-zero needs 317 Mt of removals; regions can hold at most 120 Mt" in message


def test_floors_above_the_pathway(baseline, drivers):
    scenario = variant(allocation={"floors": {"steel": 0.9, "cement": 0.9, "chemical": 0.9}})
    message = diagnosis(scenario, baseline, drivers)
    assert "2060 gross pathway 317 Mt is below the hard-to-abate floors 504 Mt (steel, cement, chemical)" in message


def test_ramp_limits_that_cannot_follow_the_pathway(baseline, drivers):
    message = diagnosis(variant(allocation={"ramp": {s: 0.01 for s in EMITTING}}), baseline, drivers)
    assert "ramp limits let total emissions change by at most 23.9 Mt a year" in message
    # 12 years of 23.9 Mt from 2,390 Mt reach 2,103 Mt, above the 2036 pathway
    assert "by 2036 ramp limits let gross emissions fall no lower than 2,103 Mt but the pathway asks for 1,981 Mt" \
        in message


def test_base_total_that_differs_from_the_baseline(baseline, drivers):
    message = diagnosis(variant(pathway={"base_total": 2500}), baseline, drivers)
    assert "gross total 2,500 Mt differs from the baseline total 2,390 Mt" in message


def test_conflicting_bounds_and_trajectories(baseline, drivers):
    scenario = variant(pathway={"sectors": {"power": {2060: 400}}},
                       allocation={"bounds": [{"region": "Jiangsu", "sector": "steel", "years": [2050, 2060],
                                               "max": 10}]})
    message = diagnosis(scenario, baseline, drivers)
    assert "Jiangsu steel must be at least 13.5 Mt in 2050 (floors and bounds) but at most 10.0 Mt" in message
    assert "sector trajectories (power) take 400 Mt of the 2060 total 317 Mt" in message


def test_elastic_resolve_names_the_families_when_diagnosis_misses(baseline, drivers, monkeypatch):
    monkeypatch.setattr(allocation, "diagnose", lambda problem: [])
    scenario = variant(allocation={"floors": {"steel": 0.9, "cement": 0.9, "chemical": 0.9}})
    message = diagnosis(scenario, baseline, drivers)
    assert "must give way by" in message
    assert "floors" in message or "gross pathway" in message


# -- inputs ----------------------------------------------------------------------------------------------
def test_mass_balance_is_checked(baseline, drivers, monkeypatch):
    real = allocation._solve

    def leaky(problem, **options):
        solved = real(problem, **options)
        solved.E[0, 0, 5] += 1.0  # 1 Mt appears from nowhere
        return solved
    monkeypatch.setattr(allocation, "_solve", leaky)
    with pytest.raises(MassBalanceError, match="2029"):
        allocate(variant(), baseline, drivers)


def test_bad_baseline_and_drivers_are_input_errors(baseline, drivers):
    wrong_sign = baseline.copy()
    wrong_sign.loc[wrong_sign["sector"] == "forest_sink", "value_t"] *= -1
    with pytest.raises(SchemaError, match="<= 0 for removal sectors"):
        allocate(variant(), wrong_sign, drivers)
    with pytest.raises(SchemaError, match="unknown sector 'coal'"):
        allocate(variant(), pd.concat([baseline, pd.DataFrame([("Anhui", "coal", 1.0)], columns=baseline.columns)]),
                 drivers)
    with pytest.raises(InputError, match="drivers lack 4 region/year pair"):
        allocate(variant(), baseline, drivers[drivers["year"] != 2040])
    with pytest.raises(InputError, match=r"unknown \['Jiangxi'\], missing \['Anhui'\]"):
        allocate(variant(), baseline.replace({"region": {"Anhui": "Jiangxi"}}), drivers)


def test_mac_curves_cover_every_sector_and_are_convex():
    curves = load_mac_curves()
    assert set(curves) == set(SECTORS)
    for sector, curve in curves.items():
        costs = [cost for _, cost in curve]
        assert costs == sorted(costs)
        if sector in EMITTING:
            assert sum(width for width, _ in curve) == pytest.approx(1.0)
