"""The year loop (gridcarbon.evolution.years): totals imposed exactly, a toy base year evolved
on the two-region grid of ``conftest.py``, and the built-in YRD default evolved twice at 10 km."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridcarbon.config import EvolutionSpec
from gridcarbon.core.sectors import GRIDDED, POINT_SECTORS
from gridcarbon.evolution import (
    EvolutionContext,
    evolve,
    impose_totals,
    land_capacities,
    relocation,
)
from gridcarbon.testing import toy_drivers

YEARS = list(range(2024, 2031))


# -- totals imposed exactly ----------------------------------------------------------------
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
    out = impose_totals(raw, target, grid, fallback=suit)
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


def test_impose_totals_lets_each_pattern_go_before_the_next_is_made(grid):
    """A year holds one sector's float64 pattern at a time (214 MB a layer for China at 1 km):
    when the next pattern is asked for, nothing holds the one before."""
    import gc
    import weakref

    rng = np.random.default_rng(3)
    made: list[weakref.ref] = []

    def patterns():
        for _ in GRIDDED:
            gc.collect()
            assert all(ref() is None for ref in made)
            layer = rng.uniform(0.0, 1.0, grid.shape)
            made.append(weakref.ref(layer))
            yield layer
            del layer

    target = rng.uniform(1.0, 2.0, size=(len(GRIDDED), 2))
    out = impose_totals(patterns(), target, grid, fallback={}, dtype=np.float32)
    assert len(made) == len(GRIDDED) and out.dtype == np.float32
    assert np.allclose(grid.region_sums(out), target, rtol=1e-6)


# -- a toy base year, evolved ------------------------------------------------------------------
def toy_totals(inv) -> pd.DataFrame:
    """Allocated totals 2024-2030 (t CO2/yr), linear from the base year to 2030: A's power falls
    from 200 to 80 t, B's rises from 100 to 300 t, buildings grow by half, the forest sink doubles."""
    change = {("A", "power"): 0.4, ("B", "power"): 3.0, ("A", "buildings"): 1.5, ("B", "buildings"): 1.5,
              ("A", "forest_sink"): 2.0, ("B", "forest_sink"): 2.0}
    base = inv.totals[inv.totals.sector.isin(GRIDDED)]
    rows = []
    for year in YEARS:
        k = (year - YEARS[0]) / (YEARS[-1] - YEARS[0])
        factor = [1.0 + (change.get(key, 1.0) - 1.0) * k for key in zip(base.region, base.sector)]
        rows.append(base.assign(year=year, allocated_t=base.value_t.to_numpy() * factor))
    return pd.concat(rows, ignore_index=True).drop(columns="value_t")


@pytest.fixture(scope="module")
def toy_evolution(toy_base):
    """The toy base year evolved twice to 2030 under :func:`toy_totals` (GDP +3 %/yr, 3 km spacing),
    with a relocation hazard of 1 and no relocation cap (a due plant moves in the year it is due)."""
    inv, land, suitability = toy_base
    ctx = EvolutionContext.build(inv, land, toy_drivers(inv.grid, YEARS, gdp_growth=0.03), suitability,
                                 spec=EvolutionSpec(min_spacing_km=3.0), seed=5, end_year=YEARS[-1])
    totals = toy_totals(inv)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(relocation, "PROGRAMME_YEARS", 1)
        mp.setattr(relocation, "RELOCATION_CAP_SHARE", dict.fromkeys(POINT_SECTORS, 1.0))
        return ctx, totals, [evolve(ctx, totals, snapshot_years=[2030]) for _ in range(2)]


def test_toy_evolution_imposes_every_total_and_keeps_the_base_year(toy_evolution):
    ctx, totals, (a, _) = toy_evolution
    assert sorted(a.layers) == YEARS and set(a.residuals.year) == set(YEARS)
    assert a.summary()["max_relative_residual"] <= 1e-9
    assert np.array_equal(a.layers[2024], ctx.inv.emissions["emission"].values)
    got = ctx.grid.region_sums(a.layers[2030])
    want = totals[totals.year == 2030].set_index(["sector", "region"]).allocated_t
    for i, s in enumerate(GRIDDED):
        assert got[i] == pytest.approx(want.loc[s].reindex(list(ctx.grid.regions)).to_numpy(), rel=1e-9, abs=1e-9)
    assert (a.layers[2030][GRIDDED.index("forest_sink")] <= 0).all()


def test_toy_evolution_makes_every_kept_year_in_one_cube(toy_evolution):
    """All years kept: each year's layers are a view of the result's (sector, year, y, x) cube,
    so the job needs no stacked copy; a subset of years kept: no cube, the same layers."""
    ctx, totals, (a, _) = toy_evolution
    assert a.cube.shape == (len(GRIDDED), len(YEARS)) + ctx.grid.shape
    for k, year in enumerate(YEARS):
        assert np.shares_memory(a.layers[year], a.cube) and np.array_equal(a.cube[:, k], a.layers[year])
    with pytest.MonkeyPatch.context() as mp:  # the fixture's relocation rules
        mp.setattr(relocation, "PROGRAMME_YEARS", 1)
        mp.setattr(relocation, "RELOCATION_CAP_SHARE", dict.fromkeys(POINT_SECTORS, 1.0))
        some = evolve(ctx, totals, keep_years=[2024, 2030])
    assert some.cube is None and sorted(some.layers) == [2024, 2030]
    assert all(np.array_equal(some.layers[y], a.layers[y]) for y in (2024, 2030))


def test_toy_evolution_follows_the_fleet_rules_deterministically(toy_evolution):
    ctx, _, (a, b) = toy_evolution
    assert all(np.array_equal(a.layers[y], b.layers[y]) for y in YEARS) and a.fleet.events == b.fleet.events
    ev = pd.DataFrame(a.fleet.events, columns=["year", "id", "event", "sector", "region", "from", "to"])
    # P1 stands in A's town (built-up 0.6, an urban core) and reaches its refurbishment age
    # (25) in 2025: it moves to the best allowed cell of A, the NW corner
    assert list(ev[ev.event == "relocated"].itertuples(index=False, name=None)) == [
        (2025, "P1", "relocated", "power", 0, 2 * 20 + 2, 0)]
    # A's power falls linearly from 200 t: utilisation below 0.55 first in 2029. P1, rebuilt in
    # 2025 and within reach of B's storage, is retrofitted with CCS rather than anything retiring:
    # potential after capture 10 + 100 t keeps utilisation <= 1
    assert list(ev[ev.event == "retrofitted"][["year", "id"]].itertuples(index=False, name=None)) == [(2029, "P1")]
    assert not (ev.event == "retired").any()
    # B's power rises from 100 t: 133 t in 2025 and 233 t on 200 t of plants in 2028 exceed
    # 1.05 utilisation, each time one plant of the median size (100 t) is built in B
    new = ev[ev.event == "built"]
    assert list(new.year) == [2025, 2028] and (new.region == 1).all() and (new.sector == "power").all()
    assert (ctx.grid.region_index.ravel()[new["to"].to_numpy()] == 1).all()
    end = a.snapshots[2030].set_index("id")
    assert end.loc["P1", "ccs"] and end.loc["P1", "moved_from"] == 2 * 20 + 2
    assert end.loc["P1", "captured_t"] == pytest.approx(0.9 * end.loc["P1", "utilisation"] * 100.0, rel=1e-9)


def test_toy_land_capacities_are_the_evolved_lands(toy_evolution):
    """The coupling's land-only pass draws what the full evolution draws: same capacities."""
    ctx, totals, (a, _) = toy_evolution
    caps = land_capacities(ctx, totals)
    pd.testing.assert_frame_equal(caps, a.capacities)
    assert set(caps.year) == set(YEARS) and set(caps.sector) == {"forest_sink", "beccs"}


# -- the built-in default, evolved twice ------------------------------------------------------
@pytest.fixture(scope="module")
def yrd_pair(default_prepared):
    """The built-in YRD baseline at 10 km, allocated under yrd-enhanced, evolved twice to 2060."""
    from gridcarbon.allocation import allocate
    from gridcarbon.config import load_scenario
    from gridcarbon.evolution import initial_capacities

    sc = load_scenario("yrd-enhanced")
    prep = default_prepared  # job.prepare(sc)
    inv, land = prep.area.inventory, prep.area.landscape
    assert prep.context.years == list(range(inv.year, 2061))
    res = allocate(sc, inv.totals, prep.drivers, capacities=initial_capacities(inv, land, prep.context.years))
    runs = [evolve(prep.context, res.totals) for _ in range(2)]
    return inv, prep.suitability, runs


@pytest.mark.slow
def test_default_evolution_is_deterministic_exact_and_really_moves(yrd_pair):
    inv, suitability, (a, b) = yrd_pair
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
    assert suitability.summary()["power"]["auc_blocked_cv"] >= 0.7
    assert suitability.summary()["urban"]["auc_blocked_cv"] >= 0.7
    assert summary["max_relative_residual"] <= 1e-9


def test_pipeline_is_built_when_needed_and_waits_otherwise(toy_base, toy_evolution):
    """Pipeline rows (construction, a later start, announced) are what the build rule takes
    first when a target needs throughput; where the target falls they wait in the pipeline."""
    from dataclasses import replace

    from gridcarbon.evolution.fleet import PIPELINE
    from gridcarbon.testing import plant, toy_facilities

    inv, land, suitability = toy_base
    _, totals, _ = toy_evolution
    extra = toy_facilities(inv.grid, [plant("U1", 0, emission=0.0, capacity=600.0, built=2027),
                                      plant("U2", 9 * 20 + 19, region="B", emission=0.0, built=2026),
                                      plant("U3", 3 * 20 + 3, sector="steel", emission=0.0, built=2030)])
    extra["status"] = ["construction", "operating", "announced"]
    facilities = pd.concat([inv.facilities.assign(status="operating"), extra], ignore_index=True)
    with_pipeline = replace(inv, facilities=facilities)
    ctx = EvolutionContext.build(with_pipeline, land, toy_drivers(inv.grid, YEARS, gdp_growth=0.03), suitability,
                                 spec=EvolutionSpec(min_spacing_km=3.0), seed=5, end_year=YEARS[-1])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(relocation, "PROGRAMME_YEARS", 1)
        mp.setattr(relocation, "RELOCATION_CAP_SHARE", dict.fromkeys(POINT_SECTORS, 1.0))
        b = evolve(ctx, totals, snapshot_years=[2030])
    ev = pd.DataFrame(b.fleet.events, columns=["year", "id", "event", "sector", "region", "from", "to"])
    built = ev[ev.event == "built"]
    # B's power needs a plant in 2025 (U2 not due before 2026: a new one) and in 2028: U2,
    # due since 2026 and 100 t like B's plants (capacity 100 x 1 t per unit), is taken first
    assert list(zip(built.year, built.id.str.startswith("NEW"))) == [(2025, True), (2028, False)]
    assert built.id.iloc[1] == "U2"
    pipe = b.fleet.table.set_index("id")
    assert pipe.loc["U2", "status"] == "active" and pipe.loc["U2", "cell"] == 9 * 20 + 19
    # A's power falls: U1 (due 2027) waits; U3 is steel in A, which has no steel target
    assert (pipe.loc[["U1", "U3"], "status"] == PIPELINE).all()
    assert b.summary()["max_relative_residual"] <= 1e-9
