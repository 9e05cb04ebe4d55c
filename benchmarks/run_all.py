"""Run every benchmark (allocation, gridding, big inputs, end to end) and print a summary table.

Each benchmark runs in its own fresh Python process (``python benchmarks/bench_*.py``),
printing its own detailed lines and writing its JSON record under
``benchmarks/results/`` (or ``--out-dir``); this script then reads the records back and
prints one table of the headline figures and ratios. See benchmarks/README.md for what
each figure means.

Run: ``python benchmarks/run_all.py [--size full|tiny] [--only gridding,big_inputs]
[--no-emiproc] [--out-dir DIR]``. At the full size ``end_to_end`` includes a national 1 km
run (up to 15 minutes and 8 GiB); leave it out with ``--only``, or run its cheap cases alone
with ``python benchmarks/bench_end_to_end.py --only yrd10,china10``.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _common import RESULTS_DIR, load_1min  # noqa: E402

BENCHMARKS = {"allocation": "bench_allocation.py", "gridding": "bench_gridding.py",
              "big_inputs": "bench_big_inputs.py", "end_to_end": "bench_end_to_end.py"}


def run_benchmark(name: str, size: str, out_dir: Path, extra: list[str]) -> tuple[dict, float]:
    out = out_dir / f"bench_{name}.json"
    cmd = [sys.executable, str(HERE / BENCHMARKS[name]), "--size", size, "--out", str(out), *extra]
    print(f"\n=== {name}: {' '.join(cmd[1:])} (load {load_1min()})", flush=True)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    return json.loads(out.read_text()), time.perf_counter() - t0


def _fmt(value, spec: str = ".3g") -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    return format(value, spec) if isinstance(value, (int, float)) else str(value)


def summary_rows(records: dict[str, dict]) -> list[tuple[str, str, str, str]]:
    """(benchmark, case, figure, value) rows of the headline figures of each record."""
    rows = []
    alloc = records.get("allocation")
    if alloc:
        case = alloc["problem"]
        rows += [("allocation", case, "build + solve s (target < 5 s)", _fmt(alloc["build_plus_solve_s"])),
                 ("allocation", case, "build / solve", _fmt(alloc["build_over_solve"])),
                 ("allocation", case, "within target", _fmt(alloc["within_target"]))]
    grid = records.get("gridding")
    if grid:
        for c in grid["cases"]:
            case = f"{c['n_features']} {c['kind']} @ {c['res_m'] / 1000:g} km"
            gc = c["methods"]["gridcarbon"]
            rows.append(("gridding", case, "gridcarbon s (best)", _fmt(gc["best_s"], ".4g")))
            for ref in ("rasterize", "exactextract", "emiproc", "rasterize_single_call", "gridcarbon_kernel"):
                if ref in c["methods"]:
                    rows.append(("gridding", case, f"ratio gridcarbon / {ref}",
                                 _fmt(c["ratios"][f"gridcarbon/{ref}"])))
            rows.append(("gridding", case, "mass error gridcarbon / rasterize",
                         f"{_fmt(gc['mass_error'])} / {_fmt(c['methods']['rasterize']['mass_error'])}"))
            acc = c.get("accuracy")
            if acc:
                rows.append(("gridding", case, "misplaced mean: gridcarbon / rasterize",
                             f"{_fmt(acc['gridcarbon_kernel']['mean'])} / {_fmt(acc['rasterize']['mean'])}"))
    big = records.get("big_inputs")
    if big:
        for c in big["cases"]:
            case = f"{c['n_points']} pts + {c['n_lines']} segs @ {c['res_m'] / 1000:g} km"
            rows += [("big_inputs", case, "peak RSS MiB (limit 2048)", _fmt(c["peak_rss_mib"], ".1f")),
                     ("big_inputs", case, "peak RSS / 2 GiB", _fmt(c["peak_over_limit"])),
                     ("big_inputs", case, "gridding wall s", _fmt(c["gridding_wall_s"])),
                     ("big_inputs", case, "mass conserved (1e-9)", _fmt(c["mass_conserved"]))]
    e2e = records.get("end_to_end")
    if e2e:
        for c in e2e["cases"]:
            case = f"{c['case']}: {c['scenario']} @ {c['res_m'] / 1000:g} km" + (
                f" ({','.join(map(str, c['years']))})" if c.get("years") else "")
            case += " [reference code]" if c.get("code") == "reference" else ""
            if not c.get("ok"):
                why = " timed out" if c.get("timed_out") else ""
                rows.append(("end_to_end", case, "FAILED: exit code", f"{c.get('exit_code')}{why}"))
            rows += [("end_to_end", case, "wall s", _fmt(c.get("wall_s"), ".4g")),
                     ("end_to_end", case, "peak RSS MiB", _fmt(c.get("tree_peak_rss_mib", c.get("peak_rss_mib")),
                                                                ".1f"))]
            if c.get("target_wall_s") is not None:
                rows.append(("end_to_end", case, f"wall / target {c['target_wall_s']:g} s",
                             _fmt(c.get("wall_over_target"))))
            if c.get("limit_rss_mib") is not None:
                rows.append(("end_to_end", case, f"peak RSS / limit {c['limit_rss_mib']} MiB",
                             _fmt(c.get("peak_over_limit"))))
            rows += [("end_to_end", case, "within target", _fmt(c.get("within_target"))),
                     ("end_to_end", case, "conserved (1e-6)", _fmt(c.get("conserved")))]
        ran = {c["case"] for c in e2e["cases"]}
        for name, value in (e2e.get("ratios") or {}).items():
            if set(name.split(" ")[0].split("/")) <= ran:  # both cases were run (maybe failed: "-")
                rows.append(("end_to_end", name.replace("/", " / "), "ratio (same run)", _fmt(value)))
        for name, versus in (e2e.get("current_over_reference") or {}).items():
            rows.append(("end_to_end", name, "current / reference, wall", _fmt(versus.get("wall_s"))))
    return rows


def print_summary(records: dict[str, dict], walls: dict[str, float] | None = None) -> None:
    rows = summary_rows(records)
    widths = [max(len(r[i]) for r in rows + [("benchmark", "case", "figure", "value")]) for i in range(4)]
    line = "  ".join("{:%d}" % w for w in widths)
    print("\n" + line.format("benchmark", "case", "figure", "value"))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line.format(*row))
    if walls:
        print("\nwall per benchmark process: " + ", ".join(f"{k} {v:.1f} s" for k, v in walls.items())
              + f"; load at end {load_1min()}")


def main(size: str = "full", *, only: list[str] | None = None, out_dir: Path | None = None,
         emiproc: bool = True) -> dict[str, dict]:
    out_dir = Path(out_dir or RESULTS_DIR)
    out_dir.mkdir(parents=True, exist_ok=True)
    records, walls = {}, {}
    for name in only or list(BENCHMARKS):
        extra = ["--no-emiproc"] if (name == "gridding" and not emiproc) else []
        records[name], walls[name] = run_benchmark(name, size, out_dir, extra)
    print_summary(records, walls)
    return records


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["full", "tiny"], default="full")
    parser.add_argument("--only", default=None, help="comma-separated subset of " + ",".join(BENCHMARKS))
    parser.add_argument("--no-emiproc", action="store_true", help="skip emiproc in the gridding benchmark")
    parser.add_argument("--out-dir", type=Path, default=None, help=f"JSON folder (default {RESULTS_DIR})")
    args = parser.parse_args()
    only = args.only.split(",") if args.only else None
    unknown = set(only or []) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s) {sorted(unknown)}; choose from {list(BENCHMARKS)}")
    main(args.size, only=only, out_dir=args.out_dir, emiproc=not args.no_emiproc)


if __name__ == "__main__":
    cli()
