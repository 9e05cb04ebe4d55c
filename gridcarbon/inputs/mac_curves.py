"""Marginal abatement cost curves per sector, read and checked for the allocation LP.

The shipped curves are ``data/mac_curves.csv`` (sources in ``data/ALLOCATION_SOURCES.md``).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from gridcarbon.core.errors import SchemaError
from gridcarbon.core.sectors import EMITTING, REMOVALS, SECTORS, check_sector
from gridcarbon.inputs.columns import require_columns
from gridcarbon.inputs.data import data_path

#: ASSUMPTION: segment widths are fractions written with a few decimals; a sum within 1e-9
#: of 1 is 1 up to float rounding, anything further off is a wrong table
WIDTH_SUM_TOL = 1e-9


def load_mac_curves(path: str | os.PathLike | None = None) -> dict[str, list[tuple[float, float]]]:
    """Marginal abatement cost curves: sector -> [(width as fraction of E0, yuan per t), ...].

    Emitting sectors need segments with nondecreasing cost (convex curve) whose widths
    sum to 1; removal sectors one segment (a cost per tonne removed). Costs are >= 0.
    Without ``path``, the shipped ``data/mac_curves.csv``.
    """
    path = Path(path) if path else data_path("mac_curves.csv")
    table = pd.read_csv(path)
    require_columns(table, ["sector", "segment", "width_frac", "cost_yuan_per_t"], source=str(path))
    curves = {check_sector(sector, source=str(path)):
              list(zip(rows["width_frac"].astype(float), rows["cost_yuan_per_t"].astype(float)))
              for sector, rows in table.sort_values(["sector", "segment"]).groupby("sector")}
    for sector in SECTORS:
        _check_curve(sector, curves.get(sector), source=str(path))
    return curves


def _check_curve(sector: str, curve: list[tuple[float, float]] | None, *, source: str) -> None:
    """Raise :class:`SchemaError` unless ``curve`` is a valid cost curve for ``sector``."""
    if not curve:
        raise SchemaError(f"no cost curve for sector {sector!r}", source=source)
    widths, costs = np.array(curve).T
    if (costs < 0).any() or (np.diff(costs) < 0).any() or (widths <= 0).any():
        raise SchemaError(f"{sector}: costs must be >= 0 and nondecreasing, widths > 0", source=source)
    if sector in REMOVALS and len(curve) != 1:
        raise SchemaError(f"{sector}: removals take one cost segment", source=source)
    if sector in EMITTING and abs(widths.sum() - 1) > WIDTH_SUM_TOL:
        raise SchemaError(f"{sector}: segment widths sum to {widths.sum():.6g}, not 1", source=source)
