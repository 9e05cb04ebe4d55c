"""Area-source evolution: urban growth, afforestation, and proxies that follow them.

Urban expansion is a cellular automaton on built-up *fractions* in the spirit of PLUS /
FLUS: each region's built-up area demand follows its GDP and population; the yearly
increment goes to cells in proportion to ``development probability x (0.3 + neighbourhood
built-up) x room``, never to constrained cells (water, ecological reserves, steep land).
Forest sinks grow by afforestation of the most forest-suitable room when the allocated
sink exceeds what today's forest absorbs.
"""
from __future__ import annotations

import numpy as np

from gridcarbon.core import kernels
from gridcarbon.core.grid import Grid

#: elasticity of regional built-up area to GDP and to population (ASSUMPTION: China's
#: built-up land grew ~0.45 x GDP growth in 2000-2020; slowing, per urban planning targets)
URBAN_GDP_ELASTICITY = 0.25
URBAN_POP_ELASTICITY = 0.5
#: cells above this elevation (m) are too steep for urban growth
URBAN_MAX_ELEV_M = 300.0
#: share of remaining non-built, non-water room that can become forest on hill land
AFFOREST_SHARE = 0.6


def urban_allowed(landscape) -> np.ndarray:
    """Cells where built-up land may grow."""
    return ((landscape.water.values < 0.5) & (landscape.eco_reserve.values < 0.3)
            & (landscape.elevation_m.values < URBAN_MAX_ELEV_M))


def built_demand(built_base_r: np.ndarray, gdp_ratio: np.ndarray, pop_ratio: np.ndarray) -> np.ndarray:
    """Built-up area per region (sum of fractions) implied by the drivers."""
    return built_base_r * gdp_ratio ** URBAN_GDP_ELASTICITY * pop_ratio ** URBAN_POP_ELASTICITY


def grow_urban(built: np.ndarray, demand_r: np.ndarray, probability: np.ndarray, allowed: np.ndarray,
               water: np.ndarray, grid: Grid, *, rng: np.random.Generator | None = None,
               noise: float = 0.0) -> np.ndarray:
    """One CA step: add built-up area so each region reaches ``demand_r`` where it can.

    Returns the new built-up fraction (y, x). Cells never exceed ``1 - water``.
    """
    need = np.maximum(demand_r - grid.region_sums(built), 0.0)
    out = built.copy()
    drive = kernels.uniform3(np.asarray(built, np.float64))  # in place below: 1 km grids are large
    drive += 0.3
    drive *= probability
    if noise > 0 and rng is not None:
        draw = rng.gumbel(size=drive.shape)
        draw *= noise
        drive *= np.exp(draw, out=draw)
    eligible = grid.inside & allowed
    kernels.fill_room(grid.region_index.ravel(), eligible.ravel(), np.ravel(water), drive.ravel(), out.reshape(-1),
                      need, 3)  # three passes: redistribute what full cells could not take
    return out


def hill_factor(landscape) -> np.ndarray:
    """Afforestation preference of each cell's terrain: 0.1 on plains up to 1 on hills (y, x)."""
    return np.clip((landscape.elevation_m.values - 20.0) / 150.0, 0.1, 1.0)


def afforestable(landscape, built: np.ndarray, forest: np.ndarray, *, hill: np.ndarray | None = None) -> np.ndarray:
    """Extra forest fraction each cell could hold: hill land first, never water or built-up.

    ``hill`` is :func:`hill_factor` of ``landscape``, computed when not given.
    """
    hill = hill_factor(landscape) if hill is None else hill
    out = np.empty(np.shape(built))
    kernels.afforestable(np.ravel(landscape.water.values), np.ravel(built), np.ravel(forest), np.ravel(hill),
                         AFFOREST_SHARE, out.reshape(-1))
    return out


def afforest(forest: np.ndarray, need_km2_r: np.ndarray, potential: np.ndarray, grid: Grid) -> np.ndarray:
    """Add forest so each region gains ``need_km2_r`` km2, in proportion to ``potential``."""
    cap = grid.region_sums(potential) * grid.cell_area_km2
    frac = np.where(cap > 0, np.clip(need_km2_r / np.maximum(cap, 1e-300), 0.0, 1.0), 0.0)
    added = kernels.add_region_share(grid.region_index.ravel(), np.ravel(forest), np.ravel(potential), frac)
    return added.reshape(grid.shape)
