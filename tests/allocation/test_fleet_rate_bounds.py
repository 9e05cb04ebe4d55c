"""The fleet's retirement and build rates come from the fleet: its plants' ages and planned
retirements, its pipeline, storage within reach and the last allocation's rises
(:func:`gridcarbon.evolution.fleet_limits`), with rates from the GEM trackers."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from allocation.allocation_fixtures import generous_capacities, variant

from gridcarbon.allocation import allocate
from gridcarbon.config import EvolutionSpec, load_scenario
from gridcarbon.core.errors import InfeasibleAllocationError
from gridcarbon.core.sectors import GRIDDED
from gridcarbon.evolution import EvolutionContext, fleet_limits
from gridcarbon.evolution.commitments import MIN_LIFETIME_YEARS, fleet_rates
from gridcarbon.suitability.fitting import Suitability
from gridcarbon.testing import (
    plant,
    toy_drivers,
    toy_inventory,
    toy_landscape,
    two_region_grid,
)

YEARS = list(range(2024, 2061))
SPEC = EvolutionSpec()


def context(plants: list[dict], storage_mt: float = 0.0) -> EvolutionContext:
    """Two regions, the given plants (t CO2/yr), ``storage_mt`` of storage in A's NW corner."""
    grid = two_region_grid()
    storage = np.zeros(grid.shape)
    storage[0, 0] = storage_mt
    land = toy_landscape(grid, storage_mt=storage)
    inv = toy_inventory(grid, plants=plants)
    surfaces = Suitability({}, {s: np.full(grid.cell_index.size, 0.5) for s in ["power", "steel", "cement", "chemical", "urban"]})
    return EvolutionContext.build(inv, land, toy_drivers(grid, YEARS), surfaces, spec=SPEC, seed=0,
                                  end_year=YEARS[-1])


def limit(table: pd.DataFrame, kind: str, region: str = "A", sector: str = "cement") -> pd.Series:
    rows = table[(table["limit"] == kind) & (table["region"] == region) & (table["sector"] == sector)]
    return rows.set_index("year")["value_t"]


def cement(built: int, **extra) -> list[dict]:
    """Two cement kilns of 1 Mt CO2/yr in region A built in ``built``, far from each other."""
    return [plant("K1", 2 * 20 + 2, sector="cement", emission=1e6, built=built, **extra),
            plant("K2", 8 * 20 + 8, sector="cement", emission=1e6, built=built, **extra)]


def test_rates_come_from_the_trackers_and_are_plausible():
    rates = fleet_rates()
    assert set(rates.index) == {"power", "steel", "cement", "chemical"}
    # a fast province-year closes a few per cent of its fleet, builds more than it closes (coal)
    assert 0.01 < rates.loc["power", "closure"] < 0.2 and 0.01 < rates.loc["steel", "closure"] < 0.2
    assert rates.loc["power", "build"] > rates.loc["power", "closure"]
    assert (rates.loc["cement"] == rates.loc["steel"]).all()


def test_a_fleet_too_young_to_retire_gives_a_tighter_floor():
    young, old = fleet_limits(context(cement(2015)), None), fleet_limits(context(cement(1980)), None)
    floor_young, floor_old = limit(young, "retirement"), limit(old, "retirement")
    # nothing of the young fleet may retire before 2045: it stands whole at retire_utilisation
    assert floor_young.loc[2030] == pytest.approx(SPEC.retire_utilisation * 2e6)
    assert floor_young.loc[2015 + MIN_LIFETIME_YEARS - 1] == pytest.approx(SPEC.retire_utilisation * 2e6)
    # the old fleet shrinks by the closure rate every year from the first
    closure = fleet_rates().loc["cement", "closure"]
    assert floor_old.loc[2030] == pytest.approx(SPEC.retire_utilisation * 2e6 * (1 - closure) ** 6)
    assert (floor_old < floor_young).all()
    assert (np.diff(floor_old.to_numpy()) <= 1e-9).all()


def test_storage_in_reach_lowers_the_floor_by_what_capture_could_take():
    far, near = fleet_limits(context(cement(2015)), None), fleet_limits(context(cement(2015), storage_mt=500.0), None)
    ratio = limit(near, "retirement") / limit(far, "retirement")
    # both kilns lie within ccs_reach_km of the storage cell: all of the fleet could capture
    assert ratio.loc[2030] == pytest.approx(1 - SPEC.capture_rate)


def test_a_rise_in_the_last_allocation_builds_plants_that_stand_in_later_floors():
    ctx = context(cement(2015))
    base = ctx.inv.totals.set_index(["region", "sector"])["value_t"]
    rising = pd.DataFrame([(r, s, y, base[r, s] * (1.5 if (r, s) == ("A", "cement") and y >= 2030 else 1.0))
                           for r, s in base.index if s in GRIDDED for y in YEARS],
                          columns=["region", "sector", "year", "allocated_t"])
    before, after = limit(fleet_limits(ctx, None), "retirement"), limit(fleet_limits(ctx, rising), "retirement")
    new = 1.5 * 2e6 / SPEC.build_utilisation - 2e6
    assert after.loc[2029] == pytest.approx(before.loc[2029])
    assert after.loc[2030] == pytest.approx(before.loc[2030] + SPEC.retire_utilisation * new)


def test_the_build_ceiling_grows_by_the_build_rate_or_the_pipeline():
    ctx = context(cement(2015))
    ceiling = limit(fleet_limits(ctx, None), "build")
    rate = fleet_rates().loc["cement", "build"]
    assert ceiling.loc[2025] == pytest.approx(SPEC.build_utilisation * 2e6 * (1 + rate))
    assert ceiling.loc[2040] == pytest.approx(SPEC.build_utilisation * 2e6 * (1 + 16 * rate))
    assert limit(fleet_limits(ctx, None), "build", region="B").empty   # no kilns in B: no ceiling


# -- in the LP -----------------------------------------------------------------------------------
def rate_limits(rows: dict[tuple[str, str, str], float]) -> pd.DataFrame:
    """A fleet limits table: (limit, region, sector) -> Mt/yr in every year after 2024."""
    return pd.DataFrame([(r, kind, s, y, v * 1e6) for (kind, r, s), v in rows.items() for y in YEARS[1:]],
                        columns=["region", "limit", "sector", "year", "value_t"])


def totals_of(result, region: str, sector: str) -> pd.Series:
    t = result.totals
    return t[(t.region == region) & (t.sector == sector) & (t.year > 2024)].set_index("year")["allocated_t"]


def test_retirement_and_build_rates_hold_in_the_lp_and_are_named_per_year(enhanced, baseline, drivers):
    free_steel = totals_of(enhanced, "Jiangsu", "steel")
    free_cement = totals_of(enhanced, "Anhui", "cement")
    floor_mt, ceiling_mt = free_steel.max() / 1e6 + 5.0, 0.9 * free_cement.loc[2025] / 1e6
    bound = allocate(load_scenario("yrd-enhanced"), baseline, drivers, generous_capacities(),
                     fleet=rate_limits({("retirement", "Jiangsu", "steel"): floor_mt,
                                        ("build", "Anhui", "cement"): ceiling_mt}))
    assert (totals_of(bound, "Jiangsu", "steel") >= floor_mt * 1e6 * (1 - 1e-9)).all()
    assert (totals_of(bound, "Anhui", "cement") <= ceiling_mt * 1e6 * (1 + 1e-9)).all()
    named = {(b["limit"], b["region"], b["sector"]): dict(zip(b["years"], b["held_mt"])) for b in bound.fleet_binding}
    assert set(named[("retirement rate", "Jiangsu", "steel")]) == set(range(2025, 2061))
    assert named[("retirement rate", "Jiangsu", "steel")][2030] == pytest.approx(floor_mt, abs=1e-3)
    assert named[("build rate", "Anhui", "cement")][2025] == pytest.approx(ceiling_mt, abs=1e-3)
    families = {(b["family"], b["bound"]) for b in bound.binding}
    assert {("retirement rate", "lower"), ("build rate", "upper")} <= families


def test_the_power_block_replaces_the_rate_limits_of_power(enhanced, baseline, drivers):
    assert enhanced.power is not None
    power = totals_of(enhanced, "Jiangsu", "power")
    bound = allocate(load_scenario("yrd-enhanced"), baseline, drivers, generous_capacities(),
                     fleet=rate_limits({("build", "Jiangsu", "power"): 0.5 * power.min() / 1e6}))
    assert not [b for b in bound.fleet_binding if b["limit"] == "build rate"]
    np.testing.assert_allclose(totals_of(bound, "Jiangsu", "power"), power, rtol=1e-6)


def test_retirement_floors_above_the_pathway_are_diagnosed_with_their_numbers(baseline, drivers):
    limits = rate_limits({("retirement", r, "steel"): 300.0 for r in ("Anhui", "Jiangsu", "Zhejiang", "Shanghai")})
    with pytest.raises(InfeasibleAllocationError) as info:
        allocate(variant(), baseline, drivers, generous_capacities(), fleet=limits)
    message = str(info.value)
    assert "2060 gross pathway" in message
    assert "retirement rate 1,200 Mt (most: " in message and "steel 300 Mt" in message


def test_one_context_reads_its_fleet_once_for_every_allocation(monkeypatch):
    """:class:`FleetLimits` (what the coupling asks after each allocation) reads the context's
    plants once and gives, for each allocation's totals, the limits :func:`fleet_limits` gives."""
    from gridcarbon.evolution import FleetLimits, commitments

    ctx = context(cement(2015), storage_mt=500.0)
    base = ctx.inv.totals.set_index(["region", "sector"])["value_t"]
    rising = pd.DataFrame([(r, s, y, base[r, s] * (1.5 if s in ("cement", "beccs") and y >= 2030 else 1.0))
                           for r, s in base.index if s in GRIDDED for y in YEARS],
                          columns=["region", "sector", "year", "allocated_t"])
    expected = [fleet_limits(ctx, None), fleet_limits(ctx, rising)]
    reads = []
    real = commitments.Fleet.from_facilities
    monkeypatch.setattr(commitments.Fleet, "from_facilities", lambda *a, **k: reads.append(1) or real(*a, **k))
    limits_under = FleetLimits(ctx)
    for totals, table in zip([None, rising], expected):
        pd.testing.assert_frame_equal(limits_under(totals), table)
    assert len(reads) == 1
    assert not expected[0].equals(expected[1])  # the allocation moves the limits
