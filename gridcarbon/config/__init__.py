"""The config stage: scenario files as one typed, validated :class:`Scenario`.

Modules, each with one job:

- :mod:`~gridcarbon.config.sections`: the section models (pathway, principles, allocation,
  removals, inventory, evolution, coupling) and their defaults;
- :mod:`~gridcarbon.config.assumptions`: scale factors on named model constants;
- :mod:`~gridcarbon.config.schema`: the root :class:`Scenario` (source, hash, overrides);
- :mod:`~gridcarbon.config.loading`: YAML files, ``extends``, paths, load and validate;
- :mod:`~gridcarbon.config.merge`: how an overriding mapping combines with a base;
- :mod:`~gridcarbon.config.checks`: the cross-field checks;
- :mod:`~gridcarbon.config.problems`: one-line problem records and pydantic errors as such.

Callers import from here: ``from gridcarbon.config import Scenario, load_scenario``.
"""
from gridcarbon.config.assumptions import Assumptions
from gridcarbon.config.evolution import EvolutionSpec
from gridcarbon.config.loading import list_scenarios, load_scenario, validate_scenario
from gridcarbon.config.merge import deep_merge
from gridcarbon.config.schema import BUILTIN_REGIONS, Scenario
from gridcarbon.config.sections import (
    UNIT_T,
    AllocationSpec,
    Bound,
    CouplingSpec,
    InventorySpec,
    Milestone,
    NetZero,
    PathwaySpec,
    Peak,
    Principles,
    Rate,
    RemovalsSpec,
)

__all__ = [
    "BUILTIN_REGIONS", "UNIT_T", "AllocationSpec", "Assumptions", "Bound", "CouplingSpec", "EvolutionSpec", "InventorySpec",
    "Milestone", "NetZero", "PathwaySpec", "Peak", "Principles", "Rate", "RemovalsSpec", "Scenario",
    "deep_merge", "list_scenarios", "load_scenario", "validate_scenario",
]
