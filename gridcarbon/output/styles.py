"""Colour scales shared by QGIS styles (.qml) and PNG maps, and the .qml writer.

Emission cells span several orders of magnitude (1e2 to 1e6 t CO2/yr at 10 km,
docs/architecture.md, "Calibration"), so both scales are logarithmic: a sequential ramp for emitting layers and a
symmetric-log diverging ramp (green removals, white zero, red emissions) for net and sinks.
QGIS interpolates linearly between ramp items, so log-spaced items give a log scale.
Values are t CO2/yr/cell (docs/architecture.md, "Outputs"), except the ``fraction`` ramp: a
linear 0..1 scale for shares such as the storage fill.
"""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Literal

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import (
    Colormap,
    LinearSegmentedColormap,
    LogNorm,
    Normalize,
    SymLogNorm,
    to_hex,
)

from gridcarbon.core.errors import OutputError

Kind = Literal["sequential", "diverging", "fraction"]

#: Decades shown below the largest magnitude: hotspot cells 1e5-1e6 t, most low-emission
#: cells below 1e4 t at 10 km (docs/architecture.md, "Calibration"), so 1e2..1e6 t.
DECADES = 4
#: Limits (t CO2/yr/cell) used when a layer holds no non-zero value: the same 1e2..1e6 t.
FALLBACK_LIMITS = (1e2, 1e6)
#: log-spaced items vmin..vmax: half-decade steps over DECADES = 4
SEQUENTIAL_STOPS = 9
#: log-spaced items on each side of zero: one per decade over DECADES = 4
DIVERGING_STOPS = 5
#: matplotlib colour map of emitting layers: perceptually uniform, light for small values
SEQUENTIAL_CMAP = "magma_r"
#: width of the linear part of the diverging scale around zero, in decades (matplotlib
#: ``SymLogNorm(linscale=...)``): each half, 0..+-vmin, takes as much of the ramp as a decade
SYMLOG_LINSCALE = 1.0
#: Green (removals) - white - red (emissions), ColorBrewer PRGn greens and RdBu reds.
DIVERGING_COLOURS = ("#1b7837", "#5aae61", "#a6dba0", "#d9f0d3", "#f7f7f7",
                     "#fddbc7", "#f4a582", "#d6604d", "#b2182b")
#: matplotlib colour map of fractions (0..1): light yellow empty, dark red full
FRACTION_CMAP = "YlOrRd"
#: linear items of the fraction ramp: every 10 %
FRACTION_STOPS = 11
QGIS_VERSION = "3.28.0-Firenze"
QGIS_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"


def colormap(kind: Kind) -> Colormap:
    """The matplotlib colour map of ``kind`` (the same colours the .qml ramps use)."""
    if kind == "sequential":
        return colormaps[SEQUENTIAL_CMAP]
    if kind == "diverging":
        return LinearSegmentedColormap.from_list("gridcarbon_diverging", DIVERGING_COLOURS)
    if kind == "fraction":
        return colormaps[FRACTION_CMAP]
    raise ValueError(f"unknown colour scale kind {kind!r}")


def norm(kind: Kind, vmin: float, vmax: float) -> Normalize:
    """Log (sequential), symmetric-log (diverging, linear within +-vmin) or linear (fraction)
    normalisation.

    ``vmin`` and ``vmax`` are the smallest and largest magnitudes on the log scale
    (t CO2/yr/cell), ``0 < vmin < vmax``; a fraction's scale is ``vmin``..``vmax`` (0..1).
    """
    if kind == "fraction":
        return Normalize(vmin=vmin, vmax=vmax)
    if not 0 < vmin < vmax:
        raise ValueError(f"need 0 < vmin < vmax, got vmin={vmin}, vmax={vmax}")
    if kind == "sequential":
        return LogNorm(vmin=vmin, vmax=vmax)
    return SymLogNorm(linthresh=vmin, linscale=SYMLOG_LINSCALE, vmin=-vmax, vmax=vmax, base=10)


def log_limits(values: np.ndarray, *, decades: int = DECADES) -> tuple[float, float]:
    """(vmin, vmax) magnitudes for a log scale over ``values`` (t CO2/yr/cell, NaN ignored).

    ``vmax`` is the largest magnitude rounded up to a power of ten, ``vmin`` is
    ``decades`` powers of ten below it.
    """
    values = np.asarray(values)
    # the largest magnitude from the extremes, exactly: no float64 |values| copy (a float32 layer
    # of China at 1 km: two 214 MB arrays and 0.5-0.9 s, against 0.01 s)
    top = float(max(np.nanmax(values, initial=0.0), -np.nanmin(values, initial=0.0)))
    if not np.isfinite(top) or top <= 0:
        return FALLBACK_LIMITS
    vmax = 10.0 ** math.ceil(math.log10(top))
    return vmax / 10.0 ** decades, vmax


def _ramp_stops(kind: Kind, vmin: float, vmax: float) -> list[tuple[float, str, int]]:
    """Ramp items (value t CO2/yr/cell, hex colour, alpha 0-255), increasing values.

    Sequential: a transparent item at 0 then log-spaced items from ``vmin`` to ``vmax``.
    Diverging: log-spaced items from ``-vmax`` to ``-vmin``, white 0, mirrored positives.
    Fraction: :data:`FRACTION_STOPS` evenly spaced items from ``vmin`` to ``vmax``.
    """
    scale, cmap = norm(kind, vmin, vmax), colormap(kind)
    if kind == "fraction":
        values = list(np.linspace(vmin, vmax, FRACTION_STOPS))
        alphas = [255] * FRACTION_STOPS
    elif kind == "sequential":
        values = [0.0, *np.logspace(math.log10(vmin), math.log10(vmax), SEQUENTIAL_STOPS)]
        alphas = [0] + [255] * SEQUENTIAL_STOPS
    else:
        side = np.logspace(math.log10(vmin), math.log10(vmax), DIVERGING_STOPS)
        values = [*(-side[::-1]), 0.0, *side]
        alphas = [255] * len(values)
    positions = np.clip(np.ma.filled(scale(np.array(values)), 0.0), 0.0, 1.0)  # log(0): bottom
    return [(float(v), to_hex(cmap(p)), a) for v, p, a in zip(values, positions, alphas)]


def percent_label(value: float) -> str:
    """Legend label of a fraction (0..1): 0.3 -> '30 %'."""
    return f"{100 * value:.0f} %"


def tonnes_label(value: float) -> str:
    """Short legend label for ``value`` (t CO2/yr/cell): 0 -> '0 t', 10000 -> '1e4 t', -31622.8 -> '-3.2e4 t'."""
    if value == 0:
        return "0 t"
    mantissa, exponent = f"{abs(value):.1e}".split("e")
    mantissa = mantissa.removesuffix(".0")
    return f"{'-' if value < 0 else ''}{mantissa}e{int(exponent)} t"


#: how a zoomed-out view reads (:mod:`gridcarbon.output.overviews`), kept in every style
OVERVIEW_NOTE = "overviews hold sums: a zoomed-out pixel shows the t CO2/yr of all the cells it covers"


def write_qml(path: str | Path, *, kind: Kind, vmin: float, vmax: float, label: str) -> Path:
    """Write a QGIS 3 singleband-pseudocolor style for band 1 of a t CO2/yr/cell raster (or of
    a 0..1 fraction, ``kind="fraction"``).

    The renderer's other elements (brightness, hue, resampling, min/max origin) carry the
    values QGIS writes for a new style, so the file reads like one saved from QGIS.

    Save it beside the raster with the same base name (``total.tif`` -> ``total.qml``)
    and QGIS applies it on load. ``vmin``/``vmax`` are the log-scale magnitudes (see
    :func:`norm`); ``label`` describes the layer and is kept as a custom property.
    """
    fraction = kind == "fraction"
    renderer = _renderer(_ramp_stops(kind, vmin, vmax), percent_label if fraction else tonnes_label)
    return _write_style(Path(path), renderer, label, overviews=None if fraction else OVERVIEW_NOTE)


def write_class_qml(path: str | Path, classes: list[tuple[int, str, str]], *, label: str) -> Path:
    """Write a QGIS 3 paletted (unique values) style for band 1 of a categorical raster.

    ``classes`` are (value, hex colour, legend label); QGIS applies the file on load when it
    sits beside the raster with the same base name. ``label`` is kept as a custom property.
    """
    renderer = ET.Element("rasterrenderer", type="paletted", band="1", opacity="1", alphaBand="-1",
                          nodataColor="")
    ET.SubElement(renderer, "rasterTransparency")
    _min_max_origin(renderer)
    palette = ET.SubElement(renderer, "colorPalette")
    for value, colour, name in classes:
        ET.SubElement(palette, "paletteEntry", value=str(value), color=colour, alpha="255", label=name)
    return _write_style(Path(path), renderer, label)


def _write_style(path: Path, renderer: ET.Element, label: str, *, overviews: str | None = None) -> Path:
    """The .qml document around ``renderer`` (with ``label`` and, for a layer of tonnes, the
    ``overviews`` note as custom properties), written to ``path``."""
    root = ET.Element("qgis", version=QGIS_VERSION, styleCategories="AllStyleCategories",
                      hasScaleBasedVisibilityFlag="0", minScale="1e+08", maxScale="0")
    props = ET.SubElement(ET.SubElement(root, "customproperties"), "Option", type="Map")
    ET.SubElement(props, "Option", type="QString", name="gridcarbon/label", value=label)
    if overviews is not None:
        ET.SubElement(props, "Option", type="QString", name="gridcarbon/overviews", value=overviews)
    ET.SubElement(props, "Option", type="QString", name="identify/format", value="Value")
    pipe = ET.SubElement(root, "pipe")
    pipe.append(renderer)
    ET.SubElement(pipe, "brightnesscontrast", gamma="1", brightness="0", contrast="0")
    ET.SubElement(pipe, "huesaturation", colorizeBlue="128", grayscaleMode="0", invertColors="0",
                  colorizeRed="255", colorizeGreen="128", colorizeStrength="100", saturation="0",
                  colorizeOn="0")
    ET.SubElement(pipe, "rasterresampler", maxOversampling="2")
    ET.SubElement(pipe, "resamplingStage").text = "resamplingFilter"
    ET.SubElement(root, "blendMode").text = "0"
    ET.indent(root)
    text = f"{QGIS_DOCTYPE}\n{ET.tostring(root, encoding='unicode')}\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc}") from exc
    return path


def _renderer(stops: list[tuple[float, str, int]], label) -> ET.Element:
    """``<rasterrenderer type="singlebandpseudocolor">`` with an interpolated ramp of ``stops``,
    legend items named by ``label`` (value -> text)."""
    lo, hi = f"{stops[0][0]:.10g}", f"{stops[-1][0]:.10g}"
    renderer = ET.Element("rasterrenderer", type="singlebandpseudocolor", band="1",
                          opacity="1", alphaBand="-1", nodataColor="",
                          classificationMin=lo, classificationMax=hi)
    ET.SubElement(renderer, "rasterTransparency")
    _min_max_origin(renderer)
    shader = ET.SubElement(ET.SubElement(renderer, "rastershader"), "colorrampshader",
                           colorRampType="INTERPOLATED", classificationMode="1", clip="0",
                           minimumValue=lo, maximumValue=hi, labelPrecision="0")
    shader.append(_gradient([colour for _, colour, _ in stops]))
    for value, colour, alpha in stops:
        ET.SubElement(shader, "item", alpha=str(alpha), value=f"{value:.10g}", color=colour,
                      label=label(value))
    return renderer


def _min_max_origin(renderer: ET.Element) -> None:
    """The ``<minMaxOrigin>`` QGIS writes for a new raster style (fixed limits from the file)."""
    origin = ET.SubElement(renderer, "minMaxOrigin")
    for tag, text in (("limits", "None"), ("extent", "WholeRaster"), ("statAccuracy", "Estimated"),
                      ("cumulativeCutLower", "0.02"), ("cumulativeCutUpper", "0.98"),
                      ("stdDevFactor", "2")):
        ET.SubElement(origin, tag).text = text


def _gradient(colours: list[str]) -> ET.Element:
    """QGIS gradient colour ramp through ``colours`` at even positions (the ramp editor's view)."""
    def rgba(hex_colour: str) -> str:
        return ",".join(str(int(hex_colour[i:i + 2], 16)) for i in (1, 3, 5)) + ",255"

    last = len(colours) - 1
    inner = ":".join(f"{i / last:.6g};{rgba(c)}" for i, c in enumerate(colours[1:-1], 1))
    ramp = ET.Element("colorramp", type="gradient", name="[source]")
    options = ET.SubElement(ramp, "Option", type="Map")
    for name, value in (("color1", rgba(colours[0])), ("color2", rgba(colours[-1])),
                        ("discrete", "0"), ("rampType", "gradient"), ("stops", inner)):
        ET.SubElement(options, "Option", type="QString", name=name, value=value)
    return ramp
