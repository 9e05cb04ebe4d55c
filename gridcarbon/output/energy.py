"""Energy tables and plots of a run: ``energy.csv``, ``energy_summary.csv``, mix and share figures.

``energy.csv``: ``region, year, technology, capacity_gw, generation_twh, emissions_t`` per
technology of the power system (:mod:`gridcarbon.allocation.power`) and ``imports`` (net
inflow from outside and from other study regions, TWh, negative = net exports; capacity = the
outside line rating, GW; emissions = the indirect emissions of the imports from outside, t).

``energy_summary.csv``: ``region, year, electricity_demand_twh, non_fossil_share_electricity,
primary_energy_mtce, non_fossil_share_primary``, one row per region and year plus ``total``
(the study area). Primary energy in Mt of standard coal equivalent (tce, 29.3076 GJ):

- non-fossil electricity by the coal-equivalent method at :data:`COAL_EQUIVALENT` tce/MWh;
- fossil power by fuel burnt: coal and gas CO2 / :data:`FUEL_CARBON` (t CO2/tce); with
  capture, generation x :data:`CCS_HEAT_RATE`;
- electricity flowing in: from outside with a non-fossil part ``1 - intensity /``
  :data:`FOSSIL_IMPORT_FACTOR`, from other study regions with the study area's generation
  mix, all at the coal-equivalent factor; a net exporter counts the fuels of the
  electricity it uses itself (its generation scaled by demand / generation);
- other sectors: allocated CO2 / :data:`SECTOR_CARBON` (t CO2/tce of the sector's fuel).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from gridcarbon.allocation.power import PowerSolution
from gridcarbon.allocation.power_data import HOURS_TWH, LINE_UTILISATION, TECHNOLOGIES
from gridcarbon.core.units import T_PER_MT

#: ASSUMPTION: coal-equivalent factor for non-fossil electricity, tce/MWh (0.300 kgce/kWh: the order
#: of China's standard coal consumption of thermal power supply, 0.30 kgce/kWh in 2023, CEC), held
COAL_EQUIVALENT = 0.300
#: IPCC 2006 default CO2 per tce of fuel: coal 94.6, gas 56.1 t/TJ x 29.3076 GJ/tce
FUEL_CARBON = {"coal": 2.77, "gas": 1.64}
#: ASSUMPTION: plants with capture burn about 30 % more fuel per MWh (coal 0.39, gas 0.26 tce/MWh)
CCS_HEAT_RATE = {"coal_ccs": 0.39, "gas_ccs": 0.26}
#: ASSUMPTION: imports from outside are fossil in proportion to intensity / 0.85 t/MWh (the
#: intensity of coal-dominated fossil generation of the sending grids)
FOSSIL_IMPORT_FACTOR = 0.85
#: figure colours per technology (and imports), fixed so that every run's plots read alike
COLOURS = {"coal": "#3d3d3d", "gas": "#9e7b5a", "nuclear": "#8e44ad", "hydro": "#1f77b4", "onshore_wind": "#2ca02c",
           "offshore_wind": "#17becf", "solar": "#f2c200", "biomass": "#6b8e23", "coal_ccs": "#7f7f7f",
           "gas_ccs": "#d2b48c", "imports": "#e377c2"}
#: ASSUMPTION: t CO2 per tce of each non-power sector's fuel mix (IPCC factors, coal 2.77, oil 2.15,
#: gas 1.64): steel coal and coke; cement 2.77 / 0.4 as about 60 % of its CO2 is from the process,
#: not fuel; chemical a coal/oil/gas mix with some process CO2; transport oil; buildings gas and
#: coal; agriculture diesel and coal. Non-electric non-fossil energy (biofuels, solar heat) is left out.
SECTOR_CARBON = {"steel": 2.77, "cement": 6.9, "chemical": 2.4, "other_industry": 2.6, "transport_road": 2.15,
                 "transport_other": 2.15, "buildings": 2.2, "agriculture": 2.3}


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


def summary_table(ps: PowerSolution, totals: pd.DataFrame) -> pd.DataFrame:
    """``energy_summary.csv`` rows (see the module docstring for the method); ``totals`` in t CO2/yr."""
    s, gen = ps.system, ps.generation
    fossil = s.fossil
    nf_local = gen[:, ~fossil].sum(axis=1)
    pool_nf = gen[:, ~fossil].sum(axis=(0, 1)) / np.maximum(gen.sum(axis=(0, 1)), 1e-12)
    fuel = _power_fuel(ps)
    f = ps.flows
    inflow = f["I"] + np.maximum(f["Ti"] - f["To"], 0)
    nf_in = (f["I"] * (1 - s.intensity[None, :] / FOSSIL_IMPORT_FACTOR)
             + np.maximum(f["Ti"] - f["To"], 0) * pool_nf[None, :]) / np.maximum(inflow, 1e-12)
    net = s.demand - gen.sum(axis=1)
    use = np.where(net < 0, s.demand / np.maximum(gen.sum(axis=1), 1e-12), 1.0)
    nf_elec = np.where(net < 0, nf_local * use, nf_local + np.maximum(net, 0) * nf_in)
    fossil_power = np.where(net < 0, fuel * use, fuel + np.maximum(net, 0) * (1 - nf_in) * COAL_EQUIVALENT)
    other = _other_fuel(totals, s.regions, s.years)
    nf_primary = nf_elec * COAL_EQUIVALENT
    primary = fossil_power + nf_primary + other
    rows = {"electricity_demand_twh": s.demand, "nf_elec": nf_elec, "primary_energy_mtce": primary,
            "nf_primary": nf_primary}
    frames = [_frame(s.regions, s.years, rows), _frame(["total"], s.years, {k: v.sum(axis=0, keepdims=True)
                                                                             for k, v in rows.items()})]
    out = pd.concat(frames, ignore_index=True)
    out["non_fossil_share_electricity"] = out.pop("nf_elec") / out["electricity_demand_twh"]
    out["non_fossil_share_primary"] = out.pop("nf_primary") / out["primary_energy_mtce"]
    return out[["region", "year", "electricity_demand_twh", "non_fossil_share_electricity", "primary_energy_mtce",
                "non_fossil_share_primary"]]


def _power_fuel(ps: PowerSolution) -> np.ndarray:
    """Fossil fuel burnt for power (R, T), Mtce."""
    col = TECHNOLOGIES.index
    fuel = sum(ps.emissions[:, col(g)] / FUEL_CARBON[g] for g in FUEL_CARBON)
    return fuel + sum(ps.generation[:, col(g)] * rate for g, rate in CCS_HEAT_RATE.items())


def _other_fuel(totals: pd.DataFrame, regions: list[str], years: list[int]) -> np.ndarray:
    """Fuel of the non-power sectors (R, T), Mtce, from their allocated CO2."""
    mine = totals[totals["sector"].isin(list(SECTOR_CARBON))]
    mtce = mine["allocated_t"] / T_PER_MT / mine["sector"].map(SECTOR_CARBON)
    table = mtce.groupby([mine["region"], mine["year"]]).sum().unstack("year")
    return table.reindex(index=regions, columns=years).fillna(0.0).to_numpy()


def _frame(regions: list[str], years: list[int], columns: dict[str, np.ndarray]) -> pd.DataFrame:
    r, t = np.meshgrid(np.arange(len(regions)), np.arange(len(years)), indexing="ij")
    return pd.DataFrame({"region": np.array(regions)[r.ravel()], "year": np.array(years)[t.ravel()],
                         **{k: v.ravel() for k, v in columns.items()}})


def write_energy(tables: dict[str, pd.DataFrame], root: Path) -> None:
    """Write ``energy.csv``, ``energy_summary.csv`` and the figures under ``root/maps`` (no-op without tables)."""
    if not tables:
        return
    tables["energy"].to_csv(root / "energy.csv", index=False, float_format="%.6f")
    tables["energy_summary"].to_csv(root / "energy_summary.csv", index=False, float_format="%.6f")
    (root / "maps").mkdir(exist_ok=True)
    plot_energy(tables, root / "maps")


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
    fig = Figure(figsize=(3.2 * cols, 2.6 * -(-len(regions) // cols)), dpi=100)
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
    fig = Figure(figsize=(8, 3.2), dpi=100)
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


def energy_tables(allocation) -> dict[str, pd.DataFrame]:
    """``{"energy", "energy_summary"}`` of an :class:`~gridcarbon.allocation.AllocationResult` ({} without power)."""
    if allocation.power is None:
        return {}
    return {"energy": energy_table(allocation.power),
            "energy_summary": summary_table(allocation.power, allocation.totals)}


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
