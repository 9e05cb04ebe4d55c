"""Ensemble statistics without holding the members: per-cell quantiles block by block, and
bands of every total.

Each member left one float32 file (exported year, layer, y, x) in t CO2/yr/cell
(:mod:`gridcarbon.ensembles.members`). :func:`cell_quantiles` reads the same block of rows
from every member file (memory-mapped), takes exact quantiles over the members and keeps only
the result, so memory is (members x one block) plus the quantile maps themselves.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import EMITTING, SECTORS
from gridcarbon.output.layers import layer_style, write_styled_cog

#: the quantiles written, as percentages (file suffix ``p05``, ``p50``, ``p95``)
PERCENTILES = (5, 50, 95)
#: float32 values of all members read at once per block (engine bound: 16 M values = 64 MB)
BLOCK_VALUES = 16 * 2**20


def cell_quantiles(files: list[Path], *, block_values: int = BLOCK_VALUES) -> np.ndarray:
    """Per-cell :data:`PERCENTILES` over the member files: (3, year, layer, y, x) float32,
    t CO2/yr/cell, reduced over blocks of rows so that no more than ``block_values``
    member values (at least one row of every member) are in memory at once."""
    maps = [np.load(f, mmap_mode="r") for f in files]
    shape = maps[0].shape
    out = np.empty((len(PERCENTILES), *shape), np.float32)
    per_row = len(maps) * shape[0] * shape[1] * shape[3]
    step = max(1, block_values // per_row)
    for start in range(0, shape[2], step):
        rows = slice(start, min(start + step, shape[2]))
        block = np.stack([m[:, :, rows] for m in maps])
        out[:, :, :, rows] = np.percentile(block, PERCENTILES, axis=0)
    return out


def write_quantiles(root: Path, quantiles: np.ndarray, grid: Grid, *, years: list[int], layers: list[str],
                    tags: dict) -> None:
    """``root/<year>/<layer>_p05.tif`` (and p50, p95) with styles; cells outside every region
    are nodata."""
    for k, year in enumerate(years):
        for j, name in enumerate(layers):
            kind, label = layer_style(name)
            for q, pct in enumerate(PERCENTILES):
                stat = f"p{pct:02d}"
                write_styled_cog(root / str(year) / f"{name}_{stat}.tif", quantiles[q, k, j], grid, kind=kind,
                                 label=f"{label} {stat}",
                                 description=f"{label} {year}, ensemble {stat}, t CO2/yr/cell",
                                 tags={"sector": name, "year": year, "statistic": stat, **tags})


def total_bands(totals: pd.DataFrame) -> pd.DataFrame:
    """p05 / p50 / p95, mean and member count of every region x sector x year total (t CO2/yr),
    of each sector over all regions (region ``all``) and of the gross (emitting sectors, with
    ``indirect``, as the pathway counts them) and net sums (sector ``gross``, ``net``)."""
    area = totals.groupby(["member", "sector", "year"], as_index=False).allocated_t.sum().assign(region="all")
    gross = _sum_over(totals, EMITTING, sector="gross")
    net = _sum_over(totals, SECTORS, sector="net")
    table = pd.concat([totals, area, gross, net], ignore_index=True)
    grouped = table.groupby(["region", "sector", "year"]).allocated_t
    bands = grouped.quantile([p / 100 for p in PERCENTILES]).unstack()
    bands.columns = [f"p{p:02d}_t" for p in PERCENTILES]
    bands["mean_t"], bands["members"] = grouped.mean(), grouped.size()
    return bands.reset_index()


def _sum_over(totals: pd.DataFrame, sectors, *, sector: str) -> pd.DataFrame:
    """Each member's sum of ``sectors`` (named ``sector``), per region and over all regions."""
    rows = totals[totals.sector.isin(list(sectors))]
    by_region = rows.groupby(["member", "region", "year"], as_index=False).allocated_t.sum()
    whole = rows.groupby(["member", "year"], as_index=False).allocated_t.sum().assign(region="all")
    return pd.concat([by_region, whole], ignore_index=True).assign(sector=sector)
