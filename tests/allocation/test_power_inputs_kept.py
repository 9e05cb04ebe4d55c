"""The power system's inputs are built once per coupling loop: a Resolver keeps them across
allocations whose regions, years, baseline and drivers agree, and the result is the one a cold
allocation gives."""
from __future__ import annotations

import pytest
from allocation.allocation_fixtures import generous_capacities

from gridcarbon.allocation import Resolver, allocate, problem
from gridcarbon.config import load_scenario


def test_a_resolver_builds_the_power_inputs_once_and_agrees_with_a_cold_allocation(baseline, drivers, monkeypatch):
    built = []
    original = problem.power_system
    monkeypatch.setattr(problem, "power_system", lambda *a, **k: built.append(1) or original(*a, **k))
    scenario, resolver = load_scenario("yrd-enhanced"), Resolver()
    first = allocate(scenario, baseline, drivers, generous_capacities(500.0), resolver=resolver)
    again = allocate(scenario, baseline, drivers, generous_capacities(400.0), resolver=resolver)
    assert len(built) == 1 and first.power is not None
    cold = allocate(scenario, baseline, drivers, generous_capacities(400.0))
    assert len(built) == 2                                   # no resolver: built afresh
    assert again.objective == pytest.approx(cold.objective, rel=1e-7)
    other = drivers.assign(gdp_yuan=drivers["gdp_yuan"] * 1.1)   # other inputs: built again
    allocate(scenario, baseline, other, generous_capacities(400.0), resolver=resolver)
    assert len(built) == 3
