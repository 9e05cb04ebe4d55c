"""Primary energy of a run by component, coal-equivalent method (``energy_summary.csv``, ``primary_energy.csv``).

Primary energy in Mt of standard coal equivalent (Mtce; 1 tce = 29.3076 GJ), per region, year
and component, each fossil or non-fossil:

- **non-fossil electricity** generated in the region (nuclear, hydro, wind, solar, biomass) by
  the coal-equivalent method at :data:`COAL_EQUIVALENT` tce/MWh (the method of China's energy
  statistics for the non-fossil share);
- **fossil power** by the fuel burnt: coal and gas CO2 / :data:`FUEL_CARBON`; plants with
  capture by generation x :data:`CCS_HEAT_RATE` (their captured CO2 is fuel burnt too);
- **electricity flowing in** (component ``imports``), at the coal-equivalent factor: from
  outside the study area non-fossil in the share ``1 - intensity /`` :data:`FOSSIL_IMPORT_FACTOR`
  (the sending grids' fossil part at their carbon intensity, which the allocation calibrates
  to the base-year indirect emissions), from other study regions with the study area's
  generation mix. The receiving region counts its net inflow; a net exporter counts only the
  electricity it uses itself (each of its components x demand / generation), so imported
  electricity is counted once, where it is used, and the study area's total is the sum of its
  regions;
- **fuel of the other sectors** from their allocated CO2: energy CO2 (the sector's CO2 less
  its process share, :data:`PROCESS_SHARE`) / the t CO2 per tce of the sector's fuel mix
  (:data:`SECTOR_FUEL_CARBON`);
- **biomass of BECCS** (non-fossil): the allocated removal / (capture rate x
  :data:`BIOMASS_CARBON`), at its calorific value.

Non-electric renewables (solar heat, geothermal, liquid biofuels) are not counted.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from gridcarbon.allocation.power import PowerSolution
from gridcarbon.allocation.power_data import TECHNOLOGIES
from gridcarbon.core.units import T_PER_MT

#: ASSUMPTION: coal-equivalent factor for non-fossil electricity, tce/MWh (0.300 kgce/kWh: the order
#: of China's standard coal consumption of thermal power supply, 0.30 kgce/kWh in 2023, CEC), held
COAL_EQUIVALENT = 0.300
#: IPCC 2006 Guidelines vol. 2 table 1.4, default CO2 per tce of fuel: other bituminous coal
#: 94.6 t/TJ and natural gas 56.1 t/TJ, x 29.3076 GJ/tce
FUEL_CARBON = {"coal": 2.77, "gas": 1.64}
#: ASSUMPTION: plants with capture burn about 30 % more fuel per MWh (coal 0.39, gas 0.26 tce/MWh)
CCS_HEAT_RATE = {"coal_ccs": 0.39, "gas_ccs": 0.26}
#: ASSUMPTION: imports from outside are fossil in proportion to intensity / 0.85 t/MWh (the
#: intensity of coal-dominated fossil generation of the sending grids)
FOSSIL_IMPORT_FACTOR = 0.85
#: t CO2 per tce of each sector's fuel mix, from the IPCC 2006 defaults (vol. 2 table 1.4, x 29.3076
#: GJ/tce: coal 2.77, diesel 74.1 t/TJ = 2.17, gasoline 69.3 t/TJ = 2.03, gas 1.64). Steel and cement
#: burn coal (steel counted at the coal entering its coke ovens); road and other transport oil
#: products (diesel and gasoline, 2.15); ASSUMPTION for the mixes: chemical coal/oil/gas 2.4,
#: other industry mostly coal with some gas 2.6, buildings gas and coal 2.2, agriculture diesel
#: and coal 2.3
SECTOR_FUEL_CARBON = {"steel": 2.77, "cement": 2.77, "chemical": 2.4, "other_industry": 2.6, "transport_road": 2.15,
                      "transport_other": 2.15, "buildings": 2.2, "agriculture": 2.3}
#: share of a sector's CO2 that is not from fuel: cement calcination 0.52 t CO2/t clinker (IPCC 2006
#: vol. 3 ch. 2 default, 0.5-0.53) of the 0.85 t CO2/t clinker of the inventory's cement plants;
#: ASSUMPTION: chemicals 0.1 (ammonia and methanol syngas CO2 beyond their fuel), other sectors 0
PROCESS_SHARE = {"cement": 0.52 / 0.85, "chemical": 0.1}
#: IPCC 2006 vol. 2 table 1.4: wood and wood waste 112 t CO2/TJ, x 29.3076 GJ/tce, t CO2/tce
BIOMASS_CARBON = 3.28
#: components in the order of the tables
COMPONENTS = [*TECHNOLOGIES, "imports", *SECTOR_FUEL_CARBON, "beccs"]


def primary_components(ps: PowerSolution, totals: pd.DataFrame, capture_rate: float) -> pd.DataFrame:
    """Primary energy (Mtce) per region x year x component: ``region, year, component, fossil, mtce``.

    ``totals``: region, sector, year, allocated_t (t CO2/yr); ``capture_rate``: the share of a
    BECCS plant's CO2 that is stored (the scenario's ``evolution.capture_rate``).
    """
    s, gen = ps.system, ps.generation
    generated = gen.sum(axis=1)
    net = s.demand - generated
    use = np.where(net < 0, s.demand / np.maximum(generated, 1e-12), 1.0)   # net exporters use a part
    power = np.where(s.fossil[None, :, None], _power_fuel(ps), gen * COAL_EQUIVALENT) * use[:, None, :]
    nf_in = _inflow_non_fossil(ps)
    inflow = np.maximum(net, 0.0) * COAL_EQUIVALENT
    values = {g: power[:, k] for k, g in enumerate(TECHNOLOGIES)}
    values["imports"] = (inflow * nf_in, inflow * (1 - nf_in))
    sectors = _sector_table(totals, s.regions, s.years)
    for sector, carbon in SECTOR_FUEL_CARBON.items():
        values[sector] = sectors[sector] * (1 - PROCESS_SHARE.get(sector, 0.0)) / carbon
    values["beccs"] = -sectors["beccs"] / (capture_rate * BIOMASS_CARBON) if capture_rate > 0 else 0 * sectors["beccs"]
    fossil = {**{g: bool(f) for g, f in zip(TECHNOLOGIES, s.fossil)}, **dict.fromkeys(SECTOR_FUEL_CARBON, True),
              "beccs": False}
    frames = []
    for name in COMPONENTS:
        if name == "imports":
            frames += [_frame(s.regions, s.years, name, False, values[name][0]),
                       _frame(s.regions, s.years, name, True, values[name][1])]
        else:
            frames.append(_frame(s.regions, s.years, name, fossil[name], values[name]))
    return pd.concat(frames, ignore_index=True)


def _power_fuel(ps: PowerSolution) -> np.ndarray:
    """Fossil fuel burnt (R, G, T), Mtce, per technology (0 for non-fossil ones)."""
    col, out = TECHNOLOGIES.index, np.zeros_like(ps.generation)
    for g, carbon in FUEL_CARBON.items():
        out[:, col(g)] = ps.emissions[:, col(g)] / carbon
    for g, rate in CCS_HEAT_RATE.items():
        out[:, col(g)] = ps.generation[:, col(g)] * rate
    return out


def _inflow_non_fossil(ps: PowerSolution) -> np.ndarray:
    """Non-fossil share (R, T) of the electricity flowing into each region (outside and study regions)."""
    s, f, gen = ps.system, ps.flows, ps.generation
    pool = gen[:, ~s.fossil].sum(axis=(0, 1)) / np.maximum(gen.sum(axis=(0, 1)), 1e-12)
    trade_in = np.maximum(f["Ti"] - f["To"], 0)
    inflow = f["I"] + trade_in
    clean = f["I"] * (1 - s.intensity[None, :] / FOSSIL_IMPORT_FACTOR) + trade_in * pool[None, :]
    return clean / np.maximum(inflow, 1e-12)


def _sector_table(totals: pd.DataFrame, regions: list[str], years: list[int]) -> dict[str, np.ndarray]:
    """Allocated CO2 (R, T), Mt, of each non-power sector and BECCS (negative)."""
    out = {}
    for sector in [*SECTOR_FUEL_CARBON, "beccs"]:
        rows = totals[totals["sector"] == sector]
        table = rows.pivot_table(index="region", columns="year", values="allocated_t", aggfunc="sum")
        out[sector] = table.reindex(index=regions, columns=years).fillna(0.0).to_numpy() / T_PER_MT
    return out


def _frame(regions: list[str], years: list[int], component: str, fossil: bool, mtce: np.ndarray) -> pd.DataFrame:
    r, t = np.meshgrid(np.arange(len(regions)), np.arange(len(years)), indexing="ij")
    return pd.DataFrame({"region": np.array(regions)[r.ravel()], "year": np.array(years)[t.ravel()],
                         "component": component, "fossil": fossil, "mtce": np.asarray(mtce, float).ravel()})
