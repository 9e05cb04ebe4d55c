"""Milestones -> annual pathway: each form (milestones, rates, series, net zero) and its rules."""
from __future__ import annotations

import numpy as np
import pytest

from gridcarbon.allocation import annual_pathway
from gridcarbon.config import PathwaySpec, load_scenario
from gridcarbon.core.errors import ScenarioError

BASE_T = 2390e6
SINK_T = 30e6


def pathway(spec: dict, *, base_year: int = 2024, end_year: int = 2060, base_total_t: float = BASE_T):
    return annual_pathway(PathwaySpec.model_validate(spec), base_year, end_year, base_total_t,
                          base_removals_t=SINK_T)


def test_enhanced_scenario_reproduces_the_study():
    s = load_scenario("yrd-enhanced")
    frame = annual_pathway(s.pathway, s.base_year, s.end_year, BASE_T, base_removals_t=SINK_T)
    gross = frame["gross_t"]
    assert gross[2020] == pytest.approx(1990e6) and frame.at[2020, "kind"] == "history"
    assert gross[2024] == pytest.approx(BASE_T) and frame.at[2024, "kind"] == "projection"
    assert gross[2027] == pytest.approx(2430e6)
    assert gross[2035] / gross[2027] - 1 == pytest.approx(-0.10, abs=0.01)
    assert gross[2050] == pytest.approx(gross[2035] * 0.906 ** 15)
    assert gross[2060] == pytest.approx(gross[2050] * 0.956 ** 10)
    assert 0.30e9 < gross[2060] < 0.34e9
    assert frame.at[2060, "net_t"] == pytest.approx(0, abs=1)
    assert list(frame.index) == list(range(2020, 2061))


def test_policy_scenario_peaks_later_and_stays_above_net_zero():
    s = load_scenario("yrd-policy")
    frame = annual_pathway(s.pathway, s.base_year, s.end_year, BASE_T, base_removals_t=SINK_T)
    assert frame["gross_t"].idxmax() == 2030 and frame.at[2030, "gross_t"] == pytest.approx(2550e6)
    assert 0.5e9 <= frame.at[2060, "net_t"] <= 0.7e9
    enhanced = load_scenario("yrd-enhanced")
    enhanced_frame = annual_pathway(enhanced.pathway, 2024, 2060, BASE_T, base_removals_t=SINK_T)
    assert frame.at[2060, "removals_t"] < enhanced_frame.at[2060, "removals_t"]


def test_gaps_between_anchors_are_geometric():
    frame = pathway({"peak": {"year": 2030, "level": 2600},
                     "milestones": [{"year": 2040, "change_from_base": -0.5}]})
    ratios = frame["gross_t"].loc[2024:2030].pct_change().dropna()
    assert np.allclose(ratios, (2600e6 / BASE_T) ** (1 / 6) - 1)
    assert frame.at[2040, "gross_t"] == pytest.approx(BASE_T * 0.5)
    later = frame["gross_t"].loc[2030:2040].pct_change().dropna()
    assert np.allclose(later, later.iloc[0])


def test_milestone_level_and_flat_after_the_last_anchor():
    frame = pathway({"milestones": [{"year": 2030, "level": 2000}]})
    assert frame.at[2030, "gross_t"] == pytest.approx(2000e6)
    assert np.allclose(frame["gross_t"].loc[2030:], 2000e6)


def test_rates_compound_from_the_previous_year_and_hold_flat_after():
    frame = pathway({"rates": [{"start": 2025, "end": 2034, "annual": -0.05}]})
    assert frame.at[2034, "gross_t"] == pytest.approx(BASE_T * 0.95 ** 10)
    assert frame.at[2060, "gross_t"] == pytest.approx(frame.at[2034, "gross_t"])


def test_gap_before_a_rate_period_holds_flat():
    frame = pathway({"milestones": [{"year": 2026, "level": 2400}],
                     "rates": [{"start": 2030, "end": 2031, "annual": -0.1}]})
    assert np.allclose(frame["gross_t"].loc[2026:2029], 2400e6)
    assert frame.at[2031, "gross_t"] == pytest.approx(2400e6 * 0.81)


def test_series_interpolates_and_is_anchored_at_the_base_total():
    frame = pathway({"unit": "Gt", "series": {2030: 2.0, 2040: 1.0}})
    assert frame.at[2024, "gross_t"] == pytest.approx(BASE_T)
    assert frame.at[2030, "gross_t"] == pytest.approx(2.0e9)
    assert frame.at[2035, "gross_t"] == pytest.approx(np.sqrt(2.0e9 * 1.0e9))
    assert frame.at[2060, "gross_t"] == pytest.approx(1.0e9)


def test_series_covering_the_base_year_is_used_as_given():
    frame = pathway({"series": {2024: 2400, 2060: 0}})
    assert frame.at[2024, "gross_t"] == pytest.approx(2400e6)
    assert frame.at[2042, "gross_t"] == pytest.approx(1200e6)  # linear towards zero


def test_base_total_from_the_scenario_overrides_the_baseline():
    frame = pathway({"base_total": 2.5, "unit": "Gt"})
    assert frame.at[2024, "gross_t"] == pytest.approx(2.5e9)


def test_removals_hold_then_ramp_linearly_to_net_zero_then_follow_gross():
    frame = pathway({"milestones": [{"year": 2050, "level": 500}], "net_zero": {"year": 2050, "net": 100},
                     "removals_start": 2030})
    removals = frame["removals_t"]
    assert np.allclose(removals.loc[2024:2030], SINK_T)
    assert removals[2050] == pytest.approx(400e6)
    assert removals[2040] == pytest.approx(SINK_T + (400e6 - SINK_T) / 2)
    assert np.allclose(frame["net_t"].loc[2050:], 100e6)
    assert (removals.loc[2024:] >= 0).all()


def test_without_net_zero_the_sink_stays_at_the_base_level():
    frame = pathway({"peak": {"year": 2030, "level": 2500}})
    assert np.allclose(frame["removals_t"].loc[2024:], SINK_T)
    assert np.allclose(frame["net_t"].loc[2024:], frame["gross_t"].loc[2024:] - SINK_T)


def test_history_years_are_interpolated_and_have_no_removals():
    frame = pathway({"history": {2015: 1500, 2020: 1990}})
    assert frame.at[2015, "gross_t"] == pytest.approx(1500e6)
    assert frame.at[2022, "gross_t"] == pytest.approx(np.sqrt(1990e6 * BASE_T))
    assert frame.loc[2015:2023, "kind"].eq("history").all()
    assert frame.loc[2015:2023, "removals_t"].isna().all()


def test_net_above_gross_is_an_error():
    with pytest.raises(ScenarioError, match="above the gross pathway"):
        pathway({"milestones": [{"year": 2050, "level": 100}], "net_zero": {"year": 2050, "net": 200}})


def test_removals_turning_negative_after_net_zero_is_an_error():
    with pytest.raises(ScenarioError, match="removals falls below zero in 2051"):
        pathway({"rates": [{"start": 2041, "end": 2060, "annual": -0.5}],
                 "milestones": [{"year": 2040, "level": 1000}], "net_zero": {"year": 2050, "net": 0.5}})
