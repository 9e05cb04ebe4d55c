"""Milestones -> annual gross, removals and net totals for the whole area (t CO2/yr).

Rules (``docs/architecture.md``, "Allocation"):

- the base year holds the base total (``pathway.base_total`` or the baseline's total);
- the peak and the milestones anchor values; ``rates`` compound annually from the previous
  year's value; a gap ending at an anchor is interpolated geometrically (linearly when one
  end is zero); a gap ending at a rate period, or after the last anchor or rate, holds flat;
- ``series`` gives the gross totals directly: the same interpolation between its years,
  anchored at the base total when the base year is missing;
- history years (before the base year) are context: anchors interpolated the same way up
  to the base year, with unknown removals (NaN);
- removals hold the base-year sink magnitude until ``removals_start``, then rise linearly
  to gross - net at the net-zero year, and follow gross - net after it. Without a
  net-zero target they hold the base-year sink.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from gridcarbon.config import Milestone, PathwaySpec
from gridcarbon.core.errors import ScenarioError
from gridcarbon.core.units import format_mt

COLUMNS = ["gross_t", "removals_t", "net_t", "kind"]


def annual_pathway(p: PathwaySpec, base_year: int, end_year: int, base_total_t: float, *,
                   base_removals_t: float = 0.0, source: str | None = None) -> pd.DataFrame:
    """Annual totals indexed by year (history years, then base..end).

    ``base_total_t`` is the baseline gross total incl. indirect (t CO2/yr), used unless the
    scenario sets ``pathway.base_total``; ``base_removals_t`` the base-year sink magnitude
    (t CO2/yr, >= 0: minus the baseline's forest_sink + beccs). Columns: ``gross_t``,
    ``removals_t`` (magnitude, >= 0), ``net_t`` (t CO2/yr) and ``kind``
    ("history" / "projection"). Raises :class:`ScenarioError` for negative totals.
    """
    unit = p.factor_t
    base_t = p.base_total * unit if p.base_total is not None else float(base_total_t)
    years = list(range(base_year, end_year + 1))
    gross = _gross(p, years, base_t)
    removals = _removals(p, years, gross, abs(base_removals_t), source=source)
    projection = pd.DataFrame({"gross_t": gross, "removals_t": removals, "net_t": gross - removals,
                               "kind": "projection"}, index=pd.Index(years, name="year"))
    frame = pd.concat([_history(p, base_year, base_t), projection])
    _check_non_negative(frame, source=source)
    return frame


def _gross(p: PathwaySpec, years: list[int], base_t: float) -> np.ndarray:
    """Gross totals (t) for ``years`` from the series or the milestone form."""
    unit = p.factor_t
    if p.series is not None:
        anchors = {y: v * unit for y, v in p.series.items()}
        anchors.setdefault(years[0], base_t)
        return _follow(anchors, [], years)
    anchors = {years[0]: base_t}
    if p.peak is not None:
        anchors[p.peak.year] = p.peak.level * unit
    for m in p.milestones:
        anchors[m.year] = _milestone_t(m, peak_t=anchors.get(p.peak.year) if p.peak else None,
                                       base_t=base_t, unit=unit)
    return _follow(anchors, [(r.start, r.end, r.annual) for r in p.rates], years)


def _milestone_t(m: Milestone, *, peak_t: float | None, base_t: float, unit: float) -> float:
    """The milestone's gross total in t."""
    if m.level is not None:
        return m.level * unit
    if m.change_from_peak is not None:
        return peak_t * (1 + m.change_from_peak)
    return base_t * (1 + m.change_from_base)


def _follow(anchors: dict[int, float], rates: list[tuple[int, int, float]], years: list[int]) -> np.ndarray:
    """Walk ``years``: rates compound, anchors fix, gaps to an anchor interpolate, else flat.

    ``anchors`` must hold the first year.
    """
    values = {years[0]: anchors[years[0]]}
    rate_at = {y: annual for start, end, annual in rates for y in range(start, end + 1)}
    starts = sorted(start for start, _, _ in rates)
    for year in years[1:]:
        previous = values[year - 1]
        if year in rate_at:
            values[year] = previous * (1 + rate_at[year])
        elif year in anchors:
            values[year] = anchors[year]
        else:
            target = _next_anchor(year, anchors, starts)
            values[year] = previous if target is None else _interpolate(
                previous, anchors[target], steps=target - year + 1)
    return np.array([values[y] for y in years], dtype=float)


def _next_anchor(year: int, anchors: dict[int, float], rate_starts: list[int]) -> int | None:
    """The next anchor after ``year`` unless a rate period starts first."""
    later = [y for y in anchors if y > year]
    if not later:
        return None
    target = min(later)
    return None if any(year < s < target for s in rate_starts) else target


def _interpolate(start: float, end: float, *, steps: int) -> float:
    """One step of a geometric path from ``start`` to ``end`` in ``steps`` steps (linear via zero)."""
    if start > 0 and end > 0:
        return start * (end / start) ** (1 / steps)
    return start + (end - start) / steps


def _history(p: PathwaySpec, base_year: int, base_t: float) -> pd.DataFrame:
    if not p.history:
        return pd.DataFrame(columns=COLUMNS, index=pd.Index([], name="year", dtype=int)).astype(
            {"gross_t": float, "removals_t": float, "net_t": float})
    first = min(p.history)
    anchors = {y: v * p.factor_t for y, v in p.history.items()} | {base_year: base_t}
    years = list(range(first, base_year))
    gross = _follow(anchors, [], years + [base_year])[:-1]
    return pd.DataFrame({"gross_t": gross, "removals_t": np.nan, "net_t": np.nan, "kind": "history"},
                        index=pd.Index(years, name="year"))


def _removals(p: PathwaySpec, years: list[int], gross: np.ndarray, base_sink_t: float, *,
              source: str | None) -> np.ndarray:
    """Removal magnitudes (t): base sink, linear ramp to gross - net at net zero, then gross - net."""
    removals = np.full(len(gross), base_sink_t)
    if p.net_zero is None:
        return removals
    net_t = p.net_zero.net * p.factor_t
    nz = years.index(p.net_zero.year)
    start = years.index(p.removals_start) if p.removals_start is not None else 0
    needed = gross[nz] - net_t
    if needed < 0:
        raise ScenarioError(
            f"net {format_mt(net_t)} in {p.net_zero.year} is above the gross pathway {format_mt(gross[nz])}: "
            "removals would be negative", source=source, record="pathway.net_zero.net")
    span = np.arange(start, nz + 1)
    removals[span] = base_sink_t + (needed - base_sink_t) * (span - start) / max(nz - start, 1)
    removals[nz:] = gross[nz:] - net_t
    return removals


def _check_non_negative(frame: pd.DataFrame, *, source: str | None) -> None:
    projection = frame[frame["kind"] == "projection"]
    for column, what in (("gross_t", "gross total"), ("removals_t", "removals")):
        bad = projection.index[projection[column] < 0]
        if len(bad):
            raise ScenarioError(f"{what} falls below zero in {bad[0]} ({format_mt(projection.at[bad[0], column])})",
                                source=source, record="pathway")

