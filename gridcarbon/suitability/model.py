"""Suitability models: where do sources of a sector sit today, and where could they go?

Per sector a scikit-learn ExtraTrees classifier learns presence of today's sources from
the cell covariates (on the YRD it scored higher blocked-CV AUC than HistGradientBoosting
and RandomForest, and fits in a fraction of the time). Background cells are subsampled to
at most :data:`MAX_BACKGROUND`, so a 1 km grid trains as fast as a 10 km one. Skill is measured with *spatially blocked* cross
validation (GroupKFold over square tiles, never a random split of neighbouring cells),
and reported as AUC with feature importances (mean decrease in impurity of the trees). Models are deterministic under
the scenario seed and can be saved and reloaded; a loaded model's sha256 is checked.
"""
from __future__ import annotations

import hashlib
import pickle
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold

from gridcarbon.core.errors import InputError
from gridcarbon.core.grid import Grid

#: side of the square cross-validation blocks (km): wider than the industrial-density window
BLOCK_KM = 100.0
N_FOLDS = 5
MAX_BACKGROUND = 20_000
#: cells per prediction chunk (a 16-feature float32 chunk is ~64 MB)
PREDICT_CELLS = 1_000_000


@dataclass
class SuitabilityModel:
    """A fitted presence model for one target (a sector, or ``urban``)."""

    target: str
    features: list[str]
    estimator: ExtraTreesClassifier
    auc: float
    auc_folds: list[float]
    importances: dict[str, float]
    n_presence: int
    meta: dict = field(default_factory=dict)

    def predict(self, covariates: xr.Dataset, grid: Grid) -> np.ndarray:
        """Siting probability per cell (y, x, :attr:`Grid.storage_dtype`); 0 outside every region.

        Computed per stripe of about :data:`PREDICT_CELLS` cells as a dask array on local
        threads (tree traversal releases the GIL), so a national 1 km grid never builds
        its whole feature matrix; each cell's value does not depend on the chunking.
        """
        import dask.array as da

        rows = max(1, PREDICT_CELLS // grid.shape[1])
        # name=False: no hashing of 100 MB layers for a graph computed once
        stack = da.stack([da.from_array(np.asarray(covariates[f].values), chunks=(rows, -1), name=False)
                          for f in self.features])
        inside = da.from_array(grid.inside, chunks=(rows, -1), name=False)
        prob = da.map_blocks(self._predict_block, stack, inside, drop_axis=0, dtype=grid.storage_dtype,
                             out_dtype=grid.storage_dtype)
        return prob.compute(scheduler="threads")

    def _predict_block(self, features: np.ndarray, inside: np.ndarray, *, out_dtype: type) -> np.ndarray:
        out = np.zeros(inside.shape, out_dtype)
        if inside.any():
            out[inside] = self.estimator.predict_proba(features[:, inside].T)[:, 1]
        return out

    def summary(self) -> dict:
        top = sorted(self.importances.items(), key=lambda kv: -kv[1])[:5]
        return {"auc_blocked_cv": round(self.auc, 4), "auc_folds": [round(a, 4) for a in self.auc_folds],
                "presence_cells": self.n_presence, "top_features": {k: round(v, 4) for k, v in top}}

    def save(self, path: str | Path) -> str:
        """Pickle to ``path``; returns the file's sha256 (recorded in the run manifest)."""
        data = pickle.dumps(self, protocol=5)
        Path(path).write_bytes(data)
        return hashlib.sha256(data).hexdigest()


def load_model(path: str | Path, *, sha256: str) -> SuitabilityModel:
    """Load a saved model only if its bytes match the expected ``sha256`` (pickles run code)."""
    data = Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise InputError("suitability model hash mismatch", source=str(path),
                         hint="only load models written by gridcarbon runs you trust")
    return pickle.loads(data)  # noqa: S301 - hash-checked above


def _matrix(covariates: xr.Dataset, features: list[str], rows: np.ndarray) -> np.ndarray:
    """(len(rows), n_features) covariates of the flat cells ``rows``."""
    return np.column_stack([covariates[f].values.ravel()[rows] for f in features])


def spatial_blocks(grid: Grid, block_km: float = BLOCK_KM, *, cells: np.ndarray | None = None) -> np.ndarray:
    """Tile id of each cell (flat), or of the flat ``cells``: cells within the same block_km square share an id."""
    k = max(1, int(round(block_km * 1000.0 / grid.res)))
    cells = np.arange(grid.shape[0] * grid.shape[1]) if cells is None else np.asarray(cells)
    rows, cols = np.divmod(cells, grid.shape[1])
    return (rows // k) * (grid.shape[1] // k + 1) + cols // k


def fit_suitability(target: str, presence: np.ndarray, covariates: xr.Dataset, grid: Grid, *,
                    seed: int, features: list[str] | None = None) -> SuitabilityModel:
    """Fit a presence model with spatially blocked CV.

    ``presence`` is a boolean (y, x) mask of cells holding the target today; every other
    cell inside the regions is background.
    """
    features = features or list(covariates.data_vars)
    rows = _training_cells(presence.ravel(), grid.inside.ravel(), seed)
    X = _matrix(covariates, features, rows)
    y = presence.ravel()[rows].astype(int)
    groups = spatial_blocks(grid, cells=rows)
    n_pos = int(y.sum())
    if n_pos < 3 or n_pos == y.size:
        raise InputError(f"too few presence cells ({n_pos}) to learn where {target} sources sit")

    def estimator():  # trees are seeded one by one, so parallel fits are reproducible; threaded
        # predict_proba is not (trees are summed in thread order), hence n_jobs=1 after fitting
        return ExtraTreesClassifier(n_estimators=120, min_samples_leaf=3, max_features="sqrt",
                                    class_weight="balanced_subsample", n_jobs=2, random_state=seed)

    def fit(rows_x, rows_y):
        # scikit-learn's worker threads reset the process-wide warning filters, which is not
        # thread-safe before Python 3.14: keep the caller's filters around every fit
        with warnings.catch_warnings():
            return estimator().fit(rows_x, rows_y)

    oof = np.zeros(y.size)
    aucs = []
    n_splits = min(N_FOLDS, len(np.unique(groups[y == 1])))
    for train, test in GroupKFold(n_splits=n_splits).split(X, y, groups):
        model = fit(X[train], y[train]).set_params(n_jobs=1)
        oof[test] = model.predict_proba(X[test])[:, 1]
        if 0 < y[test].sum() < test.size:
            aucs.append(float(roc_auc_score(y[test], oof[test])))
    auc = float(roc_auc_score(y, oof))
    final = fit(X, y).set_params(n_jobs=1)  # see estimator(): predict serially
    importances = dict(zip(features, (float(v) for v in final.feature_importances_)))
    return SuitabilityModel(target, features, final, auc, aucs, importances, n_pos,
                            {"block_km": BLOCK_KM, "folds": n_splits, "seed": seed,
                             "background_cells": int(y.size - n_pos)})


def _training_cells(presence: np.ndarray, inside: np.ndarray, seed: int) -> np.ndarray:
    """All presence cells plus at most MAX_BACKGROUND background cells (seeded sample)."""
    pos = np.flatnonzero(presence & inside)
    background = np.flatnonzero(~presence & inside)
    if background.size > MAX_BACKGROUND:
        background = np.sort(np.random.default_rng(seed).choice(background, MAX_BACKGROUND, replace=False))
    return np.sort(np.concatenate([pos, background]))
