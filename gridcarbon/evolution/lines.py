"""Line-source evolution: transport follows the network.

Each corridor's activity grows with the GDP and population of the regions it crosses
(weighted by its length in each). Emission intensity falls with electrification, which
proceeds at two paces (the scenario's ``evolution.electrification``): urban passenger
traffic first, intercity freight later. A road corridor's piece in a cell is urban traffic
in proportion to the cell's built-up fraction that year and freight for the rest; rail
electrifies at half the freight pace, waterways not at all. Corridors open in their
``opened`` year, including the scenario's ``evolution.new_corridors``. The per-corridor
weights are spread with the corridors' exact coverage; totals are imposed afterwards by
region x sector rescaling (docs/architecture.md, "Evolution"). Emissions are t CO2/yr per
corridor and t CO2/yr/cell once gridded.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridcarbon.config.evolution import ElectrificationSpec, NewCorridor, schedule_at
from gridcarbon.core.cells import take
from gridcarbon.core.errors import InputError
from gridcarbon.core.grid import Grid
from gridcarbon.core.gridding import Coverage, line_coverage
from gridcarbon.core.sectors import LINE_SECTORS

#: elasticities (dimensionless) of corridor traffic to regional GDP and population
#: (ASSUMPTION, freight and passenger demand literature for China: GDP 0.4-0.7; population
#: given the same weight for want of a figure)
TRAFFIC_GDP_ELASTICITY = 0.5
TRAFFIC_POP_ELASTICITY = 0.5
#: fraction (0..1) of the electrified share of activity that removes a corridor kind's direct
#: emissions. ASSUMPTION: road traffic follows its electrified share fully (an electric
#: vehicle emits nothing directly), rail's remaining diesel haulage at half the freight pace,
#: and shipping not at all
ELECTRIFICATION_EFFECT = {"motorway": 1.0, "rail": 0.5, "waterway": 0.0}
#: effect for a corridor kind missing from :data:`ELECTRIFICATION_EFFECT` (e.g. ``trunk``):
#: treated as road
DEFAULT_ELECTRIFICATION_EFFECT = ELECTRIFICATION_EFFECT["motorway"]
#: kind of every corridor of a line table without a ``kind`` column: roads
DEFAULT_KIND = "motorway"
#: the line sector whose pieces split into urban passenger and freight traffic by built-up land
ROAD = "transport_road"


def relative_intensity(schedule: dict[int, float], year: int, base_year: int, effect: float = 1.0) -> float:
    """Direct emissions per unit of activity in ``year`` over the base year's (dimensionless):
    ``(1 - effect x share(year)) / (1 - effect x share(base_year))``."""
    return ((1.0 - effect * schedule_at(schedule, year))
            / (1.0 - effect * schedule_at(schedule, base_year)))


@dataclass(frozen=True)
class Corridors:
    """Line sources ready to evolve: base emissions (t CO2/yr; for corridors not yet open,
    what they would carry in the base year), kinds, sectors, opening years, coverage, region
    shares (fractions of each corridor's length, 0..1)."""

    base_t: np.ndarray
    kind: np.ndarray
    sector: np.ndarray
    opened: np.ndarray
    coverage: Coverage
    region_share: np.ndarray  # (n_corridors, n_regions), rows sum to 1
    base_year: int
    #: per line sector: its coverage pieces, the flat cells they reach (ascending) and each
    #: piece's position in those cells
    pieces: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]
    #: the position in compact layers (the grid's cell index) of each road piece's cell (the cell
    #: of a piece off the grid: the first cell's), -1 where it is outside every region
    road_at: np.ndarray

    @classmethod
    def build(cls, lines: gpd.GeoDataFrame, coverage: Coverage | None, grid: Grid, base_year: int,
              new: Sequence[NewCorridor] = ()) -> "Corridors":
        """Corridors of the inventory's ``lines`` (grid CRS, gridded by ``coverage``) and the
        scenario's ``new`` ones (:func:`new_corridor_lines`)."""
        if new:
            added, added_cov = new_corridor_lines(new, lines, grid)
            lines = pd.concat([lines, added], ignore_index=True)
            coverage = added_cov if coverage is None else _concat(coverage, added_cov)
        n = len(lines)
        region_of_piece = grid.region_index.ravel()[coverage.cell]
        share = np.zeros((n, len(grid.regions)))
        np.add.at(share, (coverage.src, region_of_piece), coverage.share)
        kind = lines["kind"].fillna(DEFAULT_KIND).to_numpy() if "kind" in lines else np.full(n, DEFAULT_KIND)
        opened = lines["opened"].fillna(base_year).to_numpy(int) if "opened" in lines else np.full(n, base_year)
        sector = lines.sector.to_numpy()
        pieces = []
        for s in LINE_SECTORS:
            sel = np.flatnonzero((sector[coverage.src] == s) & (coverage.cell >= 0))
            cells, pos = np.unique(coverage.cell[sel], return_inverse=True)
            pieces.append((sel, cells, pos))
        road_at = grid.cell_index.positions(np.maximum(coverage.cell[sector[coverage.src] == ROAD], 0))
        return cls(lines.emission_t.to_numpy(float), kind, sector, opened, coverage, share, base_year, tuple(pieces),
                   road_at)

    def cells(self, year: int, *, gdp_ratio: np.ndarray, pop_ratio: np.ndarray,
              electrification: ElectrificationSpec | None = None,
              built: np.ndarray | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per line sector (:data:`~gridcarbon.core.sectors.LINE_SECTORS` order), the flat cells
        (ascending) the corridors reach and their emissions in ``year`` before rescaling
        (t CO2/yr/cell): the sparse form of :meth:`layers`.

        ``gdp_ratio``, ``pop_ratio``: per region, GDP and population relative to the base
        year; ``electrification``: the two schedules (None: intensity stays at the base
        year's); ``built``: the year's built-up fraction (0..1, compact on the grid's cell
        index), the urban share of road pieces (None: all freight).
        """
        growth = self.region_share @ (gdp_ratio ** TRAFFIC_GDP_ELASTICITY * pop_ratio ** TRAFFIC_POP_ELASTICITY)
        weight = np.where(self.opened <= year, self.base_t * growth, 0.0)
        amount = weight[self.coverage.src] * self.coverage.share
        if electrification is not None:
            amount *= self._piece_intensity(year, electrification, built)
        return [(cells, np.bincount(pos, weights=amount[sel], minlength=cells.size))
                for sel, cells, pos in self.pieces]

    def _piece_intensity(self, year: int, electrification: ElectrificationSpec,
                         built: np.ndarray | None) -> np.ndarray:
        """Each coverage piece's emission intensity relative to the base year (dimensionless)."""
        kinds, code = np.unique(self.kind, return_inverse=True)
        effect = [ELECTRIFICATION_EFFECT.get(k, DEFAULT_ELECTRIFICATION_EFFECT) for k in kinds]
        freight = np.array([relative_intensity(electrification.freight, year, self.base_year, e) for e in effect])
        urban = np.array([relative_intensity(electrification.urban_passenger, year, self.base_year, e)
                          for e in effect])
        piece_kind = code[self.coverage.src]
        out = freight[piece_kind]
        road = self.sector[self.coverage.src] == ROAD
        if built is not None and road.any():
            b = np.clip(take(built, self.road_at), 0.0, 1.0)
            out[road] = b * urban[piece_kind[road]] + (1.0 - b) * out[road]
        return out

    def layers(self, year: int, grid: Grid, **drivers) -> np.ndarray:
        """(n_line_sectors, y, x) corridor emissions in ``year`` before rescaling (t/yr/cell).

        ``drivers`` are those of :meth:`cells`.
        """
        out = np.zeros((len(LINE_SECTORS), grid.shape[0] * grid.shape[1]))
        for j, (cells, t) in enumerate(self.cells(year, **drivers)):
            out[j, cells] = t
        return out.reshape(len(LINE_SECTORS), *grid.shape)


def new_corridor_lines(new: Sequence[NewCorridor], lines: gpd.GeoDataFrame,
                       grid: Grid) -> tuple[gpd.GeoDataFrame, Coverage]:
    """The scenario's new corridors as line sources (grid CRS) and their coverage.

    Each carries ``traffic_weight`` x the base-year emission per km of the inventory's
    corridors of its kind (t CO2/yr/km) x its length inside the grid's bounds (km); like a
    user line, the part inside the bounds but outside every region moves to the nearest
    region cell. Raises :class:`InputError` naming the record for a corridor outside the
    grid or of a kind the inventory has no corridor of.
    """
    where = "scenario evolution.new_corridors"
    paths = gpd.GeoSeries([shapely.LineString(c.path) for c in new], crs="EPSG:4326").to_crs(grid.crs)
    inside = shapely.clip_by_rect(paths.values, *grid.bounds)
    km = shapely.length(inside) / 1000.0
    per_km = _emission_per_km(lines)
    for i, c in enumerate(new):
        if km[i] <= 0:
            raise InputError(f"corridor {c.id!r} lies outside the study area's grid", source=where, record=i,
                             hint="check the path's [lon, lat] order")
        if c.kind not in per_km:
            raise InputError(f"corridor {c.id!r}: the inventory has no {c.kind} corridor to take traffic per km "
                             "from", source=where, record=i)
    frame = gpd.GeoDataFrame({
        "id": [c.id for c in new], "kind": [c.kind for c in new], "sector": [c.sector for c in new],
        "opened": [c.opened for c in new],
        "emission_t": [per_km[c.kind] * km[i] * c.traffic_weight for i, c in enumerate(new)],
    }, geometry=gpd.GeoSeries(inside, crs=grid.crs))
    return frame, line_coverage(frame.geometry, grid, np.full(len(frame), -1, np.int64))


def _emission_per_km(lines: gpd.GeoDataFrame) -> dict[str, float]:
    """Base-year emission per km (t CO2/yr/km) of the corridors of each kind with any length."""
    if not len(lines):
        return {}
    kind = lines["kind"].fillna(DEFAULT_KIND) if "kind" in lines else pd.Series(DEFAULT_KIND, index=lines.index)
    km = pd.Series(shapely.length(lines.geometry.values) / 1000.0, index=lines.index)
    t = lines.emission_t.groupby(kind).sum()
    length = km.groupby(kind).sum()
    return {k: float(t[k] / length[k]) for k in t.index if length[k] > 0}


def _concat(a: Coverage, b: Coverage) -> Coverage:
    """Coverage of ``a``'s sources followed by ``b``'s."""
    return Coverage(np.concatenate([a.src, b.src + a.n_sources]), np.concatenate([a.cell, b.cell]),
                    np.concatenate([a.share, b.share]), a.n_sources + b.n_sources)
