"""Experiment: should a YRD run's suitability models learn from the national plant set?

Spatially blocked CV on YRD cells at 10 km, per point sector, with the default run's model
settings (gridcarbon.suitability.model) and features (every covariate but built_up):

- A, YRD only: train on YRD presences + background (the default run's training set);
- B, national: train on China presences + background (national covariates), every China
  cell in the test fold's 100 km tiles left out; predict the YRD test cells from the national
  covariates (``B``) and from the YRD run's own covariates (``B_yrd_cov``).

Both use the same folds. Tiles are 100 km squares in absolute grid coordinates, because the
YRD and China grids have different origins. AUCs on few presences (steel: 52 YRD cells)
move a lot with the tile layout, so the experiment repeats over tile offsets and seeds and
reports mean, std, min and max.

    python benchmarks/exp_suitability_training_set.py [--configs N]
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from exp_suitability_covariates import study
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold

from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import POINT_SECTORS
from gridcarbon.suitability import model as M
from gridcarbon.suitability.fitting import MIN_PRESENCE

RES = 10_000.0  # m; the study area comes from exp_suitability_covariates.study (job.study_area)
#: (tile offset x, y in m; seed) of each repetition
CONFIGS = [((0, 0), 42), ((5e4, 0), 42), ((0, 5e4), 42), ((5e4, 5e4), 42), ((0, 0), 1), ((0, 0), 2),
           ((2.5e4, 7.5e4), 7)]


def tiles(grid: Grid, cells: np.ndarray, offset) -> np.ndarray:
    """100 km tile id of flat cells, in absolute coordinates shifted by ``offset`` (m)."""
    row, col = np.divmod(cells, grid.shape[1])
    x = grid.bounds[0] + (col + 0.5) * grid.res + offset[0]
    y = grid.bounds[3] - (row + 0.5) * grid.res + offset[1]
    return np.floor(x / (M.BLOCK_KM * 1e3)).astype(np.int64) * 1_000_003 + np.floor(y / (M.BLOCK_KM * 1e3)).astype(np.int64)


def presence(inv, sector: str) -> np.ndarray:
    cells = inv.facilities.cell[inv.facilities.sector == sector].to_numpy(np.int64)
    return np.bincount(cells, minlength=inv.grid.shape[0] * inv.grid.shape[1]) > 0


def forest(seed: int) -> ExtraTreesClassifier:
    return ExtraTreesClassifier(n_estimators=M.N_ESTIMATORS, max_depth=M.MAX_DEPTH, min_samples_leaf=M.MIN_SAMPLES_LEAF,
                                max_features=M.MAX_FEATURES, class_weight=M.CLASS_WEIGHT, n_jobs=M.FIT_JOBS,
                                random_state=seed)


def fit(X, y, seed):
    with warnings.catch_warnings():
        return forest(seed).fit(X, y).set_params(n_jobs=1)


def one(sector, yrd, china, offset, seed) -> dict:
    (gy, iy, cy), (gc, ic, cc) = yrd, china
    feats = [f for f in cy.data_vars if f != "built_up"]
    shift = (round((gc.bounds[3] - gy.bounds[3]) / RES), round((gy.bounds[0] - gc.bounds[0]) / RES))
    py, pc = presence(iy, sector), presence(ic, sector)
    ry, rc = M._training_cells(py, gy.inside.ravel(), seed), M._training_cells(pc, gc.inside.ravel(), seed)
    yy, yc = py[ry].astype(int), pc[rc].astype(int)
    row, col = np.divmod(ry, gy.shape[1])
    ry_in_china = (row + shift[0]) * gc.shape[1] + col + shift[1]
    matrix = lambda cov, rows: np.column_stack([cov[f].values.ravel()[rows] for f in feats])  # noqa: E731
    Xy, Xy_nat, Xc = matrix(cy, ry), matrix(cc, ry_in_china), matrix(cc, rc)
    ty, tc = tiles(gy, ry, offset), tiles(gc, rc, offset)
    oof = {k: np.zeros(len(ry)) for k in ("A", "B", "B_yrd_cov")}
    fit_s = {"A": 0.0, "B": 0.0}
    folds = min(M.N_FOLDS, len(np.unique(ty[yy == 1])))
    for train, test in GroupKFold(n_splits=folds).split(Xy, yy, ty):
        t0 = time.perf_counter()
        a = fit(Xy[train], yy[train], seed)
        fit_s["A"] += time.perf_counter() - t0
        keep = ~np.isin(tc, np.unique(ty[test]))
        t0 = time.perf_counter()
        b = fit(Xc[keep], yc[keep], seed)
        fit_s["B"] += time.perf_counter() - t0
        oof["A"][test] = a.predict_proba(Xy[test])[:, 1]
        oof["B"][test] = b.predict_proba(Xy_nat[test])[:, 1]
        oof["B_yrd_cov"][test] = b.predict_proba(Xy[test])[:, 1]
    return {"sector": sector, "offset_km": f"{offset[0] / 1e3:g},{offset[1] / 1e3:g}", "seed": seed,
            "yrd_presences": int(yy.sum()), "china_presences": int(yc.sum()),
            **{k: roc_auc_score(yy, v) for k, v in oof.items()},
            "fit_s_A": fit_s["A"] / folds, "fit_s_B": fit_s["B"] / folds}


def main(configs: int = len(CONFIGS)) -> pd.DataFrame:
    t0 = time.perf_counter()
    yrd, china = study("yrd", RES), study("china", RES)
    print(f"YRD + China baselines and covariates: {time.perf_counter() - t0:.1f} s")
    rows = []
    for offset, seed in CONFIGS[:configs]:
        for sector in POINT_SECTORS:
            if presence(yrd[1], sector).sum() >= MIN_PRESENCE:
                rows.append(one(sector, yrd, china, offset, seed))
                print({k: round(v, 4) if isinstance(v, float) else v for k, v in rows[-1].items()})
    table = pd.DataFrame(rows)
    print(table.groupby("sector")[["A", "B", "B_yrd_cov", "fit_s_A", "fit_s_B"]]
          .agg(["mean", "std", "min", "max"]).round(3).to_string())
    return table


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=len(CONFIGS), help="repetitions (tile offset, seed) to run")
    main(parser.parse_args().configs)
