"""Bottom-up spatial evolution: fleet rules, siting, land change, corridors, totals, suitability.

Unit tests run on a tiny synthetic grid: two square regions of 10 x 10 cells at 1 km in
EPSG:3857 (region A = columns 0-9, region B = columns 10-19; flat cell = row * 20 + col).
Expected values are derived in the comments from the rules in the module docstrings,
never copied from a run. The last test evolves the built-in YRD default once (twice, for
determinism) at 10 km.
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from shapely.geometry import LineString, Point, box

from gridcarbon.core.errors import InputError
from gridcarbon.core.grid import Grid
from gridcarbon.core.gridding import line_coverage
from gridcarbon.core.sectors import GRIDDED, LINE_SECTORS, POINT_SECTORS
from gridcarbon.evolution import _impose_totals
from gridcarbon.evolution.areas import afforest, grow_urban
from gridcarbon.evolution.lines import (
    ELECTRIFICATION_EFFECT,
    Corridors,
    electrified_share,
)
from gridcarbon.evolution.points import (
    RELOCATE_AGE,
    Fleet,
    PointRules,
    _effective,
    point_layers,
    step_points,
)
from gridcarbon.evolution.siting import pick_sites, ranked_cells
from gridcarbon.suitability.model import fit_suitability, load_model, spatial_blocks

NX = 20  # columns of the synthetic grid


# -- helpers ---------------------------------------------------------------------------------
def two_regions(res: float = 1000.0, n: int = 10, crs: str = "EPSG:3857") -> Grid:
    """Regions A (west) and B (east), each n x n cells of ``res`` metres."""
    side = n * res
    frame = gpd.GeoDataFrame({"region": ["A", "B"]}, geometry=[box(0, 0, side, side), box(side, 0, 2 * side, side)],
                             crs=crs)
    return Grid.from_regions(frame, res=res, crs=crs)


@pytest.fixture(scope="module")
def grid() -> Grid:
    g = two_regions()
    assert g.shape == (10, NX)
    assert (g.region_index[:, :10] == 0).all() and (g.region_index[:, 10:] == 1).all()
    return g


def cell(row: int, col: int) -> int:
    return row * NX + col


def make_fleet(grid: Grid, plants: list[dict], base_year: int = 2024) -> Fleet:
    """Fleet from plant dicts: id, sector, region, cell, emission_t, capacity, year_built."""
    frame = pd.DataFrame(plants)
    geom = [Point(grid.x[c % NX], grid.y[c // NX]) for c in frame["cell"]]
    return Fleet.from_facilities(gpd.GeoDataFrame(frame, geometry=geom, crs=grid.crs), grid, base_year)


def plant(id, cell, *, sector="power", region="A", emission=100.0, capacity=100.0, built=2000) -> dict:
    return {"id": id, "sector": sector, "region": region, "cell": cell, "emission_t": emission,
            "capacity": capacity, "year_built": built}


def step(fleet, grid, year, *, targets, rules, suit=None, restricted=None, reach=None, beccs=None, seed=0):
    suit = suit if suit is not None else np.ones(grid.shape)
    step_points(fleet, year, targets=targets,
                beccs=np.zeros(len(grid.regions)) if beccs is None else np.asarray(beccs, float),
                suitability={s: suit for s in POINT_SECTORS},
                restricted=np.zeros(grid.shape, bool) if restricted is None else restricted,
                storage_reach=np.zeros(grid.shape, bool) if reach is None else reach,
                grid=grid, rules=rules, rng=np.random.default_rng(seed))


def row_of(fleet: Fleet, id_: str) -> pd.Series:
    t = fleet.table
    sel = t[t.id == id_]
    assert len(sel) == 1
    return sel.iloc[0]


def events(fleet: Fleet) -> pd.DataFrame:
    return pd.DataFrame(fleet.events, columns=["year", "id", "event", "sector", "region", "from", "to"])


def ramp(grid: Grid, *, col_weight: float = 1.1, bonus_b: float = 0.0) -> np.ndarray:
    """Suitability falling away from the NW corner: rank by row + col_weight * col (no ties)."""
    rows, cols = np.indices(grid.shape)
    return 10.0 - 0.05 * (rows + col_weight * cols) + bonus_b * (grid.region_index == 1)


def greedy_reference(score, allowed, occupied_cells, n, spacing_cells, cap=1):
    """Brute-force siting: best score first (ties by index), spacing from all occupied/taken cells."""
    flat = score.ravel()
    cand = sorted(np.flatnonzero(allowed.ravel()), key=lambda i: (-flat[i], i))
    taken, occ = [], list(occupied_cells)
    count = np.bincount(np.asarray(occupied_cells, np.int64), minlength=flat.size)
    for i in cand:
        if len(taken) == n:
            break
        if count[i] >= cap:
            continue
        r, c = divmod(i, NX)
        if all((r, c) == divmod(o, NX) or np.hypot(r - o // NX, c - o % NX) >= spacing_cells for o in occ):
            taken.append(i)
            occ.append(i)
            count[i] += 1
    return taken


# -- fleet table ---------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:All-NaN slice")  # B1 is the only steel plant, capacity unknown
def test_fleet_from_facilities_derives_inefficiency_and_defaults(grid):
    fleet = make_fleet(grid, [plant("A1", cell(0, 0), capacity=100.0), plant("A2", cell(1, 1), capacity=50.0),
                              plant("A3", cell(2, 2), capacity=200.0), plant("B1", cell(0, 15), region="B",
                                                                              sector="steel", capacity=np.nan)])
    t = fleet.table.set_index("id")
    # intensity 1, 2, 0.5 t per unit: relative to the sector median (1)
    assert t.loc[["A1", "A2", "A3"], "inefficiency"].tolist() == pytest.approx([1.0, 2.0, 0.5])
    assert t.loc["B1", "inefficiency"] == 1.0  # unknown capacity: median efficiency
    assert t.loc["B1", "region_pos"] == 1 and t.loc["A1", "region_pos"] == 0
    assert (t.status == "active").all() and not t.ccs.any() and (t.origin == "base").all()
    assert (t.emission_t == t.potential_t).all()


def test_fleet_from_facilities_without_optional_columns(grid):
    # the points contract requires only id, sector and emission_t: no capacity, no year_built
    frame = gpd.GeoDataFrame({"id": [1, 2], "sector": ["power", "cement"], "region": ["A", "B"],
                              "cell": [cell(0, 0), cell(0, 15)], "emission_t": [10.0, 20.0]},
                             geometry=[Point(500, 9500), Point(15500, 9500)], crs=grid.crs)
    fleet = Fleet.from_facilities(frame, grid, 2024)
    t = fleet.table
    assert t.year_built.tolist() == [2004, 2004]  # unknown age: base year - 20
    assert t.inefficiency.tolist() == [1.0, 1.0]
    assert t.id.tolist() == ["1", "2"]


# -- 1, 2: retirement ----------------------------------------------------------------------------
def test_falling_target_retires_oldest_plant_first_and_scales_exactly(grid):
    # three equal, equally efficient power plants in A; the oldest is neither first by id nor by cell
    fleet = make_fleet(grid, [plant("P1", cell(0, 0), built=2015), plant("P2", cell(5, 5), built=1980),
                              plant("P3", cell(9, 9), built=2000), plant("Q1", cell(0, 15), region="B")])
    rules = PointRules(min_spacing_km=0.0)
    # utilisation 150 / 300 = 0.5 < 0.55: retire; after P2 goes, 150 / 200 = 0.75 -> stop
    step(fleet, grid, 2030, targets={(0, "power"): 150.0, (1, "power"): 100.0}, rules=rules)
    t = fleet.table
    assert set(t.id[t.status == "retired"]) == {"P2"}
    ev = events(fleet)
    assert len(ev) == 1
    assert tuple(ev.iloc[0]) == (2030, "P2", "retired", "power", 0, cell(5, 5), cell(5, 5))
    active_a = t[(t.status == "active") & (t.region_pos == 0)]
    assert set(active_a.id) == {"P1", "P3"}
    assert active_a.emission_t.sum() == pytest.approx(150.0, rel=1e-12)
    assert active_a.emission_t.to_numpy() == pytest.approx([75.0, 75.0], rel=1e-12)  # equal potentials
    assert row_of(fleet, "Q1").emission_t == pytest.approx(100.0, rel=1e-12)  # B untouched
    layer = point_layers(fleet, grid, POINT_SECTORS)[POINT_SECTORS.index("power")]
    assert grid.region_sums(layer) == pytest.approx([150.0, 100.0], rel=1e-12)
    assert layer.ravel()[cell(5, 5)] == 0.0


def test_retirement_prefers_least_efficient_among_same_age(grid):
    # same age; E2 emits twice as much per unit of capacity -> higher retirement score
    fleet = make_fleet(grid, [plant("E1", cell(0, 0), capacity=100.0), plant("E2", cell(2, 2), capacity=50.0),
                              plant("E3", cell(4, 4), capacity=100.0)])
    step(fleet, grid, 2030, targets={(0, "power"): 150.0}, rules=PointRules(min_spacing_km=0.0))
    assert list(events(fleet).id) == ["E2"]
    assert fleet.table.emission_t[fleet.table.status == "active"].sum() == pytest.approx(150.0, rel=1e-12)


def test_retirement_spares_ccs_plants(grid):
    # the oldest plant carries CCS: it goes last; the next oldest retires instead
    fleet = make_fleet(grid, [plant("OLDCCS", cell(0, 0), built=1975), plant("MID", cell(3, 3), built=1990),
                              plant("NEW", cell(6, 6), built=2020)])
    fleet.table.loc[fleet.table.id == "OLDCCS", "ccs"] = True
    rules = PointRules(min_spacing_km=0.0, capture_rate=0.0)  # capture 0: potentials stay 100 each
    step(fleet, grid, 2030, targets={(0, "power"): 150.0}, rules=rules)
    assert list(events(fleet).id) == ["MID"]


def test_zero_target_retires_whole_region_sector(grid):
    fleet = make_fleet(grid, [plant("P1", cell(0, 0)), plant("P2", cell(5, 5), built=2020),
                              plant("S1", cell(7, 7), sector="steel"), plant("Q1", cell(0, 15), region="B")])
    step(fleet, grid, 2030, targets={(0, "power"): 0.0, (0, "steel"): 100.0, (1, "power"): 100.0},
         rules=PointRules(min_spacing_km=0.0))
    t = fleet.table.set_index("id")
    assert t.loc[["P1", "P2"], "status"].eq("retired").all()
    assert t.loc[["S1", "Q1"], "status"].eq("active").all()
    ev = events(fleet)
    assert sorted(ev.id) == ["P1", "P2"] and ev.event.eq("retired").all() and ev.year.eq(2030).all()
    power = point_layers(fleet, grid, POINT_SECTORS)[POINT_SECTORS.index("power")]
    assert grid.region_sums(power) == pytest.approx([0.0, 100.0], abs=1e-9)
    assert not (fleet.table.origin == "new").any()  # a zero target never builds


# -- 3, 4: relocation ----------------------------------------------------------------------------
def test_old_plant_in_restricted_zone_moves_to_best_allowed_cell(grid):
    restricted = np.zeros(grid.shape, bool)
    restricted[0:2, 0:2] = True  # an urban core in A's NW corner
    suit = ramp(grid, bonus_b=1.0)  # B is better everywhere, but the plant must stay in A
    old_built = 2030 - RELOCATE_AGE  # exactly at refurbishment age
    fleet = make_fleet(grid, [plant("OLD", cell(1, 1), built=old_built),
                              plant("YOUNG", cell(0, 0), built=2030 - RELOCATE_AGE + 1)])
    # spacing 1.5 cells: the best allowed cell (2, 0) is 1.41 cells from OLD's *own* old cell,
    # which it is leaving, and 2 cells from YOUNG: it must be taken
    rules = PointRules(min_spacing_km=1.5)
    step(fleet, grid, 2030, targets={(0, "power"): 200.0}, rules=rules, suit=suit, restricted=restricted)
    allowed_a = ~restricted & (grid.region_index == 0)
    expected = greedy_reference(suit, allowed_a, [cell(0, 0)], 1, 1.5)[0]
    assert expected == cell(2, 0)  # rank key row + 1.1 col: (2,0)=2.0 beats (0,2)=2.2
    old, young = row_of(fleet, "OLD"), row_of(fleet, "YOUNG")
    assert old.cell == expected and old.region_pos == 0
    assert old.origin == "relocated" and old.year_built == 2030 and old.status == "active"
    assert young.cell == cell(0, 0) and young.origin == "base"  # too young: refurbished in place
    ev = events(fleet)
    assert len(ev) == 1
    assert tuple(ev.iloc[0]) == (2030, "OLD", "relocated", "power", 0, cell(1, 1), expected)
    # a year later YOUNG reaches the age and moves; OLD, now outside the zone, stays. (2,0) is
    # full (cap 1), so YOUNG takes (0,2), 2.83 cells from OLD
    step(fleet, grid, 2031, targets={(0, "power"): 200.0}, rules=rules, suit=suit, restricted=restricted)
    ev = events(fleet)
    assert len(ev) == 2
    assert tuple(ev.iloc[1]) == (2031, "YOUNG", "relocated", "power", 0, cell(0, 0), cell(0, 2))
    assert row_of(fleet, "OLD").cell == cell(2, 0)


@pytest.mark.parametrize("transfer", [False, True])
def test_transfer_flag_controls_crossing_regions(grid, transfer):
    restricted = np.zeros(grid.shape, bool)
    restricted[0:2, 0:2] = True
    rows, cols = np.indices(grid.shape)
    suit = cols + 0.01 * rows  # best cells are in B (east), best of A is column 9
    fleet = make_fleet(grid, [plant("OLD", cell(1, 1), built=1990)])
    step(fleet, grid, 2030, targets={}, rules=PointRules(min_spacing_km=1.5, transfer=transfer),
         suit=suit, restricted=restricted)
    moved = row_of(fleet, "OLD")
    if transfer:
        assert moved.cell == cell(9, 19) and moved.region_pos == 1  # best cell anywhere
    else:
        assert moved.cell == cell(9, 9) and moved.region_pos == 0  # best cell of its own region
    assert tuple(events(fleet).iloc[0])[2:] == ("relocated", "power", 0, cell(1, 1), moved.cell)


# -- 5: building -----------------------------------------------------------------------------
def test_rising_target_builds_on_best_cells_with_spacing(grid):
    suit = ramp(grid, bonus_b=5.0)  # B scores higher, but A's plants are built in A
    fleet = make_fleet(grid, [plant("E", cell(0, 0)), plant("Q", cell(0, 15), region="B")])
    rules = PointRules(min_spacing_km=3.0, max_plants_per_cell=1)
    # potential 100, target 300: utilisation 3 > 1.05 -> ceil(200 / median size 100) = 2 new plants
    step(fleet, grid, 2030, targets={(0, "power"): 300.0, (1, "power"): 100.0}, rules=rules, suit=suit)
    new = fleet.table[fleet.table.origin == "new"]
    assert len(new) == 2 and (new.region_pos == 0).all() and (new.potential_t == 100.0).all()
    # rank key row + 1.1 col; cells 3 apart from (0,0): the first is (3,0) (key 3.0);
    # the second must also be 3 from (3,0): (2,1), (1,2) are too close to (0,0), (0,3) is not
    assert list(new.cell) == [cell(3, 0), cell(0, 3)]
    allowed_a = grid.region_index == 0
    assert list(new.cell) == greedy_reference(suit, allowed_a, [cell(0, 0)], 2, 3.0)
    for a in list(new.cell) + [cell(0, 0)]:
        for b in list(new.cell):
            if a != b:
                assert np.hypot(a // NX - b // NX, a % NX - b % NX) >= 3.0
    ev = events(fleet)
    assert list(ev.event) == ["built", "built"] and ev.year.eq(2030).all() and list(ev["to"]) == list(new.cell)
    active_a = fleet.table[(fleet.table.status == "active") & (fleet.table.region_pos == 0)]
    assert active_a.emission_t.sum() == pytest.approx(300.0, rel=1e-12)
    assert row_of(fleet, "Q").emission_t == pytest.approx(100.0, rel=1e-12)


def test_build_cap_allows_colocation_up_to_max_plants_per_cell(grid):
    suit = ramp(grid)
    fleet = make_fleet(grid, [plant("E", cell(0, 0))])
    step(fleet, grid, 2030, targets={(0, "power"): 300.0}, suit=suit,
         rules=PointRules(min_spacing_km=3.0, max_plants_per_cell=2))
    # cap 2: the best cell (E's own) takes one more plant; the next goes 3 cells away
    assert list(fleet.table.cell[fleet.table.origin == "new"]) == [cell(0, 0), cell(3, 0)]
    counts = np.bincount(fleet.table.cell[fleet.table.status == "active"], minlength=200)
    assert counts.max() == 2


def test_build_gives_up_where_nothing_is_allowed(grid):
    fleet = make_fleet(grid, [plant("E", cell(0, 0))])
    restricted = grid.region_index == 0
    restricted[0, 0] = False  # E's own cell is free but already full (cap 1)
    step(fleet, grid, 2030, targets={(0, "power"): 300.0}, restricted=restricted,
         rules=PointRules(min_spacing_km=0.0))
    assert len(fleet.table) == 1
    assert row_of(fleet, "E").emission_t == pytest.approx(300.0, rel=1e-12)  # runs harder instead


# -- 6: CCS retrofit -------------------------------------------------------------------------
def test_ccs_retrofit_only_within_storage_reach(grid):
    reach = np.zeros(grid.shape, bool)
    reach[:, 0:5] = True  # storage reachable from A's western half only
    fleet = make_fleet(grid, [plant("NEAR_BIG", cell(2, 1), emission=200.0, capacity=200.0),
                              plant("NEAR_SMALL", cell(6, 3)),
                              plant("FAR_HUGE", cell(5, 8), emission=300.0, capacity=300.0),
                              plant("B1", cell(4, 14), region="B", emission=200.0, capacity=200.0)])
    rules = PointRules(min_spacing_km=0.0, capture_rate=0.9)
    # A needs 150 t of removals: the largest plant in reach (NEAR_BIG, captures 180) suffices;
    # FAR_HUGE is larger but beyond reach. B needs removals too but has no storage in reach.
    targets = {(0, "power"): 400.0, (1, "power"): 200.0}
    step(fleet, grid, 2030, targets=targets, rules=rules, reach=reach, beccs=[150.0, 150.0])
    t = fleet.table.set_index("id")
    assert t.ccs.to_dict() == {"NEAR_BIG": True, "NEAR_SMALL": False, "FAR_HUGE": False, "B1": False}
    ev = events(fleet)
    assert list(zip(ev.id, ev.event, ev.year)) == [("NEAR_BIG", "retrofitted", 2030)]
    eff = pd.Series(_effective(fleet.table, rules), index=fleet.table.id)
    assert eff["NEAR_BIG"] == pytest.approx(200.0 * (1 - 0.9), rel=1e-12)
    assert eff["FAR_HUGE"] == 300.0
    # fossil potential 20 + 100 + 300 = 420, utilisation 400/420: no retirement, shares by potential
    assert (t.status == "active").all()
    assert t.loc["NEAR_BIG", "emission_t"] == pytest.approx(400.0 * 20.0 / 420.0, rel=1e-12)
    assert t.loc[["NEAR_BIG", "NEAR_SMALL", "FAR_HUGE"], "emission_t"].sum() == pytest.approx(400.0, rel=1e-12)
    # more removals next year: the next plant in reach follows; never the far one
    # (A's target 300 over fossil potential 20 + 10 + 300: no retirement, no new build)
    step(fleet, grid, 2031, targets={(0, "power"): 300.0, (1, "power"): 200.0}, rules=rules, reach=reach,
         beccs=[1e6, 1e6])
    t = fleet.table.set_index("id")
    assert t.ccs.to_dict() == {"NEAR_BIG": True, "NEAR_SMALL": True, "FAR_HUGE": False, "B1": False}


# -- 7, 8: siting primitives -------------------------------------------------------------------
def test_pick_sites_spacing_cap_order_and_determinism():
    nx = 10
    order = np.array([0, 1, 2, 22, 5, 50, 55, 99], np.int64)  # flat indices on a 10-wide grid

    def run(occupied, n, spacing, cap):
        return list(pick_sites(order, nx, np.asarray(occupied, np.int64), n, float(spacing), cap))

    # no occupants, spacing 0: simply the first n of the order
    assert run([], 3, 0, 1) == [0, 1, 2]
    # spacing 3: 1 and 2 are too close to 0; 22 is sqrt(4 + 4) = 2.83 < 3 away; 5 is 5 away; 50 is 5 down
    assert run([], 3, 3, 1) == [0, 5, 50]
    # an occupant at 0 with cap 1 blocks that cell; its spacing still blocks 1 and 2
    assert run([0], 2, 3, 1) == [5, 50]
    # cap 2: the occupied cell takes one more (co-location is governed by the cap, not spacing)
    assert run([0], 2, 3, 2) == [0, 5]
    # asking for more than fits returns fewer: 55 is 5 from both 5 and 50, 99 is 5.66 from 55
    got = run([], 8, 3, 1)
    assert got == [0, 5, 50, 55, 99]
    for a in got:
        for b in got:
            if a != b:
                assert np.hypot(a // nx - b // nx, a % nx - b % nx) >= 3
    # deterministic, and the order matters
    assert run([0], 2, 3, 2) == run([0], 2, 3, 2)
    rev = pick_sites(order[::-1].copy(), nx, np.empty(0, np.int64), 1, 3.0, 1)
    assert list(rev) == [99]


def test_ranked_cells_orders_by_score_then_index_and_noise_is_seeded():
    score = np.array([[0.5, 0.9, 0.5], [0.1, 0.9, 0.7]])
    allowed = np.array([[True, True, True], [True, False, True]])
    # 0.9 (cell 1), 0.7 (cell 5), 0.5 tie -> cells 0 then 2, 0.1 (cell 3); cell 4 not allowed
    assert list(ranked_cells(score, allowed, None, 0.0)) == [1, 5, 0, 2, 3]
    assert list(ranked_cells(score, allowed, np.random.default_rng(1), 0.0)) == [1, 5, 0, 2, 3]
    # candidates limited to some cells (a region's): same order, only those; 4 stays not allowed
    some = np.array([0, 2, 4, 5])
    assert list(ranked_cells(score, allowed, None, 0.0, cells=some)) == [5, 0, 2]
    assert sorted(ranked_cells(score, allowed, np.random.default_rng(1), 0.5, cells=some)) == [0, 2, 5]

    big = np.linspace(0, 1, 400).reshape(20, 20)
    ok = np.ones_like(big, bool)
    a = ranked_cells(big, ok, np.random.default_rng(7), 0.5)
    b = ranked_cells(big, ok, np.random.default_rng(7), 0.5)
    c = ranked_cells(big, ok, np.random.default_rng(8), 0.5)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert sorted(a) == list(range(400))  # a permutation of the allowed cells
    assert not np.array_equal(a, ranked_cells(big, ok, None, 0.0))  # the noise did reorder


# -- 9, 10: land change -------------------------------------------------------------------------
def test_grow_urban_follows_probability_and_respects_constraints(grid):
    rows, cols = np.indices(grid.shape)
    prob = 0.05 + 0.9 * np.random.default_rng(3).uniform(size=grid.shape)
    prob[2, 2] = 0.999  # the most probable allowed, dry cell
    prob[7, 7] = 0.998  # nearly as probable but mostly water
    prob[0:2, 5:9] = 1.0  # the most probable of all, but disallowed (eco reserve)
    allowed = np.ones(grid.shape, bool)
    allowed[0:2, 5:9] = False
    water = np.zeros(grid.shape)
    water[7, 7] = 0.97
    built = np.zeros(grid.shape)
    built[:, 12:] = 0.2  # B already holds 16 cells' worth (away from A's edge: no neighbour effect in A)
    demand = np.array([5.0, 10.0])  # A grows by 5 cells' worth; B's demand is below what it has
    out = grow_urban(built, demand, prob, allowed, water, grid)
    inc = out - built
    assert (inc >= 0).all()
    assert (inc[~allowed] == 0).all()
    assert (out <= 1.0 - water + 1e-12).all()
    assert inc[7, 7] <= 0.03 + 1e-12
    assert grid.region_sums(out)[0] == pytest.approx(5.0, rel=1e-9)
    assert np.array_equal(out[:, 10:], built[:, 10:])  # no need in B: unchanged
    a = (grid.region_index == 0) & allowed & (water == 0)
    assert np.unravel_index(np.argmax(np.where(a, inc, -1)), grid.shape) == (2, 2)
    # with no built-up neighbours the increment is proportional to probability on dry cells
    ratio = inc[a] / prob[a]
    assert ratio == pytest.approx(np.full(ratio.shape, ratio.mean()), rel=1e-9)


def test_grow_urban_reaches_large_demand_when_room_allows(grid):
    prob = np.random.default_rng(4).uniform(0.01, 1.0, size=grid.shape)
    allowed = np.ones(grid.shape, bool)
    allowed[5:, 0:4] = False  # 20 cells barred
    water = np.zeros(grid.shape)
    water[0, :] = 0.5  # 10 cells half water in A
    built = np.zeros(grid.shape)
    built[3:6, 3:6] = 0.6
    # A's room: 100 cells - 20 barred - 5 water - 0.6 x 9 built, minus 1 x 2 overlap... ~70; ask 50
    room = np.where((grid.region_index == 0) & allowed, np.clip(1 - water - built, 0, None), 0).sum()
    demand = np.array([built[:, :10].sum() + 0.75 * room, 0.0])
    out = grow_urban(built, demand, prob, allowed, water, grid)
    assert grid.region_sums(out)[0] == pytest.approx(demand[0], rel=1e-9)
    assert (out <= 1.0 - water + 1e-12).all() and (out >= built).all()
    assert (out[~allowed] == built[~allowed]).all()


@pytest.mark.parametrize("shape", [(1, 1), (1, 6), (6, 1), (2, 2), (7, 9), (61, 47)])
def test_land_kernels_match_the_numpy_and_scipy_formulas_bit_for_bit(shape):
    """The numba land-use kernels replace numpy / scipy expressions without changing a bit."""
    from scipy import ndimage

    from gridcarbon.core import kernels
    from gridcarbon.evolution.areas import AFFOREST_SHARE, afforestable, hill_factor

    rng = np.random.default_rng(shape[0] * 100 + shape[1])
    values = rng.uniform(size=shape) * 10.0 ** rng.integers(-4, 4, size=shape)
    assert np.array_equal(kernels.uniform3(values), ndimage.uniform_filter(values, size=3, mode="constant"))
    water, built, forest = (rng.uniform(0, 0.6, size=shape) for _ in range(3))
    land = xr.Dataset({"water": (("y", "x"), water), "elevation_m": (("y", "x"), rng.uniform(-5, 400, size=shape))})
    hill = np.clip((land.elevation_m.values - 20.0) / 150.0, 0.1, 1.0)
    assert np.array_equal(hill_factor(land), hill)
    expected = AFFOREST_SHARE * np.clip(1.0 - water - built - forest, 0.0, 1.0) * hill
    assert np.array_equal(afforestable(land, built, forest), expected)
    assert np.array_equal(afforestable(land, built, forest, hill=hill), expected)
    region = rng.integers(-1, 3, size=values.size)
    frac = rng.uniform(size=3)
    assert np.array_equal(kernels.add_region_share(region, forest.ravel(), values.ravel(), frac),
                          forest.ravel() + np.where(region >= 0, values.ravel() * frac[np.maximum(region, 0)], 0.0))


def test_afforest_adds_requested_area_in_proportion_to_potential(grid):
    potential = np.random.default_rng(5).uniform(0.0, 0.6, size=grid.shape)
    potential[:, 15:] = 0.0  # part of B cannot take forest
    forest = np.full(grid.shape, 0.1)
    need = np.array([12.5, 3.0])  # km2 per region; cell area is 1 km2
    out = afforest(forest, need, potential, grid)
    added = out - forest
    assert grid.region_sums(added) * grid.cell_area_km2 == pytest.approx(need, rel=1e-12)
    for r in (0, 1):
        sel = (grid.region_index == r) & (potential > 0)
        k = added[sel] / potential[sel]
        assert k == pytest.approx(np.full(k.shape, k[0]), rel=1e-12)
    assert (added[:, 15:] == 0).all()
    # more than the potential holds: every cell takes all its potential, no more
    full = afforest(forest, np.array([1e6, 1e6]), potential, grid)
    assert np.allclose(full - forest, potential)


def test_capacity_table_counts_forest_room_and_storage(grid):
    from gridcarbon.evolution import INJECTION_YEARS, capacity_table
    from gridcarbon.evolution.areas import AFFOREST_SHARE

    elevation = np.where(grid.region_index == 0, 170.0, 0.0)  # A all hill land (factor 1), B flat (0.1)
    storage = np.zeros(grid.shape)
    storage[3, 3] = 2.0  # Mt, in A
    land = xr.Dataset({"elevation_m": (("y", "x"), elevation), "water": (("y", "x"), np.zeros(grid.shape)),
                       "storage_mt": (("y", "x"), storage)}, coords=grid.coords())
    built, forest = {2030: np.full(grid.shape, 0.2)}, {2030: np.full(grid.shape, 0.3)}
    rate = np.array([500.0, 300.0])
    caps = capacity_table(grid, land, built, forest, rate).set_index(["region", "sector"]).capacity_t
    room = 1.0 - 0.2 - 0.3  # per cell, before the afforestable share and the hill factor
    assert caps["A", "forest_sink"] == pytest.approx(100 * (0.3 + AFFOREST_SHARE * room * 1.0) * 500.0)
    assert caps["B", "forest_sink"] == pytest.approx(100 * (0.3 + AFFOREST_SHARE * room * 0.1) * 300.0)
    assert caps["A", "beccs"] == pytest.approx(2.0e6 / INJECTION_YEARS)
    assert caps["B", "beccs"] == 0.0


# -- 11: corridors ------------------------------------------------------------------------------
def test_corridors_electrification_opening_year_and_regional_growth(grid):
    lines = gpd.GeoDataFrame({
        "sector": ["transport_road", "transport_other", "transport_other", "transport_road", "transport_road"],
        "kind": ["motorway", "waterway", "rail", "motorway", "motorway"],
        "emission_t": [100.0, 50.0, 40.0, 80.0, 60.0],
        "opened": [np.nan, np.nan, 2000, np.nan, 2030],
    }, geometry=[LineString([(500, 9500), (9500, 9500)]),       # row 0, A
                 LineString([(500, 7500), (9500, 7500)]),       # row 2, A
                 LineString([(500, 5500), (9500, 5500)]),       # row 4, A
                 LineString([(5000, 3500), (15000, 3500)]),     # row 6, half A half B
                 LineString([(10500, 1500), (19500, 1500)])],   # row 8, B, opens 2030
        crs=grid.crs)
    cov = line_coverage(lines.geometry, grid, np.full(len(lines), -1, np.int64))
    cor = Corridors.build(lines, cov, grid, 2024)
    assert cor.region_share[3] == pytest.approx([0.5, 0.5])

    def per_line(year, gdp, elec, elec0=0.0):
        lay = cor.layers(year, grid, gdp_ratio=np.asarray(gdp, float), pop_ratio=np.ones(2), electrified=elec,
                         electrified_base=elec0).sum(axis=0)  # each line sits in its own row
        return lay.sum(axis=1)[[0, 2, 4, 6, 8]]

    base = per_line(2024, [1, 1], 0.0)
    assert base == pytest.approx([100.0, 50.0, 40.0, 80.0, 0.0])  # not yet open
    # half the activity electrified: motorway x 0.5, rail x 0.75, waterway x 1
    e = per_line(2035, [1, 1], 0.5)
    assert e[:4] / base[:4] == pytest.approx([0.5, 1.0, 0.75, 0.5])
    assert e[0] / e[1] < base[0] / base[1]  # motorway falls relative to waterway
    # opened 2030: nothing in 2029, its full base weight from 2030
    assert per_line(2029, [1, 1], 0.0)[4] == 0.0
    assert per_line(2030, [1, 1], 0.0)[4] == pytest.approx(60.0)
    # GDP x4 in B only: growth 4 ** 0.5 = 2 for B's line, (1 + 2) / 2 for the straddling one
    g = per_line(2040, [1, 4], 0.0)
    assert g / np.r_[base[:4], 60.0] == pytest.approx([1.0, 1.0, 1.0, 1.5, 2.0])
    # layers land in the corridor's sector
    full = cor.layers(2040, grid, gdp_ratio=np.ones(2), pop_ratio=np.ones(2), electrified=0.0, electrified_base=0.0)
    road, other = LINE_SECTORS.index("transport_road"), LINE_SECTORS.index("transport_other")
    assert full[road].sum() == pytest.approx(240.0) and full[other].sum() == pytest.approx(90.0)
    assert ELECTRIFICATION_EFFECT["waterway"] == 0.0


def test_electrified_share_interpolates_linearly():
    sched = {2024: 0.03, 2035: 0.35, 2060: 0.9}
    assert electrified_share(sched, 2024) == pytest.approx(0.03)
    assert electrified_share(sched, 2030) == pytest.approx(0.03 + 0.32 * 6 / 11)
    assert electrified_share(sched, 2060) == pytest.approx(0.9)
    assert electrified_share(sched, 2070) == pytest.approx(0.9)  # held after the last year


# -- 12: totals imposed exactly ----------------------------------------------------------------
def test_impose_totals_exact_with_empty_region_fallback(grid):
    rng = np.random.default_rng(6)
    n = len(GRIDDED)
    raw = rng.uniform(0.0, 5.0, size=(n,) + grid.shape)
    raw[GRIDDED.index("beccs")] *= -1.0  # removal patterns arrive negative
    p, bld = GRIDDED.index("power"), GRIDDED.index("buildings")
    raw[p][:, 10:] = 0.0  # every power plant of B has gone
    raw[bld][:, 10:] = 0.0  # and B's building pattern is empty
    target = rng.uniform(1e6, 1e8, size=(n, 2))
    target[GRIDDED.index("forest_sink")] *= -1.0
    target[GRIDDED.index("beccs")] *= -1.0
    target[GRIDDED.index("steel"), 1] = 0.0
    suit = {s: rng.uniform(0.0, 1.0, grid.shape) for s in POINT_SECTORS}
    out = _impose_totals(raw, target, grid, fallback=suit)
    got = grid.region_sums(out)
    assert np.allclose(got, target, rtol=1e-12, atol=0.0)
    # B's power follows the suitability surface, B's buildings are spread evenly
    b = grid.region_index == 1
    assert out[p][b] / suit["power"][b] == pytest.approx(np.full(b.sum(), target[p, 1] / suit["power"][b].sum()),
                                                         rel=1e-12)
    assert out[bld][b] == pytest.approx(np.full(b.sum(), target[bld, 1] / b.sum()), rel=1e-12)
    # A's pattern is kept (a rescale of raw), removals stay non-positive
    a = grid.region_index == 0
    assert out[p][a] / raw[p][a] == pytest.approx(np.full(a.sum(), target[p, 0] / raw[p][a].sum()), rel=1e-12)
    assert (out[GRIDDED.index("beccs")] <= 0).all() and (out[GRIDDED.index("forest_sink")] <= 0).all()
    assert (out[GRIDDED.index("steel")][b] == 0).all()


# -- 13: suitability ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def suit_setup():
    grid = two_regions(res=10_000.0, n=20)  # 20 x 40 cells of 10 km: 2 x 4 blocks of 100 km
    rng = np.random.default_rng(11)
    layers = {"signal": rng.uniform(size=grid.shape), "noise1": rng.uniform(size=grid.shape),
              "noise2": rng.normal(size=grid.shape), "noise3": rng.uniform(size=grid.shape)}
    cov = xr.Dataset({k: (("y", "x"), v) for k, v in layers.items()}, coords=grid.coords())
    presence = layers["signal"] > 0.85
    return grid, cov, presence


def test_spatial_blocks_group_neighbours(suit_setup):
    grid = suit_setup[0]
    blocks = spatial_blocks(grid).reshape(grid.shape)
    k = 10  # 100 km / 10 km
    for r0 in range(0, grid.shape[0], k):
        for c0 in range(0, grid.shape[1], k):
            tile = blocks[r0:r0 + k, c0:c0 + k]
            assert (tile == tile[0, 0]).all()
    assert len(np.unique(blocks)) == (grid.shape[0] // k) * (grid.shape[1] // k)
    assert blocks[0, 0] == blocks[0, 1] == blocks[1, 0] == blocks[9, 9]
    assert blocks[0, 9] != blocks[0, 10] and blocks[9, 0] != blocks[10, 0]
    some = np.array([0, 7, grid.shape[1] * 11 + 3, blocks.size - 1])
    assert np.array_equal(spatial_blocks(grid, cells=some), blocks.ravel()[some])


def test_fit_suitability_skill_importance_determinism_and_hash(suit_setup, tmp_path):
    grid, cov, presence = suit_setup
    model = fit_suitability("power", presence, cov, grid, seed=3)
    assert model.auc > 0.8
    assert max(model.importances, key=model.importances.get) == "signal"
    assert model.n_presence == int(presence.sum())
    assert model.meta["folds"] == 5 and len(model.auc_folds) >= 1
    pred = model.predict(cov, grid)
    again = fit_suitability("power", presence, cov, grid, seed=3).predict(cov, grid)
    assert np.array_equal(pred, again)
    # bit-identical on repeat too (threaded tree sums would differ in the last bit)
    assert all(np.array_equal(pred, model.predict(cov, grid)) for _ in range(3))
    assert pred[presence].mean() > pred[~presence].mean()
    path = tmp_path / "power.pkl"
    digest = model.save(path)
    loaded = load_model(path, sha256=digest)
    assert np.array_equal(loaded.predict(cov, grid), pred)
    assert loaded.auc == model.auc and loaded.features == model.features
    with pytest.raises(InputError, match="hash mismatch"):
        load_model(path, sha256="0" * 64)
    path.write_bytes(path.read_bytes() + b"tampered")
    with pytest.raises(InputError):
        load_model(path, sha256=digest)


def test_fit_suitability_refuses_too_few_presences(suit_setup):
    grid, cov, presence = suit_setup
    few = np.zeros_like(presence)
    few[0, 0] = few[5, 5] = True
    with pytest.raises(InputError, match="too few presence"):
        fit_suitability("cement", few, cov, grid, seed=0)


# -- 14: the built-in default, evolved twice ------------------------------------------------------
@pytest.fixture(scope="module")
def yrd_pair():
    """The built-in YRD baseline at 10 km, allocated under yrd-enhanced, evolved twice to 2060."""
    from gridcarbon.allocation.lp import allocate, drivers_path, read_drivers
    from gridcarbon.config.scenario import load_scenario
    from gridcarbon.evolution import (
        evolve,
        fit_models,
        initial_capacities,
        inventory_covariates,
    )
    from gridcarbon.inventory.builtin import build_yrd_baseline

    inv, land = build_yrd_baseline()
    sc = load_scenario("yrd-enhanced")
    drivers = read_drivers(drivers_path(sc))
    years = list(range(inv.year, 2061))
    res = allocate(sc, inv.totals, drivers, capacities=initial_capacities(inv, land, years))
    cov = inventory_covariates(inv, land)
    models = fit_models(inv, cov, land, seed=sc.seed)
    runs = [evolve(inv, land, res.totals, drivers, spec=sc.evolution, seed=sc.seed, end_year=2060,
                   models=models, covariates=cov) for _ in range(2)]
    return inv, runs


@pytest.mark.slow
def test_default_evolution_is_deterministic_exact_and_really_moves(yrd_pair):
    inv, (a, b) = yrd_pair
    assert np.array_equal(a.layers[2060], b.layers[2060])
    assert a.fleet.events == b.fleet.events
    # totals imposed every year
    assert set(a.residuals.year) == set(range(inv.year, 2061))
    rel = a.residuals.residual_t.abs() / a.residuals.allocated_t.abs().clip(lower=1.0)
    assert rel.max() <= 1e-9
    # the 2060 power grid is not a rescaled 2024 grid
    p = GRIDDED.index("power")
    p0, p1 = a.layers[inv.year][p], a.layers[2060][p]
    assert p0.sum() > 0 and p1.sum() > 0
    share0, share1 = (p0 / p0.sum()).ravel(), (p1 / p1.sum()).ravel()
    assert np.corrcoef(share0, share1)[0, 1] < 0.99
    assert ((p0 > 0) & (p1 == 0)).any()  # closed or moved away
    assert ((p0 == 0) & (p1 > 0)).any()  # built or moved in
    counts = a.fleet.counts()
    assert counts["retired"] > 0 and (counts["built"] + counts["relocated"]) > 0
    summary = a.summary()
    assert summary["suitability"]["power"]["auc_blocked_cv"] >= 0.7
    assert summary["suitability"]["urban"]["auc_blocked_cv"] >= 0.7
    assert summary["max_relative_residual"] <= 1e-9
