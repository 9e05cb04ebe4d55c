"""Why an allocation is infeasible, in numbers (``docs/architecture.md``, "Allocation").

Before solving, :func:`diagnose` checks the obvious conflicts (base year, cells, removals,
floors, ramps, trajectories) and explains each in a sentence with years and Mt. If HiGHS
still finds the LP infeasible, :func:`elastic_conflicts` solves an elastic copy (slack per
constraint family) and names the families that must give way.
"""
from __future__ import annotations

import numpy as np

from gridcarbon.allocation.lp import solve
from gridcarbon.allocation.problem import Problem
from gridcarbon.allocation.result import BALANCE_RTOL
from gridcarbon.core.sectors import EMITTING, REMOVALS
from gridcarbon.core.units import T_PER_MT, format_mt

#: ASSUMPTION: 1e-7 Mt (0.1 t) of tolerance in the pre-solve checks, far below any reported
#: figure and above float rounding of sums of order 1e3 Mt: a check fails only on a real conflict
FEAS_TOL = 1e-7
#: ASSUMPTION: elastic slack above 1e-6 Mt (1 t) marks a family as conflicting; below it is
#: solver tolerance (HiGHS' default feasibility tolerance is 1e-7 per row)
SLACK_TOL = 1e-6


def diagnose(problem: Problem) -> list[str]:
    """Sentences naming the conflicts visible without solving; [] when none is found."""
    checks = (_check_base_year, _check_cells, _check_removals, _check_floors, _check_ramp_steps,
              _check_reach, _check_trajectories)
    return [sentence for check in checks for sentence in check(problem)]


def elastic_conflicts(p: Problem) -> list[str]:
    """Families the elastic copy had to relax, each as a sentence with the amount and years."""
    solved = solve(p, elastic=True)
    if solved.status != "optimal":
        return [f"the solver reports the allocation as {solved.status} and its elastic copy as well"]
    found = []
    for family, per_year in solved.slack.items():
        years = [p.years[t] for t, v in sorted(per_year.items()) if v > SLACK_TOL]
        if years:
            total = sum(per_year.values())
            found.append(f"{family} must give way by {format_mt(total * T_PER_MT)} in total "
                         f"over {years[0]}-{years[-1]}")
    return found or ["the solver reports the allocation as infeasible but no constraint family needs relaxing"]


def _worst(excess: np.ndarray, years: list[int]) -> tuple[int, str]:
    """Index of the largest positive excess (Mt) and a note on the other years that exceed."""
    bad = np.flatnonzero(excess > FEAS_TOL)
    worst = int(bad[np.argmax(excess[bad])])
    note = f" ({len(bad)} years affected, {years[bad[0]]}-{years[bad[-1]]})" if len(bad) > 1 else ""
    return worst, note


def _check_base_year(p: Problem) -> list[str]:
    if abs(p.gross[0] - p.e0.sum()) <= BALANCE_RTOL * p.e0.sum():
        return []
    return [f"the pathway's {p.years[0]} gross total {format_mt(p.gross[0] * T_PER_MT)} differs from the "
            f"baseline total {format_mt(p.e0.sum() * T_PER_MT)} (set pathway.base_total to null or match the "
            f"baseline)"]


def _check_cells(p: Problem) -> list[str]:
    """Cells whose lower bound (floors, user minima) exceeds their upper bound (capacities, user maxima)."""
    found = []
    for on, names in (("E", EMITTING), ("R", REMOVALS)):
        lo, hi = p.bounds(on)
        bad = np.argwhere(lo > hi + FEAS_TOL)
        if len(bad):
            r, s, t = bad[0]
            low, high = (_setter(p, on, side, (r, s, t)) for side in ("lo", "hi"))
            found.append(f"{p.regions[r]} {names[s]} must be at least {format_mt(lo[r, s, t] * T_PER_MT)} in "
                         f"{p.years[t]} ({low}) but at most {format_mt(hi[r, s, t] * T_PER_MT)} ({high})"
                         + (f", and in {len(bad) - 1} other cases" if len(bad) > 1 else ""))
    return found


def _check_removals(p: Problem) -> list[str]:
    lo, hi = p.bounds("R")
    capacity, minimum = hi.sum(axis=(0, 1)), lo.sum(axis=(0, 1))
    found = []
    if (p.removals[1:] > capacity[1:] + FEAS_TOL).any():
        t, note = _worst(np.r_[0, p.removals[1:] - capacity[1:]], p.years)
        what = "net-zero needs" if p.years[t] == p.net_zero_year else "pathway needs"
        found.append(f"{p.years[t]} {what} {format_mt(p.removals[t] * T_PER_MT)} of removals; regions can hold "
                     f"at most {format_mt(capacity[t] * T_PER_MT)}{note}")
    if (minimum[1:] > p.removals[1:] + FEAS_TOL).any():
        t, note = _worst(np.r_[0, minimum[1:] - p.removals[1:]], p.years)
        found.append(f"{p.years[t]} user bounds force at least {format_mt(minimum[t] * T_PER_MT)} of removals "
                     f"but the pathway has {format_mt(p.removals[t] * T_PER_MT)}{note}")
    return found


def _check_floors(p: Problem) -> list[str]:
    floor_lo = next(lim for lim in p.limits if lim.family == "floors").lo
    floors = floor_lo.sum(axis=(0, 1))
    minimum = p.bounds("E")[0].sum(axis=(0, 1))
    if (floors > p.gross + FEAS_TOL).any():
        t, note = _worst(floors - p.gross, p.years)
        sectors = [s for s, v in zip(EMITTING, floor_lo[:, :, -1].sum(axis=0)) if v > 0]
        return [f"{p.years[t]} gross pathway {format_mt(p.gross[t] * T_PER_MT)} is below the hard-to-abate "
                f"floors {format_mt(floors[t] * T_PER_MT)} ({', '.join(sectors)}){note}"]
    if (minimum > p.gross + FEAS_TOL).any():
        t, note = _worst(minimum - p.gross, p.years)
        return [f"{p.years[t]} gross pathway {format_mt(p.gross[t] * T_PER_MT)} is below the "
                f"{format_mt(minimum[t] * T_PER_MT)} that floors, committed emissions, retirement rates and user "
                f"minimum bounds require{note}: {_lower_bounds_in(p, t)}"]
    return []


def _setter(p: Problem, on: str, side: str, cell: tuple[int, int, int]) -> str:
    """The constraint family setting a cell's combined lower (``lo``) or upper (``hi``) bound."""
    mine = [lim for lim in p.limits if lim.on == on]
    values = [getattr(lim, side)[cell] for lim in mine]
    return mine[int(np.argmax(values) if side == "lo" else np.argmin(values))].family


def _lower_bounds_in(p: Problem, t: int, sector: int | None = None) -> str:
    """Year ``t``'s lower bounds on emissions (of one sector when given) per family that sets
    them, with each family's largest cell."""
    mine = [lim for lim in p.limits if lim.on == "E"]
    stack = np.stack([lim.lo[:, :, t] for lim in mine])                  # (families, R, S)
    if sector is not None:
        stack = np.where(np.arange(stack.shape[2]) == sector, stack, 0.0)
    setter, low = np.argmax(stack, axis=0), stack.max(axis=0)
    parts = []
    for i in np.unique(setter[low > FEAS_TOL]):
        held = np.where((setter == i) & (low > FEAS_TOL), low, 0.0)
        r, s = np.unravel_index(int(np.argmax(held)), held.shape)
        parts.append(f"{mine[i].family} {format_mt(held.sum() * T_PER_MT)} (most: {p.regions[r]} {EMITTING[s]} "
                     f"{format_mt(held[r, s] * T_PER_MT)})")
    return ", ".join(parts)


def _check_ramp_steps(p: Problem) -> list[str]:
    step, limit = np.abs(np.diff(p.gross)), p.ramp.sum()
    if not (step > limit + FEAS_TOL).any():
        return []
    t = int(np.argmax(step))
    return [f"ramp limits let total emissions change by at most {format_mt(limit * T_PER_MT)} a year but the "
            f"pathway changes by {format_mt(step[t] * T_PER_MT)} from {p.years[t]} to {p.years[t + 1]}"]


def _check_reach(p: Problem) -> list[str]:
    """Years the pathway leaves the range the ramps (from the base year) and bounds can reach."""
    down, up = (a.sum(axis=(0, 1)) for a in p.ramp_reach())
    minimum, maximum = (a.sum(axis=(0, 1)) for a in p.bounds("E"))
    found = []
    too_low = (p.gross < down - FEAS_TOL) & (p.gross >= minimum - FEAS_TOL)
    if too_low.any():
        t = int(np.argmax(too_low))
        found.append(f"by {p.years[t]} ramp limits let gross emissions fall no lower than "
                     f"{format_mt(down[t] * T_PER_MT)} but the pathway asks for {format_mt(p.gross[t] * T_PER_MT)}")
    too_high = p.gross > up + FEAS_TOL
    if too_high.any():
        t = int(np.argmax(too_high))
        cause = "ramp limits" if p.gross[t] <= maximum[t] + FEAS_TOL else "capacities, build rates and user maximum bounds"
        found.append(f"by {p.years[t]} {cause} let gross emissions rise to at most {format_mt(up[t] * T_PER_MT)} "
                     f"but the pathway asks for {format_mt(p.gross[t] * T_PER_MT)}")
    return found


def _check_trajectories(p: Problem) -> list[str]:
    down, up = p.ramp_reach()
    found = []
    for sector, values in p.trajectories.items():
        if sector in REMOVALS:
            k = REMOVALS.index(sector)
            low, high = (a[:, k, :].sum(axis=0) for a in p.bounds("R"))
        else:
            s = EMITTING.index(sector)
            low, high = down[:, s, :].sum(axis=0), up[:, s, :].sum(axis=0)
        outside = (values < low - FEAS_TOL) | (values > high + FEAS_TOL)
        if outside.any():
            t = int(np.argmax(outside))
            bounds = "" if sector in REMOVALS else _lower_bounds_in(p, t, EMITTING.index(sector))
            found.append(f"pathway.sectors.{sector} asks for {format_mt(values[t] * T_PER_MT)} in {p.years[t]} "
                         f"but floors, committed emissions, retirement and build rates, ramp limits, capacities and "
                         f"bounds allow {format_mt(low[t] * T_PER_MT)} to {format_mt(high[t] * T_PER_MT)}"
                         + (f" (lower bounds: {bounds})" if bounds else ""))
    return found + _check_trajectory_sums(p, down, up)


def _check_trajectory_sums(p: Problem, down: np.ndarray, up: np.ndarray) -> list[str]:
    """Fixed sector totals against the pathway: what is left for the other sectors must fit."""
    found = []
    for names, total, low, high in (
            (EMITTING, p.gross, down.sum(axis=0), up.sum(axis=0)),
            (REMOVALS, p.removals, *(a.sum(axis=0) for a in p.bounds("R")))):
        fixed = [i for i, s in enumerate(names) if s in p.trajectories]
        if not fixed:
            continue
        given = np.nansum([p.trajectories[names[i]] for i in fixed], axis=0)
        active = ~np.all([np.isnan(p.trajectories[names[i]]) for i in fixed], axis=0)
        free = [i for i in range(len(names)) if i not in fixed]
        left_low, left_high = low[free].sum(axis=0), high[free].sum(axis=0)
        bad = active & ((total - given < left_low - FEAS_TOL) | (total - given > left_high + FEAS_TOL))
        if bad.any():
            t = int(np.argmax(bad))
            mt = {k: format_mt(v * T_PER_MT) for k, v in
                  (("given", given[t]), ("total", total[t]), ("left", total[t] - given[t]),
                   ("low", left_low[t]), ("high", left_high[t]))}
            found.append(f"sector trajectories ({', '.join(names[i] for i in fixed)}) take {mt['given']} of the "
                         f"{p.years[t]} total {mt['total']}, leaving {mt['left']} for the other sectors, which "
                         f"can take {mt['low']} to {mt['high']}")
    return found
