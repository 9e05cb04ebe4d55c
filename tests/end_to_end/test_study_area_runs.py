"""Custom study areas end to end: ``gridcarbon run jjj-enhanced`` (the built-in Beijing-Tianjin-Hebei
example) and a run on two hand-drawn polygons in Web Mercator with their own region field and
pathway. The base year must be the national built-in inventory clipped to the area
(docs/architecture.md, "Any study area")."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import gridcarbon
from gridcarbon.core.sectors import POINT_SECTORS
from gridcarbon.inputs.area_drivers import aggregated_drivers
from gridcarbon.inputs.data import read_table
from gridcarbon.inputs.study_area import read_study_regions

JJJ = ["Beijing", "Tianjin", "Hebei"]
#: the hand-drawn zones (lon, lat boxes): southern Jiangsu north of Suzhou, and Suzhou with Shanghai
ZONES = {"north": shapely.box(119.0, 31.6, 121.0, 32.6), "south": shapely.box(120.5, 30.7, 121.9, 31.6)}
ZONES_YAML = """\
name: zones
region_set: china
boundaries: zones.gpkg
region_field: zone
end_year: 2035
years: [2030, 2035]
pathway:
  milestones:
    - {year: 2027, change_from_base: 0.02}
    - {year: 2035, change_from_base: -0.08}
"""


@pytest.fixture(scope="module")
def national(china_baseline):
    """The national built-in inventory at 10 km (what a study area is clipped from; the
    session's ``china_baseline``)."""
    return china_baseline[0]


@pytest.fixture(scope="module")
def jjj(tmp_path_factory):
    out = tmp_path_factory.mktemp("jjj")
    proc = subprocess.run([sys.executable, "-m", "gridcarbon.cli", "run", "jjj-enhanced", "--out", str(out),
                           "--years", "2030", "--quiet"], env={**os.environ, "MPLBACKEND": "Agg"},
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr
    folder = out / "jjj-enhanced"
    return pd.read_csv(folder / "totals.csv"), json.loads((folder / "manifest.json").read_text()), folder


@pytest.fixture(scope="module")
def zones(tmp_path_factory):
    folder = tmp_path_factory.mktemp("zones")
    frame = gpd.GeoDataFrame({"zone": list(ZONES)}, geometry=list(ZONES.values()), crs="EPSG:4326")
    frame.to_crs("EPSG:3857").to_file(folder / "zones.gpkg")
    (folder / "zones.yaml").write_text(ZONES_YAML)
    return gridcarbon.run(folder / "zones.yaml", out=folder / "out"), folder


def base_year(totals: pd.DataFrame) -> pd.DataFrame:
    """(sector, region) base-year t CO2/yr."""
    return totals[totals.year == 2024].pivot(index="sector", columns="region", values="allocated_t")


def test_jjj_runs_end_to_end_and_conserves(jjj):
    totals, manifest, folder = jjj
    assert sorted(totals.region.unique()) == sorted(JJJ)
    assert manifest["conservation"]["max_relative_residual"] <= 1e-6
    assert (folder / "2030" / "total.tif").exists() and (folder / "cube.nc").exists()
    assert "clipped to jjj-provinces.geojson" in manifest["inventory"]["history"][0]


def test_jjj_base_year_is_the_national_inventory_of_the_three_provinces(jjj, national):
    mine = base_year(jjj[0])
    theirs = national.totals[national.totals.region.isin(JJJ)].pivot(index="sector", columns="region", values="value_t")
    points = list(POINT_SECTORS)  # by location: exactly the same plants
    np.testing.assert_allclose(mine.loc[points, JJJ], theirs.loc[points, JJJ], rtol=1e-9, atol=1.0)
    # corridors cut exactly at the borders; the study polygons' edges are straight in lon/lat
    # (densified), the national ones straight in the grid CRS: crossings move by metres
    np.testing.assert_allclose(mine.loc["transport_other", JJJ], theirs.loc["transport_other", JJJ], rtol=1e-5)
    # area sectors by exact coverage: a border cell is split by area, where the national grid gives
    # it whole to the province holding its centre; so close, not identical (Beijing 1.6 % lower)
    area = ["transport_road", "buildings", "agriculture", "forest_sink", "other_industry"]
    assert (mine.loc[area, JJJ] - theirs.loc[area, JJJ]).abs().to_numpy().max() < 1e6  # t CO2/yr
    np.testing.assert_allclose(mine.loc[:, JJJ].sum(), theirs.loc[:, JJJ].sum(), rtol=0.02)


def test_jjj_looks_like_jjj(jjj):
    """Hebei's steel dominates; Beijing has almost no heavy industry."""
    mine = base_year(jjj[0])
    heavy = mine.loc[["steel", "cement", "power"]]
    assert mine.loc["steel", "Hebei"] > 0.9 * mine.loc["steel"].sum()
    assert mine.loc["steel", "Beijing"] == 0
    assert heavy["Beijing"].sum() < 0.05 * heavy.sum().sum()
    assert mine["Hebei"].sum() > 0.75 * mine.sum().sum()


def test_user_polygons_in_web_mercator_run_end_to_end(zones):
    result, _ = zones
    assert result.grid.regions == ("north", "south")
    assert result.manifest["conservation"]["max_relative_residual"] <= 1e-6
    assert set(result.totals.region) == {"north", "south"}
    assert result.out_dir.name == "zones" and (result.out_dir / "2035" / "net.tif").exists()


def test_user_polygons_hold_the_national_plants_inside_them(zones, national):
    result, _ = zones
    plants = national.facilities[national.facilities.sector.isin(POINT_SECTORS)]
    lonlat = plants.to_crs("EPSG:4326").geometry
    expected = {z: plants.emission_t[lonlat.within(g).to_numpy()].sum() for z, g in ZONES.items()}
    mine = base_year(result.totals).loc[list(POINT_SECTORS)].sum()
    assert expected["north"] > 0 and expected["south"] > 0
    for zone, value in expected.items():
        assert mine[zone] == pytest.approx(value, rel=1e-9)


def test_user_polygons_get_their_share_of_the_drivers(zones):
    _, folder = zones
    drivers = aggregated_drivers(read_study_regions(folder / "zones.gpkg", "zone"))
    nbs = read_table("china_drivers.csv")
    both = nbs[(nbs.year == 2024) & nbs.region.isin(["Jiangsu", "Shanghai"])].population.sum()
    mine = drivers[drivers.year == 2024].set_index("region").population
    assert 0.3 * both < mine.sum() < both
    # the south zone (Suzhou and most of Shanghai) is denser than the north one
    south_area, north_area = (gpd.GeoSeries([ZONES[z]], crs=4326).to_crs(3857).area[0] for z in ("south", "north"))
    assert mine["south"] / south_area > mine["north"] / north_area
