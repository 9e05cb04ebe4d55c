"""County CO2 storage (Xing et al. 2021) on the grid, and the rebuild of every packaged layer file."""
import filecmp

import numpy as np
import pandas as pd
import pytest

from gridcarbon.core.grid import Grid
from gridcarbon.inputs import layers
from gridcarbon.inputs.data import data_path
from gridcarbon.inputs.layers import county_storage, read_storage_table
from gridcarbon.inputs.regions import load_regions, province_table

YRD = ["Shanghai", "Jiangsu", "Zhejiang", "Anhui"]


@pytest.fixture(scope="module")
def table():
    return read_storage_table()


@pytest.fixture(scope="module")
def yrd_grid():
    return Grid.from_regions(load_regions("yrd"), res=10_000)


def test_table_is_one_row_per_county_with_storage(table):
    assert table.adcode.is_unique and len(table) > 1200
    assert (table.storage_mt > 0).all()
    assert set(table.region) <= set(province_table().region)
    assert (table.adcode // 10000 * 10000).isin(province_table().adcode).all()
    assert table.storage_mt.sum() == pytest.approx(2.1038e6, rel=1e-4)  # Mt CO2, the workbook's total
    assert table.lon.between(73, 136).all() and table.lat.between(18, 54).all()


def test_yrd_total_matches_the_table_province_sums(table, yrd_grid):
    storage = county_storage(yrd_grid)
    by_region = pd.Series(yrd_grid.region_sums(storage), index=list(yrd_grid.regions))
    expected = table.groupby("region").storage_mt.sum().reindex(YRD).fillna(0.0)
    np.testing.assert_allclose(by_region.reindex(YRD), expected, rtol=1e-12, atol=1e-9)
    assert storage[~yrd_grid.inside].sum() == 0.0
    assert by_region["Zhejiang"] == 0.0 and by_region["Shanghai"] == 0.0  # none in the workbook
    assert by_region["Jiangsu"] > by_region["Anhui"] > 0.0


@pytest.mark.parametrize("adcode", [
    110101,  # Dongcheng, Beijing: a district smaller than a 10 km cell
    320981,  # Dongtai, Jiangsu: coastal
    652922,  # Wensu, Xinjiang: on the Kyrgyz border
    150627,  # Ejin Horo, Inner Mongolia (matched through an alias)
])
def test_each_county_keeps_its_capacity(monkeypatch, table, adcode):
    one = table[table.adcode == adcode]
    assert len(one) == 1
    monkeypatch.setattr(layers, "read_storage_table", lambda: one.copy())
    grid = Grid.from_regions(load_regions("china"), res=10_000)
    storage = county_storage(grid)
    assert storage.sum() == pytest.approx(one.storage_mt.iloc[0], rel=1e-12)
    region = grid.regions.index(one.region.iloc[0])
    assert grid.region_sums(storage)[region] == pytest.approx(one.storage_mt.iloc[0], rel=1e-12)
    assert (storage >= 0).all()


def test_china_total_is_conserved(table):
    grid = Grid.from_regions(load_regions("china"), res=10_000)
    storage = county_storage(grid)
    by_region = pd.Series(grid.region_sums(storage), index=list(grid.regions))
    expected = table.groupby("region").storage_mt.sum().reindex(by_region.index).fillna(0.0)
    np.testing.assert_allclose(by_region, expected, rtol=1e-12, atol=1e-9)


def test_counties_of_other_regions_are_left_out(monkeypatch, table, yrd_grid):
    xinjiang = table[table.region == "Xinjiang"]
    monkeypatch.setattr(layers, "read_storage_table", lambda: xinjiang.copy())
    assert county_storage(yrd_grid).sum() == 0.0


# --------------------------------------------------------------- rebuild from shared/data
@pytest.fixture(scope="module")
def rebuilt(shared_data, tmp_path_factory):
    from gridcarbon.inputs.layer_files import build_layer_files

    return build_layer_files(shared_data, tmp_path_factory.mktemp("layers"))


def test_packaged_layer_files_regenerate_byte_for_byte(rebuilt):
    for path in rebuilt.values():
        assert filecmp.cmp(path, data_path(f"layers/{path.name}"), shallow=False), path.name


def test_every_county_with_storage_is_matched(shared_data):
    from gridcarbon.inputs.layer_files import STORAGE_SRC, match_counties

    matched = match_counties(shared_data / STORAGE_SRC)
    assert len(matched) == 2836
    unmatched = matched[matched.adcodes.map(len) == 0]
    assert unmatched.storage_mt.sum() == 0.0  # only counties without storage stay unmatched
    assert (matched.method == "pinyin").sum() > 2500
    book = matched.groupby("region").storage_mt.sum()
    shipped = read_storage_table().groupby("region").storage_mt.sum()
    np.testing.assert_allclose(shipped.reindex(book.index).fillna(0.0), book, atol=1e-3)  # 6-decimal CSV
