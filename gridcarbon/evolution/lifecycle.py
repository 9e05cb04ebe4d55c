"""Facility life cycles: retirement by age and plan, and the real pipeline.

- **Age hazard** (coal units): the yearly chance that a coal unit retires at its age, per
  technology class and 10-year age band, is the share of China's coal units at that age that
  retired in a year of :data:`HAZARD_WINDOW` in the GEM Global Coal Plant Tracker (July 2023,
  ``gridcarbon/data/facilities/coal_units.csv``: retired year minus start year over unit-years
  at risk). Subcritical, CFB and unknown units: 0.6 %, 2.3 %, 3.2 %, 7.2 % and 18 % a year
  below 10, 20, 30, 40 and from 40 years; no supercritical or ultra-supercritical unit retired
  in the window, so they retire only through the target rules. Other sectors have no
  calibrated hazard and retire through the target rules alone.
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

import numpy as np
import pandas as pd

from gridcarbon.evolution.fleet import PIPELINE, Fleet
from gridcarbon.inputs.data import read_table

#: the years whose retirements calibrate the age hazard: the last ten of the tracker (its
#: July 2023 release records retirements up to 2023), China's current closure policies
HAZARD_WINDOW = (2014, 2023)
#: lower edges of the hazard's age bands (years)
AGE_BANDS = (0, 10, 20, 30, 40)
#: coal technologies of the low-efficiency class (the retirement campaigns' target)
SUBCRITICAL = ("subcritical", "cfb", "unknown")
#: years a due pipeline row may wait for room before it is cancelled: ASSUMPTION, GEM moves a
#: project without progress for two to four years to shelved, then cancelled
PIPELINE_MAX_DELAY = 5


@lru_cache(maxsize=1)
def coal_hazard() -> pd.DataFrame:
    """Yearly retirement hazard of coal units, index (class ``sub``/``sc``, band lower edge)."""
    c = read_table("facilities/coal_units.csv")
    c = c[c.status.isin(["operating", "retired", "mothballed"]) & c.start_year.notna()]
    c = c[~((c.status == "retired") & c.retired_year.isna())]  # a retirement without a year
    cls = np.where(c.combustion_technology.isin(SUBCRITICAL), "sub", "sc")
    rows = []
    for year in range(HAZARD_WINDOW[0], HAZARD_WINDOW[1] + 1):
        alive = ((c.start_year < year) & (c.retired_year.isna() | (c.retired_year >= year))).to_numpy()
        band = _band(year - c.start_year.to_numpy()[alive])
        rows.append(pd.DataFrame({"cls": cls[alive], "band": band, "retired": c.retired_year.to_numpy()[alive] == year}))
    d = pd.concat(rows)
    return d.groupby(["cls", "band"]).retired.mean().rename("hazard").to_frame()


def _band(age: np.ndarray) -> np.ndarray:
    """Lower edge of the :data:`AGE_BANDS` band of each age (years)."""
    edges = np.asarray(AGE_BANDS)
    return edges[np.clip(np.searchsorted(edges, age, side="right") - 1, 0, edges.size - 1)]


def retire_by_age_and_plan(fleet: Fleet, year: int, rng: np.random.Generator, skip: frozenset[str] = frozenset()
                           ) -> None:
    """Retire coal units drawn by the age hazard and every plant past its planned retirement
    (not in the sectors ``skip``, whose life cycle follows the allocation's power system)."""
    t = fleet.table
    draw = rng.random(len(t))
    active = ((t.status == "active") & ~t.sector.isin(list(skip))).to_numpy()
    planned = active & (t.planned_retirement.to_numpy(float) <= year)
    coal = active & (t.fuel == "coal").to_numpy()
    haz = coal_hazard().hazard
    cls = np.where(t.technology.isin(SUBCRITICAL), "sub", "sc")
    band = _band(year - t.year_built.to_numpy())
    h = np.array([haz.get((c, b), 0.0) for c, b in zip(cls, band)])
    gone = planned | (coal & (draw < h))
    if gone.any():
        t.loc[gone, "status"] = "retired"
        fleet.log(year, t.loc[gone], "retired")


def cancel_stale(fleet: Fleet, year: int, skip: frozenset[str] = frozenset()) -> None:
    """Cancel pipeline rows never needed within :data:`PIPELINE_MAX_DELAY` years of coming due
    (not in the sectors ``skip``)."""
    t = fleet.table
    stale = ((t.status == PIPELINE) & ~(t.planned_year.to_numpy(float) + PIPELINE_MAX_DELAY >= year)
             & ~t.sector.isin(list(skip)))
    if stale.any():
        t.loc[stale, "status"] = "cancelled"
        fleet.log(year, t.loc[stale], "cancelled")


def take_pipeline(fleet: Fleet, year: int, region_pos: int, sector: str, short_t: float) -> float:
    """Build due pipeline rows of a region x sector, earliest first, until their throughput
    covers ``short_t`` (t CO2/yr of pre-capture potential); returns what is still short."""
    t = fleet.table
    due = t[(t.status == PIPELINE) & (t.region_pos == region_pos) & (t.sector == sector)
            & (t.planned_year <= year) & (t.potential_t > 0)].sort_values(["planned_year", "id"])
    taken = []
    for i, row in due.iterrows():
        if short_t <= 0:
            break
        taken.append(i)
        short_t -= row.potential_t
    if taken:
        t.loc[taken, ["status", "year_built"]] = ["active", year]
        fleet.log(year, t.loc[taken], "built")
    return short_t
