"""Facility life cycles (gridcarbon.evolution.lifecycle): age hazard, planned retirement, pipeline."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridcarbon.evolution.fleet import PIPELINE, PRE_RETIREMENT_YEARS, Fleet
from gridcarbon.evolution.lifecycle import (
    HAZARD_WINDOW,
    PIPELINE_MAX_DELAY,
    cancel_stale,
    coal_hazard,
    retire_by_age_and_plan,
)
from gridcarbon.inputs.data import read_table
from gridcarbon.testing import plant, toy_facilities


def test_coal_hazard_is_the_trackers_retirement_rate():
    haz = coal_hazard().hazard
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
    h = coal_hazard().hazard.loc[("sub", 40)]
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
