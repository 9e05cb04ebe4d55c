"""Forest sinks where trees grow (gridcarbon.evolution.forest): the uptake table, the room for
new forest, the ramp of new stands, planting and capacity, on the two-region grid of
``conftest.py`` (1 km cells: 100 km2 per region)."""
from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest
from scipy import ndimage

from gridcarbon.core.errors import SchemaError
from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import GRIDDED
from gridcarbon.evolution.forest import (
    AFFOREST_SHARE,
    MAX_ELEV_M,
    MAX_SLOPE_DEG,
    PLANT_LEAD_YEARS,
    ForestLand,
    Planting,
    base_room,
    climate_zone,
    ramp,
    read_uptake,
    slope_deg,
)
from gridcarbon.testing import lonlat_regions, toy_inventory, toy_landscape, two_region_grid

BASE_RATE = 300.0  # t CO2/km2/yr of the toy base-year forest


def test_the_shipped_table_grows_no_stands_below_400_mm_and_more_where_wetter():
    table = read_uptake()
    grows = table[table.peak_uptake_t_co2_ha_yr > 0]
    assert grows.precip_min_mm.min() == 400.0
    assert (table[table.precip_max_mm <= 400.0].peak_uptake_t_co2_ha_yr == 0).all()
    assert grows.peak_uptake_t_co2_ha_yr.is_monotonic_increasing and (grows.ramp_years > 0).all()
    assert (table.source.str.len() > 40).all()
    zone = climate_zone(np.array([0.0, 399.9, 400.0, 799.0, 800.0, 5000.0]), table)
    assert table.zone.to_numpy()[zone].tolist() == ["semi_arid", "semi_arid", "semi_humid", "semi_humid",
                                                    "humid", "humid"]


def _drop_ramp(t):
    return t.drop(columns="ramp_years")


def _negative(t):
    t.loc[t.zone == "humid", "peak_uptake_t_co2_ha_yr"] = -1.0


def _gap(t):
    t.loc[t.zone == "humid", "precip_min_mm"] = 900.0


def _nan(t):
    t.loc[t.zone == "semi_humid", "precip_max_mm"] = np.nan


def _no_ramp(t):
    t.loc[t.zone == "semi_humid", "ramp_years"] = 0.0


@pytest.mark.parametrize("spoil, match", [
    (_drop_ramp, "missing column.*ramp_years"),
    (_negative, "record humid.*peak_uptake"),
    (_gap, "record humid.*must start at 800"),
    (_nan, "record semi_humid.*precip_max_mm"),
    (_no_ramp, "record semi_humid.*ramp_years > 0"),
])
def test_a_bad_uptake_table_is_one_line_naming_file_and_zone(spoil, match):
    table = read_uptake()
    table = spoil(table) if spoil is _drop_ramp else (spoil(table), table)[1]
    with pytest.raises(SchemaError, match=match) as info:
        read_uptake(table, source="my_uptake.csv")
    assert str(info.value).startswith("my_uptake.csv") and "\n" not in str(info.value)


def test_room_is_open_wet_low_gentle_land_only(grid):
    """Grassland and shrub only; nothing below 400 mm; the arid share left out; nothing on the
    high plateau; a slope above the limit excludes, one below does not."""
    rows, cols = np.indices(grid.shape)
    grass = np.where(cols % 2 == 0, 0.5, 0.0)
    shrub = np.where(rows < 5, 0.2, 0.0)
    precip = np.where(rows == 9, 350.0, 1000.0)
    arid = np.where(cols == 3, 0.5, 0.0)
    elevation = np.where(cols >= 15, MAX_ELEV_M + 50.0, MAX_ELEV_M - 50.0)  # a 100 m step: 2.9 deg
    land = toy_landscape(grid, grassland=grass, shrub=shrub, precipitation_mm=precip, arid_share=arid,
                         elevation_m=elevation, cropland=np.full(grid.shape, 0.3))
    table = read_uptake()
    room = base_room(land, grid, climate_zone(precip, table), table)
    expected = AFFOREST_SHARE * (grass + shrub) * (1.0 - arid)
    expected[(rows == 9) | (cols >= 15)] = 0.0
    np.testing.assert_allclose(room, expected, rtol=1e-12)
    assert room[grass + shrub == 0].max() == 0.0  # cropland alone never takes forest
    steep = np.tan(np.radians(MAX_SLOPE_DEG + 2.0)) * grid.res * cols  # a plane rising east
    gentle = np.tan(np.radians(MAX_SLOPE_DEG - 2.0)) * grid.res * cols - 1000.0  # below the tree line
    assert slope_deg(steep, grid)[grid.inside] == pytest.approx(MAX_SLOPE_DEG + 2.0)
    for plane, open_cells in ((steep, 0), (gentle, grid.inside.sum())):
        hill = toy_landscape(grid, grassland=np.full(grid.shape, 0.5), precipitation_mm=np.full(grid.shape, 900.0),
                             elevation_m=plane)
        zone = climate_zone(hill.precipitation_mm.values, table)
        assert (base_room(hill, grid, zone, table) > 0).sum() == open_cells


def test_slope_keeps_the_plain_expressions_bits_in_stripes(monkeypatch):
    # the plain expression held six float64 layers at once (China at 1 km: the preparation's
    # peak); in stripes, the nearest-cell indices and the result (2 layers) and a stripe's
    # temporaries (their share of the grid)
    def plain(elevation, grid):
        rows, cols = ndimage.distance_transform_edt(~grid.inside, return_distances=False, return_indices=True)
        dy, dx = np.gradient(np.asarray(elevation, np.float64)[rows, cols], grid.res)
        return np.degrees(np.arctan(np.hypot(dx, dy)))

    from gridcarbon.evolution import forest

    monkeypatch.setattr(forest, "SLOPE_STRIPE_ROWS", 16)  # China at 1 km: 256 of 5,530 rows
    rng = np.random.default_rng(3)
    for grid in (Grid.from_regions(lonlat_regions(), res=3000), two_region_grid(300, res=1000.0)):
        elevation = (rng.random(grid.shape) * 3000.0).astype(np.float32)  # a large grid's storage dtype
        tracemalloc.start()
        got = slope_deg(elevation, grid)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert np.array_equal(got.view(np.uint64), plain(elevation, grid).view(np.uint64))
    assert grid.shape[0] > 16 * forest.SLOPE_STRIPE_ROWS  # stripes meet inside the grid
    # 300 x 600 cells: 2.45 layers; the whole layer at once, 4.08; the plain expression, 6.0
    assert peak <= 2.75 * got.nbytes


def test_a_stand_ramps_up_then_saturates():
    years = np.arange(-2, 40)
    share = ramp(years, 10.0)
    assert share[years <= 0].max() == 0.0 and share[years >= 10].min() == 1.0
    assert np.all(np.diff(share) >= 0) and share.max() == 1.0
    assert share[years == 5][0] == pytest.approx(0.5)


@pytest.fixture(scope="module")
def humid(grid):
    """Every cell: 0.1 forest sinking 300 t/km2/yr, 0.6 grassland, 1000 mm/yr (humid zone)."""
    forest = np.full(grid.shape, 0.1)
    land = toy_landscape(grid, forest=forest, grassland=np.full(grid.shape, 0.6),
                         precipitation_mm=np.full(grid.shape, 1000.0))
    layers = np.zeros((len(GRIDDED),) + grid.shape)
    layers[GRIDDED.index("forest_sink")] = -BASE_RATE * forest * grid.cell_area_km2
    return land, ForestLand.build(toy_inventory(grid, layers=layers), land)


def _compact(grid, *layers):
    """Full (y, x) layers as the forest rules take them: compact on the grid's cell index."""
    return [grid.cell_index.compact(v) for v in layers]


def _plant(land, fl, grid, demand):
    """Plant ``demand`` year by year on ``land``; the final forest comes back full (y, x)."""
    water, built, forest = _compact(grid, land.water.values, np.zeros(grid.shape), land.forest.values)
    planting, supply = Planting(fl, grid, len(demand)), []
    for k in range(1, len(demand)):
        forest = planting.step(k, water, built, forest, demand)
        supply.append(planting.supply(forest, k))
    return planting, grid.cell_index.expand(forest), np.array(supply)


def test_planting_meets_the_sink_ahead_and_stands_saturate(grid, humid):
    """A's demand rises by 1000 t/yr from 2030 to 2040 and then stays; B's stays at its base
    sink. Each year plants for the demand ten years on: once the first cohort is grown the
    sink is at least the demand (young stands planted for later years add to it), exactly the
    demand when it stays flat; nothing is planted in B, nor once A's demand stops rising, and
    the sink then stops growing: a hectare gives its zone's peak rate, no more."""
    land, fl = humid
    base = fl.base_sink  # 3000 t/yr per region
    years = np.arange(2024, 2061)
    extra = np.clip((years - 2030) / 10.0, 0.0, 1.0) * 1000.0
    demand = np.stack([base[0] + extra, np.full(len(years), base[1])], axis=1)
    planting, forest, supply = _plant(land, fl, grid, demand)
    grown = years[1:] >= 2024 + 1 + PLANT_LEAD_YEARS
    assert (supply[grown] >= demand[1:][grown] - 1e-6).all()
    flat = years[1:] >= 2040
    np.testing.assert_allclose(supply[flat], demand[1:][flat], rtol=1e-9)
    assert supply[~grown, 0].max() > base[0]  # young stands already take up some CO2
    added = forest - land.forest.values
    assert added[:, 10:].max() == 0.0 and (added[:, :10] > 0).all()
    room = fl.room(*_compact(grid, land.water.values, land.built_up.values, land.forest.values))
    assert (added <= grid.cell_index.expand(room) + 1e-12).all()
    uptake = read_uptake().set_index("zone").peak_uptake_t_co2_ha_yr["humid"] * 100.0  # t CO2/km2/yr
    new_sink = supply[-1, 0] - base[0]
    assert new_sink == pytest.approx(added[:, :10].sum() * grid.cell_area_km2 * uptake, rel=1e-9)  # at peak rate
    assert planting.cohorts[years > 2040 - PLANT_LEAD_YEARS].sum() == 0.0


def test_capacity_is_all_room_planted_at_once_and_a_demand_beyond_it_plants_all_room(grid, humid):
    land, fl = humid
    water, built, forest0 = _compact(grid, land.water.values, np.zeros(grid.shape), land.forest.values)
    uptake = read_uptake().set_index("zone")
    full = AFFOREST_SHARE * 0.6 * 100 * uptake.peak_uptake_t_co2_ha_yr["humid"] * 100.0  # t/yr per region
    caps = np.array([fl.capacity(*fl.stands(grid, water, built, forest0), y) for y in range(2025, 2061)])
    ramp_years = uptake.ramp_years["humid"]
    np.testing.assert_allclose(caps[:, 0], fl.base_sink[0] + full * np.clip(np.arange(36) / ramp_years, 0, 1))
    assert caps[-1, 0] == caps[int(ramp_years), 0]  # saturated: no growth without bound
    towns = np.where(np.indices(grid.shape)[1] < 5, 0.5, 0.0)  # towns take open land and farmland alike
    towns = grid.cell_index.compact(towns)
    shrunk = grid.cell_index.expand(fl.room(water, towns, forest0))
    np.testing.assert_allclose(shrunk[:, :5], 0.24 * (1.0 - 0.5 - 0.1) / 0.9)  # room x free land now / then
    assert fl.capacity(*fl.stands(grid, water, towns, forest0), 2060)[0] < caps[-1, 0]
    demand = np.tile(fl.base_sink + 10 * full, (37, 1))
    _, forest, supply = _plant(land, fl, grid, demand)
    np.testing.assert_allclose(forest - land.forest.values, grid.cell_index.expand(fl.room(water, built, forest0)),
                               rtol=1e-12)
    np.testing.assert_allclose(supply[-1], caps[-1], rtol=1e-9)


def test_assumption_factors_scale_uptake_and_room(grid, humid):
    land, central = humid
    inv = toy_inventory(grid, layers=np.zeros((len(GRIDDED),) + grid.shape))
    scaled = ForestLand.build(inv, land, uptake_scale=1.3, room_scale=0.5)
    np.testing.assert_allclose(scaled.uptake, 1.3 * central.uptake)
    np.testing.assert_allclose(scaled.open_share, 0.5 * central.open_share)
    assert central.open_share.max() > 0
    capped = ForestLand.build(inv, land, room_scale=10.0)  # the afforestable share never exceeds all open land
    assert capped.open_share.max() <= 1.0


def test_capacities_of_one_land_over_many_years_read_the_land_once(grid, humid, monkeypatch):
    """initial_capacities gives every year the base-year land: its stands are summed once (37
    full-grid passes fewer for China at 1 km), with the capacities of a land read year by year."""
    from gridcarbon.evolution import land as land_module

    land, fl = humid
    years = list(range(2024, 2061))
    calls = []
    stands = ForestLand.stands
    monkeypatch.setattr(ForestLand, "stands", lambda self, *a: calls.append(1) or stands(self, *a))
    table = land_module.initial_capacities(toy_inventory(grid), land, years, fl)
    assert len(calls) == 1
    sink = table[table.sector == "forest_sink"].pivot(index="year", columns="region", values="capacity_t")
    for year in (2024, 2030, 2060):
        each = land_module.capacity_table(grid, land, {year: land.built_up.values.copy()},
                                          {year: land.forest.values.copy()}, fl, injection_years=len(years))
        assert np.array_equal(sink.loc[year].to_numpy(), each[each.sector == "forest_sink"].capacity_t.to_numpy())
    assert len(calls) == 4


def test_float32_land_with_no_free_cells_builds_without_a_warning(grid, humid):
    """A large grid stores its land in float32: cells with no free land (all water, built-up or
    forest) get no afforestable share, with no divide-by-zero warning, and every other cell the
    share the float64 land gives."""
    land, central = humid
    full = land.copy()
    full["water"] = full.water.where(np.arange(grid.shape[1]) % 2 == 0, 1.0)  # every other column all water
    inv = toy_inventory(grid, layers=np.zeros((len(GRIDDED),) + grid.shape))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        single = ForestLand.build(inv, full.astype(np.float32))
    double = ForestLand.build(inv, full)
    share = single.open_share.reshape(grid.shape)
    assert (share[:, 1::2] == 0).all() and share[:, ::2].max() > 0
    np.testing.assert_allclose(share, double.open_share.reshape(grid.shape), rtol=1e-6)
