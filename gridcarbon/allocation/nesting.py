"""Nesting: a regional run takes its pathway from a national (parent) allocation.

With ``pathway: {from: <scenario>}`` the gross and removal totals of every year are the parent
allocation's totals summed over this run's regions, scaled by the ratio of this run's
base-year gross to the parent's for the same regions (1 when both start from the same
inventory, so the totals are reproduced exactly; otherwise the parent's path in relative
terms). The base year keeps this run's own baseline. ``docs/architecture.md``, "Allocation".
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from gridcarbon.allocation.pathway import COLUMNS
from gridcarbon.core.errors import InputError
from gridcarbon.core.sectors import EMITTING, REMOVALS
from gridcarbon.inputs.columns import require_columns


def nested_pathway(parent_totals: pd.DataFrame, regions: list[str], years: list[int], base_gross_t: float,
                   base_removals_t: float, *, parent: str) -> pd.DataFrame:
    """The pathway (t CO2/yr, columns as :func:`~gridcarbon.allocation.annual_pathway`) for
    ``regions`` and ``years`` from the parent's ``region, sector, year, allocated_t`` totals.

    The base year holds this run's own base-year gross and removals (``base_gross_t``,
    ``base_removals_t``: the baseline's, fixed in the LP)."""
    require_columns(parent_totals, ["region", "sector", "year", "allocated_t"], source=f"allocation of {parent}")
    missing = sorted(set(regions) - set(parent_totals["region"]))
    if missing:
        raise InputError(f"the allocation of {parent!r} has no totals for {', '.join(missing)}",
                         record="pathway.from", hint="take the pathway from a scenario that covers these regions")
    mine = parent_totals[parent_totals["region"].isin(regions) & parent_totals["year"].isin(years)]
    gross = mine[mine["sector"].isin(EMITTING)].groupby("year")["allocated_t"].sum().reindex(years)
    removals = -mine[mine["sector"].isin(REMOVALS)].groupby("year")["allocated_t"].sum().reindex(years)
    if gross.isna().any():
        raise InputError(f"the allocation of {parent!r} lacks the years {gross.index[gross.isna()].tolist()}",
                         record="pathway.from")
    scale = base_gross_t / gross.iloc[0] if gross.iloc[0] > 0 else np.nan
    if not np.isfinite(scale):
        raise InputError(f"the allocation of {parent!r} has no gross emissions for these regions in {years[0]}",
                         record="pathway.from")
    frame = pd.DataFrame({"gross_t": gross * scale, "removals_t": removals.fillna(0.0) * scale},
                         index=pd.Index(years, name="year"))
    frame.iloc[0, :2] = base_gross_t, base_removals_t
    frame["net_t"] = frame["gross_t"] - frame["removals_t"]
    frame["kind"] = "projection"
    return frame[COLUMNS]
