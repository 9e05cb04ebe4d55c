"""The result: signs and sums, exports, and the mass balance check."""
from __future__ import annotations

import json

import numpy as np
import pytest
from allocation.allocation_fixtures import YRD, variant, yearly

from gridcarbon.allocation import allocate, api
from gridcarbon.config import load_scenario
from gridcarbon.core.errors import MassBalanceError
from gridcarbon.core.sectors import EMITTING, REMOVALS, SECTORS


def test_enhanced_signs_and_sums(enhanced):
    totals = enhanced.totals
    assert set(totals["sector"]) == set(SECTORS) and set(totals["region"]) == set(YRD)
    assert len(totals) == len(YRD) * len(SECTORS) * 37
    assert (totals.loc[totals["sector"].isin(EMITTING), "allocated_t"] >= 0).all()
    assert (totals.loc[totals["sector"].isin(REMOVALS), "allocated_t"] <= 0).all()
    projection = enhanced.pathway[enhanced.pathway["kind"] == "projection"]
    assert np.allclose(yearly(enhanced), projection["gross_t"], rtol=1e-6, atol=0)
    assert np.allclose(-yearly(enhanced, removals=True), projection["removals_t"], rtol=1e-6, atol=0)
    assert enhanced.residual_rel <= 1e-6


def test_result_exports(enhanced):
    cube = enhanced.to_dataarray()
    assert cube.name == "allocated_t" and cube.attrs["units"] == "t CO2 / yr"
    assert cube.dims == ("region", "sector", "year")
    assert list(cube["sector"].values) == list(SECTORS) and list(cube["region"].values) == YRD
    assert float(cube.sel(region="Jiangsu", sector="forest_sink", year=2024)) < 0
    summary = enhanced.summary()
    json.dumps(summary)
    assert summary["status"] == "optimal" and summary["timings_s"]["build_s"] > 0
    assert summary["scenario_hash"] == load_scenario("yrd-enhanced").hash()
    assert summary["solver"].startswith("HiGHS 1.")
    assert set(enhanced.target_shares.columns) >= {"region", "year", "grandfather", "blend", "target"}


def test_mass_balance_is_checked(baseline, drivers, monkeypatch):
    real = api.solve

    def leaky(problem, **options):
        solved = real(problem, **options)
        solved.E[0, 0, 5] += 1.0  # 1 Mt appears from nowhere
        return solved
    monkeypatch.setattr(api, "solve", leaky)
    with pytest.raises(MassBalanceError, match="2029"):
        allocate(variant(), baseline, drivers)
