"""Facility readers (gridcarbon.inputs.facilities) on bad input: every fault is one InputError
(exit code 2) whose one-line message names the file and the record."""
from __future__ import annotations

import pandas as pd
import pytest

from gridcarbon.core.errors import InputError
from gridcarbon.inputs import facilities as fac

READERS = {"coal_units.csv": fac.read_coal_units, "steel_plants.csv": fac.read_steel_plants,
           "cement_plants.csv": fac.read_cement_plants, "gas_plants.csv": fac.read_gas_plants,
           "power_capacity.csv": fac.read_power_capacity}
#: per table: its capacity column and its category column (technology / route / plant type)
CAPACITY = {"coal_units.csv": "capacity_mw", "steel_plants.csv": "bof_steel_kt",
            "cement_plants.csv": "clinker_capacity_mt", "gas_plants.csv": "capacity_mw",
            "power_capacity.csv": "capacity_mw"}
CATEGORY = {"coal_units.csv": "combustion_technology", "steel_plants.csv": "main_route",
            "cement_plants.csv": "plant_type", "power_capacity.csv": "technology"}
ROW = 3  # the record every fault is put in (0-based)


def sample(table: str) -> pd.DataFrame:
    """The first rows of the shipped table as text, as a user file would hold them."""
    frame = pd.read_csv(fac.shipped_path(fac.TABLES[table]), dtype=str, nrows=12)
    frame[CAPACITY[table]] = "100.0"  # a capacity on every row, so a fault is the only one
    return frame


def read_faulty(tmp_path, table: str, change) -> InputError:
    frame = sample(table)
    change(frame)
    path = tmp_path / f"user_{table}"
    frame.to_csv(path, index=False)
    with pytest.raises(InputError) as info:
        READERS[table](path)
    err = info.value
    assert err.exit_code == 2
    assert "\n" not in str(err)
    assert f"user_{table}" in str(err)
    return err


def record(table: str) -> str:
    return sample(table)["id"].iloc[ROW]


def set_cell(col: str, value: object):
    def change(frame):
        frame.loc[ROW, col] = value
    return change


@pytest.mark.parametrize("table", list(READERS))
def test_a_good_user_file_reads(tmp_path, table):
    path = tmp_path / f"user_{table}"
    sample(table).to_csv(path, index=False)
    frame = READERS[table](path)
    assert len(frame) == 12 and frame.crs.to_epsg() == 4326


@pytest.mark.parametrize("table", list(READERS))
def test_missing_column(tmp_path, table):
    def drop(frame):
        del frame["status"]
    err = read_faulty(tmp_path, table, drop)
    assert "missing column(s) status" in str(err)


@pytest.mark.parametrize("table", list(READERS))
@pytest.mark.parametrize("value, problem", [("12 MW", "is not numeric"), ("-5", "negative")])
def test_bad_capacity(tmp_path, table, value, problem):
    err = read_faulty(tmp_path, table, set_cell(CAPACITY[table], value))
    assert problem in str(err) and CAPACITY[table] in str(err)
    assert err.record == record(table)


@pytest.mark.parametrize("table", list(READERS))
def test_coordinates_out_of_range(tmp_path, table):
    err = read_faulty(tmp_path, table, set_cell("lon", "12.5"))
    assert "coordinates outside China" in str(err) and err.record == record(table)
    assert "swapped" not in str(err)


@pytest.mark.parametrize("table", list(READERS))
def test_swapped_coordinates(tmp_path, table):
    def swap(frame):
        frame.loc[ROW, ["lon", "lat"]] = ["31.2", "121.5"]
    err = read_faulty(tmp_path, table, swap)
    assert "lon and lat look swapped" in str(err) and err.record == record(table)


@pytest.mark.parametrize("table", list(READERS))
def test_missing_coordinates(tmp_path, table):
    err = read_faulty(tmp_path, table, set_cell("lat", None))
    assert "lon/lat is missing" in str(err) and err.record == record(table)


@pytest.mark.parametrize("table", list(READERS))
def test_unknown_status(tmp_path, table):
    err = read_faulty(tmp_path, table, set_cell("status", "opertaing"))
    assert "unknown status 'opertaing'" in str(err) and err.record == record(table)


@pytest.mark.parametrize("table", list(CATEGORY))
def test_unknown_category(tmp_path, table):
    err = read_faulty(tmp_path, table, set_cell(CATEGORY[table], "steam engine"))
    assert "unknown " + CATEGORY[table].replace("_", " ") in str(err) and err.record == record(table)


@pytest.mark.parametrize("table", list(READERS))
def test_duplicated_id(tmp_path, table):
    def duplicate(frame):
        frame.loc[ROW + 1, "id"] = frame.loc[ROW, "id"]
    err = read_faulty(tmp_path, table, duplicate)
    assert "duplicate id" in str(err) and err.record == record(table)


@pytest.mark.parametrize("table", list(READERS))
def test_empty_id(tmp_path, table):
    err = read_faulty(tmp_path, table, set_cell("id", None))
    assert "empty id" in str(err) and err.record == f"row {ROW + 1}"


@pytest.mark.parametrize("table", list(READERS))
def test_unknown_region(tmp_path, table):
    err = read_faulty(tmp_path, table, set_cell("region", "Jiangsu Province"))
    assert "unknown region 'Jiangsu Province'" in str(err) and err.record == record(table)


@pytest.mark.parametrize("col", ["start_year", "retired_year"])
def test_a_year_that_is_not_a_year(tmp_path, col):
    err = read_faulty(tmp_path, "coal_units.csv", set_cell(col, "2019.5"))
    assert f"column {col!r} is not a year" in str(err) and err.record == record("coal_units.csv")


def test_required_category_may_not_be_empty(tmp_path):
    err = read_faulty(tmp_path, "cement_plants.csv", set_cell("plant_type", None))
    assert "empty plant_type" in str(err) and err.record == record("cement_plants.csv")


def test_file_not_found(tmp_path):
    with pytest.raises(InputError, match="file not found") as info:
        fac.read_coal_units(tmp_path / "nowhere.csv")
    assert info.value.exit_code == 2 and "nowhere.csv" in str(info.value)


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.csv"
    sample("cement_plants.csv").to_csv(path, index=False, encoding="utf-16")
    with pytest.raises(InputError, match="UTF-8|cannot be read") as info:
        fac.read_cement_plants(path)
    assert "latin1.csv" in str(info.value)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="file is empty"):
        fac.read_gas_plants(path)


def test_header_only(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text(",".join(fac.GAS.columns) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="no records"):
        fac.read_gas_plants(path)


def test_vocabularies_name_gem_terms():
    assert "operating pre-retirement" in fac.STEEL_STATUSES and "cancelled" not in fac.COAL_STATUSES
    assert set(fac.OPERATING_STATUSES) <= set(fac.STEEL_STATUSES) & set(fac.CEMENT_STATUSES)
    assert {"BF-BOF", "EAF", "DRI-EAF", "mixed"} <= set(fac.STEEL_ROUTES)
