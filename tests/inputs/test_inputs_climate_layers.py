"""ERA5 precipitation and Koppen-Geiger arid share on the grid (gridcarbon.inputs.layers)."""
import numpy as np
import pytest
from pyproj import Transformer

from gridcarbon.core.grid import Grid
from gridcarbon.inputs import layers
from gridcarbon.inputs.layers import annual_precipitation, arid_share
from gridcarbon.inputs.regions import load_regions


@pytest.fixture(scope="module")
def china():
    grid = Grid.from_regions(load_regions("china"), res=10_000)
    return grid, annual_precipitation(grid), arid_share(grid)


def at(grid, values, lon, lat):
    x, y = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True).transform(lon, lat)
    row, col = grid.cell_of(x, y)
    assert grid.inside[row, col]
    return float(values[row, col])


@pytest.mark.parametrize("city, lon, lat, low, high", [
    ("Hangzhou", 120.16, 30.27, 1250, 1600),  # ~1,400 mm/yr
    ("Guangzhou", 113.26, 23.13, 1600, 2200),
    ("Beijing", 116.40, 39.90, 450, 650),
    ("Urumqi", 87.62, 43.83, 150, 400),
    ("Kashgar", 75.99, 39.47, 30, 250),
])
def test_precipitation_is_plausible_at_named_cities(china, city, lon, lat, low, high):
    grid, precip, _ = china
    assert low < at(grid, precip, lon, lat) < high


def test_precipitation_is_bilinear_between_the_four_nearest_pixels(china):
    grid, precip, _ = china
    values, t = layers._raster(layers.PRECIP_FILE)
    lon, lat = 120.16, 30.27
    x, y = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True).transform(lon, lat)
    row, col = grid.cell_of(x, y)
    clon, clat = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True).transform(grid.x[col], grid.y[row])
    c, r = (clon - t.c) / t.a - 0.5, (clat - t.f) / t.e - 0.5
    c0, r0 = int(np.floor(c)), int(np.floor(r))
    box = values[0, r0:r0 + 2, c0:c0 + 2].astype(float)
    fc, fr = c - c0, r - r0
    expected = (box[0, 0] * (1 - fr) * (1 - fc) + box[0, 1] * (1 - fr) * fc
                + box[1, 0] * fr * (1 - fc) + box[1, 1] * fr * fc)
    assert precip[row, col] == pytest.approx(expected, rel=1e-9)


def test_precipitation_is_positive_inside_and_zero_outside(china):
    grid, precip, _ = china
    assert precip[grid.inside].min() > 0.0
    assert np.all(precip[~grid.inside] == 0.0)


def test_arid_share_is_high_in_the_tarim_basin_and_zero_in_zhejiang(china):
    grid, _, arid = china
    for lon, lat in [(83.0, 39.0), (82.0, 40.0), (85.0, 38.8), (80.0, 38.5), (87.0, 40.0)]:
        assert at(grid, arid, lon, lat) > 0.9
    zhejiang = grid.region_index == grid.regions.index("Zhejiang")
    assert np.all(arid[zhejiang] == 0.0)
    assert arid.min() >= 0.0 and arid.max() <= 1.0 + 1e-12
    assert np.all(arid[~grid.inside] == 0.0)
    assert 0.25 < arid[grid.inside].mean() < 0.45  # group B covers about a third of China


def test_yrd_layers_at_1km():
    grid = Grid.from_regions(load_regions("yrd"), res=1_000)
    precip, arid = annual_precipitation(grid), arid_share(grid)
    assert 700 < precip[grid.inside].min() and precip[grid.inside].max() < 2800
    assert np.all(arid == 0.0)  # no arid climate in the Yangtze River Delta


def test_land_cells_are_the_land_cover_and_the_arid_share_in_one_pass(china, monkeypatch):
    """What the landscape reads (``land_cells``: the pixels' pieces made once for both rasters)
    is, bit for bit, ``land_cover_cells`` and the compact ``arid_share``."""
    grid, _, arid = china
    passes = []
    real = layers._pieces
    monkeypatch.setattr(layers, "_pieces", lambda *args: passes.append(1) or real(*args))
    cover, share = layers.land_cells(grid)
    assert len(passes) == 1
    np.testing.assert_array_equal(cover, layers.land_cover_cells(grid))
    np.testing.assert_array_equal(share, grid.cell_index.compact(arid))
    assert share.shape == (grid.cell_index.size,) and 0.0 < share.max() <= 1.0
