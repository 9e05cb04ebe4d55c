"""``gridcarbon sensitivity`` on a small configuration: 2 assumptions, 2 Morris trajectories
(6 runs in 2 processes), the YRD at 50 km."""
from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd

CLI = [sys.executable, "-m", "gridcarbon.cli"]
ENV = {**os.environ, "MPLBACKEND": "Agg"}
NAMES = ["forest_uptake", "capture_rate"]


def cli(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *map(str, args)], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=1800,
                          check=False)


def test_sensitivity_ranks_assumptions_per_output(tmp_path):
    picks = [a for name in NAMES for a in ("--assumptions", name)]
    res = cli("sensitivity", "--out", tmp_path, "--resolution", 50000, "--trajectories", 2, "--jobs", 2, *picks,
              "-q")
    assert res.returncode == 0, res.stderr
    folder = tmp_path / "yrd-enhanced-sensitivity"
    assert res.stdout.split() == [str(folder)]
    table = pd.read_csv(folder / "sensitivity.csv")
    outputs = set(table.output)
    assert {"gross_Jiangsu_t", "forest_sink_t", "storage_used_t", "top_cells_share",
            "carbon_price_yuan_per_t", "new_cells_share_power"} <= outputs
    for _, one in table.groupby("output"):
        assert sorted(one.assumption) == sorted(NAMES) and sorted(one["rank"]) == [1, 2]
    assert (table.mu_star >= 0).all() and (table.mu_star >= table.mu.abs() - 1e-9).all()
    sink = table[table.output == "forest_sink_t"].set_index("assumption")
    assert sink.loc["forest_uptake", "mu_star"] > 0  # faster-growing stands change the sink the land holds
    assert len(pd.read_csv(folder / "runs.csv")) == 2 * (len(NAMES) + 1)
    assert (folder / "sensitivity.png").read_bytes()[:4] == b"\x89PNG"


def test_unknown_assumption_is_one_line_exit_2(tmp_path):
    res = cli("sensitivity", "--out", tmp_path, "--assumptions", "no_such_rate", "-q")
    assert res.returncode == 2
    assert "no_such_rate" in res.stderr and len(res.stderr.strip().splitlines()) == 1
