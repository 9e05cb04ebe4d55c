"""Siting backtest: fit the suitability models on the plants of a past year, score them on
the plants built since (a temporal hold-out, docs/architecture.md, "Evolution").

For coal power (GEM coal units), steel (GEM iron and steel blocks) and cement (GEM
clinker-making plants) of a built-in region set: the plants operating in ``year`` (from the
shipped tables' status, start and retirement years) train the presence model of
:mod:`gridcarbon.suitability.model` on covariates of that year (corridors opened by then,
cluster densities of that year's plants); the units that started after ``year`` up to the
base year are the test set. Each method scores every cell inside the regions:

- ``suitability``: the model's siting probability;
- ``population_density``: persons / km2 (baseline);
- ``distance_to_plants``: minus the distance (km) to the nearest cell holding a plant of
  the sector in ``year`` (baseline).

Metrics per sector and method: ``auc`` (cells holding a new unit against all other cells
inside), ``auc_greenfield`` (the same without the cells that already held the sector in
``year``), ``top10_share`` (share of new units in the top :data:`TOP_SHARE` of cells) and
``median_km_to_top`` (median distance, km, from a new unit's cell to the nearest top cell).
Population, GDP and land cover are the base year's layers (no past layers are shipped), so
they favour the suitability model and the population baseline alike.
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import ndimage
from sklearn.metrics import roc_auc_score

from gridcarbon.core.errors import InputError
from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import POINT_SECTORS
from gridcarbon.core.units import T_PER_MT
from gridcarbon.inputs import facility_co2 as co2
from gridcarbon.inputs.data import read_table
from gridcarbon.inputs.facilities import (
    read_cement_plants,
    read_coal_units,
    read_steel_plants,
)
from gridcarbon.inputs.regions import load_regions
from gridcarbon.inventory.base import frame_coverage
from gridcarbon.inventory.builtin import build_baseline, calibration
from gridcarbon.suitability.covariates import build_covariates
from gridcarbon.suitability.fitting import point_features
from gridcarbon.suitability.model import fit_suitability

#: default past year. ASSUMPTION: 2010 leaves 14 years of new plants before the 2024 base year
#: (coal units: the 2011-2024 build-out; steel and cement: the capacity swaps after 2016)
DEFAULT_YEAR = 2010
#: earliest past year accepted. ASSUMPTION: before 1990 the trackers list too few plants with
#: start years for China's plant fleet of the time (a coal unit's start year is its own, a
#: steel or cement plant's the plant's founding year)
EARLIEST_YEAR = 1990
#: share (0..1) of the cells inside counted as top-ranked sites (issue 14: "top 10 % of cells")
TOP_SHARE = 0.10
#: sectors backtested, with their table reader and CO2 estimate (t CO2/yr in a year)
TABLES = {"power": (read_coal_units, co2.coal_co2), "steel": (read_steel_plants, co2.steel_co2),
          "cement": (read_cement_plants, co2.cement_co2)}
#: statuses of rows that were built at some time (the others are pipeline: announced,
#: pre-permit, permitted, construction, shelved)
BUILT_STATUSES = ("operating", "operating pre-retirement", "mothballed", "mothballed pre-retirement", "retired")
#: the methods compared, in output order
METHODS = ("suitability", "population_density", "distance_to_plants")


def plant_history(table: str, grid: Grid, year: int, base_year: int) -> pd.DataFrame:
    """Rows of a facility table (``power``, ``steel`` or ``cement``) inside ``grid``'s regions with
    ``cell`` (flat index), ``past`` (operating in ``year``), ``new`` (started in ``year`` + 1 ..
    ``base_year``) and ``co2_t`` (t CO2/yr as operating in ``year``; 0 unless ``past``).

    A row without a start year counts as operating in ``year`` (ASSUMPTION: the trackers
    leave the start year empty mostly for old plants; such a row never counts as new). A row
    retired without a retirement year (the cement tracker has none) counts as operating in
    ``year`` too (ASSUMPTION: China's cement closures came with the capacity cuts after 2016).
    Grinding-only cement plants (no kiln) are left out.
    """
    read, estimate = TABLES[table]
    frame = read()
    if "plant_type" in frame.columns:
        frame = frame[frame["plant_type"] != "grinding"]
    frame = frame[frame["region"].isin(list(grid.regions)) & frame["status"].isin(BUILT_STATUSES)]
    frame = frame.reset_index(drop=True)
    start = frame["start_year"]
    retired = frame["retired_year"] if "retired_year" in frame.columns else pd.Series(pd.NA, index=frame.index)
    past = ~(start > year).fillna(False).astype(bool) & ~(retired <= year).fillna(False).astype(bool)
    new = ((start > year) & (start <= base_year)).fillna(False).astype(bool)
    as_then = frame.assign(status="operating", retired_year=pd.NA, start_year=pd.NA)
    co2_t = estimate(as_then, year)["co2_t"].where(past, 0.0)
    cov = frame_coverage(frame.to_crs(grid.crs), grid, own_region=True)
    cell = np.full(len(frame), -1, np.int64)
    cell[cov.src] = cov.cell
    return pd.DataFrame({"cell": cell, "past": past.to_numpy(), "new": new.to_numpy(),
                         "co2_t": co2_t.fillna(0.0).to_numpy()})


def backtest(region_set: str = "yrd", *, year: int = DEFAULT_YEAR, res: float = 10_000.0,
             seed: int = 42, features: list[str] | None = None) -> pd.DataFrame:
    """One row per sector (power, steel, cement) x method (:data:`METHODS`): see the module
    docstring. Columns: region_set, year, base_year, sector, method, train_plants,
    train_cells, new_units, new_cells, auc, auc_greenfield, top10_share (0..1),
    median_km_to_top (km), cv_auc (the model's blocked-CV AUC on ``year``'s plants; NaN for
    the baselines). ``features``: the models' covariates (default: a run's,
    :func:`~gridcarbon.suitability.fitting.point_features`). Deterministic under ``seed``.
    """
    base_year = int(calibration(region_set)["base_year"])
    if not EARLIEST_YEAR <= year < base_year:
        raise InputError(f"backtest year {year} must lie in {EARLIEST_YEAR}..{base_year - 1} "
                         f"(before the {region_set} base year {base_year})")
    grid = Grid.from_regions(load_regions(region_set), res=res)
    inv, landscape = build_baseline(region_set, grid=grid)
    history = {s: plant_history(s, grid, year, base_year) for s in TABLES}
    covariates = _past_covariates(region_set, grid, inv.lines, landscape, history, year)
    features = features or point_features(covariates)
    rows = []
    for sector, plants in history.items():
        plants = plants[plants.cell >= 0]
        past_layer = _layer(plants[plants.past], grid)
        model = fit_suitability(sector, past_layer > 0, covariates, grid, seed=seed,
                                features=features, own=(f"ind_{sector}", past_layer))
        scores = {"suitability": model.predict(covariates, grid).astype(np.float64),
                  "population_density": landscape.population.values.astype(np.float64),
                  "distance_to_plants": -ndimage.distance_transform_edt(past_layer <= 0) * grid.res / 1e3}
        info = {"region_set": region_set, "year": year, "base_year": base_year, "sector": sector,
                "train_plants": int(plants.past.sum()), "train_cells": int((past_layer > 0).sum())}
        for method in METHODS:
            metrics = score_sites(scores[method], plants.cell[plants.new].to_numpy(), past_layer > 0, grid)
            rows.append(info | {"method": method, **metrics,
                                "cv_auc": model.auc if method == "suitability" else np.nan})
    return pd.DataFrame(rows)


def score_sites(score: np.ndarray, new_cells: np.ndarray, occupied: np.ndarray, grid: Grid) -> dict:
    """Metrics of a (y, x) ``score`` (higher = more suitable) against the flat cells of new units
    (one entry per unit); ``occupied`` marks the cells that held the sector before."""
    inside = grid.inside.ravel()
    flat = score.ravel()
    hit = np.zeros(inside.size, bool)
    hit[new_cells] = True
    green = inside & ~occupied.ravel()
    order = np.flatnonzero(inside)[np.argsort(-flat[inside], kind="stable")]
    top = np.zeros(inside.size, bool)
    top[order[:int(np.ceil(TOP_SHARE * inside.sum()))]] = True
    to_top = ndimage.distance_transform_edt(~top.reshape(grid.shape)).ravel() * grid.res / 1e3
    return {"new_units": int(new_cells.size), "new_cells": int(hit.sum()),
            "auc": _auc(hit[inside], flat[inside]), "auc_greenfield": _auc(hit[green], flat[green]),
            "top10_share": float(top[new_cells].mean()) if new_cells.size else np.nan,
            "median_km_to_top": float(np.median(to_top[new_cells])) if new_cells.size else np.nan}


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    return float(roc_auc_score(y, score)) if 0 < y.sum() < y.size else np.nan


def _layer(plants: pd.DataFrame, grid: Grid) -> np.ndarray:
    """(y, x) t CO2/yr/cell of ``plants`` (rows with ``cell`` and ``co2_t``)."""
    flat = np.bincount(plants.cell.to_numpy(np.int64), weights=plants.co2_t.to_numpy(),
                       minlength=grid.shape[0] * grid.shape[1])
    return flat.reshape(grid.shape)


def _past_covariates(region_set: str, grid: Grid, lines: gpd.GeoDataFrame, landscape, history: dict,
                     year: int):
    """Covariates as in a run, with the corridors opened by ``year`` and the cluster densities
    of ``year``'s coal units, steel blocks, cement plants and illustrative chemical sites."""
    cal = calibration(region_set)
    chem = read_table(f"{region_set}_plants.csv")
    chem = chem[(chem.sector == "chemical") & (chem.year_built <= year)]
    intensity = chem.technology.map(cal["chemical_intensity"]).fillna(cal["chemical_intensity"]["default"])
    points = gpd.GeoSeries(gpd.points_from_xy(chem.lon, chem.lat), crs="EPSG:4326").to_crs(grid.crs)
    row, col = grid.cell_of(points.x.to_numpy(), points.y.to_numpy())
    ok = (row >= 0) & (col >= 0)
    chem_cells = pd.DataFrame({"cell": (row * grid.shape[1] + col)[ok],
                               "co2_t": (chem.capacity * intensity).to_numpy()[ok] * T_PER_MT})
    layers = {s: _layer(h[h.past & (h.cell >= 0)], grid) for s, h in history.items()}
    layers["chemical"] = _layer(chem_cells, grid)
    cities = read_table(f"{region_set}_cities.csv")
    cities = cities[cities.level == "prefecture"]
    city_points = gpd.GeoSeries(gpd.points_from_xy(cities.lon, cities.lat), crs="EPSG:4326").to_crs(grid.crs)
    coast = load_regions(region_set, "coast").to_crs(grid.crs).geometry
    opened = lines[~(lines["opened"] > year).fillna(False).astype(bool)]
    return build_covariates(grid, landscape=landscape, lines=opened, coast=coast, city_points=city_points,
                            point_layers={s: layers.get(s, np.zeros(grid.shape)) for s in POINT_SECTORS})
