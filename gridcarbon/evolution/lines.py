"""Line-source evolution: transport follows the network.

Each corridor's activity grows with the GDP and population of the regions it crosses
(weighted by its length in each); emission intensity falls with electrification (road
fully, rail half, waterways not at all). New corridors from a file join in their opening
year. The resulting per-corridor weights are spread with the corridors' exact coverage;
totals are imposed afterwards by region x sector rescaling (docs/architecture.md,
"Evolution"). Emissions are t CO2/yr per corridor and t CO2/yr/cell once gridded.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridcarbon.core.grid import Grid
from gridcarbon.core.gridding import Coverage
from gridcarbon.core.sectors import LINE_SECTORS

#: elasticities (dimensionless) of corridor traffic to regional GDP and population
#: (ASSUMPTION, freight and passenger demand literature for China: GDP 0.4-0.7; population
#: given the same weight for want of a figure)
TRAFFIC_GDP_ELASTICITY = 0.5
TRAFFIC_POP_ELASTICITY = 0.5
#: fraction (0..1) of the electrified share of activity that removes a corridor kind's direct
#: emissions. ASSUMPTION: road traffic follows the scenario's electrified share fully (an
#: electric vehicle emits nothing directly), rail's remaining diesel haulage at half its pace,
#: and shipping not at all
ELECTRIFICATION_EFFECT = {"motorway": 1.0, "rail": 0.5, "waterway": 0.0}
#: effect for a corridor kind missing from :data:`ELECTRIFICATION_EFFECT` (e.g. ``trunk``):
#: treated as road
DEFAULT_ELECTRIFICATION_EFFECT = ELECTRIFICATION_EFFECT["motorway"]
#: kind of every corridor of a line table without a ``kind`` column: roads
DEFAULT_KIND = "motorway"


@dataclass(frozen=True)
class Corridors:
    """Line sources ready to evolve: base emissions (t CO2/yr), kinds, sectors, opening years,
    coverage, region shares (fractions of each corridor's length, 0..1)."""

    base_t: np.ndarray
    kind: np.ndarray
    sector: np.ndarray
    opened: np.ndarray
    coverage: Coverage
    region_share: np.ndarray  # (n_corridors, n_regions), rows sum to 1
    #: per line sector: its coverage pieces, the flat cells they reach (ascending) and each
    #: piece's position in those cells
    pieces: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]

    @classmethod
    def build(cls, lines, coverage: Coverage, grid: Grid, base_year: int) -> "Corridors":
        n = len(lines)
        region_of_piece = grid.region_index.ravel()[coverage.cell]
        share = np.zeros((n, len(grid.regions)))
        np.add.at(share, (coverage.src, region_of_piece), coverage.share)
        kind = lines["kind"].to_numpy() if "kind" in lines else np.full(n, DEFAULT_KIND)
        opened = lines["opened"].fillna(base_year).to_numpy(int) if "opened" in lines else np.full(n, base_year)
        sector = lines.sector.to_numpy()
        pieces = []
        for s in LINE_SECTORS:
            sel = np.flatnonzero((sector[coverage.src] == s) & (coverage.cell >= 0))
            cells, pos = np.unique(coverage.cell[sel], return_inverse=True)
            pieces.append((sel, cells, pos))
        return cls(lines.emission_t.to_numpy(float), kind, sector, opened, coverage, share, tuple(pieces))

    def cells(self, year: int, *, gdp_ratio: np.ndarray, pop_ratio: np.ndarray, electrified: float,
              electrified_base: float) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per line sector (:data:`~gridcarbon.core.sectors.LINE_SECTORS` order), the flat cells
        (ascending) the corridors reach and their emissions in ``year`` before rescaling
        (t CO2/yr/cell): the sparse form of :meth:`layers`.

        ``gdp_ratio``, ``pop_ratio``: per region, GDP and population relative to the base
        year; ``electrified``, ``electrified_base``: electrified share of activity (0..1) in
        ``year`` and in the base year.
        """
        growth = self.region_share @ (gdp_ratio ** TRAFFIC_GDP_ELASTICITY * pop_ratio ** TRAFFIC_POP_ELASTICITY)
        effect = np.array([ELECTRIFICATION_EFFECT.get(k, DEFAULT_ELECTRIFICATION_EFFECT) for k in self.kind])
        intensity = (1.0 - effect * electrified) / (1.0 - effect * electrified_base)
        weight = np.where(self.opened <= year, self.base_t * growth * intensity, 0.0)
        amount = weight[self.coverage.src] * self.coverage.share
        return [(cells, np.bincount(pos, weights=amount[sel], minlength=cells.size))
                for sel, cells, pos in self.pieces]

    def layers(self, year: int, grid: Grid, **drivers) -> np.ndarray:
        """(n_line_sectors, y, x) corridor emissions in ``year`` before rescaling (t/yr/cell).

        ``drivers`` are those of :meth:`cells`.
        """
        out = np.zeros((len(LINE_SECTORS), grid.shape[0] * grid.shape[1]))
        for j, (cells, t) in enumerate(self.cells(year, **drivers)):
            out[j, cells] = t
        return out.reshape(len(LINE_SECTORS), *grid.shape)


def electrified_share(schedule: dict[int, float], year: int) -> float:
    """Share (0..1) of activity electrified in ``year``, linear between the scenario's years
    (constant beyond them)."""
    years = sorted(schedule)
    return float(np.interp(year, years, [schedule[y] for y in years]))
