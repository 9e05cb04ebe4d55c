"""Cities that change: buildings and other industry follow the urban CA into new built-up
cells, industrial land grows next to existing clusters, and road CO2 stays on the corridors
as urban passenger traffic electrifies first (toy scenarios and the default run)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import gridcarbon
from gridcarbon.config import EvolutionSpec
from gridcarbon.config.evolution import schedule_at
from gridcarbon.core.sectors import GRIDDED
from gridcarbon.evolution import EvolutionContext, evolve
from gridcarbon.evolution.land import land_steps
from gridcarbon.evolution.patterns import (
    CORE_DECONCENTRATION,
    PARK_RADIUS_KM,
    RURAL_BUILT_FRACTION,
    RURAL_POPULATION,
    AreaBase,
    NewStock,
    Unmoved,
)
from gridcarbon.testing import toy_drivers, two_region_grid

YEARS = list(range(2024, 2046))


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


@pytest.fixture(scope="module")
def growing_town(toy_base):
    """The toy base year evolved to 2045 with GDP +8 %/yr (built-up demand x1.5), totals flat;
    with the built-up fraction of every year."""
    inv, land, suitability = toy_base
    base = inv.totals[inv.totals.sector.isin(GRIDDED)]
    totals = pd.concat([base.assign(year=y, allocated_t=base.value_t) for y in YEARS]).drop(columns="value_t")
    ctx = EvolutionContext.build(inv, land, toy_drivers(inv.grid, YEARS, gdp_growth=0.08), suitability,
                                 spec=EvolutionSpec(min_spacing_km=3.0), seed=3, end_year=YEARS[-1])
    built = {year: ctx.grid.cell_index.expand(b) for _, year, _, b, _ in land_steps(ctx, ctx.targets(totals))}
    return ctx, [evolve(ctx, totals) for _ in range(2)], built


def test_buildings_and_industry_follow_the_urban_growth_into_new_cells(growing_town):
    ctx, (res, again), built = growing_town
    b0, b1 = built[2024], built[2045]
    assert ctx.grid.region_sums(b1).sum() > 1.4 * ctx.grid.region_sums(b0).sum()  # the towns grow
    new = (b0 < 0.1) & (b1 - b0 > 0.02)  # outside the towns, land built up since the base year
    assert new.sum() >= 150
    for s in ("buildings", "other_industry"):
        then, now = res.layers[2024][GRIDDED.index(s)], res.layers[2045][GRIDDED.index(s)]
        assert now[new].sum() / now.sum() > then[new].sum() / then.sum() + 0.05, s
    assert res.summary()["max_relative_residual"] <= 1e-6
    assert all(np.array_equal(res.layers[y], again.layers[y]) for y in YEARS)


def test_a_new_town_decorrelates_the_buildings_pattern(toy_base):
    """Where the land suited to building lies away from today's towns (a new district), the
    buildings of 2045 follow it: r(2045, 2024) <= 0.97."""
    inv, land, suitability = toy_base
    rows, cols = np.indices(inv.grid.shape)
    new_town = np.where((rows >= 5) & (cols % 10 >= 5), 0.9, 0.02)
    surfaces = dict(suitability.surfaces, urban=inv.grid.cell_index.compact(new_town))
    base = inv.totals[inv.totals.sector.isin(GRIDDED)]
    totals = pd.concat([base.assign(year=y, allocated_t=base.value_t) for y in YEARS]).drop(columns="value_t")
    ctx = EvolutionContext.build(inv, land, toy_drivers(inv.grid, YEARS, gdp_growth=0.08),
                                 dataclasses.replace(suitability, surfaces=surfaces),
                                 spec=EvolutionSpec(min_spacing_km=3.0), seed=3, end_year=YEARS[-1])
    res = evolve(ctx, totals, keep_years=[2024, 2045])
    bld = GRIDDED.index("buildings")
    assert _corr(res.layers[2045][bld], res.layers[2024][bld]) <= 0.97
    assert res.summary()["max_relative_residual"] <= 1e-6


def test_urban_cores_lose_occupants_to_the_new_districts():
    """Base-year stock in urban-core cells keeps (1 - CORE_DECONCENTRATION)^years of its
    occupants; what it loses is added to the region's new stock, so the people are conserved."""
    grid = two_region_grid(4)
    built = np.full(grid.shape, 0.05)
    built[6, 0] = built[6, 5] = 0.8  # one core cell per region (the regions fill rows 6-9)
    land = xr.Dataset({v: (("y", "x"), np.zeros(grid.shape)) for v in ("forest", "water", "population")}
                      | {"built_up": (("y", "x"), built)})
    index = grid.cell_index
    area = AreaBase.of(land, index, core_threshold=0.6, year=2024)
    stock = np.ones(index.size)
    kept = (1 - CORE_DECONCENTRATION) ** 30
    settled = index.expand(area.settled(2054))  # patterns are compact: seen here on the grid
    rural = schedule_at(RURAL_POPULATION, 2054)
    assert settled[6, 0] == pytest.approx((0.8 + 0.2 * rural) * kept)  # core: deconcentrates
    assert settled[7, 1] == pytest.approx(0.05 + 0.95 * rural)  # village: empties with the rural population
    assert index.expand(area.settled(2024))[6, 0] == pytest.approx(1.0)
    left = area.core_left(stock, 2054, grid)
    assert left == pytest.approx(settled[6, 0] / kept * (1 - kept) * np.ones(2))
    added = np.zeros(grid.shape)
    added[9, 2] = added[9, 6] = 0.1  # new district in each region
    new = NewStock(np.zeros(2), None).layer(index.compact(built + added), index.compact(built), grid, moved=left)
    settled = index.compact(settled)
    assert grid.compact_region_sums(stock * settled + new) == pytest.approx(
        grid.compact_region_sums(stock * np.where(area.core, settled / kept, settled)))


@pytest.mark.parametrize("land_dtype", [np.float32, np.float64])
def test_area_proxies_made_in_place_are_the_plain_expressions_bit_for_bit(land_dtype):
    """Ratios, occupancy, the cores' losses and scaled layers are made in place (a layer fewer
    each: 76 MB for China at 1 km) and compact, with the bits and dtypes of the plain numpy
    expressions at the cells inside (the offsets those of the whole rectangle), on float32 land
    (a large grid's) and float64 land, against the float64 built-up and forest of the land steps."""
    grid = two_region_grid(4)
    index = grid.cell_index
    assert 0 < index.size < grid.shape[0] * grid.shape[1]  # the grid has cells outside
    rng = np.random.default_rng(11)
    layer = {v: rng.uniform(0.0, 0.5, grid.shape).astype(land_dtype) for v in ("forest", "water", "built_up")}
    layer["population"] = rng.uniform(0.0, 100.0, grid.shape).astype(land_dtype)
    for v in layer.values():  # a landscape is 0 outside every region
        v[~grid.inside] = 0
    land = xr.Dataset({v: (("y", "x"), a) for v, a in layer.items()})
    area = AreaBase.of(land, index, core_threshold=0.3, year=2024)
    positive = {"population": layer["population"], "forest": layer["forest"]}
    assert all(area.eps[k] == pytest.approx(0.01 * v[v > 0].mean(), rel=1e-6) for k, v in positive.items())
    free = np.clip(1.0 - layer["water"] - layer["built_up"] - layer["forest"], 0.0, 1.0)
    assert area.eps["crop"] == 0.01 * free[free > 0].mean()  # the whole rectangle's: 1 outside
    water, built0, forest0, pop = (index.compact(layer[v]) for v in ("water", "built_up", "forest", "population"))
    built, forest = built0 + rng.uniform(0.0, 0.1, index.size), rng.uniform(0.0, 0.5, index.size)
    eps = area.eps

    def same(got, want):
        assert got.dtype == want.dtype and np.array_equal(got, want)

    crop0 = np.clip(1.0 - water - built0 - forest0, 0.0, 1.0)
    same(area.crop(), crop0)
    same(area.ratio("agriculture", built, forest),
         (np.clip(1.0 - water - built - forest, 0.0, 1.0) + eps["crop"]) / (crop0 + eps["crop"]))
    people = (built + RURAL_BUILT_FRACTION) * pop / (built0 + RURAL_BUILT_FRACTION)
    same(area.ratio("transport_road", built, forest), (people + eps["population"]) / (pop + eps["population"]))
    same(area.ratio("forest_sink", built, forest), (forest + eps["forest"]) / (forest0 + eps["forest"]))
    assert area.core.any() and not area.core.all()
    rural, kept = schedule_at(RURAL_POPULATION, 2050), area.core_kept(2050)
    settled = built0 * (1.0 - rural)
    settled += rural
    settled *= np.where(area.core, kept, 1.0)
    same(area.settled(2050), settled)
    stock = rng.uniform(0.0, 10.0, index.size).astype(land_dtype)
    lost = np.where(area.core, stock * settled, 0.0)
    lost *= (1.0 - kept) / kept
    same(area.core_left(stock, 2050, grid), grid.region_sums(index.expand(lost)))
    cells, values = np.array([3, 17, 30]), np.array([1.5, 0.0, 2.25])
    for ratio in (area.ratio("agriculture", built, forest), settled, settled.astype(np.float64)):
        want = stock * ratio
        want[cells] = values * ratio[cells]
        same(Unmoved(stock, cells, values).layer(ratio.copy()), want)
    if land_dtype == np.float32:  # a narrower ratio than the base: a new layer of the product's dtype
        want = stock.astype(np.float64) * settled
        want[cells] = values * settled[cells]
        same(Unmoved(stock.astype(np.float64), cells, values).layer(settled.copy()), want)


def test_industrial_land_is_drawn_to_existing_clusters():
    grid = two_region_grid(res=10_000.0)  # 10 km cells: the park radius spans 2 cells
    assert PARK_RADIUS_KM == pytest.approx(2 * grid.res / 1000.0)
    base = np.zeros(grid.shape)
    base[1, 1] = 100.0  # one industrial cluster in A's NW corner
    base[:, 10:] = 1.0  # B's industry spread evenly
    built0, added = np.full(grid.shape, 0.1), np.full(grid.shape, 0.05)
    index = grid.cell_index

    def new_stock(clustered: bool, more: np.ndarray) -> np.ndarray:  # compact layers, seen on the grid
        stock = NewStock.of(base, built0, grid, clustered=clustered)
        return index.expand(stock.layer(index.compact(built0 + more), index.compact(built0), grid))

    plain, parks = new_stock(False, added), new_stock(True, added)
    # per unit of added built-up, new stock emits the region's base-year average: 100 t / 10
    assert plain[:, :10] == pytest.approx(np.full((10, 10), 100.0 / 10.0 * 0.05))
    # the same regional amount, placed next to A's cluster, none beyond the radius
    assert grid.region_sums(parks) == pytest.approx(grid.region_sums(plain))
    assert parks[1, 1] > 4 * plain[1, 1] and parks[3, 3] > 0 and (parks[:, 4:8] == 0).all()
    # B's even industry draws new land evenly away from its edges
    assert parks[4:6, 14:16] == pytest.approx(np.full((2, 2), parks[5, 15]))
    # a region whose new land is far from any industry still gets its share, on the new land
    far = np.zeros(grid.shape)
    far[9, 9] = 0.2
    alone = new_stock(True, far)
    assert alone[9, 9] == pytest.approx(100.0 / 10.0 * 0.2) and alone.sum() == pytest.approx(alone[9, 9])


# -- the default run ------------------------------------------------------------------------------
def test_default_run_road_co2_stays_on_the_corridors_and_cities_change(default_run):
    inv, _ = gridcarbon.build_yrd_baseline()
    road = GRIDDED.index("transport_road")
    lines = inv.lines.sector.eq("transport_road").to_numpy()
    corridor = inv.line_coverage.spread(np.where(lines, inv.lines.emission_t.to_numpy(), 0.0), inv.grid)[0]
    em = default_run.emissions["emission"]
    cells = default_run.grid.inside & (corridor > 0.5 * inv.emissions["emission"].values[road])
    share = {y: float(em.sel(sector="transport_road", year=y).values[cells].sum()
                      / em.sel(sector="transport_road", year=y).values.sum()) for y in (2024, 2030, 2035, 2060)}
    assert share[2024] <= share[2030] <= share[2035] <= share[2060]
    assert share[2060] > share[2024] + 0.1  # freight, the last to electrify, keeps the corridors hot
    def r(s):
        return _corr(em.sel(sector=s, year=2060).values, em.sel(sector=s, year=2024).values)
    assert r("buildings") <= 0.97  # new districts take the villages' and the cores' occupants
    assert r("other_industry") < 0.99
    assert float((default_run.totals.residual_t.abs() / default_run.totals.allocated_t.abs().clip(lower=1.0)).max()) <= 1e-6
