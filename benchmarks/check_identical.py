"""Byte-identity check: do the default run and ``china-enhanced`` still write the same results?

Runs ``gridcarbon run`` (the default, ``yrd-enhanced``) and ``gridcarbon run china-enhanced``
in fresh processes, and ``china-enhanced`` once more with every grid taken as large (float32
layers, as a 1 km national run stores them: a change can keep 10 km bytes and not these), then hashes (sha256) every ``.tif``, ``totals.csv`` and every data variable
of ``cube.nc`` (the array bytes; the file's own bytes carry creation metadata). ``--record``
writes the hashes to ``benchmarks/identity_hashes.json``; without it the script compares against
that file and exits 1 naming every file that differs.

    python benchmarks/check_identical.py            # compare (about 2 min on 2 cores)
    python benchmarks/check_identical.py --record   # record from the current code

``--reference-tree DIR`` (a checkout of the recorded commit, e.g. made with
``git worktree add /tmp/ref <commit>``) also runs that code, with ``PYTHONPATH=DIR``, in the
same benchmark run: each scenario ``--repeat`` times, reference and current in turn, and
prints both wall times (median) and their ratio (current / reference), and checks that the
reference's hashes are still the recorded ones.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import xarray as xr

HERE = Path(__file__).resolve().parent
RECORD = HERE / "identity_hashes.json"
#: case: (scenario, run as a large grid). The large-grid case stores layers in float32 as a 1 km
#: national run does (engine option ``large_grid_cells``), on a grid small enough to check in a
#: minute: a change that keeps 10 km bytes but not float32 ones shows there
CASES = {"yrd-enhanced": ("yrd-enhanced", False), "china-enhanced": ("china-enhanced", False),
         "china-enhanced-large": ("china-enhanced", True)}
SCENARIOS = tuple(CASES)
#: the CLI with every grid taken as large (``python -c``; arguments as for ``gridcarbon``)
LARGE_CLI = ("import sys; from gridcarbon import set_options; set_options(large_grid_cells=0); "
             "from gridcarbon.cli import app; sys.argv[0] = 'gridcarbon'; app()")


def _sha(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def hash_run(folder: Path) -> dict[str, str]:
    """sha256 of every GeoTIFF, ``totals.csv`` and each cube data variable, keyed by relative path."""
    hashes = {str(p.relative_to(folder)): _sha(p) for p in sorted(folder.rglob("*.tif"))}
    hashes["totals.csv"] = _sha(folder / "totals.csv")
    with xr.open_dataset(folder / "cube.nc", mask_and_scale=False) as cube:
        for name in sorted(cube.data_vars):
            hashes[f"cube.nc:{name}"] = _sha_values(cube[name])
    return hashes


def _sha_values(var: xr.DataArray) -> str:
    """sha256 of the C-order bytes of ``var``'s values, read one slice of its first axis at a
    time (the same digest as of ``var.values.tobytes()``: a China 1 km cube is 40 GiB)."""
    digest = hashlib.sha256()
    for k in range(var.shape[0] if var.ndim > 2 else 1):
        digest.update(np.ascontiguousarray(var[k].values if var.ndim > 2 else var.values).tobytes())
    return digest.hexdigest()


def run_one(name: str, work: Path, tree: Path | None = None) -> float:
    """Wall seconds of case ``name`` (:data:`CASES`: ``gridcarbon run SCENARIO``) into
    ``work/name`` in a fresh process (the code of ``tree`` when given, through ``PYTHONPATH``,
    started in ``work``: ``python -m`` and ``-c`` put the working directory first on
    ``sys.path``, so started in a checkout it would run that checkout's code)."""
    scenario, large = CASES[name]
    env = dict(os.environ) if tree is None else dict(os.environ, PYTHONPATH=str(tree))
    entry = ["-c", LARGE_CLI] if large else ["-m", "gridcarbon.cli"]
    t0 = time.perf_counter()
    subprocess.run([sys.executable, *entry, "run", scenario, "--out", str(work / name), "--quiet"],
                   check=True, env=env, cwd=None if tree is None else work)
    return round(time.perf_counter() - t0, 2)


def run_all(work: Path, *, reference: Path | None = None,
            repeat: int = 1) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, float]], dict]:
    """Run every scenario into ``work`` (and the reference tree's code, in turn): hashes of the
    current code's runs, hashes of the reference's, and median wall seconds of both."""
    hashes, ref_hashes, walls = {}, {}, {}
    for name in SCENARIOS:
        mine, theirs = [], []
        for _ in range(repeat):
            if reference is not None:
                theirs.append(run_one(name, work / "reference", reference))
            mine.append(run_one(name, work / "current"))
        hashes[name] = hash_run(work / "current" / name / CASES[name][0])
        if reference is not None:
            ref_hashes[name] = hash_run(work / "reference" / name / CASES[name][0])
        walls[name] = {"current_s": statistics.median(mine)}
        if theirs:
            walls[name] |= {"reference_s": statistics.median(theirs),
                            "ratio": round(statistics.median(mine) / statistics.median(theirs), 3)}
    return hashes, ref_hashes, walls


def compare(recorded: dict, current: dict) -> list[str]:
    """Every key whose hash differs, is missing, or is new."""
    problems = []
    for scenario in SCENARIOS:
        old, new = recorded["hashes"][scenario], current[scenario]
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                problems.append(f"{scenario}/{key}: {old.get(key, 'missing')[:12]} -> "
                                f"{new.get(key, 'missing')[:12]}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="record hashes from this code")
    parser.add_argument("--reference-tree", type=Path, help="checkout of the recorded commit to time beside")
    parser.add_argument("--repeat", type=int, default=1, help="runs per scenario and code (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for sub in ("current", "reference"):
            (Path(tmp) / sub).mkdir()
        hashes, ref_hashes, walls = run_all(Path(tmp), reference=args.reference_tree, repeat=args.repeat)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                            cwd=HERE).stdout.strip()
    if args.record:
        RECORD.write_text(json.dumps({"commit": commit, "wall_s": walls, "hashes": hashes},
                                     indent=1, sort_keys=True) + "\n")
        print(f"recorded {sum(map(len, hashes.values()))} hashes at {commit[:10]}: {walls}")
        return 0
    recorded = json.loads(RECORD.read_text())
    problems = compare(recorded, hashes)
    if ref_hashes:
        problems += [f"reference tree: {p}" for p in compare(recorded, ref_hashes)]
    print(f"recorded at {recorded['commit'][:10]}; now {commit[:10]}")
    for name, w in walls.items():
        print(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in w.items()))
    for line in problems:
        print("DIFFERS", line)
    print("byte-identical" if not problems else f"{len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
