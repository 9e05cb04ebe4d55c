"""The allocation LP as a pyomo model: variables, rows and objective (``docs/architecture.md``, "Allocation").

Decisions, each for region r and year t after the base year up to the end year:

- ``E[r, s, t] >= 0`` emissions of emitting sector s (incl. ``indirect``), Mt CO2/yr;
- ``R[r, k, t] >= 0`` removal magnitudes of k in (forest_sink, beccs), Mt CO2/yr.

The base year is fixed to the baseline. Constraints: the yearly sums meet the gross and
removal pathways; with ``allocation.trade`` off, each region's gross meets its allowance
(its target share of the gross pathway) instead; ramp limits ``|E[t] - E[t-1]| <= ramp_s * max(E0, 1 % of the region's
base-year gross)`` for sectors present in the base year (absent ones stay at zero, see
:data:`gridcarbon.allocation.problem.RAMP_MIN_FRAC`); hard-to-abate floors
``E >= floor_s * E0``; capacities (removals, and emitting sectors when the table holds
them); optional sector trajectories and user bounds.

Objective (yuan, each year's costs discounted to the base year at ``allocation.discount_rate``;
the model holds it in million yuan, as its variables are in Mt):

- abatement ``BAU - E`` priced by convex piecewise-linear marginal abatement cost curves per
  region and sector (:mod:`gridcarbon.allocation.supply`: the shipped national curves made
  regional by distance to storage and scrap; widths as fractions of business-as-usual
  emissions; emitting above BAU is free but ramp-limited);
- removals priced per tonne by kind;
- :data:`REMOVAL_SHARE_PENALTY` per tonne of deviation of a region's removals from its share
  of the base-year sink;
- :data:`SMOOTHING` per tonne of year-on-year change.

Where emissions fall is chosen by cost alone: the principles set allowances, not emissions.
The duals of the cap rows (``LP.caps``) are the carbon price, those of the abatement rows
(``LP.abatement_rows``) each cell's marginal abatement cost (:mod:`gridcarbon.allocation.lp`).

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
        self.caps: list[tuple[int | None, int, object]] = []       # (region or None for all, t, row)
        self.abatement_rows: dict[tuple[int, int, int], object] = {}  # (r, s, t) -> E + sum A >= BAU
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

    def add(self, expr, lo: float | None, hi: float | None, *, family: str | None = None, year: int = 0):
        """Add a row and return it; ``family`` None marks a row that always holds (never relaxed)."""
        if self.elastic and family is not None:
            up, down = self.model.slack.add(), self.model.slack.add()
            expr = expr + up - down
            self.slacks += [(family, year, up), (family, year, down)]
        return self.model.rows.add((_float(lo), expr, _float(hi)))

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
        lp.model.objective = pyo.Objective(expr=cost + _removal_cost(lp) + _removal_split_cost(lp) + smoothing)
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
    """Segment variables A (Mt) with E + sum(A) >= BAU, and their discounted cost (million yuan)."""
    p = lp.p
    cells = [c for c in _cells(lp.E) if p.bau[c] > 0]
    segments = [(c, j) for c in cells for j in np.flatnonzero(p.widths[c[:2]] > 0)]
    widths = [(0.0, float(p.widths[c[:2]][j] * p.bau[c])) for c, j in segments]
    lp.model.A = pyo.Var(range(len(segments)), domain=pyo.NonNegativeReals, bounds=lambda _m, n: widths[n])
    by_cell: dict[tuple, list] = {}
    for (cell, _), var in zip(segments, lp.model.A.values()):
        by_cell.setdefault(cell, []).append(var)
    for cell in cells:
        lp.abatement_rows[cell] = lp.add(LinearExpression([lp.E[cell], *by_cell[cell]]), p.bau[cell], None)
    discount = p.discount
    return _linear((float(p.costs[c[:2]][j] * discount[c[2]]), var)
                   for (c, j), var in zip(segments, lp.model.A.values()))


def _removal_cost(lp: LP) -> LinearExpression:
    p, discount = lp.p, lp.p.discount
    return _linear((p.mac[REMOVALS[k]][0][1] * discount[t], lp.R[r, k, t]) for r, k, t in _cells(lp.R))


def _removal_split_cost(lp: LP) -> LinearExpression:
    """Priced deviations of each region's removals from its share of the base-year sink.

    Removals follow each region's share of the base-year sink (equal shares without one)
    wherever costs and capacities leave their split open; the small
    :data:`REMOVAL_SHARE_PENALTY` (yuan/t, discounted) only breaks ties.
    """
    p = lp.p
    sink = p.r0.sum(axis=1)
    share = sink / sink.sum() if sink.sum() > 0 else np.full(len(sink), 1 / len(sink))
    cells = [(r, t) for r in range(lp.R.shape[0]) for t in range(1, lp.R.shape[2])]
    over = pyo.Var(range(len(cells)), domain=pyo.NonNegativeReals)
    under = pyo.Var(range(len(cells)), domain=pyo.NonNegativeReals)
    lp.model.add_component("removals_over", over)
    lp.model.add_component("removals_under", under)
    for (r, t), up, down in zip(cells, over.values(), under.values()):
        target = share[r] * p.removals[t]
        lp.add(_with_minus([*lp.R[r, :, t], down], [up]), target, target)
    discount = p.discount
    weights = [REMOVAL_SHARE_PENALTY * discount[t] for _, t in cells]
    return _linear((w, v) for w, v in zip(weights * 2, [*over.values(), *under.values()]))


def _pathway_rows(lp: LP) -> None:
    """The caps: the gross pathway for the area (trade) or each region's allowance; the removal pathway."""
    p = lp.p
    allowance = p.allowance
    for t in range(1, len(p.years)):
        if p.trade:
            row = lp.add(_total(lp.E[:, :, t].ravel()), p.gross[t], p.gross[t], family="gross pathway", year=t)
            lp.caps.append((None, t, row))
        else:
            for r in range(len(p.regions)):
                row = lp.add(_total(lp.E[r, :, t]), allowance[r, t], allowance[r, t],
                             family="regional allowances", year=t)
                lp.caps.append((r, t, row))
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
    discount = p.discount
    weights = [SMOOTHING * discount[t] for _, _, t in cells]
    return _linear((w, v) for w, v in zip(weights * 2, [*lp.model.rise.values(), *lp.model.fall.values()]))


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
