"""A run reports its stages through the standard ``gridcarbon`` logger; the CLI shows them on
stderr as ``[scenario] stage`` lines unless ``--quiet``."""
from __future__ import annotations

import logging

import pytest

STAGES = ["inventory", "suitability models", "allocation (iteration 1)", "evolution and export"]


@pytest.mark.slow
def test_a_run_logs_its_stages_with_the_scenario(caplog, tmp_path):
    from gridcarbon import run

    caplog.set_level(logging.INFO, logger="gridcarbon")
    result = run("yrd-enhanced", out=tmp_path, years=[2030])
    assert result.out_dir == tmp_path / "yrd-enhanced"
    every = [r for r in caplog.records if r.name.startswith("gridcarbon")]
    records = [r for r in every if r.name != "gridcarbon.output.targets"]
    messages = [r.getMessage() for r in records]
    assert all(stage in messages for stage in STAGES), messages
    assert [messages.index(stage) for stage in STAGES] == sorted(messages.index(stage) for stage in STAGES)
    assert messages[-1] == "evolution and export"  # after the coupling's last allocation
    assert all(r.levelno == logging.INFO and r.scenario == "yrd-enhanced" for r in records)
    # then one line per target of the scenario: a warning when it is not met
    targets = [r for r in every if r.name == "gridcarbon.output.targets"]
    assert len(targets) == len(result.scenario.targets) + 1 and every[-len(targets):] == targets
    assert all((r.levelno == logging.WARNING) == r.getMessage().endswith("NOT MET") for r in targets)


@pytest.mark.parametrize("quiet", [False, True])
def test_the_cli_prints_stages_on_stderr_unless_quiet(monkeypatch, tmp_path, quiet):
    """The command's handler turns each record into one ``[scenario] stage`` line (no model run)."""
    from typer.testing import CliRunner

    from gridcarbon import cli

    def fake_run_all(names, args, **kwargs):
        for name in names:
            for stage in STAGES:
                logging.getLogger("gridcarbon.job").info(stage, extra={"scenario": name})

    monkeypatch.setattr(cli, "_run_all", fake_run_all)
    args = ["run", "one", "two", "--out", str(tmp_path)] + (["--quiet"] if quiet else [])
    res = CliRunner().invoke(cli.app, args)
    assert res.exit_code == 0, res.output
    expected = [] if quiet else [f"[{name}] {stage}" for name in ("one", "two") for stage in STAGES]
    assert res.stderr.splitlines() == expected
    assert res.stdout == ""
    assert not logging.getLogger("gridcarbon").handlers  # the handler is gone after the command
