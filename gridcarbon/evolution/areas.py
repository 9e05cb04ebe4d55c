"""Area-source evolution: urban growth, and proxies that follow it.

Urban expansion is a cellular automaton on built-up *fractions* in the spirit of PLUS /
FLUS: each region's built-up area demand follows its GDP and population; the yearly
increment goes to cells in proportion to ``development probability x (URBAN_DRIVE_OFFSET +
neighbourhood built-up) x room``, never to constrained cells (water, ecological reserves,
high land). Afforestation is :mod:`.forest`'s (docs/architecture.md, "Evolution").
Built-up, water and room are fractions 0..1 of a cell's area.
"""
from __future__ import annotations

import numpy as np

from gridcarbon.core import regionkernels
from gridcarbon.core.cells import label_runs
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
#: passes of :func:`~gridcarbon.core.regionkernels.fill_room` per CA step: what full cells could not
#: take is redistributed twice more. ASSUMPTION: a small fixed number bounds the cost; what
#: is still unplaced carries over, as the next step's need is recomputed from demand
URBAN_FILL_PASSES = 3


def urban_allowed(landscape) -> np.ndarray:
    """Cells where built-up land may grow: below :data:`~gridcarbon.inventory.landscape.WATER_CELL`
    of water and :data:`~gridcarbon.inventory.landscape.ECO_RESERVE_CELL` of reserve, lower
    than :data:`URBAN_MAX_ELEV_M` (boolean, y, x)."""
    return ((landscape.water.values < WATER_CELL) & (landscape.eco_reserve.values < ECO_RESERVE_CELL)
            & (landscape.elevation_m.values < URBAN_MAX_ELEV_M))


def allowed_runs(allowed: np.ndarray, grid: Grid) -> np.ndarray:
    """The region runs (:func:`~gridcarbon.core.cells.label_runs`) of the cells of ``allowed``
    (boolean, y, x: :func:`urban_allowed`) inside a region, as positions in compact layers
    (:meth:`~gridcarbon.core.cells.CellIndex.runs`): the cells the CA may fill, (3, n_runs)."""
    return grid.cell_index.runs(label_runs(np.where(allowed, grid.region_index, -1)))


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

    ``built`` and ``water`` are fractions 0..1, ``probability`` the development probability
    0..1, each compact (one value per cell of the grid's :attr:`~Grid.cell_index`); ``demand_r``
    is per region (sum of fractions); ``allowed`` the :func:`allowed_runs` of the cells that may
    grow; ``noise`` the scale of Gumbel noise on the drive (0: none; drawn for every cell of the
    grid, the draws at the index's cells used). Returns the new built-up fraction (compact).
    Cells never exceed ``1 - water``.
    """
    index = grid.cell_index
    need = np.maximum(demand_r - grid.compact_region_sums(built), 0.0)
    out = np.array(built, np.float64)
    drive = regionkernels.urban_drive(index.cells, *grid.shape, out, URBAN_DRIVE_OFFSET, probability)
    if noise > 0 and rng is not None:
        draw = index.compact(rng.gumbel(size=grid.shape))
        draw *= noise
        drive *= np.exp(draw, out=draw)
    regionkernels.fill_room(allowed, water, drive, out, need, URBAN_FILL_PASSES)
    return out
