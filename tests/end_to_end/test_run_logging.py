"""A run reports its stages and simulated years through the standard ``gridcarbon`` logger; the
CLI shows them live on a terminal, as plain ``[scenario] ...`` lines otherwise, and not at all
with ``--quiet`` (gridcarbon.core.progress)."""
from __future__ import annotations

import logging
import os
import pty
import re
import subprocess
import sys
import textwrap

import pytest

STAGES = ["inventory", "suitability models", "allocation (iteration 1)", "evolution and export", "writing"]


@pytest.mark.slow
def test_a_run_logs_its_stages_and_years_with_the_scenario(default_run, default_run_log):
    """The session's default run, its ``gridcarbon`` records kept while it ran (tests/conftest.py)."""
    result = default_run
    assert result.out_dir.name == "yrd-enhanced"
    every = [r for r in default_run_log if r.name.startswith("gridcarbon")]
    records = [r for r in every if r.name != "gridcarbon.output.targets"]
    messages = [r.getMessage() for r in records]
    assert all(stage in messages for stage in STAGES), messages
    assert [messages.index(stage) for stage in STAGES] == sorted(messages.index(stage) for stage in STAGES)
    assert messages[-1] == "writing"
    assert all(r.levelno == logging.INFO and r.scenario == "yrd-enhanced" for r in records)
    years = [r for r in records if hasattr(r, "step")]
    first, last = result.scenario.base_year, result.scenario.end_year
    assert [r.getMessage() for r in years] == [f"year {y}" for y in range(first, last + 1)]
    assert [r.step for r in years] == list(range(1, last - first + 2))
    assert {r.steps for r in years} == {last - first + 1}
    between = messages[messages.index("evolution and export") + 1: messages.index("writing")]
    assert between == [r.getMessage() for r in years]  # the years come between evolving and writing
    # the scenario's targets, one line each (a warning when not met) and a summary, after the years
    targets = [r for r in every if r.name == "gridcarbon.output.targets"]
    assert len(targets) == len(result.scenario.targets) + 1
    assert every.index(targets[0]) > every.index(years[-1])
    assert all((r.levelno == logging.WARNING) == r.getMessage().endswith("NOT MET") for r in targets)


#: a stand-in for the model: the records of a two-stage, five-year run (a little apart in time)
#: and a target message
FAKE_RUN = textwrap.dedent("""
    import logging, sys, time
    from gridcarbon import cli
    from gridcarbon.core.progress import stage_extra, year_extra

    def fake_run_all(names, args, **kwargs):
        log = logging.getLogger("gridcarbon.job")
        for name in names:
            log.info("inventory", extra=stage_extra(name))
            log.info("evolution and export", extra=stage_extra(name))
            for step, year in enumerate(range(2024, 2029), start=1):
                time.sleep(0.05)
                log.info("year %d", year, extra=year_extra(name, step, 5))
            log.warning("target peak_year: 2030 vs 2028 +- 1: NOT MET", extra={"scenario": name})
            log.info("writing", extra=stage_extra(name))

    cli._run_all = fake_run_all
    sys.argv = ["gridcarbon", "run", "one", "--out", sys.argv[1]] + sys.argv[2:]
    cli.app()
""")


@pytest.mark.parametrize("quiet", [False, True])
def test_the_cli_prints_plain_lines_without_a_terminal_unless_quiet(tmp_path, quiet):
    res = subprocess.run([sys.executable, "-c", FAKE_RUN, str(tmp_path)] + (["--quiet"] if quiet else []),
                         capture_output=True, text=True, check=True)
    lines = res.stderr.splitlines()
    if quiet:
        assert lines == []
        return
    assert lines[:2] == ["[one] inventory", "[one] evolution and export"]
    assert lines[2] == "[one] year 2024 (1/5)"
    assert all(re.fullmatch(rf"\[one\] year {2023 + k} \({k}/5, \d+ s left\)", line)
               for k, line in zip(range(2, 6), lines[3:7])), lines
    assert lines[7:] == ["[one] target peak_year: 2030 vs 2028 +- 1: NOT MET", "[one] writing"]
    assert res.stdout == ""


def test_the_cli_shows_a_live_display_on_a_terminal(tmp_path):
    """On a pseudo-terminal: redrawn lines (cursor control), a bar that reaches 5/5, time left."""
    primary, secondary = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([sys.executable, "-c", FAKE_RUN, str(tmp_path)], stdout=subprocess.PIPE,
                            stderr=secondary, env=env)
    os.close(secondary)
    screen = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        screen += chunk
    assert proc.wait(timeout=60) == 0
    os.close(primary)
    text = screen.decode("utf-8", "replace")
    assert "\x1b[" in text  # a live display redraws with control sequences; plain lines would not
    assert not re.search(r"\(\d/5(, \d+ s left)?\)", text)  # ... and not the plain lines
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    for stage in ("inventory", "evolution and export", "writing"):
        assert stage in plain
    assert "5/5" in plain and "left" in plain
    assert "year 2028" in plain
    assert "[one] target peak_year: 2030 vs 2028 +- 1: NOT MET" in plain  # a message, printed above
