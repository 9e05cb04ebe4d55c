"""The scenario schema: section rules, the hash, and changed copies (``Scenario.with_overrides``)."""
from __future__ import annotations

import pytest

from gridcarbon.config import EvolutionSpec, Scenario, list_scenarios, load_scenario
from gridcarbon.core.errors import InputError, ScenarioError


# -- hash ------------------------------------------------------------------------------------------
def test_hash_is_stable_and_tracks_content(scenario_file):
    enhanced = load_scenario("yrd-enhanced")
    assert enhanced.hash() == load_scenario("yrd-enhanced").hash()
    assert len(enhanced.hash()) == 12 and int(enhanced.hash(), 16) >= 0
    changed = scenario_file("name: yrd-enhanced\nextends: yrd-enhanced\nseed: 7\n")
    assert load_scenario(changed).hash() != enhanced.hash()
    description = dict(list_scenarios())["yrd-enhanced"]
    same = scenario_file(f"name: yrd-enhanced\ndescription: '{description}'\nextends: yrd-enhanced\n", "same.yaml")
    assert load_scenario(same).hash() == enhanced.hash()  # extends itself is not content


def test_study_area_keys_at_their_defaults_keep_the_hash():
    plain = Scenario.model_validate({"name": "x"})
    explicit = Scenario.model_validate({"name": "x", "boundaries": None, "region_field": "region"})
    assert explicit.hash() == plain.hash()
    assert "boundaries" in plain.model_dump() and "region_field" in plain.model_dump()  # still hashed


# -- section rules -----------------------------------------------------------------------------------
@pytest.mark.parametrize("bad, message", [
    ({"milestones": [{"year": 2030, "level": 1, "change_from_base": -0.1}]}, "exactly one of"),
    ({"rates": [{"start": 2040, "end": 2030, "annual": -0.1}]}, "start 2040 is after end 2030"),
    ({"rates": [{"start": 2030, "end": 2040, "annual": -0.1}, {"start": 2035, "end": 2045, "annual": -0.1}]},
     "overlap"),
    ({"milestones": [{"year": 2035, "level": 5}], "rates": [{"start": 2030, "end": 2040, "annual": -0.1}]},
     "inside the rate period"),
    ({"milestones": [{"year": 2035, "change_from_peak": -0.1}]}, "no peak is given"),
])
def test_pathway_consistency_checks(bad, message):
    with pytest.raises(ValueError, match=message):
        Scenario.model_validate({"name": "x", "pathway": bad})


def test_evolution_defaults_live_in_the_schema():
    assert Scenario.model_validate({"name": "x"}).evolution == EvolutionSpec()
    assert EvolutionSpec().retire_utilisation == 0.55 and EvolutionSpec().capture_rate == 0.9


# -- with_overrides ------------------------------------------------------------------------------------
def test_overrides_change_keys_and_keep_the_source():
    enhanced = load_scenario("yrd-enhanced")
    changed = enhanced.with_overrides(years=[2030], resolution=1000.0, seed=7)
    assert (changed.years, changed.resolution, changed.seed) == ([2030], 1000.0, 7)
    assert changed.source == enhanced.source is not None
    assert (enhanced.years, enhanced.seed) == ([2030, 2035, 2060], 42)  # the original is untouched
    assert changed.hash() != enhanced.hash()


def test_overrides_equal_a_file_making_the_same_changes(scenario_file):
    description = dict(list_scenarios())["yrd-enhanced"]
    path = scenario_file(f"name: yrd-enhanced\ndescription: '{description}'\nextends: yrd-enhanced\n"
                         "seed: 7\nresolution: 1000\n")
    assert load_scenario("yrd-enhanced").with_overrides(seed=7, resolution=1000).hash() == load_scenario(path).hash()


def test_override_of_a_section_merges_into_it():
    enhanced = load_scenario("yrd-enhanced")
    noisy = enhanced.with_overrides(evolution={"siting_noise": 0.25})
    assert noisy.evolution.siting_noise == 0.25
    assert noisy.evolution.model_dump(exclude={"siting_noise"}) == enhanced.evolution.model_dump(
        exclude={"siting_noise"})


def test_overridden_years_outside_the_range_name_the_option():
    with pytest.raises(InputError) as caught:
        load_scenario("yrd-enhanced").with_overrides(years=[2030, 2070])
    assert caught.value.record == "--years"
    assert "years [2070] outside 2025..2060" in str(caught.value)


@pytest.mark.parametrize("changes, key", [
    ({"resolution": 5.0}, "resolution"),
    ({"years": [2035, 2030]}, "years"),
    ({"seeed": 1}, "seeed"),
    ({"end_year": 2050}, "years[2]"),  # cross-field checks run too
    ({"boundaries": "areas.gpkg"}, "boundaries"),
])
def test_override_problems_are_scenario_errors_naming_the_key(changes, key):
    with pytest.raises(ScenarioError) as caught:
        load_scenario("yrd-enhanced").with_overrides(**changes)
    assert caught.value.record == key and caught.value.exit_code == 2
    assert caught.value.source == "yrd-enhanced.yaml"


def test_resolve_applies_command_line_overrides():
    from gridcarbon.job import resolve

    enhanced = load_scenario("yrd-enhanced")
    assert resolve("yrd-enhanced") == enhanced
    changed = resolve("yrd-enhanced", years=[2030], seed=3)
    assert changed == enhanced.with_overrides(years=[2030], seed=3)
    assert changed.source == enhanced.source
    with pytest.raises(InputError, match="outside") as caught:
        resolve(enhanced, years=[2024])
    assert caught.value.record == "--years"


def test_overrides_given_as_none_change_nothing():
    enhanced = load_scenario("yrd-enhanced")
    assert enhanced.with_overrides(years=None, seed=None) is enhanced
    assert enhanced.with_overrides(years=None, seed=5).years == enhanced.years
