"""Suitability covariates (gridcarbon.suitability.covariates) are compact layers over the grid's
inside cells: the full-grid distances, densities and landscape values at those cells."""
from __future__ import annotations

import numpy as np

from gridcarbon.inputs.regions import load_regions
from gridcarbon.inventory.builtin import build_baseline
from gridcarbon.suitability.covariates import cluster_density, distance_km
from gridcarbon.suitability.fitting import inventory_covariates


def test_covariates_are_the_full_grid_layers_at_the_inside_cells():
    inv, land = build_baseline("yrd")
    grid = inv.grid
    coast = load_regions("yrd", "coast").to_crs(grid.crs).geometry
    cov = inventory_covariates(inv, land, coast=coast)
    cells = grid.cell_index
    assert 0 < cells.size < grid.shape[0] * grid.shape[1]  # the YRD's rectangle holds sea and other provinces
    assert all(cov[k].dims == ("cell",) and cov[k].size == cells.size and cov[k].dtype == np.float32 for k in cov)
    full = {"dist_coast_km": distance_km(coast, grid), "ind_power": cluster_density(inv.layer("power"), grid),
            "water": land.water.values, "log_pop_density": np.log1p(land.population.values / grid.cell_area_km2)}
    for name, layer in full.items():
        expected = np.where(grid.inside, layer, 0.0).astype(np.float32)
        assert np.array_equal(cells.expand(cov[name].values), expected), name
    assert float(cov["dist_coast_km"].max()) > 100.0  # inland cells are far from the sea
