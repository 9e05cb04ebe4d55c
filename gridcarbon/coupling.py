"""Coupling: allocate, evolve, measure what the grid can hold, tighten, repeat (DESIGN section 6).

The solver's removal capacities start from the base-year landscape. After each evolution
the grid reports, per region and year, the forest sink its land could hold (urban growth
eats into afforestation room) and the storage it can inject; the capacities tighten to
the smaller of the two and the pathway is re-allocated, until the allocated totals and
the capacities change by less than the scenario's tolerance. A scenario whose targets the
land cannot hold fails with the allocation's diagnosis, naming the shortfall.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from .allocation import AllocationResult, allocate
from .evolution import EvolutionResult, evolve, fit_models, initial_capacities, inventory_covariates


@dataclass
class CoupledResult:
    allocation: AllocationResult
    evolution: EvolutionResult
    iterations: list[dict] = field(default_factory=list)

    def report(self) -> dict:
        return {"iterations": len(self.iterations), "converged": bool(self.iterations[-1]["converged"]),
                "history": self.iterations}


def _relative_change(new: pd.DataFrame, old: pd.DataFrame, key: list[str], col: str) -> float:
    merged = new.merge(old, on=key, suffixes=("", "_old"), how="outer").fillna(0.0)
    scale = max(float(merged[col].abs().max()), 1.0)
    return float((merged[col] - merged[f"{col}_old"]).abs().max() / scale)


def couple(scenario, inv, landscape, drivers, *, city_points, coast, snapshot_years,
           on_stage: Callable[[str], None] = lambda s: None) -> CoupledResult:
    """Run the allocate -> evolve -> capacities loop to agreement."""
    years = list(range(inv.year, scenario.end_year + 1))
    caps = initial_capacities(inv, landscape, years)
    on_stage("suitability models")
    covariates = inventory_covariates(inv, landscape, city_points=city_points, coast=coast)
    models = fit_models(inv, covariates, landscape, seed=scenario.seed)
    iterations, previous = [], None
    tol = scenario.coupling.tolerance
    evo = evolved_against = None  # the last evolution and the allocation it was run against
    for it in range(1, scenario.coupling.max_iterations + 1):
        on_stage(f"allocation (iteration {it})")
        t0 = time.perf_counter()
        alloc = allocate(scenario, inv.totals, drivers, capacities=caps)
        t1 = time.perf_counter()
        key = ["region", "sector", "year"]
        tot_change = (_relative_change(alloc.totals, previous, key, "allocated_t")
                      if previous is not None else float("nan"))
        record = {"iteration": it, "totals_change_rel": tot_change, "allocate_s": round(t1 - t0, 3)}
        if previous is not None and tot_change <= tol:
            # the tightened bounds did not move the totals: the last evolution and the
            # allocation it was run against still hold (their residuals stay exact)
            iterations.append(record | {"capacity_change_rel": 0.0, "evolve_s": 0.0, "converged": True,
                                        "max_residual_rel": evo.summary()["max_relative_residual"]})
            alloc = evolved_against
            break
        on_stage(f"evolution (iteration {it})")
        evo = evolve(inv, landscape, alloc.totals, drivers, spec=scenario.evolution, seed=scenario.seed,
                     end_year=scenario.end_year, snapshot_years=snapshot_years, models=models,
                     covariates=covariates)
        evolved_against = alloc
        cap_change = _relative_change(evo.capacities, caps, key, "capacity_t")
        converged = cap_change <= tol
        iterations.append(record | {"capacity_change_rel": cap_change, "evolve_s": round(time.perf_counter() - t1, 3),
                                    "max_residual_rel": evo.summary()["max_relative_residual"],
                                    "converged": converged})
        if converged:
            break
        previous = alloc.totals
        merged = caps.merge(evo.capacities, on=key, suffixes=("", "_grid"))
        merged["capacity_t"] = np.minimum(merged.capacity_t, merged.capacity_t_grid)
        caps = merged[key + ["capacity_t"]]
    return CoupledResult(alloc, evo, iterations)

