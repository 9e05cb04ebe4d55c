"""Industrial transfer between regions: steel leaves the region whose total falls faster for the
one with room; the allocation's totals follow the moved tonnes; the plant moves once and is
reported once (toy two-region base year and the default run)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridcarbon.allocation import AllocationResult
from gridcarbon.allocation.transfers import PLAN_COLUMNS, apply_transfers
from gridcarbon.config import EvolutionSpec
from gridcarbon.core.errors import MassBalanceError
from gridcarbon.core.sectors import GRIDDED
from gridcarbon.evolution import EvolutionContext, evolve
from gridcarbon.evolution import transfer as transfer_rule
from gridcarbon.evolution.transfer import plan_transfers, transfer_table
from gridcarbon.testing import plant, toy_drivers, toy_inventory

YEARS = list(range(2024, 2035))
#: steel of region A falls to 20 % of its base by 2034, B's doubles: A falls faster than the set
A_END, B_END = 0.2, 2.0


def _cell(row: int, col: int) -> int:
    return row * 20 + col


@pytest.fixture(scope="module")
def steel_world(toy_base):
    """Three steel plants in A's low-suitability south-east (100 t CO2/yr each; built 1995,
    2005, 2015), one in B; every other sector flat. Returns (ctx, totals)."""
    base_inv, land, suitability = toy_base
    plants = [plant("A-OLD", _cell(9, 8), sector="steel", built=1995),
              plant("A-MID", _cell(7, 9), sector="steel", built=2005),
              plant("A-NEW", _cell(9, 6), sector="steel", built=2015),
              plant("B-ONE", _cell(8, 18), sector="steel", region="B", built=2000)]
    inv = toy_inventory(base_inv.grid, plants=plants)
    ctx = EvolutionContext.build(inv, land, toy_drivers(inv.grid, YEARS), suitability,
                                 spec=EvolutionSpec(min_spacing_km=0.0, transfer=True), seed=2, end_year=YEARS[-1])
    base = inv.totals[inv.totals.sector.isin(GRIDDED)]
    rows = []
    for k, year in enumerate(YEARS):
        w = k / (len(YEARS) - 1)
        factor = {"A": 1 + w * (A_END - 1), "B": 1 + w * (B_END - 1)}
        steel = base.sector.eq("steel")
        value = np.where(steel, base.value_t * base.region.map(factor), base.value_t)
        rows.append(base.assign(year=year, allocated_t=value))
    return ctx, pd.concat(rows).drop(columns="value_t").reset_index(drop=True)


def _allocation(totals: pd.DataFrame) -> AllocationResult:
    return AllocationResult(totals=totals, pathway=pd.DataFrame(), status="optimal", objective=0.0, timings={},
                            target_shares=pd.DataFrame())


@pytest.fixture(scope="module")
def transferred(steel_world):
    ctx, totals = steel_world
    with pytest.MonkeyPatch.context() as mp:  # the toy fleet is 4 plants: a 5 % yearly cap moves none
        mp.setitem(transfer_rule.TRANSFER_CAP_SHARE, "steel", 1.0)
        plan = plan_transfers(ctx, totals)
    alloc, moved = apply_transfers(_allocation(totals), plan)
    return plan, alloc, moved, evolve(ctx, alloc.totals, transfers=plan)


def test_capacity_moves_from_the_faster_falling_region_to_the_one_with_room(transferred):
    plan, _, _, _ = transferred
    # the set's trend in year k is (300 a_k + 100 b_k) / 400 (a_k, b_k: A's and B's ratios);
    # the first move comes in the first year A's gap (trend - a_k) x 300 and B's room
    # (b_k - trend) x 100 both hold a 100 t plant
    assert len(plan) >= 1
    assert (plan.from_region == "A").all() and (plan.to_region == "B").all()
    assert plan.id.iloc[0] == "A-OLD"  # oldest first
    assert plan.id.is_unique
    first = plan.year.iloc[0]
    k = YEARS.index(first)
    a, b = 1 + k / 10 * (A_END - 1), 1 + k / 10 * (B_END - 1)
    trend = (300 * a + 100 * b) / 400
    assert (trend - a) * 300 >= 100 and (b - trend) * 100 >= 100
    a_before, b_before = 1 + (k - 1) / 10 * (A_END - 1), 1 + (k - 1) / 10 * (B_END - 1)
    trend_before = (300 * a_before + 100 * b_before) / 400
    assert min((trend_before - a_before) * 300, (b_before - trend_before) * 100) < 100  # not a year earlier


def test_the_allocation_takes_the_moved_tonnes_along_and_keeps_the_pathway(steel_world, transferred):
    _, totals = steel_world
    plan, alloc, moved, _ = transferred
    before = totals.set_index(["region", "sector", "year"]).allocated_t
    after = alloc.totals.set_index(["region", "sector", "year"]).allocated_t
    assert after.groupby(level="year").sum().to_numpy() == pytest.approx(before.groupby(level="year").sum().to_numpy(),
                                                                           rel=1e-12)
    first = plan.year.iloc[0]
    for year in YEARS:
        shift = moved[(moved.year == year)].moved_t.sum()
        a_trend = before[("A", "steel", year)] / before[("A", "steel", 2024)]
        expected = plan.potential_t[plan.year <= year].sum() * a_trend
        assert shift == pytest.approx(expected, rel=1e-12)
        assert after[("A", "steel", year)] == pytest.approx(before[("A", "steel", year)] - shift, rel=1e-12)
        assert after[("B", "steel", year)] == pytest.approx(before[("B", "steel", year)] + shift, rel=1e-12)
        assert (shift > 0) == (year >= first)
    others = after.index.get_level_values("sector") != "steel"
    assert (after[others] == before[others]).all()


def test_the_plant_moves_once_is_reported_once_and_totals_still_match(steel_world, transferred):
    ctx, totals = steel_world
    plan, _, moved, res = transferred
    ev = pd.DataFrame(res.fleet.events, columns=["year", "id", "event", "sector", "region", "from_cell", "to_cell"])
    done = ev[ev.event == "transferred"]
    assert sorted(done.id) == sorted(plan.id) and done.id.is_unique
    assert not (ev.event.isin(["relocated"]) & ev.id.isin(plan.id)).any()  # no plant moves twice
    t = res.fleet.table.set_index("id")
    for move in plan.itertuples():
        assert t.loc[move.id, "region_pos"] == 1 and ctx.grid.region_index.ravel()[t.loc[move.id, "cell"]] == 1
        assert t.loc[move.id, "moved_year"] == move.year
    # the moved plant stands in for a retirement in A (and builds in B): compared with no transfer
    ev0 = pd.DataFrame(evolve(ctx, totals).fleet.events, columns=ev.columns)

    def count(frame, event):
        return int(((frame.event == event) & (frame.sector == "steel")).sum())
    assert count(ev, "retired") < count(ev0, "retired") and count(ev, "built") <= count(ev0, "built")
    assert res.summary()["max_relative_residual"] <= 1e-6
    table = transfer_table(plan, moved, 2024)
    assert table.plants.sum() == len(plan)
    assert table.potential_mt.sum() == pytest.approx(plan.potential_t.sum() / 1e6)


def test_a_plan_larger_than_its_origin_is_refused(steel_world):
    _, totals = steel_world
    plan = pd.DataFrame([(2030, "A-OLD", "steel", "A", "B", 1e6)], columns=PLAN_COLUMNS)  # A has 300 t
    with pytest.raises(MassBalanceError, match="more from a region than its allocated total"):
        apply_transfers(_allocation(totals), plan)


def test_transfer_respects_the_yearly_cap(steel_world):
    ctx, totals = steel_world
    assert plan_transfers(ctx, totals).empty  # 5 % of 400 t is 20 t a year: no 100 t plant fits
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(transfer_rule.TRANSFER_CAP_SHARE, "steel", 0.25)  # one plant a year
        plan = plan_transfers(ctx, totals)
    assert plan.groupby("year").size().max() == 1


# -- the default run ------------------------------------------------------------------------------
def test_default_run_transfers_and_reports_them(default_run):
    folder = default_run.out_dir
    table = pd.read_csv(folder / "transfers.csv")
    assert list(table.columns) == ["period", "sector", "from_region", "to_region", "plants", "potential_mt",
                                   "moved_mt"]
    assert len(table) > 0 and set(table.sector) <= set(transfer_rule.TRANSFER_SECTORS)
    ev = default_run.events
    done = ev[ev.event == "transferred"]
    assert done.id.is_unique and len(done) == table.plants.sum() == default_run.manifest["transfers"]["plants"]
    assert not set(done.id) & set(ev.id[ev.event == "relocated"])  # no plant moves twice
    for sector in transfer_rule.TRANSFER_SECTORS:  # no region both sends and receives a sector
        part = table[table.sector == sector]
        assert not set(part.from_region) & set(part.to_region)
    worst = (default_run.totals.residual_t.abs() / default_run.totals.allocated_t.abs().clip(lower=1.0)).max()
    assert worst <= 1e-6
