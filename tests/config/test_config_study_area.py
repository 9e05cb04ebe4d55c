"""Custom study areas: a scenario's ``boundaries`` file and ``region_field``, and every bad input
as one line naming the file and the record (docs/architecture.md, "Any study area")."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import geopandas as gpd
import pytest
import shapely

from gridcarbon.config import load_scenario, validate_scenario
from gridcarbon.core.errors import ScenarioError
from gridcarbon.inputs.study_area import read_study_regions

#: two hand-drawn zones (lon, lat boxes): part of southern Jiangsu, and Suzhou with Shanghai
NORTH = shapely.box(119.0, 31.6, 121.0, 32.6)
SOUTH = shapely.box(120.5, 30.7, 121.9, 31.6)
SCENARIO = "extends: china-enhanced\nboundaries: zones.gpkg\nregion_field: zone\n"


def write_zones(folder, names=("north", "south"), geoms=(NORTH, SOUTH), crs="EPSG:3857", name="zones.gpkg"):
    frame = gpd.GeoDataFrame({"zone": list(names)}, geometry=list(geoms), crs="EPSG:4326").to_crs(crs)
    frame.to_file(folder / name)
    return folder / name


def only_problem(path) -> str:
    problems = validate_scenario(path)
    assert len(problems) == 1, problems
    return problems[0]


def test_regions_come_from_the_file_in_any_crs(tmp_path, scenario_file):
    write_zones(tmp_path)
    sc = load_scenario(scenario_file(SCENARIO))
    assert sc.regions == ("north", "south")
    regions = read_study_regions(sc.boundaries, "zone")
    assert regions.crs.to_epsg() == 4326
    assert regions.geometry[0].hausdorff_distance(NORTH) < 1e-6  # back from Web Mercator in degrees


def test_hash_counts_the_boundaries_by_content_not_by_location(tmp_path, scenario_file):
    here = scenario_file(SCENARIO, folder=tmp_path / "here")
    write_zones(here.parent)
    there = scenario_file(SCENARIO, folder=tmp_path / "moved" / "there")
    shutil.copy(here.parent / "zones.gpkg", there.parent / "zones.gpkg")
    assert load_scenario(here).hash() == load_scenario(there).hash()
    write_zones(there.parent, geoms=(NORTH, shapely.box(120.5, 30.7, 121.8, 31.6)))  # one edge moved
    assert load_scenario(here).hash() != load_scenario(there).hash()


def test_records_sharing_a_name_form_one_region(tmp_path):
    path = write_zones(tmp_path, names=("a", "b", "a"), geoms=(NORTH, SOUTH, shapely.box(118, 31.6, 119, 32.6)))
    regions = read_study_regions(path, "zone")
    assert list(regions.region) == ["a", "b"]
    assert regions.to_crs(3857).area[0] > NORTH.area and len(regions) == 2


def test_jjj_is_the_three_provinces():
    sc = load_scenario("jjj-enhanced")
    assert sc.regions == ("Beijing", "Tianjin", "Hebei") and sc.region_set == "china"
    assert sc.pathway.parent == "china-enhanced"


BAD = {
    "file missing": (lambda d: None, SCENARIO, "my.yaml: boundaries: file not found"),
    "field missing": (write_zones, SCENARIO.replace("zone\n", "NAME\n"),
                      "my.yaml: region_field: zones.gpkg, record region_field: no column 'NAME' naming the regions "
                      "(set region_field to one of: zone)"),
    "no region in China": (lambda d: write_zones(d, geoms=(shapely.box(-10, 40, -9, 41), shapely.box(-8, 40, -7, 41))),
                           SCENARIO, "zones.gpkg, record north: no region overlaps mainland China"),
    "one region outside China": (lambda d: write_zones(d, geoms=(NORTH, shapely.box(140, 35, 141, 36))), SCENARIO,
                                 "zones.gpkg, record south: region 'south' lies outside mainland China"),
    "regions overlapping": (lambda d: write_zones(d, geoms=(NORTH, shapely.box(120.0, 31.0, 121.5, 32.0))), SCENARIO,
                            "zones.gpkg, record south: regions 'north' and 'south' overlap"),
    "a record without a name": (lambda d: write_zones(d, names=("north", None)), SCENARIO,
                                "zones.gpkg, record 1: zone is empty"),
    "a line instead of a polygon": (lambda d: write_zones(d, geoms=(NORTH, shapely.LineString([(120, 31), (121, 31)]))),
                                    SCENARIO, "zones.gpkg, record 1: region 'south' has no polygon"),
    "built-in region set": (write_zones, SCENARIO + "region_set: yrd\n",
                            "my.yaml: boundaries: a study area from boundaries is clipped from the national "
                            "inventory: set region_set: china, not 'yrd'"),
    "nested in the national run": (write_zones, SCENARIO + "pathway: {from: china-enhanced, history: {}, peak: null, "
                                   "milestones: [], rates: [], net_zero: null, removals_start: null}\n",
                                   "my.yaml: pathway.from: a nested pathway takes the parent's totals per province, "
                                   "and regions north, south of zones.gpkg are not provinces"),
    "unknown region in bounds": (write_zones, SCENARIO + "allocation: {bounds: [{region: Jiangsu, sector: power, "
                                 "years: [2030, 2040], max: 1}]}\n",
                                 "allocation.bounds[0].region: unknown region 'Jiangsu' for the boundaries "
                                 "(use one of north, south)"),
}


@pytest.mark.parametrize("make, text, expected", list(BAD.values()), ids=list(BAD))
def test_bad_study_areas_are_one_line_naming_file_and_record(tmp_path, scenario_file, make, text, expected):
    make(tmp_path)
    line = only_problem(scenario_file(text))
    assert expected in line, line
    assert line.startswith("my.yaml: ") and "\n" not in line


def test_load_raises_a_scenario_error_naming_the_key(tmp_path, scenario_file):
    write_zones(tmp_path, geoms=(NORTH, shapely.box(120.0, 31.0, 121.5, 32.0)))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(scenario_file(SCENARIO))
    err = caught.value
    assert (err.source, err.record, err.exit_code) == ("my.yaml", "boundaries", 2)
    assert "'north' and 'south' overlap" in err.problem


def test_cli_validate_exits_2_with_one_line(tmp_path, scenario_file):
    write_zones(tmp_path)
    path = scenario_file(SCENARIO.replace("zone\n", "NAME\n"))
    proc = subprocess.run([sys.executable, "-m", "gridcarbon.cli", "validate", path.name], cwd=path.parent,
                          env={**os.environ, "MPLBACKEND": "Agg"}, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and "zones.gpkg, record region_field: no column 'NAME'" in lines[0], lines
    assert "Traceback" not in proc.stderr
