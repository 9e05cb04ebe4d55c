"""Experiment: what the suitability stage of a run costs, and what the model cache saves.

Builds a built-in region set's study area once (kept in ``/tmp/exp_suitability_speed_<set>.pkl``),
then in this process times the run's three suitability steps (covariates, ``fit_models``,
``predict_surfaces``; wall and CPU seconds) and prints each model's blocked-CV AUC and a
sha256 of the surfaces. Run it twice with the same ``GRIDCARBON_CACHE_DIR`` for a cold and a
warm fit, or with ``GRIDCARBON_CACHE_DIR=off`` for no cache; the AUCs and the hash must not
change.

    GRIDCARBON_CACHE_DIR=/tmp/c python benchmarks/exp_suitability_speed.py [--set yrd|china]
"""
from __future__ import annotations

import argparse
import hashlib
import os
import pickle
import time
from pathlib import Path

import numpy as np

from gridcarbon import job
from gridcarbon.core.grid import Grid
from gridcarbon.inputs.regions import load_regions
from gridcarbon.suitability.fitting import (
    fit_models,
    inventory_covariates,
    predict_surfaces,
)

CACHE = "/tmp/exp_suitability_speed_{}.pkl"


def load(region_set: str):
    """Inventory, landscape, city points and coast of ``region_set`` at 10 km (cached in /tmp)."""
    path = Path(CACHE.format(region_set))
    if path.exists():
        return pickle.loads(path.read_bytes())
    regions = load_regions(region_set)
    area = job.study_area(job.resolve(f"{region_set}-enhanced"), Grid.from_regions(regions, res=10_000.0), regions)
    data = (area.inventory, area.landscape, area.city_points, area.coast)
    path.write_bytes(pickle.dumps(data, protocol=5))
    return data


def main(region_set: str) -> None:
    inv, landscape, city_points, coast = load(region_set)
    clock = [(time.perf_counter(), time.process_time())]
    cov = inventory_covariates(inv, landscape, city_points=city_points, coast=coast)
    clock.append((time.perf_counter(), time.process_time()))
    models = fit_models(inv, cov, landscape, seed=42)
    clock.append((time.perf_counter(), time.process_time()))
    surfaces = predict_surfaces(models, cov, inv.grid)
    clock.append((time.perf_counter(), time.process_time()))
    steps = ("covariates", "fit", "predict")
    print(region_set, f"load {os.getloadavg()[0]:.1f}", os.environ.get("GRIDCARBON_CACHE_DIR", "(default cache)"),
          *(f"{s} {b[0] - a[0]:.2f} s wall / {b[1] - a[1]:.2f} s CPU" for s, a, b in zip(steps, clock, clock[1:])))
    print({k: (round(m.auc, 4), m.n_presence) for k, m in models.items()})
    digest = hashlib.sha256()
    for key in sorted(surfaces):
        digest.update(np.ascontiguousarray(surfaces[key]).tobytes())
    print("surfaces sha256", digest.hexdigest()[:16])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="yrd", help="built-in region set (yrd, china)")
    main(parser.parse_args().set)
