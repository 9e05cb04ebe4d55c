"""Entry points of the allocation: prepare the problem, diagnose, solve, check the mass balance.

``docs/architecture.md``, "Allocation" describes the stage; the LP itself is in
:mod:`gridcarbon.allocation.model` (formulation) and :mod:`gridcarbon.allocation.lp` (solving).
"""
from __future__ import annotations

import os

import pandas as pd

from gridcarbon.allocation.diagnosis import diagnose, elastic_conflicts
from gridcarbon.allocation.lp import Resolver, solve
from gridcarbon.allocation.problem import prepare
from gridcarbon.allocation.result import AllocationResult, build_result
from gridcarbon.config import Scenario, load_scenario
from gridcarbon.core.errors import InfeasibleAllocationError
from gridcarbon.inputs.drivers import drivers_path, read_drivers
from gridcarbon.inputs.mac_curves import load_mac_curves


def allocate_scenario(name_or_path: str | os.PathLike | Scenario, baseline: pd.DataFrame,
                      drivers: pd.DataFrame | None = None,
                      capacities: pd.DataFrame | None = None) -> AllocationResult:
    """Load a scenario (and its drivers file unless given) and :func:`allocate`."""
    scenario = name_or_path if isinstance(name_or_path, Scenario) else load_scenario(name_or_path)
    if drivers is None:
        drivers = read_drivers(drivers_path(scenario))
    return allocate(scenario, baseline, drivers, capacities)


def allocate(scenario: Scenario, baseline: pd.DataFrame, drivers: pd.DataFrame,
             capacities: pd.DataFrame | None = None, *,
             mac_curves: dict[str, list[tuple[float, float]]] | None = None,
             resolver: Resolver | None = None, parent: pd.DataFrame | None = None,
             fleet: pd.DataFrame | None = None) -> AllocationResult:
    """Allocate the scenario's pathway to region x sector x year totals.

    ``baseline``: ``region, sector, value_t`` base-year t CO2/yr for every region (missing
    sectors count as 0; removal sectors <= 0). ``drivers``: ``region, year, population,
    gdp_yuan`` covering base..end. ``capacities``: optional ``region, sector, year,
    capacity_t`` upper limits (t CO2/yr, magnitudes for removals); scenario
    ``removals.capacity`` overrides it; with neither, removals are unbounded.
    ``mac_curves``: as :func:`gridcarbon.inputs.mac_curves.load_mac_curves` returns them
    (default: the shipped curves).
    Raises :class:`InfeasibleAllocationError` naming the conflicting constraints. A
    :class:`Resolver` carried across calls (the coupling loop) re-solves the previous LP
    with the new bounds when nothing else changed, and keeps the power system's inputs.
    ``parent``: the ``region, sector, year, allocated_t`` totals of the allocation the
    scenario's ``pathway.from`` names (nesting).
    ``fleet``: the fleet's bottom-up limits, ``region, limit, sector, year, value_t`` (t CO2/yr):
    ``committed`` emissions and ``retirement`` rates (lower bounds per region x sector),
    ``build`` rates (upper bounds per region x sector) and ``capture`` capacity (upper bound on
    captured tonnes per region, sector ``ccs``), as
    :func:`gridcarbon.evolution.commitments.fleet_limits` makes them.
    """
    problem = prepare(scenario, baseline, drivers, capacities, mac_curves or load_mac_curves(), parent=parent,
                      fleet=fleet, kept=resolver.kept if resolver is not None else None)
    conflicts = diagnose(problem)
    if conflicts:
        raise InfeasibleAllocationError(conflicts, source=scenario.source)
    solved = solve(problem, elastic=False, resolver=resolver)
    if solved.status != "optimal":
        raise InfeasibleAllocationError(elastic_conflicts(problem), source=scenario.source)
    provenance = {"scenario": scenario.name, "scenario_hash": scenario.hash(), "solver": solved.solver,
                  **({"pathway_from": scenario.pathway.parent} if scenario.pathway.parent else {})}
    return build_result(problem, solved, provenance=provenance)
