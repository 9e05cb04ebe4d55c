"""Suitability of a run: covariates of the base-year inventory, the fitted models and their surfaces.

Fitted once per run (:func:`fit_suitability_surfaces`) and handed to both the coupling
loop and the evolution: one presence model per point sector with at least
:data:`MIN_PRESENCE` plants, plus the urban development model, each predicted into a
surface of siting probabilities (0..1 per cell).
"""
from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import xarray as xr

from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import GRIDDED, POINT_SECTORS
from gridcarbon.core.worker import Background
from gridcarbon.inventory.base import Inventory
from gridcarbon.suitability.covariates import build_covariates
from gridcarbon.suitability.model import SuitabilityModel, fit_suitability

#: built-up fraction that marks a cell as urban for the development-probability model
#: (ASSUMPTION: a cell more than half built up is urban land in the land-cover sense)
URBAN_PRESENCE = 0.5
#: covariates the urban model may use (not population or GDP: they are drawn from built-up)
URBAN_FEATURES = ["dist_coast_km", "dist_waterway_km", "dist_motorway_km", "dist_rail_km",
                  "dist_city_km", "elevation_m", "water", "forest", "eco_reserve"]
#: fewest plants a point sector needs for a presence model (blocked CV needs presences in
#: several folds); a sector with fewer is sited uniformly inside its regions
MIN_PRESENCE = 3


@dataclass(frozen=True)
class Suitability:
    """The fitted models and their surfaces by target (point sectors and ``urban``): siting
    probabilities 0..1, compact (one per cell of the grid's
    :attr:`~gridcarbon.core.grid.Grid.cell_index`, 0 elsewhere: China at 1 km, 38 MB a surface)."""

    models: dict[str, SuitabilityModel]
    surfaces: dict[str, np.ndarray]

    def summary(self) -> dict:
        """AUCs, fold AUCs and feature importances of every model (for the manifest)."""
        return {k: m.summary() for k, m in self.models.items()}


def fit_suitability_surfaces(inv: Inventory, landscape: xr.Dataset, *, seed: int,
                             city_points: gpd.GeoSeries | None = None,
                             coast: gpd.GeoSeries | None = None) -> Suitability:
    """Fit the models on ``inv``'s covariates and predict their surfaces on its grid.

    ``city_points`` and ``coast`` (any CRS) feed the distance covariates; empty or None mean
    'far away'. Deterministic under ``seed``.
    """
    covariates = inventory_covariates(inv, landscape, city_points=city_points, coast=coast)
    models = fit_models(inv, covariates, landscape, seed=seed)
    return Suitability(models, predict_surfaces(models, covariates, inv.grid))


def inventory_covariates(inv: Inventory, landscape: xr.Dataset, *, city_points: gpd.GeoSeries | None = None,
                         coast: gpd.GeoSeries | None = None) -> xr.Dataset:
    """Covariates of an inventory's grid (empty city or coast layers mean 'far away')."""
    empty = gpd.GeoSeries([], crs=inv.grid.crs)
    layers = inv.emissions["emission"].values
    return build_covariates(inv.grid, landscape=landscape, lines=inv.lines,
                            coast=empty if coast is None else coast,
                            city_points=empty if city_points is None else city_points,
                            point_layers={s: layers[GRIDDED.index(s)] for s in POINT_SECTORS})


def fit_models(inv: Inventory, covariates: xr.Dataset, landscape: xr.Dataset, *,
               seed: int) -> dict[str, SuitabilityModel]:
    """Suitability per point sector (presence of today's plants) plus the urban model.

    Cross-validations not in the cache run in one forked worker process beside the rest of
    the run (their AUCs are needed only for the manifest); the final forests are fitted here.
    """
    ncell = inv.grid.shape[0] * inv.grid.shape[1]
    layers = inv.emissions["emission"].values
    models = {}
    background = Background(inline=inv.grid.large)  # 1 km: the folds' full-grid densities stay in one process
    for s in POINT_SECTORS:
        cells = inv.facilities.cell[inv.facilities.sector == s].to_numpy(np.int64)
        if cells.size >= MIN_PRESENCE:
            presence = np.bincount(cells, minlength=ncell).reshape(inv.grid.shape) > 0
            models[s] = fit_suitability(s, presence, covariates, inv.grid, seed=seed, features=point_features(covariates),
                                        own=(f"ind_{s}", inv.grid.cell_index.full(layers[GRIDDED.index(s)])),
                                        background=background)
    urban = landscape.built_up.values >= URBAN_PRESENCE
    models["urban"] = fit_suitability("urban", urban, covariates, inv.grid, seed=seed, features=URBAN_FEATURES,
                                      background=background)
    background.release()
    return models


def point_features(covariates: xr.Dataset) -> list[str]:
    """Covariates of the point-sector models: all but ``built_up`` (population and GDP carry it)."""
    return [f for f in covariates.data_vars if f != "built_up"]


def predict_surfaces(models: dict[str, SuitabilityModel], covariates: xr.Dataset,
                     grid: Grid) -> dict[str, np.ndarray]:
    """Suitability (0..1, compact on the grid's cell index) per point sector (uniform when a sector
    has no model) and ``urban``."""
    surfaces = {s: models[s].predict_cells(covariates, grid) if s in models
                else np.ones(grid.cell_index.size, grid.storage_dtype) for s in POINT_SECTORS}
    surfaces["urban"] = models["urban"].predict_cells(covariates, grid)
    return surfaces
