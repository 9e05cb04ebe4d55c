"""Point-source evolution: a facility fleet that relocates, retrofits, retires and grows.

Rules, applied each year to every region x point sector, in this order (the fleet's table
is described in :mod:`.fleet`):

0. **Transfer** (:mod:`.transfer`): plants the run's transfer plan names for the year move to
   their destination region.
1. **Relocate** (:mod:`.relocation`): plants in restricted cells past their refurbishment
   age move with a yearly hazard, at most once, within a yearly cap per sector from China's
   relocation programmes.
2. **Life cycles** (:mod:`.lifecycle`): coal units and steel plants retire by age hazards
   calibrated on GEM's retired units, cement kilns by an assumed lifetime distribution, plants past their planned retirement close, stale pipeline rows are cancelled.
   CCS plants capture while their storage site has room (:mod:`.storage`).
3. **Utilisation first**: a target between ``retire_utilisation`` and ``build_utilisation``
   times the fleet's potential is met by running the plants harder or softer (step 6).
4. **Retrofit, then retire** when the target falls below ``retire_utilisation`` x potential
   after capture: the largest young plants within ``ccs_reach_km`` of a storage site with
   room take CCS (:mod:`.capture`); then plants retire (older, less efficient, less suitable
   first; CCS plants last).
5. **Build** only when the target exceeds ``build_utilisation`` x the fleet's pre-capture
   potential (its throughput): first the region's due pipeline rows (earliest first), then
   plants of the sector's median size, first in place of the sector's retired plants of the
   region (capacity replacement on brownfield sites), then on the best-suited allowed cells,
   keeping ``min_spacing_km`` from plants of the sector and at most ``max_plants_per_cell``.
   Capture never lowers throughput, so a retrofit never causes a build.
6. **Dispatch** (:func:`.capture.dispatch`): one utilisation per region x sector, capture
   throttled only if needed, so the region x sector sum equals the target exactly; the
   year's capture is booked into the storage account.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, partial

import numpy as np
import pandas as pd

from gridcarbon.config import Assumptions, EvolutionSpec
from gridcarbon.core.grid import Grid
from gridcarbon.core.kernels import pick_sites
from gridcarbon.evolution.capture import (
    book_capture,
    dispatch,
    effective,
    reserve_capture,
    retrofit,
)
from gridcarbon.evolution.fleet import (
    ACTIVE,
    CANCELLED,
    RETIRED,
    WAITING,
    Fleet,
    point_cells,
    point_layers,
    sector_codes,
)
from gridcarbon.evolution.lifecycle import (
    cancel_stale,
    retire_by_age_and_plan,
    take_pipeline,
)
from gridcarbon.evolution.relocation import relocate
from gridcarbon.evolution.siting import Surface, candidates, ranked_cells
from gridcarbon.evolution.storage import Storage
from gridcarbon.evolution.transfer import move_plants

__all__ = ["Fleet", "FleetRun", "YearInputs", "point_cells", "point_layers", "step_points"]

#: weights of the retirement score: age / RETIRE_AGE_SCALE, relative inefficiency, unsuitability
#: (ASSUMPTION: age first, as China's capacity-replacement policies retire old units first)
RETIRE_WEIGHTS = (0.5, 0.25, 0.25)
#: age (years) that counts 1 in the retirement score: a typical coal unit or blast-furnace
#: design life (ASSUMPTION: 30-40 years in the plant-life literature)
RETIRE_AGE_SCALE = 40.0
#: retirement-score penalty of a plant with CCS: retrofitted plants retire last (a large
#: number against scores of order 1)
CCS_RETIRE_PENALTY = 10.0
#: relative inefficiency of a new plant (the fleet median is 1; ASSUMPTION: new plants use
#: best available technology, ~20 % less CO2 per unit of output than the median)
NEW_PLANT_INEFFICIENCY = 0.8


@dataclass(frozen=True)
class FleetRun:
    """What the point rules read in every year of one evolution besides the fleet: ``suitability``
    surfaces per sector (:class:`~.siting.Surface`, 0..1), the ``grid``, the scenario's point ``rules``, the run's
    ``storage`` account, yearly relocation ``caps`` (t CO2/yr per sector), the run's inter-regional
    ``moves`` (:data:`gridcarbon.allocation.transfers.PLAN_COLUMNS`; None: no transfer);
    ``followed``: sectors whose life cycle follows the allocation's power system (:mod:`.power_units`),
    not the age hazard or the pipeline's delays; the scenario's ``assumptions`` (scale factors on
    named constants)."""

    suitability: dict[str, Surface]
    grid: Grid
    rules: EvolutionSpec
    storage: Storage
    caps: dict[str, float]
    moves: pd.DataFrame | None = None
    followed: frozenset[str] = frozenset()
    assumptions: Assumptions = field(default_factory=Assumptions)


@dataclass(frozen=True)
class YearInputs:
    """What changes from year to year: ``restricted`` cells (y, x, bool) and the ``built`` fraction
    (compact, on the grid's :attr:`~gridcarbon.core.grid.Grid.cell_index`)."""

    restricted: np.ndarray
    built: np.ndarray

    @cached_property
    def allowed(self) -> np.ndarray:
        """Cells siting may take this year (flat booleans): those not restricted, made once a year."""
        return ~self.restricted.ravel()


def step_points(fleet: Fleet, year: int, targets: dict[tuple[int, str], float], run: FleetRun, now: YearInputs,
                rng: np.random.Generator) -> None:
    """Advance the fleet one year so each (region_pos, sector) emits ``targets`` (t CO2/yr after capture)."""
    rules = run.rules
    site = partial(_site_one, fleet, run, now, rng)
    if run.moves is not None:
        move_plants(fleet, year, run.moves, site, run.grid)
    relocate(fleet, year, caps=run.caps, restricted=now.restricted, built=now.built, site=site, grid=run.grid,
             rng=rng)
    cancel_stale(fleet, year, run.followed)
    retire_by_age_and_plan(fleet, year, rng, run.followed)
    room = reserve_capture(fleet, run.storage, year, rules)
    for (r, sector), target in sorted(targets.items()):
        sel = fleet.active(r, sector)
        if _needs_rules(fleet, sel, target, rules):
            retrofit(fleet, year, sel, target, run.storage, room, rules)
            _retire(fleet, year, fleet.active(r, sector), target, run.suitability[sector], rules,
                    age_scale=RETIRE_AGE_SCALE * run.assumptions.retire_age_scale)
            _build(fleet, year, r, sector, fleet.active(r, sector), target, run, now, rng)
    dispatch(fleet, targets, rules)
    book_capture(fleet, run.storage, year)


def _needs_rules(fleet: Fleet, sel: np.ndarray, target: float, rules: EvolutionSpec) -> bool:
    """Whether retrofits, retirement or building can apply to the rows ``sel``: utilisation after
    capture below the retirement band, throughput short of the target, or a zero target."""
    after, before = effective(fleet, sel, rules).sum(), fleet["potential_t"][sel].sum()
    if before <= 0:
        return target > 0
    return target <= 0 or target < rules.retire_utilisation * after or target > rules.build_utilisation * before


def _site_one(fleet: Fleet, run: FleetRun, now: YearInputs, rng, sector: str, region_pos: int, without: int,
              near: tuple[int, float] = (-1, 0.0)) -> np.ndarray:
    """Best allowed cell of region ``region_pos`` for a moving plant (row ``without``, which leaves
    its own cell); ``near``: (centre cell, squared reach in cells) of a disc it must lie in, or
    (-1, any) for the whole region."""
    others = fleet.active(sector=sector)
    others[without] = False
    return _site(fleet.orders, fleet["cell"][others], 1, run.suitability[sector], now.allowed, run.grid, run.rules,
                 rng, cells=run.grid.cells_of(region_pos), near=near)


def _retire(fleet, year, sel, target, suit, rules, *, age_scale):
    """Retire plants of ``sel`` (highest retirement score first) while the utilisation after
    capture, ``target`` (t CO2/yr) over potential, is below ``retire_utilisation``; all of them
    when the target is 0. ``suit`` is the sector's suitability (:class:`~.siting.Surface`); ``age_scale``
    (years) divides a plant's age in the score (:data:`RETIRE_AGE_SCALE`)."""
    rows = np.flatnonzero(sel)
    eff = effective(fleet, rows, rules)
    potential = eff.sum()
    if potential <= 0:
        return
    order = np.arange(rows.size)
    if target > 0:
        if target / potential >= rules.retire_utilisation:
            return
        age = (year - fleet["year_built"][rows]) / age_scale
        w = RETIRE_WEIGHTS
        score = (w[0] * age + w[1] * fleet["inefficiency"][rows] + w[2] * (1 - suit.at(fleet["cell"][rows]))
                 - CCS_RETIRE_PENALTY * fleet["ccs"][rows])
        order = np.lexsort((fleet["id"][rows].astype(str), -score))
    ids = fleet["id"]
    order = [k for k in order if ids[rows[k]] not in fleet.reserved]  # planned transfers leave, not retire
    retired = []
    for k in order:  # oldest / least efficient first, until utilisation recovers
        if target > 0:
            if target / potential >= rules.retire_utilisation or rows.size - len(retired) <= 1:
                break
            if target / (potential - eff[k]) > rules.build_utilisation:
                continue  # retiring this one would leave too little: try a smaller plant
        retired.append(rows[k])
        potential -= eff[k]
    if retired:
        fleet["status"][retired] = RETIRED
        fleet.log(year, np.asarray(retired), "retired")


def _build(fleet, year, region_pos, sector, sel, target, run: FleetRun, now: YearInputs, rng):
    """New plants while the target exceeds ``build_utilisation`` x the pre-capture potential of ``sel``."""
    rules, grid = run.rules, run.grid
    potential = fleet["potential_t"][sel].sum()
    if target <= 0 or (potential > 0 and target / potential <= rules.build_utilisation):
        return
    short = take_pipeline(fleet, year, region_pos, sector, target - potential)
    if short <= 0:
        return
    same = fleet.of_sector(sector) & ~np.isin(fleet["status"], [WAITING, CANCELLED])  # plants that ran
    size = float(np.median(fleet["potential_t"][same])) if same.any() else target
    capacities = fleet["capacity"][same]
    capacity = float(np.nanmedian(capacities)) if (~np.isnan(capacities)).any() else np.nan
    n = int(np.ceil(short / size))
    occupied = fleet["cell"][fleet.active(sector=sector)]
    brown = _brownfield(fleet, region_pos, sector, n, occupied, run, now)
    green = _site(fleet.orders, occupied, n - brown.size, run.suitability[sector], now.allowed, grid,
                  rules, rng, cells=grid.cells_of(region_pos), taken=brown)
    cells = np.concatenate([brown, green])
    if cells.size == 0:  # nowhere allowed: run the existing fleet harder instead
        return
    k = cells.size
    text = np.full(k, "", dtype=object)
    none, nan = np.full(k, -1, np.int64), np.full(k, np.nan)
    new = fleet.append({
        "id": np.array([f"NEW-{sector}-{year}-{region_pos}-{j}" for j in range(k)], dtype=object),
        "sector": sector_codes([sector] * k), "region_pos": np.full(k, region_pos, np.int64), "cell": cells,
        "capacity": np.full(k, capacity), "potential_t": np.full(k, size), "year_built": np.full(k, year, np.int64),
        "inefficiency": np.full(k, NEW_PLANT_INEFFICIENCY), "status": np.full(k, ACTIVE), "fuel": text,
        "technology": text, "source": text, "planned_retirement": nan, "planned_year": nan,
        "origin": np.full(k, "new", dtype=object), "ccs": np.zeros(k, bool), "capturing": np.zeros(k, bool),
        "site": none, "moved_from": none, "moved_year": none, "utilisation": np.zeros(k), "emission_t": np.zeros(k),
        "captured_t": np.zeros(k)})
    fleet.log(year, new, "built")


def _brownfield(fleet: Fleet, region_pos, sector, n, occupied, run: FleetRun, now: YearInputs) -> np.ndarray:
    """Up to ``n`` cells where plants of the region's ``sector`` retired, best-suited first,
    allowed and below ``max_plants_per_cell`` active plants (``occupied``: the sector's active
    plants' cells): capacity is replaced in place before any greenfield site is taken (of the 152
    plants of GEM's steel tracker with retired capacity, 90 still operate, build or plan capacity
    at the same plant)."""
    gone = fleet["cell"][(fleet["status"] == RETIRED) & fleet.of_sector(sector) & (fleet["region_pos"] == region_pos)]
    if n <= 0 or gone.size == 0:
        return np.empty(0, np.int64)
    order = ranked_cells(run.suitability[sector], now.allowed, None, 0.0, cells=np.unique(gone))
    return pick_sites(order, now.allowed, *run.grid.shape, occupied, n, 0.0, run.rules.max_plants_per_cell, -1, 0.0)


def _site(orders, occupied, n, suit, allowed, grid, rules, rng, *, cells: np.ndarray,
          taken: np.ndarray | None = None, near: tuple[int, float] = (-1, 0.0)):
    """Best ``n`` ``allowed`` (flat booleans) ``cells`` (ascending flat indices) for a sector,
    away from its other active plants (their ``occupied`` cells) and from the cells already
    ``taken`` this step, within ``near`` ((centre cell, squared reach in cells); centre -1: anywhere).

    ``orders`` (the fleet's :class:`SiteOrders`) keeps the sorted candidates of cell lists
    that recur (a region's cells); None sorts afresh.
    """
    if n <= 0:
        return np.empty(0, np.int64)
    order = candidates(suit, allowed, rng, rules.siting_noise, cells=cells, orders=orders)
    if taken is not None:
        occupied = np.concatenate([occupied, taken])
    spacing = rules.min_spacing_km * 1000.0 / grid.res
    return pick_sites(order, allowed, *grid.shape, occupied, n, spacing, rules.max_plants_per_cell, *near)
