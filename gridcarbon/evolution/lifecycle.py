"""Facility life cycles: retirement by age and plan, and the real pipeline.

- **Age hazard** (:func:`age_hazard`): the yearly chance that a plant retires at its age, per
  sector, class and 10-year age band.

  - *Coal power*: the share of China's coal units at that age that retired in a year of
    :data:`HAZARD_WINDOW` in the GEM Global Coal Plant Tracker (July 2023,
    ``gridcarbon/data/facilities/coal_units.csv``: retired year minus start year over unit-years
    at risk). Subcritical, CFB and unknown units: 0.6 %, 2.3 %, 3.2 %, 7.2 % and 18 % a year
    below 10, 20, 30, 40 and from 40 years; no supercritical or ultra-supercritical unit retired
    in the window, so they retire only through the target rules. Gas plants have no hazard.
  - *Steel*: the same count on the GEM Global Iron and Steel Tracker (December 2025,
    ``facilities/steel_plants.csv``, one row per plant and status block) over
    :data:`STEEL_WINDOW`, per size class: blocks below :data:`STEEL_LARGE_MT` retire 0.7 %,
    2.3 %, 2.0 %, 1.4 % and 2.0 % a year by age band (58 dated closures in 3,006 block-years);
    no larger works closed (0 in 172), so they retire only through the target rules. The 92
    retired blocks without a retirement year (capacity replaced inside plants that still
    operate) are left out of both counts, as for coal.
  - *Cement*: the GEM Global Cement and Concrete Tracker (July 2025) gives no retirement years
    (71 retired plants), so it cannot calibrate a hazard: a Weibull lifetime
    (:data:`CEMENT_MEAN_LIFE`, :data:`CEMENT_WEIBULL_SHAPE`, ASSUMPTION) gives the band hazards.
  - Other sectors retire through the target rules alone.
- **Planned retirement**: a unit retires in its ``planned_retirement_year`` (GEM), a plant
  "operating pre-retirement" :data:`~.fleet.PRE_RETIREMENT_YEARS` after the base year.
- **Pipeline**: construction, permitted, pre-permit and announced rows come due in their start
  year (else the base year plus :data:`~.fleet.PIPELINE_LAG` of their status); due rows are what the
  build rule takes first, when the target needs throughput (:func:`take_pipeline`); a due row
  not needed within :data:`PIPELINE_MAX_DELAY` years is cancelled, as are shelved and mothballed
  rows.
"""
from __future__ import annotations

from functools import lru_cache
from math import gamma

import numpy as np
import pandas as pd

from gridcarbon.evolution.fleet import ACTIVE, CANCELLED, RETIRED, WAITING, Fleet
from gridcarbon.inputs.data import read_table
from gridcarbon.inventory.facilities import steel_capacity_mt

#: the years whose retirements calibrate the coal hazard: the last ten of the tracker (its
#: July 2023 release records retirements up to 2023), China's current closure policies
HAZARD_WINDOW = (2014, 2023)
#: the years whose retirements calibrate the steel hazard: the steel tracker (December 2025
#: release) dates retirements from 2017, the start of the capacity-replacement rules; 2025 is
#: left out, its one dated retirement being the release's incomplete year
STEEL_WINDOW = (2017, 2024)
#: lower edges of the hazard's age bands (years)
AGE_BANDS = (0, 10, 20, 30, 40)
#: width (years) of an age band, and of the last one when a lifetime distribution gives the hazard
BAND_YEARS = 10
#: coal technologies of the low-efficiency class (the retirement campaigns' target)
SUBCRITICAL = ("subcritical", "cfb", "unknown")
#: tracker statuses at risk of retiring: operating, retired (with a year) and mothballed rows;
#: steel adds blocks "operating pre-retirement" (still operating in the window)
AT_RISK = {"power": ("operating", "retired", "mothballed"),
           "steel": ("operating", "operating pre-retirement", "retired", "mothballed")}
#: mean lifetime (years) of a cement kiln. ASSUMPTION: heavy-industry plants (cement kilns,
#: blast furnaces) run about 40 years (IEA 2020, "Aligning investment and innovation in heavy
#: industries to accelerate the transition to net-zero emissions", the investment cycle of
#: Energy Technology Perspectives 2020); the cement tracker has no retirement years to check it
CEMENT_MEAN_LIFE = 40.0
#: Weibull shape of cement kiln lifetimes. ASSUMPTION: 4 makes retirement rare in a kiln's
#: first decades and concentrates it around the mean life (standard deviation ~11 years),
#: as refurbishment cycles of rotary kilns suggest; 1 would be age-blind
CEMENT_WEIBULL_SHAPE = 4.0
#: class of every plant of a sector without technology or size classes in the hazard
ALL = "all"
#: steel capacity (Mt/yr, as the fleet's ``capacity``) from which a works counts as large: no
#: block this large closed in :data:`STEEL_WINDOW` (0 of 172 block-years at risk; 6 of 435 at
#: 4-8 Mt/yr, 52 of 2,563 below 4 Mt/yr), so large works retire only through the target rules
STEEL_LARGE_MT = 8.0
#: years a due pipeline row may wait for room before it is cancelled: ASSUMPTION, GEM moves a
#: project without progress for two to four years to shelved, then cancelled
PIPELINE_MAX_DELAY = 5


@lru_cache(maxsize=1)
def age_hazard() -> pd.Series:
    """Yearly retirement probability (0..1) by (sector, class, age band lower edge in years):
    coal power classes ``sub`` / ``sc``, steel ``large`` / ``small`` (:data:`STEEL_LARGE_MT`),
    cement :data:`ALL`."""
    coal = read_table("facilities/coal_units.csv")
    coal_cls = np.where(coal.combustion_technology.isin(SUBCRITICAL), "sub", "sc")
    steel = read_table("facilities/steel_plants.csv")
    parts = [_tracker_hazard(coal, coal_cls, AT_RISK["power"], HAZARD_WINDOW).rename("power"),
             _tracker_hazard(steel, _steel_class(steel_capacity_mt(steel)), AT_RISK["steel"], STEEL_WINDOW).rename("steel"),
             _weibull_hazard(CEMENT_MEAN_LIFE, CEMENT_WEIBULL_SHAPE).rename("cement")]
    return pd.concat({p.name: p for p in parts}, names=["sector", "cls", "band"]).rename("hazard")


def _tracker_hazard(table: pd.DataFrame, cls: np.ndarray, statuses: tuple[str, ...],
                    window: tuple[int, int]) -> pd.Series:
    """Retirements in a year of ``window`` over the rows alive at its start, per (class, band):
    rows of ``statuses`` with a start year; retired rows without a retirement year are left out."""
    keep = (table.status.isin(statuses) & table.start_year.notna()
            & ~((table.status == "retired") & table.retired_year.isna())).to_numpy()
    t, cls = table[keep], cls[keep]
    rows = []
    for year in range(window[0], window[1] + 1):
        alive = ((t.start_year < year) & (t.retired_year.isna() | (t.retired_year >= year))).to_numpy()
        rows.append(pd.DataFrame({"cls": cls[alive], "band": _band(year - t.start_year.to_numpy()[alive]),
                                  "retired": t.retired_year.to_numpy()[alive] == year}))
    return pd.concat(rows).groupby(["cls", "band"]).retired.mean()


def _weibull_hazard(mean_life: float, shape: float) -> pd.Series:
    """Yearly retirement probability per age band of a Weibull lifetime of ``mean_life`` years:
    1 - (S(band end) / S(band start))^(1 / band width), S the survival function."""
    scale = mean_life / gamma(1.0 + 1.0 / shape)
    lo = np.asarray(AGE_BANDS, float)
    cum = ((lo + BAND_YEARS) / scale) ** shape - (lo / scale) ** shape  # -log S(hi) + log S(lo)
    return pd.Series(1.0 - np.exp(-cum / BAND_YEARS), index=pd.MultiIndex.from_product([[ALL], AGE_BANDS],
                                                                                         names=["cls", "band"]))


def _steel_class(capacity_mt) -> np.ndarray:
    """``large`` from :data:`STEEL_LARGE_MT` of capacity (Mt/yr), else ``small`` (unknown: small)."""
    return np.where(np.asarray(capacity_mt, float) >= STEEL_LARGE_MT, "large", "small")


def _band(age: np.ndarray) -> np.ndarray:
    """Lower edge of the :data:`AGE_BANDS` band of each age (years)."""
    edges = np.asarray(AGE_BANDS)
    return edges[np.clip(np.searchsorted(edges, age, side="right") - 1, 0, edges.size - 1)]


def plant_hazard(plants, year: int) -> np.ndarray:
    """Yearly retirement probability (0..1) of every plant in ``year``: coal power units by class
    and age, steel plants by size class and age, cement plants by age, other plants 0. ``plants``
    maps ``sector`` (names), ``fuel``, ``technology``, ``capacity`` and ``year_built`` to columns
    (a fleet table, or :attr:`.fleet.Fleet.named`)."""
    sector = np.asarray(plants["sector"], dtype=object)
    coal = (sector == "power") & (np.asarray(plants["fuel"], dtype=object) == "coal")
    cls = np.where(coal, np.where(np.isin(np.asarray(plants["technology"], dtype=object), SUBCRITICAL), "sub", "sc"),
                   np.where(sector == "steel", _steel_class(plants["capacity"]), ALL))
    sector = np.where((sector == "power") & ~coal, "", sector)  # gas: no hazard
    year_built = np.asarray(plants["year_built"])
    band = np.searchsorted(AGE_BANDS, _band(year - year_built))
    out = np.zeros(sector.size)
    for (s, c), hazard in _band_hazards().items():
        rows = (sector == s) & (cls == c)
        out[rows] = hazard[band[rows]]
    return out


@lru_cache(maxsize=1)
def _band_hazards() -> dict[tuple[str, str], np.ndarray]:
    """:func:`age_hazard` per (sector, class): the probability of each of :data:`AGE_BANDS` (0: no record)."""
    table = age_hazard()
    pairs = table.index.droplevel("band").unique()
    full = pd.MultiIndex.from_tuples([(s, c, b) for s, c in pairs for b in AGE_BANDS])
    values = table.reindex(full).fillna(0.0).to_numpy().reshape(len(pairs), len(AGE_BANDS))
    return {pair: values[k] for k, pair in enumerate(pairs)}


def retire_by_age_and_plan(fleet: Fleet, year: int, rng: np.random.Generator, skip: frozenset[str] = frozenset()
                           ) -> None:
    """Retire plants drawn by :func:`plant_hazard` and every plant past its planned retirement
    (not in the sectors ``skip``, whose life cycle follows the allocation's power system)."""
    draw = rng.random(len(fleet))
    active = fleet.active() & ~fleet.of_sector(*skip)
    planned = active & (fleet["planned_retirement"] <= year)
    gone = active & (planned | (draw < plant_hazard(fleet.named, year)))
    if gone.any():
        fleet["status"][gone] = RETIRED
        fleet.log(year, gone, "retired")


def cancel_stale(fleet: Fleet, year: int, skip: frozenset[str] = frozenset()) -> None:
    """Cancel pipeline rows never needed within :data:`PIPELINE_MAX_DELAY` years of coming due
    (not in the sectors ``skip``)."""
    stale = ((fleet["status"] == WAITING) & ~(fleet["planned_year"] + PIPELINE_MAX_DELAY >= year)
             & ~fleet.of_sector(*skip))
    if stale.any():
        fleet["status"][stale] = CANCELLED
        fleet.log(year, stale, "cancelled")


def take_pipeline(fleet: Fleet, year: int, region_pos: int, sector: str, short_t: float) -> float:
    """Build due pipeline rows of a region x sector, earliest first, until their throughput
    covers ``short_t`` (t CO2/yr of pre-capture potential); returns what is still short."""
    potential, planned = fleet["potential_t"], fleet["planned_year"]
    due = np.flatnonzero((fleet["status"] == WAITING) & (fleet["region_pos"] == region_pos)
                         & fleet.of_sector(sector) & (planned <= year) & (potential > 0))
    due = due[np.lexsort((fleet["id"][due].astype(str), planned[due]))]
    taken = []
    for i in due:
        if short_t <= 0:
            break
        taken.append(i)
        short_t -= potential[i]
    if taken:
        fleet["status"][taken] = ACTIVE
        fleet["year_built"][taken] = year
        fleet.log(year, np.asarray(taken), "built")
    return short_t
