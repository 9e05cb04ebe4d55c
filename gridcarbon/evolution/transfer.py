"""Industrial transfer between regions: capacity leaves regions whose totals fall faster for
regions with room, and the allocation is told (docs/architecture.md, "Evolution").

China's industrial-transfer policy moves heavy industry from the coast inland: the State
Council's Guiding Opinions on the Central and Western Regions Undertaking Industrial Transfer
(Guofa [2010] No. 28) and its approval of the Wanjiang City Belt Demonstration Zone for
Undertaking Industrial Transfer (Anhui, January 2010), built to take industry from Shanghai,
Jiangsu and Zhejiang, metallurgy and chemicals among it. The rule:

- **Where from, where to.** Per transfer sector and year, the region set's sector total over
  its base-year total is the trend ``g``; a region whose own ratio ``g_r`` is lower falls
  faster and has a *gap* ``(g - g_r) x T0_r`` of base-year capacity (t CO2/yr at base-year
  output) it would otherwise idle or retire; a region above the trend has *room*
  ``(g_r - g) x T0_r``. Gaps and rooms sum to the same tonnes (a transport problem). A
  destination needs a suitable site: a cell at least as suited to the sector as the median
  of its base-year plants' cells.
- **Which plants, how fast.** Active base-year plants of an origin, never moved, without a
  planned retirement by the year, oldest first (capacity replacement closes old capacity
  first), each to the region with the most room, while the plant fits in the origin's
  remaining gap, the destination's remaining room and the sector's yearly cap
  (:data:`TRANSFER_CAP_SHARE` of its base-year fleet). A plant moves at most once, and a
  region that has sent a sector's capacity never receives it, nor the reverse (industry does
  not shuttle back and forth when the allocation's regional trends cross).
- **The allocation knows.** A plant of base-year potential ``p`` moved in year ``y0`` from
  ``o`` carries ``p x g_o(y)`` of ``o``'s total to its destination in every year ``y >= y0``
  (:func:`gridcarbon.allocation.transfers.apply_transfers`): the origin keeps its trend on
  what stays, the pathway total is unchanged, and neither side rebuilds or retires for it.
- **The fleet follows.** Planned plants are reserved (no retirement, no relocation before
  their move); in their year they move to the destination's best allowed cell
  (:func:`move_plants`), logged once as ``transferred``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from gridcarbon.allocation.transfers import PLAN_COLUMNS
from gridcarbon.core.sectors import GRIDDED
from gridcarbon.core.units import T_PER_MT
from gridcarbon.evolution.context import EvolutionContext
from gridcarbon.evolution.fleet import ACTIVE, Fleet
from gridcarbon.evolution.relocation import RELOCATION_CAP_SHARE

#: point sectors whose capacity transfers between regions. Steel and chemicals are the heavy
#: industries the Wanjiang demonstration zone was set up to take (Guohan [2010] No. 5).
#: ASSUMPTION: cement does not transfer, as a clinker kiln is bound to its limestone quarry
#: (Anhui's kilns along the Yangtze ship clinker to the coast instead); power follows the grid
TRANSFER_SECTORS = ("steel", "chemical")
#: yearly cap on transferred capacity per sector, as a share of the sector's base-year fleet
#: (potential t CO2/yr) in the region set. ASSUMPTION: at most the pace of China's most intense
#: relocation programme (Hebei's steel, 5 %/yr; :data:`~.relocation.RELOCATION_CAP_SHARE`),
#: as no province publishes transferred capacity
TRANSFER_CAP_SHARE = {s: RELOCATION_CAP_SHARE[s] for s in TRANSFER_SECTORS}
#: years of a reporting period of ``transfers.csv`` (the five-year plans: 2026-2030, ...)
PERIOD_YEARS = 5


def plan_transfers(ctx: EvolutionContext, totals: pd.DataFrame) -> pd.DataFrame:
    """The moves (:data:`~gridcarbon.allocation.transfers.PLAN_COLUMNS`) the allocated
    ``totals`` (region, sector, year, allocated_t; t CO2/yr) call for, from the base-year fleet
    of ``ctx`` (module docstring). Deterministic: no draws."""
    targets = ctx.targets(totals)
    fleet = Fleet.from_facilities(ctx.inv.facilities, ctx.grid, ctx.inv.year).table
    regions = list(ctx.grid.regions)
    rows = []
    for s in TRANSFER_SECTORS:
        tgt = targets[:, GRIDDED.index(s)]
        plants = fleet[(fleet.sector == s) & (fleet.status == "active") & (fleet.potential_t > 0)]
        cap = TRANSFER_CAP_SHARE[s] * float(plants.potential_t.sum())
        sited = _has_sites(ctx, s, plants)
        rows += [(y, i, s, regions[o], regions[d], p)
                 for y, i, o, d, p in _plan_sector(plants, tgt, ctx.years, cap, sited)]
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)


def _has_sites(ctx: EvolutionContext, sector: str, plants: pd.DataFrame) -> np.ndarray:
    """Per region, whether it has a cell at least as suited to ``sector`` as the median of
    the sector's base-year plant cells (bool, n_regions)."""
    suit, index = ctx.surfaces[sector], ctx.grid.cell_index
    if plants.empty:
        return np.zeros(len(ctx.grid.regions), bool)
    good = index.cells[suit >= np.median(index.at(suit, plants.cell.to_numpy(np.int64)))]
    return np.bincount(ctx.grid.region_index.ravel()[good], minlength=len(ctx.grid.regions)) > 0


def _plan_sector(plants: pd.DataFrame, tgt: np.ndarray, years: list[int], cap: float,
                 sited: np.ndarray) -> list[tuple]:
    """Moves ``(year, id, origin, destination, potential_t)`` of one sector; ``tgt`` is its
    (n_years, n_regions) allocated t CO2/yr, ``cap`` the yearly cap (t CO2/yr)."""
    t0 = tgt[0]
    if t0.sum() <= 0:
        return []
    order = list(plants.sort_values(["year_built", "id"]).itertuples())  # read once, walked every year
    out_r, in_r, moves, taken = np.zeros_like(t0), np.zeros_like(t0), [], set()
    role = np.zeros(t0.size, int)  # +1 sent, -1 received: a region never does both in a sector
    for k, year in enumerate(years[1:], start=1):
        g = tgt[k].sum() / t0.sum()
        ratio = np.divide(tgt[k], t0, out=np.full_like(t0, g), where=t0 > 0)
        gap = np.where(role >= 0, np.maximum(g - ratio, 0.0) * t0 - out_r, 0.0)
        room = np.where(sited & (role <= 0), np.maximum(ratio - g, 0.0) * t0 - in_r, 0.0)
        left = cap
        for row in order:
            o, p = int(row.region_pos), float(row.potential_t)
            d = int(np.argmax(room))
            if (row.id in taken or p > left or p > gap[o] or p > room[d] or d == o
                    or row.planned_retirement <= year):
                continue
            moves.append((year, row.id, o, d, p))
            taken.add(row.id)
            role[o], role[d] = 1, -1
            gap[o] -= p
            room[d] -= p
            out_r[o] += p
            in_r[d] += p
            left -= p
    return moves


def move_plants(fleet: Fleet, year: int, plan: pd.DataFrame, site, grid) -> None:
    """Move the plants ``plan`` names for ``year`` to the best allowed cell of their
    destination (``site(sector, region_pos, without)`` as in :func:`.relocation.relocate`) and log
    each once as ``transferred``. A plant no cell takes stays, as does one a rule outside the
    fleet's reach retired first (the coal age hazard of :mod:`.lifecycle`); their tonnes still
    reach the destination, whose fleet runs harder or builds for them."""
    now = plan[plan.year == year]
    if now.empty:
        return
    c = fleet.columns
    for move in now.itertuples():
        i = fleet.row(move.id)
        fleet.reserved.discard(move.id)
        if c["status"][i] != ACTIVE:
            continue
        to = grid.regions.index(move.to_region)
        new = site(move.sector, to, i)
        if new.size == 0:
            continue
        fleet.log(year, np.array([i]), "transferred", to_cell=new)
        c["moved_from"][i], c["moved_year"][i], c["cell"][i], c["region_pos"][i] = c["cell"][i], year, new[0], to


def transfer_table(plan: pd.DataFrame, moved: pd.DataFrame, base_year: int) -> pd.DataFrame:
    """``transfers.csv``: per period, sector, origin and destination, the ``plants`` moved,
    their base-year potential (``potential_mt``, Mt CO2/yr) and the emissions they carry in
    their move year (``moved_mt``, Mt CO2/yr). ``moved`` is the per-move shift of
    :func:`gridcarbon.allocation.transfers.moved_emissions` (year, id, moved_t)."""
    cols = ["period", "sector", "from_region", "to_region", "plants", "potential_mt", "moved_mt"]
    if plan.empty:
        return pd.DataFrame(columns=cols)
    first = plan.merge(moved[["year", "id", "moved_t"]], on=["year", "id"], how="left")
    start = base_year + 1 + (first.year - base_year - 1) // PERIOD_YEARS * PERIOD_YEARS
    first["period"] = start.astype(str) + "-" + (start + PERIOD_YEARS - 1).astype(str)
    out = (first.groupby(["period", "sector", "from_region", "to_region"], sort=True)
           .agg(plants=("id", "size"), potential_mt=("potential_t", "sum"), moved_mt=("moved_t", "sum"))
           .reset_index())
    out[["potential_mt", "moved_mt"]] /= T_PER_MT
    return out[cols]


def transfer_manifest(table: pd.DataFrame | None, *, planned: int) -> dict:
    """The manifest's ``transfers``: whether the run transfers industry between regions, how
    many plants were planned to move and moved, their base-year potential (Mt CO2/yr) and the
    ``transfers.csv`` rows."""
    if table is None:
        return {"on": False}
    return {"on": True, "planned": planned, "plants": int(table.plants.sum()),
            "potential_mt": round(float(table.potential_mt.sum()), 6), "by_period": table.round(6).to_dict(orient="records")}
