"""Custom study areas are not supported yet: ``boundaries`` and ``region_field`` are refused.

The keys stay in the schema (and in the hash, so the built-in scenarios keep theirs), but a
value other than the default is one input problem naming the key, in ``validate_scenario``,
``load_scenario`` and ``gridcarbon validate``.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gridcarbon.config import load_scenario, validate_scenario
from gridcarbon.core.errors import ScenarioError

UNSUPPORTED = "custom study areas are not supported yet"
CASES = {
    "boundaries file": ("boundaries: areas.gpkg\n", "boundaries"),
    "boundaries not a string": ("boundaries: 5\n", "boundaries"),
    "boundaries into a system location": ("boundaries: /etc/passwd\n", "boundaries"),
    "region field": ("region_field: NAME\n", "region_field"),
    "region field not a string": ("region_field: 3\n", "region_field"),
}


def check_line(line: str, key: str) -> None:
    assert line.startswith(f"my.yaml: {key}: {UNSUPPORTED}"), line
    assert f"{key!r}" in line and "use region_set (yrd or china)" in line


@pytest.mark.parametrize("text, key", list(CASES.values()), ids=list(CASES))
def test_validate_reports_the_key(scenario_file, text, key):
    problems = validate_scenario(scenario_file("extends: yrd-enhanced\n" + text))
    assert len(problems) == 1, problems
    check_line(problems[0], key)


@pytest.mark.parametrize("text, key", list(CASES.values()), ids=list(CASES))
def test_load_raises_naming_the_key(scenario_file, text, key):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(scenario_file("extends: yrd-enhanced\n" + text))
    err = caught.value
    assert (err.source, err.record, err.exit_code) == ("my.yaml", key, 2)
    assert UNSUPPORTED in err.problem and "region_set" in err.problem


def test_defaults_are_accepted(scenario_file):
    path = scenario_file("extends: yrd-enhanced\nboundaries: null\nregion_field: region\nregion_set: china\n")
    assert validate_scenario(path) == []
    assert load_scenario(path).regions[0] == "Beijing"


def test_all_problems_at_once(scenario_file):
    path = scenario_file("extends: yrd-enhanced\nboundaries: areas.gpkg\nregion_field: NAME\nseed: x\n")
    problems = validate_scenario(path)
    assert sorted(line.split(": ")[1] for line in problems) == ["boundaries", "region_field", "seed"]
    with pytest.raises(ScenarioError, match="2 more problem"):
        load_scenario(path)


def test_cli_validate_exits_2_naming_each_key(scenario_file):
    path = scenario_file("extends: yrd-enhanced\nboundaries: areas.gpkg\nregion_field: NAME\n")
    proc = subprocess.run([sys.executable, "-m", "gridcarbon.cli", "validate", path.name], cwd=path.parent,
                          env={**os.environ, "MPLBACKEND": "Agg"}, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert len(lines) == 2, lines
    check_line(lines[0], "boundaries")
    check_line(lines[1], "region_field")
    assert "Traceback" not in proc.stderr
