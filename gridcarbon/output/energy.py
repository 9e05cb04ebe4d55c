"""Energy tables and plots of a run: ``energy.csv``, ``energy_summary.csv``, ``primary_energy.csv``, figures.

``energy.csv``: ``region, year, technology, capacity_gw, generation_twh, emissions_t`` per
technology of the power system (:mod:`gridcarbon.allocation.power`) and ``imports`` (net
inflow from outside and from other study regions, TWh, negative = net exports; capacity = the
outside line rating, GW; emissions = the indirect emissions of the imports from outside, t).

``primary_energy.csv``: ``region, year, component, fossil, mtce``: primary energy by component
(technologies, ``imports``, the other sectors' fuel, BECCS biomass), method in
:mod:`.energy_accounting`; ``total`` rows sum the regions.

``energy_summary.csv``: ``region, year, electricity_demand_twh, non_fossil_share_electricity,
primary_energy_mtce, non_fossil_share_primary``, one row per region and year plus ``total``
(the study area): sums of ``primary_energy.csv``; the electricity share is the non-fossil
electricity (generated and flowing in, used in the region) over demand.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from gridcarbon.allocation.power import PowerSolution
from gridcarbon.allocation.power_data import HOURS_TWH, LINE_UTILISATION, TECHNOLOGIES
from gridcarbon.core.units import T_PER_MT
from gridcarbon.output.canvas import figure
from gridcarbon.output.energy_accounting import COAL_EQUIVALENT, primary_components
from gridcarbon.output.map_process import draw_now

#: figure colours per technology (and imports), fixed so that every run's plots read alike
COLOURS = {"coal": "#3d3d3d", "gas": "#9e7b5a", "nuclear": "#8e44ad", "hydro": "#1f77b4", "onshore_wind": "#2ca02c",
           "offshore_wind": "#17becf", "solar": "#f2c200", "biomass": "#6b8e23", "coal_ccs": "#7f7f7f",
           "gas_ccs": "#d2b48c", "imports": "#e377c2"}


def energy_table(ps: PowerSolution) -> pd.DataFrame:
    """``energy.csv`` rows: every region x year x technology and ``imports``."""
    s = ps.system
    r, g, t = np.meshgrid(np.arange(len(s.regions)), np.arange(len(TECHNOLOGIES)), np.arange(len(s.years)),
                          indexing="ij")
    plants = pd.DataFrame({"region": np.array(s.regions)[r.ravel()], "year": np.array(s.years)[t.ravel()],
                           "technology": np.array(TECHNOLOGIES)[g.ravel()], "capacity_gw": ps.capacity.ravel(),
                           "generation_twh": ps.generation.ravel(), "emissions_t": ps.emissions.ravel() * T_PER_MT})
    f = ps.flows
    net = f["I"] - f["X"] + f["Ti"] - f["To"]
    rr, tt = np.meshgrid(np.arange(len(s.regions)), np.arange(len(s.years)), indexing="ij")
    imports = pd.DataFrame({"region": np.array(s.regions)[rr.ravel()], "year": np.array(s.years)[tt.ravel()],
                            "technology": "imports", "capacity_gw": (s.import_cap / HOURS_TWH / LINE_UTILISATION).ravel(),
                            "generation_twh": net.ravel(),
                            "emissions_t": (f["I"] * s.intensity[None, :]).ravel() * T_PER_MT})
    return (pd.concat([plants, imports], ignore_index=True)
            .sort_values(["region", "year"], kind="stable").reset_index(drop=True))


def primary_table(components: pd.DataFrame) -> pd.DataFrame:
    """``primary_energy.csv`` rows: the regions' components and their ``total`` over regions."""
    total = components.groupby(["year", "component", "fossil"], sort=False, as_index=False)["mtce"].sum()
    return pd.concat([components, total.assign(region="total")[components.columns]], ignore_index=True)


def summary_table(ps: PowerSolution, primary: pd.DataFrame) -> pd.DataFrame:
    """``energy_summary.csv`` rows from ``primary`` (:func:`primary_table`); see the module docstring."""
    s = ps.system
    keys = ["region", "year"]
    total = primary.groupby(keys, sort=False)["mtce"].sum()
    clean = primary[~primary["fossil"]]
    non_fossil = clean.groupby(keys, sort=False)["mtce"].sum().reindex(total.index, fill_value=0.0)
    electric = clean[clean["component"].isin([*TECHNOLOGIES, "imports"])]
    nf_twh = electric.groupby(keys, sort=False)["mtce"].sum().reindex(total.index, fill_value=0.0) / COAL_EQUIVALENT
    demand = pd.Series(np.concatenate([s.demand.ravel(), s.demand.sum(axis=0)]),
                       index=pd.MultiIndex.from_arrays(
                           [np.repeat([*s.regions, "total"], len(s.years)), np.tile(s.years, len(s.regions) + 1)],
                           names=keys))
    demand = demand.reindex(total.index)
    out = pd.DataFrame({"electricity_demand_twh": demand, "non_fossil_share_electricity": nf_twh / demand,
                        "primary_energy_mtce": total, "non_fossil_share_primary": non_fossil / total})
    return out.reset_index()[["region", "year", "electricity_demand_twh", "non_fossil_share_electricity",
                              "primary_energy_mtce", "non_fossil_share_primary"]]


def write_energy(tables: dict[str, pd.DataFrame], root: Path, *, submit: Callable[..., None] = draw_now) -> None:
    """Write ``energy.csv``, ``energy_summary.csv``, ``primary_energy.csv`` and the figures under
    ``root/maps`` (no-op without tables); the figures are drawn by ``submit(plot, *args)`` (e.g. a
    :meth:`~gridcarbon.output.map_process.MapProcess.submit`, default here and now)."""
    if not tables:
        return
    tables["energy"].to_csv(root / "energy.csv", index=False, float_format="%.6f")
    tables["energy_summary"].to_csv(root / "energy_summary.csv", index=False, float_format="%.6f")
    tables["primary_energy"].to_csv(root / "primary_energy.csv", index=False, float_format="%.6f")
    (root / "maps").mkdir(exist_ok=True)
    submit(plot_energy, tables, root / "maps")


def plot_energy(tables: dict[str, pd.DataFrame], maps: Path) -> None:
    """``generation_mix.png`` and ``non_fossil_shares.png`` in the folder ``maps``."""
    plot_mix(tables["energy"], maps / "generation_mix.png")
    plot_shares(tables["energy_summary"], maps / "non_fossil_shares.png")


def replot_energy(folder: Path, maps: Path) -> None:
    """Redraw the energy figures of a written run ``folder`` into ``maps`` (nothing without its tables)."""
    if (folder / "energy.csv").is_file() and (folder / "energy_summary.csv").is_file():
        plot_energy({"energy": pd.read_csv(folder / "energy.csv"),
                     "energy_summary": pd.read_csv(folder / "energy_summary.csv")}, maps)


def plot_mix(energy: pd.DataFrame, path: Path) -> None:
    """Stacked generation by technology (and net imports) per region, TWh/yr."""
    regions = list(pd.unique(energy["region"]))
    cols = min(len(regions), 4)
    fig = figure(figsize=(3.2 * cols, 2.6 * -(-len(regions) // cols)), dpi=100)
    for k, region in enumerate(regions):
        ax = fig.add_subplot(-(-len(regions) // cols), cols, k + 1)
        table = energy[energy["region"] == region].pivot(index="year", columns="technology", values="generation_twh")
        table = table[[*TECHNOLOGIES, "imports"]].clip(lower=0)
        ax.stackplot(table.index, table.T.to_numpy(), labels=table.columns, colors=[COLOURS[c] for c in table.columns])
        ax.set_title(region, fontsize=8)
        ax.tick_params(labelsize=6)
    fig.axes[0].legend(fontsize=5, loc="upper left")
    fig.suptitle("Electricity supply by technology, imports = net inflow (TWh/yr)", fontsize=9, y=0.995)
    fig.savefig(path, metadata={"Software": None})


def plot_shares(summary: pd.DataFrame, path: Path) -> None:
    """Non-fossil shares of electricity and of primary energy per region and the total."""
    fig = figure(figsize=(8, 3.2), dpi=100)
    for k, column in enumerate(("non_fossil_share_electricity", "non_fossil_share_primary")):
        ax = fig.add_subplot(1, 2, k + 1)
        for region, rows in summary.groupby("region", sort=False):
            ax.plot(rows["year"], 100 * rows[column], lw=2.0 if region == "total" else 0.7, label=region)
        ax.set_title(column.replace("_", " ") + " (%)", fontsize=8)
        ax.tick_params(labelsize=6)
        ax.set_ylim(0, 100)
    if summary["region"].nunique() <= 8:
        fig.axes[0].legend(fontsize=6)
    fig.savefig(path, metadata={"Software": None})


def energy_tables(allocation, capture_rate: float) -> dict[str, pd.DataFrame]:
    """``{"energy", "energy_summary", "primary_energy"}`` of an
    :class:`~gridcarbon.allocation.AllocationResult` ({} without power); ``capture_rate``: the
    scenario's ``evolution.capture_rate`` (share of BECCS CO2 stored)."""
    if allocation.power is None:
        return {}
    primary = primary_table(primary_components(allocation.power, allocation.totals, capture_rate))
    return {"energy": energy_table(allocation.power), "primary_energy": primary,
            "energy_summary": summary_table(allocation.power, primary)}


def energy_manifest(allocation, tables: dict[str, pd.DataFrame], years: list[int]) -> dict:
    """The study area's non-fossil shares (%) in ``years``, the method and the base-year calibration."""
    if not tables:
        return {}
    total = tables["energy_summary"].set_index(["region", "year"]).loc["total"]
    s = allocation.power.system
    return {"non_fossil_share_primary_pct": {int(y): round(100 * total.loc[y, "non_fossil_share_primary"], 2)
                                             for y in years},
            "non_fossil_share_electricity_pct": {int(y): round(100 * total.loc[y, "non_fossil_share_electricity"], 2)
                                                 for y in years},
            "method": f"coal-equivalent, {COAL_EQUIVALENT} tce/MWh for non-fossil electricity",
            "base_year": {"demand_twh": round(float(s.demand[:, 0].sum()), 3),
                          "imports_twh": round(float(s.imports0.sum()), 3),
                          "import_intensity_t_per_mwh": round(float(s.intensity[0]), 4)}}
