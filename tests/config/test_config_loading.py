"""Scenario files: built-ins, ``extends``, paths, and every problem reported with file and key."""
from __future__ import annotations

import pytest

from gridcarbon.config import (
    deep_merge,
    list_scenarios,
    load_scenario,
    validate_scenario,
)
from gridcarbon.core.errors import ScenarioError


def only_problem(path) -> str:
    problems = validate_scenario(path)
    assert len(problems) == 1, problems
    return problems[0]


# -- built-ins ---------------------------------------------------------------------------------
def test_builtins_are_listed_with_descriptions():
    listed = dict(list_scenarios())
    assert {"yrd-enhanced", "yrd-policy"} <= set(listed)
    assert "2.43 Gt" in listed["yrd-enhanced"]


@pytest.mark.parametrize("name", ["yrd-enhanced", "yrd-policy", "china-enhanced", "china-policy"])
def test_builtins_validate_clean(name):
    assert validate_scenario(name) == []


def test_policy_extends_enhanced_and_overrides_the_pathway():
    policy = load_scenario("yrd-policy")
    assert policy.name == "yrd-policy" and policy.extends == "yrd-enhanced"
    assert (policy.pathway.peak.year, policy.pathway.peak.level) == (2030, 2550)
    assert policy.pathway.net_zero.net == 600
    assert policy.allocation.floors == load_scenario("yrd-enhanced").allocation.floors  # inherited
    assert policy.regions == ("Shanghai", "Jiangsu", "Zhejiang", "Anhui")


def test_defaults_fill_a_minimal_file(scenario_file):
    scenario = load_scenario(scenario_file("pathway: {peak: {year: 2030, level: 100}}\n", "Minimal Run.yaml"))
    assert scenario.name == "minimal-run"
    assert scenario.allocation.ramp_for("power") == 0.25
    assert scenario.principles.weights() == {"grandfather": 0.4, "per_capita": 0.2, "ability_to_pay": 0.2,
                                             "efficiency": 0.2}
    assert scenario.all_years[0] == 2024 and scenario.all_years[-1] == 2060


# -- extends and paths --------------------------------------------------------------------------------
def test_extends_chain_of_files_and_paths_relative_to_each_file(tmp_path, scenario_file):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "drivers.csv").write_text("region,year,population,gdp_yuan\n")
    scenario_file("extends: yrd-enhanced\ndrivers: drivers.csv\nseed: 3\n", "base.yaml", folder=tmp_path / "data")
    child = load_scenario(scenario_file("extends: data/base.yaml\nresolution: 1000\n", "child.yaml"))
    assert child.drivers == str(tmp_path / "data" / "drivers.csv")
    assert (child.seed, child.resolution, child.pathway.peak.year) == (3, 1000, 2027)
    assert child.source == str((tmp_path / "child.yaml").resolve())


def test_series_override_replaces_inherited_milestones(scenario_file):
    scenario = load_scenario(scenario_file("""
        extends: yrd-enhanced
        pathway: {series: {2024: 2390, 2060: 300}}
        """))
    assert scenario.pathway.peak is None and scenario.pathway.rates == []
    assert scenario.pathway.unit == "Mt"  # other pathway keys still inherited


def test_deep_merge_merges_mappings_and_replaces_lists():
    merged = deep_merge({"a": {"x": 1, "y": [1, 2]}, "b": 1}, {"a": {"y": [3]}, "c": 2})
    assert merged == {"a": {"x": 1, "y": [3]}, "b": 1, "c": 2}


def test_deep_merge_keeps_one_pathway_form():
    base = {"pathway": {"unit": "Mt", "peak": {"year": 2030, "level": 1}, "rates": [1]}}
    assert deep_merge(base, {"pathway": {"series": {2030: 1}}}) == {"pathway": {"unit": "Mt", "series": {2030: 1}}}
    back = deep_merge({"pathway": {"series": {2030: 1}}}, {"pathway": {"milestones": [2]}})
    assert back == {"pathway": {"milestones": [2]}}


# -- every validation error ------------------------------------------------------------------------------
ERRORS = {
    "unknown key at top level": ("extends: yrd-enhanced\nseeed: 1\n", "my.yaml: seeed: unknown key 'seeed'"),
    "unknown nested key": ("extends: yrd-enhanced\npathway: {peek: {year: 2027, level: 1}}\n",
                           "my.yaml: pathway.peek: unknown key 'peek' (did you mean 'peak'?)"),
    "unknown key in a list item": ("extends: yrd-enhanced\nallocation: {bounds: [{region: Anhui, sector: power, "
                                   "years: [2030, 2040], max: 100, mx: 1}]}\n",
                                   "allocation.bounds[0].mx: unknown key 'mx'"),
    "wrong type": ("extends: yrd-enhanced\nseed: forty-two\n",
                   "seed: Input should be a valid integer, got 'forty-two'"),
    "wrong nested type": ("extends: yrd-enhanced\npathway: {peak: {year: 2027.5, level: 2430}}\n",
                          "pathway.peak.year: Input should be a valid integer"),
    "years unordered": ("extends: yrd-enhanced\nyears: [2035, 2030]\n", "years: years must be sorted and unique"),
    "years duplicated": ("extends: yrd-enhanced\nyears: [2030, 2030]\n", "years: years must be sorted and unique"),
    "years out of range": ("extends: yrd-enhanced\nyears: [2030, 2070]\n",
                           "years[1]: exported year 2070 is outside 2025..2060"),
    "base year at end year": ("extends: yrd-enhanced\nbase_year: 2060\n",
                              "base_year: base year 2060 must be before end year 2060"),
    "weights not summing to one": ("extends: yrd-enhanced\nprinciples: {grandfather: 0.5}\n",
                                   "principles: weights must sum to 1, got 1.1"),
    "negative weight": ("extends: yrd-enhanced\nprinciples: {grandfather: 1.2, per_capita: -0.2, "
                        "ability_to_pay: 0, efficiency: 0}\n",
                        "principles.per_capita: Input should be greater than or equal to 0"),
    "unknown sector in floors": ("extends: yrd-enhanced\nallocation: {floors: {steal: 0.1}}\n",
                                 "allocation.floors.steal: unknown emitting sector 'steal'"),
    "removal sector in ramp": ("extends: yrd-enhanced\nallocation: {ramp: {beccs: 0.1}}\n",
                               "allocation.ramp.beccs: unknown emitting sector 'beccs'"),
    "unknown sector in trajectories": ("extends: yrd-enhanced\npathway: {sectors: {coal: {2030: 1}}}\n",
                                       "pathway.sectors.coal: unknown sector 'coal'"),
    "unknown sector in bounds": ("extends: yrd-enhanced\nallocation: {bounds: [{region: Anhui, sector: coal, "
                                 "years: [2030, 2040], max: 1}]}\n",
                                 "allocation.bounds[0].sector: unknown sector 'coal'"),
    "unknown region in bounds": ("extends: yrd-enhanced\nallocation: {bounds: [{region: Beijing, sector: power, "
                                 "years: [2030, 2040], max: 1}]}\n",
                                 "allocation.bounds[0].region: unknown region 'Beijing' for region set 'yrd'"),
    "unknown region in capacity": ("extends: yrd-enhanced\nremovals: {capacity: {Anhwei: {beccs: 5}}}\n",
                                   "removals.capacity.Anhwei: unknown region 'Anhwei'"),
    "series mixed with milestones": ("pathway: {series: {2030: 100}, milestones: [{year: 2035, level: 90}]}\n",
                                     "pathway: series cannot be combined with milestones"),
    "milestone before base year": ("extends: yrd-enhanced\npathway: {milestones: [{year: 2020, level: 1800}]}\n",
                                   "pathway.milestones[0].year: milestone year 2020 is outside 2025..2060"),
    "peak at the base year": ("extends: yrd-enhanced\npathway: {peak: {year: 2024, level: 2400}}\n",
                              "pathway.peak.year: peak year 2024 is outside 2025..2060"),
    "peak after net zero": ("extends: yrd-enhanced\npathway: {peak: {year: 2055, level: 2500}, "
                            "milestones: [], rates: [], net_zero: {year: 2050, net: 0}}\n",
                            "pathway.peak.year: peak year 2055 is after the net-zero year 2050"),
    "missing referenced file": ("extends: yrd-enhanced\ndrivers: nowhere.csv\n", "drivers: file not found:"),
    "path traversal with ..": ("extends: yrd-enhanced\ninventory: {points: ../../secret.csv}\n",
                               "inventory.points: path '../../secret.csv' escapes the scenario's folder"),
    "path into a system location": ("extends: yrd-enhanced\ndrivers: /etc/passwd\n",
                                    "drivers: path '/etc/passwd' points into a system location"),
    "missing boundaries file": ("extends: yrd-enhanced\nregion_set: china\nboundaries: areas.gpkg\n",
                                "my.yaml: boundaries: file not found:"),
    "region field without boundaries": ("extends: yrd-enhanced\nregion_field: NAME\n",
                                        "my.yaml: region_field: region_field names the region column of a "
                                        "boundaries file: set boundaries too"),
    "unknown extends target": ("extends: yrd-enhanced-v2\n", "my.yaml: extends: unknown scenario 'yrd-enhanced-v2'"),
    "malformed yaml": ("name: x\npathway:\n  peak: {year: 2027\n  level: 1\n", "my.yaml: YAML syntax error at line"),
    "empty file": ("", "my.yaml: the file is empty"),
    "not a mapping": ("- 1\n- 2\n", "expected a mapping of keys, got a list"),
}


@pytest.mark.parametrize("text, expected", list(ERRORS.values()), ids=list(ERRORS))
def test_each_error_is_reported_with_file_and_key(scenario_file, text, expected):
    path = scenario_file(text)
    problem = only_problem(path)
    assert expected in problem
    assert problem.startswith("my.yaml: ")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.source == "my.yaml"
    assert "\n" not in str(caught.value)


def test_malformed_yaml_names_the_line(scenario_file):
    path = scenario_file("name: x\nseed: 1\npathway: [unclosed\nyears: [2030]\n")
    assert "line 4" in only_problem(path)


def test_extends_cycle_is_detected(tmp_path, scenario_file):
    scenario_file("extends: b.yaml\n", "a.yaml")
    scenario_file("extends: a.yaml\n", "b.yaml")
    problem = only_problem(tmp_path / "a.yaml")
    assert "extends cycle: a.yaml -> b.yaml -> a.yaml" in problem


def test_all_problems_are_collected_not_just_the_first(scenario_file):
    path = scenario_file("""
        extends: yrd-enhanced
        seed: x
        resolution: 5
        coupling: {max_iterations: 0, tol: 1}
        """)
    problems = validate_scenario(path)
    keys = {line.split(": ")[1] for line in problems}
    assert keys == {"seed", "resolution", "coupling.max_iterations", "coupling.tol"}


def test_cross_field_problems_are_all_collected(scenario_file):
    path = scenario_file("""
        extends: yrd-enhanced
        years: [2020]
        allocation: {floors: {steal: 0.1}, bounds: [{region: Tokyo, sector: power, years: [2030, 2031], max: 1}]}
        """)
    keys = {line.split(": ")[1] for line in validate_scenario(path)}
    assert keys == {"years[0]", "allocation.floors.steal", "allocation.bounds[0].region"}


def test_path_problems_are_collected_with_schema_problems(scenario_file):
    path = scenario_file("extends: yrd-enhanced\ndrivers: missing.csv\ninventory: {points: /etc/x.csv}\nseed: x\n")
    keys = {line.split(": ")[1] for line in validate_scenario(path)}
    assert keys == {"drivers", "inventory.points", "seed"}


def test_load_raises_with_record_and_count_of_further_problems(scenario_file):
    path = scenario_file("extends: yrd-enhanced\nseed: x\nresolution: 5\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.record == "resolution" or caught.value.record == "seed"
    assert "1 more problem" in str(caught.value)


def test_unknown_builtin_name_lists_the_builtins():
    with pytest.raises(ScenarioError, match="unknown scenario 'nope'.*yrd-enhanced"):
        load_scenario("nope")
