"""MODIS MCD12C1 land-cover fractions on the grid (gridcarbon.inputs.layers.land_cover_fractions)."""
import numpy as np
import pytest
from pyproj import Transformer

from gridcarbon.core import memory
from gridcarbon.core.grid import Grid, block_sum
from gridcarbon.inputs.layers import (
    GROUPS,
    IGBP_GROUPS,
    igbp_weights,
    land_cover_fractions,
)
from gridcarbon.inputs.regions import load_regions

#: (lon, lat) of places whose 10 km cell has a known dominant land cover
PLACES = {
    "urban": [("central Shanghai", 121.47, 31.23), ("Beijing", 116.40, 39.90)],
    "barren": [("Taklamakan", 83.0, 39.0), ("Taklamakan east", 85.0, 38.8)],
    "forest": [("Greater Khingan", 122.0, 51.5), ("Genhe", 121.5, 50.8), ("Wuyi mountains", 117.7, 27.75)],
    "cropland": [("Hai'an plain", 120.47, 32.53), ("Rugao", 120.45, 32.3)],
}


@pytest.fixture(scope="module")
def china():
    grid = Grid.from_regions(load_regions("china"), res=10_000)
    return grid, land_cover_fractions(grid)


@pytest.fixture(scope="module")
def yrd():
    regions = load_regions("yrd")
    fine = Grid.from_regions(regions, res=1_000)
    coarse = Grid.from_regions(regions, res=10_000)
    return fine, land_cover_fractions(fine), coarse, land_cover_fractions(coarse)


def total(ds) -> np.ndarray:
    return sum(ds[g].values.astype(np.float64) for g in GROUPS)


def test_igbp_mapping_gives_every_class_one_whole_share():
    weights = igbp_weights()
    assert set(IGBP_GROUPS) == set(range(17))
    np.testing.assert_allclose(weights[:17].sum(axis=1), 1.0)
    assert weights[17:].sum() == 0.0  # 255 (no data) counts in no group
    assert weights[14, GROUPS.index("cropland")] == 0.5


@pytest.mark.parametrize("which", ["china", "yrd_1km", "yrd_10km"])
def test_fractions_sum_to_one_in_every_inside_cell(which, china, yrd):
    grid, ds = {"china": china, "yrd_1km": yrd[:2], "yrd_10km": yrd[2:]}[which]
    assert list(ds.data_vars) == list(GROUPS)
    s = total(ds)
    np.testing.assert_allclose(s[grid.inside], 1.0, atol=1e-6)
    assert np.all(s[~grid.inside] == 0.0)
    for g in GROUPS:
        assert ds[g].values.min() >= 0.0 and ds[g].values.max() <= 1.0 + 1e-6


@pytest.mark.parametrize("group", sorted(PLACES))
def test_known_places_have_the_right_dominant_class(group, china):
    grid, ds = china
    to_xy = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True)
    stack = np.stack([ds[g].values for g in GROUPS])
    for name, lon, lat in PLACES[group]:
        row, col = grid.cell_of(*to_xy.transform(lon, lat))
        assert grid.inside[row, col], name
        assert GROUPS[int(np.argmax(stack[:, row, col]))] == group, (name, dict(zip(GROUPS, stack[:, row, col])))
    if group == "urban":
        row, col = grid.cell_of(*to_xy.transform(121.47, 31.23))
        assert ds.urban.values[row, col] > 0.3


def test_one_km_fractions_average_to_the_ten_km_fractions(yrd):
    """Exact areas: a 10 km cell's share is the mean of its hundred 1 km cells' shares."""
    fine, fine_ds, coarse, coarse_ds = yrd
    k = fine.coarsen_factor(coarse)
    full = block_sum(fine.inside.astype(np.int64), k) == k * k
    assert full.sum() > 2000
    for g in ("forest", "cropland", "urban", "water"):
        mean = block_sum(fine_ds[g].values.astype(np.float64), k) / (k * k)
        np.testing.assert_allclose(mean[full], coarse_ds[g].values[full], atol=1e-6)


def test_national_shares_are_plausible(china):
    grid, ds = china
    share = {g: float(ds[g].values[grid.inside].mean()) for g in GROUPS}
    assert 0.15 < share["forest"] < 0.30  # China's official forest cover is 23-24 %
    assert 0.30 < share["grassland"] < 0.45
    assert 0.15 < share["barren"] < 0.30
    assert 0.10 < share["cropland"] < 0.25
    assert 0.005 < share["urban"] < 0.03


@pytest.mark.slow
def test_china_at_1km_sums_to_one():
    grid = Grid.from_regions(load_regions("china"), res=1_000)
    with memory.without_huge_page_advice():  # as a run or a baseline build reads it
        ds = land_cover_fractions(grid)
    assert ds.forest.dtype == np.float32  # a large grid keeps its layers in float32
    s = total(ds)
    np.testing.assert_allclose(s[grid.inside], 1.0, atol=1e-5)
    assert np.all(s[~grid.inside] == 0.0)
