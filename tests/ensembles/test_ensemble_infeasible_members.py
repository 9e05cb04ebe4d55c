"""An ensemble whose sampled assumptions leave the pathway infeasible for some members reports
them and bands the feasible ones (``gridcarbon.ensemble``, docs/architecture.md, "Ensembles")."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from gridcarbon import ensemble
from gridcarbon.ensembles.ranges import read_ranges


def test_infeasible_members_are_reported_and_left_out_of_the_bands(tmp_path):
    shipped = read_ranges()
    floors = shipped[shipped.name == "industry_floors"].assign(low=0.5, high=6.0)  # top stratum: steel floor 0.55-0.72 x 2024
    floors.to_csv(tmp_path / "floors.csv", index=False)
    folder = ensemble("yrd-enhanced", 4, out=tmp_path / "out", ranges=tmp_path / "floors.csv",
                      resolution=50000, years=[2060])
    members = pd.read_csv(folder / "members.csv")
    report = json.loads((folder / "ensemble.json").read_text())
    bad = members[members.status == "infeasible"]
    assert 1 <= len(bad) <= 3 and report["feasible_members"] == 4 - len(bad)
    assert sorted(int(k) for k in report["infeasible_members"]) == sorted(bad.member)
    assert bad.reason.str.contains("floors").all()  # the diagnosis names the floors
    assert members.industry_floors[members.status == "ok"].max() < bad.industry_floors.min()  # the high floors fail
    bands = pd.read_csv(folder / "totals_ensemble.csv")
    assert np.isfinite(bands.select_dtypes("number")).all().all()
