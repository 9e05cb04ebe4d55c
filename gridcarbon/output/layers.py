"""A year's layers by name, and the one styled-COG writer: a COG with its same-name QGIS style.

Every GeoTIFF the package writes (run years, baselines, ensembles, comparisons) goes
through :func:`write_styled_cog`, so each file carries its band description and tags and
opens in QGIS with a log-scaled ramp fitted to its values.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import GRIDDED, SECTORS
from gridcarbon.output import export, styles


def named_layers(layers: np.ndarray) -> dict[str, np.ndarray]:
    """A year's (n_gridded, y, x) layers (t CO2/yr/cell) by name, plus ``total`` (gross) and ``net``."""
    named = {s: layers[i] for i, s in enumerate(GRIDDED)}
    named["total"] = _layer_sum(layers, [i for i, s in enumerate(GRIDDED) if not SECTORS[s].removal])
    named["net"] = _layer_sum(layers, range(len(GRIDDED)))
    return named


def _layer_sum(layers: np.ndarray, which) -> np.ndarray:
    """float64 sum of some of the (n, y, x) ``layers``, in order, without copying them
    (what ``layers[which].sum(axis=0, dtype=float64)`` gives, without 1 GB of copies at 1 km)."""
    out = np.zeros(layers.shape[1:])
    for i in which:
        out += layers[i]
    return out


def layer_style(name: str) -> tuple[styles.Kind, str]:
    """Ramp kind and label of a named layer: a sector id, ``total`` or ``net``."""
    diverging = name == "net" or (name in SECTORS and SECTORS[name].removal)
    label = SECTORS[name].label if name in SECTORS else ("Gross emissions" if name == "total" else "Net emissions")
    return ("diverging" if diverging else "sequential"), label


def write_styled_cog(path: Path, values: np.ndarray, grid: Grid, *, kind: styles.Kind, label: str,
                     description: str, tags: dict[str, object]) -> Path:
    """``path`` (.tif) as a COG of ``values`` (y, x, t CO2/yr/cell) and the same-name ``.qml``
    with a ``kind`` ramp between the layer's log limits."""
    export.write_cog(path, values, grid, description=description, tags=tags)
    vmin, vmax = styles.log_limits(values)
    styles.write_qml(path.with_suffix(".qml"), kind=kind, vmin=vmin, vmax=vmax, label=label)
    return path


def write_layers(root: Path, named: dict[str, np.ndarray], grid: Grid, *, year: int, meta: dict) -> None:
    """Styled COG of every named layer of ``year`` into ``root`` (``meta``: tags of every file)."""
    for name, values in named.items():
        kind, label = layer_style(name)
        write_styled_cog(root / f"{name}.tif", values, grid, kind=kind, label=label,
                         description=f"{label} {year}, t CO2/yr/cell", tags={"sector": name, "year": year, **meta})
