"""The allocation's input readers: drivers, cost curves, and the one column check."""
from __future__ import annotations

import pandas as pd
import pytest
from allocation.allocation_fixtures import variant

from gridcarbon.core.errors import InputError, SchemaError
from gridcarbon.core.sectors import EMITTING, SECTORS
from gridcarbon.inputs.columns import require_columns
from gridcarbon.inputs.data import data_path
from gridcarbon.inputs.drivers import DRIVER_COLUMNS, drivers_path, read_drivers
from gridcarbon.inputs.mac_curves import load_mac_curves


def test_mac_curves_cover_every_sector_and_are_convex():
    curves = load_mac_curves()
    assert set(curves) == set(SECTORS)
    for sector, curve in curves.items():
        costs = [cost for _, cost in curve]
        assert costs == sorted(costs)
        if sector in EMITTING:
            assert sum(width for width, _ in curve) == pytest.approx(1.0)


def test_mac_curves_that_are_not_convex_are_refused(tmp_path):
    table = pd.read_csv(data_path("mac_curves.csv"))
    steel = table.index[table["sector"] == "steel"]
    table.loc[steel, "cost_yuan_per_t"] = table.loc[steel, "cost_yuan_per_t"].to_numpy()[::-1]
    path = tmp_path / "curves.csv"
    table.to_csv(path, index=False)
    with pytest.raises(SchemaError, match="steel: costs must be >= 0 and nondecreasing"):
        load_mac_curves(path)


def test_drivers_path_and_reader(tmp_path):
    table = read_drivers(drivers_path(variant()))
    assert list(table.columns[:4]) == DRIVER_COLUMNS
    with pytest.raises(InputError, match="no built-in drivers for region set 'custom'"):
        drivers_path(variant().model_copy(update={"region_set": "custom", "drivers": None}))
    path = tmp_path / "drivers.csv"
    table.drop(columns="gdp_yuan").to_csv(path, index=False)
    with pytest.raises(SchemaError, match=r"missing column\(s\) gdp_yuan \(expected region, year, population, gdp_yuan\)"):
        read_drivers(path)
    with pytest.raises(InputError, match="cannot read drivers"):
        read_drivers(tmp_path / "absent.csv")


def test_require_columns_names_the_missing_ones_and_the_hint():
    table = pd.DataFrame(columns=["id", "lon"])
    require_columns(table, ["id"], source="t.csv")
    with pytest.raises(SchemaError) as caught:
        require_columns(table, ["id", "sector", "emission_t"], source="t.csv", hint="map them")
    assert str(caught.value) == "t.csv: missing column(s) sector, emission_t (map them)"
