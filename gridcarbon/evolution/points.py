"""Point-source evolution: a facility fleet that retires, retrofits, relocates and grows.

Rules, applied each year to every region x point sector, in this order:

1. **Relocate**: an active plant standing in a restricted cell (urban core, ecological red
   line, water) moves, at its refurbishment age (:data:`RELOCATE_AGE` years), to the best
   allowed cell of its region (any region when the scenario allows industrial transfer).
2. **Retrofit CCS**: while the region's allocated BECCS/CCUS removals exceed the capture
   of its retrofitted plants, the largest plant within ``ccs_reach_km`` of geological
   storage is retrofitted; its fossil emissions fall by ``capture_rate``.
3. **Retire** when the allocated total falls: while fleet utilisation (total / potential)
   is below ``retire_utilisation``, the plant with the highest retirement score goes
   (older, less efficient, less suitable first; CCS plants last).
4. **Build** when the total rises: while utilisation exceeds ``build_utilisation``, a new
   plant of the sector's median size is sited on the best-suited allowed cell, keeping
   ``min_spacing_km`` from plants of the sector and at most ``max_plants_per_cell``.
5. **Scale**: every active plant runs at the utilisation that makes the region x sector
   sum equal the allocated total exactly.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from gridcarbon.config import EvolutionSpec
from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import POINT_SECTORS
from gridcarbon.evolution.siting import SiteOrders, pick_sites, ranked_cells
from gridcarbon.inputs.facility_co2 import operating_in

#: age (years) at which a plant in a restricted cell is rebuilt elsewhere rather than refurbished
RELOCATE_AGE = 25
#: how far (km) a relocating plant may move: industrial relocation in China mostly goes to a
#: park in the same or a neighbouring prefecture (ASSUMPTION)
RELOCATE_RADIUS_KM = 150.0
#: weights of the retirement score: age / RETIRE_AGE_SCALE, relative inefficiency, unsuitability
#: (ASSUMPTION: age first, as China's capacity-replacement policies retire old units first)
RETIRE_WEIGHTS = (0.5, 0.25, 0.25)
#: age (years) that counts 1 in the retirement score: a typical coal unit or blast-furnace
#: design life (ASSUMPTION: 30-40 years in the plant-life literature)
RETIRE_AGE_SCALE = 40.0
#: retirement-score penalty of a plant with CCS: retrofitted plants retire last (a large
#: number against scores of order 1)
CCS_RETIRE_PENALTY = 10.0
#: age (years) of a plant whose build year is unknown (``year_built`` is optional in the
#: points contract; ASSUMPTION: China's fleet is young, median coal unit ~15-20 years)
UNKNOWN_PLANT_AGE = 20
#: relative inefficiency of a new plant (the fleet median is 1; ASSUMPTION: new plants use
#: best available technology, ~20 % less CO2 per unit of output than the median)
NEW_PLANT_INEFFICIENCY = 0.8
#: fleet status of a facility not operating in the base year (construction, permitted, announced,
#: shelved, mothballed, or a later start year): carried for the rules that will build or cancel
#: it, never active in this version
PIPELINE = "pipeline"
_SECTOR_NAME = dict(enumerate(POINT_SECTORS))
_SECTOR_CODE = {s: i for i, s in _SECTOR_NAME.items()}


@dataclass
class Fleet:
    """Facility table through time; arrays indexed by facility."""

    table: pd.DataFrame  # id, sector, region_pos, cell, potential_t, year_built, intensity, status, ccs, origin
    events: list[tuple] = field(default_factory=list)  # (year, id, event, sector, region, from_cell, to_cell)
    orders: SiteOrders = field(default_factory=SiteOrders, repr=False)  # siting orders of this evolution

    @classmethod
    def from_facilities(cls, facilities: gpd.GeoDataFrame, grid: Grid, base_year: int) -> "Fleet":
        region_pos = facilities.region.map({r: i for i, r in enumerate(grid.regions)}).to_numpy()
        cap = pd.to_numeric(facilities.get("capacity"), errors="coerce") if "capacity" in facilities else None
        potential = facilities.emission_t.to_numpy(float)
        intensity = potential / cap.to_numpy(float) if cap is not None else np.ones(len(facilities))
        intensity = np.where(np.isfinite(intensity) & (intensity > 0), intensity, np.nan)
        rel = pd.Series(intensity).groupby(facilities.sector.values).transform(lambda v: v / np.nanmedian(v))
        built = pd.to_numeric(facilities["year_built"], errors="coerce") if "year_built" in facilities \
            else pd.Series(np.nan, index=facilities.index)  # optional in the points contract
        built = built.fillna(base_year - UNKNOWN_PLANT_AGE)
        active = base_year_active(facilities, base_year)
        table = pd.DataFrame({
            "id": facilities["id"].astype(str).to_numpy(), "sector": facilities.sector.to_numpy(),
            "region_pos": region_pos, "cell": facilities["cell"].to_numpy(np.int64),
            "potential_t": potential, "year_built": built.to_numpy(int),
            "inefficiency": rel.fillna(1.0).to_numpy(), "status": np.where(active, "active", PIPELINE),
            "ccs": False, "origin": "base", "emission_t": np.where(active, potential, 0.0)})
        return cls(table)

    def log(self, year, rows: pd.DataFrame, event: str, to_cell=None):
        for r, (_, row) in enumerate(rows.iterrows()):  # one entry per event, not per cell
            self.events.append((year, row.id, event, row.sector, int(row.region_pos), int(row.cell),
                                int(row.cell if to_cell is None else to_cell[r])))

    def counts(self) -> dict[str, int]:
        ev = pd.DataFrame(self.events, columns=["year", "id", "event", "sector", "region", "from", "to"])
        return {e: int((ev.event == e).sum()) for e in ("retired", "relocated", "retrofitted", "built")}


def base_year_active(facilities: pd.DataFrame, base_year: int) -> np.ndarray:
    """Which facilities operate in ``base_year``: all of a table without ``status``, else those
    :func:`~gridcarbon.inputs.facility_co2.operating_in` the year (status operating, started by
    ``start_year``, else ``year_built``)."""
    if "status" not in facilities:
        return np.ones(len(facilities), bool)
    frame = facilities.assign(status=facilities["status"].fillna("operating"))
    if "start_year" not in frame and "year_built" in frame:  # the points contract's build year
        frame["start_year"] = pd.to_numeric(frame["year_built"], errors="coerce")
    return operating_in(frame, base_year).to_numpy()


def step_points(fleet: Fleet, year: int, *, targets: dict[tuple[int, str], float],
                beccs: np.ndarray, suitability: dict[str, np.ndarray], restricted: np.ndarray,
                storage_reach: np.ndarray, grid: Grid, rules: EvolutionSpec,
                rng: np.random.Generator) -> None:
    """Advance the fleet one year so each (region_pos, sector) total equals ``targets``.

    ``beccs`` holds the allocated removal magnitude (t/yr) per region; ``storage_reach``
    marks cells within reach of geological storage.
    """
    _relocate(fleet, year, suitability, restricted, grid, rules, rng)
    for r in np.flatnonzero(np.asarray(beccs) > 0):
        _retrofit(fleet, year, int(r), beccs[r], storage_reach, rules)
    potential = _group_potential(fleet, rules)  # rules below only change their own group
    for (r, sector), target in sorted(targets.items()):
        if not _needs_rules(potential.get((r, sector), 0.0), target, rules):
            continue
        _retire(fleet, year, _active(fleet, r, sector), target, suitability[sector], rules)
        _build(fleet, year, r, sector, _active(fleet, r, sector), target, suitability[sector], restricted,
               grid, rules, rng)
    _scale(fleet, targets, rules)


def _group_keys(t: pd.DataFrame) -> np.ndarray:
    """One integer per (region, sector) of each row."""
    return t.region_pos.to_numpy(np.int64) * 1000 + t.sector.map(_SECTOR_CODE).to_numpy(np.int64)


def _group_potential(fleet: Fleet, rules: EvolutionSpec) -> dict[tuple[int, str], float]:
    """Fossil potential (t/yr) of the active plants of each (region_pos, sector)."""
    t = fleet.table
    eff = np.where((t.status == "active").to_numpy(), _effective(t, rules), 0.0)
    uniq, inv = np.unique(_group_keys(t), return_inverse=True)
    sums = np.bincount(inv, weights=eff, minlength=uniq.size)
    return {(int(k // 1000), _SECTOR_NAME[int(k % 1000)]): float(v) for k, v in zip(uniq, sums)}


def _needs_rules(potential: float, target: float, rules: EvolutionSpec) -> bool:
    """Whether retirement or building can apply: utilisation outside its band, or a zero target."""
    if potential <= 0:
        return target > 0
    u = target / potential
    return target <= 0 or u < rules.retire_utilisation or u > rules.build_utilisation


def _scale(fleet: Fleet, targets: dict[tuple[int, str], float], rules: EvolutionSpec) -> None:
    """Run every active plant at the utilisation that makes its group sum to the target."""
    t = fleet.table
    active = (t.status == "active").to_numpy()
    eff = np.where(active, _effective(t, rules), 0.0)
    keys = _group_keys(t)
    uniq, inv = np.unique(keys, return_inverse=True)
    sums = np.bincount(inv, weights=eff, minlength=uniq.size)
    want = np.array([targets.get((int(k // 1000), _SECTOR_NAME[int(k % 1000)]), np.nan) for k in uniq])
    factor = np.where((sums > 0) & np.isfinite(want), np.nan_to_num(want) / np.where(sums > 0, sums, 1.0), 0.0)
    covered = np.isfinite(want)[inv]
    t["emission_t"] = np.where(covered, eff * factor[inv], np.where(active, t.emission_t, 0.0))


def _active(fleet: Fleet, region_pos: int, sector: str) -> pd.Series:
    t = fleet.table
    return (t.region_pos == region_pos) & (t.sector == sector) & (t.status == "active")


def _effective(rows: pd.DataFrame, rules: EvolutionSpec) -> np.ndarray:
    """Fossil potential after capture (t/yr)."""
    return rows.potential_t.to_numpy() * np.where(rows.ccs, 1.0 - rules.capture_rate, 1.0)


def _relocate(fleet, year, suitability, restricted, grid, rules, rng):
    t = fleet.table
    flat_restricted = restricted.ravel()
    due = (t.status == "active") & flat_restricted[t.cell.to_numpy()] & (year - t.year_built >= RELOCATE_AGE)
    for i in t.index[due]:  # loop over the (few) plants due, not over cells
        row = t.loc[i]
        near = _within(grid, int(row.cell), RELOCATE_RADIUS_KM)
        region = grid.region_index.ravel()[near]
        near = near[region >= 0] if rules.transfer else near[region == int(row.region_pos)]
        # the plant is leaving its cell: it must not keep its own spacing from the new site
        new = _site(None, t.drop(index=i), row.sector, 1, suitability[row.sector], ~restricted, grid, rules, rng,
                    cells=near)
        if new.size == 0:
            continue
        fleet.log(year, t.loc[[i]], "relocated", to_cell=new)
        t.loc[i, ["cell", "year_built", "origin"]] = [int(new[0]), year, "relocated"]
        t.loc[i, "region_pos"] = int(grid.region_index.ravel()[new[0]])


def _within(grid: Grid, cell: int, radius_km: float) -> np.ndarray:
    """Flat indices (ascending) of the cells whose centres lie within ``radius_km`` of ``cell``'s centre."""
    ny, nx = grid.shape
    r0, c0 = divmod(cell, nx)
    k = int(radius_km * 1000.0 / grid.res)
    rows = slice(max(r0 - k, 0), min(r0 + k + 1, ny))
    cols = slice(max(c0 - k, 0), min(c0 + k + 1, nx))
    dr, dc = np.ogrid[rows, cols]
    rr, cc = np.nonzero((dr - r0) ** 2 + (dc - c0) ** 2 <= (radius_km * 1000.0 / grid.res) ** 2)
    return (rr + rows.start) * nx + (cc + cols.start)


def _retrofit(fleet, year, region_pos, need_t, storage_reach, rules):
    t = fleet.table
    active = (t.region_pos == region_pos) & (t.status == "active")
    captured = (t.potential_t[active & t.ccs] * rules.capture_rate).sum()
    cand = t[active & ~t.ccs & storage_reach.ravel()[t.cell.to_numpy()]].sort_values(
        ["potential_t", "id"], ascending=[False, True])
    for i, row in cand.iterrows():  # retrofit until capture covers the allocated removals
        if captured >= need_t:
            break
        t.loc[i, "ccs"] = True
        captured += row.potential_t * rules.capture_rate
        fleet.log(year, t.loc[[i]], "retrofitted")


def _retire(fleet, year, sel, target, suit, rules):
    t = fleet.table
    rows = t[sel]
    potential = _effective(rows, rules).sum()
    if potential <= 0:
        return
    if target <= 0:
        order = rows.index
    else:
        if target / potential >= rules.retire_utilisation:
            return
        age = (year - rows.year_built) / RETIRE_AGE_SCALE
        w = RETIRE_WEIGHTS
        score = (w[0] * age + w[1] * rows.inefficiency + w[2] * (1 - suit.ravel()[rows.cell.to_numpy()])
                 - CCS_RETIRE_PENALTY * rows.ccs)
        order = rows.assign(score=score).sort_values(["score", "id"], ascending=[False, True]).index
    eff = pd.Series(_effective(rows, rules), index=rows.index)
    retired = []
    for i in order:  # oldest / least efficient first, until utilisation recovers
        if target > 0:
            if target / potential >= rules.retire_utilisation or len(rows) - len(retired) <= 1:
                break
            if target / (potential - eff[i]) > rules.build_utilisation:
                continue  # retiring this one would leave too little: try a smaller plant
        retired.append(i)
        potential -= eff[i]
    if retired:
        t.loc[retired, "status"] = "retired"
        fleet.log(year, t.loc[retired], "retired")


def _build(fleet, year, region_pos, sector, sel, target, suit, restricted, grid, rules, rng):
    t = fleet.table
    rows = t[sel]
    potential = _effective(rows, rules).sum()
    if target <= 0 or (potential > 0 and target / potential <= rules.build_utilisation):
        return
    same = t[(t.sector == sector) & (t.status != PIPELINE)]  # pipeline rows have no size yet
    size = float(np.median(same.potential_t)) if len(same) else target
    n = int(np.ceil((target - potential) / size))
    cells = _site(fleet.orders, t, sector, n, suit, ~restricted, grid, rules, rng, cells=grid.cells_of(region_pos))
    if cells.size == 0:  # nowhere allowed: run the existing fleet harder instead
        return
    k = len(t)
    new = pd.DataFrame({"id": [f"NEW-{sector}-{year}-{region_pos}-{j}" for j in range(cells.size)],
                        "sector": sector, "region_pos": region_pos, "cell": cells, "potential_t": size,
                        "year_built": year, "inefficiency": NEW_PLANT_INEFFICIENCY, "status": "active", "ccs": False,
                        "origin": "new", "emission_t": 0.0}, index=range(k, k + cells.size))
    fleet.table = pd.concat([t, new])
    fleet.log(year, new, "built")


def _site(orders, t, sector, n, suit, allowed, grid, rules, rng, *, cells: np.ndarray):
    """Best ``n`` allowed ``cells`` (ascending flat indices) for a sector, away from its other active plants.

    ``orders`` (the fleet's :class:`SiteOrders`) keeps the sorted candidates of cell lists
    that recur (a region's cells); None sorts afresh (a relocation's radius, used once).
    """
    order = ranked_cells(suit, allowed, rng, rules.siting_noise, cells=cells, orders=orders)
    occupied = t.cell[(t.sector == sector) & (t.status == "active")].to_numpy(np.int64)
    spacing = rules.min_spacing_km * 1000.0 / grid.res
    return pick_sites(order, grid.shape[1], occupied, n, spacing, rules.max_plants_per_cell)


def point_cells(fleet: Fleet, sector: str) -> tuple[np.ndarray, np.ndarray]:
    """Flat cells (ascending) holding a sector's active plants, and their emissions (t CO2/yr/cell)."""
    t = fleet.table
    rows = t[(t.status == "active") & (t.sector == sector)]
    cells, pos = np.unique(rows.cell.to_numpy(np.int64), return_inverse=True)
    return cells, np.bincount(pos, weights=rows.emission_t.to_numpy(float), minlength=cells.size)


def point_layers(fleet: Fleet, grid: Grid, sectors: list[str]) -> np.ndarray:
    """(len(sectors), y, x) t CO2/yr/cell of the active fleet."""
    out = np.zeros((len(sectors), grid.shape[0] * grid.shape[1]))
    for k, s in enumerate(sectors):
        cells, t = point_cells(fleet, s)
        out[k, cells] = t
    return out.reshape(len(sectors), *grid.shape)
