"""Solving the allocation LP with HiGHS, and re-solving it warm when only bounds change.

:func:`solve` builds the model (:func:`gridcarbon.allocation.model.build`) or re-bounds the
one a :class:`Resolver` keeps, passes it to HiGHS (``highspy``, output suppressed) and reads
the solution back (Mt) as a :class:`Solved`, with the prices: HiGHS' row duals of the caps
and of the abatement rows, divided by each year's discount factor, are the carbon price and
the marginal abatement costs in yuan per t of that year.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

import highspy
import numpy as np

from gridcarbon.allocation.model import LP, ZERO_TOL, build, captured
from gridcarbon.allocation.power import PowerSolution, read_power
from gridcarbon.allocation.problem import Problem
from gridcarbon.core.units import T_PER_MT

#: HiGHS model status -> the status a :class:`Solved` reports
STATUS = {highspy.HighsModelStatus.kOptimal: "optimal", highspy.HighsModelStatus.kInfeasible: "infeasible",
          highspy.HighsModelStatus.kUnboundedOrInfeasible: "infeasibleOrUnbounded",
          highspy.HighsModelStatus.kUnbounded: "unbounded"}


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
    captured: np.ndarray | None = None   # (R, T) Mt/yr captured: CCS steps of the cost curves + power capture


class Resolver:
    """The last LP of a sequence of allocations, re-solved warm when only bounds change.

    Structure (pathway, shares, ramps, costs, which region-years have a capture limit) is keyed
    by a hash; floors, committed emissions, capacities and user bounds become new column
    bounds, capture capacities new row bounds of the kept model (HiGHS keeps its basis). One per
    coupling loop, so a run's sequence of solves (and its result) does not depend on earlier runs.
    ``kept``: inputs the allocations of the loop share (the power system's, built once;
    :func:`gridcarbon.allocation.problem.prepare`).
    """

    def __init__(self):
        self.key, self.lp, self.solver, self.bounds = None, None, None, {}
        self.kept: dict = {}

    def model(self, p: Problem) -> tuple[LP, highspy.Highs]:
        """The LP for ``p`` and its solver: the kept one re-bounded, or a new one if the structure changed."""
        key = _structure_key(p)
        if key != self.key:
            self.lp, self.solver = _instance(p, elastic=False)
            self.key, self.bounds = key, {on: p.bounds(on) for on in ("E", "R")}
            return self.lp, self.solver
        for on, ids in (("E", self.lp.E), ("R", self.lp.R)):
            lo, hi = p.bounds(on)
            old_lo, old_hi = self.bounds[on]
            changed = ((lo != old_lo) | (hi != old_hi)) & (ids >= 0)
            if changed.any():
                self.solver.changeColsBounds(int(changed.sum()), ids[changed].astype(np.int32),
                                             lo[changed], hi[changed])
            self.bounds[on] = (lo, hi)
        if self.lp.capture is not None:
            (r, t), rows = self.lp.capture[0].T, self.lp.m.row_index(self.lp.capture[1])
            self.solver.changeRowsBounds(len(rows), rows.astype(np.int32), np.full(len(rows), -np.inf),
                                         p.capture[r, t])
        self.lp.p = p
        return self.lp, self.solver


def _structure_key(p: Problem) -> str:
    """Hash of everything in a problem except its bounds."""
    h = hashlib.sha256(repr((p.regions, p.years, p.mac, p.trade, sorted(p.trajectories))).encode())
    capture = np.isfinite(p.capture) if p.capture is not None else np.zeros(0)
    for array in (p.e0, p.r0, p.gross, p.removals, p.ramp, p.shares, p.bau, p.widths, p.costs, p.discount,
                  capture, *p.trajectories.values()):
        h.update(np.ascontiguousarray(array, dtype=float).tobytes())
    return h.hexdigest()


def _instance(p: Problem, *, elastic: bool) -> tuple[LP, highspy.Highs]:
    lp = build(p, elastic=elastic)
    return lp, lp.m.highs()


def solve(p: Problem, *, elastic: bool, resolver: Resolver | None = None) -> Solved:
    """Build the LP (or its elastic copy, or re-bound the resolver's), solve it with HiGHS and read the solution."""
    start = time.perf_counter()
    lp, h = resolver.model(p) if resolver is not None and not elastic else _instance(p, elastic=elastic)
    built = time.perf_counter()
    h.run()
    timings = {"build_s": built - start, "solve_s": time.perf_counter() - built}
    size = {"variables": h.getNumCol(), "constraints": h.getNumRow()}
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        return Solved(status=STATUS.get(status, h.modelStatusToString(status)), timings=timings, size=size)
    solution = h.getSolution()
    x = np.asarray(solution.col_value)
    name = "HiGHS " + h.version()
    if elastic:
        return Solved(status="optimal", objective=h.getInfo().objective_function_value * T_PER_MT,
                      slack=_slack(lp, x), timings=timings, size=size, solver=name)
    price, mac = _prices(lp, np.asarray(solution.row_dual))
    return Solved(status="optimal", objective=h.getInfo().objective_function_value * T_PER_MT,
                  E=lp.values(lp.E, x, p.e0), R=lp.values(lp.R, x, p.r0), timings=timings, size=size,
                  solver=name, price=price, mac=mac, captured=captured(lp, x),
                  power=read_power(lp.power, x, ZERO_TOL) if lp.power is not None else None)


def _slack(lp: LP, x: np.ndarray) -> dict[str, dict[int, float]]:
    """Elastic copy: total slack (Mt) per relaxed family and year index."""
    m = lp.m
    total = x[0:m.slack_offset:2] + x[1:m.slack_offset:2]
    slack: dict[str, dict[int, float]] = {}
    for row, value in zip(m.slack_rows, total):
        per_year = slack.setdefault(m.families[row], {})
        year = int(m.row_years[row])
        per_year[year] = per_year.get(year, 0.0) + float(value)
    return slack


def _prices(lp: LP, duals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Carbon price per region and year (R, T) and marginal abatement cost (R, S, T), yuan/t of that year.

    A cap row's dual is the change of the (discounted) cost per Mt more allowed, so the price
    is minus the dual over the year's discount factor; an abatement row's dual is the cost of
    one more Mt of BAU to abate (0 where the cell emits above BAU).
    """
    p, discount = lp.p, lp.p.discount
    price = np.zeros((len(p.regions), len(p.years)))
    for r, t, row in lp.caps:
        price[slice(None) if r is None else r, t] = -duals[lp.m.row_index(row)] / discount[t]
    mac = np.zeros(p.bau.shape)
    cells, rows = lp.abatement
    r, s, t = cells.T
    mac[r, s, t] = duals[lp.m.row_index(rows)] / discount[t]
    return _clean(price), _clean(mac)


def _clean(values: np.ndarray) -> np.ndarray:
    """Prices rounded to 1e-6 yuan/t: solver noise off, and -0.0 made 0."""
    return np.round(values, 6) + 0.0
