"""PNG maps of t CO2/yr/cell layers: log colour scale, region outlines, colour bar, scale bar.

Figures are drawn with matplotlib's Agg canvas (no screen, no pyplot state) at a fixed size
and dpi without a Software stamp, so the same layer always gives the same PNG bytes. Colour
scales come from :mod:`gridcarbon.styles`, so maps and QGIS styles agree.

The layout is computed here, not by matplotlib's constrained layout: each map's axes take the
grid's aspect ratio inside a fixed box and the colour bar sits beside them. Constrained layout
measured every tick label of every panel twice and took about a third of a year's drawing; a
layer is drawn as one RGBA image (inside-but-empty cells grey) instead of two stacked images.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Colormap, Normalize, SymLogNorm, to_rgba
from matplotlib.path import Path as MplPath
from matplotlib.ticker import FuncFormatter

from gridcarbon.core.blocks import inside_block_sums
from gridcarbon.core.errors import OutputError
from gridcarbon.core.grid import Grid
from gridcarbon.core.options import get_option
from gridcarbon.core.units import UNITS
from gridcarbon.output.canvas import figure
from gridcarbon.output.styles import Kind, colormap, log_limits, norm

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 100
MAP_SIZE_IN = (7.0, 6.0)  # single map, width x height (inches)
PANEL_CELL_IN = (3.2, 3.0)  # one small multiple
#: figure margins (inches): the caption below, the title above, the colour bar with its tick
#: labels and units to the right of the maps
CAPTION_IN, TITLE_IN, COLORBAR_IN = 0.3, 0.45, 1.2
#: inner margin of a map box (inches) and the room of a small multiple's title above it
PAD_IN, PANEL_TITLE_IN = 0.08, 0.25
#: colour bar width (inches), its gap to the maps (inches) and its height as a share of theirs
BAR_WIDTH_IN, BAR_GAP_IN, BAR_SHRINK = 0.2, 0.25, 0.8
#: the minus sign and the superscript digits of :func:`power_label` (Unicode; DejaVu Sans, matplotlib's font, has them)
MINUS = "\N{MINUS SIGN}"
SUPERSCRIPTS = str.maketrans("-0123456789", "\N{SUPERSCRIPT MINUS}\N{SUPERSCRIPT ZERO}\N{SUPERSCRIPT ONE}"
                             "\N{SUPERSCRIPT TWO}\N{SUPERSCRIPT THREE}\N{SUPERSCRIPT FOUR}\N{SUPERSCRIPT FIVE}"
                             "\N{SUPERSCRIPT SIX}\N{SUPERSCRIPT SEVEN}\N{SUPERSCRIPT EIGHT}\N{SUPERSCRIPT NINE}")
INSIDE_COLOUR = "#f0f0f0"  # cells inside a region with no emission
BOUNDARY_STYLE = {"edgecolor": "#333333", "linewidth": 0.6}


def render_map(path: str | Path, values: np.ndarray, grid: Grid, *, outlines: MplPath | None, title: str,
               kind: Kind = "sequential", units: str = UNITS) -> Path:
    """One layer (y, x) of t CO2/yr/cell on a log (sequential) or symlog (diverging) scale, with
    the region ``outlines`` of :func:`outline_path` (None: none)."""
    fig = figure(figsize=MAP_SIZE_IN, dpi=DPI)
    width, height = MAP_SIZE_IN
    ax = _map_axes(fig, (0.0, CAPTION_IN, width - COLORBAR_IN, height - CAPTION_IN - TITLE_IN), grid)
    scale, cmap = _scale(kind, _top(values)), colormap(kind)
    _draw(ax, values, grid, scale=scale, cmap=cmap, outlines=outlines)
    _add_scale_bar(ax, grid)
    ax.set_title(title)
    _colorbar(fig, [ax], scale, cmap, units=units)
    return _save(fig, path, grid)


def render_change(path: str | Path, before: np.ndarray, after: np.ndarray, grid: Grid, *,
                  outlines: MplPath | None, title: str, units: str = UNITS) -> Path:
    """Diverging map of ``after - before`` (t CO2/yr/cell): red increase, green decrease."""
    change = np.asarray(after, dtype=np.float64) - np.asarray(before, dtype=np.float64)
    return render_map(path, change, grid, outlines=outlines, title=title, kind="diverging", units=units)


def render_panel(path: str | Path, layers: dict[str, np.ndarray], grid: Grid, *,
                 outlines: MplPath | None, title: str, units: str = UNITS) -> Path:
    """Small multiples of named (y, x) layers on one shared scale and colour bar.

    The scale is diverging when any layer holds a negative value (sinks), else sequential.
    Each layer is read twice, for the scale and to draw it (``layers`` may make a layer when
    asked for it: :class:`~gridcarbon.core.cells.FullLayers`).
    """
    if not layers:
        raise ValueError("render_panel needs at least one layer")
    lows, tops = zip(*((np.nanmin(v, initial=0.0), _top(v)) for v in layers.values()))
    kind: Kind = "diverging" if min(lows) < 0 else "sequential"
    scale, cmap = _scale(kind, max(tops)), colormap(kind)
    ncols = math.ceil(math.sqrt(len(layers)))
    nrows = math.ceil(len(layers) / ncols)
    (cell_w, cell_h), top = PANEL_CELL_IN, CAPTION_IN + PANEL_CELL_IN[1] * nrows
    fig = figure(figsize=(cell_w * ncols + COLORBAR_IN, top + TITLE_IN), dpi=DPI)
    axes = []
    for i, (name, values) in enumerate(layers.items()):
        row, col = divmod(i, ncols)
        ax = _map_axes(fig, (col * cell_w, top - (row + 1) * cell_h, cell_w, cell_h - PANEL_TITLE_IN), grid)
        _draw(ax, values, grid, scale=scale, cmap=cmap, outlines=outlines)
        ax.set_title(name, fontsize=9)
        axes.append(ax)
    _add_scale_bar(axes[0], grid)
    fig.suptitle(title, y=1.0 - 0.1 / (top + TITLE_IN), va="top")
    _colorbar(fig, axes, scale, cmap, units=units)
    return _save(fig, path, grid)


def _map_axes(fig: Figure, box: tuple[float, float, float, float], grid: Grid) -> Axes:
    """Axes of the grid's aspect ratio, as large as fits centred in ``box`` (left, bottom,
    width, height; inches from the figure's lower left) less :data:`PAD_IN` all round."""
    left, bottom, width, height = box
    width, height = width - 2 * PAD_IN, height - 2 * PAD_IN
    xmin, ymin, xmax, ymax = grid.bounds
    aspect = (ymax - ymin) / (xmax - xmin)
    w, h = min(width, height / aspect), min(height, width * aspect)
    fig_w, fig_h = fig.get_size_inches()
    ax = fig.add_axes(((left + PAD_IN + (width - w) / 2) / fig_w, (bottom + PAD_IN + (height - h) / 2) / fig_h,
                       w / fig_w, h / fig_h))
    ax.xaxis.set_visible(False)
    ax.yaxis.set_visible(False)
    return ax


def _scale(kind: Kind, top: float) -> Normalize:
    """Log or symlog normalisation spanning the magnitude ``top`` (t CO2/yr/cell)."""
    return norm(kind, *log_limits(np.array([top])))


def _top(values: np.ndarray) -> float:
    """Largest magnitude of ``values`` (NaN ignored), 0 for none."""
    return np.nanmax(np.abs(values), initial=0.0)


def outline_path(boundaries: gpd.GeoDataFrame | None, grid: Grid) -> MplPath | None:
    """Region outlines in the grid CRS, simplified to a fifth of a cell, as one compound path
    (None without boundaries): what the maps draw. Made once for all the maps of a run (China at
    10 km: 60 ms each)."""
    if boundaries is None:
        return None
    lines = shapely.simplify(boundaries.to_crs(grid.crs).boundary.values, grid.res / 5)
    runs = [shapely.get_coordinates(p) for p in shapely.get_parts(shapely.get_parts(lines))]
    runs = [r for r in runs if len(r) > 1]
    if not runs:
        return None
    codes = np.full(sum(len(r) for r in runs), MplPath.LINETO, MplPath.code_type)
    codes[np.cumsum([0] + [len(r) for r in runs[:-1]])] = MplPath.MOVETO
    return MplPath(np.concatenate(runs), codes)


def _draw(ax: Axes, values: np.ndarray, grid: Grid, *, scale: Normalize, cmap: Colormap,
          outlines: MplPath | None) -> None:
    """Draw the layer as one RGBA image: its colour where it has one on the scale, light grey
    inside the regions elsewhere (zero on a log scale, NaN), transparent outside; then outlines."""
    from matplotlib.patches import PathPatch

    xmin, ymin, xmax, ymax = grid.bounds
    values, inside = _display(np.asarray(values), grid.inside)
    scaled = scale(np.ma.masked_invalid(np.ma.masked_where(~inside, values)))
    rgba = cmap(scaled, bytes=True)
    blank = np.ma.getmaskarray(scaled)
    rgba[blank] = 0
    rgba[blank & inside] = np.round(np.asarray(to_rgba(INSIDE_COLOUR)) * 255).astype(np.uint8)
    ax.imshow(rgba, extent=(xmin, xmax, ymin, ymax), interpolation="nearest")
    if outlines is not None:
        ax.add_artist(PathPatch(outlines, fill=False, **BOUNDARY_STYLE))  # add_patch: slow limits update
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)


def _display(values: np.ndarray, inside: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Layer and inside mask reduced to at most ``max_display_cells`` (an engine option) a side for drawing.

    A map is ~700 pixels wide: a 1 km national layer (5530 x 4840) is shown as the mean
    t CO2/yr per original cell over k x k blocks of inside cells (smaller grids as they are).
    """
    k = math.ceil(max(values.shape) / get_option("max_display_cells"))
    if k <= 1:
        return values, inside
    total, count = inside_block_sums(values, inside, k, np.result_type(values.dtype, 0.0))  # as np.where's
    return total / np.maximum(count, 1), count > 0


def _colorbar(fig: Figure, axes: list[Axes], scale: Normalize, cmap: Colormap, *, units: str) -> None:
    """Colour bar of ``scale`` labelled with ``units`` beside ``axes``, :data:`BAR_SHRINK` of their
    height; a symlog bar gets 0 and every other decade as ticks."""
    boxes = np.array([ax.get_position().extents for ax in axes])  # x0, y0, x1, y1 (figure fractions)
    fig_w, _ = fig.get_size_inches()
    bottom, top = boxes[:, 1].min(), boxes[:, 3].max()
    height = (top - bottom) * BAR_SHRINK
    cax = fig.add_axes((boxes[:, 2].max() + BAR_GAP_IN / fig_w, bottom + (top - bottom - height) / 2,
                        BAR_WIDTH_IN / fig_w, height))
    bar = fig.colorbar(ScalarMappable(norm=scale, cmap=cmap), cax=cax, label=units)
    bar.minorticks_off()
    bar.formatter = FuncFormatter(power_label)
    if isinstance(scale, SymLogNorm):
        decades = np.log10(scale.vmax) - np.arange(0, np.log10(scale.vmax / scale.linthresh) + 1, 2)
        bar.set_ticks(np.concatenate([-(10.0 ** decades), [0.0], 10.0 ** decades[::-1]]))


def power_label(value: float, _position: int | None = None) -> str:
    """A colour bar tick (t CO2/yr/cell) as plain text: '0', '10³', '−10⁻²' for a power of ten, else
    ``format(value, 'g')``. matplotlib's default label of a log scale is typeset by mathtext, which
    parsed each label anew: about a third of a year's map drawing."""
    if value == 0:
        return "0"
    exponent = round(math.log10(abs(value)))
    if not math.isclose(abs(value), 10.0**exponent, rel_tol=1e-9):
        return format(value, "g")
    sign = MINUS if value < 0 else ""
    return f"{sign}10{str(exponent).translate(SUPERSCRIPTS)}"


def _add_scale_bar(ax: Axes, grid: Grid) -> None:
    """A scale bar of a round length (1, 2 or 5 x 10^k km) near a fifth of the map width."""
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    width_km = (grid.bounds[2] - grid.bounds[0]) / 1000 / 5
    power = 10 ** math.floor(math.log10(width_km))
    length_km = max(m * power for m in (1, 2, 5) if m * power <= width_km)
    bar = AnchoredSizeBar(ax.transData, length_km * 1000, f"{length_km:g} km", loc="lower left",
                          frameon=True, size_vertical=0, pad=0.3, fontproperties={"size": 8})
    bar.patch.set(alpha=0.7, edgecolor="none")
    ax.add_artist(bar)


def _caption(grid: Grid) -> str:
    """'CRS: <name> | cell <res> km' for the figure foot."""
    crs = grid.crs
    name = crs.name
    if name == "unknown" and crs.coordinate_operation is not None:
        name = f"{crs.coordinate_operation.method_name}, {crs.datum.name}"
    return f"CRS: {name} | cell {grid.res / 1000:g} km x {grid.res / 1000:g} km"


def _save(fig: Figure, path: str | Path, grid: Grid) -> Path:
    """Add the caption and write ``fig`` as a PNG without a Software (version) stamp."""
    path = Path(path)
    fig.text(0.01, 0.01, _caption(grid), ha="left", va="bottom", fontsize=7, color="#555555")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc}") from exc
    return path
