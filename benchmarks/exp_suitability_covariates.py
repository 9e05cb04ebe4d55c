"""Experiment: which covariates for the point-sector suitability models, judged by blocked CV
and by the siting backtest (a temporal hold-out) together.

Variants (each adds to the one before):

- ``before``: the covariates before this change, own cluster density leaking into the CV
  (a test cell's ``ind_<sector>`` counted the plants of its own test block);
- ``honest``: the same covariates, the own cluster density recomputed per fold without the
  test blocks' plants (``fit_suitability(..., own=...)``, as runs do now);
- ``+port``: plus ``dist_port_km`` (coast or Yangtze / Xijiang trunk waterway);
- ``+cropland``: plus the MODIS cropland fraction (the run's covariates now).

Per region set (yrd, china at 10 km), per sector (power, steel, cement): blocked-CV AUC of the
run's models (seeds 42, 1, 2: the mean and the seed-42 value a default run reports) and the
backtest AUC (models fitted on the plants of 2010, scored on the units started 2011-2024,
seed 42). Prints one table.

    python benchmarks/exp_suitability_covariates.py [--sets yrd,china]
"""
from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd

from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import GRIDDED
from gridcarbon.inputs.regions import load_regions
from gridcarbon.job import resolve, study_area
from gridcarbon.suitability.backtest import backtest
from gridcarbon.suitability.fitting import inventory_covariates, point_features
from gridcarbon.suitability.model import fit_suitability

SECTORS = ("power", "steel", "cement")
SEEDS = (42, 1, 2)
#: variant -> (covariates left out, own density honest in the CV)
VARIANTS = {"before": (["dist_port_km", "cropland"], False), "honest": (["dist_port_km", "cropland"], True),
            "+port": (["cropland"], True), "+cropland": ([], True)}


def study(region_set: str, res: float = 10_000.0):
    """Grid, inventory and the run's covariates of a built-in region set (through job.study_area)."""
    regions = load_regions(region_set)
    grid = Grid.from_regions(regions, res=res)
    area = study_area(resolve(f"{region_set}-enhanced"), grid, regions)
    cov = inventory_covariates(area.inventory, area.landscape, city_points=area.city_points, coast=area.coast)
    return grid, area.inventory, cov


def cv_aucs(region_set: str, grid: Grid, inv, cov) -> list[dict]:
    """Blocked-CV AUCs per sector x variant over :data:`SEEDS`."""
    layers = inv.emissions["emission"].values
    ncell = grid.shape[0] * grid.shape[1]
    rows = []
    for sector in SECTORS:
        cells = inv.facilities.cell[inv.facilities.sector == sector].to_numpy(np.int64)
        presence = (np.bincount(cells, minlength=ncell) > 0).reshape(grid.shape)
        for name, (left_out, honest) in VARIANTS.items():
            feats = [f for f in point_features(cov) if f not in left_out]
            own = (f"ind_{sector}", layers[GRIDDED.index(sector)]) if honest else None
            aucs = [fit_suitability(sector, presence, cov, grid, seed=s, features=feats, own=own).auc for s in SEEDS]
            rows.append({"set": region_set, "sector": sector, "variant": name, "cv_auc_seed42": aucs[0],
                         "cv_auc_mean": float(np.mean(aucs)), "cv_auc_min": min(aucs)})
            print(rows[-1], flush=True)
    return rows


def backtest_aucs(region_set: str, names: list[str]) -> list[dict]:
    """Backtest AUC and top-10 % share of the suitability model per sector x variant (the CV's
    leak does not touch the backtest's scores, so ``before`` equals ``honest`` there)."""
    rows = []
    for name, (left_out, _) in VARIANTS.items():
        if name == "before":
            continue
        table = backtest(region_set, features=[f for f in names if f not in left_out])
        for r in table[table.method == "suitability"].itertuples():
            rows.append({"set": region_set, "sector": r.sector, "variant": name, "backtest_auc": r.auc,
                         "backtest_top10": r.top10_share})
        print(rows[-3:], flush=True)
    return rows


def main(sets: list[str]) -> pd.DataFrame:
    warnings.simplefilter("ignore")
    tables = []
    for region_set in sets:
        grid, inv, cov = study(region_set)
        cv = pd.DataFrame(cv_aucs(region_set, grid, inv, cov))
        bt = pd.DataFrame(backtest_aucs(region_set, point_features(cov)))
        tables.append(cv.merge(bt, on=["set", "sector", "variant"], how="left"))
    table = pd.concat(tables, ignore_index=True)
    print(table.round(3).to_string(index=False))
    return table


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="yrd,china", help="region sets, comma-separated")
    main(parser.parse_args().sets.split(","))
