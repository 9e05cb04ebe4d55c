"""Experiment: should a YRD run's suitability models learn from the national plant set?

Spatially blocked CV on YRD cells at 10 km, per point sector, with the default run's model
settings (gridcarbon.suitability.model) and features (every covariate but built_up):

- A, YRD only: train on YRD presences + background (the default run's training set);
- B, national: train on China presences + background (national covariates), every China
  cell in the test fold's 100 km tiles left out; predict the YRD test cells from the national
  covariates (``B``) and from the YRD run's own covariates (``B_yrd_cov``);
- C300, regional: as B, with only the China cells within 300 km of the YRD.

No leakage in any variant: as in the runs (``fit_suitability(..., own=...)``), each fold
recomputes the sector's own cluster density (``ind_<sector>``) from its plants outside the
test tiles, for the training and the test cells alike, on the YRD and on the national grid.
All variants use the same folds. Tiles are 100 km squares in absolute grid coordinates,
because the YRD and China grids have different origins. AUCs on few presences (steel: 52 YRD
cells) move a lot with the tile layout, so the experiment repeats over tile offsets and seeds
and reports mean, std, min and max.

    python benchmarks/exp_suitability_training_set.py [--configs N] [--sectors power,steel]
"""
from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd
from exp_suitability_covariates import study
from scipy import ndimage
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold

from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import GRIDDED
from gridcarbon.suitability import model as M
from gridcarbon.suitability.covariates import cluster_density

RES = 10_000.0  # m; the study area comes from exp_suitability_covariates.study (job.study_area)
SECTORS = ("power", "steel", "cement")
#: (tile offset x, y in m; seed) of each repetition
CONFIGS = [((0, 0), 42), ((5e4, 0), 42), ((0, 5e4), 42), ((5e4, 5e4), 42), ((0, 0), 1), ((0, 0), 2),
           ((2.5e4, 7.5e4), 7)]
#: reach (km) of the regional training set C around the YRD
BUFFER_KM = 300.0


def tiles(grid: Grid, offset) -> np.ndarray:
    """100 km tile id of every flat cell, in absolute coordinates shifted by ``offset`` (m)."""
    row, col = np.divmod(np.arange(grid.shape[0] * grid.shape[1]), grid.shape[1])
    x = grid.bounds[0] + (col + 0.5) * grid.res + offset[0]
    y = grid.bounds[3] - (row + 0.5) * grid.res + offset[1]
    return np.floor(x / (M.BLOCK_KM * 1e3)).astype(np.int64) * 1_000_003 + np.floor(y / (M.BLOCK_KM * 1e3)).astype(np.int64)


def presence(inv, sector: str) -> np.ndarray:
    cells = inv.facilities.cell[inv.facilities.sector == sector].to_numpy(np.int64)
    return np.bincount(cells, minlength=inv.grid.shape[0] * inv.grid.shape[1]) > 0


def fit(X, y, seed):
    with warnings.catch_warnings():
        return ExtraTreesClassifier(n_estimators=M.N_ESTIMATORS, max_depth=M.MAX_DEPTH,
                                    min_samples_leaf=M.MIN_SAMPLES_LEAF, max_features=M.MAX_FEATURES,
                                    class_weight=M.CLASS_WEIGHT, n_jobs=M.FIT_JOBS,
                                    random_state=seed).fit(X, y).set_params(n_jobs=1)


class Side:
    """One grid's training cells, features and own-sector layer for a sector."""

    def __init__(self, study_, sector, seed, offset, feats):
        self.grid, inv, cov = study_
        p = presence(inv, sector)
        self.rows = M._training_cells(p, self.grid.inside.ravel(), seed)
        self.y = p[self.rows].astype(int)
        self.tile_all = tiles(self.grid, offset)
        self.tiles = self.tile_all[self.rows]
        self.cov, self.feats = cov, feats
        self.own = inv.emissions["emission"].values[GRIDDED.index(sector)]
        self.col = feats.index(f"ind_{sector}")

    def matrix(self, rows, test_tiles):
        """Features of flat ``rows`` with the own density recomputed without ``test_tiles``' plants."""
        X = np.column_stack([self.cov[f].values.ravel()[rows] for f in self.feats])
        kept = np.where(np.isin(self.tile_all, test_tiles).reshape(self.grid.shape), 0.0, self.own)
        X[:, self.col] = cluster_density(kept, self.grid).ravel()[rows]
        return X


def one(sector, yrd, china, offset, seed, near) -> dict:
    feats = [f for f in yrd[2].data_vars if f != "built_up"]
    a, b = Side(yrd, sector, seed, offset, feats), Side(china, sector, seed, offset, feats)
    shift = (round((b.grid.bounds[3] - a.grid.bounds[3]) / RES), round((a.grid.bounds[0] - b.grid.bounds[0]) / RES))
    row, col = np.divmod(a.rows, a.grid.shape[1])
    a_in_china = (row + shift[0]) * b.grid.shape[1] + col + shift[1]
    oof = {k: np.zeros(len(a.rows)) for k in ("A", "B", "B_yrd_cov", "C300")}
    folds = min(M.N_FOLDS, len(np.unique(a.tiles[a.y == 1])))
    for train, test in GroupKFold(n_splits=folds).split(a.rows, a.y, a.tiles):
        held = np.unique(a.tiles[test])
        Xa, Xa_nat, Xb = a.matrix(a.rows, held), b.matrix(a_in_china, held), b.matrix(b.rows, held)
        oof["A"][test] = fit(Xa[train], a.y[train], seed).predict_proba(Xa[test])[:, 1]
        keep = ~np.isin(b.tiles, held)
        national = fit(Xb[keep], b.y[keep], seed)
        oof["B"][test] = national.predict_proba(Xa_nat[test])[:, 1]
        oof["B_yrd_cov"][test] = national.predict_proba(Xa[test])[:, 1]
        regional = keep & near[b.rows]
        oof["C300"][test] = fit(Xb[regional], b.y[regional], seed).predict_proba(Xa_nat[test])[:, 1]
    return {"sector": sector, "offset_km": f"{offset[0] / 1e3:g},{offset[1] / 1e3:g}", "seed": seed,
            "yrd_presences": int(a.y.sum()), "china_presences": int(b.y.sum()),
            **{k: roc_auc_score(a.y, v) for k, v in oof.items()}}


def near_yrd(yrd_grid: Grid, china_grid: Grid) -> np.ndarray:
    """Flat China cells within :data:`BUFFER_KM` of a YRD cell."""
    shift = (round((china_grid.bounds[3] - yrd_grid.bounds[3]) / RES),
             round((yrd_grid.bounds[0] - china_grid.bounds[0]) / RES))
    mask = np.zeros(china_grid.shape, bool)
    mask[shift[0]:shift[0] + yrd_grid.shape[0], shift[1]:shift[1] + yrd_grid.shape[1]] = yrd_grid.inside
    return (ndimage.distance_transform_edt(~mask) * RES / 1e3 <= BUFFER_KM).ravel()


def main(configs: int = len(CONFIGS), sectors=SECTORS) -> pd.DataFrame:
    yrd, china = study("yrd", RES), study("china", RES)
    near = near_yrd(yrd[0], china[0])
    rows = []
    for offset, seed in CONFIGS[:configs]:
        for sector in sectors:
            rows.append(one(sector, yrd, china, offset, seed, near))
            print({k: round(v, 4) if isinstance(v, float) else v for k, v in rows[-1].items()}, flush=True)
    table = pd.DataFrame(rows)
    print(table.groupby("sector")[["A", "B", "B_yrd_cov", "C300"]].agg(["mean", "std", "min", "max"]).round(3).T
          .to_string())
    return table


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=len(CONFIGS), help="repetitions (tile offset, seed) to run")
    parser.add_argument("--sectors", default=",".join(SECTORS), help="point sectors, comma-separated")
    args = parser.parse_args()
    main(args.configs, args.sectors.split(","))
