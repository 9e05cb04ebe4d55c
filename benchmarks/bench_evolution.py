"""The year loop alone: ``evolve()`` of a built-in scenario, without export, in CPU and wall seconds.

Prepares the scenario (study area, suitability) and runs the coupling once, then times
``gridcarbon.evolution.evolve`` ``repeat`` times with ``time.process_time`` (CPU seconds of the
process: steadier than wall time on the shared 2 cores) and ``time.perf_counter``, with the
1-minute load before each. Sizes: ``full`` times ``evolve()`` 3 times, ``tiny`` once. To compare two commits, run it with ``PYTHONPATH`` set to each checkout
in turn (the record names the package's folder).

Run: ``python benchmarks/bench_evolution.py [--size full|tiny] [--scenario NAME] [--repeat N]
[--out FILE]``; record in ``benchmarks/results/bench_evolution.json``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _common import RESULTS_DIR, load_1min, machine, sig, write_record

import gridcarbon
from gridcarbon.core.grid import Grid
from gridcarbon.evolution import evolve
from gridcarbon.job import agree, parent_totals, prepare, resolve, scenario_regions

RESULTS = RESULTS_DIR / "bench_evolution.json"
SIZES = {"full": {"repeat": 3}, "tiny": {"repeat": 1}}


def run(size: str = "full", *, scenario: str = "yrd-enhanced", repeat: int | None = None) -> dict:
    """CPU and wall seconds of each ``evolve()`` of ``scenario`` at ``size``."""
    sc = resolve(scenario)
    regions = scenario_regions(sc)
    grid = Grid.from_regions(regions, res=sc.resolution)
    prep = prepare(sc, grid, regions)
    agreed = agree(sc, prep.context, prep.drivers, parent=parent_totals(sc))
    kwargs = {"snapshot_years": [sc.base_year, *sc.years], "power": agreed.allocation.power,
              "transfers": agreed.transfers if sc.evolution.transfer else None}
    runs = []
    for _ in range(repeat or SIZES[size]["repeat"]):
        load, cpu, wall = load_1min(), time.process_time(), time.perf_counter()
        evo = evolve(prep.context, agreed.allocation.totals, **kwargs)
        runs.append({"cpu_s": sig(time.process_time() - cpu), "wall_s": sig(time.perf_counter() - wall),
                     "load_1min": load, "max_relative_residual": evo.summary()["max_relative_residual"]})
    return {"benchmark": "evolution", "size": size, "scenario": scenario, "years": len(prep.context.years),
            "package": str(Path(gridcarbon.__file__).parent), "machine": machine(), "runs": runs}


def main(size: str = "full", *, out: Path | None = None, verbose: bool = True, scenario: str = "yrd-enhanced",
         repeat: int | None = None) -> dict:
    """Run the benchmark at ``size`` ("full" or "tiny"), write and return the JSON record."""
    record = run(size, scenario=scenario, repeat=repeat)
    path = write_record(record, out or RESULTS)
    if verbose:
        for r in record["runs"]:
            print(f"{scenario} evolve: cpu {r['cpu_s']} s, wall {r['wall_s']} s, load {r['load_1min']}")
        print(f"written: {path}")
    return record


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--scenario", default="yrd-enhanced")
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    main(args.size, out=args.out, scenario=args.scenario, repeat=args.repeat)


if __name__ == "__main__":
    cli()
