"""The allocation LP as a pyomo model: variables, rows and objective (``docs/architecture.md``, "Allocation").

Decisions, each for region r and year t after the base year up to the end year:

- ``E[r, s, t] >= 0`` emissions of emitting sector s (incl. ``indirect``), Mt CO2/yr;
- ``R[r, k, t] >= 0`` removal magnitudes of k in (forest_sink, beccs), Mt CO2/yr.

The base year is fixed to the baseline. Constraints: the yearly sums meet the gross and
removal pathways; ramp limits ``|E[t] - E[t-1]| <= ramp_s * max(E0, 1 % of the region's
base-year gross)`` for sectors present in the base year (absent ones stay at zero, see
:data:`gridcarbon.allocation.problem.RAMP_MIN_FRAC`); hard-to-abate floors
``E >= floor_s * E0``; capacities (removals, and emitting sectors when the table holds
them); optional sector trajectories and user bounds.

Objective (yuan, undiscounted: every year's cost counts the same; the model holds it in
million yuan, as its variables are in Mt):

- abatement ``E0 - E`` priced by convex piecewise-linear marginal abatement cost curves
  (:func:`gridcarbon.inputs.mac_curves.load_mac_curves`, segment widths as fractions of E0;
  growth above E0 is free but ramp-limited);
- removals priced per tonne by kind;
- ``share_penalty`` per tonne of deviation of a region's gross from its target share of the
  gross pathway (see :func:`gridcarbon.allocation.target_shares`);
- :data:`REMOVAL_SHARE_PENALTY` per tonne of deviation of a region's removals from its share
  of the base-year sink;
- :data:`SMOOTHING` per tonne of year-on-year change.

The elastic copy (:mod:`gridcarbon.allocation.diagnosis`) keeps the same rows, adds two
slack variables per row of a relaxable family, turns bounds into rows and minimises the
total slack instead.

The order in which variables and rows are created fixes the LP HiGHS sees, and with it the
solution among equally cheap ones: keep it when changing this module.
"""
from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from gridcarbon.allocation.power import add_power
from gridcarbon.allocation.problem import Problem
from gridcarbon.core.sectors import EMITTING, REMOVALS

#: ASSUMPTION: 1 yuan per t off a region's share of the base-year sink. A tie-breaker, far
#: below any abatement or removal cost: removals spread like today's sinks wherever costs and
#: capacities leave their split open (without it the LP may put them all in one region).
REMOVAL_SHARE_PENALTY = 1.0
#: ASSUMPTION: 1 yuan per t of year-on-year change, small against abatement costs. Costs
#: linear in each year's level leave the split of effort across years open; without a price
#: on change, solutions zig-zag within the ramps.
SMOOTHING = 1.0
#: ASSUMPTION: solution values below 1e-9 Mt (1 kg) are solver noise and read as zero
ZERO_TOL = 1e-9


class LP:
    """The pyomo model of a problem, its variables kept as (r, i, t) object arrays for fast lookup.

    Variables exist for the years after the base year (slot 0 holds None). Rows are added
    as ``lo <= expr <= hi``; in the elastic copy every row of a family gets two slack
    variables, and the objective becomes their sum (Mt).
    """

    def __init__(self, p: Problem, *, elastic: bool):
        self.p, self.elastic = p, elastic
        self.model = pyo.ConcreteModel()
        self.model.rows = pyo.ConstraintList()
        self.model.slack = pyo.VarList(domain=pyo.NonNegativeReals)
        self.slacks: list[tuple[str, int, object]] = []
        self.power = None   # the power block's variables (gridcarbon.allocation.power), if any
        self.E = self.variables("E", *((None, None) if elastic else p.bounds("E")), shape=p.e0.shape)
        self.R = self.variables("R", *((None, None) if elastic else p.bounds("R")), shape=p.r0.shape)

    def variables(self, name: str, lo: np.ndarray | None, hi: np.ndarray | None, *,
                  shape: tuple[int, int]) -> np.ndarray:
        """Non-negative variables for every (r, i, t > 0), bounded by ``lo``/``hi`` (Mt) when given."""
        cells = [(r, i, t) for r in range(shape[0]) for i in range(shape[1]) for t in range(1, len(self.p.years))]
        bounds = [(0.0, None) if lo is None else (float(lo[c]), None if np.isinf(hi[c]) else float(hi[c]))
                  for c in cells]
        var = pyo.Var(range(len(cells)), domain=pyo.NonNegativeReals, bounds=lambda _m, n: bounds[n])
        self.model.add_component(name, var)
        out = np.full((*shape, len(self.p.years)), None, dtype=object)
        for cell, data in zip(cells, var.values()):
            out[cell] = data
        return out

    def add(self, expr, lo: float | None, hi: float | None, *, family: str | None = None, year: int = 0) -> None:
        """Add a row; ``family`` None marks a row that always holds (never relaxed)."""
        if self.elastic and family is not None:
            up, down = self.model.slack.add(), self.model.slack.add()
            expr = expr + up - down
            self.slacks += [(family, year, up), (family, year, down)]
        self.model.rows.add((_float(lo), expr, _float(hi)))

    def values(self, var: np.ndarray, base: np.ndarray) -> np.ndarray:
        """Solution values (Mt) of ``self.E`` or ``self.R``, the base year filled from ``base``."""
        out = np.zeros(var.shape)
        out[:, :, 0] = base
        out[:, :, 1:] = np.array([v.value for v in var[:, :, 1:].ravel()]).reshape(out[:, :, 1:].shape)
        out[np.abs(out) < ZERO_TOL] = 0.0
        return out


def build(p: Problem, *, elastic: bool) -> LP:
    """The LP: abatement segments, pathway, ramp and trajectory rows, and the objective.

    In the elastic copy, bounds from floors, capacities and user bounds become rows and the
    objective is the total slack; otherwise the objective is the cost in million yuan.
    """
    lp = LP(p, elastic=elastic)
    cost = _abatement(lp)
    _pathway_rows(lp)
    smoothing = _ramp_rows(lp)
    _trajectory_rows(lp)
    cost += add_power(lp) if p.power is not None else 0.0
    if elastic:
        _limit_rows(lp)
        lp.model.objective = pyo.Objective(expr=_total(var for _, _, var in lp.slacks))
    else:
        lp.model.objective = pyo.Objective(expr=cost + _removal_cost(lp) + _share_cost(lp) + smoothing)
    return lp


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)


def _linear(terms) -> LinearExpression:
    """A linear expression from (coefficient, variable) pairs."""
    return LinearExpression([MonomialTermExpression(term) for term in terms])


def _with_minus(plus: list, minus: list) -> LinearExpression:
    """Sum of the ``plus`` variables minus the ``minus`` variables."""
    return LinearExpression([*plus, *(MonomialTermExpression((-1.0, v)) for v in minus)])


def _total(variables) -> LinearExpression:
    """Sum of variables."""
    return LinearExpression(list(variables))


def _cells(array: np.ndarray) -> list[tuple[int, int, int]]:
    """(r, i, t) of every variable cell (years after the base year)."""
    return [(r, i, t) for r in range(array.shape[0]) for i in range(array.shape[1]) for t in range(1, array.shape[2])]


def _abatement(lp: LP) -> LinearExpression:
    """Segment variables A (Mt) with E + sum(A) >= E0, and their cost (million yuan)."""
    p = lp.p
    curves = [p.mac[s] for s in EMITTING]
    cells = [c for c in _cells(lp.E) if p.e0[c[:2]] > 0]
    segments = [(c, j) for c in cells for j in range(len(curves[c[1]]))]
    widths = [(0.0, float(curves[c[1]][j][0] * p.e0[c[:2]])) for c, j in segments]
    lp.model.A = pyo.Var(range(len(segments)), domain=pyo.NonNegativeReals, bounds=lambda _m, n: widths[n])
    by_cell: dict[tuple, list] = {}
    for (cell, _), var in zip(segments, lp.model.A.values()):
        by_cell.setdefault(cell, []).append(var)
    for cell in cells:
        lp.add(LinearExpression([lp.E[cell], *by_cell[cell]]), p.e0[cell[:2]], None)
    return _linear((curves[c[1]][j][1], var) for (c, j), var in zip(segments, lp.model.A.values()))


def _removal_cost(lp: LP) -> LinearExpression:
    return _linear((lp.p.mac[REMOVALS[k]][0][1], lp.R[r, k, t]) for r, k, t in _cells(lp.R))


def _share_cost(lp: LP) -> LinearExpression | float:
    """Priced deviations from the target shares: of the gross pathway, and of the removals.

    Removals follow each region's share of the base-year sink (equal shares without one)
    wherever costs and capacities leave their split open; the small
    :data:`REMOVAL_SHARE_PENALTY` only breaks ties.
    """
    p = lp.p
    sink = p.r0.sum(axis=1)
    sink_share = sink / sink.sum() if sink.sum() > 0 else np.full(len(sink), 1 / len(sink))
    return (_deviation_cost(lp, "gross", lp.E, p.shares * p.gross[None, :], penalty=p.share_penalty)
            + _deviation_cost(lp, "removals", lp.R, sink_share[:, None] * p.removals[None, :],
                              penalty=REMOVAL_SHARE_PENALTY))


def _deviation_cost(lp: LP, name: str, var: np.ndarray, target: np.ndarray, *,
                    penalty: float) -> LinearExpression | float:
    """``penalty`` (yuan/t) x |sum over sectors of ``var`` - ``target``| per region and year (Mt)."""
    if penalty == 0:
        return 0.0
    cells = [(r, t) for r in range(var.shape[0]) for t in range(1, var.shape[2])]
    over = pyo.Var(range(len(cells)), domain=pyo.NonNegativeReals)
    under = pyo.Var(range(len(cells)), domain=pyo.NonNegativeReals)
    lp.model.add_component(f"{name}_over", over)
    lp.model.add_component(f"{name}_under", under)
    for (r, t), up, down in zip(cells, over.values(), under.values()):
        row = _with_minus([*var[r, :, t], down], [up])
        lp.add(row, target[r, t], target[r, t])
    return _linear((penalty, v) for v in [*over.values(), *under.values()])


def _pathway_rows(lp: LP) -> None:
    p = lp.p
    for t in range(1, len(p.years)):
        lp.add(_total(lp.E[:, :, t].ravel()), p.gross[t], p.gross[t], family="gross pathway", year=t)
        lp.add(_total(lp.R[:, :, t].ravel()), p.removals[t], p.removals[t], family="removal pathway", year=t)


def _ramp_rows(lp: LP) -> LinearExpression | float:
    """|E[t] - E[t-1]| <= ramp per cell; returns the smoothing cost of the changes.

    The change is split into ``rise - fall`` with both bounded by the ramp, so the ramp is a
    pair of variable bounds and the change can be priced (:data:`SMOOTHING`). The elastic
    copy keeps the ramps as relaxable rows instead.
    """
    p = lp.p
    cells = _cells(lp.E)
    if lp.elastic:
        for r, s, t in cells:
            change = _with_minus([lp.E[r, s, t]], [lp.E[r, s, t - 1]]) if t > 1 else lp.E[r, s, t]
            start = 0.0 if t > 1 else p.e0[r, s]
            lp.add(change, start - p.ramp[r, s], start + p.ramp[r, s], family="ramp limits", year=t)
        return 0.0
    limit = [(0.0, float(p.ramp[r, s])) for r, s, _ in cells]
    lp.model.rise = pyo.Var(range(len(cells)), domain=pyo.NonNegativeReals, bounds=lambda _m, n: limit[n])
    lp.model.fall = pyo.Var(range(len(cells)), domain=pyo.NonNegativeReals, bounds=lambda _m, n: limit[n])
    for (r, s, t), rise, fall in zip(cells, lp.model.rise.values(), lp.model.fall.values()):
        before = [lp.E[r, s, t - 1]] if t > 1 else []
        start = 0.0 if t > 1 else p.e0[r, s]
        lp.add(_with_minus([lp.E[r, s, t], fall], [*before, rise]), start, start, family="ramp limits", year=t)
    return _linear((SMOOTHING, v) for v in [*lp.model.rise.values(), *lp.model.fall.values()])


def _trajectory_rows(lp: LP) -> None:
    for sector, values in lp.p.trajectories.items():
        var, i = (lp.R, REMOVALS.index(sector)) if sector in REMOVALS else (lp.E, EMITTING.index(sector))
        for t in np.flatnonzero(~np.isnan(values)):
            lp.add(_total(var[:, i, t]), values[t], values[t], family="sector trajectories", year=int(t))


def _limit_rows(lp: LP) -> None:
    """Elastic copy only: each family's bounds as rows (so they can be relaxed)."""
    for limit in lp.p.limits:
        var = lp.E if limit.on == "E" else lp.R
        for cell in zip(*np.nonzero((limit.lo > 0) | np.isfinite(limit.hi))):
            if cell[2] > 0:
                hi = None if np.isinf(limit.hi[cell]) else limit.hi[cell]
                lp.add(var[cell], limit.lo[cell], hi, family=limit.family, year=int(cell[2]))
