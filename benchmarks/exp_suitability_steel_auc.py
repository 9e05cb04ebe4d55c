"""Experiment: can YRD steel's spatially blocked CV AUC reach issue 13's 0.8 honestly?

Variants of the run's suitability models (gridcarbon.suitability.model), scored with the
blocked CV of ``exp_suitability_training_set.py`` (100 km tiles in absolute grid
coordinates, repeated over tile offsets and seeds, mean and spread reported; each fold
recomputes the sector's own cluster density without the test tiles' plants):

- model settings: ExtraTrees ``min_samples_leaf`` / ``max_features`` / class weights, a
  histogram gradient-boosted model;
- extra covariates (none built from the sector's own plants, so none leaks): distance (km)
  to the nearest cell holding a plant of another point sector (power, cement, chemical),
  terrain roughness (std of elevation over 3 x 3 cells, m), industrial density of all other
  point sectors together.

The variant is the same for every sector (a rule, not a per-sector choice). Prints per
variant and sector the mean, std, min and max AUC over the configurations.

    python benchmarks/exp_suitability_steel_auc.py [--sets yrd,china] [--configs N] [--variants a,b] [--sectors steel]

Measured (YRD, 10 km, the 7 configurations of exp_suitability_training_set.CONFIGS; AUC
mean +- std (min-max); 2 cores under load 4, about 70 s per variant and three sectors):

=====================  ===========================  =====================  =====================
variant                steel                        power                  cement
=====================  ===========================  =====================  =====================
run (the default)      0.780 +- 0.030 (0.73-0.81)   0.827 +- 0.008         0.814 +- 0.022
leaf1                  0.769 +- 0.032               0.803 +- 0.010         0.787 +- 0.026
leaf5                  0.781 +- 0.032 (0.73-0.81)   0.831 +- 0.008         0.819 +- 0.021
leaf10                 0.775 +- 0.030               0.833 +- 0.008         0.822 +- 0.022
leaf25                 0.776 +- 0.027               --                     --
mf0.5                  0.763 +- 0.034               0.819 +- 0.009         0.800 +- 0.029
mf1 (all features)     0.759 +- 0.035               --                     --
mf2                    0.770 +- 0.038               --                     --
mf_log2 (= sqrt here)  0.780 +- 0.030               0.827 +- 0.008         0.814 +- 0.022
noweight               0.781 +- 0.039 (0.72-0.82)   --                     --
trees500               0.781 +- 0.036 (0.72-0.81)   --                     --
hgb (100 iterations)   0.675 +- 0.027               --                     --
+dist_other            0.779 +- 0.026               0.829 +- 0.006         0.799 +- 0.022
+dist_other_industry   0.774 +- 0.027               0.836 +- 0.005         0.809 +- 0.023
+ind_other             0.769 +- 0.033               0.826 +- 0.008         0.803 +- 0.030
+roughness             0.778 +- 0.043 (0.71-0.83)   0.828 +- 0.009         0.821 +- 0.015
leaf5, +roughness,     0.782 +- 0.036 (0.71-0.82)   0.838 +- 0.006         0.822 +- 0.023
+dist_other_industry
-socio                 0.751 +- 0.036               --                     --
-land                  0.738 +- 0.025               --                     --
=====================  ===========================  =====================  =====================

No variant lifts YRD steel's mean above 0.782: every change is within the spread over tile
offsets (+-0.03), and the run keeps its settings.
"""
from __future__ import annotations

import argparse
import pickle
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from exp_suitability_covariates import study
from exp_suitability_training_set import CONFIGS, SECTORS, presence, tiles
from scipy import ndimage
from sklearn.ensemble import ExtraTreesClassifier, HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold

from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import GRIDDED, POINT_SECTORS
from gridcarbon.suitability import model as M
from gridcarbon.suitability.covariates import cluster_density
from gridcarbon.suitability.fitting import point_features

CACHE = Path("/tmp/exp_steel_auc_{}.pkl")


def extra_layers(grid: Grid, inv, sector: str) -> dict[str, np.ndarray]:
    """Covariates from other sectors' plants and the terrain (none from ``sector``'s own plants)."""
    layers = inv.emissions["emission"].values
    others = [s for s in POINT_SECTORS if s != sector]
    held = {s: layers[GRIDDED.index(s)] > 0 for s in others}
    out = {f"dist_{s}_km": (ndimage.distance_transform_edt(~m) * grid.res / 1e3 if m.any()
                            else np.full(grid.shape, 500.0)) for s, m in held.items()}
    out["dist_other_industry_km"] = np.min(np.stack(list(out.values())), axis=0)
    out["ind_other"] = cluster_density(sum(layers[GRIDDED.index(s)] for s in others), grid)
    return out


def roughness(grid: Grid, cov) -> np.ndarray:
    e = cov["elevation_m"].values.astype(np.float64)
    mean = ndimage.uniform_filter(e, 3, mode="nearest")
    return np.sqrt(np.maximum(ndimage.uniform_filter(e * e, 3, mode="nearest") - mean * mean, 0.0))


def et(**kw):
    """ExtraTrees factory (seed -> estimator) with the run's settings, ``kw`` overriding them."""
    base = {"n_estimators": M.N_ESTIMATORS, "max_depth": M.MAX_DEPTH, "min_samples_leaf": M.MIN_SAMPLES_LEAF,
            "max_features": M.MAX_FEATURES, "class_weight": M.CLASS_WEIGHT, "n_jobs": M.FIT_JOBS, **kw}
    return lambda seed: ExtraTreesClassifier(random_state=seed, **base)


def hgb(seed):
    return HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, max_leaf_nodes=15,
                                          min_samples_leaf=10, l2_regularization=1.0,
                                          class_weight="balanced", random_state=seed)


#: variant -> (estimator factory, extra covariates added, covariates dropped)
VARIANTS = {
    "run": (et(), [], []),
    "leaf1": (et(min_samples_leaf=1), [], []),
    "leaf10": (et(min_samples_leaf=10), [], []),
    "leaf25": (et(min_samples_leaf=25), [], []),
    "mf0.5": (et(max_features=0.5), [], []),
    "mf1": (et(max_features=1.0), [], []),
    "mf_log2": (et(max_features="log2"), [], []),
    "mf2": (et(max_features=2), [], []),
    "leaf5": (et(min_samples_leaf=5), [], []),
    "mf0.5_leaf10": (et(max_features=0.5, min_samples_leaf=10), [], []),
    "noweight": (et(class_weight=None), [], []),
    "trees500": (et(n_estimators=500), [], []),
    "hgb": (hgb, [], []),
    "-socio": (et(), [], ["log_pop_density", "log_gdp_density", "dist_city_km"]),
    "-land": (et(), [], ["forest", "cropland", "eco_reserve", "water"]),
    "+dist_other": (et(), ["dist_power_km", "dist_cement_km", "dist_chemical_km", "dist_steel_km"], []),
    "+dist_other_industry": (et(), ["dist_other_industry_km"], []),
    "+ind_other": (et(), ["ind_other"], []),
    "+roughness": (et(), ["roughness_m"], []),
    "leaf5+roughness+dist_other_industry": (et(min_samples_leaf=5), ["roughness_m", "dist_other_industry_km"], []),
}


def load(region_set: str):
    path = Path(str(CACHE).format(region_set))
    if path.exists():
        return pickle.loads(path.read_bytes())
    grid, inv, cov = study(region_set)
    data = (grid, inv, cov)
    path.write_bytes(pickle.dumps(data, protocol=5))
    return data


def features(grid, inv, cov, sector, extra) -> tuple[list[str], dict[str, np.ndarray]]:
    """Feature names and their flat layers for one sector (own-sector distance never included)."""
    layers = {f: cov[f].values.ravel().astype(np.float64) for f in point_features(cov)}
    more = extra_layers(grid, inv, sector)
    more["roughness_m"] = roughness(grid, cov)
    for f in extra:
        if f in more:  # dist_<sector>_km of the sector itself is absent by construction
            layers[f] = more[f].ravel()
    return list(layers), layers


def cv_auc(data, sector, variant, offset, seed) -> float:
    grid, inv, cov = data
    make, extra, dropped = VARIANTS[variant]
    names, layers = features(grid, inv, cov, sector, extra)
    names = [f for f in names if f not in dropped]
    return blocked_oof_auc(grid, inv, sector, names, layers, make, offset, seed)


def blocked_oof_auc(grid, inv, sector, names, layers, make, offset, seed) -> float:
    """Out-of-fold AUC of ``make(seed)`` on the run's training cells, folds over the tiles of
    ``offset``, the sector's own density recomputed per fold without the test tiles' plants."""
    p = presence(inv, sector)
    rows = M._training_cells(p, grid.inside.ravel(), seed)
    y = p[rows].astype(int)
    tile_all = tiles(grid, offset)
    groups = tile_all[rows]
    X = np.column_stack([layers[f][rows] for f in names])
    col = names.index(f"ind_{sector}")
    own = inv.emissions["emission"].values[GRIDDED.index(sector)]
    oof = np.zeros(len(rows))
    for train, test in GroupKFold(n_splits=min(M.N_FOLDS, len(np.unique(groups[y == 1])))).split(X, y, groups):
        kept = np.where(np.isin(tile_all, np.unique(groups[test])).reshape(grid.shape), 0.0, own)
        Xf = X.copy()
        Xf[:, col] = cluster_density(kept, grid).ravel()[rows]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = make(seed).fit(Xf[train], y[train])
        oof[test] = model.predict_proba(Xf[test])[:, 1]
    return float(roc_auc_score(y, oof))


def main(sets, configs, variants, sectors=SECTORS) -> pd.DataFrame:
    rows = []
    for region_set in sets:
        data = load(region_set)
        for variant in variants:
            for offset, seed in CONFIGS[:configs]:
                for sector in sectors:
                    rows.append({"set": region_set, "variant": variant, "sector": sector,
                                 "config": f"{offset[0] / 1e3:g},{offset[1] / 1e3:g}/{seed}",
                                 "auc": cv_auc(data, sector, variant, offset, seed)})
            part = pd.DataFrame(rows)
            part = part[(part.set == region_set) & (part.variant == variant)]
            print(region_set, variant, part.groupby("sector").auc.agg(["mean", "std", "min", "max"]).round(3)
                  .to_dict("index"), flush=True)
    table = pd.DataFrame(rows)
    print(table.groupby(["set", "variant", "sector"]).auc.agg(["mean", "std", "min", "max"]).round(3)
          .unstack("sector").to_string())
    return table


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="yrd", help="region sets, comma-separated")
    parser.add_argument("--configs", type=int, default=len(CONFIGS), help="(tile offset, seed) repetitions")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="variants, comma-separated")
    parser.add_argument("--sectors", default=",".join(SECTORS), help="point sectors, comma-separated")
    args = parser.parse_args()
    main(args.sets.split(","), args.configs, args.variants.split(","), args.sectors.split(","))
