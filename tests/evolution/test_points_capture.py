"""Fossil CCS, throughput and the storage account (gridcarbon.evolution.capture, .storage).

On the two-region grid of ``conftest.py`` (1 km cells; A = columns 0-9, B = 10-19; flat cell
= row * 20 + col). Expected values are derived in the comments from the rules.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridcarbon.config import EvolutionSpec
from gridcarbon.core.sectors import POINT_SECTORS
from gridcarbon.evolution.fleet import EVENT_COLUMNS
from gridcarbon.evolution.points import FleetRun, YearInputs, step_points
from gridcarbon.evolution.siting import Surface
from gridcarbon.evolution.storage import T_PER_MT, Storage
from gridcarbon.testing import plant, toy_fleet, two_region_grid

NX = 20
YEARS = list(range(2024, 2036))


def cell(row: int, col: int) -> int:
    return row * NX + col


def storage_of(grid, mt: float, *, at=(0, 0), reach_km=100.0, removals=None) -> Storage:
    """One storage cell of ``mt`` Mt at ``at``; ``removals`` (n_years, n_regions) BECCS t/yr."""
    layer = np.zeros(grid.shape)
    layer[at] = mt
    beccs = np.zeros((len(YEARS), len(grid.regions))) if removals is None else removals
    return Storage.build(layer, grid, reach_km=reach_km, removals=beccs, years=YEARS)


def run_years(fleet, grid, storage, targets_by_year, rules):
    """Step the fleet through ``targets_by_year`` ({year: {(region, sector): t}}); the fleet
    table after each year."""
    run = FleetRun(dict.fromkeys(POINT_SECTORS, Surface(np.ones(grid.cell_index.size), grid.cell_index)), grid, rules, storage,
                   dict.fromkeys(POINT_SECTORS, 0.0))
    now = YearInputs(np.zeros(grid.shape, bool), np.zeros(grid.cell_index.size))
    tables = {}
    for year, targets in targets_by_year.items():
        step_points(fleet, year, targets, run, now, np.random.default_rng(year))
        tables[year] = fleet.table.copy()
    return tables


def events(fleet) -> pd.DataFrame:
    return pd.DataFrame(fleet.events, columns=EVENT_COLUMNS)


def test_a_retrofit_never_causes_a_build(grid):
    """The 2031 Baoshan case: a large works is retrofitted, the target returns to its old level
    (never above the fleet's pre-capture throughput): nothing is built, capture throttles."""
    fleet = toy_fleet(grid, [plant("BIG", cell(1, 1), sector="steel", emission=180.0, capacity=180.0, built=2015),
                              plant("SMALL", cell(5, 5), sector="steel", emission=20.0, capacity=20.0, built=2015)])
    rules = EvolutionSpec(min_spacing_km=0.0)
    storage = storage_of(grid, 1.0)  # 1 Mt: room for decades of a 200 t/yr fleet
    # 2025: target 105 over potential 200 (utilisation 0.525 < 0.55): BIG (largest, young, in
    # reach) takes CCS -> potential after capture 18 + 20 = 38, utilisation 2.8 > 1: refused;
    # SMALL's retrofit leaves 180 + 2 = 182, utilisation 0.577 >= 0.55: taken, nothing retires
    # 2026-2030: back to 200 t, the base-year level: no build, capture throttled
    plan = {2025: {(0, "steel"): 105.0}, **{y: {(0, "steel"): 200.0} for y in range(2026, 2031)}}
    tables = run_years(fleet, grid, storage, plan, rules)
    ev = events(fleet)
    assert list(zip(ev.year, ev.id, ev.event)) == [(2025, "SMALL", "retrofitted")]
    assert not (fleet.table.origin == "new").any()
    for year, t in tables.items():
        active = t[t.status == "active"]
        assert active.emission_t.sum() == pytest.approx(plan[year][(0, "steel")], rel=1e-12)
    # 2025: u = 105 / 182, SMALL captures 0.9 of its pre-capture 20 u
    t25 = tables[2025].set_index("id")
    u = 105.0 / 182.0
    assert t25.utilisation.tolist() == pytest.approx([u, u], rel=1e-12)
    assert t25.loc["SMALL", "captured_t"] == pytest.approx(0.9 * 20.0 * u, rel=1e-12)
    # 2026: 200 t on a throughput of 200 at utilisation <= 1.05: u = 1.05, capture throttled to
    # (200 - 200/1.05) / 18 of its full rate
    t26 = tables[2026].set_index("id")
    assert t26.utilisation.tolist() == pytest.approx([1.05, 1.05], rel=1e-12)
    s = (200.0 - 200.0 / 1.05) / 18.0
    assert t26.loc["SMALL", "captured_t"] == pytest.approx(1.05 * 20.0 * 0.9 * s, rel=1e-12)


def test_beccs_removals_do_not_retrofit_fossil_plants(grid):
    """The allocation's beccs removal is stored BECCS, not fossil capture: a flat target with a
    large removal allocated changes nothing at the plants."""
    fleet = toy_fleet(grid, [plant("P", cell(1, 1), built=2015)])
    removals = np.zeros((len(YEARS), 2))
    removals[1:, 0] = 1e5  # 0.1 Mt/yr of BECCS in A
    storage = storage_of(grid, 10.0, removals=removals)
    run_years(fleet, grid, storage, {y: {(0, "power"): 100.0} for y in range(2025, 2031)}, EvolutionSpec())
    assert fleet.events == [] and not fleet.table.ccs.any()
    table = storage.table(list(grid.regions))
    a = table[table.region == "A"]
    assert a.beccs_t.sum() == pytest.approx(1e5 * (len(YEARS) - 1), rel=1e-12) and a.captured_t.sum() == 0.0


def test_capture_stops_when_storage_is_full_and_never_overfills(grid):
    # 0.0005 Mt = 500 t of storage; BECCS of 20 t/yr in A in every later year reserves 220 t
    removals = np.zeros((len(YEARS), 2))
    removals[1:, 0] = 20.0
    storage = storage_of(grid, 0.0005, removals=removals)
    fleet = toy_fleet(grid, [plant("A1", cell(1, 1), built=2015), plant("A2", cell(2, 5), built=1990)])
    fleet["ccs"][fleet.row("A1")], fleet["site"][fleet.row("A1")] = True, 0
    # target 100 on 200 t of throughput; A1 captures at most 100 x 0.9 x 1.05 = 94.5 t a year
    plan = {y: {(0, "power"): 100.0} for y in range(2025, 2036)}
    tables = run_years(fleet, grid, storage, plan, EvolutionSpec())
    captured = [tables[y].set_index("id").loc["A1", "captured_t"] for y in plan]
    # room: 500 - 220 (all BECCS) = 280 t; A1 captures 100 / 110 x 90 = 81.8 t a year: after
    # three years 34.5 t are left, less than a year's reserve (94.5 t), and capture stops
    assert all(c > 0 for c in captured[:3]) and all(c == 0 for c in captured[3:])
    for t in tables.values():
        pre = t.emission_t + t.captured_t
        assert (t.captured_t <= 0.9 * pre * (1 + 1e-12)).all()
        assert t[t.status == "active"].emission_t.sum() == pytest.approx(100.0, rel=1e-12)
    table = storage.table(list(grid.regions))
    assert (table.cumulative_t <= table.capacity_t * (1 + 1e-12)).all()
    assert table.capacity_t.max() == pytest.approx(0.0005 * T_PER_MT)
    assert table.captured_t.sum() == pytest.approx(sum(captured), rel=1e-12)


def test_retrofit_needs_storage_within_reach(grid):
    """Storage 3 km from A's west edge: only plants within reach are retrofitted."""
    storage = storage_of(grid, 1.0, at=(0, 0), reach_km=3.0)
    fleet = toy_fleet(grid, [plant("FAR", cell(8, 8), emission=150.0, capacity=150.0, built=2015),
                              plant("NEAR", cell(1, 1), emission=50.0, capacity=50.0, built=2015)])
    # target 100 / 200 = 0.5: FAR is larger but 10 km away; NEAR's retrofit leaves 150 + 5,
    # utilisation 0.65 >= 0.55: no retirement
    run_years(fleet, grid, storage, {2025: {(0, "power"): 100.0}}, EvolutionSpec())
    t = fleet.table.set_index("id")
    assert t.ccs.to_dict() == {"FAR": False, "NEAR": True}
    assert (t.status == "active").all() and t.loc["NEAR", "site"] == 0
    assert storage.reach_site[cell(8, 8)] == -1 and storage.reach_site[cell(1, 1)] == 0


def test_storage_sites_split_by_region_and_block(grid):
    layer = np.zeros(grid.shape)
    layer[0, 0] = layer[9, 9] = 1.0  # one block of A (10 km < 50 km)
    layer[0, 19] = 2.0  # B
    storage = Storage.build(layer, grid, reach_km=1.0, removals=np.full((len(YEARS), 2), 1e4), years=YEARS)
    assert storage.capacity_t.tolist() == pytest.approx([2e6, 2e6])
    assert storage.region_pos.tolist() == [0, 1]
    # the storage cells alone, ascending, with their sites (no full layer of sites)
    assert storage.stored_cells.tolist() == [cell(0, 0), cell(0, 19), cell(9, 9)]
    assert storage.stored_site.tolist() == [0, 1, 0] and storage.sites().site.tolist() == [0, 1, 0]
    # BECCS of A split over A's site; fossil room = capacity - every year's BECCS
    assert storage.room(2030)[0] == pytest.approx(2e6 - 1e4 * len(YEARS))



def test_room_in_reach_counts_the_sites_of_the_region_with_a_storage_cell_in_reach():
    # brute force over every storage cell (60 columns of 10 km): the room of the region's sites
    # with a storage cell within 50 km of the plant's cell
    grid = two_region_grid(30, res=10000.0)
    rng = np.random.default_rng(0)
    storage = Storage.build(np.where(rng.random(grid.shape) < 0.3, rng.random(grid.shape), 0.0), grid,
                            reach_km=50.0, removals=np.zeros((1, 2)), years=[2024])
    stored, site = storage.stored_cells, storage.stored_site
    assert storage.capacity_t.size > 20 and set(storage.region_pos) == {0, 1}
    cells = np.arange(0, grid.shape[0] * grid.shape[1], 7)
    for region in (0, 1):
        got = storage.room_in_reach(2024, cells, np.full(cells.size, region))
        for cell, room in zip(cells, got):
            km = np.hypot(stored // 60 - cell // 60, stored % 60 - cell % 60) * 10.0
            near = set(site[km <= 50.0]) & set(np.flatnonzero(storage.region_pos == region))
            assert room == pytest.approx(storage.capacity_t[sorted(near)].sum(), rel=1e-12)


def test_reachable_sites_are_those_with_a_storage_cell_in_reach_of_a_given_cell():
    # brute force over every storage cell (30 x 60 cells of 10 km): the distance transform runs
    # on the given cells' box widened by the reach, and must find the whole grid's sites
    grid = two_region_grid(30, res=10000.0)
    rng = np.random.default_rng(1)
    storage = Storage.build(np.where(rng.random(grid.shape) < 0.2, rng.random(grid.shape), 0.0), grid,
                            reach_km=40.0, removals=np.zeros((1, 2)), years=[2024])
    stored = storage.stored_cells
    for cells in ([], [0], [29 * 60 + 59], [5 * 60 + 3, 20 * 60 + 50], [14 * 60 + 29, 14 * 60 + 33]):
        km = np.full(stored.size, np.inf)
        for c in cells:
            km = np.minimum(km, np.hypot(stored // 60 - c // 60, stored % 60 - c % 60) * 10.0)
        want = np.zeros(storage.capacity_t.size, bool)
        want[storage.stored_site[km <= 40.0]] = True
        got = storage.reachable(np.array(cells, np.int64))
        assert np.array_equal(got, want) and (got.any() or not cells)


@pytest.mark.parametrize("reach_km", [0.0, 1.0, 2.5, 7.0, 100.0])
def test_the_sites_in_reach_are_those_of_the_region_whose_nearest_cell_is_in_reach(grid, reach_km):
    """Sites in reach of a source are measured in the rows within the reach alone: the room in
    reach of every cell is what the distances to every storage cell of its region give (each
    site's nearest cell, within ``reach_km`` km), with many multi-cell sites in both regions."""
    rng = np.random.default_rng(int(reach_km * 10))
    layer = np.where(rng.uniform(size=grid.shape) < 0.3, rng.uniform(0.1, 2.0, size=grid.shape), 0.0)
    storage = Storage.build(layer, grid, reach_km=reach_km, removals=np.zeros((len(YEARS), 2)), years=YEARS)
    cells = np.arange(grid.shape[0] * grid.shape[1])
    region = grid.region_index.ravel()
    got = storage.room_in_reach(2030, cells, region)
    rows, cols = np.divmod(storage.stored_cells, NX)
    room = storage.room(2030)
    for c in cells:
        y, x = divmod(int(c), NX)
        own = storage.region_pos[storage.stored_site] == region[c]
        near = own & (np.hypot(rows - y, cols - x) <= reach_km)  # 1 km cells
        assert got[c] == pytest.approx(room[np.unique(storage.stored_site[near])].sum(), rel=1e-12, abs=0.0)
    assert (got > 0).any() and (reach_km > 0 or (got == 0).any())
