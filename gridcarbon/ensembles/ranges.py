"""The ranges of the model's assumptions and the scenario changes a sample of them makes.

``gridcarbon/data/assumption_ranges.csv`` (or a user table with the same columns) lists one
assumption a row: ``name``, ``target`` (a dotted scenario key: a scale factor of
:class:`~gridcarbon.config.Assumptions`, a rule setting of the evolution or allocation
section, a principle weight), ``mode``, ``low`` and ``high`` (the target's unit, or a factor),
``distribution`` (``uniform`` or ``loguniform``), ``unit`` and ``source``. Modes:

- ``value``: the key takes the sampled value;
- ``scale``: every number under the key is multiplied by it (e.g. the industry floors);
- ``speed``: every year -> share schedule under the key keeps its first value and gains
  ``factor x`` its rise since then, clipped to 0..1 (electrification speed);
- ``weight``: a principle weight takes the value, the other weights share the rest in
  their scenario proportions (weights keep summing to 1).

A sample never patches a module: it becomes scenario overrides
(:meth:`~gridcarbon.config.Scenario.with_overrides`), validated like a file.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import qmc

from gridcarbon.config import Scenario
from gridcarbon.core.errors import SchemaError
from gridcarbon.inputs.columns import require_columns
from gridcarbon.inputs.data import data_path

#: the shipped table of assumption ranges
RANGES_FILE = "assumption_ranges.csv"
COLUMNS = ["name", "target", "mode", "low", "high", "distribution", "unit", "source"]
MODES = ("value", "scale", "speed", "weight")
DISTRIBUTIONS = ("uniform", "loguniform")


def read_ranges(path: str | Path | None = None, *, names: list[str] | None = None) -> pd.DataFrame:
    """The assumption ranges (default: the shipped table), only ``names`` when given.

    Raises :class:`SchemaError` naming the file and row of a missing column, an unknown mode,
    distribution or scenario key, a range with ``low >= high`` or a log range not above 0.
    """
    path = Path(path) if path is not None else data_path(RANGES_FILE)
    table = pd.read_csv(path)
    require_columns(table, COLUMNS, source=str(path))
    defaults = Scenario(name="ranges").model_dump()
    for row in table.itertuples():
        _check_row(row, defaults, source=str(path))
    if table.name.duplicated().any():
        raise SchemaError(f"assumption {table.name[table.name.duplicated()].iloc[0]!r} is listed twice",
                          source=str(path))
    if names:
        unknown = sorted(set(names) - set(table.name))
        if unknown:
            raise SchemaError(f"unknown assumption(s) {', '.join(unknown)}", source=str(path), record="--assumptions")
        table = table[table.name.isin(names)]
    return table.reset_index(drop=True)


def _check_row(row, defaults: dict, *, source: str) -> None:
    record = f"row {row.Index + 2} ({row.name})"
    problem = None
    if row.mode not in MODES:
        problem = f"mode {row.mode!r} is not one of {', '.join(MODES)}"
    elif row.distribution not in DISTRIBUTIONS:
        problem = f"distribution {row.distribution!r} is not one of {', '.join(DISTRIBUTIONS)}"
    elif not (np.isfinite(row.low) and np.isfinite(row.high) and row.low < row.high):
        problem = f"low {row.low} must be below high {row.high}"
    elif row.distribution == "loguniform" and row.low <= 0:
        problem = "a loguniform range must stay above 0"
    elif _lookup(defaults, row.target) is None:
        problem = f"target {row.target!r} is not a scenario key"
    elif row.mode == "weight" and not row.target.startswith("principles."):
        problem = "mode weight applies to principles.<name> only"
    if problem:
        raise SchemaError(problem, source=source, record=record)


def _lookup(tree: dict, dotted: str):
    node = tree
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def latin_hypercube(ranges: pd.DataFrame, n: int, *, seed: int) -> pd.DataFrame:
    """``n`` seeded Latin-hypercube samples of the assumptions (columns: their names, target units)."""
    unit = qmc.LatinHypercube(d=len(ranges), seed=seed).random(n)
    return pd.DataFrame(scale_unit(ranges, unit), columns=list(ranges.name))


def scale_unit(ranges: pd.DataFrame, unit: np.ndarray) -> np.ndarray:
    """Points of the unit cube (n, k) mapped onto the ranges (uniform or log-uniform per column)."""
    low, high = ranges.low.to_numpy(float), ranges.high.to_numpy(float)
    log = (ranges.distribution == "loguniform").to_numpy()
    linear = low + unit * (high - low)
    logged = np.exp(np.log(np.where(log, low, 1.0)) + unit * np.log(np.where(log, high / low, 1.0)))
    return np.where(log, logged, linear)


def overrides(sc: Scenario, ranges: pd.DataFrame, values: pd.Series | dict) -> dict:
    """The scenario changes (nested mapping for :meth:`Scenario.with_overrides`) of one sample."""
    base, changes = sc.model_dump(), {}
    for row in ranges.itertuples():
        value, current = float(values[row.name]), _lookup(base, row.target)
        section, _, key = row.target.rpartition(".")
        node = changes
        for part in section.split(".") if section else []:
            node = node.setdefault(part, {})
        if row.mode == "weight":
            node.update(_weights(base["principles"], key, value))
        else:
            node[key] = {"value": lambda _c, v: v, "scale": _scaled, "speed": _faster}[row.mode](current, value)
    return changes


def _weights(weights: dict[str, float], name: str, value: float) -> dict[str, float]:
    rest = sum(w for k, w in weights.items() if k != name)
    return {k: value if k == name else (1.0 - value) * w / rest for k, w in weights.items()}


def _scaled(node, factor: float):
    if isinstance(node, dict):
        return {k: _scaled(v, factor) for k, v in node.items()}
    return node * factor if isinstance(node, (int, float)) and not isinstance(node, bool) else node


def _faster(node, factor: float):
    if isinstance(node, dict) and node and all(isinstance(k, int) for k in node):
        first = node[min(node)]
        return {y: float(np.clip(first + (v - first) * factor, 0.0, 1.0)) for y, v in node.items()}
    return {k: _faster(v, factor) for k, v in node.items()} if isinstance(node, dict) else node
