"""A run folder stores its resolved scenario as JSON (manifest ``scenario_resolved``) and
``load_run`` validates it back: every built-in scenario must survive that round trip."""
from __future__ import annotations

import json

import pytest

from gridcarbon.config import load_scenario
from gridcarbon.config.loading import list_scenarios
from gridcarbon.config.schema import Scenario


@pytest.mark.parametrize("name", [n for n, _ in list_scenarios()])
def test_builtin_scenarios_round_trip_through_json(name):
    scenario = load_scenario(name)
    again = Scenario.model_validate_json(json.dumps(json.loads(scenario.model_dump_json())))
    assert again.model_dump() == scenario.model_dump()
    assert again.pathway.history == scenario.pathway.history


def test_pathway_from_is_read_and_written_as_from():
    nested = load_scenario("yrd-nested")
    assert nested.pathway.parent == "china-enhanced"
    dumped = nested.model_dump()["pathway"]
    assert dumped["from"] == "china-enhanced" and "parent" not in dumped
