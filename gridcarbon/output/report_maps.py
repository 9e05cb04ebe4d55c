"""The maps of ``report.html``: every exported year's layers as palette PNG data URIs.

Each named layer (``total``, ``net``, the sectors) of every exported year, as its COG reads
back (:class:`~gridcarbon.output.layers.WrittenLayers`: from memory during a run, from the
files when a folder's report is rebuilt), is drawn on one colour scale for all years (the scales of
:mod:`gridcarbon.output.styles`, as the .qml styles and PNG maps), so the report's year
slider shows change, not rescaling. Values are t CO2/yr/cell; a grid wider than the
``max_display_cells`` engine option is shown as the mean per original cell over blocks
(as :mod:`gridcarbon.output.maps` does). Region outlines come as one SVG path in pixel
coordinates, drawn over the image by the page.
"""
from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from PIL import Image

from gridcarbon.core.sectors import GRIDDED
from gridcarbon.output.layers import WrittenLayers, layer_style
from gridcarbon.output.maps import INSIDE_COLOUR, _display
from gridcarbon.output.styles import colormap, log_limits, norm, tonnes_label

#: palette index of cells outside every region (transparent) and of inside cells holding
#: nothing on a log scale (light grey, as on the PNG maps); the ramp takes the other 254
NODATA_INDEX, EMPTY_INDEX = 0, 1
RAMP_COLOURS = 254
#: colour stops of a legend's CSS gradient (enough for a smooth bar, few bytes)
LEGEND_STOPS = 16
#: region outlines simplified to this fraction of a displayed pixel (drawn at about 1 px)
OUTLINE_TOLERANCE_PX = 0.5
#: outline pieces shorter than this many display pixels (islets, slivers) are left out
OUTLINE_MIN_PX = 2.0
#: zlib level of the maps' PNGs: zlib's default. Level 9 with Pillow's ``optimize`` made the
#: 52 images of ``china-enhanced`` at 10 km (553 x 484 px) 5.6 % smaller (1.36 MB of data URIs
#: against 1.44) and took twice the CPU: :func:`build_maps` 1.65 s against 0.88 s
PNG_COMPRESS_LEVEL = 6


@dataclass(frozen=True)
class MapSet:
    """The report's maps: ``images[layer][year]`` (PNG data URI), one legend per layer,
    image size in pixels and the outline path (SVG ``d``, pixel coordinates)."""

    years: list[int]
    layers: list[str]
    labels: dict[str, str]
    images: dict[str, dict[int, str]]
    legends: dict[str, dict]
    width: int
    height: int
    outlines: str


def build_maps(root: Path, boundaries: gpd.GeoDataFrame | None, layers: WrittenLayers | None = None) -> MapSet:
    """Draw every exported year's layers of the run folder ``root`` (see the module docstring;
    ``layers``: where they come from, default the folder's COGs)."""
    layers = WrittenLayers(root) if layers is None else layers
    years = layers.years()
    names = ["total", "net", *GRIDDED]
    images, legends, labels = {}, {}, {}
    for name in names:
        shown = {y: _shown(layers(y, name)) for y in years}
        kind, labels[name] = layer_style(name)
        top = max(np.nanmax(np.abs(v), initial=0.0) for v in shown.values())
        vmin, vmax = log_limits(np.array([top]))
        images[name] = {y: _png(v, kind, vmin, vmax) for y, v in shown.items()}
        legends[name] = _legend(kind, vmin, vmax)
    with rasterio.open(root / str(years[0]) / "total.tif") as src:
        transform, crs, full = src.transform, src.crs, src.shape
    height, width = next(iter(shown.values())).shape
    k = full[1] / width
    return MapSet(years, names, labels, images, legends, width, height,
                  _outline_path(boundaries, crs, transform, k))


def _shown(values: np.ndarray) -> np.ndarray:
    """A layer as read back (t CO2/yr/cell, NaN outside every region) reduced for display, NaN outside."""
    inside = np.isfinite(values)
    shown, shown_inside = _display(values, inside)  # which reads the cells inside alone
    return np.where(shown_inside, shown, np.nan)


def _palette(kind: str) -> list[int]:
    """Flat RGB palette: transparent nodata, the empty-cell grey, then the ``kind`` ramp."""
    cmap = colormap(kind)
    grey = [int(INSIDE_COLOUR[i:i + 2], 16) for i in (1, 3, 5)]
    ramp = (cmap(np.linspace(0, 1, RAMP_COLOURS))[:, :3] * 255).round().astype(int)
    return [0, 0, 0, *grey, *ramp.ravel().tolist()]


def _png(values: np.ndarray, kind: str, vmin: float, vmax: float) -> str:
    """(y, x) t CO2/yr/cell as an 8-bit palette PNG data URI (index 0 transparent)."""
    position = np.ma.filled(norm(kind, vmin, vmax)(np.nan_to_num(values)), np.nan)
    index = 2 + np.clip(np.round(np.nan_to_num(position) * (RAMP_COLOURS - 1)), 0, RAMP_COLOURS - 1)
    index = np.where(np.isfinite(position), index, EMPTY_INDEX)
    index = np.where(np.isnan(values), NODATA_INDEX, index).astype(np.uint8)
    image = Image.fromarray(index, mode="P")
    image.putpalette(_palette(kind))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL, transparency=NODATA_INDEX)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _legend(kind: str, vmin: float, vmax: float) -> dict:
    """CSS gradient of the ramp and decade ticks as (position 0..1, label)."""
    cmap, scale = colormap(kind), norm(kind, vmin, vmax)
    stops = ", ".join(f"rgb({','.join(str(round(c * 255)) for c in cmap(p)[:3])}) {p * 100:.0f}%"
                      for p in np.linspace(0, 1, LEGEND_STOPS))
    decades = 10.0 ** np.arange(math.log10(vmin), math.log10(vmax) + 0.5)
    ticks = decades if kind == "sequential" else np.concatenate([-decades[::-1], [0.0], decades])
    positions = np.clip(np.ma.filled(scale(ticks), 0.0), 0, 1)
    return {"gradient": f"linear-gradient(to right, {stops})",
            "ticks": [[round(float(p), 4), tonnes_label(float(t))] for p, t in zip(positions, ticks)]}


def _outline_path(boundaries: gpd.GeoDataFrame | None, crs, transform, k: float) -> str:
    """Region outlines as an SVG path in display pixels (``k`` grid cells per pixel)."""
    if boundaries is None or boundaries.empty:
        return ""
    pixel = abs(transform.a) * k
    lines = shapely.simplify(boundaries.to_crs(crs.to_wkt()).boundary.values, pixel * OUTLINE_TOLERANCE_PX)
    runs = []
    for part in shapely.get_parts(shapely.get_parts(lines)):
        if shapely.length(part) < OUTLINE_MIN_PX * pixel:
            continue
        xy = shapely.get_coordinates(part)
        col = (xy[:, 0] - transform.c) / transform.a / k
        row = (xy[:, 1] - transform.f) / transform.e / k
        runs.append("M" + " L".join(f"{c:.1f} {r:.1f}" for c, r in zip(col, row)))
    return "".join(runs)
