"""End-to-end benchmark: whole ``gridcarbon run`` jobs through the CLI, one child process each.

Issue: "A national run (china-enhanced) at 10 km finishes in under a minute; at 1 km in
under 15 minutes and within 8 GiB of memory".

Each case runs ``python -m gridcarbon.cli run <scenario> --resolution <m> --out <tmpdir>
--quiet`` (plus ``--years`` when the case names years) in a fresh child process, exactly as
a user would start it. Reported per case: wall seconds and CPU seconds of the child, its
peak resident memory (``ru_maxrss`` from ``os.wait4`` on that child: the whole job,
interpreter and imports included), the 1-minute load average before and after, the exit
code (and the tail of stderr when it is not 0), and from the written
``<tmpdir>/<scenario>/manifest.json``: the job's own ``timings_s``,
``conservation.max_relative_residual``, ``coupling.iterations``, the grid (resolution,
shape, cells inside the regions) and the number of files. Conservation is also checked
independently from ``<tmpdir>/<scenario>/totals.csv``: over the rows that were gridded,
max |residual_t| / max(|allocated_t|, 1 t) must be <= 1e-6 (``conserved``). The output
folder is deleted after each case (a national 1 km run writes gigabytes).

Cases (``--only`` picks a subset):

* ``yrd10``: ``yrd-enhanced`` at 10 km, the default job: the reference, measured in the
  same run so that ``china10`` can be quoted as a ratio to it;
* ``china10``: ``china-enhanced`` at 10 km, target wall < 60 s;
* ``china1k``: ``china-enhanced`` at 1 km, targets wall < 900 s and peak RSS < 8 GiB.

A case that fails (non-zero exit, killed by the out-of-memory killer, or over
``--timeout``) is recorded with its exit code and stderr tail, and the next case runs.
``--size tiny`` runs ``yrd10`` for the year 2030 only (``--years 2030``): what
tests/end_to_end/test_benchmarks_smoke.py runs, about half a minute.

Run: ``python benchmarks/bench_end_to_end.py [--size full|tiny] [--only yrd10,china10]
[--timeout SECONDS] [--work-dir DIR] [--out FILE]``; results in
``benchmarks/results/bench_end_to_end.json``.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _common import RESULTS_DIR, load_1min, machine, ratio, sig, write_record  # noqa: E402

RESULTS = RESULTS_DIR / "bench_end_to_end.json"
RTOL = 1e-6  # |residual_t| / max(|allocated_t|, 1 t) per totals.csv row
GIB_MIB = 1024
CASES = {
    "yrd10": {"scenario": "yrd-enhanced", "res_m": 10_000.0, "years": None,
              "target_wall_s": None, "limit_rss_mib": None},
    "china10": {"scenario": "china-enhanced", "res_m": 10_000.0, "years": None,
                "target_wall_s": 60.0, "limit_rss_mib": None},
    "china1k": {"scenario": "china-enhanced", "res_m": 1_000.0, "years": None,
                "target_wall_s": 900.0, "limit_rss_mib": 8 * GIB_MIB},
}
SIZES = {
    "full": {"cases": ["yrd10", "china10", "china1k"], "timeout_s": 3600.0},
    "tiny": {"cases": ["yrd10"], "years": [2030], "timeout_s": 600.0},
}
RATIOS = {  # name: (numerator case, denominator case), wall seconds
    "china10/yrd10": ("china10", "yrd10"),
    "china1k/china10": ("china1k", "china10"),
}
STDERR_TAIL = 3000


# ------------------------------------------------------------------ one case
def command(spec: dict, out_dir: Path) -> list[str]:
    cmd = [sys.executable, "-m", "gridcarbon.cli", "run", spec["scenario"],
           "--resolution", f"{spec['res_m']:g}", "--out", str(out_dir), "--quiet"]
    for year in spec.get("years") or []:
        cmd += ["--years", str(year)]
    return cmd


def _finite(x) -> float | None:
    """A float for the JSON record; NaN / inf / missing become None (JSON has no NaN)."""
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def totals_residual(path: Path) -> tuple[float | None, int]:
    """Max |residual_t| / max(|allocated_t|, 1) over the rows with a gridded_t; rows checked."""
    worst, rows = 0.0, 0
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            gridded = _finite(row.get("gridded_t") or None)
            if gridded is None:  # not gridded (e.g. the "indirect" sector): nothing to check
                continue
            residual = _finite(row.get("residual_t") or None)
            allocated = _finite(row.get("allocated_t") or None)
            if residual is None or allocated is None:
                return None, rows + 1  # a gridded row without a residual: not conserved
            worst = max(worst, abs(residual) / max(abs(allocated), 1.0))
            rows += 1
    return worst, rows


def _folder_stats(folder: Path) -> tuple[int, float]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), round(sum(p.stat().st_size for p in files) / 2**20, 1)


def _read_outputs(job_dir: Path) -> dict:
    """The figures taken from the job's manifest.json and totals.csv."""
    manifest = json.loads((job_dir / "manifest.json").read_text())
    grid = manifest.get("grid") or {}
    n_files, mib = _folder_stats(job_dir)
    residual, rows = totals_residual(job_dir / "totals.csv")
    return {
        "timings_s": {k: _finite(v) for k, v in (manifest.get("timings_s") or {}).items()},
        "max_relative_residual": _finite((manifest.get("conservation") or {}).get("max_relative_residual")),
        "coupling_iterations": (manifest.get("coupling") or {}).get("iterations"),
        "coupling_converged": (manifest.get("coupling") or {}).get("converged"),
        "grid": {k: grid.get(k) for k in ("res_m", "shape", "cells_inside", "bounds")},
        "years_exported": manifest.get("years"),
        "files_written": n_files,
        "files_in_manifest": len(manifest.get("files") or {}),
        "output_mib": mib,
        "totals_rows_checked": rows,
        "totals_max_relative_residual": residual,
        "conserved": residual is not None and rows > 0 and residual <= RTOL,
    }


def _kill_group(proc: subprocess.Popen, flag: dict) -> None:
    """Timeout: kill the child's process group (it was started in a session of its own)."""
    flag["timed_out"] = True
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run_case(name: str, spec: dict, *, timeout_s: float, work_dir: Path | None = None) -> dict:
    """Run one job in a child process; wall, peak RSS (os.wait4), manifest and totals figures."""
    if work_dir is not None:
        Path(work_dir).mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"gridcarbon_e2e_{name}_", dir=work_dir))
    out_dir = tmp / "out"
    cmd = command(spec, out_dir)
    shown = ["python", *("<tmpdir>" if a == str(out_dir) else a for a in cmd[1:])]
    case = {"case": name, **spec, "command": " ".join(shown), "timeout_s": timeout_s}
    try:
        flag = {"timed_out": False}
        load_start = load_1min()
        t0 = time.perf_counter()
        with open(tmp / "stdout.txt", "w+b") as out, open(tmp / "stderr.txt", "w+b") as err:
            proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=tmp,
                                    start_new_session=True)
            timer = threading.Timer(timeout_s, _kill_group, (proc, flag))
            timer.daemon = True
            timer.start()
            try:
                _, status, usage = os.wait4(proc.pid, 0)
            except BaseException:  # interrupted (Ctrl-C): do not leave the job running
                _kill_group(proc, flag)
                os.waitpid(proc.pid, 0)
                raise
            finally:
                timer.cancel()
            proc.returncode = os.waitstatus_to_exitcode(status)
            wall = time.perf_counter() - t0
            load_end = load_1min()
            err.seek(0)
            stderr = err.read().decode("utf-8", "replace")
        peak_mib = usage.ru_maxrss / 1024  # Linux: KiB
        case.update({
            "exit_code": proc.returncode, "ok": proc.returncode == 0, "timed_out": flag["timed_out"],
            "wall_s": round(wall, 3), "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
            "peak_rss_mib": round(peak_mib, 1), "load_1min": [load_start, load_end],
        })
        if proc.returncode != 0:
            case["stderr_tail"] = stderr[-STDERR_TAIL:]
            if proc.returncode == -signal.SIGKILL and not flag["timed_out"]:
                case["note"] = "killed by SIGKILL (out of memory?)"
        else:
            try:
                case.update(_read_outputs(out_dir / spec["scenario"]))
            except Exception as exc:  # noqa: BLE001 - a broken output is a result, not a crash
                case.update({"ok": False, "error": f"{type(exc).__name__}: {exc}",
                             "stderr_tail": stderr[-STDERR_TAIL:]})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    case.setdefault("conserved", None)
    _targets(case)
    return case


def _targets(case: dict) -> None:
    """wall / target, peak / limit and within_target (None for a case without targets)."""
    ok = case.get("ok", False)
    target, limit = case["target_wall_s"], case["limit_rss_mib"]
    case["wall_over_target"] = ratio(case.get("wall_s"), target) if ok else None
    case["peak_over_limit"] = ratio(case.get("peak_rss_mib"), limit) if ok else None
    case["within_wall_target"] = None if target is None else bool(ok and case["wall_s"] < target)
    case["within_rss_limit"] = None if limit is None else bool(ok and case["peak_rss_mib"] < limit)
    checks = [c for c in (case["within_wall_target"], case["within_rss_limit"]) if c is not None]
    case["within_target"] = all(checks) if checks else None


# ------------------------------------------------------------------ benchmark
def run(size: str = "full", *, only: list[str] | None = None, timeout_s: float | None = None,
        work_dir: Path | None = None, verbose: bool = True) -> dict:
    spec = SIZES[size]
    names = [n for n in spec["cases"] if only is None or n in only]
    timeout_s = float(timeout_s or spec["timeout_s"])
    record = {"benchmark": "end_to_end", "size": size, "machine": machine(), "rtol": RTOL,
              "timeout_s": timeout_s, "cases": []}
    for name in names:
        case_spec = dict(CASES[name])
        if spec.get("years"):
            case_spec["years"] = list(spec["years"])
        if verbose:
            print(f"\n{name}: {case_spec['scenario']} at {case_spec['res_m'] / 1000:g} km"
                  + (f", years {case_spec['years']}" if case_spec["years"] else "")
                  + f" (load {load_1min()}) ...", flush=True)
        case = run_case(name, case_spec, timeout_s=timeout_s, work_dir=work_dir)
        record["cases"].append(case)
        if verbose:
            print_case(case)
    by_name = {c["case"]: c for c in record["cases"]}

    def wall(name):
        c = by_name.get(name)
        return c["wall_s"] if c and c.get("ok") else None

    record["ratios"] = {k: ratio(wall(a), wall(b)) for k, (a, b) in RATIOS.items()}
    targeted = [c["within_target"] for c in record["cases"] if c["within_target"] is not None]
    record["all_ok"] = all(c.get("ok") for c in record["cases"])
    record["all_conserved"] = all(c["conserved"] is True for c in record["cases"])
    record["all_within_target"] = all(targeted) if targeted else None
    record["load_1min_end"] = load_1min()
    return record


def print_case(case: dict) -> None:
    if not case.get("ok"):
        why = "timed out" if case.get("timed_out") else case.get("note") or case.get("error") or ""
        print(f"  FAILED: exit {case.get('exit_code')} {why} after {case.get('wall_s')} s, "
              f"peak RSS {case.get('peak_rss_mib')} MiB; stderr tail:")
        print("    " + (case.get("stderr_tail") or "").strip().replace("\n", "\n    ")[-1500:])
        return
    g = case["grid"]
    print(f"  wall {case['wall_s']} s ({case['cpu_s']} s CPU), peak RSS {case['peak_rss_mib']} MiB, "
          f"load {case['load_1min']}")
    print(f"  grid {g['shape'][0]}x{g['shape'][1]} ({g['cells_inside']} cells inside), "
          f"{case['files_written']} files ({case['output_mib']} MiB), coupling iterations "
          f"{case['coupling_iterations']}; job timings {case['timings_s']}")
    print(f"  conservation: manifest {case['max_relative_residual']:.3g}, totals.csv "
          f"{case['totals_max_relative_residual']:.3g} over {case['totals_rows_checked']} rows "
          f"-> conserved (<= {RTOL:g}): {case['conserved']}")
    if case["within_target"] is not None:
        parts = []
        if case["target_wall_s"] is not None:
            parts.append(f"wall / {case['target_wall_s']:g} s = {case['wall_over_target']}")
        if case["limit_rss_mib"] is not None:
            parts.append(f"peak / {case['limit_rss_mib']} MiB = {case['peak_over_limit']}")
        print(f"  targets: {', '.join(parts)} -> within target: {case['within_target']}")


def main(size: str = "full", *, out: Path | None = None, verbose: bool = True,
         only: list[str] | None = None, timeout_s: float | None = None,
         work_dir: Path | None = None) -> dict:
    """Run the benchmark at ``size`` ("full" or "tiny"), write and return the JSON record."""
    record = run(size, only=only, timeout_s=timeout_s, work_dir=work_dir, verbose=verbose)
    path = write_record(record, out or RESULTS)
    if verbose:
        ratios = ", ".join(f"{k} {_fmt_ratio(v)}" for k, v in record["ratios"].items())
        print(f"\nwall ratios (same run): {ratios}\nall ok: {record['all_ok']}, all conserved: "
              f"{record['all_conserved']}, all within target: {record['all_within_target']}\nwritten: {path}")
    return record


def _fmt_ratio(value) -> str:
    return "-" if value is None else f"{sig(value, 3):g}"


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--only", default=None, help="comma-separated subset of " + ",".join(CASES))
    parser.add_argument("--timeout", type=float, default=None,
                        help=f"seconds per case (default: full {SIZES['full']['timeout_s']:g}, "
                        f"tiny {SIZES['tiny']['timeout_s']:g})")
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="where the temporary output folders go (default: the system temp folder)")
    args = parser.parse_args()
    only = args.only.split(",") if args.only else None
    unknown = set(only or []) - set(CASES)
    if unknown:
        parser.error(f"unknown case(s) {sorted(unknown)}; choose from {list(CASES)}")
    if only and not set(only) & set(SIZES[args.size]["cases"]):
        parser.error(f"none of {only} is a {args.size} case ({SIZES[args.size]['cases']})")
    main(args.size, out=args.out, only=only, timeout_s=args.timeout, work_dir=args.work_dir)


if __name__ == "__main__":
    cli()
