"""A year's layers by name, and the one styled-COG writer: a COG with its same-name QGIS style.

Every GeoTIFF the package writes (run years, baselines, ensembles, comparisons) goes
through :func:`write_styled_cog`, so each file carries its band description and tags and
opens in QGIS with a log-scaled ramp fitted to its values.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gridcarbon.core.cells import CellIndex
from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import GRIDDED, SECTORS
from gridcarbon.core.units import UNITS
from gridcarbon.output import export, styles
from gridcarbon.output.overviews import OVERVIEW_RESAMPLING

#: file name of the storage fill layer in an exported year's folder
STORAGE_FILL = "storage_fill.tif"
#: units of the storage fill layer: cumulative injection over the capacity of the cell's site
FILL_UNITS = "fraction of site capacity (0..1)"
#: scale of a fraction layer's style
FRACTION_LIMITS = (0.0, 1.0)


def named_layers(layers: np.ndarray) -> dict[str, np.ndarray]:
    """A year's (n_gridded, y, x) layers (t CO2/yr/cell) by name, plus ``total`` (gross) and ``net``."""
    named = {s: layers[i] for i, s in enumerate(GRIDDED)}
    named["total"] = _layer_sum(layers, [i for i, s in enumerate(GRIDDED) if not SECTORS[s].removal])
    named["net"] = _layer_sum(layers, range(len(GRIDDED)))
    return named


def _layer_sum(layers: np.ndarray, which) -> np.ndarray:
    """float64 sum of some of the (n, y, x) ``layers``, in order, without copying them
    (what ``layers[which].sum(axis=0, dtype=float64)`` gives, without 1 GB of copies at 1 km)."""
    out = np.zeros(layers.shape[1:])
    for i in which:
        out += layers[i]
    return out


def exported_years(root: Path) -> list[int]:
    """Years with a ``<year>/total.tif`` in the run folder ``root``, ascending."""
    return sorted(int(p.parent.name) for p in root.glob("*/total.tif") if p.parent.name.isdigit())


#: hidden folder of a large grid's run folder (while it is written) holding the exported years'
#: layers compact, for the provenance and the report to read back (:class:`WrittenLayers`)
SPILLED = ".layers"


def spill_layers(folder: Path, year: int, named: dict[str, np.ndarray], index: CellIndex) -> None:
    """Keep ``year``'s named layers (y, x or compact on ``index``, t CO2/yr/cell) in ``folder``
    as the COGs store them inside the regions: compact float32, one ``.npy`` file each."""
    folder.mkdir(exist_ok=True)
    for name, values in named.items():
        np.save(folder / f"{year}-{name}.npy", index.compacted(values).astype(np.float32, copy=False))


class WrittenLayers:
    """The named layers of a run folder's exported years as their COGs read back: float64
    t CO2/yr/cell of the float32 files, NaN outside every region.

    Years in ``kept`` ({year: named layers}, as given to :func:`write_layers`) come from
    memory, exactly as the files would give them (:func:`~.export.stored`,
    :func:`~.export.as_read`); years in ``spilled`` (a folder of :func:`spill_layers`: a large
    grid's writer keeps nothing in memory) from its files, as exactly and without decoding a COG
    (China at 1 km: 14 s of the provenance); other years are read from
    ``root/<year>/<name>.tif`` (a folder rebuilt later).
    """

    def __init__(self, root: Path, grid: Grid | None = None, kept: dict[int, dict[str, np.ndarray]] | None = None,
                 spilled: Path | None = None):
        self.root, self.grid, self.kept, self.spilled = Path(root), grid, kept or {}, spilled

    def years(self) -> list[int]:
        """The exported years, ascending."""
        return sorted(self.kept) if self.kept else exported_years(self.root)

    def __call__(self, year: int, name: str) -> np.ndarray:
        if year in self.kept:
            return export.as_read(export.stored(self.kept[year][name], self.grid.inside))
        if self._spilled(year, name) is not None:
            return self.grid.cell_index.expand(self.cells(year, name, self.grid.cell_index), fill=np.nan)
        return export.read_raster_band(self.root / str(year) / f"{name}.tif")[0]

    def cells(self, year: int, name: str, index: CellIndex) -> np.ndarray:
        """The layer at the cells of ``index`` (the grid's :attr:`~Grid.cell_index`) alone: the
        compact values of ``self(year, name)``, without its float64 rectangle."""
        if year in self.kept:
            return export.as_read(index.compact(self.kept[year][name]).astype(np.float32))
        if (path := self._spilled(year, name)) is not None:
            return export.as_read(np.load(path))
        return export.read_raster_cells(self.root / str(year) / f"{name}.tif", index)

    def _spilled(self, year: int, name: str) -> Path | None:
        """The file :func:`spill_layers` wrote for the layer, if any."""
        path = None if self.spilled is None else self.spilled / f"{year}-{name}.npy"
        return path if path is not None and path.exists() else None


def layer_style(name: str) -> tuple[styles.Kind, str]:
    """Ramp kind and label of a named layer: a sector id, ``total`` or ``net``."""
    diverging = name == "net" or (name in SECTORS and SECTORS[name].removal)
    label = SECTORS[name].label if name in SECTORS else ("Gross emissions" if name == "total" else "Net emissions")
    return ("diverging" if diverging else "sequential"), label


def write_styled_cog(path: Path, values: np.ndarray, grid: Grid, *, kind: styles.Kind, label: str,
                     description: str, tags: dict[str, object], units: str = UNITS) -> Path:
    """``path`` (.tif) as a COG of ``values`` (y, x, ``units``: t CO2/yr/cell unless given) and the
    same-name ``.qml`` with a ``kind`` ramp between the layer's log limits (0..1 for a fraction;
    its overviews average, those of tonnes sum)."""
    export.write_cog(path, values, grid, description=description, tags=tags, units=units,
                     overviews="average" if kind == "fraction" else OVERVIEW_RESAMPLING)
    vmin, vmax = FRACTION_LIMITS if kind == "fraction" else styles.log_limits(values)
    styles.write_qml(path.with_suffix(".qml"), kind=kind, vmin=vmin, vmax=vmax, label=label)
    return path


def write_layers(root: Path, named: dict[str, np.ndarray], grid: Grid, *, year: int, meta: dict) -> None:
    """Styled COG of every named layer of ``year`` into ``root`` (``meta``: tags of every file)."""
    for name, values in named.items():
        kind, label = layer_style(name)
        write_styled_cog(root / f"{name}.tif", values, grid, kind=kind, label=label,
                         description=f"{label} {year}, t CO2/yr/cell", tags={"sector": name, "year": year, **meta})


def storage_fill(storage: pd.DataFrame, sites: pd.DataFrame, grid: Grid, year: int) -> np.ndarray:
    """(y, x) fill of each storage cell's site at the end of ``year``: cumulative injection over
    site capacity (0..1, ``storage.csv``'s ``fill``); :data:`~.export.NODATA` where no site."""
    fill = storage[storage.year == year].set_index("site").fill
    out = np.full(grid.shape[0] * grid.shape[1], export.NODATA)
    out[sites.cell.to_numpy()] = fill.reindex(sites.site.to_numpy()).to_numpy()
    return out.reshape(grid.shape)


def write_storage_fill(root: Path, storage: pd.DataFrame, sites: pd.DataFrame, grid: Grid, *, year: int,
                       meta: dict) -> Path:
    """``root/<year>/storage_fill.tif`` (+ ``.qml``): the :func:`storage_fill` of ``year``."""
    return write_styled_cog(root / str(year) / STORAGE_FILL, storage_fill(storage, sites, grid, year), grid,
                            kind="fraction", label="CO2 storage fill", units=FILL_UNITS,
                            description=f"CO2 storage fill {year}, {FILL_UNITS}",
                            tags={"layer": "storage_fill", "year": year, **meta})
