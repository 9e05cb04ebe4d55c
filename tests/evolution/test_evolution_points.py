"""Point-source evolution (gridcarbon.evolution.points): the fleet table and its yearly rules.

The rules of the module docstring (relocate, retrofit CCS, retire, build, scale) on the
two-region grid of ``conftest.py`` (region A = columns 0-9, region B = columns 10-19; flat
cell = row * 20 + col). Expected values are derived in the comments from the rules, never
copied from a run.
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from gridcarbon.config import EvolutionSpec
from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import POINT_SECTORS
from gridcarbon.evolution import relocation
from gridcarbon.evolution.points import (
    Fleet,
    FleetRun,
    YearInputs,
    point_layers,
    step_points,
)
from gridcarbon.evolution.relocation import RELOCATE_AGE
from gridcarbon.evolution.siting import Surface
from gridcarbon.evolution.storage import Storage
from gridcarbon.testing import plant, toy_fleet

NX = 20  # columns of the two-region grid


# -- helpers ---------------------------------------------------------------------------------
def cell(row: int, col: int) -> int:
    return row * NX + col


def step(fleet, grid, year, *, targets, rules, suit=None, restricted=None, seed=0):
    """One year of the point rules without storage and with unlimited relocation caps."""
    suit = suit if suit is not None else np.ones(grid.shape)
    storage = Storage.build(np.zeros(grid.shape), grid, reach_km=rules.ccs_reach_km,
                            removals=np.zeros((1, len(grid.regions))), years=[year])
    surface = Surface(grid.cell_index.compact(suit), grid.cell_index)
    run = FleetRun({s: surface for s in POINT_SECTORS}, grid, rules, storage, dict.fromkeys(POINT_SECTORS, np.inf))
    now = YearInputs(np.zeros(grid.shape, bool) if restricted is None else restricted, np.zeros(grid.cell_index.size))
    step_points(fleet, year, targets, run, now, np.random.default_rng(seed))


@pytest.fixture
def certain_moves(monkeypatch):
    """A due plant moves in the year it becomes due (hazard 1)."""
    monkeypatch.setattr(relocation, "PROGRAMME_YEARS", 1)


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
    fleet = toy_fleet(grid, [plant("A1", cell(0, 0), capacity=100.0), plant("A2", cell(1, 1), capacity=50.0),
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


# -- retirement ----------------------------------------------------------------------------
def test_falling_target_retires_oldest_plant_first_and_scales_exactly(grid):
    # three equal, equally efficient power plants in A; the oldest is neither first by id nor by cell
    fleet = toy_fleet(grid, [plant("P1", cell(0, 0), built=2015), plant("P2", cell(5, 5), built=1980),
                              plant("P3", cell(9, 9), built=2000), plant("Q1", cell(0, 15), region="B")])
    rules = EvolutionSpec(min_spacing_km=0.0)
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
    fleet = toy_fleet(grid, [plant("E1", cell(0, 0), capacity=100.0), plant("E2", cell(2, 2), capacity=50.0),
                              plant("E3", cell(4, 4), capacity=100.0)])
    step(fleet, grid, 2030, targets={(0, "power"): 150.0}, rules=EvolutionSpec(min_spacing_km=0.0))
    assert list(events(fleet).id) == ["E2"]
    assert fleet.table.emission_t[fleet.table.status == "active"].sum() == pytest.approx(150.0, rel=1e-12)


def test_retirement_spares_ccs_plants(grid):
    # the oldest plant carries CCS: it goes last; the next oldest retires instead
    fleet = toy_fleet(grid, [plant("OLDCCS", cell(0, 0), built=1975), plant("MID", cell(3, 3), built=1990),
                              plant("NEW", cell(6, 6), built=2020)])
    fleet["ccs"][fleet.row("OLDCCS")] = True
    rules = EvolutionSpec(min_spacing_km=0.0, capture_rate=0.0)  # capture 0: potentials stay 100 each
    step(fleet, grid, 2030, targets={(0, "power"): 150.0}, rules=rules)
    assert list(events(fleet).id) == ["MID"]


def test_zero_target_retires_whole_region_sector(grid):
    fleet = toy_fleet(grid, [plant("P1", cell(0, 0)), plant("P2", cell(5, 5), built=2020),
                              plant("S1", cell(7, 7), sector="steel"), plant("Q1", cell(0, 15), region="B")])
    step(fleet, grid, 2030, targets={(0, "power"): 0.0, (0, "steel"): 100.0, (1, "power"): 100.0},
         rules=EvolutionSpec(min_spacing_km=0.0))
    t = fleet.table.set_index("id")
    assert t.loc[["P1", "P2"], "status"].eq("retired").all()
    assert t.loc[["S1", "Q1"], "status"].eq("active").all()
    ev = events(fleet)
    assert sorted(ev.id) == ["P1", "P2"] and ev.event.eq("retired").all() and ev.year.eq(2030).all()
    power = point_layers(fleet, grid, POINT_SECTORS)[POINT_SECTORS.index("power")]
    assert grid.region_sums(power) == pytest.approx([0.0, 100.0], abs=1e-9)
    assert not (fleet.table.origin == "new").any()  # a zero target never builds


# -- relocation ----------------------------------------------------------------------------
def test_old_plant_in_restricted_zone_moves_to_best_allowed_cell(grid, certain_moves):
    restricted = np.zeros(grid.shape, bool)
    restricted[0:2, 0:2] = True  # an urban core in A's NW corner
    suit = ramp(grid, bonus_b=1.0)  # B is better everywhere, but the plant must stay in A
    old_built = 2030 - RELOCATE_AGE  # exactly at refurbishment age
    fleet = toy_fleet(grid, [plant("OLD", cell(1, 1), built=old_built),
                              plant("YOUNG", cell(0, 0), built=2030 - RELOCATE_AGE + 1)])
    # spacing 1.5 cells: the best allowed cell (2, 0) is 1.41 cells from OLD's *own* old cell,
    # which it is leaving, and 2 cells from YOUNG: it must be taken
    rules = EvolutionSpec(min_spacing_km=1.5)
    step(fleet, grid, 2030, targets={(0, "power"): 200.0}, rules=rules, suit=suit, restricted=restricted)
    allowed_a = ~restricted & (grid.region_index == 0)
    expected = greedy_reference(suit, allowed_a, [cell(0, 0)], 1, 1.5)[0]
    assert expected == cell(2, 0)  # rank key row + 1.1 col: (2,0)=2.0 beats (0,2)=2.2
    old, young = row_of(fleet, "OLD"), row_of(fleet, "YOUNG")
    assert old.cell == expected and old.region_pos == 0
    assert old.moved_from == cell(1, 1) and old.moved_year == 2030 and old.year_built == 2030
    assert old.status == "active" and old.origin == "base"
    assert young.cell == cell(0, 0) and young.moved_from == -1  # too young: refurbished in place
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
def test_relocation_stays_in_its_region_whatever_transfer(grid, transfer, certain_moves):
    """Relocation is a move within the region; moves between regions are the transfer plan's."""
    restricted = np.zeros(grid.shape, bool)
    restricted[0:2, 0:2] = True
    rows, cols = np.indices(grid.shape)
    suit = cols + 0.01 * rows  # best cells are in B (east), best of A is column 9
    fleet = toy_fleet(grid, [plant("OLD", cell(1, 1), built=1990)])
    step(fleet, grid, 2030, targets={}, rules=EvolutionSpec(min_spacing_km=1.5, transfer=transfer),
         suit=suit, restricted=restricted)
    moved = row_of(fleet, "OLD")
    assert moved.cell == cell(9, 9) and moved.region_pos == 0  # best cell of its own region
    assert tuple(events(fleet).iloc[0])[2:] == ("relocated", "power", 0, cell(1, 1), moved.cell)


# -- building -----------------------------------------------------------------------------
def test_rising_target_builds_on_best_cells_with_spacing(grid):
    suit = ramp(grid, bonus_b=5.0)  # B scores higher, but A's plants are built in A
    fleet = toy_fleet(grid, [plant("E", cell(0, 0)), plant("Q", cell(0, 15), region="B")])
    rules = EvolutionSpec(min_spacing_km=3.0, max_plants_per_cell=1)
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
    fleet = toy_fleet(grid, [plant("E", cell(0, 0))])
    step(fleet, grid, 2030, targets={(0, "power"): 300.0}, suit=suit,
         rules=EvolutionSpec(min_spacing_km=3.0, max_plants_per_cell=2))
    # cap 2: the best cell (E's own) takes one more plant; the next goes 3 cells away
    assert list(fleet.table.cell[fleet.table.origin == "new"]) == [cell(0, 0), cell(3, 0)]
    counts = np.bincount(fleet.table.cell[fleet.table.status == "active"], minlength=200)
    assert counts.max() == 2


def test_build_gives_up_where_nothing_is_allowed(grid):
    fleet = toy_fleet(grid, [plant("E", cell(0, 0))])
    restricted = grid.region_index == 0
    restricted[0, 0] = False  # E's own cell is free but already full (cap 1)
    step(fleet, grid, 2030, targets={(0, "power"): 300.0}, restricted=restricted,
         rules=EvolutionSpec(min_spacing_km=0.0))
    assert len(fleet.table) == 1
    assert row_of(fleet, "E").emission_t == pytest.approx(300.0, rel=1e-12)  # runs harder instead


def test_relocation_rate_factor_scales_the_yearly_caps(grid):
    fleet = toy_fleet(grid, [plant("P1", cell(0, 0), built=1990), plant("S1", cell(2, 2), sector="steel")])
    central, doubled = relocation.relocation_caps(fleet), relocation.relocation_caps(fleet, 2.0)
    assert central["power"] > 0 and central["steel"] > 0
    assert doubled == pytest.approx({s: 2 * v for s, v in central.items()})
