"""Where each sector's emissions sit in a year before the allocated totals are imposed.

A sector's pattern is what the rules leave untouched (the base layer minus its plants or
corridors), scaled by the change of its area proxy where it has one, plus the evolved
plants (points) and corridors (lines). Patterns are raw weights in t CO2/yr/cell; the
year loop rescales them to the allocated region x sector totals.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import xarray as xr

from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import GRIDDED, LINE_SECTORS, POINT_SECTORS
from gridcarbon.evolution.context import EvolutionContext
from gridcarbon.evolution.lines import Corridors, electrified_share
from gridcarbon.evolution.points import Fleet, point_cells
from gridcarbon.inventory.proxies import ACTIVITY_OFFSET, activity_proxy

#: sectors whose unmoved pattern scales with an area proxy (:meth:`AreaBase.ratio`)
AREA_CHANGE = ("other_industry", "transport_road", "buildings", "agriculture", "forest_sink")
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
    """A sector's base layer with ``values`` in place of it at flat ``cells``: what the fleet
    and corridor rules do not move (t CO2/yr/cell), without a second full layer."""

    base: np.ndarray
    cells: np.ndarray
    values: np.ndarray

    def layer(self, ratio: np.ndarray | None = None) -> np.ndarray:
        """A new float64 (y, x) layer, times ``ratio`` (y, x) when given."""
        if ratio is None:
            out = self.base.astype(np.float64)
            out.flat[self.cells] = self.values
        else:
            out = self.base * ratio
            out.flat[self.cells] = self.values * ratio.flat[self.cells]
        return out


@dataclass(frozen=True)
class AreaBase:
    """Base-year proxies that area sources change against, with their ratio offsets."""

    built: np.ndarray
    forest: np.ndarray
    water: np.ndarray
    population: np.ndarray
    gdp: np.ndarray
    eps: dict[str, float]

    @classmethod
    def of(cls, land: xr.Dataset) -> "AreaBase":
        base = cls(land.built_up.values, land.forest.values, land.water.values, land.population.values,
                   land.gdp.values, {})
        then = {"population": base.population, "activity": base.activity(), "crop": base.crop(), "forest": base.forest}
        base.eps.update({k: _ratio_eps(v) for k, v in then.items()})
        return base

    def activity(self) -> np.ndarray:
        """The base year's small-industry activity proxy (made when asked: 1 km grids are large)."""
        return activity_proxy(self.gdp, self.built)

    def crop(self) -> np.ndarray:
        """Land neither water, built-up nor forest (fraction)."""
        return np.clip(1.0 - self.water - self.built - self.forest, 0.0, 1.0)

    def ratio(self, sector: str, built: np.ndarray, forest: np.ndarray) -> np.ndarray:
        """Change of an area-like sector's proxy since the base year (y, x), >= 0."""
        if sector in ("buildings", "transport_road"):  # people follow built-up growth
            return _safe_ratio(_grow_proxy(self.population, self.built, built), self.population,
                               self.eps["population"])
        if sector == "other_industry":
            now = _grow_proxy(self.gdp, self.built, built)
            now *= ACTIVITY_OFFSET + built  # in place: keeps now's dtype (activity_proxy may not)
            return _safe_ratio(now, self.activity(), self.eps["activity"])
        if sector == "agriculture":
            crop = np.clip(1.0 - self.water - built - forest, 0.0, 1.0)
            return _safe_ratio(crop, self.crop(), self.eps["crop"])
        return _safe_ratio(forest, self.forest, self.eps["forest"])


@dataclass(frozen=True)
class Patterns:
    """The base-year pieces every year's patterns are made from (built once per evolution).

    ``point_share`` is the fleet's share of each point sector per region
    (n_point_sectors, n_regions); ``elec0`` is the base year's electrified share.
    """

    rest: list[Unmoved]
    point_share: np.ndarray
    area: AreaBase
    corridors: Corridors | None
    elec0: float

    @classmethod
    def build(cls, ctx: EvolutionContext, fleet: Fleet) -> "Patterns":
        inv, grid = ctx.inv, ctx.grid
        corridors = Corridors.build(inv.lines, inv.line_coverage, grid, inv.year) if len(inv.lines) else None
        rest, share = _unmoved(inv.emissions["emission"].values, fleet, corridors, grid, inv.year)
        return cls(rest, share, AreaBase.of(ctx.landscape), corridors,
                   electrified_share(ctx.spec.electrification, inv.year))

    def raw_layers(self, ctx: EvolutionContext, fleet: Fleet, k: int, year: int, built: np.ndarray,
                   forest: np.ndarray) -> Iterator[np.ndarray]:
        """Pattern of each sector in ``year`` (index ``k`` of the run's years) before totals
        are imposed (t/yr/cell), given that year's ``built`` and ``forest`` fractions.

        Yields one (y, x) layer per sector in GRIDDED order, made when it is asked for, so a
        year never holds a second full (sector, y, x) stack.
        """
        elec = electrified_share(ctx.spec.electrification, year)
        lines_now = (self.corridors.cells(year, gdp_ratio=ctx.gdp_ratio[k], pop_ratio=ctx.pop_ratio[k],
                                          electrified=elec, electrified_base=self.elec0)
                     if self.corridors else None)
        for i, s in enumerate(GRIDDED):
            if s == "beccs":
                yield _beccs_pattern(ctx.landscape)
                continue
            layer = self.rest[i].layer(self.area.ratio(s, built, forest) if s in AREA_CHANGE else None)
            if s in POINT_SECTORS:
                cells, t = point_cells(fleet, s)
                layer.flat[cells] += t
            if s in LINE_SECTORS and lines_now is not None:
                cells, t = lines_now[LINE_SECTORS.index(s)]
                layer.flat[cells] += t
            yield layer


def _unmoved(base_layers: np.ndarray, fleet: Fleet, corridors: Corridors | None, grid: Grid,
             base_year: int) -> tuple[list[Unmoved], np.ndarray]:
    """What the fleet and corridor rules do not move, and the fleet's share of each point sector.

    Returns per gridded sector the base layer minus the base fleet (point sectors, clipped at
    0) or minus the base corridors (line sectors), and the fleet's region share of each
    point sector, (n_point_sectors, n_regions).
    """
    none = np.zeros(0, np.int64)
    rest = [Unmoved(layer, none, none.astype(float)) for layer in base_layers]
    share = np.zeros((len(POINT_SECTORS), len(grid.regions)))
    region = grid.region_index.ravel()
    for j, s in enumerate(POINT_SECTORS):
        i = GRIDDED.index(s)
        cells, t = point_cells(fleet, s)
        rest[i] = Unmoved(base_layers[i], cells, np.clip(base_layers[i].flat[cells] - t, 0.0, None))
        ours = region[cells] >= 0
        fleet_r = np.bincount(region[cells][ours], weights=t[ours], minlength=len(grid.regions))
        whole = grid.region_sums(base_layers[i])
        share[j] = np.where(whole > 0, np.clip(fleet_r / np.where(whole > 0, whole, 1.0), 0.0, 1.0), 0.0)
    if corridors is not None:
        ones = np.ones(len(grid.regions))
        lines = corridors.cells(base_year, gdp_ratio=ones, pop_ratio=ones, electrified=0.0, electrified_base=0.0)
        for s, (cells, t) in zip(LINE_SECTORS, lines):
            i = GRIDDED.index(s)
            rest[i] = Unmoved(base_layers[i], cells, base_layers[i].flat[cells] - t)
    return rest, share


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


def _safe_ratio(now: np.ndarray, then: np.ndarray, eps: float) -> np.ndarray:
    """(now + eps) / (then + eps), in one new layer."""
    out = now + eps
    out /= then + eps
    return out


def _beccs_pattern(land: xr.Dataset) -> np.ndarray:
    """Where the ``beccs`` removal is stored: storage cells by capacity (the BECCS share of
    each storage site, :mod:`.storage`); fossil capture at CCS plants is no removal and lowers
    their own point-sector emissions instead."""
    return -land.storage_mt.values * STORAGE_WEIGHT_PER_MT
