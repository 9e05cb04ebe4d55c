"""The shipped facility tables (data/facilities/*.csv): they read cleanly, stay small, cover mainland
China only and hold the counts documented in data/SOURCES.md, "Facility tables"."""
from __future__ import annotations

import pandas as pd
import pytest

from gridcarbon.inputs import facilities as fac
from gridcarbon.inputs.facility_co2 import operating_in
from gridcarbon.inputs.facility_regions import in_sar, region_ids, regions_from_points

YRD = ["Shanghai", "Jiangsu", "Zhejiang", "Anhui"]
READERS = {"coal_units.csv": fac.read_coal_units, "steel_plants.csv": fac.read_steel_plants,
           "cement_plants.csv": fac.read_cement_plants, "gas_plants.csv": fac.read_gas_plants,
           "power_capacity.csv": fac.read_power_capacity}
#: the package-data budget of these tables (all package data must stay well under 25 MB)
MAX_BYTES = 3_000_000


@pytest.fixture(scope="module")
def tables():
    return {name: read() for name, read in READERS.items()}


def test_tables_are_small_utf8_with_unix_line_ends():
    sizes = {}
    for table in fac.TABLES.values():
        data = fac.shipped_path(table).read_bytes()
        data.decode("utf-8")
        assert b"\r\n" not in data
        assert data.splitlines()[0].decode() == ",".join(table.columns)
        sizes[table.file] = len(data)
    assert sum(sizes.values()) < MAX_BYTES, sizes


@pytest.mark.parametrize("name", list(READERS))
def test_shipped_tables_read_with_documented_dtypes(tables, name):
    frame, table = tables[name], fac.TABLES[name]
    assert frame.crs.to_epsg() == 4326 and (frame.geometry.geom_type == "Point").all()
    assert all(frame[c].dtype == "float64" for c in (*table.floats, "lon", "lat"))
    assert all(str(frame[c].dtype) == "Int64" for c in table.years)
    assert frame["id"].is_unique and set(frame["region"]) <= set(region_ids())
    sar = in_sar(frame["lon"], frame["lat"])  # the boxes hold Shenzhen and Zhuhai too
    assert (regions_from_points(frame["lon"][sar], frame["lat"][sar]) == "Guangdong").all()  # none in HK, Macau
    assert "cancelled" not in set(frame["status"])


def test_coal_units(tables):
    units = tables["coal_units.csv"]
    assert len(units) == 4965  # 5,981 GCPT units less 1,016 cancelled
    operating = units[units.status.eq("operating")]
    assert len(operating) >= 3000 and len(operating) == 3115
    assert operating.capacity_mw.sum() / 1e3 == pytest.approx(1108.9, abs=0.1)
    yrd = operating[operating.region.isin(YRD)]
    assert len(yrd) >= 400 and len(yrd) == 450
    assert yrd.capacity_mw.sum() / 1e3 == pytest.approx(189.6, abs=0.1)
    assert set(units.region) == set(region_ids()) - {"Tibet"}  # GCPT lists no coal unit in Tibet
    assert units.groupby("plant_id").region.nunique().max() == 1


def test_steel_blocks(tables):
    blocks = tables["steel_plants.csv"]
    assert (blocks["id"] == blocks["plant_id"] + ":" + blocks["status"]).all()
    live = blocks[operating_in(blocks)]
    assert live.plant_id.nunique() >= 300  # 322 plants with operating capacity
    steel = live.bof_steel_kt.fillna(0) + live.eaf_steel_kt.fillna(0)
    assert steel.sum() / 1e3 == pytest.approx(1052.4, abs=0.1)
    assert live[live.region.isin(YRD)].plant_id.nunique() >= 40
    assert blocks.status.isin(["construction", "announced"]).sum() == 109  # pipeline kept with its status
    assert blocks.reported_crude_steel_kt[~blocks.status.isin(fac.OPERATING_STATUSES)].isna().all()


def test_main_route_follows_the_capacities(tables):
    blocks = tables["steel_plants.csv"].fillna({"bof_steel_kt": 0, "eaf_steel_kt": 0})
    bof = blocks[blocks.main_route.eq("BF-BOF")]
    assert (bof.bof_steel_kt >= 0.75 * (bof.bof_steel_kt + bof.eaf_steel_kt)).all()
    eaf = blocks[blocks.main_route.eq("EAF")]
    assert (eaf.eaf_steel_kt >= 0.75 * (eaf.bof_steel_kt + eaf.eaf_steel_kt)).all()
    iron = blocks[blocks.main_route.eq("BF-iron")]
    assert ((iron.bof_steel_kt + iron.eaf_steel_kt) == 0).all()


def test_cement_plants(tables):
    plants = tables["cement_plants.csv"]
    assert len(plants) == 1094
    operating = plants[operating_in(plants)]
    kilns = operating[operating.plant_type.isin(["integrated", "clinker"])]
    assert len(kilns) >= 700 and len(kilns) == 802
    assert (operating.plant_type == "grinding").sum() == 214
    assert plants.clinker_capacity_mt[plants.plant_type.eq("grinding")].isna().all()
    assert len(kilns[kilns.region.isin(YRD)]) == 90
    assert "Tibet" in set(plants.region)  # GCCT's "Xizang"


def test_gas_plants(tables):
    gas = tables["gas_plants.csv"]
    assert len(gas) == 165  # GPPD's 170 gas plants less 3 in Hong Kong and 2 in Macau
    assert gas.capacity_mw.sum() / 1e3 == pytest.approx(55.8, abs=0.1)
    assert gas.generation_gwh_2017.notna().all()
    assert gas.region.isin(YRD).sum() == 46


def test_power_capacity(tables):
    power = tables["power_capacity.csv"]
    operating = power[power.status.eq("operating")]
    gw = operating.groupby("technology").capacity_mw.sum() / 1e3
    assert gw["nuclear"] == pytest.approx(57.0, abs=0.1)  # 57 units (GEM, October 2023)
    assert gw["onshore_wind"] + gw["offshore_wind"] == pytest.approx(310.0, abs=0.1)
    assert gw["hydro"] + gw["pumped_hydro"] == pytest.approx(317.8, abs=0.1)
    assert gw["solar"] == pytest.approx(54.8, abs=0.1)
    assert power.groupby("source").size().to_dict() == {
        "GEM hydro 2023-05": 883, "GEM nuclear 2023-10": 160, "GEM wind 2023-05": 6542, "WRI GPPD 1.3.0": 1320}
    assert pd.Index(power.id).is_unique
