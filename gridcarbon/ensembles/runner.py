"""``gridcarbon run --ensemble N``: N members sampling the assumptions and the siting noise.

Member k runs seed ``seed + k`` of the stochastic siting rules under the k-th point of a
seeded Latin hypercube over the assumption ranges (:mod:`gridcarbon.ensembles.ranges`).
The folder ``<out>/<scenario>-ensemble/`` holds ``<year>/<layer>_{p05,p50,p95}.tif`` (t CO2/yr/cell,
every exported year, sector, ``total`` and ``net``, styled), ``totals_ensemble.csv`` (bands of
every total), ``members.csv`` (each member's seed, status, assumption values and named outputs) and
``ensemble.json`` (what made it, timings, the infeasible members).

A member whose sampled assumptions leave the pathway infeasible is reported (status
``infeasible`` with the allocation's diagnosis, a warning, ``ensemble.json`` ->
``infeasible_members``) and left out of the bands, which are then bands over the feasible
members; the ensemble fails only when no member is feasible.
"""
from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

import pandas as pd

from gridcarbon.config import Scenario
from gridcarbon.core.errors import InfeasibleAllocationError
from gridcarbon.ensembles.aggregate import cell_quantiles, total_bands, write_quantiles
from gridcarbon.ensembles.members import LAYERS, Member, member_totals, shared
from gridcarbon.ensembles.pool import run_members
from gridcarbon.ensembles.ranges import latin_hypercube, overrides, read_ranges
from gridcarbon.job import resolve
from gridcarbon.output.atomic import atomic_dir

log = logging.getLogger(__name__)
#: siting noise (Gumbel scale on suitability) given to a scenario that has none, so that
#: members differ (ASSUMPTION: 0.25 reorders close candidates, not the ranking as a whole)
DEFAULT_NOISE = 0.25


def ensemble(scenario: str | Path | Scenario, members: int, *, out: str | Path, noise: float = DEFAULT_NOISE,
             ranges: str | Path | None = None, jobs: int = 1, dask_scheduler: str | None = None,
             **overrides_) -> Path:
    """Run ``members`` members over the assumptions and seeds; write the ensemble folder.

    ``ranges``: an assumption table (default: the shipped ``assumption_ranges.csv``); ``jobs``
    worker processes or a ``dask_scheduler`` address run the members; ``overrides_`` are
    ``years``, ``resolution``, ``seed`` as for :func:`gridcarbon.run`. Returns the folder.
    """
    t0 = time.perf_counter()
    sc = resolve(scenario, **overrides_)
    if sc.evolution.siting_noise == 0:
        sc = sc.with_overrides(evolution={"siting_noise": noise})
    table = read_ranges(ranges)
    samples = latin_hypercube(table, members, seed=sc.seed)
    plan = [Member(k, sc.seed + k, overrides(sc, table, samples.iloc[k])) for k in range(members)]
    common = shared(sc)
    t1 = time.perf_counter()
    final = Path(out) / f"{sc.name}-ensemble"
    with atomic_dir(final) as tmp:
        scratch = tmp / "members"
        scratch.mkdir()
        results = run_members(common, plan, scratch, jobs=jobs, dask_scheduler=dask_scheduler)
        infeasible = _check_feasible(sc, results)
        t2 = time.perf_counter()
        quantiles = cell_quantiles(sorted(scratch.glob("member_*.npy")))
        shutil.rmtree(scratch)
        tags = {"scenario": sc.name, "members": members, "seeds": f"{sc.seed}..{sc.seed + members - 1}",
                "assumptions": ",".join(table.name)}
        write_quantiles(tmp, quantiles, common.prepared.area.grid, years=common.exported, layers=LAYERS, tags=tags)
        total_bands(member_totals(results)).to_csv(tmp / "totals_ensemble.csv", index=False, float_format="%.6g")
        _members_table(plan, samples, results).to_csv(tmp / "members.csv", index=False, float_format="%.6g")
        timings = {"prepare_s": t1 - t0, "members_s": t2 - t1, "aggregate_s": time.perf_counter() - t2}
        (tmp / "ensemble.json").write_text(json.dumps({
            "scenario": sc.name, "scenario_hash": sc.hash(), "members": members, "seed": sc.seed,
            "siting_noise": sc.evolution.siting_noise, "jobs": jobs, "dask_scheduler": dask_scheduler,
            "feasible_members": members - len(infeasible), "infeasible_members": infeasible,
            "ranges": table.to_dict(orient="records"),
            "timings_s": {k: round(v, 3) for k, v in timings.items()}}, indent=2))
    return final


def _check_feasible(sc: Scenario, results: list[dict]) -> dict[int, str]:
    """The infeasible members' diagnoses by member index (logged as a warning); raise the first
    member's :class:`InfeasibleAllocationError` when no member is feasible."""
    infeasible = {r["index"]: r["infeasible"] for r in results if r["infeasible"] is not None}
    if len(infeasible) == len(results):
        first = results[0]
        raise InfeasibleAllocationError([f"every member is infeasible, member {first['index']}: {first['infeasible']}"],
                                        source=sc.source)
    if infeasible:
        log.warning("%d of %d members are infeasible and left out of the bands (members.csv: status, reason)",
                    len(infeasible), len(results), extra={"scenario": sc.name})
    return infeasible


def _members_table(plan: list[Member], samples: pd.DataFrame, results: list[dict]) -> pd.DataFrame:
    """Each member's index, seed, status (``ok`` or ``infeasible``) and its reason, sampled
    assumptions and named outputs (empty for an infeasible member)."""
    outputs = pd.DataFrame([r["outputs"] for r in results])
    head = pd.DataFrame({"member": [m.index for m in plan], "seed": [m.seed for m in plan],
                         "status": ["ok" if r["infeasible"] is None else "infeasible" for r in results],
                         "reason": [r["infeasible"] or "" for r in results]})
    return pd.concat([head, samples.reset_index(drop=True), outputs], axis=1)
