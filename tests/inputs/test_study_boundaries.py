"""``gridcarbon boundaries --prefectures``: prefecture polygons named for a study area's ``boundaries:``."""
from __future__ import annotations

import os
import subprocess
import sys

import pyogrio

from gridcarbon.inputs.regions import prefecture_names
from gridcarbon.inputs.study_area import read_study_regions


def cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "gridcarbon.cli", "boundaries", *args], cwd=cwd,
                          env={**os.environ, "MPLBACKEND": "Agg"}, capture_output=True, text=True, timeout=600)


def test_prefectures_by_name_and_by_province_are_a_study_area(tmp_path):
    proc = cli("Tangshan", "Suzhou (Jiangsu)", "Tianjin", "--prefectures", "--out", "mine.gpkg", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [name for name, _ in pyogrio.list_layers(tmp_path / "mine.gpkg")] == ["prefectures", "coast"]
    regions = read_study_regions(tmp_path / "mine.gpkg", "region")  # the first layer, checked
    assert list(regions.region) == ["Tianjin", "Tangshan", "Suzhou (Jiangsu)"]
    km2 = regions.to_crs("EPSG:6933").set_index("region").area / 1e6
    assert 12_000 < km2["Tangshan"] < 15_500 and 11_000 < km2["Tianjin"] < 12_700  # official 13 472, 11 966 km2


def test_repeated_prefecture_names_carry_their_province():
    names = prefecture_names()
    assert names.region.is_unique
    assert {"Suzhou (Jiangsu)", "Suzhou (Anhui)", "Tangshan"} <= set(names.region)


def test_unknown_name_is_one_line_exit_2(tmp_path):
    proc = cli("Tangshann", "--prefectures", "--out", "x.gpkg", cwd=tmp_path)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "unknown province or prefecture(s) ['Tangshann']" in lines[0], lines
    assert not (tmp_path / "x.gpkg").exists()
