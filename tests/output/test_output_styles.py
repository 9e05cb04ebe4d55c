"""QGIS styles and colour scales (gridcarbon.output.styles): log-spaced ramps in .qml files."""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from gridcarbon.output.styles import DECADES, FALLBACK_LIMITS, log_limits, tonnes_label, write_qml


def style(folder, kind: str):
    return write_qml(folder / f"{kind}.qml", kind=kind, vmin=1e2, vmax=1e6, label=f"{kind} 2030")


def ramp_items(path) -> list[ET.Element]:
    root = ET.parse(path).getroot()
    assert root.tag == "qgis" and root.get("version").startswith("3.")
    assert root.get("styleCategories") == "AllStyleCategories"
    renderer = root.find("pipe/rasterrenderer")
    assert renderer.get("type") == "singlebandpseudocolor" and renderer.get("band") == "1"
    shader = renderer.find("rastershader/colorrampshader")
    assert shader.get("colorRampType") == "INTERPOLATED" and shader.get("clip") == "0"
    return shader.findall("item")


@pytest.mark.parametrize("kind", ["sequential", "diverging"])
def test_qml_is_a_qgis_pseudocolor_ramp_with_increasing_log_stops(kind, tmp_path):
    path = style(tmp_path, kind)
    assert path.read_text().startswith("<!DOCTYPE qgis")
    items = ramp_items(path)
    values = [float(item.get("value")) for item in items]
    assert len(items) >= 6 and values == sorted(set(values))
    assert values[-1] == pytest.approx(1e6)
    assert all(item.get("label").endswith(" t") for item in items)
    assert all(item.get("color").startswith("#") and len(item.get("color")) == 7 for item in items)
    positive = [v for v in values if v > 0]
    assert np.allclose(np.diff(np.log10(positive)), np.diff(np.log10(positive))[0])  # log spaced


def test_sequential_qml_shows_zero_transparent(tmp_path):
    items = ramp_items(style(tmp_path, "sequential"))
    assert float(items[0].get("value")) == 0 and items[0].get("alpha") == "0"
    assert [item.get("label") for item in items[1:4]] == ["1e2 t", "3.2e2 t", "1e3 t"]


def test_diverging_qml_is_symmetric_green_to_red(tmp_path):
    items = ramp_items(style(tmp_path, "diverging"))
    values = np.array([float(item.get("value")) for item in items])
    assert (values < 0).any() and (values > 0).any() and 0 in values
    np.testing.assert_allclose(values, -values[::-1])

    def rgb(item):
        colour = item.get("color")
        return [int(colour[i:i + 2], 16) for i in (1, 3, 5)]

    assert rgb(items[0])[1] > rgb(items[0])[0]  # removals green
    assert rgb(items[-1])[0] > rgb(items[-1])[1]  # emissions red
    assert min(rgb(items[len(items) // 2])) > 230  # zero near white


def test_qml_rejects_an_empty_log_range(tmp_path):
    with pytest.raises(ValueError):
        write_qml(tmp_path / "x.qml", kind="sequential", vmin=1e6, vmax=1e2, label="x")


def test_labels_and_limits():
    labels = [tonnes_label(v) for v in (0, 1e4, 31622.8, -1e2)]
    assert labels == ["0 t", "1e4 t", "3.2e4 t", "-1e2 t"]
    assert log_limits(np.array([0.0, 3.2e5, np.nan, -7e5])) == (1e2, 1e6)
    assert log_limits(np.zeros(4)) == (1e2, 1e6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_limits_are_those_of_the_largest_magnitude_in_float64(dtype):
    """The limits come from the layer's extremes, as from its float64 magnitudes: NaN ignored,
    negative extremes, exact powers of ten, infinities, all NaN, empty."""
    rng = np.random.default_rng(5)
    cases = [rng.lognormal(8, 3, 1000) * rng.choice([-1, 1], 1000), np.array([1e5, -99999.0]), np.array([-1e3, 10.0]),
             np.array([np.nan, 2.5e-3]), np.array([np.nan, np.nan]), np.array([np.inf, 1.0]), np.array([-np.inf]),
             np.array([]), np.array([-0.0, 0.0])]
    for case in cases:
        values = case.astype(dtype)
        with np.errstate(all="ignore"):
            top = np.nanmax(np.abs(values.astype(np.float64)), initial=0.0)
        expected = (FALLBACK_LIMITS if not np.isfinite(top) or top <= 0
                    else (10.0 ** math.ceil(math.log10(top)) / 10.0 ** DECADES, 10.0 ** math.ceil(math.log10(top))))
        assert log_limits(values) == expected


def test_fraction_qml_is_a_linear_percent_ramp(tmp_path):
    items = ramp_items(write_qml(tmp_path / "fill.qml", kind="fraction", vmin=0.0, vmax=1.0, label="CO2 storage fill"))
    values = np.array([float(item.get("value")) for item in items])
    assert values[0] == 0 and values[-1] == 1 and np.allclose(np.diff(values), values[1])  # linear, 0..1
    assert [item.get("label") for item in items[:2]] == ["0 %", "10 %"] and items[-1].get("label") == "100 %"
    assert all(item.get("alpha") == "255" for item in items)
