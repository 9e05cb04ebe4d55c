"""The charts of ``report.html``, drawn from a run folder's tables as inline SVG.

Every chart is a function of one table (``totals.csv``, ``facility_events.csv``,
``storage.csv``, ``totals_ensemble.csv``) returning an ``<svg>`` string; :data:`CHART_GROUPS`
draw them by name from a run folder, a group per call (a map worker each during a run). Drawn with
matplotlib's SVG backend: text kept as text (small files, the page's font), a fixed hash
salt and no date, so the same tables give the same bytes. Values are shown in Mt CO2/yr
(tables hold t CO2/yr).
"""
from __future__ import annotations

import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
import pandas as pd

from gridcarbon.core.sectors import SECTORS
from gridcarbon.core.units import T_PER_MT
from gridcarbon.output.canvas import figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: figure size of one chart (inches); the page scales it to its column
FIGSIZE = (8.0, 3.6)
#: fixed axes margins (figure fractions), room on the right for a legend beside the axes:
#: cheaper than matplotlib's constrained layout, which took half of the charts' time
MARGINS = {"left": 0.08, "right": 0.72, "bottom": 0.14, "top": 0.9}
#: matplotlib colour cycle of series (sectors, regions, event kinds): 20 distinct colours
SERIES_CMAP = "tab20"
#: regions drawn one by one in the provincial chart; the rest are summed as "other regions"
MAX_REGION_SERIES = 12
#: quantile columns of ``totals_ensemble.csv`` (lower band edge, middle, upper band edge)
BAND_COLUMNS = (("p05", "p5"), ("p50", "median", "mean"), ("p95",))
#: ensemble series shown at most (the largest by their middle value)
MAX_BAND_SERIES = 6


def pathway_charts(root: Path) -> dict[str, str]:
    """``pathway``, ``sector`` and ``region`` charts of the run folder ``root``'s ``totals.csv``."""
    totals = pd.read_csv(root / "totals.csv")
    return {"pathway": pathway_chart(totals), "sector": sector_chart(totals), "region": region_chart(totals)}


def event_charts(root: Path) -> dict[str, str]:
    """``events`` chart of ``root/facility_events.csv`` (none when it is missing or has no rows)."""
    path = root / "facility_events.csv"
    events = pd.read_csv(path) if path.is_file() else pd.DataFrame()
    return {} if events.empty else {"events": events_chart(events)}


def storage_charts(root: Path) -> dict[str, str]:
    """``storage`` chart of ``root/storage.csv`` (none when the run has no storage account)."""
    path = root / "storage.csv"
    return {"storage": storage_chart(pd.read_csv(path))} if path.is_file() else {}


#: the report's chart groups by the run-folder table each is drawn from (one call each: a map
#: worker each during a run)
CHART_GROUPS = {"totals.csv": pathway_charts, "facility_events.csv": event_charts, "storage.csv": storage_charts}


def draw_charts(root: Path) -> dict[str, str]:
    """Every chart of :data:`CHART_GROUPS` of the run folder ``root``, by name."""
    return {name: chart for group in CHART_GROUPS.values() for name, chart in group(root).items()}


def svg(fig: Figure) -> str:
    """``fig`` as an inline ``<svg>`` element (no XML prolog), text as text, deterministic."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "gridcarbon"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    return re.sub(r"(?s)^.*?(?=<svg)", "", text)


def _axes(title: str, ylabel: str):
    fig = figure(figsize=FIGSIZE)
    fig.subplots_adjust(**MARGINS)
    ax = fig.add_subplot()
    ax.set(title=title, ylabel=ylabel, xlabel="year")
    ax.grid(alpha=0.3)
    return fig, ax


def _colours(n: int) -> list:
    cmap = matplotlib.colormaps[SERIES_CMAP]
    return [cmap(i % cmap.N) for i in range(n)]


def pathway_chart(totals: pd.DataFrame) -> str:
    """Gross emissions, removals and net per year (Mt), summed over regions and sectors."""
    removal = totals["sector"].map(lambda s: SECTORS[s].removal)
    by_year = totals.assign(removal=removal).pivot_table(index="year", columns="removal", values="allocated_t",
                                                         aggfunc="sum", fill_value=0.0) / T_PER_MT
    gross, removals = by_year.get(False, 0.0), by_year.get(True, 0.0)
    fig, ax = _axes("Pathway: gross, removals and net", "Mt CO2 / yr")
    ax.plot(by_year.index, gross, color="#b2182b", label="gross")
    ax.plot(by_year.index, removals, color="#1b7837", label="removals")
    ax.plot(by_year.index, gross + removals, color="black", lw=2, label="net")
    ax.axhline(0, color="grey", lw=0.8)
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.0, 0.5))
    return svg(fig)


def sector_chart(totals: pd.DataFrame) -> str:
    """Allocated emissions per sector and year (Mt), stacked; removals stacked below zero."""
    table = totals.pivot_table(index="year", columns="sector", values="allocated_t", aggfunc="sum") / T_PER_MT
    order = [s for s in SECTORS if s in table]
    fig, ax = _axes("Emissions by sector (allocated)", "Mt CO2 / yr")
    colours = dict(zip(order, _colours(len(order))))
    for sign in (1, -1):
        part = [s for s in order if (table[s] * sign > 0).any()]
        if not part:  # a study area without removals (or, in principle, without emissions)
            continue
        ax.stackplot(table.index, *[table[s].clip(lower=0) if sign > 0 else table[s].clip(upper=0) for s in part],
                     labels=[SECTORS[s].label for s in part], colors=[colours[s] for s in part])
    ax.axhline(0, color="grey", lw=0.8)
    ax.legend(fontsize="x-small", loc="center left", bbox_to_anchor=(1.0, 0.5))
    return svg(fig)


def region_chart(totals: pd.DataFrame) -> str:
    """Gross emissions per region and year (Mt), stacked; beyond MAX_REGION_SERIES the
    smallest base-year regions are summed."""
    gross = totals[~totals["sector"].map(lambda s: SECTORS[s].removal)]
    table = gross.pivot_table(index="year", columns="region", values="allocated_t", aggfunc="sum") / T_PER_MT
    table = table[table.iloc[0].sort_values(ascending=False).index]
    if table.shape[1] > MAX_REGION_SERIES:
        kept = table.iloc[:, :MAX_REGION_SERIES - 1]
        table = kept.assign(**{"other regions": table.iloc[:, MAX_REGION_SERIES - 1:].sum(axis=1)})
    fig, ax = _axes("Gross emissions by region (allocated)", "Mt CO2 / yr")
    ax.stackplot(table.index, *[table[c] for c in table], labels=list(table), colors=_colours(table.shape[1]))
    ax.legend(fontsize="x-small", loc="center left", bbox_to_anchor=(1.0, 0.5))
    return svg(fig)


def region_table(totals: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """Gross and net Mt per region in ``years`` (the exported years), with the change first to last."""
    removal = totals["sector"].map(lambda s: SECTORS[s].removal)
    part = totals[totals["year"].isin(years)]
    gross = part[~removal[part.index]].pivot_table(index="region", columns="year", values="allocated_t",
                                                  aggfunc="sum") / T_PER_MT
    net = part.pivot_table(index="region", columns="year", values="allocated_t", aggfunc="sum") / T_PER_MT
    table = gross.rename(columns=lambda y: f"gross {y}, Mt").join(net.rename(columns=lambda y: f"net {y}, Mt"))
    table[f"gross change {years[0]}-{years[-1]}, %"] = (gross[years[-1]] / gross[years[0]] - 1) * 100
    return table.sort_values(f"gross {years[0]}, Mt", ascending=False)


def events_chart(events: pd.DataFrame) -> str:
    """Facility events (built, retired, relocated, retrofitted...) counted per year, stacked bars."""
    counts = events.pivot_table(index="year", columns="event", values="id", aggfunc="count", fill_value=0)
    fig, ax = _axes("Facility events per year", "facilities")
    bottom = np.zeros(len(counts))
    for colour, event in zip(_colours(counts.shape[1]), counts):
        ax.bar(counts.index, counts[event], bottom=bottom, label=event, color=colour)
        bottom += counts[event].to_numpy()
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.0, 0.5))
    return svg(fig)


def storage_chart(storage: pd.DataFrame) -> str:
    """Cumulative injection over capacity (fill, %) of each region's storage sites per year."""
    sums = storage.groupby(["region", "year"])[["cumulative_t", "capacity_t"]].sum()
    fill = (sums["cumulative_t"] / sums["capacity_t"].where(sums["capacity_t"] > 0) * 100).unstack("region")
    fig, ax = _axes("Geological storage filled (cumulative injection / capacity)", "% of capacity")
    for colour, region in zip(_colours(fill.shape[1]), fill):
        ax.plot(fill.index, fill[region], label=region, color=colour)
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.0, 0.5), ncol=2)
    return svg(fig)


def ensemble_chart(table: pd.DataFrame) -> str:
    """p5-p95 bands (and the middle) per year of ``totals_ensemble.csv`` series (Mt).

    A series is a combination of the table's text columns (region, sector...); when some
    are named total, gross or net, only those are drawn, else the largest MAX_BAND_SERIES.
    """
    lower, middle, upper = (next(c for c in table if any(re.fullmatch(f"{k}(_t)?", c) for k in keys))
                            for keys in BAND_COLUMNS)
    keys = [c for c in table.select_dtypes(exclude="number") if c != "year"]
    label = table[keys].astype(str).agg(" ".join, axis=1) if keys else pd.Series("total", index=table.index)
    series = table.assign(series=label)
    wanted = series["series"].str.contains(r"\b(?:total|gross|net)\b")
    if wanted.any():
        series = series[wanted]
    order = series.groupby("series")[middle].apply(lambda v: v.abs().max()).sort_values(ascending=False)
    fig, ax = _axes("Ensemble: p5-p95 band and middle", "Mt CO2 / yr")
    for colour, name in zip(_colours(MAX_BAND_SERIES), order.index[:MAX_BAND_SERIES]):
        part = series[series["series"] == name].sort_values("year")
        ax.fill_between(part["year"], part[lower] / T_PER_MT, part[upper] / T_PER_MT, color=colour, alpha=0.3)
        ax.plot(part["year"], part[middle] / T_PER_MT, color=colour, label=name)
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.0, 0.5))
    return svg(fig)
