"""The scenario's targets checked against the numbers the run computed.

Each :class:`~gridcarbon.config.targets.Target` is evaluated on the run's allocated totals
(``totals.csv``: region, sector, year, allocated_t in t CO2/yr, ``indirect`` included) and its
energy summary (``energy_summary.csv``, :mod:`gridcarbon.output.energy`), and reported as met
or not met: :func:`check_targets` gives the manifest's ``targets`` section, :func:`log_targets`
the stderr lines. A quantity the run does not compute (energy shares of a run without the
power system, a year outside the run) is reported as not met with ``computed`` null.
"""
from __future__ import annotations

import logging
import math

import pandas as pd

from gridcarbon.config.sections import UNIT_T
from gridcarbon.config.targets import TONNE_QUANTITIES, TOTAL, Target
from gridcarbon.core.sectors import REMOVALS, SECTORS

log = logging.getLogger(__name__)
#: sectors of the gross total: every emitting sector, ``indirect`` included (the pathway's gross)
GROSS = [s for s, m in SECTORS.items() if not m.removal]


def check_targets(targets: list[Target], totals: pd.DataFrame, energy_summary: pd.DataFrame | None) -> dict:
    """``{"checked", "met", "not_met", "results"}``; each result repeats the target with
    ``computed`` (its unit, None when not computed) and ``met``."""
    table = _pivot(totals)
    results = []
    for t in targets:
        computed = _computed(t, table, energy_summary)
        met = computed is not None and abs(computed - t.value) <= t.tolerance
        results.append(t.model_dump(exclude_defaults=False) | {"computed": computed, "met": bool(met)})
    missed = [r["name"] for r in results if not r["met"]]
    return {"checked": len(results), "met": len(results) - len(missed), "not_met": missed, "results": results}


def log_targets(report: dict, scenario: str) -> None:
    """One stderr line per target (through the ``gridcarbon`` logger) and a summary line."""
    extra = {"scenario": scenario}
    for r in report["results"]:
        got = "not computed" if r["computed"] is None else f"{r['computed']:.4g}"
        unit = f" {r['unit']}" if r["quantity"] in TONNE_QUANTITIES else ""
        line = (f"target {r['name']}: {got} vs {r['value']:g} +- {r['tolerance']:g}{unit}: "
                f"{'met' if r['met'] else 'NOT MET'}")
        (log.info if r["met"] else log.warning)(line, extra=extra)
    if report["checked"]:
        log.info("targets: %d of %d met", report["met"], report["checked"], extra=extra)


def _pivot(totals: pd.DataFrame) -> pd.DataFrame:
    """Allocated t CO2/yr by (region incl. ``total``, year) x sector."""
    by_region = totals.pivot_table(index=["region", "year"], columns="sector", values="allocated_t", aggfunc="sum")
    area = by_region.groupby(level="year").sum()
    area.index = pd.MultiIndex.from_product([[TOTAL], area.index], names=["region", "year"])
    return pd.concat([by_region, area]).fillna(0.0)


def _series(table: pd.DataFrame, region: str, sectors: list[str]) -> pd.Series:
    """Sum of ``sectors`` per year of ``region`` (t CO2/yr)."""
    return table.loc[region][[s for s in sectors if s in table.columns]].sum(axis=1)


def _computed(t: Target, table: pd.DataFrame, energy: pd.DataFrame | None) -> float | None:
    """The run's value of ``t``'s quantity, in the target's unit (None when not computed)."""
    if t.quantity.startswith("non_fossil_share"):
        if energy is None or energy.empty:
            return None
        row = energy[(energy.region == t.region) & (energy.year == t.year)]
        return float(row[t.quantity].iloc[0]) if len(row) else None
    gross = _series(table, t.region, GROSS)
    if any(y is not None and y not in gross.index for y in (t.year, t.from_year)):
        return None  # a year the run does not simulate
    removals = -_series(table, t.region, REMOVALS)
    value = {"gross": lambda: gross[t.year], "net": lambda: gross[t.year] - removals[t.year],
             "removals": lambda: removals[t.year], "sector": lambda: _series(table, t.region, t.sectors)[t.year],
             "sector_share": lambda: _series(table, t.region, t.sectors)[t.year] / gross[t.year],
             "peak_year": lambda: float(gross.idxmax()), "peak_level": lambda: gross.max(),
             "change_from_peak": lambda: gross[t.year] / gross.max() - 1.0,
             "annual_change": lambda: (gross[t.year] / gross[t.from_year]) ** (1.0 / (t.year - t.from_year)) - 1.0,
             }[t.quantity]()
    value = float(value) / (UNIT_T[t.unit] if t.quantity in TONNE_QUANTITIES else 1.0)
    return value if math.isfinite(value) else None
