"""The problem in numbers: baseline and drivers checks, Mt, ramps, limits by family."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from allocation.allocation_fixtures import generous_capacities, variant

from gridcarbon.allocation import allocate
from gridcarbon.allocation.problem import RAMP_MIN_FRAC, prepare
from gridcarbon.core.errors import InputError, SchemaError
from gridcarbon.core.sectors import EMITTING, REMOVALS
from gridcarbon.inputs.mac_curves import load_mac_curves


def test_bad_baseline_and_drivers_are_input_errors(baseline, drivers):
    wrong_sign = baseline.copy()
    wrong_sign.loc[wrong_sign["sector"] == "forest_sink", "value_t"] *= -1
    with pytest.raises(SchemaError, match="<= 0 for removal sectors"):
        allocate(variant(), wrong_sign, drivers)
    with pytest.raises(SchemaError, match="unknown sector 'coal'"):
        allocate(variant(), pd.concat([baseline, pd.DataFrame([("Anhui", "coal", 1.0)], columns=baseline.columns)]),
                 drivers)
    with pytest.raises(InputError, match="drivers lack 4 region/year pair"):
        allocate(variant(), baseline, drivers[drivers["year"] != 2040])
    with pytest.raises(InputError, match=r"unknown \['Jiangxi'\], missing \['Anhui'\]"):
        allocate(variant(), baseline.replace({"region": {"Anhui": "Jiangxi"}}), drivers)
    with pytest.raises(SchemaError, match=r"missing column\(s\) value_t \(expected region, sector, value_t\)"):
        allocate(variant(), baseline.rename(columns={"value_t": "value"}), drivers)


def test_problem_is_in_mt_with_ramps_from_the_base_year(baseline, drivers):
    absent = baseline.copy()
    absent.loc[(absent["region"] == "Shanghai") & (absent["sector"] == "agriculture"), "value_t"] = 0.0
    scenario = variant()
    p = prepare(scenario, absent, drivers, None, load_mac_curves())
    assert p.years[0] == 2024 and p.gross[0] == pytest.approx(p.e0.sum())
    assert p.e0.sum() == pytest.approx(absent.loc[absent["sector"].isin(EMITTING), "value_t"].sum() / 1e6)
    assert p.r0.sum() == pytest.approx(30.0)  # magnitudes of the 30 Mt sink
    shanghai, agriculture, power = p.regions.index("Shanghai"), EMITTING.index("agriculture"), EMITTING.index("power")
    assert p.ramp[shanghai, agriculture] == 0.0  # absent in the base year: stays absent
    rate = scenario.allocation.ramp_for("power")
    assert p.ramp[shanghai, power] == pytest.approx(rate * max(p.e0[shanghai, power],
                                                               RAMP_MIN_FRAC * p.e0[shanghai].sum()))
    assert np.allclose(p.shares.sum(axis=0), 1.0)


def test_limits_by_family_skip_the_base_year_and_flip_removal_bounds(baseline, drivers):
    scenario = variant(allocation={"bounds": [{"region": "Jiangsu", "sector": "beccs", "years": [2040, 2060],
                                               "min": -50, "max": -10}]})
    p = prepare(scenario, baseline, drivers, generous_capacities(value_mt=40.0), load_mac_curves())
    assert {(lim.family, lim.on) for lim in p.limits} == {("floors", "E"), ("capacities", "E"), ("capacities", "R"),
                                                          ("user bounds", "E"), ("user bounds", "R")}
    lo, hi = p.bounds("R")
    jiangsu, beccs, y2040 = p.regions.index("Jiangsu"), REMOVALS.index("beccs"), p.years.index(2040)
    assert np.all(lo[:, :, 0] == 0) and np.all(np.isinf(p.bounds("E")[1][:, :, 0]))
    # allocated (negative) between -50 and -10 Mt: 10 to 50 Mt removed, within the 40 Mt capacity
    assert lo[jiangsu, beccs, y2040] == pytest.approx(10.0) and hi[jiangsu, beccs, y2040] == pytest.approx(40.0)
    assert lo[jiangsu, beccs, y2040 - 1] == 0.0
    user = next(lim for lim in p.limits if lim.family == "user bounds" and lim.on == "R")
    assert user.hi[jiangsu, beccs, y2040] == pytest.approx(50.0)

def test_bad_capacities_are_input_errors(baseline, drivers):
    negative = generous_capacities().assign(capacity_t=-1.0)
    with pytest.raises(SchemaError, match="capacity must be >= 0"):
        prepare(variant(), baseline, drivers, negative, load_mac_curves())
    unknown = generous_capacities().replace({"region": {"Anhui": "Mars"}})
    with pytest.raises(InputError, match="unknown region 'Mars'"):
        prepare(variant(), baseline, drivers, unknown, load_mac_curves())
