"""Bottom-up spatial evolution of the base-year grid, year by year (docs/architecture.md, "Evolution").

Moves *where* emissions sit for reasons a planner recognises (the rule modules
:mod:`.points`, :mod:`.lines`, :mod:`.areas`, :mod:`.siting`) and then imposes the
allocated region x sector totals exactly, every year (:mod:`.years`). The land part
(:mod:`.land`) also tells the coupling loop what the grid can hold. Everything a year reads
that the allocation does not change is one :class:`EvolutionContext`.
"""
from gridcarbon.evolution.commitments import FleetLimits, fleet_limits
from gridcarbon.evolution.context import EvolutionContext
from gridcarbon.evolution.land import (
           capacity_table,
           initial_capacities,
           land_capacities,
)
from gridcarbon.evolution.years import (
           EvolutionResult,
           evolve,
           facility_snapshot,
           impose_totals,
)

__all__ = ["EvolutionContext", "EvolutionResult", "FleetLimits", "capacity_table", "evolve", "facility_snapshot", "fleet_limits",
           "impose_totals", "initial_capacities", "land_capacities"]
