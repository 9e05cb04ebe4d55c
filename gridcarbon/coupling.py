"""Coupling: allocate, evolve the land, measure what it can hold, tighten, repeat.

See docs/architecture.md, "Coupling". The solver's removal capacities start from the
base-year landscape. After each allocation the land evolves under it (urban growth eats into
afforestation room, afforestation meets the allocated sink) and reports, per region and
year, the forest sink it could hold and the storage it can inject; the capacities tighten to
the smaller of the two. The fleet's limits (:mod:`gridcarbon.evolution.commitments`:
committed emissions of plants too young to retire, the fleet's fastest retirement and build
rates, which count the plants the last allocation had it build, capture capacity of plants
within reach of storage, less the storage the allocated BECCS takes) are recomputed beside
them (retirement floors only rise), and the
pathway is re-allocated, until capacities and limits (or the re-allocated totals) move by
less than the scenario's tolerance. The full
evolution (points, lines, areas; :func:`gridcarbon.evolution.evolve`) then runs once against
the agreed allocation, with the same :class:`~gridcarbon.evolution.EvolutionContext`. With
``evolution.transfer`` on, the agreed totals first plan the plants that move between regions
(:func:`gridcarbon.evolution.transfer.plan_transfers`) and the allocation takes the moved
tonnes from their origins to their destinations
(:func:`gridcarbon.allocation.transfers.apply_transfers`); the land, and so the removal
capacities, do not depend on them. A
scenario whose targets the land cannot hold fails with the allocation's diagnosis, naming
the shortfall.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gridcarbon.allocation import AllocationResult, Resolver, allocate
from gridcarbon.allocation.transfers import PLAN_COLUMNS, apply_transfers
from gridcarbon.config import Scenario
from gridcarbon.core.progress import stage_extra
from gridcarbon.evolution import (
    EvolutionContext,
    FleetLimits,
    initial_capacities,
    land_capacities,
)
from gridcarbon.evolution.transfer import plan_transfers

log = logging.getLogger(__name__)


@dataclass
class Agreement:
    """The allocation the land can hold, and how the loop got there; ``transfers``: the plants
    that move between regions (:data:`~gridcarbon.allocation.transfers.PLAN_COLUMNS`) and
    ``moved``: the t CO2/yr each carries per year (already in ``allocation``)."""

    allocation: AllocationResult
    iterations: list[dict] = field(default_factory=list)
    transfers: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PLAN_COLUMNS))
    moved: pd.DataFrame = field(default_factory=pd.DataFrame)

    def report(self) -> dict:
        return {"iterations": len(self.iterations), "converged": bool(self.iterations[-1]["converged"]),
                "history": self.iterations}


def _relative_change(new: pd.DataFrame, old: pd.DataFrame, key: list[str], col: str) -> float:
    """Largest change of ``col`` in any sector, relative to that sector's largest value (at
    least 1 t): a 2 % cut of a forest sink counts even beside storage capacities 100 times larger."""
    merged = new.merge(old, on=key, suffixes=("", "_old"), how="outer").fillna(0.0)
    change = (merged[col] - merged[f"{col}_old"]).abs().groupby(merged.sector).max()
    scale = merged[col].abs().groupby(merged.sector).max().clip(lower=1.0)
    return float((change / scale).max())


def _tighten(new: pd.DataFrame, old: pd.DataFrame) -> pd.DataFrame:
    """The fleet's new limits, with each ``retirement`` floor at least its previous value: the
    plants an earlier allocation had the fleet build keep standing, so the floors only rise
    (as the land's capacities only fall) and the loop settles."""
    key = ["region", "limit", "sector", "year"]
    before = new[key].merge(old, on=key, how="left")["value_t"].fillna(0.0).to_numpy()
    floors = (new["limit"] == "retirement").to_numpy()
    return new.assign(value_t=np.where(floors, np.maximum(new["value_t"].to_numpy(), before), new["value_t"]))


def agree(scenario: Scenario, ctx: EvolutionContext, drivers: pd.DataFrame,
          parent: pd.DataFrame | None = None) -> Agreement:
    """Run the allocate -> land -> capacities loop to agreement.

    ``ctx`` is the run's evolution context (its inventory's totals are the allocation's
    baseline); ``drivers`` has region, year, population, gdp_yuan; ``parent`` the totals of
    the allocation ``pathway.from`` names (nesting), if any.
    """
    caps = initial_capacities(ctx.inv, ctx.landscape, ctx.years, ctx.forest)
    limits_under = FleetLimits(ctx)
    limits = limits_under(None)
    iterations, previous, resolver = [], None, Resolver()
    tol = scenario.coupling.tolerance
    key = ["region", "sector", "year"]
    for it in range(1, scenario.coupling.max_iterations + 1):
        log.info("allocation (iteration %d)", it, extra=stage_extra(scenario.name))
        t0 = time.perf_counter()
        alloc = allocate(scenario, ctx.inv.totals, drivers, capacities=caps, resolver=resolver, parent=parent,
                         fleet=limits)
        t1 = time.perf_counter()
        tot_change = (_relative_change(alloc.totals, previous.totals, key, "allocated_t")
                      if previous is not None else float("nan"))
        record = {"iteration": it, "totals_change_rel": tot_change, "allocate_s": round(t1 - t0, 3),
                  "binding": alloc.fleet_binding}
        if previous is not None and tot_change <= tol:
            # the tightened bounds did not move the totals: keep the allocation the land was
            # last evolved against
            iterations.append(record | {"capacity_change_rel": 0.0, "limit_change_rel": 0.0, "land_s": 0.0,
                                        "converged": True})
            alloc = previous
            break
        grid_caps = land_capacities(ctx, alloc.totals)
        merged = caps.merge(grid_caps, on=key, suffixes=("", "_grid"))
        merged["capacity_t"] = np.minimum(merged.capacity_t, merged.capacity_t_grid)
        tightened = merged[key + ["capacity_t"]]
        cap_change = _relative_change(tightened, caps, key, "capacity_t")
        new_limits = _tighten(limits_under(alloc.totals), limits)
        limit_change = _relative_change(new_limits, limits, ["region", "limit", "sector", "year"], "value_t")
        converged = max(cap_change, limit_change) <= tol
        iterations.append(record | {"capacity_change_rel": cap_change, "limit_change_rel": limit_change,
                                    "land_s": round(time.perf_counter() - t1, 3), "converged": converged})
        if converged:  # the land and the fleet hold what was allocated
            break
        previous, caps, limits = alloc, tightened, new_limits
    if not scenario.evolution.transfer:
        return Agreement(alloc, iterations)
    plan = plan_transfers(ctx, alloc.totals)
    alloc, moved = apply_transfers(alloc, plan)
    log.info("industrial transfer: %d plants", len(plan), extra=stage_extra(scenario.name))
    return Agreement(alloc, iterations, plan, moved)
