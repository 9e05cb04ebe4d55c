"""Nesting: a regional run that takes its pathway from a national allocation reproduces its totals."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from allocation.allocation_fixtures import (
    YRD,
    regional_baseline_from_calibration,
    variant,
)

from gridcarbon.allocation import allocate
from gridcarbon.config import load_scenario
from gridcarbon.core.errors import InputError, ScenarioError
from gridcarbon.core.sectors import EMITTING, REMOVALS
from gridcarbon.inputs.data import data_path
from gridcarbon.inputs.drivers import read_drivers

#: the national baseline of the test, about China's 2024 gross (Mt), split by CEADs 2019 shares
NATIONAL_MT = 10_100.0
NESTED = {"from": "china-enhanced", "peak": None, "milestones": [], "rates": [], "net_zero": None,
          "removals_start": None}


@pytest.fixture(scope="module")
def national():
    """china-enhanced allocated for a baseline of the 31 provinces, with its baseline and capacities."""
    provinces = pd.read_csv(data_path("china_provinces.csv"))
    weights = dict(zip(provinces["region"], provinces["ceads_2019_mt"].fillna(10.0)))
    baseline = regional_baseline_from_calibration(weights)
    baseline["value_t"] *= NATIONAL_MT / 2390.0
    caps = pd.DataFrame([(r, k, y, 1e9) for r in weights for k in REMOVALS for y in range(2024, 2061)],
                        columns=["region", "sector", "year", "capacity_t"])
    result = allocate(variant("china-enhanced"), baseline, read_drivers(data_path("china_drivers.csv")), caps)
    return result, baseline, caps


def _yearly(totals: pd.DataFrame, sectors: list[str]) -> pd.Series:
    part = totals[totals["region"].isin(YRD) & totals["sector"].isin(sectors)]
    return part.groupby("year")["allocated_t"].sum()


def test_a_nested_yrd_run_reproduces_the_national_allocation_of_the_yrd(national, drivers):
    parent, baseline, caps = national
    mine = baseline[baseline["region"].isin(YRD)].reset_index(drop=True)
    nested = allocate(variant(pathway=NESTED), mine, drivers, caps[caps["region"].isin(YRD)],
                      parent=parent.totals)
    for sectors in (EMITTING, REMOVALS):
        want, got = _yearly(parent.totals, sectors), _yearly(nested.totals, sectors)
        assert np.allclose(got, want, rtol=1e-9, atol=1.0)
    assert nested.provenance["pathway_from"] == "china-enhanced"
    assert _yearly(nested.totals, EMITTING).loc[2060] < 0.5 * _yearly(nested.totals, EMITTING).loc[2024]


def test_a_different_inventory_follows_the_national_path_in_relative_terms(national, drivers):
    parent, baseline, caps = national
    mine = baseline[baseline["region"].isin(YRD)].assign(value_t=lambda b: b["value_t"] * 1.2)
    nested = allocate(variant(pathway=NESTED), mine.reset_index(drop=True), drivers,
                      caps[caps["region"].isin(YRD)], parent=parent.totals)
    ratio = _yearly(nested.totals, EMITTING) / _yearly(parent.totals, EMITTING)
    assert np.allclose(ratio, 1.2, rtol=1e-6)


def test_nesting_without_the_parent_or_outside_it_is_an_input_error(national, baseline, drivers):
    parent, _, _ = national
    with pytest.raises(InputError, match="china-enhanced"):
        allocate(variant(pathway=NESTED), baseline, drivers)
    elsewhere = parent.totals[parent.totals["region"] != "Anhui"]
    with pytest.raises(InputError, match="no totals for Anhui"):
        allocate(variant(pathway=NESTED), baseline, drivers, parent=elsewhere)


def test_from_cannot_be_combined_with_an_own_pathway(tmp_path):
    path = tmp_path / "both.yaml"
    path.write_text("extends: yrd-enhanced\nname: both\npathway: {from: china-enhanced}\n")
    with pytest.raises(ScenarioError, match="leave out peak"):
        load_scenario(path)
