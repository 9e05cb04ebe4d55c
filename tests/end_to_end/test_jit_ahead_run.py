"""The first run after an install: every kernel comes from the compile-ahead process, same bytes.

One default ``gridcarbon run`` in a child process with empty numba, matplotlib and gridcarbon
caches (what ``benchmarks/bench_end_to_end.py`` times as ``yrd10-cold``), with a numba compile
listener in the run's own interpreter and the compile-ahead process started even if the
machine is busy. The run must compile none of gridcarbon's kernels
itself: every signature it calls is in :data:`gridcarbon.core.jitahead.AHEAD` and was loaded
from the cache the compile-ahead process wrote. Its results are the bytes of the session's
default run (made with whatever cache the session had).
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import xarray as xr

#: the child: a compile listener on the run's interpreter, then the CLI; prints what it compiled
SCRIPT = """
import sys
from numba.core import event

compiled = []

class Seen(event.Listener):
    def on_start(self, ev):
        pass

    def on_end(self, ev):
        func = ev.data["dispatcher"].py_func
        if func.__module__.startswith("gridcarbon"):
            compiled.append(f"{func.__module__}.{func.__name__}{ev.data['args']}")

event.register("numba:compile", Seen())
from gridcarbon.cli import app
from gridcarbon.core import jitahead

jitahead.start(force=True)  # the CLI would not start it on a busy machine (a test session)

sys.argv = ["gridcarbon", *sys.argv[1:]]
try:
    app()
finally:
    print("compiled:", compiled)
"""


def _hashes(folder: Path) -> dict[str, str]:
    """sha256 of every GeoTIFF, ``totals.csv`` and each cube variable's values (as
    benchmarks/check_identical.py: the files' own bytes carry creation times)."""
    out = {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
           for p in sorted(folder.rglob("*.tif"))}
    out["totals.csv"] = hashlib.sha256((folder / "totals.csv").read_bytes()).hexdigest()
    with xr.open_dataset(folder / "cube.nc", mask_and_scale=False) as cube:
        out |= {name: hashlib.sha256(cube[name].values.tobytes()).hexdigest() for name in cube.data_vars}
    return out


def test_cold_run_compiles_no_kernel_and_writes_the_same_bytes(default_run, tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba"), "MPLCONFIGDIR": str(tmp_path / "mpl"),
           "GRIDCARBON_CACHE_DIR": str(tmp_path / "cache"), "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, "run", "--out", str(tmp_path / "out"), "--quiet"],
                          env=env, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "compiled: []"
    assert len(list((tmp_path / "numba").glob("gridcarbon-ahead-*.done"))) == 1
    assert _hashes(tmp_path / "out" / "yrd-enhanced") == _hashes(default_run.out_dir)
