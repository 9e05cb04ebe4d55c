"""Big-input benchmark: 1 000 000 point sources + 200 000 line segments at 10 km and 1 km.

Issue: "A synthetic inventory of 1 million point sources and 200 000 line segments grids
at 10 km and 1 km within 2 GiB of memory".

Inputs are deterministic (seeded) and synthetic, inside the YRD: points clustered around
the real city centres of ``gridcarbon/data/yrd_cities.csv`` (population-weighted, spread
1.5 x each city's urban radius), each assigned to the province that contains it (points
outside every province are redrawn), so they grid with ``region_pos`` = their province as
in ``inventory.grid_frame(own_region=True)``; line segments join a clustered start point to
an end point 50 m - 20 km away (log-normal, median 1.5 km) in a random direction, gridded
with no region of their own (``own_region=False``), as inventory lines are.

Each resolution runs in a fresh Python subprocess that builds the grid, generates the
inputs, then ``point_coverage`` + ``Coverage.spread`` and ``line_coverage`` +
``Coverage.spread``, keeping everything alive to the end (as an Inventory keeps its
tables and line coverage). Reported per case: wall seconds of each stage, the child's
peak resident memory (``ru_maxrss`` from ``os.wait4`` on that child, i.e. the whole
process: interpreter, imports, inputs, gridding), the high-water mark after each stage
(which stage raised it), the mass conservation errors (asserted <= 1e-9 relative: all
sources, and per province for points) and whether the peak stays under 2 GiB.

Run: ``python benchmarks/bench_big_inputs.py [--size full|tiny]``; results in
``benchmarks/results/bench_big_inputs.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _common import RESULTS_DIR, load_1min, machine, write_record  # noqa: E402

RESULTS = RESULTS_DIR / "bench_big_inputs.json"
LIMIT_BYTES = 2 * 1024**3
RTOL = 1e-9
SIZES = {
    "full": {"points": 1_000_000, "lines": 200_000, "res_m": [10_000.0, 1_000.0]},
    "tiny": {"points": 20_000, "lines": 4_000, "res_m": [10_000.0]},
}


# ------------------------------------------------------------------ child process
def _rss_now() -> int:
    import psutil

    return psutil.Process().memory_info().rss


def _maxrss_self() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kB


def make_points(n: int, seed: int):
    """``n`` clustered points inside the YRD provinces, with their province position."""
    import shapely
    from _common import (
        clustered_xy,
        emissions,
        inner_bbox,
        yrd_grid,
        yrd_provinces_metric,
    )

    rng = np.random.default_rng(seed)
    provinces = yrd_provinces_metric().geometry.values
    shapely.prepare(provinces)
    bbox = inner_bbox(0.0, yrd_grid(10_000.0), yrd_grid(1_000.0))
    xs, ys, region = [], [], []
    need = n
    while need > 0:  # redraw points that fall outside every province (sea, outside the YRD)
        xy = clustered_xy(rng, int(need * 1.3) + 100, bbox)
        pos = np.full(len(xy), -1, np.int64)
        for i, poly in enumerate(provinces):
            pos[(pos < 0) & shapely.contains_xy(poly, xy[:, 0], xy[:, 1])] = i
        keep = np.flatnonzero(pos >= 0)[:need]
        xs.append(xy[keep, 0])
        ys.append(xy[keep, 1])
        region.append(pos[keep])
        need -= keep.size
    x, y, region = np.concatenate(xs), np.concatenate(ys), np.concatenate(region)
    return x, y, region, emissions(rng, n)


def make_segments(n: int, seed: int):
    """``n`` two-vertex segments from a clustered start to a point 50 m - 20 km away."""
    from _common import clustered_xy, emissions, inner_bbox, yrd_grid

    rng = np.random.default_rng(seed + 1)
    start = clustered_xy(rng, n, inner_bbox(25_000.0, yrd_grid(10_000.0), yrd_grid(1_000.0)))
    length = np.clip(rng.lognormal(np.log(1_500.0), 0.8, n), 50.0, 20_000.0)
    angle = rng.uniform(0, 2 * np.pi, n)
    xy = np.empty((n, 2, 2))
    xy[:, 0] = start
    xy[:, 1, 0] = start[:, 0] + length * np.cos(angle)
    xy[:, 1, 1] = start[:, 1] + length * np.sin(angle)
    return xy, emissions(rng, n)


def child(res: float, n_points: int, n_lines: int, seed: int) -> dict:
    """One case, in this (fresh) process: grid, inputs, coverage + spread; stage records."""
    stages = []
    clock = time.perf_counter()

    def stage(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages.append({"stage": name, "wall_s": round(now - clock, 3), "rss_mib": round(_rss_now() / 2**20, 1),
                       "maxrss_mib": round(_maxrss_self() / 2**20, 1)})
        clock = time.perf_counter()

    import geopandas as gpd
    import shapely
    from _common import yrd_grid

    from gridcarbon.core.gridding import line_coverage, point_coverage

    grid = yrd_grid(res)
    stage("imports + grid")
    # load the numba kernels (from numba's cache, or compile) on a handful of sources, so
    # that the stages below time the gridding itself
    wx, wy, wregion, wvals = make_points(10, seed + 7)
    point_coverage(gpd.GeoSeries(shapely.points(wx, wy), crs=grid.crs), grid, wregion).spread(wvals, grid)
    wxy, wvals = make_segments(10, seed + 7)
    line_coverage(gpd.GeoSeries(shapely.linestrings(wxy), crs=grid.crs), grid,
                  np.full(10, -1, np.int64)).spread(wvals, grid)
    stage("warm-up (kernels, 10 sources)")

    x, y, region, pvals = make_points(n_points, seed)
    points = gpd.GeoSeries(shapely.points(x, y), crs=grid.crs)
    stage("points: generate + GeoSeries")
    pcov = point_coverage(points, grid, region)
    stage("points: point_coverage")
    pgrid = pcov.spread(pvals, grid)
    stage("points: spread")

    xy, lvals = make_segments(n_lines, seed)
    lines = gpd.GeoSeries(shapely.linestrings(xy), crs=grid.crs)
    stage("lines: generate + GeoSeries")
    lcov = line_coverage(lines, grid, np.full(n_lines, -1, np.int64))
    stage("lines: line_coverage")
    lgrid = lcov.spread(lvals, grid)
    stage("lines: spread")

    total = pgrid + lgrid
    region_err = np.abs(grid.region_sums(pgrid)[0] - np.bincount(region, weights=pvals, minlength=len(grid.regions)))
    outside = float(np.abs(total[0][~grid.inside]).sum())
    checks = {
        "points_mass_error": abs(pgrid.sum() - pvals.sum()) / pvals.sum(),
        "points_region_max_error": float((region_err / np.bincount(region, weights=pvals,
                                                                   minlength=len(grid.regions)).clip(1e-300)).max()),
        "lines_mass_error": abs(lgrid.sum() - lvals.sum()) / lvals.sum(),
        "total_mass_error": abs(total.sum() - pvals.sum() - lvals.sum()) / (pvals.sum() + lvals.sum()),
        "mass_outside_regions_t": outside,
    }
    stage("checks")
    return {"res_m": res, "grid_shape": list(grid.shape), "n_points": n_points, "n_lines": n_lines,
            "line_length_km_total": round(float(shapely.length(lines.values).sum()) / 1000, 1),
            "point_pieces": int(pcov.src.size), "line_pieces": int(lcov.src.size),
            "points_rehomed_share": pcov.rehomed_share, "lines_rehomed_share": lcov.rehomed_share,
            "checks": checks, "stages": stages,
            "gridding_wall_s": round(sum(s["wall_s"] for s in stages if "coverage" in s["stage"]
                                         or "spread" in s["stage"]), 3)}


# ------------------------------------------------------------------ parent
def run_case(res: float, n_points: int, n_lines: int, seed: int = 0) -> dict:
    """Run one case in a fresh subprocess; its own peak RSS comes from os.wait4."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "case.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--res", str(res),
               "--points", str(n_points), "--lines", str(n_lines), "--seed", str(seed), "--out", str(out)]
        load_start = load_1min()
        t0 = time.perf_counter()
        with open(Path(tmp) / "log.txt", "w+") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            wall = time.perf_counter() - t0
            log.seek(0)
            text = log.read()
        if proc.returncode != 0:
            raise RuntimeError(f"case res={res} failed (exit {proc.returncode}), peak RSS "
                               f"{usage.ru_maxrss / 1024:.0f} MiB:\n{text[-3000:]}")
        case = json.loads(out.read_text())
    peak = usage.ru_maxrss * 1024
    case.update({"process_wall_s": round(wall, 3), "process_cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
                 "peak_rss_mib": round(peak / 2**20, 1), "limit_mib": LIMIT_BYTES // 2**20,
                 "peak_over_limit": round(peak / LIMIT_BYTES, 3), "under_2gib": peak < LIMIT_BYTES,
                 "load_1min": [load_start, load_1min()]})
    bad = {k: v for k, v in case["checks"].items() if k.endswith("error") and not v <= RTOL}
    case["mass_conserved"] = not bad
    if bad:
        raise AssertionError(f"mass not conserved to {RTOL} at res {res}: {bad}")
    return case


def run(size: str = "full", *, seed: int = 0, verbose: bool = True) -> dict:
    spec = SIZES[size]
    record = {"benchmark": "big_inputs", "size": size, "seed": seed, "machine": machine(),
              "inputs": {"points": spec["points"], "line_segments": spec["lines"]},
              "limit_mib": LIMIT_BYTES // 2**20, "rtol": RTOL, "cases": []}
    for res in spec["res_m"]:
        case = run_case(res, spec["points"], spec["lines"], seed)
        record["cases"].append(case)
        if verbose:
            print_case(case)
    record["all_under_2gib"] = all(c["under_2gib"] for c in record["cases"])
    record["load_1min_end"] = load_1min()
    return record


def print_case(case: dict) -> None:
    print(f"\n{case['n_points']} points + {case['n_lines']} segments at {case['res_m'] / 1000:g} km "
          f"(grid {case['grid_shape'][0]}x{case['grid_shape'][1]}; {case['point_pieces']} point pieces, "
          f"{case['line_pieces']} line pieces):")
    for s in case["stages"]:
        print(f"  {s['stage']:30s} {s['wall_s']:8.3f} s   rss {s['rss_mib']:8.1f} MiB   "
              f"high-water {s['maxrss_mib']:8.1f} MiB")
    print(f"  gridding wall (coverage + spread): {case['gridding_wall_s']} s; whole process "
          f"{case['process_wall_s']} s wall, {case['process_cpu_s']} s CPU; load {case['load_1min']}")
    print(f"  peak RSS {case['peak_rss_mib']} MiB of {case['limit_mib']} MiB "
          f"({case['peak_over_limit']:.3f} of the limit): "
          f"{'UNDER 2 GiB' if case['under_2gib'] else 'OVER 2 GiB'}")
    print("  mass: " + ", ".join(f"{k} {v:.3g}" for k, v in case["checks"].items())
          + f"; conserved to {RTOL}: {case['mass_conserved']}")


def main(size: str = "full", *, out: Path | None = None, verbose: bool = True) -> dict:
    """Run the benchmark at ``size`` ("full" or "tiny"), write and return the JSON record."""
    record = run(size, verbose=verbose)
    path = write_record(record, out or RESULTS)
    if verbose:
        print(f"\nall cases under 2 GiB: {record['all_under_2gib']}\nwritten: {path}")
    return record


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--res", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--points", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--lines", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.out.write_text(json.dumps(child(args.res, args.points, args.lines, args.seed)))
    else:
        main(args.size, out=args.out)


if __name__ == "__main__":
    cli()
