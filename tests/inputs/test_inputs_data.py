"""The package-data accessor (gridcarbon.inputs.data): shipped tables and YAML files."""
from __future__ import annotations

import pandas as pd

from gridcarbon.inputs.data import data_path, read_table, read_yaml


def test_read_table_returns_a_fresh_copy_every_call():
    """Tables are parsed once per process, but a caller changing its table changes nobody else's."""
    first = read_table("yrd_cities.csv")
    pristine = first.copy()
    first.loc[first.index[0], "population_m"] = -1.0
    first["added"] = 1
    second = read_table("yrd_cities.csv")
    pd.testing.assert_frame_equal(second, pristine)
    assert second is not first
    second["name"] = "changed"
    pd.testing.assert_frame_equal(read_table("yrd_cities.csv"), pristine)


def test_read_table_is_the_shipped_csv():
    with data_path("china_provinces.csv").open(encoding="utf-8") as f:
        expected = pd.read_csv(f)
    pd.testing.assert_frame_equal(read_table("china_provinces.csv"), expected)


def test_read_yaml_gives_a_mapping():
    calibration = read_yaml("yrd_calibration.yaml")
    assert isinstance(calibration, dict) and calibration
