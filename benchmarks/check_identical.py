"""Byte-identity check: do the default run and ``china-enhanced`` still write the same results?

Runs ``gridcarbon run`` (the default, ``yrd-enhanced``) and ``gridcarbon run china-enhanced``
in fresh processes, then hashes (sha256) every ``.tif``, ``totals.csv`` and every data variable
of ``cube.nc`` (the array bytes; the file's own bytes carry creation metadata). ``--record``
writes the hashes to ``benchmarks/identity_hashes.json``; without it the script compares against
that file and exits 1 naming every file that differs.

    python benchmarks/check_identical.py            # compare (about 1.5 min on 2 cores)
    python benchmarks/check_identical.py --record   # record from the current code
"""
from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import xarray as xr

HERE = Path(__file__).resolve().parent
RECORD = HERE / "identity_hashes.json"
SCENARIOS = ("yrd-enhanced", "china-enhanced")


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
            hashes[f"cube.nc:{name}"] = hashlib.sha256(cube[name].values.tobytes()).hexdigest()
    return hashes


def run_all(work: Path) -> tuple[dict[str, dict[str, str]], dict[str, float]]:
    """Run every scenario with the CLI into ``work``; hashes and wall seconds per scenario."""
    hashes, walls = {}, {}
    for name in SCENARIOS:
        t0 = time.perf_counter()
        subprocess.run(["gridcarbon", "run", name, "--out", str(work), "--quiet"], check=True)
        walls[name] = round(time.perf_counter() - t0, 2)
        hashes[name] = hash_run(work / name)
    return hashes, walls


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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        hashes, walls = run_all(Path(tmp))
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                            cwd=HERE).stdout.strip()
    if args.record:
        RECORD.write_text(json.dumps({"commit": commit, "wall_s": walls, "hashes": hashes},
                                     indent=1, sort_keys=True) + "\n")
        print(f"recorded {sum(map(len, hashes.values()))} hashes at {commit[:10]}: {walls}")
        return 0
    recorded = json.loads(RECORD.read_text())
    problems = compare(recorded, hashes)
    print(f"recorded at {recorded['commit'][:10]} (wall {recorded['wall_s']}); "
          f"now {commit[:10]} (wall {walls})")
    for line in problems:
        print("DIFFERS", line)
    print("byte-identical" if not problems else f"{len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
