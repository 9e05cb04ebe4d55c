"""Area-source evolution: urban growth, afforestation, and proxies that follow them.

Urban expansion is a cellular automaton on built-up *fractions* in the spirit of PLUS /
FLUS: each region's built-up area demand follows its GDP and population; the yearly
increment goes to cells in proportion to ``development probability x (URBAN_DRIVE_OFFSET +
neighbourhood built-up) x room``, never to constrained cells (water, ecological reserves,
high land). Forest sinks grow by afforestation of the most forest-suitable room when the
allocated sink exceeds what today's forest absorbs (docs/architecture.md, "Evolution").
Built-up, forest, water and room are fractions 0..1 of a cell's area.
"""
from __future__ import annotations

import numpy as np

from gridcarbon.core import kernels
from gridcarbon.core.grid import Grid
from gridcarbon.inventory.landscape import ECO_RESERVE_CELL, WATER_CELL

#: elasticity of regional built-up area to GDP and to population (ASSUMPTION: China's
#: built-up land grew ~0.45 x GDP growth in 2000-2020; slowing, per urban planning targets)
URBAN_GDP_ELASTICITY = 0.25
URBAN_POP_ELASTICITY = 0.5
#: cells above this elevation (m) are too steep for urban growth. ASSUMPTION: the YRD's
#: cities sit on plains and valley floors; land above 300 m is hill country (the DEM is a
#: 0.2 degree one, so this stands in for slope)
URBAN_MAX_ELEV_M = 300.0
#: offset (fraction 0..1) added to the 3 x 3 mean built-up fraction in the CA's drive,
#: ``probability x (URBAN_DRIVE_OFFSET + neighbourhood built-up)``. ASSUMPTION: growth favours
#: the edges of existing towns (the neighbourhood term of PLUS / FLUS) but a suitable cell with
#: no built-up neighbour can still start a new patch, at 0.3 / 1.3 (about a quarter) of the
#: pull of a fully built neighbourhood. Not the activity proxy's offset
#: (:data:`~gridcarbon.inventory.proxies.ACTIVITY_OFFSET`), which happens to share the value.
URBAN_DRIVE_OFFSET = 0.3
#: passes of :func:`~gridcarbon.core.kernels.fill_room` per CA step: what full cells could not
#: take is redistributed twice more. ASSUMPTION: a small fixed number bounds the cost; what
#: is still unplaced carries over, as the next step's need is recomputed from demand
URBAN_FILL_PASSES = 3
#: share (0..1) of remaining non-built, non-water room that can become forest on hill land.
#: ASSUMPTION: farmland, orchards and villages keep the rest
AFFOREST_SHARE = 0.6
#: afforestation preference of terrain, ``clip((elevation - HILL_ELEV0_M) / HILL_ELEV_SPAN_M,
#: HILL_MIN_FACTOR, 1)``: rises from plains at 20 m to full preference on hills 170 m and up,
#: and plains keep a tenth (shelter belts, riverside plantations). ASSUMPTION: afforestation
#: goes to marginal hill land first, as in China's sloping-land conversion programme
HILL_ELEV0_M, HILL_ELEV_SPAN_M, HILL_MIN_FACTOR = 20.0, 150.0, 0.1


def urban_allowed(landscape) -> np.ndarray:
    """Cells where built-up land may grow: below :data:`~gridcarbon.inventory.landscape.WATER_CELL`
    of water and :data:`~gridcarbon.inventory.landscape.ECO_RESERVE_CELL` of reserve, lower
    than :data:`URBAN_MAX_ELEV_M` (boolean, y, x)."""
    return ((landscape.water.values < WATER_CELL) & (landscape.eco_reserve.values < ECO_RESERVE_CELL)
            & (landscape.elevation_m.values < URBAN_MAX_ELEV_M))


def built_demand(built_base_r: np.ndarray, gdp_ratio: np.ndarray, pop_ratio: np.ndarray) -> np.ndarray:
    """Built-up area per region (sum of fractions) implied by the drivers.

    ``built_base_r``: base-year built-up area per region (sum of fractions); ``gdp_ratio``,
    ``pop_ratio``: GDP and population relative to the base year (dimensionless).
    """
    return built_base_r * gdp_ratio ** URBAN_GDP_ELASTICITY * pop_ratio ** URBAN_POP_ELASTICITY


def grow_urban(built: np.ndarray, demand_r: np.ndarray, probability: np.ndarray, allowed: np.ndarray,
               water: np.ndarray, grid: Grid, *, rng: np.random.Generator | None = None,
               noise: float = 0.0) -> np.ndarray:
    """One CA step: add built-up area so each region reaches ``demand_r`` where it can.

    ``built`` and ``water`` are fractions 0..1 (y, x); ``demand_r`` is per region (sum of
    fractions); ``probability`` the development probability 0..1 (y, x); ``noise`` the
    scale of Gumbel noise on the drive (0: none). Returns the new built-up fraction (y, x).
    Cells never exceed ``1 - water``.
    """
    need = np.maximum(demand_r - grid.region_sums(built), 0.0)
    out = built.copy()
    drive = kernels.uniform3(np.asarray(built, np.float64))  # in place below: 1 km grids are large
    drive += URBAN_DRIVE_OFFSET
    drive *= probability
    if noise > 0 and rng is not None:
        draw = rng.gumbel(size=drive.shape)
        draw *= noise
        drive *= np.exp(draw, out=draw)
    eligible = grid.inside & allowed
    kernels.fill_room(grid.region_index.ravel(), eligible.ravel(), np.ravel(water), drive.ravel(), out.reshape(-1),
                      need, URBAN_FILL_PASSES)
    return out


def hill_factor(landscape) -> np.ndarray:
    """Afforestation preference of each cell's terrain: :data:`HILL_MIN_FACTOR` on plains up
    to 1 on hills (dimensionless, y, x)."""
    return np.clip((landscape.elevation_m.values - HILL_ELEV0_M) / HILL_ELEV_SPAN_M, HILL_MIN_FACTOR, 1.0)


def afforestable(landscape, built: np.ndarray, forest: np.ndarray, *, hill: np.ndarray | None = None) -> np.ndarray:
    """Extra forest fraction (0..1) each cell could hold: hill land first, never water or built-up.

    ``hill`` is :func:`hill_factor` of ``landscape``, computed when not given.
    """
    hill = hill_factor(landscape) if hill is None else hill
    out = np.empty(np.shape(built))
    kernels.afforestable(np.ravel(landscape.water.values), np.ravel(built), np.ravel(forest), np.ravel(hill),
                         AFFOREST_SHARE, out.reshape(-1))
    return out


def afforest(forest: np.ndarray, need_km2_r: np.ndarray, potential: np.ndarray, grid: Grid) -> np.ndarray:
    """Add forest so each region gains ``need_km2_r`` km2, in proportion to ``potential``.

    ``forest`` and ``potential`` are fractions 0..1 (y, x); returns the new forest fraction.
    """
    cap = grid.region_sums(potential) * grid.cell_area_km2
    frac = np.where(cap > 0, np.clip(need_km2_r / np.maximum(cap, 1e-300), 0.0, 1.0), 0.0)
    added = kernels.add_region_share(grid.region_index.ravel(), np.ravel(forest), np.ravel(potential), frac)
    return added.reshape(grid.shape)
