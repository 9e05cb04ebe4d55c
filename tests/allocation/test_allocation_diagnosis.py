"""Infeasible scenarios: the diagnosis names years and both numbers; the elastic copy names families."""
from __future__ import annotations

import pytest
from allocation.allocation_fixtures import generous_capacities, variant

from gridcarbon.allocation import allocate, api
from gridcarbon.config import load_scenario
from gridcarbon.core.errors import InfeasibleAllocationError
from gridcarbon.core.sectors import EMITTING


def diagnosis(scenario, baseline, drivers, capacities=None) -> str:
    with pytest.raises(InfeasibleAllocationError) as caught:
        allocate(scenario, baseline, drivers, capacities)
    message = str(caught.value)
    assert "\n" not in message and caught.value.conflicts
    return message


def gross_mt(year: int) -> int:
    """The gross pathway of yrd-enhanced after 2035 (Mt), from its milestones: 2.43 Gt in 2027,
    the 2035 milestone, then its rates (-9.4 %/yr to 2050, -4.4 %/yr to 2060)."""
    p = load_scenario("yrd-enhanced").pathway
    early, late = p.rates
    level = p.peak.level * (1 + p.milestones[0].change_from_peak)
    level *= (1 + early.annual) ** (min(year, early.end) - 2035)
    return round(level * (1 + late.annual) ** max(0, year - early.end))


def test_removals_beyond_capacity_name_year_and_both_numbers(baseline, drivers):
    message = diagnosis(variant(), baseline, drivers, generous_capacities(value_mt=15.0))
    need = load_scenario("yrd-enhanced")
    assert need.pathway.net_zero.year == 2060
    assert f"2060 net-zero needs {gross_mt(2060)} Mt of removals; regions can hold at most 120 Mt" in message


def test_floors_above_the_pathway(baseline, drivers):
    scenario = variant(allocation={"floors": {"steel": 0.9, "cement": 0.9, "chemical": 0.9}})
    message = diagnosis(scenario, baseline, drivers)
    assert f"2060 gross pathway {gross_mt(2060)} Mt is below the hard-to-abate floors 504 Mt (steel, cement, chemical)" in message


def test_ramp_limits_that_cannot_follow_the_pathway(baseline, drivers):
    message = diagnosis(variant(allocation={"ramp": {s: 0.01 for s in EMITTING}}), baseline, drivers)
    assert "ramp limits let total emissions change by at most 23.9 Mt a year" in message
    # 12 years of 23.9 Mt from 2,390 Mt reach 2,103 Mt, above the 2036 pathway
    assert ("by 2036 ramp limits let gross emissions fall no lower than 2,103 Mt but the pathway asks for "
            f"{gross_mt(2036):,} Mt") in message


def test_base_total_that_differs_from_the_baseline(baseline, drivers):
    message = diagnosis(variant(pathway={"base_total": 2500}), baseline, drivers)
    assert "gross total 2,500 Mt differs from the baseline total 2,390 Mt" in message


def test_conflicting_bounds_and_trajectories(baseline, drivers):
    scenario = variant(pathway={"sectors": {"power": {2060: 400}}},
                       allocation={"bounds": [{"region": "Jiangsu", "sector": "steel", "years": [2050, 2060],
                                               "max": 10}]})
    message = diagnosis(scenario, baseline, drivers)
    assert "Jiangsu steel must be at least 13.5 Mt in 2050 (floors) but at most 10.0 Mt (user bounds)" in message
    assert f"sector trajectories (power) take 400 Mt of the 2060 total {gross_mt(2060)} Mt" in message


def test_elastic_resolve_names_the_families_when_diagnosis_misses(baseline, drivers, monkeypatch):
    monkeypatch.setattr(api, "diagnose", lambda problem: [])
    scenario = variant(allocation={"floors": {"steel": 0.9, "cement": 0.9, "chemical": 0.9}})
    message = diagnosis(scenario, baseline, drivers)
    assert "must give way by" in message
    assert "floors" in message or "gross pathway" in message
