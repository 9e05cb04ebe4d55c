"""Real GIS clients read the rasters: GDAL's ``gdalinfo`` and headless QGIS (system Python).

The clients come from Debian's packages (``gdal-bin``, ``python3-qgis``, ``qgis-providers``;
``.ci/run`` installs them). Each group of tests skips cleanly where its client is absent.
The default run's rasters are copied first: ``gdalinfo -stats`` and QGIS would otherwise
leave ``.aux.xml`` side-cars in the shared run folder (GDAL_PAM_ENABLED=NO is set as well).
"""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from pyproj import CRS

from gridcarbon.core.grid import CHINA_ALBERS
from gridcarbon.core.sectors import SECTORS
from gridcarbon.core.units import UNITS
from gridcarbon.output.export import NODATA, write_cog
from gridcarbon.output.styles import log_limits, write_qml
from gridcarbon.testing import random_layer, yrd_grid

pytestmark = [pytest.mark.client, pytest.mark.slow]

YEAR = 2060  # every layer of this year, plus the base year's total
BASE_TOTAL = (2024, "total")
SYSTEM_PYTHON = "/usr/bin/python3"
#: The system's gdalinfo (a venv or conda one could be another GDAL build).
GDALINFO = shutil.which("gdalinfo", path="/usr/bin:/bin") or shutil.which("gdalinfo")
QGIS_PROCESS = shutil.which("qgis_process.bin", path="/usr/bin:/bin") or shutil.which("qgis_process.bin")
#: Variables of the venv's own GDAL/PROJ/Python that must not reach the system clients.
LEAKY = ("GDAL_DATA", "GDAL_DRIVER_PATH", "PROJ_LIB", "PROJ_DATA", "PYTHONPATH", "PYTHONHOME",
         "VIRTUAL_ENV")
CLIENT_TIMEOUT = 120  # s per client call; the whole module takes a few seconds

needs_gdal = pytest.mark.skipif(GDALINFO is None, reason="gdalinfo not installed (Debian: gdal-bin)")
#: Evaluated (once, cached) when a QGIS test is set up, before its fixtures run the model.
needs_qgis = pytest.mark.skipif("qgis_missing() is not None",
                                reason=f"headless QGIS unavailable: {SYSTEM_PYTHON} cannot import "
                                       "qgis.core (Debian: python3-qgis qgis-providers)")
needs_qgis_process = pytest.mark.skipif(
    QGIS_PROCESS is None, reason="qgis_process.bin not installed (Debian: qgis; optional smoke check)")


def client_env() -> dict[str, str]:
    """The environment of a system client: no venv variables and no venv (or pyenv) on PATH.

    An activated virtual environment puts its bin/ first on PATH; QGIS's embedded Python
    would then take that interpreter's standard library and fail to import qgis.
    """
    env = {k: v for k, v in os.environ.items() if k not in LEAKY}
    prefixes = {sys.prefix, sys.base_prefix, os.environ.get("VIRTUAL_ENV", sys.prefix)}
    path = [p for p in env.get("PATH", "").split(os.pathsep)
            if p and not any(p.startswith(prefix) for prefix in prefixes) and ".pyenv" not in p]
    return env | {"PATH": os.pathsep.join(path or ["/usr/bin", "/bin"]),
                  "QT_QPA_PLATFORM": "offscreen", "GDAL_PAM_ENABLED": "NO"}


@cache
def qgis_missing() -> str | None:
    """Why headless QGIS cannot be used here, or None when the system Python imports it."""
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} not found"
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "from qgis.core import QgsApplication"],
                           env=client_env(), capture_output=True, text=True, timeout=CLIENT_TIMEOUT)
    return (probe.stderr.strip().splitlines() or ["import failed"])[-1] if probe.returncode else None


def label_of(name: str) -> str:
    if name in SECTORS:
        return SECTORS[name].label
    return "Gross emissions" if name == "total" else "Net emissions"


def expected_stats(values: np.ndarray, inside: np.ndarray) -> dict[str, float]:
    """min/max/mean/count of the inside cells as stored on disk (float32)."""
    v = values[inside].astype(np.float32).astype(np.float64)
    return {"min": float(v.min()), "max": float(v.max()), "mean": float(v.mean()), "count": int(v.size)}


def qml_ramp(path: Path) -> list[tuple[float, str, int, str]]:
    shader = ET.parse(path).getroot().find("pipe/rasterrenderer/rastershader/colorrampshader")
    return [(float(i.get("value")), i.get("color"), int(i.get("alpha")), i.get("label"))
            for i in shader.findall("item")]


def assert_is_grid_crs(crs: CRS) -> None:
    assert crs == CRS.from_user_input(CHINA_ALBERS), crs.to_wkt()
    assert crs.coordinate_operation.method_name == "Albers Equal Area"


# -- the rasters under test ----------------------------------------------------------------
@pytest.fixture(scope="module")
def rasters(default_run, tmp_path_factory) -> dict[str, dict]:
    """Copies of the default run's YEAR layers and base-year total, with expected values."""
    dest = tmp_path_factory.mktemp("client-rasters")
    inside = default_run.grid.inside
    wanted = [(YEAR, name) for name in default_run.layers(YEAR)] + [BASE_TOTAL]
    out = {}
    for year, name in wanted:
        values = default_run.layers(year)[name]
        folder = dest / str(year)
        folder.mkdir(exist_ok=True)
        for suffix in (".tif", ".qml"):
            shutil.copy2(default_run.out_dir / str(year) / f"{name}{suffix}", folder)
        out[f"{year}/{name}"] = {"path": folder / f"{name}.tif", "year": year, "sector": name,
                                 "stats": expected_stats(values, inside), "total_cells": inside.size}
    assert len(out) == len(default_run.layers(YEAR)) + 1
    return out


@pytest.fixture(scope="module")
def cog_1km(tmp_path_factory) -> dict:
    """A 1 km YRD layer written by write_cog: big enough (> one 512 px tile) for overviews."""
    grid = yrd_grid(1000)
    values = random_layer(grid, seed=7, mean=6.0)  # 123 outside the regions: nodata once written
    path = tmp_path_factory.mktemp("cog-1km") / "synthetic.tif"
    write_cog(path, values, grid, description="Synthetic 1 km layer",
              tags={"sector": "synthetic", "year": 2030, "scenario": "synthetic-1km"})
    vmin, vmax = log_limits(np.where(grid.inside, values, np.nan))
    write_qml(path.with_suffix(".qml"), kind="sequential", vmin=vmin, vmax=vmax, label="Synthetic")
    return {"path": path, "shape": grid.shape, "stats": expected_stats(values, grid.inside),
            "total_cells": grid.inside.size}


# -- GDAL ------------------------------------------------------------------------------------
def gdalinfo(path: Path) -> dict:
    done = subprocess.run([GDALINFO, "-json", "-stats", str(path)], env=client_env(),
                          capture_output=True, text=True, timeout=CLIENT_TIMEOUT)
    assert done.returncode == 0, f"gdalinfo failed on {path}:\n{done.stderr}"
    return json.loads(done.stdout)


def check_stats(band: dict, expected: dict, total_cells: int) -> None:
    for key in ("minimum", "maximum", "mean"):
        assert math.isfinite(band[key]), (key, band)
    assert band["minimum"] == pytest.approx(expected["min"], rel=1e-6)
    assert band["maximum"] == pytest.approx(expected["max"], rel=1e-6)
    # gdalinfo prints the mean with 3 decimals; the metadata item has the full value
    assert band["mean"] == pytest.approx(expected["mean"], rel=1e-6, abs=1e-3)
    meta = band["metadata"][""]
    assert float(meta["STATISTICS_MEAN"]) == pytest.approx(expected["mean"], rel=1e-6, abs=1e-9)
    valid_percent = 100.0 * expected["count"] / total_cells
    assert float(meta["STATISTICS_VALID_PERCENT"]) == pytest.approx(valid_percent, abs=0.01)


@needs_gdal
def test_gdalinfo_is_the_system_one():
    done = subprocess.run([GDALINFO, "--version"], env=client_env(), capture_output=True, text=True,
                          timeout=CLIENT_TIMEOUT)
    assert done.returncode == 0 and done.stdout.startswith("GDAL "), done.stdout + done.stderr


@needs_gdal
def test_gdalinfo_reads_run_rasters(rasters, default_run):
    for key, r in rasters.items():
        info = gdalinfo(r["path"])
        assert info["driverShortName"] == "GTiff", key
        wkt = info["coordinateSystem"]["wkt"]
        assert "Albers" in wkt, key
        assert_is_grid_crs(CRS.from_wkt(wkt))
        assert info["size"] == [default_run.grid.shape[1], default_run.grid.shape[0]], key
        assert info["geoTransform"] == list(default_run.grid.transform.to_gdal()), key
        assert info["metadata"]["IMAGE_STRUCTURE"]["LAYOUT"] == "COG", key
        assert info["metadata"]["IMAGE_STRUCTURE"]["COMPRESSION"] == "DEFLATE", key
        tags = info["metadata"][""]
        assert tags["units"] == UNITS, key
        assert tags["scenario"] == default_run.scenario.name, key
        assert tags["sector"] == r["sector"], key
        assert tags["year"] == str(r["year"]), key
        (band,) = info["bands"]
        assert band["type"] == "Float32", key
        assert band["noDataValue"] == NODATA == -9999, key
        assert band["unit"] == UNITS, key
        assert band["description"] == f"{label_of(r['sector'])} {r['year']}, t CO2/yr/cell", key
        check_stats(band, r["stats"], r["total_cells"])


@needs_gdal
def test_gdalinfo_sees_overviews_of_a_1km_cog(cog_1km):
    info = gdalinfo(cog_1km["path"])
    ny, nx = cog_1km["shape"]
    assert info["size"] == [nx, ny]
    assert info["metadata"]["IMAGE_STRUCTURE"]["LAYOUT"] == "COG"
    assert_is_grid_crs(CRS.from_wkt(info["coordinateSystem"]["wkt"]))
    (band,) = info["bands"]
    assert band["block"] == [512, 512]
    assert band["noDataValue"] == -9999
    overviews = band.get("overviews", [])
    assert overviews, "no overviews in a raster larger than one tile"
    sizes = [tuple(o["size"]) for o in overviews]
    assert sizes[0] == (math.ceil(nx / 2), math.ceil(ny / 2)), sizes
    assert all(a[0] > b[0] for a, b in zip(sizes, sizes[1:])), sizes  # halving, coarser each time
    assert info["metadata"][""]["scenario"] == "synthetic-1km"
    check_stats(band, cog_1km["stats"], cog_1km["total_cells"])


# -- QGIS ------------------------------------------------------------------------------------
QGIS_SCRIPT = r'''
"""Load rasters in headless QGIS; write what it sees as JSON (argv: job.json result.json)."""
import json
import sys

from qgis.analysis import QgsNativeAlgorithms
from qgis.core import (Qgis, QgsApplication, QgsCoordinateReferenceSystem, QgsProcessingContext,
                       QgsProcessingFeedback, QgsRasterBandStats, QgsRasterLayer,
                       QgsSingleBandPseudoColorRenderer)


def describe(path, name, registry):
    # Layers live in this frame only, so they are deleted before exitQgis() (else QGIS crashes).
    opened = QgsRasterLayer(path, name)  # as a user opens it: the same-name .qml applies itself
    on_open = type(opened.renderer()).__name__ if opened.isValid() else None
    del opened
    options = QgsRasterLayer.LayerOptions()
    options.loadDefaultStyle = False
    layer = QgsRasterLayer(path, name, "gdal", options)
    info = {"valid": layer.isValid(), "renderer_on_open": on_open}
    if not info["valid"]:
        info["error"] = layer.error().summary()
        return info
    crs, provider = layer.crs(), layer.dataProvider()
    stats = provider.bandStatistics(1, QgsRasterBandStats.All)
    info.update(
        crs_valid=crs.isValid(), crs_proj=crs.toProj(),
        crs_wkt=crs.toWkt(QgsCoordinateReferenceSystem.WKT2_2019),
        size=[layer.width(), layer.height()], band_count=layer.bandCount(),
        nodata=provider.sourceNoDataValue(1) if provider.sourceHasNoDataValue(1) else None,
        has_pyramids=provider.hasPyramids(),
        stats={"min": stats.minimumValue, "max": stats.maximumValue, "mean": stats.mean,
               "count": stats.elementCount},
        renderer_before=type(layer.renderer()).__name__)
    message, ok = layer.loadDefaultStyle()
    info["style"] = {"ok": bool(ok), "message": message,
                     "label": layer.customProperty("gridcarbon/label")}
    renderer = layer.renderer()
    info["renderer"] = type(renderer).__name__
    if isinstance(renderer, QgsSingleBandPseudoColorRenderer):
        function = renderer.shader().rasterShaderFunction()
        info["band"] = renderer.band()
        info["ramp_type"] = int(function.colorRampType())
        info["classification"] = [renderer.classificationMin(), renderer.classificationMax()]
        info["ramp"] = [[item.value, item.color.name(), item.color.alpha(), item.label]
                        for item in function.colorRampItemList()]
    algorithm = registry.createAlgorithmById("native:rasterlayerstatistics")
    results, ok = algorithm.run({"INPUT": path, "BAND": 1}, QgsProcessingContext(),
                                QgsProcessingFeedback())
    info["processing"] = {"ok": bool(ok), **{k: results.get(k) for k in ("MIN", "MAX", "MEAN")}}
    return info


def main():
    job_path, result_path = sys.argv[1:3]
    job = json.loads(open(job_path).read())
    app = QgsApplication([], False)
    app.initQgis()
    result = {"qgis_version": Qgis.version(), "layers": {}}
    try:
        registry = QgsApplication.processingRegistry()
        registry.addProvider(QgsNativeAlgorithms())
        result["native_algorithms"] = len([a for a in registry.algorithms()
                                           if a.id().startswith("native:")])
        for name, path in job.items():
            result["layers"][name] = describe(path, name, registry)
    finally:
        with open(result_path, "w") as out:
            json.dump(result, out)
        app.exitQgis()


main()
'''


@pytest.fixture(scope="module")
def qgis_result(rasters, cog_1km, tmp_path_factory) -> dict:
    """Run QGIS_SCRIPT once with the system Python over every raster; its JSON result."""
    work = tmp_path_factory.mktemp("qgis")
    job = {key: str(r["path"]) for key, r in rasters.items()} | {"1km": str(cog_1km["path"])}
    (work / "job.json").write_text(json.dumps(job))
    (work / "script.py").write_text(QGIS_SCRIPT)
    done = subprocess.run([SYSTEM_PYTHON, str(work / "script.py"), str(work / "job.json"),
                           str(work / "result.json")], cwd=work, env=client_env(),
                          capture_output=True, text=True, timeout=CLIENT_TIMEOUT)
    assert done.returncode == 0, f"QGIS script exited {done.returncode}:\n{done.stderr[-3000:]}"
    result = json.loads((work / "result.json").read_text())
    assert set(result["layers"]) == set(job)
    return result | {"expected": {**rasters, "1km": cog_1km}}


@needs_qgis
def test_qgis_loads_rasters_in_grid_crs(qgis_result):
    assert qgis_result["qgis_version"].startswith("3.")
    for key, layer in qgis_result["layers"].items():
        assert layer["valid"], f"{key}: {layer.get('error')}"
        assert layer["crs_valid"], key
        proj = layer["crs_proj"].split()
        for term in ("+proj=aea", "+lon_0=105", "+lat_1=25", "+lat_2=47", "+datum=WGS84", "+units=m"):
            assert term in proj, (key, layer["crs_proj"])
        assert_is_grid_crs(CRS.from_wkt(layer["crs_wkt"]))
        assert layer["band_count"] == 1, key
        assert layer["nodata"] == -9999, key


@needs_qgis
def test_qgis_statistics_match_numpy(qgis_result):
    for key, layer in qgis_result["layers"].items():
        expected, stats = qgis_result["expected"][key]["stats"], layer["stats"]
        for name in ("min", "max", "mean"):
            assert math.isfinite(stats[name]), (key, stats)
        assert stats["min"] == pytest.approx(expected["min"], rel=1e-6), key
        assert stats["max"] == pytest.approx(expected["max"], rel=1e-6), key
        assert stats["mean"] == pytest.approx(expected["mean"], rel=1e-6, abs=1e-9), key
        assert stats["count"] == expected["count"], key  # nodata is exactly the outside cells
        processing = layer["processing"]
        assert processing["ok"], key
        assert processing["MIN"] == pytest.approx(expected["min"], rel=1e-6), key
        assert processing["MAX"] == pytest.approx(expected["max"], rel=1e-6), key
        assert processing["MEAN"] == pytest.approx(expected["mean"], rel=1e-6, abs=1e-9), key
    assert qgis_result["native_algorithms"] > 50


@needs_qgis
def test_qgis_applies_qml_default_style(qgis_result):
    for key, layer in qgis_result["layers"].items():
        qml = qgis_result["expected"][key]["path"].with_suffix(".qml")
        style = layer["style"]
        assert style["ok"], (key, style["message"])
        # without the .qml QGIS shows a float band in grey: the pseudocolour is the .qml's
        assert layer["renderer_before"] == "QgsSingleBandGrayRenderer", key
        assert layer["renderer"] == "QgsSingleBandPseudoColorRenderer", key
        assert layer["renderer_on_open"] == "QgsSingleBandPseudoColorRenderer", key
        assert layer["band"] == 1, key
        assert layer["ramp_type"] == 0, key  # QgsColorRampShader.Interpolated
        ramp = qml_ramp(qml)
        assert layer["classification"] == pytest.approx([ramp[0][0], ramp[-1][0]]), key
        assert len(layer["ramp"]) == len(ramp), key
        for (value, colour, alpha, label), seen in zip(ramp, layer["ramp"]):
            assert seen[0] == pytest.approx(value, rel=1e-9), key
            assert seen[1:] == [colour, alpha, label], key
        root = ET.parse(qml).getroot()
        label = root.find("customproperties/Option/Option[@name='gridcarbon/label']").get("value")
        assert style["label"] == label, key


@needs_qgis
def test_qgis_sees_overviews_of_a_1km_cog(qgis_result):
    assert qgis_result["layers"]["1km"]["has_pyramids"]
    ny, nx = qgis_result["expected"]["1km"]["shape"]
    assert qgis_result["layers"]["1km"]["size"] == [nx, ny]


@needs_qgis_process
def test_qgis_process_smoke(rasters, tmp_path):
    # Debian's /usr/bin/qgis_process wrapper re-executes "$0.bin" and breaks; the .bin works.
    run = dict(env=client_env(), capture_output=True, text=True, timeout=CLIENT_TIMEOUT, cwd=tmp_path)
    version = subprocess.run([QGIS_PROCESS, "--version"], **run)
    assert version.returncode == 0 and version.stdout.startswith("QGIS 3."), version.stdout + version.stderr
    total = rasters[f"{YEAR}/total"]
    done = subprocess.run([QGIS_PROCESS, "run", "native:rasterlayerstatistics", "--json", "--",
                           f"INPUT={total['path']}", "BAND=1"], **run)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout)["results"]
    assert results["MIN"] == pytest.approx(total["stats"]["min"], rel=1e-6)
    assert results["MAX"] == pytest.approx(total["stats"]["max"], rel=1e-6)
    assert results["MEAN"] == pytest.approx(total["stats"]["mean"], rel=1e-6, abs=1e-9)


# -- the provenance raster -------------------------------------------------------------------
@pytest.fixture(scope="module")
def provenance(default_run, tmp_path_factory) -> dict:
    """A copy of the default run's YEAR provenance raster and style, with its band count."""
    from gridcarbon.output.provenance import BANDS_PER_LAYER, CLASSES, RASTER_LAYERS

    dest = tmp_path_factory.mktemp("client-provenance")
    for suffix in (".tif", ".qml"):
        shutil.copy2(default_run.out_dir / str(YEAR) / f"provenance{suffix}", dest)
    return {"path": dest / "provenance.tif", "bands": len(RASTER_LAYERS) * BANDS_PER_LAYER, "classes": CLASSES}


@needs_gdal
def test_gdalinfo_reads_the_provenance_raster(provenance, default_run):
    info = gdalinfo(provenance["path"])
    assert info["metadata"]["IMAGE_STRUCTURE"]["LAYOUT"] == "COG"
    assert_is_grid_crs(CRS.from_wkt(info["coordinateSystem"]["wkt"]))
    assert info["size"] == [default_run.grid.shape[1], default_run.grid.shape[0]]
    bands = info["bands"]
    assert len(bands) == provenance["bands"]
    assert bands[0]["description"].startswith("total: confidence class")
    assert bands[0]["minimum"] >= 0 and bands[0]["maximum"] <= max(provenance["classes"])
    assert all(0 <= b["minimum"] and b["maximum"] <= 1 + 1e-6 for b in bands[1:4])  # shares
    assert info["metadata"][""]["year"] == str(YEAR)


@needs_qgis
def test_qgis_opens_the_provenance_raster_with_its_classes(provenance, tmp_path):
    (tmp_path / "job.json").write_text(json.dumps({"provenance": str(provenance["path"])}))
    (tmp_path / "script.py").write_text(QGIS_SCRIPT)
    done = subprocess.run([SYSTEM_PYTHON, str(tmp_path / "script.py"), str(tmp_path / "job.json"),
                           str(tmp_path / "result.json")], cwd=tmp_path, env=client_env(),
                          capture_output=True, text=True, timeout=CLIENT_TIMEOUT)
    assert done.returncode == 0, done.stderr[-3000:]
    layer = json.loads((tmp_path / "result.json").read_text())["layers"]["provenance"]
    assert layer["valid"], layer.get("error")
    assert_is_grid_crs(CRS.from_wkt(layer["crs_wkt"]))
    assert layer["band_count"] == provenance["bands"]
    assert layer["renderer_on_open"] == "QgsPalettedRasterRenderer"  # the .qml applies itself
    assert layer["style"]["ok"] and layer["style"]["label"] == f"Provenance of gross emissions {YEAR}"
    assert layer["stats"]["min"] >= 0 and layer["stats"]["max"] <= max(provenance["classes"])
    palette = ET.parse(provenance["path"].with_suffix(".qml")).getroot().findall(".//paletteEntry")
    assert {e.get("label") for e in palette} == {"no emission", *provenance["classes"].values()}
