"""Memory of a run before its first evolution year: the study area, the suitability fit and the context.

What ``job.prepare`` builds, stage by stage, in this process (through the public API, as
``job.run`` does), with the resident set size sampled every 0.1 s by psutil: per stage its peak
RSS and the RSS held after it (after a garbage collection and ``malloc_trim``), then every
array of at least 20 MB reachable from the study area and the evolution context (with the
suitability), with dtype, shape and owner (each buffer counted once). ``bench_end_to_end.py
--only china1k`` measures the whole run.

Run: ``python benchmarks/bench_prepare_memory.py [--scenario china-enhanced] [--resolution 1000]``
(China at 1 km: about 9 minutes on the 2 shared cores under load; the ``large_grid_cells`` engine
option decides float32 storage as in a run); ``--years N`` then evolves N years (the year loop's
memory, without the allocation and writing). Prints a table; nothing is written.
"""
from __future__ import annotations

import argparse
import gc
import os
import resource
import threading
import time
from dataclasses import fields, is_dataclass, replace

import numpy as np
import pandas as pd
import psutil
import xarray as xr

#: arrays smaller than this (bytes) are not listed
LIST_BYTES = 20e6
#: RSS sampling period (s)
SAMPLE_S = 0.1
GIB = 2**30


class Sampler:
    """Peak RSS of this process per named stage, sampled in a daemon thread."""

    def __init__(self):
        self.proc, self.stage, self.peaks = psutil.Process(), "start", {}
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            rss = self.proc.memory_info().rss
            self.peaks[self.stage] = max(self.peaks.get(self.stage, 0), rss)
            time.sleep(SAMPLE_S)

    def held(self) -> int:
        """RSS after a collection and returning free heap pages to the OS (bytes)."""
        from gridcarbon.core.memory import release

        gc.collect()
        release()
        return self.proc.memory_info().rss


def arrays(roots: dict) -> list[tuple[str, np.dtype, tuple, int]]:
    """(owner path, dtype, shape, bytes held) of each array buffer of at least LIST_BYTES under
    ``roots``; a view counts the whole array it views."""
    found, seen = {}, set()

    def walk(obj, path, depth):
        if depth > 8 or obj is None or isinstance(obj, (str, bytes, int, float)):
            return
        if isinstance(obj, np.ndarray):
            base = obj
            while isinstance(base.base, np.ndarray):  # a view holds all of the array it views
                base = base.base
            if base.nbytes >= LIST_BYTES and id(base) not in found:
                view = f" (a view of {base.shape})" if base.nbytes > obj.nbytes else ""
                found[id(base)] = (path + view, obj.dtype, obj.shape, base.nbytes)
            return
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, xr.Dataset):
            for k, v in obj.variables.items():
                walk(v.values, f"{path}[{k}]", depth + 1)
        elif isinstance(obj, dict):
            for k, v in obj.items():
                walk(v, f"{path}[{k!r}]", depth + 1)
        elif isinstance(obj, (list, tuple)):
            for i, v in enumerate(obj):
                walk(v, f"{path}[{i}]", depth + 1)
        elif is_dataclass(obj):
            for f in fields(obj):
                walk(getattr(obj, f.name), f"{path}.{f.name}", depth + 1)
            for k, v in vars(obj).items():  # cached properties (a grid's cell index)
                if k not in {f.name for f in fields(obj)}:
                    walk(v, f"{path}.{k}", depth + 1)

    for name, obj in roots.items():
        walk(obj, name, 0)
    return sorted(found.values(), key=lambda r: -r[3])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="china-enhanced")
    ap.add_argument("--resolution", type=float, default=1000.0)
    ap.add_argument("--years", type=int, default=0,
                    help="then evolve this many years past the base year, the base-year totals held (float32 "
                         "layers, none kept: the memory of the year loop, not a scenario's result)")
    args = ap.parse_args()
    sampler, t0, rows = Sampler(), time.perf_counter(), []
    from gridcarbon import job
    from gridcarbon.core.grid import Grid
    from gridcarbon.evolution import EvolutionContext
    from gridcarbon.inputs.area_drivers import scenario_drivers
    from gridcarbon.inputs.study_area import scenario_regions
    from gridcarbon.suitability.fitting import fit_suitability_surfaces

    def stage(name, make):
        sampler.stage, start = name, time.perf_counter()
        out = make()
        rows.append((name, time.perf_counter() - start, sampler.peaks.get(name, 0), sampler.held()))
        return out

    sc = job.resolve(args.scenario, resolution=args.resolution)
    regions = scenario_regions(sc)
    grid = stage("grid", lambda: Grid.from_regions(regions, res=sc.resolution))
    area = stage("study area", lambda: job.study_area(sc, grid, regions))
    drivers = scenario_drivers(sc, regions)
    suit = stage("suitability", lambda: fit_suitability_surfaces(
        area.inventory, area.landscape, seed=sc.seed, city_points=area.city_points, coast=area.coast))
    ctx = stage("context", lambda: EvolutionContext.build(area.inventory, area.landscape, drivers, suit,
                                                         spec=sc.evolution, seed=sc.seed,
                                                         end_year=sc.base_year + args.years if args.years else sc.end_year,
                                                         assumptions=sc.assumptions))
    area = replace(area, landscape=ctx.landscape)  # what job.run keeps of the study area
    rows.append(("as run holds", 0.0, sampler.peaks.get("context", 0), sampler.held()))
    if args.years:
        from gridcarbon.evolution import evolve

        table = area.inventory.totals.rename(columns={"value_t": "allocated_t"})
        totals = pd.concat([table.assign(year=y) for y in ctx.years], ignore_index=True)
        stage(f"{args.years} years", lambda: evolve(ctx, totals, keep_years=(), dtype=np.float32))
    print(f"{args.scenario} at {args.resolution:g} m: grid {grid.shape}, {int(grid.inside.sum()):,} cells inside, "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"{'stage':12s} {'wall s':>7s} {'peak GiB':>9s} {'held GiB':>9s}")
    for name, wall, peak, held in rows:
        print(f"{name:12s} {wall:7.1f} {peak / GIB:9.2f} {held / GIB:9.2f}")
    # what job.run holds from here on: the study area as the context leaves it (job.run)
    listed = arrays({"area": area, "ctx": ctx})
    for path, dtype, shape, nbytes in listed:
        print(f"{nbytes / 2**20:9.1f} MiB {dtype!s:8s} {shape!s:18s} {path}")
    print(f"listed {sum(r[3] for r in listed) / GIB:.2f} GiB of arrays; peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB; wall {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
