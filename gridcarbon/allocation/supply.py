"""Abatement supply per region: business-as-usual emissions and cost curves from what a province has.

The shipped cost curves (:func:`gridcarbon.inputs.mac_curves.load_mac_curves`) are national
averages, with segment widths as fractions of a cell's business-as-usual (BAU) emissions. Two
measures are made province-specific from the real facilities (``docs/architecture.md``,
"Allocation"; sources in ``data/ALLOCATION_SOURCES.md``):

- **CCS on kilns and blast furnaces** (:data:`CCS_SEGMENTS`) costs the pipeline transport from
  the province's plants (capacity-weighted, GEM cement and steel trackers) to the nearest
  large storage county (Xing et al. 2021), relative to the national mean distance;
- **the BF-BOF -> EAF shift** of steel (:data:`EAF_SEGMENT`) is as wide as the scrap the province
  can collect allows: scrap in proportion to its share of national GDP (the built steel stock
  that becomes scrap), against its crude steel capacity, minus the EAF share it already has.

Regions the facility tables do not know (a user's own region set) keep the national curve.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from gridcarbon.core.sectors import EMITTING
from gridcarbon.inputs.data import data_path
from gridcarbon.inputs.drivers import read_drivers
from gridcarbon.inputs.facilities import read_cement_plants, read_steel_plants
from gridcarbon.inputs.layers import read_storage_table

#: ASSUMPTION: segments (0-based) of the shipped curves that stand for capture and storage at
#: the plant: cement's last two (CCUS on kilns), the last of steel and chemicals
#: (``data/ALLOCATION_SOURCES.md`` describes the segments)
CCS_SEGMENTS = {"cement": (2, 3), "steel": (3,), "chemical": (3,)}
#: ASSUMPTION: steel's second segment is the scrap-based BF-BOF -> EAF shift; what scrap cannot
#: cover moves to the next segment (hydrogen / DRI routes)
EAF_SEGMENT, EAF_SPILL_SEGMENT = 1, 2
#: CO2 pipeline transport, yuan per t per km: about 0.7 in 2030 (China CCUS Annual Report 2021,
#: CAEP / Institute of Rock and Soil Mechanics CAS / ACCA21), held for all years (ASSUMPTION)
PIPELINE_YUAN_PER_T_KM = 0.7
#: ASSUMPTION: pipelines run 1.3 times the straight-line distance (terrain, rights of way)
ROUTE_FACTOR = 1.3
#: ASSUMPTION: a county holding >= 1000 Mt of storage (Xing et al. 2021) can serve as a hub:
#: 20 Mt/yr captured for 50 years
STORAGE_HUB_MT = 1000.0
#: ASSUMPTION: China's long-run scrap supply about 400 Mt/yr (about 230-260 Mt/yr collected in
#: 2021-2023 by the China Association of Metalscrap Utilization, growing with the in-use stock)
LONG_RUN_SCRAP_MT = 400.0
#: ASSUMPTION: scrap EAF steel emits about 0.3 t CO2/t against about 2 t for BF-BOF (worldsteel
#: sustainability indicators 2023): moving a tonne of output saves 85 % of its emissions
EAF_ABATEMENT_FRAC = 0.85
#: ASSUMPTION: without new policy the CO2 intensity of GDP falls 3 %/yr (China's fell about
#: 4 %/yr in 2005-2020 with active policy, 48.4 % in 15 years, MEE 2021): BAU = E0 x GDP growth
#: x 0.97^years
AUTONOMOUS_INTENSITY_DECLINE = 0.03
#: sectors where China allows no net new capacity: a new steel or cement line must replace
#: retired capacity at 1.25:1 or more in key regions (MIIT, Implementation Measures for
#: Capacity Replacement in the Iron and Steel Industry, 2021; ... in the Cement and Glass
#: Industries, 2021), so their BAU emissions do not grow with GDP
CAPACITY_REPLACEMENT = ("steel", "cement")
#: year of the national GDP shares that apportion the scrap (the shipped drivers' base year)
SCRAP_GDP_YEAR = 2024
#: ASSUMPTION: the shipped cost of a segment is the marginal cost at its end; within a segment
#: the marginal cost rises in this many equal steps from the previous segment's cost (from 0
#: for the first). A rising curve instead of four flat steps: regions with different BAU
#: growth or curves then settle on different prices when they cannot trade, and the optimum
#: no longer splits a flat step among regions arbitrarily.
SUBSTEPS = 2
#: GEM status values that count as running capacity
RUNNING = ("operating", "operating pre-retirement")
EARTH_RADIUS_KM = 6371.0


def business_as_usual(e0: np.ndarray, gdp: np.ndarray, sectors: list[str],
                      decline: float = AUTONOMOUS_INTENSITY_DECLINE) -> np.ndarray:
    """BAU emissions (Mt, (R, S, T)): base-year emissions grown with the region's GDP, less
    :data:`AUTONOMOUS_INTENSITY_DECLINE`, and never above the base year in the
    :data:`CAPACITY_REPLACEMENT` sectors. ``e0`` (R, S) Mt of ``sectors``; ``gdp`` (R, T) yuan,
    base year first; ``decline`` the autonomous intensity decline (1/yr)."""
    years = np.arange(gdp.shape[1])
    factor = gdp / gdp[:, :1] * (1 - decline) ** years[None, :]
    bau = e0[:, :, None] * factor[:, None, :]
    capped = np.isin(sectors, CAPACITY_REPLACEMENT)
    bau[:, capped] = np.minimum(bau[:, capped], e0[:, capped, None])
    return bau


def regional_curves(mac: dict[str, list[tuple[float, float]]], regions: list[str],
                    facts: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Segment widths (fractions of BAU) and costs (yuan/t) per region and emitting sector, (R, S, J).

    ``facts``: :func:`supply_facts` (index region). Sectors with fewer segments are padded
    with zero-width segments; each segment is then split into :data:`SUBSTEPS` rising steps.
    """
    n_seg = max(len(mac[s]) for s in EMITTING)
    widths, costs = np.zeros((len(regions), len(EMITTING), n_seg)), np.zeros((len(regions), len(EMITTING), n_seg))
    for i, sector in enumerate(EMITTING):
        w, c = np.array(mac[sector], dtype=float).T
        widths[:, i, :len(w)], costs[:, i, :len(c)] = w, c
        costs[:, i, len(c):] = c[-1]
    known = np.array([r in facts.index for r in regions])
    if known.any():
        national_km = facts.attrs.get("national_ccs_distance_km", float(facts["ccs_distance_km"].mean()))
        _regionalise(widths, costs, known, facts.reindex([r for r in regions if r in facts.index]), national_km)
    return _substeps(widths, costs)


def ccs_steps(n_steps: int) -> np.ndarray:
    """Which steps of the curves :func:`regional_curves` returns (``n_steps`` per sector) are
    capture and storage at the plant, (S, n_steps) bool over :data:`EMITTING`."""
    mask = np.zeros((len(EMITTING), n_steps), dtype=bool)
    for sector, segments in CCS_SEGMENTS.items():
        for j in segments:
            mask[EMITTING.index(sector), j * SUBSTEPS:(j + 1) * SUBSTEPS] = True
    return mask


def _substeps(widths: np.ndarray, costs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each segment as :data:`SUBSTEPS` equal steps rising from the previous segment's cost to its own."""
    previous = np.concatenate([np.zeros(costs.shape[:2] + (1,)), costs[:, :, :-1]], axis=2)
    k = np.arange(1, SUBSTEPS + 1) / SUBSTEPS
    stepped = previous[..., None] + (costs - previous)[..., None] * k
    split = np.repeat(widths[..., None] / SUBSTEPS, SUBSTEPS, axis=3)
    return split.reshape(*widths.shape[:2], -1), stepped.reshape(*costs.shape[:2], -1)


def _regionalise(widths: np.ndarray, costs: np.ndarray, known: np.ndarray, rows: pd.DataFrame,
                 national_km: float) -> None:
    """CCS segments priced by distance to storage, the EAF segment bounded by scrap, in place."""
    extra = PIPELINE_YUAN_PER_T_KM * ROUTE_FACTOR * (rows["ccs_distance_km"].to_numpy() - national_km)
    for sector, segments in CCS_SEGMENTS.items():
        i = EMITTING.index(sector)
        for j in segments:
            costs[known, i, j] = np.maximum(costs[known, i, j] + extra, 0.0)
        costs[:, i] = np.maximum.accumulate(costs[:, i], axis=1)   # keep the curve convex
    steel = EMITTING.index("steel")
    room = rows["eaf_room_frac"].to_numpy()
    base = widths[known, steel, EAF_SEGMENT]
    new = np.minimum(EAF_ABATEMENT_FRAC * room, base + widths[known, steel, EAF_SPILL_SEGMENT])
    widths[known, steel, EAF_SPILL_SEGMENT] += base - new
    widths[known, steel, EAF_SEGMENT] = new


def supply_facts() -> pd.DataFrame:
    """Per province: ``ccs_distance_km`` (capacity-weighted km from cement and steel plants to
    the nearest storage hub), ``eaf_share`` (EAF share of crude steel capacity), ``scrap_frac``
    (long-run scrap / crude steel capacity, <= 1) and ``eaf_room_frac`` (share of BF-BOF output
    scrap could still move to EAF). ``attrs['national_ccs_distance_km']``: the national mean.
    A fresh copy of a table computed once per process."""
    return _supply_facts().copy()


@lru_cache(maxsize=1)
def _supply_facts() -> pd.DataFrame:
    """:func:`supply_facts`, computed from the shipped facility and storage tables."""
    storage = read_storage_table()
    hubs = storage[storage["storage_mt"] >= STORAGE_HUB_MT][["lon", "lat"]].to_numpy(float)
    cement = read_cement_plants()
    cement = cement[cement["status"].isin(RUNNING)]
    steel = read_steel_plants()
    steel = steel[steel["status"].isin(RUNNING)].fillna({"bof_steel_kt": 0.0, "eaf_steel_kt": 0.0})
    plants = pd.DataFrame({
        "region": [*cement["region"], *steel["region"]],
        "weight": [*cement["clinker_capacity_mt"].fillna(0.0), *(steel["bof_steel_kt"] / 1e3)],
        "km": _nearest_km(np.r_[cement[["lon", "lat"]].to_numpy(float), steel[["lon", "lat"]].to_numpy(float)],
                          hubs)})
    plants = plants[plants["weight"] > 0]
    distance = plants.groupby("region").apply(lambda g: np.average(g["km"], weights=g["weight"]),
                                              include_groups=False)
    national_km = float(np.average(plants["km"], weights=plants["weight"]))
    scrap = _scrap_room(steel)
    facts = pd.DataFrame({"ccs_distance_km": distance}).join(scrap, how="outer").fillna(
        {"ccs_distance_km": national_km, "eaf_room_frac": scrap.attrs["national_eaf_room_frac"]})
    facts.attrs["national_ccs_distance_km"] = national_km
    return facts.sort_index()


def _scrap_room(steel: pd.DataFrame) -> pd.DataFrame:
    """EAF share, scrap / capacity and room for EAF per province with steel capacity."""
    drivers = read_drivers(data_path("china_drivers.csv"))
    gdp = drivers[drivers["year"] == SCRAP_GDP_YEAR]
    gdp_share = gdp.set_index("region")["gdp_yuan"] / gdp["gdp_yuan"].sum()
    cap = steel.groupby("region")[["bof_steel_kt", "eaf_steel_kt"]].sum() / 1e3
    cap = cap[cap.sum(axis=1) > 0]
    total = cap.sum(axis=1)
    eaf_share = cap["eaf_steel_kt"] / total
    scrap = np.minimum(LONG_RUN_SCRAP_MT * gdp_share.reindex(cap.index).fillna(0.0) / total, 1.0)
    room = np.maximum(scrap - eaf_share, 0.0) / np.maximum(1 - eaf_share, 1e-9)
    national = cap.sum()
    national_room = max(LONG_RUN_SCRAP_MT / national.sum() - national["eaf_steel_kt"] / national.sum(), 0.0)
    frame = pd.DataFrame({"eaf_share": eaf_share, "scrap_frac": scrap, "eaf_room_frac": room})
    frame.attrs["national_eaf_room_frac"] = national_room / (1 - national["eaf_steel_kt"] / national.sum())
    return frame


def _nearest_km(points: np.ndarray, hubs: np.ndarray) -> np.ndarray:
    """Great-circle km from each (lon, lat) point to the nearest hub."""
    lon1, lat1 = np.radians(points[:, :1]), np.radians(points[:, 1:])
    lon2, lat2 = np.radians(hubs[:, 0])[None, :], np.radians(hubs[:, 1])[None, :]
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return (2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))).min(axis=1)
