"""CPU seconds of two run-folder writers on a written run: one year's three maps and one year's
provenance COG (prints only).

    python benchmarks/bench_writing.py RUN_DIR [--year 2030] [--repeat 3]

``RUN_DIR`` is a run folder (``gridcarbon run --out DIR`` writes ``DIR/<scenario>``). Each
figure is the median CPU time (``time.process_time``) of ``--repeat`` calls after one warm-up
call (matplotlib's font and text caches, numba kernels), so it reads alike on a busy machine.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import gridcarbon
from gridcarbon.output import export, provenance
from gridcarbon.output.layers import named_layers
from gridcarbon.output.run_folder import render_year_maps


def cpu_seconds(call, repeat: int) -> float:
    """Median CPU seconds of ``call()`` over ``repeat`` calls after a warm-up call."""
    call()
    times = []
    for _ in range(repeat):
        start = time.process_time()
        call()
        times.append(time.process_time() - start)
    return statistics.median(times)


def main(run_dir: Path, year: int, repeat: int) -> dict[str, float]:
    result = gridcarbon.load_run(run_dir)
    grid = result.grid
    named = named_layers(result.emissions.emission.sel(year=year).values)
    bands = len(provenance.RASTER_LAYERS) * provenance.BANDS_PER_LAYER
    band_values = [named["total"].astype("float32")] * bands
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        figures = {
            "maps of one year (3 PNG)": lambda: render_year_maps(out / "maps", named, grid, boundaries=result.boundaries,
                                                                 name=result.scenario.name, year=year),
            f"provenance COG of one year ({bands} bands)": lambda: export.write_bands_cog(
                out / "provenance.tif", ((f"b{k}", v) for k, v in enumerate(band_values)), grid, count=bands, tags={}),
        }
        print(f"{run_dir} year {year}, grid {grid.shape}, load {os.getloadavg()[0]:.1f}")
        record = {}
        for label, call in figures.items():
            record[label] = cpu_seconds(call, repeat)
            print(f"  {label}: {record[label]:.3f} s CPU")
    return record


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--year", type=int, default=2030)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    main(args.run_dir, args.year, args.repeat)
