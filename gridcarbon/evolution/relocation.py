"""Relocation of plants out of restricted cells at the rate China's relocation programmes achieved.

A plant is *due* when it stands in a restricted cell (urban core above
``urban_core_threshold`` built-up, ecological red line, water), has reached its refurbishment
age (:data:`RELOCATE_AGE`; a large integrated works :data:`LARGE_WORKS_LEAD_YEARS` later:
the years between the decision and the first output of the new works) and has never moved.
A due plant moves in a given year with probability 1 / :data:`PROGRAMME_YEARS` (drawn from
the year's generator), in order of its hazard (how far the city has grown around it, then
age), while the sector's relocated capacity of the year stays within its cap,
:data:`RELOCATION_CAP_SHARE` of the sector's base-year fleet (potential, t CO2/yr) in the
region set; a plant larger than what is left of the cap waits, and one larger than the whole
cap is upgraded in place. The destination is the best-suited allowed cell within
:data:`RELOCATE_RADIUS_KM` in its own region (moves between regions are :mod:`.transfer`'s).
Plants the run's transfer plan reserves are not relocated.
"""
from __future__ import annotations

import numpy as np

from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import GRIDDED
from gridcarbon.evolution.fleet import Fleet

#: age (years) at which a plant in a restricted cell is rebuilt elsewhere rather than refurbished
#: (ASSUMPTION: a blast furnace campaign / a coal unit's major overhaul comes at ~25 years)
RELOCATE_AGE = 25
#: how far (km) a relocating plant may move: industrial relocation in China mostly goes to a
#: park in the same or a neighbouring prefecture (ASSUMPTION)
RELOCATE_RADIUS_KM = 150.0
#: yearly cap on relocated capacity per sector, as a share of the sector's base-year fleet
#: (potential t CO2/yr) in the region set. Steel: Hebei's 2018 plan ordered nine city-centre
#: mills, 34.9 Mt/yr of capacity, to close and relocate by 2020 (Reuters, 11 Sep 2018,
#: "Factbox: China's Hebei orders steel mills to relocate in anti-smog drive"): ~12 Mt/yr a year
#: against Hebei's ~240 Mt of crude steel, 5 % a year, at the height of China's most intense
#: urban steel relocation programme. Other sectors: ASSUMPTION, the same rate (the State
#: Council's 2017 programme for hazardous-chemical plants in dense urban areas, Guobanfa
#: [2017] No. 77, gave them 2018-2025; no capacity figures are published for cement or power)
RELOCATION_CAP_SHARE = {"steel": 0.05, "chemical": 0.05, "cement": 0.05, "power": 0.05}
#: potential (t CO2/yr) from which a plant counts as a large integrated works: ASSUMPTION,
#: ~2.5 Mt of crude steel at ~2 t CO2/t (a works with its own blast furnaces and coke ovens)
LARGE_WORKS_T = 5e6
#: extra years a large integrated works needs before its relocation completes: Shougang's
#: move to Caofeidian was approved in 2005 and the Beijing works stopped in 2010 (5 years)
LARGE_WORKS_LEAD_YEARS = 5
#: years a relocation programme gives the plants it names: the State Council's programme for
#: hazardous-chemical plants in dense urban areas (Guobanfa [2017] No. 77) set 2018-2025, 8
#: years; a due plant's yearly chance of moving is its inverse (ASSUMPTION for other sectors)
PROGRAMME_YEARS = 8
#: years of age worth one unit of built-up fraction in the relocation hazard: ASSUMPTION,
#: encroachment by the city ranks first (the programmes name urban-core plants), age breaks ties
HAZARD_AGE_YEARS = 100.0


def relocation_caps(fleet: Fleet, scale: float = 1.0) -> dict[str, float]:
    """Yearly relocatable potential (t CO2/yr) per sector from the base-year active fleet:
    :data:`RELOCATION_CAP_SHARE` x ``scale`` (dimensionless) of its potential."""
    t = fleet.table
    base = t[t.status == "active"].groupby("sector").potential_t.sum()
    return {s: float(base.get(s, 0.0)) * share * scale for s, share in RELOCATION_CAP_SHARE.items()}


def relocate(fleet: Fleet, year: int, *, caps: dict[str, float], restricted: np.ndarray, built: np.ndarray,
             site, grid: Grid, rng: np.random.Generator) -> None:
    """Move the due plants of ``year`` that draw a move, within each sector's cap (module docstring).

    ``built`` is the year's built-up fraction (compact, on the grid's cell index); ``site(sector, region_pos, without, near)`` picks
    the best allowed cell of a region for a plant of ``sector``, ignoring the plant (row) ``without``,
    within ``near``: (centre cell, squared reach in cells) of the disc of :data:`RELOCATE_RADIUS_KM`.
    """
    c = fleet.columns
    due = (_due(fleet, year, restricted.ravel()) & ~np.isin(c["id"], list(fleet.reserved))
           & (rng.random(len(fleet)) < 1.0 / PROGRAMME_YEARS))
    if not due.any():
        return
    rows = np.flatnonzero(due)
    hazard = grid.cell_index.at(built, c["cell"][rows]) + (year - c["year_built"][rows]) / HAZARD_AGE_YEARS
    left = dict(caps)
    region = grid.region_index.ravel()
    reach2 = (RELOCATE_RADIUS_KM * 1000.0 / grid.res) ** 2  # squared radius (cells), between cell centres
    for i in rows[np.lexsort((c["id"][rows].astype(str), -hazard))]:
        sector, potential, cell = GRIDDED[c["sector"][i]], c["potential_t"][i], int(c["cell"][i])
        if potential > left.get(sector, 0.0):
            continue
        new = site(sector, int(c["region_pos"][i]), i, (cell, reach2))  # moves between regions: .transfer
        if new.size == 0:
            continue
        left[sector] -= potential
        fleet.log(year, np.array([i]), "relocated", to_cell=new)
        c["moved_from"][i], c["moved_year"][i], c["cell"][i], c["year_built"][i] = cell, year, new[0], year
        c["region_pos"][i] = region[new[0]]


def _due(fleet: Fleet, year: int, restricted: np.ndarray) -> np.ndarray:
    """Active, never moved plants in restricted cells past their relocation age (and lead time)."""
    age = RELOCATE_AGE + np.where(fleet["potential_t"] >= LARGE_WORKS_T, LARGE_WORKS_LEAD_YEARS, 0)
    return (fleet.active() & (fleet["moved_from"] < 0) & restricted[fleet["cell"]]
            & (year - fleet["year_built"] >= age))

