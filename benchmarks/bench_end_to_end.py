"""End-to-end benchmark: whole ``gridcarbon run`` jobs through the CLI, one child process each.

Targets (issue "Speed and memory, second round", this 2-core machine): the default run at most
8 s warm and 15 s on the first run after a fresh install; ``china-enhanced`` at 10 km at most
20 s, at 1 km at most 240 s and 4 GiB peak; a 32-member assumption ensemble (``--jobs 2``) at
most 4x the wall time of one default run with at most 2x its peak memory.

Each case runs ``python -m gridcarbon.cli run <scenario> --resolution <m> --out <tmpdir>
--quiet`` (plus ``--years`` / ``--ensemble N --jobs J`` when the case names them) in a fresh
child process, exactly as a user would start it. Reported per case: wall seconds and CPU
seconds of the child, its peak resident memory (``ru_maxrss`` from ``os.wait4``: the largest
single process) and the peak of the whole process tree's summed RSS (sampled every 50 ms with
psutil: what worker processes add), the 1-minute load average before and after, the exit code
(and the tail of stderr when it is not 0), and from the written ``manifest.json`` (or
``ensemble.json``): the job's own ``timings_s``, conservation, coupling iterations, the grid
and the number of files. Conservation is also checked independently from ``totals.csv``:
over the gridded rows, max |residual_t| / max(|allocated_t|, 1 t) must be <= 1e-6.

Cases (``--only`` picks a subset):

* ``yrd10``: ``yrd-enhanced`` at 10 km, the default job, warm (one untimed run first fills the
  numba cache): the reference the other cases are quoted against;
* ``yrd10-cold``: the same job as the first run after a fresh install: empty numba,
  matplotlib and user cache folders (``NUMBA_CACHE_DIR``, ``MPLCONFIGDIR``, ``XDG_CACHE_HOME``);
* ``ens32``: ``yrd-enhanced --ensemble 32 --jobs 2``;
* ``china10``: ``china-enhanced`` at 10 km, warm (one untimed run first, as ``yrd10``: without
  it the code whose study area happens to be cached from an earlier run wins 4 s);
* ``china1k``: ``china-enhanced`` at 1 km.

Both codes run from bytecode compiled beforehand (:func:`compile_bytecode`), as after ``pip
install .``.

``--reference-tree DIR`` (a checkout of the previous release, e.g. ``git worktree add
/tmp/ref <tag>``) runs every case a second time with that code (``PYTHONPATH=DIR``), right
after the current code's run, and reports ``current / reference`` per case: the side-by-side
figures the README's benchmark table quotes.

A case that fails (non-zero exit, killed by the out-of-memory killer, or over ``--timeout``)
is recorded with its exit code and stderr tail, and the next case runs. ``--size quick``
leaves out ``china1k``; ``--size tiny`` runs ``yrd10`` for the year 2030 only (what
tests/end_to_end/test_benchmarks_smoke.py runs).

Run: ``python benchmarks/bench_end_to_end.py [--size full|quick|tiny] [--only yrd10,ens32]
[--reference-tree DIR] [--timeout SECONDS] [--work-dir DIR] [--out FILE]``; results in
``benchmarks/results/bench_end_to_end.json``.
"""
from __future__ import annotations

import argparse
import compileall
import csv
import importlib.util
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

import psutil

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _common import RESULTS_DIR, load_1min, machine, ratio, sig, write_record  # noqa: E402

RESULTS = RESULTS_DIR / "bench_end_to_end.json"
RTOL = 1e-6  # |residual_t| / max(|allocated_t|, 1 t) per totals.csv row
GIB_MIB = 1024
#: the tree's summed RSS is sampled this often (s)
SAMPLE_S = 0.05
CASES = {
    "yrd10": {"scenario": "yrd-enhanced", "res_m": 10_000.0, "target_wall_s": 8.0, "limit_rss_mib": None,
              "warmup": True},
    "yrd10-cold": {"scenario": "yrd-enhanced", "res_m": 10_000.0, "target_wall_s": 15.0, "limit_rss_mib": None,
                   "cold": True},
    "ens32": {"scenario": "yrd-enhanced", "res_m": 10_000.0, "target_wall_s": None, "limit_rss_mib": None,
              "ensemble": 32, "jobs": 2},
    "china10": {"scenario": "china-enhanced", "res_m": 10_000.0, "target_wall_s": 20.0, "limit_rss_mib": None,
                "warmup": True},
    "china1k": {"scenario": "china-enhanced", "res_m": 1_000.0, "target_wall_s": 240.0,
                "limit_rss_mib": 4 * GIB_MIB},
}
SIZES = {
    "full": {"cases": list(CASES), "timeout_s": 3600.0},
    "quick": {"cases": ["yrd10", "yrd10-cold", "ens32", "china10"], "timeout_s": 1800.0},
    "tiny": {"cases": ["yrd10"], "years": [2030], "timeout_s": 600.0, "warmup": False},
}
#: name: (numerator case, denominator case, measure, limit or None); measured in the same run
RATIOS = {
    "china10/yrd10": ("china10", "yrd10", "wall_s", None),
    "china1k/china10": ("china1k", "china10", "wall_s", None),
    "ens32/yrd10": ("ens32", "yrd10", "wall_s", 4.0),
    "ens32/yrd10 peak memory": ("ens32", "yrd10", "tree_peak_rss_mib", 2.0),
}
STDERR_TAIL = 3000


# ------------------------------------------------------------------ one case
def command(spec: dict, out_dir: Path) -> list[str]:
    cmd = [sys.executable, "-m", "gridcarbon.cli", "run", spec["scenario"],
           "--resolution", f"{spec['res_m']:g}", "--out", str(out_dir), "--quiet"]
    for year in spec.get("years") or []:
        cmd += ["--years", str(year)]
    if spec.get("ensemble"):
        cmd += ["--ensemble", str(spec["ensemble"]), "--jobs", str(spec.get("jobs", 1))]
    return cmd


def environment(spec: dict, tmp: Path, reference: Path | None) -> dict:
    """The child's environment: ``PYTHONPATH`` of the reference tree, empty caches when cold."""
    env = dict(os.environ)
    if reference is not None:
        env["PYTHONPATH"] = str(reference)
    if spec.get("cold"):
        for var, sub in (("NUMBA_CACHE_DIR", "numba"), ("MPLCONFIGDIR", "mpl"), ("XDG_CACHE_HOME", "cache")):
            (tmp / sub).mkdir()
            env[var] = str(tmp / sub)
    return env


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


def _read_ensemble(folder: Path) -> dict:
    """The figures of an ensemble folder's ensemble.json (members check their own conservation)."""
    report = json.loads((folder / "ensemble.json").read_text())
    n_files, mib = _folder_stats(folder)
    return {"timings_s": {k: _finite(v) for k, v in report["timings_s"].items()},
            "members": report["members"], "feasible_members": report.get("feasible_members", report["members"]),
            "files_written": n_files, "output_mib": mib, "conserved": True}


def _kill_group(proc: subprocess.Popen, flag: dict) -> None:
    """Timeout: kill the child's process group (it was started in a session of its own)."""
    flag["timed_out"] = True
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _sample_tree(pid: int, peak: dict, done: threading.Event) -> None:
    """Keep ``peak["mib"]``: the largest summed RSS of ``pid`` and all its descendants."""
    try:
        root = psutil.Process(pid)
        while not done.is_set():
            total = 0
            for proc in [root, *root.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
            peak["mib"] = max(peak["mib"], total / 2**20)
            done.wait(SAMPLE_S)
    except psutil.Error:
        return


def _spawn(cmd: list[str], env: dict, tmp: Path, timeout_s: float) -> dict:
    """Run ``cmd`` in its own session; exit code, wall, CPU, peak RSS (process and tree), stderr."""
    flag, peak, done = {"timed_out": False}, {"mib": 0.0}, threading.Event()
    load_start = load_1min()
    t0 = time.perf_counter()
    with open(tmp / "stdout.txt", "w+b") as out, open(tmp / "stderr.txt", "w+b") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=tmp, env=env,
                                start_new_session=True)
        sampler = threading.Thread(target=_sample_tree, args=(proc.pid, peak, done), daemon=True)
        sampler.start()
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
            done.set()
            sampler.join()
        wall = time.perf_counter() - t0
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    return {"exit_code": os.waitstatus_to_exitcode(status), "timed_out": flag["timed_out"],
            "wall_s": round(wall, 3), "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),  # Linux: KiB
            "tree_peak_rss_mib": round(max(peak["mib"], usage.ru_maxrss / 1024), 1),
            "load_1min": [load_start, load_1min()], "stderr": stderr}


def run_case(name: str, spec: dict, *, timeout_s: float, work_dir: Path | None = None,
             reference: Path | None = None) -> dict:
    """Run one job in a child process (the ``reference`` tree's code when given) and read its outputs."""
    if work_dir is not None:
        Path(work_dir).mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"gridcarbon_e2e_{name}_", dir=work_dir))
    out_dir = tmp / "out"
    cmd = command(spec, out_dir)
    shown = ["python", *("<tmpdir>" if a == str(out_dir) else a for a in cmd[1:])]
    case = {"case": name, **spec, "command": " ".join(shown), "timeout_s": timeout_s,
            "code": "reference" if reference else "current"}
    try:
        env = environment(spec, tmp, reference)
        if spec.get("warmup"):
            _spawn(cmd, env, tmp, timeout_s)
            shutil.rmtree(out_dir, ignore_errors=True)
        ran = _spawn(cmd, env, tmp, timeout_s)
        stderr = ran.pop("stderr")
        case.update(ran, ok=ran["exit_code"] == 0)
        if not case["ok"]:
            case["stderr_tail"] = stderr[-STDERR_TAIL:]
            if ran["exit_code"] == -signal.SIGKILL and not ran["timed_out"]:
                case["note"] = "killed by SIGKILL (out of memory?)"
        else:
            try:
                case.update(_read_ensemble(out_dir / f"{spec['scenario']}-ensemble") if spec.get("ensemble")
                            else _read_outputs(out_dir / spec["scenario"]))
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
    case["peak_over_limit"] = ratio(case.get("tree_peak_rss_mib"), limit) if ok else None
    case["within_wall_target"] = None if target is None else bool(ok and case["wall_s"] <= target)
    case["within_rss_limit"] = None if limit is None else bool(ok and case["tree_peak_rss_mib"] <= limit)
    checks = [c for c in (case["within_wall_target"], case["within_rss_limit"]) if c is not None]
    case["within_target"] = all(checks) if checks else None


# ------------------------------------------------------------------ benchmark
def package_dir(tree: Path | None) -> Path:
    """The ``gridcarbon`` package a case runs: ``tree``'s, else the installed one."""
    if tree is not None:
        return tree / "gridcarbon"
    return Path(importlib.util.find_spec("gridcarbon").origin).parent


def compile_bytecode(packages: list[Path]) -> list[str]:
    """Compile every module of ``packages`` to bytecode (``__pycache__``), as ``pip install .``
    does: every case then starts as an installed package does. A source tree run where
    ``PYTHONDONTWRITEBYTECODE`` is set (this machine's environment) otherwise compiles every
    module it imports at each start: 0.3 s of the default run's 2 s of imports."""
    for package in packages:
        if not compileall.compile_dir(package, quiet=1):
            raise RuntimeError(f"cannot compile {package} to bytecode")
    return [str(p) for p in packages]


def run(size: str = "full", *, only: list[str] | None = None, timeout_s: float | None = None,
        work_dir: Path | None = None, reference: Path | None = None, verbose: bool = True) -> dict:
    spec = SIZES[size]
    names = [n for n in spec["cases"] if only is None or n in only]
    timeout_s = float(timeout_s or spec["timeout_s"])
    record = {"benchmark": "end_to_end", "size": size, "machine": machine(), "rtol": RTOL,
              "timeout_s": timeout_s, "reference_tree": str(reference) if reference else None,
              "bytecode": compile_bytecode([package_dir(None), *([package_dir(reference)] if reference else [])]),
              "cases": []}
    for name in names:
        case_spec = {"years": None, **CASES[name], **{k: spec[k] for k in ("years", "warmup") if k in spec}}
        for tree in [None, reference] if reference else [None]:
            if verbose:
                print(f"\n{name} ({'reference' if tree else 'current'} code): {case_spec['scenario']} at "
                      f"{case_spec['res_m'] / 1000:g} km" + (f", years {case_spec['years']}" if case_spec["years"]
                                                             else "") + f" (load {load_1min()}) ...", flush=True)
            case = run_case(name, case_spec, timeout_s=timeout_s, work_dir=work_dir, reference=tree)
            record["cases"].append(case)
            if verbose:
                print_case(case)
    record.update(_summary(record["cases"]))
    return record


def _summary(cases: list[dict]) -> dict:
    """Ratios between cases (current code), current / reference per case, and the overall flags."""
    current = {c["case"]: c for c in cases if c["code"] == "current"}
    reference = {c["case"]: c for c in cases if c["code"] == "reference"}

    def measure(table, name, key):
        c = table.get(name)
        return c.get(key) if c and c.get("ok") else None

    ratios = {k: ratio(measure(current, a, key), measure(current, b, key)) for k, (a, b, key, _) in RATIOS.items()}
    within = {k: None if limit is None or ratios[k] is None else ratios[k] <= limit
              for k, (_, _, _, limit) in RATIOS.items()}
    versus = {name: {key: ratio(measure(current, name, key), measure(reference, name, key))
                     for key in ("wall_s", "tree_peak_rss_mib")} for name in reference}
    targeted = [c["within_target"] for c in current.values() if c["within_target"] is not None]
    targeted += [v for k, v in within.items() if v is not None and ratios[k] is not None]
    return {"ratios": ratios, "ratios_within_limit": within, "current_over_reference": versus,
            "all_ok": all(c.get("ok") for c in cases),
            "all_conserved": all(c["conserved"] is True for c in cases),
            "all_within_target": all(targeted) if targeted else None, "load_1min_end": load_1min()}


def print_case(case: dict) -> None:
    if not case.get("ok"):
        why = "timed out" if case.get("timed_out") else case.get("note") or case.get("error") or ""
        print(f"  FAILED: exit {case.get('exit_code')} {why} after {case.get('wall_s')} s, "
              f"peak RSS {case.get('peak_rss_mib')} MiB; stderr tail:")
        print("    " + (case.get("stderr_tail") or "").strip().replace("\n", "\n    ")[-1500:])
        return
    print(f"  wall {case['wall_s']} s ({case['cpu_s']} s CPU), peak RSS {case['peak_rss_mib']} MiB "
          f"(process tree {case['tree_peak_rss_mib']} MiB), load {case['load_1min']}")
    if case.get("ensemble"):
        print(f"  {case['feasible_members']} of {case['members']} members feasible; timings {case['timings_s']}")
    else:
        g = case["grid"]
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
         work_dir: Path | None = None, reference: Path | None = None) -> dict:
    """Run the benchmark at ``size`` ("full", "quick" or "tiny"), write and return the JSON record."""
    record = run(size, only=only, timeout_s=timeout_s, work_dir=work_dir, reference=reference, verbose=verbose)
    path = write_record(record, out or RESULTS)
    if verbose:
        ratios = ", ".join(f"{k} {_fmt_ratio(v)}" + (f" (limit {RATIOS[k][3]:g})" if RATIOS[k][3] else "")
                           for k, v in record["ratios"].items())
        print(f"\nratios (same run): {ratios}")
        for name, versus in record["current_over_reference"].items():
            print(f"current / reference, {name}: wall {_fmt_ratio(versus['wall_s'])}, "
                  f"peak memory {_fmt_ratio(versus['tree_peak_rss_mib'])}")
        print(f"all ok: {record['all_ok']}, all conserved: {record['all_conserved']}, "
              f"all within target: {record['all_within_target']}\nwritten: {path}")
    return record


def _fmt_ratio(value) -> str:
    return "-" if value is None else f"{sig(value, 3):g}"


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--only", default=None, help="comma-separated subset of " + ",".join(CASES))
    parser.add_argument("--reference-tree", type=Path, default=None,
                        help="checkout of the previous release, run beside every case")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds per case (default: " + ", ".join(f"{k} {v['timeout_s']:g}"
                                                                      for k, v in SIZES.items()) + ")")
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="where the temporary output folders go (default: the system temp folder)")
    args = parser.parse_args()
    only = args.only.split(",") if args.only else None
    unknown = set(only or []) - set(CASES)
    if unknown:
        parser.error(f"unknown case(s) {sorted(unknown)}; choose from {list(CASES)}")
    if only and not set(only) & set(SIZES[args.size]["cases"]):
        parser.error(f"none of {only} is a {args.size} case ({SIZES[args.size]['cases']})")
    main(args.size, out=args.out, only=only, timeout_s=args.timeout, work_dir=args.work_dir,
         reference=args.reference_tree)


if __name__ == "__main__":
    cli()
