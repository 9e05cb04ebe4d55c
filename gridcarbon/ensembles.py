"""Seed ensembles: the spread of gross emissions per cell over the stochastic siting rules."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from gridcarbon.config import Scenario
from gridcarbon.job import resolve, run
from gridcarbon.output.atomic import atomic_dir
from gridcarbon.output.layers import write_styled_cog

#: siting noise (Gumbel scale on suitability) given to a scenario that has none, so that
#: members differ (ASSUMPTION: 0.25 reorders close candidates, not the ranking as a whole)
DEFAULT_NOISE = 0.25


def ensemble(scenario: str | Path | Scenario, members: int, *, out: str | Path, noise: float = DEFAULT_NOISE,
             **overrides) -> Path:
    """Run ``members`` seeds of the stochastic siting rules; write per-cell mean, p05, p95 of gross totals.

    Members use seeds ``seed .. seed + members - 1``; a scenario without siting noise gets
    ``noise`` so that the members differ. Writes
    ``<out>/<scenario>-ensemble/<year>/total_{mean,p05,p95}.tif`` (t CO2/yr/cell) with styles.
    """
    sc = resolve(scenario, **overrides)
    if sc.evolution.siting_noise == 0:
        sc = sc.with_overrides(evolution={"siting_noise": noise})
    years = [sc.base_year, *sc.years]
    stacks = {y: [] for y in years}
    for k in range(members):
        res = run(sc.with_overrides(seed=sc.seed + k))
        for y in years:
            stacks[y].append(res.total(y).values)
    final = Path(out) / f"{sc.name}-ensemble"
    with atomic_dir(final) as tmp:
        for y in years:
            cube = np.stack(stacks[y])
            stats = {"mean": cube.mean(axis=0), "p05": np.percentile(cube, 5, axis=0),
                     "p95": np.percentile(cube, 95, axis=0)}
            for name, values in stats.items():
                tags = {"scenario": sc.name, "year": y, "statistic": name, "members": members,
                        "seeds": f"{sc.seed}..{sc.seed + members - 1}", "siting_noise": sc.evolution.siting_noise}
                write_styled_cog(tmp / str(y) / f"total_{name}.tif", values, res.grid, kind="sequential",
                                 label=f"ensemble {name}", description=f"Gross emissions {y}, ensemble {name}",
                                 tags=tags)
    return final
