"""Power-system tables and potentials: bad rows fail with one line naming the file and the record;
the potentials are the shipped table's; lines from outside keep their base-year flow."""
from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
import pytest

from gridcarbon.allocation.power_data import (
    IMPORT_FLOOR,
    TECHNOLOGIES,
    covers,
    provinces,
    resource_potentials,
    technologies,
)
from gridcarbon.allocation.power_fleet import fleet, nuclear_under_construction, potentials
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


def test_missing_column(tmp_path):
    table = _shipped("provinces.csv")
    table.drop(columns="area_km2").to_csv(tmp_path / "p.csv", index=False)
    with pytest.raises(SchemaError, match="area_km2"):
        provinces(tmp_path / "p.csv")


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t.drop(columns="onshore_wind_gw"), "onshore_wind_gw"),
    (lambda t: t.assign(solar_rooftop_gw=t.solar_rooftop_gw.where(t.region != "Zhejiang")),
     "record Zhejiang: empty potential"),
    (lambda t: t.assign(region=t.region.replace("Hainan", "Atlantis")), "record Atlantis: not a province"),
    (lambda t: t[t.region != "Tibet"], "record Tibet: province without potentials"),
    (lambda t: t.assign(offshore_wind_gw=t.offshore_wind_gw.where(t.region != "Anhui", 5.0)),
     "record Anhui: offshore wind potential in an inland province"),
    (lambda t: t.assign(solar_ground_gw=t.solar_ground_gw.where(t.region != "Jiangsu", -1.0)),
     "record Jiangsu: values must be non-negative"),
])
def test_bad_potentials_name_file_and_record(tmp_path, change, message):
    change(_shipped("potentials.csv")).to_csv(tmp_path / "potentials.csv", index=False)
    with pytest.raises(SchemaError, match=f"potentials.csv.*{message}"):
        resource_potentials(tmp_path / "potentials.csv")


def test_text_in_numeric_column(tmp_path):
    table = _shipped("provinces.csv").astype({"demand_2024_twh": object})
    table.loc[table.region == "Jiangsu", "demand_2024_twh"] = "lots"
    table.to_csv(tmp_path / "p.csv", index=False)
    with pytest.raises(SchemaError, match="record Jiangsu"):
        provinces(tmp_path / "p.csv")


def test_potentials_come_from_the_shipped_table():
    """Solar, onshore and offshore potentials are the table's; offshore is zero inland (Anhui)."""
    regions = ["Shanghai", "Jiangsu", "Zhejiang", "Anhui"]
    table, tech, prov = resource_potentials(), technologies(), provinces()
    pot, rate = potentials(regions, tech, prov, np.zeros((4, len(TECHNOLOGIES))), 2024)
    col = TECHNOLOGIES.index
    jiangsu, anhui = regions.index("Jiangsu"), regions.index("Anhui")
    assert pot[anhui, col("offshore_wind")] == 0.0
    assert pot[jiangsu, col("offshore_wind")] == table.loc["Jiangsu", "offshore_wind_gw"] > 0
    np.testing.assert_allclose(pot[:, col("solar")],
                               table.loc[regions, ["solar_ground_gw", "solar_rooftop_gw"]].sum(axis=1))
    np.testing.assert_allclose(pot[:, col("onshore_wind")], table.loc[regions, "onshore_wind_gw"])
    # build rates scale with 2024 demand, not with the potential
    np.testing.assert_allclose(rate[:, col("solar")], prov.loc[regions, "demand_2024_twh"] / 100
                               * tech.loc["solar", "build_gw_per_year_per_100twh"])


def test_lines_from_outside_keep_their_base_year_flow(enhanced):
    """Imports from outside stay within [base-year flow, line limit] every year, however much local supply grows."""
    ps = enhanced.power
    imports = ps.flows["I"]
    assert (imports >= ps.system.imports0[:, None] * IMPORT_FLOOR - 1e-6).all()
    assert (imports <= ps.system.import_cap + 1e-6).all()
    solar = TECHNOLOGIES.index("solar")
    assert ps.capacity[:, solar, -1].sum() > 2 * ps.capacity[:, solar, 0].sum()


def test_nuclear_under_construction_is_committed_from_its_start_year(enhanced):
    """Reactors under construction join the fleet in their start year (undated ones 4 years after
    the base year), and the allocation's power system runs with at least that capacity."""
    regions, years = ["Shanghai", "Jiangsu", "Zhejiang", "Anhui"], list(range(2024, 2061))
    existing, _, _ = fleet(regions, years, technologies(), provinces())
    nuclear, zhejiang = TECHNOLOGIES.index("nuclear"), regions.index("Zhejiang")
    building = nuclear_under_construction(2024)
    mine = building[building.region == "Zhejiang"]
    assert len(mine) == 4 and (mine.start > 2024).all()
    for year in (2025, 2026, 2027, 2028, 2035):
        added = mine.capacity_mw[mine.start <= year].sum() / 1e3
        assert existing[zhejiang, nuclear, years.index(year)] == pytest.approx(existing[zhejiang, nuclear, 0] + added)
    assert existing[zhejiang, nuclear, years.index(2028)] - existing[zhejiang, nuclear, 0] == pytest.approx(
        mine.capacity_mw.sum() / 1e3)
    built = enhanced.power.capacity[:, nuclear, :]
    assert (built >= existing[:, nuclear, :] - 1e-6).all()
