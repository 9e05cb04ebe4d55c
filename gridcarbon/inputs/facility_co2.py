"""Plant-level CO2 (t CO2/yr) from physical activity, for the facility tables of :mod:`gridcarbon.inputs.facilities`.

Pure functions on the readers' frames. Each ``*_co2`` returns a DataFrame on the frame's index:

- ``co2_t`` (float, t CO2/yr in ``year``; 0 for rows not operating in that year, see :func:`operating_in`),
- ``used_default`` (bool: a missing field was filled by a documented default),
- ``basis`` (str: how the row was estimated, e.g. ``"gem fields"``, ``"reported production 2023"``).

Emissions are direct (scope 1): electricity used by electric arc furnaces or cement mills is counted
at the power plants. Every constant is named once here with its source, or marked ASSUMPTION.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from gridcarbon.inputs.facilities import OPERATING_STATUSES

#: base year of the built-in baselines
BASE_YEAR = 2024
HOURS_PER_YEAR = 8760.0
#: 1 Btu (International Table) = 1055.056 J = 1.055056e-9 TJ
TJ_PER_BTU = 1.055056e-9
KWH_PER_MWH = 1000.0
#: a heat rate in Btu/kWh times this is TJ of fuel per MWh generated
BTU_PER_KWH_TO_TJ_PER_MWH = TJ_PER_BTU * KWH_PER_MWH
T_PER_KG, T_PER_KT, T_PER_MT, MWH_PER_GWH = 1e-3, 1e3, 1e6, 1e3

# ------------------------------------------------------------------ coal power
#: coal fields filled when missing: median of the same combustion technology, else of the fleet
#: (the frame given), else these GCPT values for China: heat rate of "unknown" technology units
#: (Btu/kWh), IPCC 2006 sub-bituminous default (kg CO2/TJ; GCPT's factor for "unknown" coal),
#: GCPT's capacity factor for every Chinese unit
COAL_FIELDS = {"heat_rate_btu_per_kwh": 10_326.0, "emission_factor_kg_per_tj": 96_100.0, "capacity_factor": 0.53}

# ------------------------------------------------------------------ gas power
#: IPCC 2006 Guidelines, Vol. 2, Ch. 1, Table 1.4: natural gas default CO2 factor, t CO2/TJ
GAS_EF_T_PER_TJ = 56.1
#: ASSUMPTION: fleet heat rate 6,562 Btu/kWh = 52 % net efficiency: modern Chinese F-class CCGTs
#: reach 55-58 % at full load, CHP, part-load and peaking units less; the same 52 % as
#: gridcarbon.inputs.sources.GPPD_EMISSION_FACTORS ("Gas" 0.388 t/MWh)
GAS_HEAT_RATE_BTU_PER_KWH = 6_562.0
#: t CO2 per MWh generated: 6,562 Btu/kWh x 1.055056e-6 x 56.1 = 0.388
GAS_T_PER_MWH = GAS_HEAT_RATE_BTU_PER_KWH * BTU_PER_KWH_TO_TJ_PER_MWH * GAS_EF_T_PER_TJ
#: full-load hours of gas plants without a generation figure: China Electricity Council 2023,
#: gas ~2,300 h (as data/china_calibration.yaml, power_hours)
GAS_DEFAULT_HOURS = 2300.0

# ------------------------------------------------------------------ steel
#: NBS, Statistical Communique on the 2024 National Economic and Social Development: crude steel
#: output 1,005.09 Mt (worldsteel, World Steel in Figures 2025: China 1,005.1 Mt)
STEEL_OUTPUT_MT = 1005.09
#: GEM GIST (Dec 2025) crude steel capacity of China's operating + operating pre-retirement blocks
#: (data/facilities/steel_plants.csv), Mt/yr. ASSUMPTION: it stands for the national capacity the
#: national output comes from: GIST covers plants from 0.5 Mt/yr, and capacity replacement rules
#: left few smaller mills
STEEL_CAPACITY_MT = 1052.4
#: t crude steel per t of capacity (0.955)
STEEL_UTILISATION = STEEL_OUTPUT_MT / STEEL_CAPACITY_MT
#: ASSUMPTION: t CO2/t crude steel of the integrated BF-BOF route, direct: the IPCC 2006 Tier 1 BOF
#: factor (Vol. 3, Ch. 4, Table 4.1: 1.46) leaves out sinter (0.20 t/t sinter) and coke (0.56 t/t
#: coke), which add ~0.4 at Chinese burdens; worldsteel's Sustainability Indicators give ~2.3 for
#: BF-BOF including purchased electricity and upstream. 2.0 lies between (and is the value of
#: data/china_calibration.yaml, steel_intensity)
BF_BOF_T_PER_T = 2.0
#: IPCC 2006 Vol. 3, Ch. 4, Table 4.1, Tier 1: EAF 0.08 t CO2/t steel (electrodes, charge carbon)
EAF_T_PER_T = 0.08
#: IPCC 2006 Vol. 3, Ch. 4, Table 4.1, Tier 1: DRI 0.70 t CO2/t DRI
DRI_T_PER_T = 0.70
#: IPCC 2006 Vol. 3, Ch. 4, Table 4.1, Tier 1: pig iron not converted to steel 1.35 t CO2/t
PIG_IRON_T_PER_T = 1.35
#: ASSUMPTION: a plant's reported crude steel output is used when it lies within these multiples
#: of its operating steel capacity; outside, the figure most likely covers a group of plants (GEM
#: reports some at company level) or part of a year, and capacity x utilisation is used
REPORTED_RANGE = (0.3, 1.3)

# ------------------------------------------------------------------ cement
#: NBS, Statistical Communique 2024: cement output 1,825 Mt
CEMENT_OUTPUT_MT = 1825.0
#: ASSUMPTION: clinker-to-cement ratio 0.66 (China in the 2020s about 0.64-0.68; cf. Andrew 2019,
#: Global CO2 emissions from cement production, ESSD 11, 1675)
CLINKER_TO_CEMENT = 0.66
#: China Cement Association via trade press (2024/2025): national clinker capacity ~1,793 Mt/yr
CLINKER_CAPACITY_MT = 1793.0
#: t clinker per t of clinker capacity (0.672)
CLINKER_UTILISATION = CEMENT_OUTPUT_MT * CLINKER_TO_CEMENT / CLINKER_CAPACITY_MT
#: IPCC 2006 Vol. 3, Ch. 2, eq. 2.4: 0.51 t CO2/t clinker x 1.02 (kiln dust) = 0.52 t CO2/t clinker
#: (WBCSD-CSI Cement CO2 Protocol default: 0.525)
CLINKER_PROCESS_T_PER_T = 0.52
#: ASSUMPTION: kiln fuel 3.5 GJ/t clinker (Chinese NSP kilns 3.1-3.6 GJ/t), all coal
KILN_FUEL_GJ_PER_T = 3.5
#: IPCC 2006 Vol. 2, Ch. 1, Table 1.4: other bituminous coal 94.6 t CO2/TJ = 0.0946 t CO2/GJ
COAL_T_PER_GJ = 0.0946
#: kiln fuel CO2 per t clinker (0.331)
CLINKER_FUEL_T_PER_T = KILN_FUEL_GJ_PER_T * COAL_T_PER_GJ
#: clinker capacity (Mt/yr) of a kiln plant with no clinker or cement capacity in a frame without
#: any known clinker capacity either. ASSUMPTION: one 5,000 t/day line, 310 days
FALLBACK_CLINKER_MT = 1.55


def operating_in(frame: pd.DataFrame, year: int = BASE_YEAR, *, planned_retirement: bool = False) -> pd.Series:
    """Rows that emit in ``year``: status in :data:`OPERATING_STATUSES`, started by ``year``
    (``start_year`` <= year or unknown), not retired (``retired_year`` > year or empty).

    ``planned_retirement=True`` also drops coal units whose ``planned_retirement_year`` <= year
    (for future years; in the base year GEM's status is the better evidence).
    """
    live = frame["status"].isin(OPERATING_STATUSES)
    if "start_year" in frame:
        live &= ~(frame["start_year"] > year).fillna(False).astype(bool)
    if "retired_year" in frame:
        live &= ~(frame["retired_year"] <= year).fillna(False).astype(bool)
    if planned_retirement and "planned_retirement_year" in frame:
        live &= ~(frame["planned_retirement_year"] <= year).fillna(False).astype(bool)
    return live.astype(bool)


def _result(frame: pd.DataFrame, co2_t, used_default, basis, live: pd.Series) -> pd.DataFrame:
    out = pd.DataFrame({"co2_t": np.asarray(co2_t, dtype=float), "used_default": np.asarray(used_default, bool),
                        "basis": np.asarray(basis, dtype=object)}, index=frame.index)
    out.loc[~live, "co2_t"] = 0.0
    return out


def _filled(frame: pd.DataFrame, col: str, by: str, fallback: float) -> pd.Series:
    """``col`` with gaps filled by the median of its ``by`` group, else the column median, else ``fallback``."""
    values = frame[col].astype(float)
    group = values.groupby(frame[by]).transform("median")
    fleet = values.median()
    return values.fillna(group).fillna(fallback if np.isnan(fleet) else fleet)


def coal_co2(units: pd.DataFrame, year: int = BASE_YEAR) -> pd.DataFrame:
    """Coal units: capacity (MW) x capacity factor x 8760 h (MWh) x heat rate (Btu/kWh ->
    TJ/MWh: x 1.055056e-6) x emission factor (kg CO2/TJ) x 1e-3 (t/kg) = t CO2/yr.

    Missing heat rate, emission factor or capacity factor: :data:`COAL_FIELDS` rule.
    """
    live = operating_in(units, year)
    filled = {c: _filled(units, c, "combustion_technology", v) for c, v in COAL_FIELDS.items()}
    missing = units[list(COAL_FIELDS)].isna()
    mwh = units["capacity_mw"] * filled["capacity_factor"] * HOURS_PER_YEAR
    tj = mwh * filled["heat_rate_btu_per_kwh"] * BTU_PER_KWH_TO_TJ_PER_MWH
    co2 = tj * filled["emission_factor_kg_per_tj"] * T_PER_KG
    basis = missing.apply(lambda r: "default " + ", ".join(r.index[r]) if r.any() else "gem fields", axis=1)
    return _result(units, co2, missing.any(axis=1), basis, live)


def gas_co2(plants: pd.DataFrame, year: int = BASE_YEAR) -> pd.DataFrame:
    """Gas plants: generation (GWh, GPPD's 2017 estimate) x 1000 (MWh/GWh) x :data:`GAS_T_PER_MWH`.

    ASSUMPTION: GPPD's 2017 estimate stands for the base year's output of these plants. Without a
    generation figure: capacity (MW) x :data:`GAS_DEFAULT_HOURS` (MWh) x the same factor.
    """
    live = operating_in(plants, year)
    gen = plants["generation_gwh_2017"].astype(float)
    mwh = (gen * MWH_PER_GWH).fillna(plants["capacity_mw"] * GAS_DEFAULT_HOURS)
    basis = np.where(gen.isna(), "capacity x default hours", "generation 2017")
    return _result(plants, mwh * GAS_T_PER_MWH, gen.isna(), basis, live)


def steel_co2(blocks: pd.DataFrame, year: int = BASE_YEAR) -> pd.DataFrame:
    """Steel blocks: output (t/yr) x route factor (t CO2/t), summed over routes.

    Output = capacity (kt/yr x 1000) x utilisation: the plant's reported crude steel / its
    operating steel capacity where reported and plausible (:data:`REPORTED_RANGE`), else
    :data:`STEEL_UTILISATION`. BOF capacity x :data:`BF_BOF_T_PER_T`, EAF x :data:`EAF_T_PER_T`,
    DRI x :data:`DRI_T_PER_T`; blast furnaces of plants without operating BOF capacity (iron
    sold as pig iron) x :data:`PIG_IRON_T_PER_T`. Empty capacities count as 0.
    """
    live = operating_in(blocks, year)
    cap = blocks[["bof_steel_kt", "eaf_steel_kt", "bf_iron_kt", "dri_iron_kt"]].astype(float).fillna(0.0)
    per_plant = cap[live].groupby(blocks["plant_id"][live]).sum()
    plant = per_plant.reindex(blocks["plant_id"]).fillna(0.0).set_axis(blocks.index)
    steel_cap = plant["bof_steel_kt"] + plant["eaf_steel_kt"]
    reported = blocks["reported_crude_steel_kt"].astype(float).where(live)
    reported = reported.groupby(blocks["plant_id"]).transform("max")
    ratio = reported / steel_cap.where(steel_cap > 0)
    usable = ratio.between(*REPORTED_RANGE)
    util = ratio.where(usable, STEEL_UTILISATION)
    pig_iron = cap["bf_iron_kt"].where(plant["bof_steel_kt"] <= 0, 0.0)
    co2 = util * T_PER_KT * (cap["bof_steel_kt"] * BF_BOF_T_PER_T + cap["eaf_steel_kt"] * EAF_T_PER_T
                             + cap["dri_iron_kt"] * DRI_T_PER_T + pig_iron * PIG_IRON_T_PER_T)
    reported_year = blocks["reported_year"].astype(float).where(live).groupby(blocks["plant_id"]).transform("max")
    basis = np.where(usable, "reported production " + reported_year.fillna(0).astype(int).astype(str),
                     "capacity x utilisation")
    return _result(blocks, co2, np.zeros(len(blocks), bool), basis, live)


def clinker_capacity(plants: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Clinker capacity (Mt/yr) of each plant and whether it was filled by a default.

    Grinding plants have none. A kiln plant (integrated, clinker, unknown) without it takes its
    cement capacity x the median clinker/cement ratio of integrated plants reporting both, else
    the median clinker capacity of its plant type, else of all kiln plants, else
    :data:`FALLBACK_CLINKER_MT`.
    """
    clinker = plants["clinker_capacity_mt"].astype(float)
    cement = plants["cement_capacity_mt"].astype(float)
    kiln = ~plants["plant_type"].eq("grinding")
    both = plants["plant_type"].eq("integrated") & clinker.gt(0) & cement.gt(0)
    ratio = (clinker[both] / cement[both]).median()
    guess = cement * ratio if both.any() else pd.Series(np.nan, index=plants.index)
    guess = guess.fillna(clinker[kiln].groupby(plants["plant_type"][kiln]).transform("median").reindex(plants.index))
    overall = clinker[kiln].median()
    guess = guess.fillna(FALLBACK_CLINKER_MT if np.isnan(overall) else overall)
    used = kiln & clinker.isna()
    return clinker.where(~used, guess).where(kiln, 0.0), used


def cement_co2(plants: pd.DataFrame, year: int = BASE_YEAR) -> pd.DataFrame:
    """Cement plants: clinker capacity (Mt/yr x 1e6) x :data:`CLINKER_UTILISATION` x (process
    :data:`CLINKER_PROCESS_T_PER_T` + kiln fuel :data:`CLINKER_FUEL_T_PER_T`) t CO2/t clinker.

    Grinding-only plants emit 0 (no kiln; their electricity is counted at power plants).
    Missing clinker capacity: :func:`clinker_capacity`.
    """
    live = operating_in(plants, year)
    clinker, used = clinker_capacity(plants)
    co2 = clinker * T_PER_MT * CLINKER_UTILISATION * (CLINKER_PROCESS_T_PER_T + CLINKER_FUEL_T_PER_T)
    basis = np.select([plants["plant_type"].eq("grinding"), used], ["grinding only", "default clinker capacity"],
                      "clinker capacity")
    return _result(plants, co2, used, basis, live)
