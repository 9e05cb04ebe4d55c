"""``gridcarbon sensitivity``: Morris screening of the assumptions (SALib) for named outputs.

:func:`morris_screening` takes any model, a function from a table of assumption values (one
row a run, columns the assumption names, target units) to a table of outputs; it samples
Morris trajectories in the unit cube (SALib), maps them onto the ranges
(:func:`~gridcarbon.ensembles.ranges.scale_unit`) and analyses each output. Elementary
effects are per unit of an assumption's range (the unit cube), so ``mu_star`` ranks
assumptions by the change a full-range move makes, in the output's unit. :func:`sensitivity`
runs it on the model itself: each row is an ensemble member (:mod:`gridcarbon.ensembles.members`)
with the scenario's seed, so the siting noise is held fixed.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from gridcarbon.config import Scenario
from gridcarbon.ensembles.members import Member, shared
from gridcarbon.ensembles.pool import run_members
from gridcarbon.ensembles.ranges import overrides, read_ranges, scale_unit
from gridcarbon.job import resolve
from gridcarbon.output.atomic import atomic_dir

log = logging.getLogger(__name__)
#: grid levels of the Morris design (SALib's default; 4 levels, jumps of 2/3 of a range)
LEVELS = 4
#: bootstrap resamples of the mu_star confidence interval (SALib's default)
RESAMPLES = 100
#: columns of ``sensitivity.csv``
COLUMNS = ["output", "assumption", "mu", "mu_star", "mu_star_conf", "sigma", "rank"]


def morris_screening(model: Callable[[pd.DataFrame], pd.DataFrame], ranges: pd.DataFrame, *, trajectories: int,
                     seed: int) -> pd.DataFrame:
    """Morris indices of every output of ``model`` over ``ranges`` (:data:`COLUMNS`; rank 1 = largest mu_star).

    ``trajectories`` Morris trajectories make ``trajectories x (k + 1)`` model runs for k
    assumptions. A trajectory with a run whose output is not finite (an infeasible run) is
    left out of that output's indices; an output left with fewer than two whole trajectories
    is left out (both logged).
    """
    from SALib.analyze import morris as analyse
    from SALib.sample import morris as sample

    names = list(ranges.name)
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    unit = sample.sample(problem, trajectories, num_levels=LEVELS, seed=seed)
    results = model(pd.DataFrame(scale_unit(ranges, unit), columns=names))
    rows = []
    for output in results.columns:
        whole = np.isfinite(results[output].to_numpy(float)).reshape(-1, len(names) + 1).all(axis=1)
        if whole.sum() < 2:
            log.info("output %s left out: %d of %d trajectories finite", output, whole.sum(), len(whole))
            continue
        if not whole.all():
            log.info("output %s: %d of %d trajectories have an infeasible run, left out", output,
                     (~whole).sum(), len(whole))
        runs = np.repeat(whole, len(names) + 1)
        si = analyse.analyze(problem, unit[runs], results[output].to_numpy(float)[runs], num_resamples=RESAMPLES,
                             num_levels=LEVELS, seed=seed)
        table = pd.DataFrame({"output": output, "assumption": names, "mu": si["mu"], "mu_star": si["mu_star"],
                              "mu_star_conf": si["mu_star_conf"], "sigma": si["sigma"]})
        table["rank"] = table.mu_star.rank(ascending=False, method="first").astype(int)
        rows.append(table)
    return pd.concat(rows, ignore_index=True)[COLUMNS] if rows else pd.DataFrame(columns=COLUMNS)


def sensitivity(scenario: str | Path | Scenario, *, out: str | Path, trajectories: int = 4,
                ranges: str | Path | None = None, names: list[str] | None = None, jobs: int = 1,
                dask_scheduler: str | None = None, **overrides_) -> Path:
    """Morris screening of the model's named outputs (:func:`~gridcarbon.ensembles.members.outputs`).

    Writes ``<out>/<scenario>-sensitivity/``: ``sensitivity.csv`` (:data:`COLUMNS`),
    ``runs.csv`` (each run's assumption values and outputs) and ``sensitivity.png`` (the
    assumptions ranked per output by mu_star with its 95 % confidence). ``names`` restricts
    the assumptions; ``overrides_`` are ``years``, ``resolution``, ``seed``. Returns the folder.
    """
    sc = resolve(scenario, **overrides_)
    table = read_ranges(ranges, names=names)
    common = shared(sc)
    runs = []

    def model(values: pd.DataFrame) -> pd.DataFrame:
        plan = [Member(k, sc.seed, overrides(sc, table, values.iloc[k])) for k in range(len(values))]
        log.info("sensitivity: %d runs", len(plan), extra={"scenario": sc.name})
        found = pd.DataFrame([r["outputs"] for r in run_members(common, plan, None, jobs=jobs,
                                                                dask_scheduler=dask_scheduler)])
        runs.append(pd.concat([values.reset_index(drop=True), found], axis=1))
        return found

    indices = morris_screening(model, table, trajectories=trajectories, seed=sc.seed)
    final = Path(out) / f"{sc.name}-sensitivity"
    with atomic_dir(final) as tmp:
        indices.to_csv(tmp / "sensitivity.csv", index=False, float_format="%.6g")
        runs[0].to_csv(tmp / "runs.csv", index=False, float_format="%.6g")
        plot_ranking(indices, tmp / "sensitivity.png", title=f"{sc.name}: Morris mu* ({trajectories} trajectories)")
    return final


def plot_ranking(indices: pd.DataFrame, path: Path, *, title: str) -> Path:
    """One panel per output: assumptions by mu_star (bars) with the 95 % confidence (whiskers)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outputs = list(dict.fromkeys(indices.output))
    cols = min(3, max(1, len(outputs)))
    nrows = max(1, math.ceil(len(outputs) / cols))
    n_names = indices.assumption.nunique()
    fig, axes = plt.subplots(nrows, cols, figsize=(5.2 * cols, 0.28 * n_names * nrows + 1.2 * nrows), squeeze=False)
    for ax, output in zip(axes.ravel(), outputs):
        t = indices[indices.output == output].sort_values("mu_star")
        ax.barh(t.assumption, t.mu_star, xerr=t.mu_star_conf, color="#4c72b0", ecolor="#333333", capsize=2)
        ax.set_title(output, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.set_xlabel("mu* (output unit per range)", fontsize=7)
    for ax in axes.ravel()[len(outputs):]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout(rect=(0.0, 0.0, 1.0, 1.0 - 0.5 / fig.get_figheight()))  # half an inch for the title
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
