"""Scenario targets: validated by the schema, with one-line errors naming the key."""
from __future__ import annotations

import pytest

from gridcarbon.config import load_scenario, validate_scenario


def only_problem(path) -> str:
    problems = validate_scenario(path)
    assert len(problems) == 1, problems
    return problems[0]


def test_builtin_scenarios_list_the_study_figures():
    targets = {t.name: t for t in load_scenario("yrd-enhanced").targets}
    assert targets["peak-level"].value == 2430 and targets["peak-year"].value == 2027
    assert targets["non-fossil-2035"].value == 0.55 and targets["non-fossil-2060"].value == 0.91
    assert all(t.source for t in targets.values())
    assert load_scenario("china-enhanced").targets  # each built-in lists its own (lists replace)


@pytest.mark.parametrize("target, key, message", [
    ("{name: a, quantity: grossx, year: 2030, value: 1, tolerance: 1}", "targets[0].quantity", "Input should be"),
    ("{name: a, quantity: gross, region: Hebei, year: 2030, value: 1, tolerance: 1}", "targets[0].region",
     "unknown region 'Hebei'"),
    ("{name: a, quantity: sector, sectors: [powr], year: 2030, value: 1, tolerance: 1}", "targets[0].sectors",
     "unknown sector 'powr'"),
    ("{name: a, quantity: gross, value: 1, tolerance: 1}", "targets[0]", "needs a year"),
    ("{name: a, quantity: sector_share, year: 2030, value: 1, tolerance: 1}", "targets[0]", "needs sectors"),
    ("{name: a, quantity: annual_change, year: 2030, from_year: 2035, value: 1, tolerance: 1}", "targets[0]",
     "from_year before"),
    ("{name: a, quantity: gross, year: 2030, value: 1, tolerance: -1}", "targets[0].tolerance", "greater than"),
    ("{name: a, quantity: gross, year: 2030, value: 1, tolerance: 1, tol: 2}", "targets[0].tol", "unknown key"),
])
def test_bad_target_is_one_line_naming_the_key(scenario_file, target, key, message):
    line = only_problem(scenario_file(f"name: t\nextends: yrd-enhanced\ntargets:\n  - {target}\n"))
    assert line.startswith(f"my.yaml: {key}: "), line
    assert message in line and "\n" not in line
