"""Suitability models: where do sources of a sector sit today, and where could they go?

Per sector a scikit-learn ExtraTrees classifier learns presence of today's sources from
the cell covariates (on the YRD it scored higher blocked-CV AUC than HistGradientBoosting
and RandomForest, and fits in a fraction of the time). Background cells are subsampled to
at most :data:`MAX_BACKGROUND`, so a 1 km grid trains as fast as a 10 km one. Skill is
measured with *spatially blocked* cross validation (GroupKFold over square tiles of
:data:`BLOCK_KM`, never a random split of neighbouring cells; a sector's own cluster density
is recomputed per fold without the test blocks' plants), and reported as AUC with feature
importances (mean decrease in impurity of the trees) (docs/architecture.md, "Evolution"). The
temporal counterpart is :mod:`gridcarbon.suitability.backtest`. Models are deterministic under the scenario seed and can be saved and
reloaded; a loaded model's sha256 is checked. Predictions are siting probabilities 0..1.
"""
from __future__ import annotations

import hashlib
import pickle
import sys
import warnings
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from gridcarbon.core.cache import cached_bytes, cached_pickle, digest
from gridcarbon.core.errors import InputError
from gridcarbon.core.grid import Grid
from gridcarbon.core.options import get_option
from gridcarbon.core.worker import Background
from gridcarbon.suitability.cache import KIND, cached_json, fit_key, stored_json
from gridcarbon.suitability.covariates import DENSITY_RADIUS_KM, cluster_density
from gridcarbon.suitability.prediction import presence_probability

if TYPE_CHECKING:  # scikit-learn is imported where a forest is fitted or scored: a run whose
    # models, surfaces and saved bytes are all in the cache never loads it (0.5-0.8 s)
    from sklearn.ensemble import ExtraTreesClassifier

# -- spatially blocked cross-validation ----------------------------------------------------
#: side of the square cross-validation blocks (km): wider than the industrial-density window
#: (2 x :data:`~gridcarbon.suitability.covariates.DENSITY_RADIUS_KM` = 50 km), so a test
#: cell's density covariate does not see the plants of the training blocks around it
BLOCK_KM = 100.0
#: cross-validation folds (at most; fewer when fewer blocks hold presences). ASSUMPTION: the
#: common 5-fold split: each model is trained on 80 % of the blocks
N_FOLDS = 5
#: fewest presence cells a model is fitted from: fewer cannot fill several folds
MIN_PRESENCE_CELLS = 3

# -- training sample -----------------------------------------------------------------------
#: most background (absence) cells drawn for training, seeded. ASSUMPTION: a sample this
#: size covers the background's covariate space; more cells only cost time (a 1 km national
#: grid has some 9.6 M cells inside)
MAX_BACKGROUND = 20_000

# -- ExtraTrees settings -------------------------------------------------------------------
#: trees per forest. ASSUMPTION: about a hundred trees give stable probabilities while a fit
#: on :data:`MAX_BACKGROUND` cells takes seconds; no tuning record is kept
N_ESTIMATORS = 120
#: fewest training cells per leaf (scikit-learn's default is 1). ASSUMPTION: leaves of a few
#: cells smooth the probabilities, so no leaf isolates a single plant's cell
MIN_SAMPLES_LEAF = 3
#: features tried per split: scikit-learn's classification default sqrt(n_features)
MAX_FEATURES = "sqrt"
#: class weights inversely proportional to class frequency, per tree's sample (ExtraTrees
#: draws no bootstrap, so as "balanced"): presences are a few hundred cells among
#: :data:`MAX_BACKGROUND` background cells, and an unweighted forest would lean to absence
CLASS_WEIGHT = "balanced_subsample"
#: trees are not depth-limited (scikit-learn's default ``max_depth=None``): leaves stop at
#: :data:`MIN_SAMPLES_LEAF`
MAX_DEPTH = None
#: worker threads of a fit (trees are seeded one by one, so the result does not depend on
#: them); prediction runs with 1 (see :func:`fit_suitability`)
FIT_JOBS = 2

# -- prediction ----------------------------------------------------------------------------
#: features listed in :meth:`SuitabilityModel.summary`, and its rounding (decimals)
SUMMARY_TOP, SUMMARY_DIGITS = 5, 4


#: the attributes a model pickles, in this order (the bytes of :meth:`SuitabilityModel.save`)
STATE = ("target", "features", "estimator", "cv", "importances", "n_presence", "meta")


@dataclass
class SuitabilityModel:
    """A fitted presence model for one target (a sector, or ``urban``).

    Made by :func:`fit_suitability` with its cache ``key``, a model reads its forest from the
    cache only when first asked (:attr:`estimator`), and its surfaces (on grids that are not
    :attr:`~Grid.large`) and saved bytes come from the cache under that key once made.
    """

    target: str
    features: list[str]
    #: the fitted forest, or the call that reads (or fits) it at first use
    forest: ExtraTreesClassifier | Callable[[], ExtraTreesClassifier] = field(repr=False)
    #: the blocked cross-validation: ``auc``, ``auc_folds`` and ``folds`` (:func:`fit_suitability`),
    #: or the Future of a cross-validation still running in a worker process
    cv: dict | Future
    importances: dict[str, float]
    n_presence: int
    meta: dict = field(default_factory=dict)
    #: :func:`fit_suitability`'s cache key of everything the model depends on (None: not cached)
    key: str | None = field(default=None, repr=False, compare=False)

    @property
    def estimator(self) -> ExtraTreesClassifier:
        """The fitted ExtraTrees forest."""
        if callable(self.forest):
            self.forest = self.forest()
        return self.forest

    def cross_validation(self) -> dict:
        """The blocked cross-validation (waits for it if it still runs in a worker)."""
        if isinstance(self.cv, Future):
            self.cv = self.cv.result()
        return self.cv

    @property
    def auc(self) -> float:
        """Out-of-fold AUC of the blocked cross-validation (0..1)."""
        return self.cross_validation()["auc"]

    @property
    def auc_folds(self) -> list[float]:
        """AUC of each fold with both classes (0..1)."""
        return self.cross_validation()["auc_folds"]

    def __getstate__(self) -> dict:
        self.cross_validation()
        return {name: getattr(self, name) for name in STATE}

    def __setstate__(self, state: dict) -> None:
        self.__init__(**{("forest" if k == "estimator" else k): v for k, v in state.items()})

    def predict(self, covariates: xr.Dataset, grid: Grid) -> np.ndarray:
        """Siting probability per cell (y, x, :attr:`Grid.storage_dtype`); 0 outside every region.

        Kept in the cache under the model's key and the covariates. On a :attr:`~Grid.large`
        grid the entry is the inside cells' probabilities in the storage dtype, keyed by the
        compact covariates (China at 1 km: 38 MB a surface, and its five forests' 9.5 M cells
        cost about a minute of both cores to predict again; hashing the covariates, under 2 s).
        """
        return grid.cell_index.full(self._held(covariates, grid))

    def predict_cells(self, covariates: xr.Dataset, grid: Grid) -> np.ndarray:
        """:meth:`predict` at the cells of the grid's :attr:`~Grid.cell_index` alone (compact)."""
        return grid.cell_index.compacted(self._held(covariates, grid))

    def _held(self, covariates: xr.Dataset, grid: Grid) -> np.ndarray:
        """The probabilities as the cache holds them: the inside cells' on a large grid, else the layer."""
        if self.key is None:
            return self._predict(covariates, grid)
        form = "surface-cells" if grid.large else "surface"  # what an entry holds: the inside cells, or the layer
        key = digest(form, self.key, grid.inside, np.dtype(grid.storage_dtype).str,
                     *(np.asarray(covariates[f].values) for f in self.features))
        if grid.large:
            return cached_pickle(KIND, key, partial(self._cell_probability, covariates, grid))
        return cached_pickle(KIND, key, partial(self._predict, covariates, grid))

    def _predict(self, covariates: xr.Dataset, grid: Grid) -> np.ndarray:
        """:meth:`predict`, computed (:meth:`_cell_probability` at the inside cells, 0 elsewhere)."""
        return grid.cell_index.expand(self._cell_probability(covariates, grid))

    def _cell_probability(self, covariates: xr.Dataset, grid: Grid) -> np.ndarray:
        """Siting probability (0..1, :attr:`Grid.storage_dtype`) of each cell of ``grid.cell_index``.

        Computed in blocks of at most ``predict_chunk_cells`` (an engine option) cells on threads
        (:func:`~gridcarbon.suitability.prediction.presence_probability`), so a national 1 km
        grid never builds its whole feature matrix. Each cell's value does not depend on the
        blocks.
        """
        prob = presence_probability(self.estimator, [cell_values(covariates, f, grid) for f in self.features],
                                    block_cells=get_option("predict_chunk_cells"))
        return prob.astype(grid.storage_dtype, copy=False)

    def summary(self) -> dict:
        """AUC (0..1), fold AUCs, presence cells and the top feature importances (0..1)."""
        top = sorted(self.importances.items(), key=lambda kv: -kv[1])[:SUMMARY_TOP]
        return {"auc_blocked_cv": round(self.auc, SUMMARY_DIGITS),
                "auc_folds": [round(a, SUMMARY_DIGITS) for a in self.auc_folds],
                "presence_cells": self.n_presence, "top_features": {k: round(v, SUMMARY_DIGITS) for k, v in top}}

    def save(self, path: str | Path) -> str:
        """Pickle to ``path``; returns the file's sha256 (recorded in the run manifest).

        The bytes are those of the model once unpickled: an unpickled forest pickles with
        fewer shared objects than a freshly fitted one (each tree's node dtype becomes its own
        object) and keeps that form from then on, so a fitted model and one read from the
        cache (:mod:`gridcarbon.suitability.cache`) save to the same bytes.
        """
        canonical = partial(_canonical_bytes, self)
        if self.key is None:
            data = canonical()
            sha = hashlib.sha256(data).hexdigest()
        else:
            data, sha = cached_bytes(KIND, f"{digest(self.key, np.__version__, sys.version_info[:2])}.model", canonical)
        Path(path).write_bytes(data)
        return sha


def _canonical_bytes(model: SuitabilityModel) -> bytes:
    """The pickle of ``model`` once unpickled (:meth:`SuitabilityModel.save`)."""
    return pickle.dumps(pickle.loads(pickle.dumps(model, protocol=5)), protocol=5)


def load_model(path: str | Path, *, sha256: str) -> SuitabilityModel:
    """Load a saved model only if its bytes match the expected ``sha256`` (pickles run code)."""
    data = Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise InputError("suitability model hash mismatch", source=str(path),
                         hint="only load models written by gridcarbon runs you trust")
    return pickle.loads(data)  # noqa: S301 - hash-checked above


def cell_values(covariates: xr.Dataset, feature: str, grid: Grid) -> np.ndarray:
    """One covariate over ``grid.cell_index`` (one value per inside cell): covariates are compact
    ``cell`` layers (:func:`~gridcarbon.suitability.covariates.build_covariates`) or (y, x) ones."""
    values = np.asarray(covariates[feature].values)
    return values if values.ndim == 1 else grid.cell_index.compact(values)


def _matrix(covariates: xr.Dataset, features: list[str], rows: np.ndarray, grid: Grid) -> np.ndarray:
    """(len(rows), n_features) covariates of the flat inside cells ``rows``."""
    at = grid.cell_index.positions(rows)
    return np.column_stack([cell_values(covariates, f, grid)[at] for f in features])


def spatial_blocks(grid: Grid, block_km: float = BLOCK_KM, *, cells: np.ndarray | None = None) -> np.ndarray:
    """Tile id of each cell (flat), or of the flat ``cells``: cells within the same ``block_km`` (km)
    square share an id."""
    k = max(1, int(round(block_km * 1000.0 / grid.res)))
    cells = np.arange(grid.shape[0] * grid.shape[1]) if cells is None else np.asarray(cells)
    rows, cols = np.divmod(cells, grid.shape[1])
    return (rows // k) * (grid.shape[1] // k + 1) + cols // k


def fit_suitability(target: str, presence: np.ndarray, covariates: xr.Dataset, grid: Grid, *,
                    seed: int, features: list[str] | None = None,
                    own: tuple[str, np.ndarray] | None = None, background: Background | None = None) -> SuitabilityModel:
    """Fit a presence model with spatially blocked CV.

    ``presence`` is a boolean (y, x) mask of cells holding the target today; every other
    cell inside the regions is background (at most :data:`MAX_BACKGROUND` of them are used).
    ``own`` = (feature, layer) names the covariate that is the :func:`cluster_density` of the
    target's own sources ``layer`` (t CO2/yr/cell): each fold recomputes it without the
    sources of its test blocks, so no test cell's covariates are derived from the plants it
    is scored on (the final model uses the full layer). AUCs are 0..1; ``meta`` records the
    block size (km), seed and background cells. The cross-validation and the final forest of
    the same inputs and settings, once made, are read back from
    :mod:`gridcarbon.suitability.cache` (the same AUCs, a forest that pickles to the same bytes).
    A cross-validation not in the cache runs in ``background`` when given (it serves only the
    reported skill): the model's AUCs then wait for it when first asked.
    """
    features = features or list(covariates.data_vars)
    rows = _training_cells(presence.ravel(), grid.inside.ravel(), seed)
    sample = _Sample(rows, _matrix(covariates, features, rows, grid), presence.ravel()[rows].astype(int),
                     spatial_blocks(grid, cells=rows))
    n_pos = int(sample.y.sum())
    if n_pos < MIN_PRESENCE_CELLS or n_pos == sample.y.size:
        raise InputError(f"too few presence cells ({n_pos}) to learn where {target} sources sit")
    own = own if own is not None and own[0] in features else None
    key = fit_key(target, features, sample.rows, sample.X, sample.y, sample.groups, own and own[0],
                  own and own[1], seed, grid.shape, grid.res, DENSITY_RADIUS_KM, BLOCK_KM, N_FOLDS, N_ESTIMATORS,
                  MIN_SAMPLES_LEAF, MAX_FEATURES, CLASS_WEIGHT, MAX_DEPTH)
    cross_validate = partial(_blocked_cv, features, sample, grid, seed=seed, own=own)
    cv = (cached_json(key, cross_validate) if background is None
          else stored_json(key) or background.submit(cached_json, key, cross_validate))
    # the final forest depends on fewer inputs than the cross-validation (not the blocks or the
    # own-sector layer the folds recompute): its own key
    forest = fit_key("forest", sample.X, sample.y, seed, N_ESTIMATORS, MIN_SAMPLES_LEAF, MAX_FEATURES, CLASS_WEIGHT,
                     MAX_DEPTH)
    model = SuitabilityModel(target, features, partial(cached_pickle, KIND, forest,
                                                       partial(_fit_forest, sample.X, sample.y, seed)),
                             cv, {}, n_pos, {"block_km": BLOCK_KM, "seed": seed,
                                             "background_cells": int(sample.y.size - n_pos)}, key=key)
    model.importances = cached_json(fit_key("importances", forest, features), partial(_importances, model))
    return model


def _importances(model: SuitabilityModel) -> dict[str, float]:
    """Mean decrease in impurity of each feature of ``model``'s forest (0..1, summing to 1)."""
    return dict(zip(model.features, (float(v) for v in model.estimator.feature_importances_)))


@dataclass(frozen=True)
class _Sample:
    """Training cells of a fit: flat cell indices, their covariates (cells, features), presence
    labels (0 / 1) and cross-validation block ids."""

    rows: np.ndarray
    X: np.ndarray
    y: np.ndarray
    groups: np.ndarray


def _fit_forest(X: np.ndarray, y: np.ndarray, seed: int) -> ExtraTreesClassifier:
    """The run's seeded ExtraTrees fitted to (X, y). Trees are seeded one by one, so threaded
    fits are reproducible; threaded ``predict_proba`` is not (trees are summed in thread order),
    so the fitted forest predicts with ``n_jobs=1``."""
    from sklearn.ensemble import ExtraTreesClassifier

    # scikit-learn's worker threads reset the process-wide warning filters, which is not
    # thread-safe before Python 3.14: keep the caller's filters around every fit
    with warnings.catch_warnings():
        return ExtraTreesClassifier(n_estimators=N_ESTIMATORS, max_depth=MAX_DEPTH, min_samples_leaf=MIN_SAMPLES_LEAF,
                                    max_features=MAX_FEATURES, class_weight=CLASS_WEIGHT, n_jobs=FIT_JOBS,
                                    random_state=seed).fit(X, y).set_params(n_jobs=1)


def _blocked_cv(features: list[str], sample: _Sample, grid: Grid, *, seed: int,
                own: tuple[str, np.ndarray] | None) -> dict:
    """Spatially blocked CV of :func:`fit_suitability` (its arguments): ``auc`` (out-of-fold, 0..1),
    ``auc_folds`` (per fold with both classes) and ``folds``."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    X, y, groups = sample.X, sample.y, sample.groups
    fold_X = _FoldFeature(grid, sample.rows, features.index(own[0]), own[1]) if own else None
    oof = np.zeros(y.size)
    aucs = []
    n_splits = min(N_FOLDS, len(np.unique(groups[y == 1])))
    for train, test in GroupKFold(n_splits=n_splits).split(X, y, groups):
        Xf = fold_X(X, np.unique(groups[test])) if fold_X else X
        model = _fit_forest(Xf[train], y[train], seed)
        oof[test] = model.predict_proba(Xf[test])[:, 1]
        if 0 < y[test].sum() < test.size:
            aucs.append(float(roc_auc_score(y[test], oof[test])))
    return {"auc": float(roc_auc_score(y, oof)), "auc_folds": aucs, "folds": n_splits}


class _FoldFeature:
    """Training matrix of one fold with column ``col`` recomputed as the :func:`cluster_density`
    of ``layer`` (t CO2/yr/cell) without the cells of the fold's test blocks."""

    def __init__(self, grid: Grid, rows: np.ndarray, col: int, layer: np.ndarray):
        self.grid, self.rows, self.col, self.layer = grid, rows, col, layer
        # int32 block ids: a 1 km national grid has 27 M cells but only a few thousand blocks
        self.blocks = spatial_blocks(grid).astype(np.int32).reshape(grid.shape)

    def __call__(self, X: np.ndarray, test_blocks: np.ndarray) -> np.ndarray:
        in_test = np.zeros(int(self.blocks.max()) + 1, bool)
        in_test[test_blocks] = True
        kept = np.where(in_test[self.blocks], 0.0, self.layer)
        out = X.copy()
        out[:, self.col] = cluster_density(kept, self.grid).ravel()[self.rows]
        return out


def _training_cells(presence: np.ndarray, inside: np.ndarray, seed: int) -> np.ndarray:
    """All presence cells plus at most MAX_BACKGROUND background cells (seeded sample)."""
    pos = np.flatnonzero(presence & inside)
    background = np.flatnonzero(~presence & inside)
    if background.size > MAX_BACKGROUND:
        background = np.sort(np.random.default_rng(seed).choice(background, MAX_BACKGROUND, replace=False))
    return np.sort(np.concatenate([pos, background]))
