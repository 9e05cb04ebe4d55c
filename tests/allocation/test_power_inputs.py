"""Power-system tables: bad rows fail with one line naming the file and the record."""
from __future__ import annotations

from importlib import resources

import pandas as pd
import pytest

from gridcarbon.allocation.power_data import covers, provinces, technologies
from gridcarbon.core.errors import SchemaError


def _shipped(name: str) -> pd.DataFrame:
    return pd.read_csv(resources.files("gridcarbon") / "data" / "power" / name)


def test_shipped_tables_load():
    assert len(provinces()) == 31
    assert list(technologies().index)[:2] == ["coal", "gas"]
    assert covers(["Shanghai", "Anhui"]) and not covers(["Shanghai", "Atlantis"])


def test_negative_value_names_file_and_record(tmp_path):
    table = _shipped("technologies.csv")
    table.loc[table.technology == "solar", "capacity_factor"] = -0.1
    path = tmp_path / "technologies.csv"
    table.to_csv(path, index=False)
    with pytest.raises(SchemaError, match=r"technologies.csv, record solar: values must be non-negative"):
        technologies(path)


def test_unknown_technology_is_refused(tmp_path):
    table = _shipped("technologies.csv")
    table.loc[0, "technology"] = "fusion"
    table.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(SchemaError, match="record coal: technologies must be exactly"):
        technologies(tmp_path / "t.csv")


def test_missing_column_and_inland_offshore(tmp_path):
    table = _shipped("provinces.csv")
    table.drop(columns="area_km2").to_csv(tmp_path / "p.csv", index=False)
    with pytest.raises(SchemaError, match="area_km2"):
        provinces(tmp_path / "p.csv")
    table.loc[table.region == "Anhui", "offshore_wind_potential_gw"] = 5
    table.to_csv(tmp_path / "q.csv", index=False)
    with pytest.raises(SchemaError, match="record Anhui: offshore wind potential in an inland province"):
        provinces(tmp_path / "q.csv")


def test_text_in_numeric_column(tmp_path):
    table = _shipped("provinces.csv").astype({"demand_2024_twh": object})
    table.loc[table.region == "Jiangsu", "demand_2024_twh"] = "lots"
    table.to_csv(tmp_path / "p.csv", index=False)
    with pytest.raises(SchemaError, match="record Jiangsu"):
        provinces(tmp_path / "p.csv")
