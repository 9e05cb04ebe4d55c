"""PNG maps of t CO2/yr/cell layers: log colour scale, region outlines, colour bar, scale bar.

Figures are drawn with matplotlib's Agg canvas (no screen, no pyplot state) at a fixed size
and dpi without a Software stamp, so the same layer always gives the same PNG bytes. Colour
scales come from :mod:`gridcarbon.styles`, so maps and QGIS styles agree.
"""
from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import Colormap, ListedColormap, Normalize, SymLogNorm
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

from gridcarbon.core.errors import OutputError
from gridcarbon.core.grid import Grid
from gridcarbon.core.options import get_option
from gridcarbon.core.units import UNITS
from gridcarbon.output.styles import Kind, colormap, log_limits, norm

DPI = 100
MAP_SIZE_IN = (7.0, 6.0)  # single map, width x height (inches)
PANEL_CELL_IN = (3.2, 3.0)  # one small multiple
INSIDE_COLOUR = "#f0f0f0"  # cells inside a region with no emission
BOUNDARY_STYLE = {"colors": "#333333", "linewidths": 0.6}


def render_map(path: str | Path, values: np.ndarray, grid: Grid, *,
               boundaries: gpd.GeoDataFrame | None, title: str, kind: Kind = "sequential",
               units: str = UNITS) -> Path:
    """One layer (y, x) of t CO2/yr/cell on a log (sequential) or symlog (diverging) scale."""
    fig = Figure(figsize=MAP_SIZE_IN, dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    scale = _scale(kind, [values])
    image = _draw(ax, values, grid, scale=scale, cmap=colormap(kind),
                  outlines=_outlines(boundaries, grid))
    _add_scale_bar(ax, grid)
    ax.set_title(title)
    _colorbar(fig, image, ax, units=units)
    return _save(fig, path, grid)


def render_change(path: str | Path, before: np.ndarray, after: np.ndarray, grid: Grid, *,
                  boundaries: gpd.GeoDataFrame | None, title: str, units: str = UNITS) -> Path:
    """Diverging map of ``after - before`` (t CO2/yr/cell): red increase, green decrease."""
    change = np.asarray(after, dtype=np.float64) - np.asarray(before, dtype=np.float64)
    return render_map(path, change, grid, boundaries=boundaries, title=title, kind="diverging",
                      units=units)


def render_panel(path: str | Path, layers: dict[str, np.ndarray], grid: Grid, *,
                 boundaries: gpd.GeoDataFrame | None, title: str, units: str = UNITS) -> Path:
    """Small multiples of named (y, x) layers on one shared scale and colour bar.

    The scale is diverging when any layer holds a negative value (sinks), else sequential.
    """
    if not layers:
        raise ValueError("render_panel needs at least one layer")
    negative = any(np.nanmin(v, initial=0.0) < 0 for v in layers.values())
    kind: Kind = "diverging" if negative else "sequential"
    scale, cmap = _scale(kind, list(layers.values())), colormap(kind)
    ncols = math.ceil(math.sqrt(len(layers)))
    nrows = math.ceil(len(layers) / ncols)
    fig = Figure(figsize=(PANEL_CELL_IN[0] * ncols, PANEL_CELL_IN[1] * nrows + 0.6), dpi=DPI,
                 layout="compressed")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    outlines = _outlines(boundaries, grid)
    for ax, (name, values) in zip(axes, layers.items()):
        image = _draw(ax, values, grid, scale=scale, cmap=cmap, outlines=outlines)
        ax.set_title(name, fontsize=9)
    for ax in axes[len(layers):]:
        ax.set_axis_off()
    _add_scale_bar(axes[0], grid)
    fig.suptitle(title)
    _colorbar(fig, image, list(axes), units=units)
    return _save(fig, path, grid)


def _scale(kind: Kind, layers: list[np.ndarray]) -> Normalize:
    """Log or symlog normalisation spanning the largest magnitude of all ``layers``."""
    top = max(np.nanmax(np.abs(v), initial=0.0) for v in layers)
    return norm(kind, *log_limits(np.array([top])))


def _outlines(boundaries: gpd.GeoDataFrame | None, grid: Grid) -> list[np.ndarray] | None:
    """Region outline vertex runs in the grid CRS, simplified to a fifth of a cell."""
    if boundaries is None:
        return None
    lines = shapely.simplify(boundaries.to_crs(grid.crs).boundary.values, grid.res / 5)
    return [shapely.get_coordinates(p) for p in shapely.get_parts(shapely.get_parts(lines))]


def _draw(ax: Axes, values: np.ndarray, grid: Grid, *, scale: Normalize, cmap: Colormap,
          outlines: list[np.ndarray] | None) -> AxesImage:
    """Draw inside cells light grey, the layer on top (outside and zero-on-log blank), outlines."""
    xmin, ymin, xmax, ymax = grid.bounds
    extent = (xmin, xmax, ymin, ymax)
    values, inside = _display(np.asarray(values), grid.inside)
    ax.imshow(np.where(inside, 1.0, np.nan), extent=extent,
              cmap=ListedColormap([INSIDE_COLOUR]), interpolation="nearest")
    layer = np.ma.masked_where(~inside | ~np.isfinite(values), values)
    image = ax.imshow(layer, extent=extent, cmap=cmap, norm=scale, interpolation="nearest")
    if outlines is not None:
        ax.add_collection(LineCollection(outlines, **BOUNDARY_STYLE))
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal")
    ax.set(xticks=[], yticks=[], xlabel="", ylabel="")
    return image


def _display(values: np.ndarray, inside: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Layer and inside mask reduced to at most ``max_display_cells`` (an engine option) a side for drawing.

    A map is ~700 pixels wide: a 1 km national layer (5530 x 4840) is shown as the mean
    t CO2/yr per original cell over k x k blocks of inside cells (smaller grids as they are).
    """
    k = math.ceil(max(values.shape) / get_option("max_display_cells"))
    if k <= 1:
        return values, inside
    ny, nx = values.shape
    pad = ((0, -ny % k), (0, -nx % k))
    shape = ((ny + pad[0][1]) // k, k, (nx + pad[1][1]) // k, k)
    count = np.pad(inside, pad).reshape(shape).sum(axis=(1, 3))
    total = np.pad(np.where(inside, values, 0.0), pad).reshape(shape).sum(axis=(1, 3))
    return total / np.maximum(count, 1), count > 0


def _colorbar(fig: Figure, image: AxesImage, axes: Axes | list[Axes], *, units: str) -> None:
    """Colour bar labelled with ``units``; a symlog bar gets 0 and every other decade as ticks."""
    bar = fig.colorbar(image, ax=axes, label=units, shrink=0.8)
    bar.minorticks_off()
    scale = image.norm
    if isinstance(scale, SymLogNorm):
        decades = np.log10(scale.vmax) - np.arange(0, np.log10(scale.vmax / scale.linthresh) + 1, 2)
        bar.set_ticks(np.concatenate([-(10.0 ** decades), [0.0], 10.0 ** decades[::-1]]))


def _add_scale_bar(ax: Axes, grid: Grid) -> None:
    """A scale bar of a round length (1, 2 or 5 x 10^k km) near a fifth of the map width."""
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
    fig.supxlabel(_caption(grid), x=0.01, ha="left", fontsize=7, color="#555555")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc}") from exc
    return path
