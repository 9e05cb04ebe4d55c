"""Facility life cycles (gridcarbon.evolution.lifecycle): age hazard, planned retirement, pipeline."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridcarbon.evolution.fleet import PIPELINE, PRE_RETIREMENT_YEARS, Fleet
from gridcarbon.evolution.lifecycle import (
    CEMENT_MEAN_LIFE,
    HAZARD_WINDOW,
    PIPELINE_MAX_DELAY,
    STEEL_LARGE_MT,
    STEEL_WINDOW,
    age_hazard,
    cancel_stale,
    retire_by_age_and_plan,
)
from gridcarbon.inputs.data import read_table
from gridcarbon.testing import plant, toy_facilities


def test_coal_hazard_is_the_trackers_retirement_rate():
    haz = age_hazard().loc["power"]
    sub = haz.loc["sub"]
    # older subcritical units retire more often: the hazard rises with every age band
    assert (np.diff(sub.to_numpy()) > 0).all() and 0 < sub.iloc[0] < 0.02 and sub.iloc[-1] > 0.1
    assert (haz.loc["sc"] == 0).all()  # no supercritical unit retired in the window
    # recount one cell by hand: subcritical units aged 30-39 retiring in the window
    c = read_table("facilities/coal_units.csv")
    c = c[c.status.isin(["operating", "retired", "mothballed"]) & c.start_year.notna()]
    c = c[~((c.status == "retired") & c.retired_year.isna())]
    c = c[c.combustion_technology.isin(["subcritical", "cfb", "unknown"])]
    retired = at_risk = 0
    for year in range(HAZARD_WINDOW[0], HAZARD_WINDOW[1] + 1):
        alive = c[(c.start_year < year) & (c.retired_year.isna() | (c.retired_year >= year))]
        band = alive[(year - alive.start_year >= 30) & (year - alive.start_year < 40)]
        at_risk += len(band)
        retired += int((band.retired_year == year).sum())
    assert sub.loc[30] == pytest.approx(retired / at_risk, rel=1e-12)


def test_steel_hazard_is_the_trackers_closure_rate_of_smaller_works():
    haz = age_hazard().loc["steel"]
    assert (haz.loc["large"] == 0).all()  # no works of 8 Mt/yr or more closed in the window
    small = haz.loc["small"]
    assert 0 < small.loc[0] < small.loc[10] < 0.05 and (small > 0).all()
    # recount one cell by hand: blocks below 8 Mt/yr aged 10-19 closing in the window
    s = read_table("facilities/steel_plants.csv")
    cap = s[["bof_steel_kt", "eaf_steel_kt", "dri_iron_kt"]].fillna(0).sum(axis=1)
    s = s.assign(cap=cap.where(cap > 0, s.bf_iron_kt.fillna(0)) / 1e3)
    s = s[s.status.isin(["operating", "operating pre-retirement", "retired", "mothballed"]) & s.start_year.notna()]
    s = s[~((s.status == "retired") & s.retired_year.isna()) & (s.cap < STEEL_LARGE_MT)]
    retired = at_risk = 0
    for year in range(STEEL_WINDOW[0], STEEL_WINDOW[1] + 1):
        alive = s[(s.start_year < year) & (s.retired_year.isna() | (s.retired_year >= year))]
        band = alive[(year - alive.start_year >= 10) & (year - alive.start_year < 20)]
        at_risk += len(band)
        retired += int((band.retired_year == year).sum())
    assert small.loc[10] == pytest.approx(retired / at_risk, rel=1e-12)


def test_cement_hazard_is_the_assumed_lifetime():
    h = age_hazard().loc[("cement", "all")]
    assert (np.diff(h.to_numpy()) > 0).all()  # kilns wear out: the hazard rises with age
    # yearly survival through the bands (the last band's hazard beyond it) gives back the mean life
    hazard = h.reindex(np.minimum(np.arange(300) // 10 * 10, 40)).to_numpy()
    mean_life = np.cumprod(1.0 - hazard).sum() + 0.5
    assert mean_life == pytest.approx(CEMENT_MEAN_LIFE, rel=0.05)


def test_large_steel_works_have_no_age_hazard_smaller_ones_do(grid):
    n = 400
    rows = [plant(f"S{i}", i % 200, sector="steel", capacity=cap, built=2000)
            for i, cap in enumerate([20.0] * (n // 2) + [2.0] * (n // 2))]  # 25 years old in 2025
    fleet = fleet_of(grid, rows, ["operating"] * n)
    retire_by_age_and_plan(fleet, 2025, np.random.default_rng(3))
    t = fleet.table
    assert (t.status[t.capacity >= STEEL_LARGE_MT] == "active").all()
    share = (t.status[t.capacity < STEEL_LARGE_MT] == "retired").mean()
    h = age_hazard().loc[("steel", "small", 20)]
    assert share > 0 and abs(share - h) < 4 * np.sqrt(h * (1 - h) / (n // 2))


def fleet_of(grid, rows, statuses, **columns) -> Fleet:
    frame = toy_facilities(grid, rows)
    frame["status"] = statuses
    for k, v in columns.items():
        frame[k] = v
    return Fleet.from_facilities(frame, grid, 2024)


def test_planned_and_pre_retirement_close_on_time(grid):
    fleet = fleet_of(grid, [plant("PLAN", 0), plant("PRE", 1, sector="steel"), plant("KEEP", 2)],
                     ["operating", "operating pre-retirement", "operating"],
                     planned_retirement_year=[2026, np.nan, np.nan], fuel=["gas", "", "gas"])
    for year in range(2025, 2025 + PRE_RETIREMENT_YEARS + 1):
        retire_by_age_and_plan(fleet, year, np.random.default_rng(year))
    ev = pd.DataFrame(fleet.events, columns=["year", "id", "event", "sector", "region", "from", "to"])
    assert list(zip(ev.year, ev.id)) == [(2026, "PLAN"), (2024 + PRE_RETIREMENT_YEARS, "PRE")]
    assert fleet.table.set_index("id").loc["KEEP", "status"] == "active"


def test_old_subcritical_units_retire_at_the_calibrated_rate(grid):
    n = 400
    rows = [plant(f"U{i}", i % 200, built=1980) for i in range(n)]  # 45 years old in 2025
    fleet = fleet_of(grid, rows, ["operating"] * n, fuel="coal", technology="subcritical")
    retire_by_age_and_plan(fleet, 2025, np.random.default_rng(1))
    share = (fleet.table.status == "retired").mean()
    h = age_hazard().loc[("power", "sub", 40)]
    assert abs(share - h) < 4 * np.sqrt(h * (1 - h) / n)  # within four standard errors
    sc = fleet_of(grid, rows, ["operating"] * n, fuel="coal", technology="ultra-supercritical")
    retire_by_age_and_plan(sc, 2025, np.random.default_rng(1))
    assert (sc.table.status == "active").all()


def test_pipeline_rows_come_due_and_stale_ones_are_cancelled(grid):
    fleet = fleet_of(grid, [plant("C", 0, emission=0.0), plant("A", 1, emission=0.0), plant("S", 2, emission=0.0),
                            plant("OP", 3)],
                     ["construction", "announced", "shelved", "operating"], start_year=[2026, np.nan, np.nan, 2000])
    t = fleet.table.set_index("id")
    assert t.loc["C", "planned_year"] == 2026 and t.loc["A", "planned_year"] == 2029  # base + 5
    assert np.isnan(t.loc["S", "planned_year"]) and (t.loc[["C", "A", "S"], "status"] == PIPELINE).all()
    assert t.loc["C", "potential_t"] == pytest.approx(100.0)  # capacity 100 x OP's 1 t per unit
    cancel_stale(fleet, 2025)
    assert fleet.table.set_index("id").status.to_dict() == {"C": PIPELINE, "A": PIPELINE, "S": "cancelled",
                                                           "OP": "active"}
    cancel_stale(fleet, 2026 + PIPELINE_MAX_DELAY)  # C may still wait this year
    assert fleet.table.set_index("id").loc["C", "status"] == PIPELINE
    cancel_stale(fleet, 2026 + PIPELINE_MAX_DELAY + 1)
    assert fleet.table.set_index("id").loc[["C", "A"], "status"].tolist() == ["cancelled", PIPELINE]
    cancel_stale(fleet, 2029 + PIPELINE_MAX_DELAY + 1)
    assert fleet.table.set_index("id").loc["A", "status"] == "cancelled"
    ev = pd.DataFrame(fleet.events, columns=["year", "id", "event", "sector", "region", "from", "to"])
    assert list(zip(ev.year, ev.id, ev.event)) == [(2025, "S", "cancelled"), (2032, "C", "cancelled"),
                                                   (2035, "A", "cancelled")]
