"""Solving with HiGHS: silent, and warm re-solves that agree with cold ones."""
from __future__ import annotations

import pytest
from allocation.allocation_fixtures import generous_capacities, variant

from gridcarbon.allocation import Resolver, allocate, allocate_scenario
from gridcarbon.core.sectors import REMOVALS


def test_allocation_prints_no_solver_output(baseline, capfd):
    allocate_scenario("yrd-policy", baseline, capacities=generous_capacities())
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


def test_resolver_rebounds_the_kept_lp_and_agrees_with_a_cold_solve(baseline, drivers):
    resolver = Resolver()
    loose = allocate(variant(), baseline, drivers, generous_capacities(value_mt=60.0), resolver=resolver)
    tight_caps = generous_capacities(value_mt=40.0)
    warm = allocate(variant(), baseline, drivers, tight_caps, resolver=resolver)
    cold = allocate(variant(), baseline, drivers, tight_caps)
    assert warm.objective == pytest.approx(cold.objective, rel=1e-7)
    assert warm.objective > loose.objective  # tighter removal capacities cost more
    removals = -warm.to_dataarray().sel(sector=REMOVALS, year=slice(2025, 2060)) / 1e6
    assert float(removals.max()) <= 40 + 1e-6
    assert warm.timings["build_s"] < 0.5 * cold.timings["build_s"]  # re-bounded, not rebuilt
