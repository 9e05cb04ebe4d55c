"""The fleet's bottom-up limits in the LP: committed emissions as lower bounds, capture capacity
as an upper bound on the CCS steps, both named when they bind, re-bounded warm, and
diagnosed with numbers when they cannot hold."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from allocation.allocation_fixtures import YRD, generous_capacities, variant

from gridcarbon.allocation import Resolver, allocate
from gridcarbon.config import load_scenario
from gridcarbon.core.errors import InfeasibleAllocationError, SchemaError

YEARS = range(2025, 2061)


def fleet(committed_mt: dict[tuple[str, str], float], capture_mt: dict[str, float]) -> pd.DataFrame:
    rows = [(r, "committed", s, y, v * 1e6) for (r, s), v in committed_mt.items() for y in YEARS]
    rows += [(r, "capture", "ccs", y, v * 1e6) for r, v in capture_mt.items() for y in YEARS]
    return pd.DataFrame(rows, columns=["region", "limit", "sector", "year", "value_t"])


def test_committed_emissions_hold_and_are_named_when_they_bind(baseline, drivers):
    free = allocate(variant(), baseline, drivers, generous_capacities())
    power = free.totals.query("region == 'Jiangsu' and sector == 'power' and year == 2050")["allocated_t"].iloc[0]
    floor_mt = 1.5 * power / 1e6 + 1.0           # above what the unconstrained optimum chose
    bound = allocate(variant(), baseline, drivers, generous_capacities(), fleet=fleet({("Jiangsu", "power"): floor_mt}, {}))
    got = bound.totals.query("region == 'Jiangsu' and sector == 'power' and year >= 2025")["allocated_t"]
    assert (got >= floor_mt * 1e6 * (1 - 1e-9)).all()
    named = [b for b in bound.binding if b["family"] == "committed emissions"]
    assert named and named[0]["sector"] == "power" and named[0]["regions"] == ["Jiangsu"] and named[0]["held_mt"] > 0
    assert bound.objective > free.objective


def test_capture_capacity_caps_the_ccs_steps_and_is_named(baseline, drivers):
    free = allocate(variant(), baseline, drivers, generous_capacities(), fleet=fleet({}, {r: 1e6 for r in YRD}))
    assert not [b for b in free.binding if b["family"] == "capture capacity"]
    # the whole area at 2 Mt/yr leaves the power block short of clean supply: one region only
    tight = allocate(variant(), baseline, drivers, generous_capacities(), fleet=fleet({}, {"Anhui": 2.0}))
    named = [b for b in tight.binding if b["family"] == "capture capacity"]
    assert named and named[0]["sector"] == "ccs" and named[0]["regions"] == ["Anhui"] and named[0]["held_mt"] > 0
    assert tight.objective > free.objective


def test_storage_bounds_the_power_blocks_capture(enhanced, baseline, drivers):
    """The power block's capture plants share the capture capacity (storage within reach) with
    the industrial CCS steps: halving Jiangsu's room halves at least its power capture."""
    jiangsu = enhanced.power.system.regions.index("Jiangsu")
    free = enhanced.power.captured[jiangsu].sum(axis=0)              # Mt/yr captured by power, per year
    assert free.max() > 10.0                                        # the unbounded block captures
    cap_mt = 0.5 * free.max()
    bound = allocate(load_scenario("yrd-enhanced"), baseline, drivers, generous_capacities(),
                     fleet=fleet({}, {"Jiangsu": cap_mt}))
    held = bound.power.captured[jiangsu].sum(axis=0)
    assert held.max() <= cap_mt * (1 + 1e-7) and held.max() > 0
    named = [b for b in bound.binding if b["family"] == "capture capacity"]
    assert named and named[0]["regions"] == ["Jiangsu"] and named[0]["held_mt"] > 0


def test_changed_limits_are_re_solved_warm_and_agree_with_a_cold_solve(baseline, drivers):
    resolver = Resolver()
    allocate(variant(), baseline, drivers, generous_capacities(), fleet=fleet({}, {r: 500.0 for r in YRD}),
             resolver=resolver)
    limits = fleet({("Anhui", "power"): 60.0}, {r: 3.0 if r == "Anhui" else 500.0 for r in YRD})
    warm = allocate(variant(), baseline, drivers, generous_capacities(), fleet=limits, resolver=resolver)
    cold = allocate(variant(), baseline, drivers, generous_capacities(), fleet=limits)
    assert warm.objective == pytest.approx(cold.objective, rel=1e-7)
    assert warm.timings["build_s"] < 0.5 * cold.timings["build_s"]


def test_committed_emissions_above_the_pathway_are_diagnosed_with_numbers(baseline, drivers):
    limits = fleet({(r, "power"): 200.0 for r in YRD}, {})      # 800 Mt committed, the 2060 pathway far below
    pattern = r"gross pathway [\d,.]+ Mt is below the [\d,.]+ Mt that floors, committed emissions"
    with pytest.raises(InfeasibleAllocationError, match=pattern) as info:
        allocate(variant(), baseline, drivers, generous_capacities(), fleet=limits)
    assert "2060" in str(info.value)


def test_a_negative_limit_is_a_schema_error_naming_the_record(baseline, drivers):
    limits = fleet({("Anhui", "power"): 1.0}, {})
    limits.loc[3, "value_t"] = -5.0
    with pytest.raises(SchemaError, match="fleet limits.*Anhui/committed/power/2028"):
        allocate(variant(), baseline, drivers, generous_capacities(), fleet=limits)
    limits.loc[3, "value_t"] = np.nan
    with pytest.raises(SchemaError, match="fleet limits"):
        allocate(variant(), baseline, drivers, generous_capacities(), fleet=limits)
