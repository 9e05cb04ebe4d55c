"""Targets checked against the run's own numbers: in the default run's manifest, and a scenario
whose target is missed is reported (manifest section and a NOT MET line on stderr)."""
from __future__ import annotations

import json
import logging
import textwrap

import pandas as pd
import pytest

from gridcarbon.config import load_scenario
from gridcarbon.output.targets import check_targets, log_targets


def test_default_run_manifest_reports_every_target(default_run):
    manifest = json.loads((default_run.out_dir / "manifest.json").read_text())
    report = manifest["targets"]
    targets = load_scenario("yrd-enhanced").targets
    assert report["checked"] == len(targets) == len(report["results"])
    for r in report["results"]:
        assert r["met"] == (r["computed"] is not None and abs(r["computed"] - r["value"]) <= r["tolerance"]), r
    met = {r["name"] for r in report["results"] if r["met"]}
    assert report["met"] == len(met) and set(report["not_met"]) == {t.name for t in targets} - met
    # the pathway milestones and base-year totals the scenario is built on are reproduced
    assert {"gross-2024", "power-2024", "sinks-2024", "peak-year", "peak-level", "decline-2035", "net-2060"} <= met


def test_energy_share_target_reads_the_run_energy_summary(default_run):
    summary = default_run.energy["energy_summary"]
    report = json.loads((default_run.out_dir / "manifest.json").read_text())["targets"]
    row = next(r for r in report["results"] if r["name"] == "non-fossil-2035")
    expected = summary[(summary.region == "total") & (summary.year == 2035)].non_fossil_share_primary.iloc[0]
    assert row["computed"] == pytest.approx(expected, rel=1e-12)


def test_a_missed_target_is_reported(default_run, tmp_path, caplog):
    path = tmp_path / "missed.yaml"
    path.write_text(textwrap.dedent("""
        name: missed
        extends: yrd-enhanced
        targets:
          - {name: peak-level, quantity: peak_level, value: 2430, tolerance: 5, source: study}
          - {name: too-low-2030, quantity: gross, year: 2030, value: 1000, tolerance: 10, source: test}
          - {name: jiangsu-power-share, quantity: sector_share, region: Jiangsu, sectors: [power], year: 2024,
             value: 0.5, tolerance: 0.5, source: test}
        """))
    sc = load_scenario(path)
    report = check_targets(sc.targets, default_run.totals, default_run.energy.get("energy_summary"))
    assert report["checked"] == 3 and report["met"] == 2 and report["not_met"] == ["too-low-2030"]
    gross_2030 = default_run.totals.query("year == 2030 and sector not in ['forest_sink', 'beccs']").allocated_t.sum()
    assert report["results"][1]["computed"] == pytest.approx(gross_2030 / 1e6)
    with caplog.at_level(logging.INFO, logger="gridcarbon"):
        log_targets(report, sc.name)
    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("target too-low-2030: ") and line.endswith("NOT MET") for line in lines), lines
    assert "targets: 2 of 3 met" in lines


def test_energy_targets_of_a_run_without_power_system_are_not_computed():
    totals = pd.DataFrame({"region": ["A", "A"], "sector": ["power", "forest_sink"], "year": [2024, 2024],
                           "allocated_t": [2e6, -1e6]})
    sc = load_scenario("yrd-enhanced")
    report = check_targets(sc.targets, totals, None)
    energy = [r for r in report["results"] if r["quantity"] == "non_fossil_share_primary"]
    assert energy and all(r["computed"] is None and not r["met"] for r in energy)
    net = next(r for r in report["results"] if r["name"] == "net-2024")
    assert net["computed"] == pytest.approx(1.0)  # 2 Mt gross less 1 Mt of removals
