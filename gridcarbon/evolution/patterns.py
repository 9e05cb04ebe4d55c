"""Where each sector's emissions sit in a year before the allocated totals are imposed.

A sector's pattern is what the rules leave untouched (the base layer minus its plants or
corridors), scaled by the change of its area proxy where it has one, plus the evolved
plants (points) and corridors (lines). Buildings and other industry keep their base-year
stock and add new stock where the urban CA adds built-up land (other industry as parks next
to its existing clusters); urban road traffic follows people and electrifies on the urban
passenger schedule. Patterns are raw weights in t CO2/yr/cell; the year loop rescales them
to the allocated region x sector totals.

Patterns are compact: one value per cell inside the study area, on the grid's
:attr:`~gridcarbon.core.grid.Grid.cell_index` (:mod:`gridcarbon.core.cells`), whatever the grid;
their arithmetic is the full layers' at those cells, bit for bit, on 35 % of China's 1 km
rectangle. Only what needs neighbours (the clusters of new industry) is made on full layers.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy import ndimage

from gridcarbon.config.evolution import schedule_at
from gridcarbon.core import regionkernels
from gridcarbon.core.cells import CellIndex
from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import GRIDDED, LINE_SECTORS, POINT_SECTORS
from gridcarbon.evolution.context import EvolutionContext
from gridcarbon.evolution.lines import Corridors, relative_intensity
from gridcarbon.evolution.points import Fleet, point_cells

#: sectors whose unmoved pattern scales with an area proxy (:meth:`AreaBase.ratio`)
AREA_CHANGE = ("transport_road", "agriculture", "forest_sink")
#: sectors that keep their base-year stock and add new stock on land the urban CA builds up
#: (:class:`NewStock`)
URBAN_GROWTH = ("buildings", "other_industry")
#: rural population relative to the base year (dimensionless), linear in between, held beyond:
#: the base-year stock of buildings keeps its built-up share of a cell and loses the rest at
#: this pace as villages empty. ASSUMPTION from China's record and projections: the rural
#: population fell from 630 M (2013) to 477 M (2023), -2.7 %/yr (NBS Statistical Yearbook);
#: the UN World Urbanization Prospects 2018 project 80 % urban by 2050 (~0.27 bn rural, 0.57
#: of 2023); the YRD, already more urban, is given the national pace
RURAL_POPULATION = {2024: 1.0, 2035: 0.78, 2050: 0.6, 2060: 0.55}
#: yearly fall (fraction per year) of the occupants of the base-year building stock in urban-core
#: cells (built-up at least the scenario's ``urban_core_threshold`` in the base year); the people
#: they lose live in the new districts the urban CA adds. Census: Shanghai's seven central
#: districts (Huangpu, Xuhui, Changning, Jing'an, Putuo, Hongkou, Yangpu) fell from 6.986 M (2010)
#: to 6.684 M (2020) residents, -0.44 %/yr, while the city grew 8 % (NBS 6th and 7th censuses, via
#: citypopulation.de; downtown density 24,137 -> 23,092 per km2, Shanghai Statistics Bureau, 18 May
#: 2021); Beijing's Dongcheng and Xicheng fell 16 % in the same decade. ASSUMPTION: every YRD
#: core deconcentrates at Shanghai's pace, held to 2060 (0.85 of its base occupants in 2060)
CORE_DECONCENTRATION = 0.0044
#: radius (km) around existing small industry within which new industrial land is drawn to it.
#: ASSUMPTION: China's new industrial parks mostly extend existing development zones of the
#: same county or prefecture (a ~20 km radius), rather than opening on green fields
PARK_RADIUS_KM = 20.0
#: built-up fraction added to both sides of the people-follow-built-up ratio, so cells with
#: no built-up land keep their people (ASSUMPTION: 2 % stands for scattered rural settlement)
RURAL_BUILT_FRACTION = 0.02
#: offset of proxy ratios as a share of the mean positive base value, so cells whose proxy
#: was zero can gain emissions without dividing by zero (ASSUMPTION: 1 %)
RATIO_OFFSET_SHARE = 0.01
#: weight per Mt of storage capacity of a storage cell in the ``beccs`` pattern
#: (t CO2/yr/cell per Mt): tiny, only the shape matters, rescaled to the allocated removal
STORAGE_WEIGHT_PER_MT = 1e-3


@dataclass(frozen=True)
class Unmoved:
    """A sector's compact base layer (n_inside,) with ``values`` in place of it at compact
    positions ``cells``: what the fleet and corridor rules do not move (t CO2/yr/cell), without
    a second layer."""

    base: np.ndarray
    cells: np.ndarray
    values: np.ndarray

    def layer(self, ratio: np.ndarray | None = None) -> np.ndarray:
        """A new float64 compact layer, times ``ratio`` (compact) when given: then made in
        ``ratio`` (a new array the caller gives up) where its dtype is the product's."""
        if ratio is None:
            out = self.base.astype(np.float64)
            out[self.cells] = self.values
            return out
        moved = self.values * ratio[self.cells]
        out = _into(np.multiply, ratio, self.base)
        out[self.cells] = moved
        return out


@dataclass(frozen=True)
class AreaBase:
    """Base-year proxies that area sources change against (compact, on the grid's cell index),
    with their ratio offsets; ``core`` marks the urban-core cells (bool) and ``year`` is the
    base year."""

    built: np.ndarray
    forest: np.ndarray
    water: np.ndarray
    population: np.ndarray
    eps: dict[str, float]
    core: np.ndarray
    year: int

    @classmethod
    def of(cls, land: xr.Dataset, index: CellIndex, *, core_threshold: float, year: int) -> "AreaBase":
        """From the base-year ``land`` ((y, x) or compact layers, 0 outside every region as a
        landscape is) at the cells of ``index``; cells at least ``core_threshold`` built-up are
        urban core. The ratio offsets are those of the whole rectangle of ``land``: its free
        land is 1 outside every region."""
        built, forest, water, population = (index.compacted(land[v].values)
                                            for v in ("built_up", "forest", "water", "population"))
        then = {"population": population, "crop": index.expand(_free_land(water, built, forest), fill=1.0),
                "forest": forest}
        return cls(built, forest, water, population, {k: _ratio_eps(v) for k, v in then.items()},
                   built >= core_threshold, year)

    def crop(self) -> np.ndarray:
        """Land neither water, built-up nor forest (fraction)."""
        return _free_land(self.water, self.built, self.forest)

    def settled(self, year: int) -> np.ndarray:
        """Occupied share of the base-year building stock in ``year`` (compact, 0..1): its
        built-up share stays (in urban-core cells less :data:`CORE_DECONCENTRATION` a year),
        the rest follows :data:`RURAL_POPULATION` (from 2024 on)."""
        rural = schedule_at(RURAL_POPULATION, year)
        out = self.built * (1.0 - rural)
        out += rural
        # in place where the cells are urban core (elsewhere x 1.0, which changes no value)
        np.multiply(out, np.float64(self.core_kept(year)), out=out, where=self.core)
        return out

    def core_kept(self, year: int) -> float:
        """Share (0..1) of its base-year occupants an urban-core cell keeps in ``year``."""
        return (1.0 - CORE_DECONCENTRATION) ** max(year - self.year, 0)

    def core_left(self, stock: np.ndarray, year: int, grid: Grid) -> np.ndarray:
        """Per region, what the urban cores' share of ``stock`` (t CO2/yr/cell, the compact
        base-year stock) has lost by ``year`` to the new districts (t CO2/yr)."""
        kept = self.core_kept(year)
        lost = _into(np.multiply, self.settled(year), stock)
        lost[~self.core] = 0.0
        lost *= (1.0 - kept) / kept
        return grid.compact_region_sums(lost)

    def ratio(self, sector: str, built: np.ndarray, forest: np.ndarray) -> np.ndarray:
        """Change of an area-like sector's proxy since the base year (compact, given the year's
        compact ``built`` and ``forest``), >= 0."""
        if sector == "transport_road":  # people follow built-up growth
            return _safe_ratio(_grow_proxy(self.population, self.built, built), self.population,
                               self.eps["population"])
        if sector == "agriculture":
            return _safe_ratio(_free_land(self.water, built, forest), self.crop(), self.eps["crop"])
        return _safe_ratio(forest.copy(), self.forest, self.eps["forest"])


@dataclass(frozen=True)
class Patterns:
    """The base-year pieces every year's patterns are made from (built once per evolution).

    ``point_share`` is the fleet's share of each point sector per region
    (n_point_sectors, n_regions); ``stock`` holds the :class:`NewStock` of each
    :data:`URBAN_GROWTH` sector.
    """

    rest: list[Unmoved]
    point_share: np.ndarray
    area: AreaBase
    corridors: Corridors | None
    stock: dict[str, NewStock]

    @classmethod
    def build(cls, ctx: EvolutionContext, fleet: Fleet) -> "Patterns":
        inv, grid, new = ctx.inv, ctx.grid, ctx.spec.new_corridors
        corridors = (Corridors.build(inv.lines, inv.line_coverage, grid, inv.year, new)
                     if len(inv.lines) or new else None)
        rest, share = _unmoved(inv.layers(), fleet, corridors, grid, inv.year)
        area = AreaBase.of(ctx.landscape, grid.cell_index, core_threshold=ctx.spec.urban_core_threshold,
                           year=inv.year)
        stock = {s: NewStock.of(grid.cell_index.full(inv.layers()[GRIDDED.index(s)]), ctx.landscape.built_up.values,
                                grid, clustered=s == "other_industry")
                 for s in URBAN_GROWTH}
        return cls(rest, share, area, corridors, stock)

    def raw_layers(self, ctx: EvolutionContext, fleet: Fleet, k: int, year: int, built: np.ndarray,
                   forest: np.ndarray) -> Iterator[np.ndarray]:
        """Pattern of each sector in ``year`` (index ``k`` of the run's years) before totals
        are imposed (t/yr/cell), given that year's ``built`` and ``forest`` fractions (compact,
        on the grid's cell index: :func:`.land.land_steps`').

        Yields one compact layer (n_inside,) per sector in GRIDDED order, made when it is asked
        for, so a year never holds a second (sector, cell) stack.
        """
        elec = ctx.spec.electrification
        lines_now = (self.corridors.cells(year, gdp_ratio=ctx.gdp_ratio[k], pop_ratio=ctx.pop_ratio[k],
                                          electrification=elec, built=built)
                     if self.corridors else None)
        for s in GRIDDED:  # no layer stays bound here while the next is made
            yield self._layer(ctx, fleet, s, year, built, forest, lines_now)

    def _layer(self, ctx: EvolutionContext, fleet: Fleet, s: str, year: int, built: np.ndarray,
               forest: np.ndarray, lines_now: list | None) -> np.ndarray:
        """Pattern of sector ``s`` in ``year`` (t/yr/cell, compact; ``built`` and ``forest``
        compact): :meth:`raw_layers`' layer."""
        if s == "beccs":
            return _beccs_pattern(ctx.landscape, ctx.grid.cell_index)
        i, index = GRIDDED.index(s), ctx.grid.cell_index
        new = None  # new stock, made first: its temporaries come and go before the layer is made
        if s in URBAN_GROWTH:
            moved = self.area.core_left(self.rest[i].base, year, ctx.grid) if s == "buildings" else None
            new = self.stock[s].layer(built, self.area.built, ctx.grid, moved=moved)
        layer = self.rest[i].layer(self.area.ratio(s, built, forest) if s in AREA_CHANGE
                                   else self.area.settled(year) if s == "buildings" else None)
        if s == "transport_road":  # urban traffic: the passenger schedule
            layer *= relative_intensity(ctx.spec.electrification.urban_passenger, year, ctx.inv.year)
        if new is not None:
            layer += new
        if s in POINT_SECTORS:
            cells, t = _inside(index, *point_cells(fleet, s))
            layer[cells] += t
        if s in LINE_SECTORS and lines_now is not None:
            cells, t = _inside(index, *lines_now[LINE_SECTORS.index(s)])
            layer[cells] += t
        return layer


@dataclass(frozen=True)
class NewStock:
    """Emissions of the stock built on land the urban CA adds (t CO2/yr/cell).

    New stock emits, per unit of added built-up fraction, what the region's base-year stock
    does per unit of built-up (``per_built``, t CO2/yr per unit fraction, per region;
    ASSUMPTION: no better figure for the direct emissions of new districts), so a region's
    new stock is its built-up growth share of the sector. ``cluster`` (compact, on the grid's
    cell index, dimensionless or None) places it within the region's new land: new industrial
    land goes where the base layer's mean within :data:`PARK_RADIUS_KM` is high, next to
    existing clusters.
    """

    per_built: np.ndarray
    cluster: np.ndarray | None

    @classmethod
    def of(cls, base: np.ndarray, built0: np.ndarray, grid: Grid, *, clustered: bool) -> "NewStock":
        """From a sector's ``base`` layer (t CO2/yr/cell, (y, x)) and the base year's built-up
        ``built0`` (fraction, (y, x) or compact)."""
        built0_r = grid.compact_region_sums(grid.cell_index.compacted(built0))
        per_built = grid.region_sums(base) / np.maximum(built0_r, 1e-12)
        if not clustered:
            return cls(per_built, None)
        size = 2 * round(PARK_RADIUS_KM * 1000.0 / grid.res) + 1
        near = ndimage.uniform_filter(np.asarray(base, np.float64), size=size, mode="constant")
        return cls(per_built, grid.cell_index.compact(near.astype(grid.storage_dtype, copy=False)))

    def layer(self, built: np.ndarray, built0: np.ndarray, grid: Grid, *,
              moved: np.ndarray | None = None) -> np.ndarray:
        """New stock on the built-up added since ``built0`` (the growth of ``built``; compact
        fractions), t CO2/yr/cell (compact): per region ``per_built`` x the added built-up, plus ``moved``
        (t CO2/yr per region: occupants the urban cores lost), spread over the added land by
        ``cluster`` (by the added land alone in a region whose new land is far from any cluster)."""
        added = np.subtract(built, built0)
        np.maximum(added, 0.0, out=added)
        amount = self.per_built * grid.compact_region_sums(added) + (0.0 if moved is None else moved)
        weight = added if self.cluster is None else added * self.cluster
        have = grid.compact_region_sums(weight)
        if self.cluster is not None and (have <= 0).any():
            regions = grid.region_index.reshape(-1)[grid.cell_index.cells]
            np.copyto(weight, added, where=(have <= 0)[regions])
            have = grid.compact_region_sums(weight)
        scale = np.where(have > 0, amount / np.maximum(have, 1e-300), 0.0)
        regionkernels.scale_by_region(grid.compact_runs, weight, scale)
        return weight


def _unmoved(base_layers: np.ndarray, fleet: Fleet, corridors: Corridors | None, grid: Grid,
             base_year: int) -> tuple[list[Unmoved], np.ndarray]:
    """What the fleet and corridor rules do not move, and the fleet's share of each point sector.

    ``base_layers`` are (n_gridded, y, x), or compact (n_gridded, n_inside) on the grid's
    :attr:`~Grid.cell_index`. Returns per gridded sector the compact base layer minus the base
    fleet (point sectors, clipped at 0) or minus the base corridors (line sectors), and the
    fleet's region share of each point sector, (n_point_sectors, n_regions).
    """
    index = grid.cell_index
    none = np.zeros(0, np.int64)
    rest = [Unmoved(index.compacted(layer), none, none.astype(float)) for layer in base_layers]
    share = np.zeros((len(POINT_SECTORS), len(grid.regions)))
    region = grid.region_index.ravel()
    for j, s in enumerate(POINT_SECTORS):
        base = rest[GRIDDED.index(s)].base
        cells, t = point_cells(fleet, s)
        ours = region[cells] >= 0
        fleet_r = np.bincount(region[cells][ours], weights=t[ours], minlength=len(grid.regions))
        cells, t = _inside(index, cells, t)
        rest[GRIDDED.index(s)] = Unmoved(base, cells, np.clip(base[cells] - t, 0.0, None))
        whole = grid.compact_region_sums(base)
        share[j] = np.where(whole > 0, np.clip(fleet_r / np.where(whole > 0, whole, 1.0), 0.0, 1.0), 0.0)
    if corridors is not None:
        ones = np.ones(len(grid.regions))
        lines = corridors.cells(base_year, gdp_ratio=ones, pop_ratio=ones)
        for s, (cells, t) in zip(LINE_SECTORS, lines):
            base = rest[GRIDDED.index(s)].base
            cells, t = _inside(index, cells, t)
            rest[GRIDDED.index(s)] = Unmoved(base, cells, base[cells] - t)
    return rest, share


def _inside(index: CellIndex, cells: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The compact positions on ``index`` of those flat ``cells`` inside it, and their ``values``
    (cells outside every region hold nothing a pattern imposes)."""
    pos = index.positions(cells)
    keep = pos >= 0
    return pos[keep], values[keep]


def _grow_proxy(base: np.ndarray, built0: np.ndarray, built: np.ndarray) -> np.ndarray:
    """A people-like proxy that follows built-up growth:
    base x (built + RURAL_BUILT_FRACTION) / (built0 + RURAL_BUILT_FRACTION).

    Computed in place in one new layer (the same bits as the plain expression).
    """
    out = built + RURAL_BUILT_FRACTION
    out *= base
    out /= built0 + RURAL_BUILT_FRACTION
    return out


def _ratio_eps(then: np.ndarray) -> float:
    """Offset of :func:`_safe_ratio`: :data:`RATIO_OFFSET_SHARE` of the mean positive base value."""
    positive = then[then > 0]
    return RATIO_OFFSET_SHARE * max(float(np.mean(positive)) if positive.size else 1.0, 1e-12)


def _free_land(water: np.ndarray, built: np.ndarray, forest: np.ndarray) -> np.ndarray:
    """clip(1 - water - built - forest, 0, 1) (fractions, any shape) in the plain expression's
    dtypes, in one new layer."""
    out = _into(np.subtract, _into(np.subtract, 1.0 - water, built), forest)
    return np.clip(out, 0.0, 1.0, out=out)


def _into(ufunc: np.ufunc, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``ufunc(a, b)`` of a new array ``a`` (given up by the caller), written into ``a`` where its
    dtype is the result's (the same bits as a new array, one full layer fewer), else new."""
    return ufunc(a, b, out=a if a.dtype == np.result_type(a, b) else None)


def _safe_ratio(now: np.ndarray, then: np.ndarray, eps: float) -> np.ndarray:
    """(now + eps) / (then + eps), made in ``now`` (a new array given up by the caller)."""
    now += eps
    now /= then + eps
    return now


def _beccs_pattern(land: xr.Dataset, index: CellIndex) -> np.ndarray:
    """Where the ``beccs`` removal is stored (compact on ``index``): storage cells by capacity
    (the BECCS share of each storage site, :mod:`.storage`); fossil capture at CCS plants is no
    removal and lowers their own point-sector emissions instead."""
    return -index.compacted(land.storage_mt.values) * STORAGE_WEIGHT_PER_MT
