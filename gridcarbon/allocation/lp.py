"""Solving the allocation LP with HiGHS, and re-solving it warm when only bounds change.

:func:`solve` builds the model (:func:`gridcarbon.allocation.model.build`) or re-bounds the
one a :class:`Resolver` keeps, solves it through pyomo's persistent HiGHS interface with
solver output suppressed, and reads the solution back (Mt) as a :class:`Solved`, with the
prices: HiGHS' row duals (``Highs.get_duals``) of the caps and of the abatement rows, divided
by each year's discount factor, are the carbon price and the marginal abatement costs in
yuan per t of that year.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

import numpy as np
from pyomo.common.gc_manager import PauseGC
from pyomo.contrib.appsi.base import TerminationCondition
from pyomo.contrib.appsi.solvers import Highs

from gridcarbon.allocation.model import LP, ZERO_TOL, build
from gridcarbon.allocation.power import PowerSolution, read_power
from gridcarbon.allocation.problem import Problem
from gridcarbon.core.units import T_PER_MT


@dataclass
class Solved:
    """What one solve returned: status, objective (yuan), E and R (Mt), elastic slack by family/year,
    and (not for the elastic copy) ``price`` (R, T) and ``mac`` (R, S, T), yuan per t, 0 in the base year."""

    status: str
    objective: float = float("nan")
    E: np.ndarray | None = None
    R: np.ndarray | None = None
    slack: dict[str, dict[int, float]] = field(default_factory=dict)
    price: np.ndarray | None = None
    mac: np.ndarray | None = None
    timings: dict[str, float] = field(default_factory=dict)
    size: dict[str, int] = field(default_factory=dict)
    solver: str = ""
    power: PowerSolution | None = None


class Resolver:
    """The last LP of a sequence of allocations, re-solved warm when only bounds change.

    Structure (pathway, shares, ramps, costs) is keyed by a hash; floors, capacities and
    user bounds become new variable bounds of the kept model. One per coupling loop, so a
    run's sequence of solves (and its result) does not depend on earlier runs.
    """

    def __init__(self):
        self.key, self.lp, self.solver, self.bounds = None, None, None, {}

    def model(self, p: Problem) -> tuple[LP, Highs]:
        """The LP for ``p`` and its solver: the kept one re-bounded, or a new one if the structure changed."""
        key = _structure_key(p)
        if key != self.key:
            self.lp, self.solver = _instance(p, elastic=False)
            self.key, self.bounds = key, {on: p.bounds(on) for on in ("E", "R")}
            return self.lp, self.solver
        changed = []
        for on, var in (("E", self.lp.E), ("R", self.lp.R)):
            lo, hi = p.bounds(on)
            old_lo, old_hi = self.bounds[on]
            for cell in zip(*np.nonzero((lo != old_lo) | (hi != old_hi))):
                if cell[2] > 0:
                    var[cell].setlb(float(lo[cell]))
                    var[cell].setub(None if np.isinf(hi[cell]) else float(hi[cell]))
                    changed.append(var[cell])
            self.bounds[on] = (lo, hi)
        self.lp.p = p
        self.solver.update_variables(changed)
        return self.lp, self.solver


def _structure_key(p: Problem) -> str:
    """Hash of everything in a problem except its bounds."""
    h = hashlib.sha256(repr((p.regions, p.years, p.mac, p.trade, sorted(p.trajectories))).encode())
    for array in (p.e0, p.r0, p.gross, p.removals, p.ramp, p.shares, p.bau, p.widths, p.costs, p.discount,
                  *p.trajectories.values()):
        h.update(np.ascontiguousarray(array, dtype=float).tobytes())
    return h.hexdigest()


def _instance(p: Problem, *, elastic: bool) -> tuple[LP, Highs]:
    with PauseGC():  # the model is one large acyclic burst of objects: cyclic GC passes only cost time
        lp = build(p, elastic=elastic)
        solver = _solver()
        solver.set_instance(lp.model)
    return lp, solver


def solve(p: Problem, *, elastic: bool, resolver: Resolver | None = None) -> Solved:
    """Build the LP (or its elastic copy, or re-bound the resolver's), solve it with HiGHS and read the solution."""
    start = time.perf_counter()
    lp, solver = resolver.model(p) if resolver is not None and not elastic else _instance(p, elastic=elastic)
    built = time.perf_counter()
    result = solver.solve(lp.model)
    timings = {"build_s": built - start, "solve_s": time.perf_counter() - built}
    size = {"variables": lp.model.nvariables(), "constraints": lp.model.nconstraints()}
    if result.termination_condition != TerminationCondition.optimal:
        return Solved(status=result.termination_condition.name, timings=timings, size=size)
    solver.load_vars()
    name = "HiGHS " + ".".join(map(str, solver.version()))
    slack: dict[str, dict[int, float]] = {}
    for family, year, var in lp.slacks:
        per_year = slack.setdefault(family, {})
        per_year[year] = per_year.get(year, 0.0) + var.value
    price, mac = (None, None) if elastic else _prices(lp, solver)
    return Solved(status="optimal", objective=result.best_feasible_objective * T_PER_MT,
                  E=lp.values(lp.E, p.e0), R=lp.values(lp.R, p.r0), slack=slack, timings=timings, size=size,
                  solver=name, price=price, mac=mac,
                  power=read_power(lp.power, ZERO_TOL) if lp.power is not None else None)


def _prices(lp: LP, solver: Highs) -> tuple[np.ndarray, np.ndarray]:
    """Carbon price per region and year (R, T) and marginal abatement cost (R, S, T), yuan/t of that year.

    A cap row's dual is the change of the (discounted) cost per Mt more allowed, so the price
    is minus the dual over the year's discount factor; an abatement row's dual is the cost of
    one more Mt of BAU to abate (0 where the cell emits above BAU).
    """
    p, discount = lp.p, lp.p.discount
    duals = solver.get_duals([row for *_, row in lp.caps] + list(lp.abatement_rows.values()))
    price = np.zeros((len(p.regions), len(p.years)))
    for r, t, row in lp.caps:
        price[slice(None) if r is None else r, t] = -duals[row] / discount[t]
    mac = np.zeros(p.bau.shape)
    for (r, s, t), row in lp.abatement_rows.items():
        mac[r, s, t] = duals[row] / discount[t]
    return _clean(price), _clean(mac)


def _clean(values: np.ndarray) -> np.ndarray:
    """Prices rounded to 1e-6 yuan/t: solver noise off, and -0.0 made 0."""
    return np.round(values, 6) + 0.0


def _solver() -> Highs:
    """HiGHS through pyomo's persistent interface, silent, no automatic change tracking.

    Changes reach the solver only when pushed explicitly (:class:`Resolver`).
    """
    solver = Highs(only_child_vars=True)
    solver.config.load_solution = False
    solver.config.stream_solver = False
    solver.highs_options = {"output_flag": False}
    for check in ("check_for_new_or_removed_constraints", "check_for_new_or_removed_vars",
                  "check_for_new_or_removed_params", "check_for_new_objective", "update_constraints",
                  "update_vars", "update_params", "update_named_expressions", "update_objective"):
        setattr(solver.update_config, check, False)
    return solver
