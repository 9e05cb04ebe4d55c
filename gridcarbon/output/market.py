"""The allocation's market in the run folder: permits, transfer payments, prices (``docs/architecture.md``, "Outputs").

- ``market.csv``: region, year, allowance_t, emissions_t, permits_bought_t,
  transfer_payment_yuan, carbon_price_yuan_per_t (:class:`~gridcarbon.allocation.AllocationResult`);
- ``mac.csv``: region, sector, year, mac_yuan_per_t (marginal abatement cost of each cell);
- ``maps/carbon_price.png``: the carbon price path;
- ``maps/permits.png``: per region, allowance against emissions and the permits bought
  (positive) or sold (negative) that close the gap, for the exported years.

Figures use matplotlib's Agg canvas at a fixed size, with no dates in their metadata, so the
same tables give the same bytes.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from gridcarbon.allocation import AllocationResult
from gridcarbon.core.units import T_PER_MT
from gridcarbon.output.canvas import figure
from gridcarbon.output.map_process import draw_now

#: figure size (inches) and resolution (dots per inch) of the market plots
FIGSIZE, DPI = (7.0, 4.0), 120


def market_tables(alloc: AllocationResult) -> dict[str, pd.DataFrame]:
    """File name -> table of what the allocation's market gives (``market.csv``, ``mac.csv``)."""
    return {"market.csv": alloc.market, "mac.csv": alloc.mac}


def write_market(root: Path, tables: dict[str, pd.DataFrame], *, name: str, years: list[int],
                 submit: Callable[..., None] = draw_now) -> None:
    """Write the tables and plots under ``root`` (``years``: the exported years of the permits plot);
    both are made by ``submit(work, *args, **kwargs)`` (default here and now; a run's map process
    writes them beside the run: China's city and facility quota tables are 370,000 rows)."""
    if not tables:
        return
    (root / "maps").mkdir(exist_ok=True)
    submit(write_tables, root, tables)
    submit(plot_market, root / "maps", tables["market.csv"], name=name, years=years)


def write_tables(root: Path, tables: dict[str, pd.DataFrame]) -> None:
    """Each ``tables`` entry (a path under ``root`` -> table) as CSV, floats with 6 decimals."""
    for file, table in tables.items():
        (root / file).parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(root / file, index=False, float_format="%.6f")


def plot_market(maps: Path, market: pd.DataFrame, *, name: str, years: list[int]) -> None:
    """``carbon_price.png`` and ``permits.png`` (``years``: the permits plot's) in the folder ``maps``."""
    _plot_price(maps / "carbon_price.png", market, name=name)
    _plot_permits(maps / "permits.png", market, name=name, years=years)


def replot_market(folder: Path, maps: Path, *, name: str, years: list[int]) -> None:
    """Redraw the market figures of a written run ``folder`` into ``maps`` (nothing without its table)."""
    if (folder / "market.csv").is_file():
        plot_market(maps, pd.read_csv(folder / "market.csv"), name=name, years=years)


def _plot_price(path: Path, market: pd.DataFrame, *, name: str) -> None:
    """Carbon price per year (the area's, or each region's without trade)."""
    fig = figure(figsize=FIGSIZE)
    ax = fig.add_subplot()
    prices = market.pivot(index="year", columns="region", values="carbon_price_yuan_per_t")
    if np.allclose(prices.to_numpy(), prices.to_numpy()[:, :1]):
        ax.plot(prices.index, prices.iloc[:, 0], color="black", label="area")
    else:
        for region in prices:
            ax.plot(prices.index, prices[region], label=region)
    ax.set(xlabel="year", ylabel="carbon price, yuan / t CO2", title=f"{name}: carbon price (dual of the cap)")
    ax.legend(fontsize="small", ncol=2)
    ax.grid(alpha=0.3)
    fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})


def _plot_permits(path: Path, market: pd.DataFrame, *, name: str, years: list[int]) -> None:
    """Per region and exported year: the permits (Mt) bought or sold, i.e. emissions - allowance."""
    fig = figure(figsize=(FIGSIZE[0], FIGSIZE[1] * 1.2))
    ax = fig.add_subplot()
    chosen = market[market["year"].isin(years)]
    regions = list(pd.unique(chosen["region"]))
    width = 0.8 / max(len(years), 1)
    for k, year in enumerate(years):
        part = chosen[chosen["year"] == year].set_index("region").reindex(regions)
        x = np.arange(len(regions)) + (k - (len(years) - 1) / 2) * width
        ax.bar(x, part["permits_bought_t"] / T_PER_MT, width=width, label=str(year))
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(np.arange(len(regions)), regions, rotation=90 if len(regions) > 8 else 0, fontsize="small")
    ax.set(ylabel="permits bought (+) / sold (-), Mt CO2 / yr",
           title=f"{name}: emissions - allowance, closed by permit trade")
    ax.legend(fontsize="small")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})
