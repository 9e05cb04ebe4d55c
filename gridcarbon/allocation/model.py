"""The allocation LP as sparse blocks: variables, rows and objective (``docs/architecture.md``, "Allocation").

Decisions, each for region r and year t after the base year up to the end year:

- ``E[r, s, t] >= 0`` emissions of emitting sector s (incl. ``indirect``), Mt CO2/yr;
- ``R[r, k, t] >= 0`` removal magnitudes of k in (forest_sink, beccs), Mt CO2/yr.

The base year is fixed to the baseline. Constraints: the yearly sums meet the gross and
removal pathways; with ``allocation.trade`` off, each region's gross meets its allowance
(its target share of the gross pathway) instead; ramp limits ``|E[t] - E[t-1]| <= ramp_s * max(E0, 1 % of the region's
base-year gross)`` for sectors present in the base year (absent ones stay at zero, see
:data:`gridcarbon.allocation.problem.RAMP_MIN_FRAC`); hard-to-abate floors
``E >= floor_s * E0``; capacities (removals, and emitting sectors when the table holds
them); the fleet's committed emissions (lower bounds) and capture capacity (the CCS steps of
a region's cost curves summed over sectors, plus the power block's capture plants, <= what
its plants in reach of storage can capture within the storage left, family ``capture
capacity``); optional sector trajectories and user bounds.

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
(``LP.abatement``) each cell's marginal abatement cost (:mod:`gridcarbon.allocation.lp`).

The elastic copy (:mod:`gridcarbon.allocation.diagnosis`) keeps the same rows, adds two
slack variables per row of a relaxable family, turns bounds into rows and minimises the
total slack instead.

Every block of variables and rows is built for all cells at once with numpy
(:class:`gridcarbon.allocation.matrix.Matrix`). The order of columns and the row order keys
fix the LP HiGHS sees, and with it the solution among equally cheap ones: keep them when
changing this module.
"""
from __future__ import annotations

import numpy as np

from gridcarbon.allocation.matrix import NONE, Matrix
from gridcarbon.allocation.power import add_power, captured_factor
from gridcarbon.allocation.problem import Problem
from gridcarbon.allocation.supply import ccs_steps
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
INF = np.inf


class LP:
    """The LP of a problem: its :class:`Matrix` and the column ids of E and R, shape (R, S|K, T).

    Columns exist for the years after the base year (slot 0 holds :data:`NONE`). ``caps``:
    (region or None for all, year index, row id) of the cap rows; ``abatement``: the (r, s, t)
    cells and row ids of the rows ``E + sum A >= BAU``.
    """

    def __init__(self, p: Problem, *, elastic: bool):
        self.p, self.elastic = p, elastic
        self.m = Matrix(elastic=elastic)
        self.caps: list[tuple[int | None, int, int]] = []
        self.abatement: tuple[np.ndarray, np.ndarray] = (np.zeros((0, 3), dtype=int), np.zeros(0, dtype=int))
        self.A = np.zeros((0, 0, 0, 0), dtype=int)   # abatement step columns (R, S, T, J)
        self.capture: tuple[np.ndarray, np.ndarray] | None = None   # (r, t) cells and rows of the capture limits
        self.power = None   # the power block's column ids (gridcarbon.allocation.power), if any
        self.E = self.variables(*((None, None) if elastic else p.bounds("E")), shape=p.e0.shape)
        self.R = self.variables(*((None, None) if elastic else p.bounds("R")), shape=p.r0.shape)

    def variables(self, lo: np.ndarray | None, hi: np.ndarray | None, *, shape: tuple[int, int]) -> np.ndarray:
        """Non-negative columns for every (r, i, t > 0), bounded by ``lo``/``hi`` (Mt) when given."""
        n_t = len(self.p.years)
        ids = np.full((*shape, n_t), NONE)
        if lo is None:
            ids[:, :, 1:] = self.m.columns(0.0, INF, shape=(*shape, n_t - 1))
        else:
            ids[:, :, 1:] = self.m.columns(lo[:, :, 1:], hi[:, :, 1:])
        return ids

    def values(self, ids: np.ndarray, x: np.ndarray, base: np.ndarray) -> np.ndarray:
        """Solution values (Mt) of ``self.E`` or ``self.R`` from the column values ``x``, base year from ``base``."""
        out = np.where(ids >= 0, x[np.maximum(ids, 0)], 0.0)
        out[:, :, 0] = base
        out[np.abs(out) < ZERO_TOL] = 0.0
        return out


def build(p: Problem, *, elastic: bool) -> LP:
    """The LP: abatement segments, pathway, ramp and trajectory rows, and the objective.

    In the elastic copy, bounds from floors, capacities and user bounds become rows and the
    objective is the total slack (:class:`Matrix` adds it); otherwise the objective is the
    cost in million yuan.
    """
    lp = LP(p, elastic=elastic)
    for step in (_abatement, _pathway_rows, _ramp_rows, _trajectory_rows):
        lp.m.section()
        step(lp)
    lp.m.section()
    if p.power is not None:
        add_power(lp)
    lp.m.section()
    if elastic:
        _limit_rows(lp)
    else:
        _removal_cost(lp)
        _removal_split_cost(lp)
    lp.m.section()
    if p.capture is not None:
        _capture_rows(lp)
    return lp


def _after_base(shape: tuple[int, ...]) -> np.ndarray:
    """Mask of the cells after the base year (last axis = years)."""
    mask = np.zeros(shape, dtype=bool)
    mask[..., 1:] = True
    return mask


def _abatement(lp: LP) -> None:
    """Segment variables A (Mt) with E + sum(A) >= BAU, and their discounted cost (million yuan)."""
    p = lp.p
    cells = _after_base(p.bau.shape) & (p.bau > 0)
    segments = cells[..., None] & (p.widths[:, :, None, :] > 0)          # (R, S, T, J)
    width = p.widths[:, :, None, :] * p.bau[..., None]
    a = np.full(segments.shape, NONE)
    a[segments] = lp.m.columns(0.0, width[segments])
    rows = lp.m.rows(p.bau[cells], INF, [(lp.E[cells], 1.0), *((a[..., j][cells], 1.0) for j in range(a.shape[3]))])
    lp.abatement, lp.A = (np.argwhere(cells), rows), a
    cost = p.costs[:, :, None, :] * p.discount[None, None, :, None]
    lp.m.objective(a[segments], cost[segments])


def _removal_cost(lp: LP) -> None:
    p = lp.p
    price = np.array([p.mac[k][0][1] for k in REMOVALS])
    lp.m.objective(lp.R[:, :, 1:], price[None, :, None] * p.discount[None, None, 1:])


def _removal_split_cost(lp: LP) -> None:
    """Priced deviations of each region's removals from its share of the base-year sink.

    Removals follow each region's share of the base-year sink (equal shares without one)
    wherever costs and capacities leave their split open; the small
    :data:`REMOVAL_SHARE_PENALTY` (yuan/t, discounted) only breaks ties.
    """
    p = lp.p
    sink = p.r0.sum(axis=1)
    share = sink / sink.sum() if sink.sum() > 0 else np.full(len(sink), 1 / len(sink))
    n_r, n_t = lp.R.shape[0], lp.R.shape[2]
    over, under = (lp.m.columns(0.0, INF, shape=(n_r, n_t - 1)) for _ in range(2))
    target = share[:, None] * p.removals[None, 1:]
    terms = [*((lp.R[:, k, 1:], 1.0) for k in range(lp.R.shape[1])), (under, 1.0), (over, -1.0)]
    lp.m.rows(target, target, terms)
    weight = np.broadcast_to(REMOVAL_SHARE_PENALTY * p.discount[None, 1:], over.shape)
    lp.m.objective(np.concatenate([over.ravel(), under.ravel()]), np.concatenate([weight.ravel()] * 2))


def _pathway_rows(lp: LP) -> None:
    """The caps: the gross pathway for the area (trade) or each region's allowance; the removal pathway.

    Year by year: the year's cap row(s), then its removal row.
    """
    p = lp.p
    n_r, n_t = len(p.regions), len(p.years)
    years = np.arange(1, n_t)
    if p.trade:
        per = lp.E[:, :, 1:].reshape(-1, n_t - 1)                    # (R*S, T-1)
        rows = lp.m.rows(p.gross[1:], p.gross[1:], [(col, 1.0) for col in per], order=2 * years,
                         family="gross pathway", year=years)
        lp.caps = [(None, int(t), int(row)) for t, row in zip(years, rows)]
    else:
        allowance = p.allowance[:, 1:]
        region, year = np.meshgrid(np.arange(n_r), years, indexing="ij")
        terms = [(lp.E[:, s, 1:], 1.0) for s in range(lp.E.shape[1])]
        rows = lp.m.rows(allowance, allowance, terms, order=(year * (n_r + 1) + region),
                         family="regional allowances", year=year)
        lp.caps = [(int(r), int(t), int(row)) for r, t, row in zip(region.ravel(), year.ravel(), rows)]
    per_r = lp.R[:, :, 1:].reshape(-1, n_t - 1)
    lp.m.rows(p.removals[1:], p.removals[1:], [(col, 1.0) for col in per_r],
              order=(2 * years + 1) if p.trade else (years * (n_r + 1) + n_r), family="removal pathway", year=years)


def _ramp_rows(lp: LP) -> None:
    """|E[t] - E[t-1]| <= ramp per cell, with the smoothing cost of the changes.

    The change is split into ``rise - fall`` with both bounded by the ramp, so the ramp is a
    pair of variable bounds and the change can be priced (:data:`SMOOTHING`). The elastic
    copy keeps the ramps as relaxable rows instead.
    """
    p = lp.p
    now, before = lp.E[:, :, 1:], lp.E[:, :, :-1]                   # before[..., 0] is the base year: NONE
    start = np.zeros(now.shape)
    start[:, :, 0] = p.e0
    year = np.broadcast_to(np.arange(1, now.shape[2] + 1), now.shape)
    if lp.elastic:
        ramp = p.ramp[:, :, None]
        lp.m.rows(start - ramp, start + ramp, [(now, 1.0), (before, -1.0)], family="ramp limits", year=year)
        return
    limit = np.broadcast_to(p.ramp[:, :, None], now.shape)
    rise, fall = lp.m.columns(0.0, limit), lp.m.columns(0.0, limit)
    lp.m.rows(start, start, [(now, 1.0), (fall, 1.0), (before, -1.0), (rise, -1.0)], family="ramp limits", year=year)
    weight = np.broadcast_to(SMOOTHING * p.discount[1:], now.shape)
    lp.m.objective(np.concatenate([rise.ravel(), fall.ravel()]), np.concatenate([weight.ravel()] * 2))


def _trajectory_rows(lp: LP) -> None:
    for sector, values in lp.p.trajectories.items():
        ids, i = (lp.R, REMOVALS.index(sector)) if sector in REMOVALS else (lp.E, EMITTING.index(sector))
        years = np.flatnonzero(~np.isnan(values))
        lp.m.rows(values[years], values[years], [(ids[r, i, years], 1.0) for r in range(ids.shape[0])],
                  family="sector trajectories", year=years)


def _capture_rows(lp: LP) -> None:
    """Captured tonnes per region and year (Mt: the CCS steps of the cost curves and, with a
    power system, the capture plants' ``G x captured factor``) <= the fleet's capture capacity,
    where it is finite and the region can capture at all."""
    terms, cap = _capture_terms(lp), lp.p.capture
    capturing = np.zeros(cap.shape, dtype=bool)
    for cols, _ in terms:
        capturing |= cols >= 0
    r, t = np.nonzero(np.isfinite(cap) & capturing & _after_base(cap.shape))
    rows = [(cols[r, t], np.broadcast_to(coef, cap.shape)[r, t]) for cols, coef in terms]
    lp.capture = (np.stack([r, t], axis=1),
                  lp.m.rows(np.full(len(t), -INF), cap[r, t], rows, family="capture capacity", year=t))


def _capture_terms(lp: LP) -> list[tuple[np.ndarray, np.ndarray | float]]:
    """(columns, coefficients), each (R, T), of the captured Mt: one term per CCS step of the
    cost curves and per capture technology of the power block (:data:`.power.CAPTURE`)."""
    ccs = np.where(ccs_steps(lp.A.shape[3])[None, :, None, :], lp.A, NONE)       # (R, S, T, J)
    terms = [(ccs[:, s, :, j], 1.0) for s in range(ccs.shape[1]) for j in range(ccs.shape[3])
             if (ccs[:, s, :, j] >= 0).any()]
    if lp.power is not None:
        factor = captured_factor(lp.power.system)
        terms += [(lp.power.G[:, g], factor[:, g]) for g in range(factor.shape[1]) if factor[:, g].any()]
    return terms


def captured(lp: LP, x: np.ndarray) -> np.ndarray:
    """Captured tonnes (Mt/yr, (R, T)) of a solution ``x``: the CCS steps of the cost curves and
    the power block's capture plants."""
    shape = (lp.A.shape[0], lp.A.shape[2])
    return sum((np.where(cols >= 0, x[np.maximum(cols, 0)], 0.0) * coef for cols, coef in _capture_terms(lp)),
               np.zeros(shape))


def _limit_rows(lp: LP) -> None:
    """Elastic copy only: each family's bounds as rows (so they can be relaxed)."""
    for limit in lp.p.limits:
        ids = lp.E if limit.on == "E" else lp.R
        cells = ((limit.lo > 0) | np.isfinite(limit.hi)) & _after_base(limit.lo.shape)
        lp.m.rows(limit.lo[cells], limit.hi[cells], [(ids[cells], 1.0)], family=limit.family,
                  year=np.argwhere(cells)[:, 2])
