"""``report.html`` of the default run: self-contained, every map, one scale per layer, rebuilt
byte for byte by ``gridcarbon report DIR``, ensemble bands when ``totals_ensemble.csv`` exists.

(Opening it in a real browser: ``tests/clients/test_report_browser.py``.)
"""
from __future__ import annotations

import base64
import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from gridcarbon.cli import app
from gridcarbon.core.sectors import GRIDDED
from gridcarbon.output.report_maps import NODATA_INDEX

pytestmark = pytest.mark.slow

#: the page stays small: a few hundred kB for the default run (README, "Report, STAC and CF")
MAX_BYTES = 1_500_000


@pytest.fixture(scope="module")
def folder(default_run) -> Path:
    return Path(default_run.out_dir)


@pytest.fixture(scope="module")
def page(folder) -> str:
    return (folder / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def maps(page) -> dict:
    found = re.search(r"<script type=\"application/json\" id=\"map-data\">(.*?)</script>", page, re.DOTALL)
    return json.loads(found.group(1))


def indices(uri: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


def test_the_page_is_self_contained_and_small(page, folder):
    assert (folder / "report.html").stat().st_size < MAX_BYTES
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)  # nothing fetched from a network
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", page) and "<script src" not in page
    assert page.count("<svg") >= 6  # pathway, sectors, regions, events, storage charts and the map outline
    for title in ("Maps", "Pathway and sectors", "Provincial split", "Carbon price and permit trade", "Energy mix",
                  "Facilities and storage", "Ensemble bands"):
        assert f"<h2>{title}</h2>" in page, title
    assert "no totals_ensemble.csv" in page


def test_every_exported_year_and_layer_is_a_map_on_the_grid(maps, default_run):
    sc, grid = default_run.scenario, default_run.grid
    assert maps["years"] == [sc.base_year, *sc.years]
    assert sorted(maps["images"]) == sorted(["total", "net", *GRIDDED])
    for layer, by_year in maps["images"].items():
        assert sorted(by_year) == [str(y) for y in maps["years"]], layer
        index = indices(by_year["2024"])
        assert index.shape == grid.shape
        np.testing.assert_array_equal(index == NODATA_INDEX, ~grid.inside)  # transparent outside only


def test_one_scale_per_layer_shows_the_decline(maps):
    """Gross emissions fall by ~87 % from 2024 to 2060: on a shared scale the 2060 cells are lighter."""
    first, last = (indices(maps["images"]["total"][y]).astype(float) for y in ("2024", "2060"))
    inside = first != NODATA_INDEX
    assert last[inside].mean() < first[inside].mean() - 20
    assert len(maps["legends"]) == len(maps["images"])  # one legend per layer, not per year


def test_report_command_rebuilds_the_same_bytes(folder, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(folder, copy)
    (copy / "report.html").unlink()
    res = CliRunner().invoke(app, ["report", str(copy)])
    assert res.exit_code == 0, res.output
    assert (copy / "report.html").read_bytes() == (folder / "report.html").read_bytes()
    assert not list(copy.glob(".report.html.tmp-*"))


def test_ensemble_bands_and_missing_tables(folder, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(folder, copy)
    totals = pd.read_csv(copy / "totals.csv").groupby("year", as_index=False)["allocated_t"].sum()
    band = totals.assign(region="all", sector="total", p05=totals.allocated_t * 0.9, p50=totals.allocated_t,
                         p95=totals.allocated_t * 1.1).drop(columns="allocated_t")
    band.to_csv(copy / "totals_ensemble.csv", index=False)
    for name in ("market.csv", "energy_summary.csv", "storage.csv"):
        (copy / name).unlink()
    res = CliRunner().invoke(app, ["report", str(copy)])
    assert res.exit_code == 0, res.output
    page = (copy / "report.html").read_text(encoding="utf-8")
    ensemble = page.split("<h2>Ensemble bands</h2>", 1)[1]
    assert "Ensemble: p5-p95 band" in ensemble and "all total" in ensemble
    for name in ("market.csv", "energy_summary.csv", "storage.csv"):
        assert f"no {name}" in page, name


def test_report_of_a_folder_that_is_no_run_fails_with_one_line(tmp_path):
    res = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert res.exit_code == 2 and "no manifest.json" in res.output


def test_sector_chart_of_an_area_without_removals():
    """A study area whose removals are all zero still gets its chart (no empty stack below zero)."""
    from gridcarbon.output.report_charts import sector_chart

    totals = pd.DataFrame({"region": "A", "sector": ["power", "steel", "forest_sink"] * 2,
                           "year": [2024] * 3 + [2030] * 3, "allocated_t": [5e6, 2e6, 0.0, 4e6, 2e6, 0.0]})
    chart = sector_chart(totals)
    assert chart.startswith("<svg") and "Power" in chart and "Forest" not in chart
