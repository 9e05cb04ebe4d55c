"""Provenance per cell: how much of each cell's emission comes from which kind of source.

Every exported year's layers are made by rescaling each region x sector pattern by one factor
(docs/architecture.md, "Evolution", "Totals imposed exactly"), so the share of a cell's
emission held by a part of its pattern is that part's share of the cell's pattern. For a point
sector the pattern is the year's active plants (facility table of the year, t CO2/yr) plus
what the plant table does not explain (the base layer minus the base-year plants, held); every
other sector is spread by proxies. Confidence classes:

1. ``measured facility``: a real plant of the facility tables (GEM trackers, WRI GPPD, or a
   user's point table) operating in the base year, at its reported site (never relocated),
   with its CO2 computed from physical activity;
2. ``modelled facility``: a plant the evolution built, brought online from the pipeline or
   relocated, or an illustrative site (``source`` starting ``illustrative``);
3. ``proxy-distributed``: area and line sources spread by proxies (:data:`PROXIES`), the part
   of a point sector the plant table does not explain, and a region's total spread over the
   sector's suitability surface when it has no plant left.

Per exported year ``<year>/provenance.tif`` holds, for ``total`` (gross) and each point sector
(:data:`RASTER_LAYERS`; every other sector is proxy-distributed wherever it emits), four
float32 bands: the dominant class (0 no emission, 1-3 as above) and the share of each class
(0..1, summing to 1 where the cell emits); its ``.qml`` shows band 1 (the class of the gross
emission) with one colour per class. ``provenance.csv`` sums the classes per region:
``region, year, sector, class, proxy, source, t, share``.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from gridcarbon.core import memory
from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import GRIDDED, POINT_SECTORS, SECTORS
from gridcarbon.output import export, styles
from gridcarbon.output.layers import WrittenLayers

#: class codes of the provenance raster (0: the cell does not emit in that layer)
CLASSES = {1: "measured facility", 2: "modelled facility", 3: "proxy-distributed"}
NO_EMISSION = 0
#: colours of the classes (ColorBrewer RdYlBu: blue measured, orange modelled, yellow proxies)
CLASS_COLOURS = {NO_EMISSION: "#f0f0f0", 1: "#2c7bb6", 2: "#fdae61", 3: "#ffffbf"}
#: ``source`` prefix of the facility rows that are illustrative sites, not real plants
#: (gridcarbon.inventory.facilities.SOURCES, chemical)
ILLUSTRATIVE = "illustrative"
#: relative size below which what a point sector's base layer holds beyond its plants is
#: float32 rounding of the stored layer (about 7 significant digits), not a source
STORAGE_RTOL = 1e-6
#: proxy and data source of each sector's proxy-distributed part (docs/architecture.md,
#: "Sources and inventories" and "Evolution")
_POINT_PROXY = ("base layer beyond the plant table; suitability surface where no plant is left",
                "inventory; ExtraTrees siting model")
PROXIES = {
    **{s: _POINT_PROXY for s in POINT_SECTORS},
    "other_industry": ("GDP x (0.3 + built-up); new industrial land near clusters (urban CA)",
                       "city table GDP; MODIS-based landscape"),
    "transport_road": ("corridors (traffic weight x length); population (urban traffic)",
                       "corridor table; city table population"),
    "transport_other": ("corridors (traffic weight x length)", "corridor table"),
    "buildings": ("population; built-up land of the urban CA", "city table population"),
    "agriculture": ("cropland", "MODIS MCD12C1 2019"),
    "forest_sink": ("standing forest; new stands", "MODIS MCD12C1 2019; ERA5 precipitation"),
    "beccs": ("geological storage capacity", "Xing et al. 2021 county CO2 storage"),
}
#: facility labels of modelled plants by how the evolution made them
MODELLED = {"new": "built by the evolution (suitability siting)", "moved": "relocated by the evolution",
            "pipeline": "pipeline row brought online"}
#: layers of the table: the gross total and every gridded sector
LAYERS = ["total", *GRIDDED]
#: layers of the raster: the gross total and the point sectors (every other sector is
#: proxy-distributed wherever it emits, which its own COG already shows)
RASTER_LAYERS = ["total", *POINT_SECTORS]
BANDS_PER_LAYER = 1 + len(CLASSES)


def measured(plants: pd.DataFrame) -> np.ndarray:
    """Which rows of a facility table (one year) are measured facilities (see the module docstring)."""
    source = _source(plants)
    return (plants.origin.eq("base") & plants.moved_from.lt(0) & plants.planned_year.isna()
            & ~source.str.startswith(ILLUSTRATIVE)).to_numpy()


def facility_basis(plants: pd.DataFrame) -> np.ndarray:
    """What each plant's position and CO2 rest on: its table (measured, illustrative) or the rule that made it."""
    source = _source(plants)
    basis = np.where(source.eq(""), "user inventory", source).astype(object)
    basis = np.where(plants.planned_year.notna(), MODELLED["pipeline"], basis)
    basis = np.where(plants.moved_from.ge(0), MODELLED["moved"], basis)
    return np.where(plants.origin.eq("new"), MODELLED["new"], basis)


def _source(plants: pd.DataFrame) -> pd.Series:
    """The facility table each plant comes from ("" when the table has no ``source`` column)."""
    return plants["source"].fillna("").astype(str) if "source" in plants else pd.Series("", index=plants.index)


def plant_cells(plants: pd.DataFrame, grid: Grid, sector: str) -> tuple[np.ndarray, np.ndarray]:
    """Compact (one value per cell of ``grid.cell_index``) t CO2/yr of the active plants of
    ``sector``: (measured, modelled). A plant outside every region is left out (no layer
    emits there)."""
    rows = plants[(plants.status == "active") & (plants.sector == sector)]
    index = grid.cell_index
    pos, t = index.positions(rows.cell.to_numpy(np.int64)), rows.emission_t.to_numpy(float)
    mine, inside = measured(rows), pos >= 0
    return (np.bincount(pos[mine & inside], weights=t[mine & inside], minlength=index.size),
            np.bincount(pos[~mine & inside], weights=t[~mine & inside], minlength=index.size))


def class_shares(final: np.ndarray, parts: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """(3, n) shares of the classes in cells whose final value is ``final`` (n, t CO2/yr).

    ``parts`` are the cells' pattern parts (measured, modelled, proxy; t CO2/yr, >= 0). A cell
    that emits with an empty pattern took its region's fallback spread: proxy-distributed.
    Cells that do not emit get 0 everywhere.
    """
    pattern = parts[0] + parts[1] + parts[2]
    shares = np.zeros((len(CLASSES), final.size))
    known = (pattern > 0) & (final != 0)
    for k, part in enumerate(parts):
        np.divide(part, pattern, out=shares[k], where=known)
    shares[2, (pattern <= 0) & (final != 0)] = 1.0
    return shares


def point_rest(base: np.ndarray, base_plants: pd.DataFrame, grid: Grid, sector: str) -> np.ndarray:
    """Compact t CO2/yr of a point sector's base layer (compact, t CO2/yr/cell) beyond its
    base-year plants (held every year)."""
    rest = base - sum(plant_cells(base_plants, grid, sector))
    return np.where(rest > STORAGE_RTOL * np.abs(base), rest, 0.0)


def year_provenance(layer: Callable[[str], np.ndarray], plants: pd.DataFrame, rests: dict[str, np.ndarray],
                    grid: Grid) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """One year's class shares (3, n, float32) of each layer of :data:`RASTER_LAYERS`, and
    the t CO2/yr of each class per region (3, n_regions) of each layer of :data:`LAYERS`.

    Everything is compact: one value per cell of ``grid.cell_index`` (n cells), the very
    values of the inside cells of the rectangle (China at 1 km: 9.5 M of 26.8 M cells).
    ``layer(sector)``: the year's compact t CO2/yr/cell of a gridded sector, asked for one
    sector at a time, so neither the year's layers nor the full stack of shares is ever held;
    ``plants``: its facility table; ``rests``: :func:`point_rest` of each point sector.
    """
    size = grid.cell_index.size
    raster, tonnes, gross_t = {}, {}, np.zeros((len(CLASSES), size))
    for s in GRIDDED:
        final = layer(s)
        if s not in POINT_SECTORS:  # all proxy-distributed: the class's part is the cell's value
            tonnes[s] = np.zeros((len(CLASSES), len(grid.regions)))
            tonnes[s][2] = grid.compact_region_sums(final)
            if not SECTORS[s].removal:
                gross_t[2] += final
            continue
        shares = class_shares(final, (*plant_cells(plants, grid, s), rests[s]))
        raster[s] = shares.astype(np.float32)
        shares *= final  # each class's part of the cell, t CO2/yr (in place: 0.23 GB at 1 km)
        tonnes[s] = grid.compact_region_sums(shares)
        if not SECTORS[s].removal:
            gross_t += shares
    tonnes["total"] = grid.compact_region_sums(gross_t)
    gross = gross_t.sum(axis=0)
    raster["total"] = np.empty(gross_t.shape, np.float32)
    for k, row in enumerate(gross_t):  # a class at a time: one float64 row held, not three
        raster["total"][k] = np.divide(row, gross, out=np.zeros_like(row), where=gross > 0)
    return raster, tonnes


def dominant(shares: np.ndarray) -> np.ndarray:
    """Class code (1..3) of the largest share per cell, :data:`NO_EMISSION` where all are 0."""
    return np.where(shares.sum(axis=0) > 0, shares.argmax(axis=0) + 1, NO_EMISSION).astype(np.float32)


def write_year(root: Path, year: int, shares: dict[str, np.ndarray], grid: Grid, meta: dict) -> Path:
    """``root/<year>/provenance.tif`` (bands per layer: class, then each class's share) and its
    .qml, from the compact ``shares`` of :func:`year_provenance`, which it empties: each band is
    made a rectangle only as it is written, and each layer's shares go once written (China at
    1 km: 114 MB a layer, while the staged bands grow)."""
    def bands():
        for name in RASTER_LAYERS:
            layer = shares.pop(name)
            yield (f"{name}: confidence class (0 none, 1 measured, 2 modelled, 3 proxy)",
                   grid.cell_index.expand(dominant(layer)))
            for k, label in CLASSES.items():
                yield f"{name}: {label} share", grid.cell_index.expand(layer[k - 1])

    path = root / str(year) / "provenance.tif"
    export.write_bands_cog(path, bands(), grid, count=len(RASTER_LAYERS) * BANDS_PER_LAYER,
                           tags={"year": year, "content": "provenance", **meta})
    classes = [(code, CLASS_COLOURS[code], CLASSES.get(code, "no emission")) for code in (NO_EMISSION, *CLASSES)]
    styles.write_class_qml(path.with_suffix(".qml"), classes, label=f"Provenance of gross emissions {year}")
    return path


def region_rows(year: int, tonnes: dict[str, np.ndarray], plants: pd.DataFrame, grid: Grid) -> list[tuple]:
    """``provenance.csv`` rows of one year from :func:`year_provenance`'s ``tonnes``: per region,
    layer and class the t CO2/yr, its share of the region's layer, the proxy and the source."""
    sources = _facility_sources(plants)
    rows = []
    for name in LAYERS:
        t = tonnes[name]  # (3, n_regions)
        whole = t.sum(axis=0)
        for k, label in CLASSES.items():
            for r, region in enumerate(grid.regions):
                if k == 3:
                    proxy, source = ("by sector", "see the sector rows") if name == "total" else PROXIES[name]
                else:
                    proxy, source = "plant site", sources.get((region, name, k), "")
                share = t[k - 1, r] / whole[r] if whole[r] != 0 else 0.0
                rows.append((region, year, name, label, proxy, source, t[k - 1, r], share))
    return rows


def _facility_sources(plants: pd.DataFrame) -> dict[tuple[str, str, int], str]:
    """What the active plants of each (region, sector or ``total``, class 1 or 2) rest on, joined by "; "."""
    active = plants[plants.status == "active"]
    frame = pd.DataFrame({"region": active.region.to_numpy(), "sector": active.sector.to_numpy(),
                          "k": np.where(measured(active), 1, 2), "basis": facility_basis(active)})
    out = {}
    for keys, by in ((["region", "sector", "k"], None), (["region", "k"], "total")):
        for key, group in frame.groupby(keys):
            region, *rest = key
            out[(region, by or rest[0], rest[-1])] = "; ".join(sorted(set(group.basis)))
    return out


def write_provenance(root: Path, grid: Grid, facilities: pd.DataFrame, years: list[int], meta: dict,
                     layers: WrittenLayers | None = None) -> dict:
    """Provenance raster of every exported year and ``provenance.csv`` under a run folder ``root``.

    ``facilities``: the run's facility table of the exported years as a plain DataFrame
    (``RunResult.facilities`` without its geometry: column ``year``). The years' layers are taken as their COGs read back (``layers``, default
    the folder's files, so streamed runs need nothing in memory); ``years`` start with the base
    year. Returns the manifest section: the study area's class shares of gross emissions per year.
    """
    written = WrittenLayers(root) if layers is None else layers
    base_plants = facilities[facilities.year == years[0]]
    rests = {s: point_rest(_cell_values(written, years[0], s, grid), base_plants, grid, s) for s in POINT_SECTORS}
    rows, summary = [], {}
    # one sector layer of one year read at a time, and a year's raster written before the next
    # year's shares are made (the two at once, in two threads, made a 1 km run's peak: China,
    # 1 GB more; the run writer's caller draws the maps meanwhile)
    for y in years:
        if grid.large:  # the free pages the other thread's tables and maps left (China at 1 km: ~1 GB)
            memory.release()
        plants = facilities[facilities.year == y]
        raster, tonnes = year_provenance(partial(_cell_values, written, y, grid=grid), plants, rests, grid)
        write_year(root, y, raster, grid, meta)
        rows += region_rows(y, tonnes, plants, grid)
        gross = tonnes["total"].sum(axis=1)
        summary[int(y)] = {label: round(float(gross[k - 1] / gross.sum()), 6) for k, label in CLASSES.items()}
    table = pd.DataFrame(rows, columns=["region", "year", "sector", "class", "proxy", "source", "t", "share"])
    table.to_csv(root / "provenance.csv", index=False, float_format="%.6f")
    return {"gross_class_shares": summary, "classes": CLASSES}


def _cell_values(layers: WrittenLayers, year: int, sector: str, grid: Grid) -> np.ndarray:
    """A written layer (t CO2/yr/cell) at the grid's inside cells (compact), nodata as 0."""
    return np.nan_to_num(layers.cells(year, sector, grid.cell_index), copy=False)  # a fresh array: no second copy
