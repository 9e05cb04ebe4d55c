"""The first run after an install: the run and the compile-ahead process share the kernels, same bytes.

One default ``gridcarbon run`` in a child process with empty numba, matplotlib and gridcarbon
caches (what ``benchmarks/bench_end_to_end.py`` times as ``yrd10-cold``), with a numba compile
listener in the run's own interpreter and the compile-ahead process started even if the
machine is busy, and waited for at the run's end. Every kernel of
:data:`gridcarbon.core.jitahead.KERNELS` is compiled once:
either by the process (it reported it) or by the run (it claimed it), never by both, and the
run compiles no signature outside :data:`~gridcarbon.core.jitahead.AHEAD` nor one twice. The
stamp is written. It fits no cross-validation: those of the default scenario ship with the
package (``gridcarbon.shipped``). Its results are the bytes of the session's default run (made
with whatever cache the session had).
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import xarray as xr
from numba.core.sigutils import normalize_signature

from gridcarbon.core import jitahead
from gridcarbon.testing import COMPILE_LISTENER

#: the child: a compile listener on the run's interpreter, then the CLI; prints what it compiled
SCRIPT = COMPILE_LISTENER + """
import sys
import time
from gridcarbon.cli import app
from gridcarbon.core import jitahead

jitahead.start(force=True)  # the CLI would not start it on a busy machine (a test session)

sys.argv = ["gridcarbon", *sys.argv[1:]]
try:
    app()
finally:
    # a run that ends first ends the process, by design, and no stamp is written (under a test
    # session's load the two take about as long): wait for it, as a longer run would
    ahead = jitahead._started
    ahead.proc.wait(timeout=600)
    deadline = time.monotonic() + 30
    while not (ahead.ended and jitahead.stamp_path().exists()) and time.monotonic() < deadline:
        time.sleep(0.05)
    print("compiled:", [f"{module}.{name}{args}" for module, name, args in compiled])
    print("shared:", (sorted(jitahead._started.mine), sorted(jitahead._started.done)))
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


def test_cold_run_compiles_each_kernel_once_and_writes_the_same_bytes(default_run, tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba"), "MPLCONFIGDIR": str(tmp_path / "mpl"),
           "GRIDCARBON_CACHE_DIR": str(tmp_path / "cache"), "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, "run", "--out", str(tmp_path / "out"), "--quiet"],
                          env=env, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    compiled_line, shared_line = done.stdout.strip().splitlines()[-2:]
    compiled = ast.literal_eval(compiled_line.removeprefix("compiled: "))
    mine, ahead = ast.literal_eval(shared_line.removeprefix("shared: "))
    assert not set(mine) & set(ahead)
    assert sorted(mine + ahead) == sorted(key for key, _ in jitahead.KERNELS)
    wanted = {f"{m}.{n}{tuple(normalize_signature(f'({a},)')[0])}" for m, n, a in jitahead.AHEAD}
    kernels = [c for c in compiled if not c.split("(")[0].rsplit(".", 1)[1].startswith("_")]  # not nested helpers
    assert len(kernels) == len(set(kernels)) and set(kernels) <= wanted
    assert {c.split("(")[0] for c in kernels} == set(mine)
    assert len(list((tmp_path / "numba").glob("gridcarbon-ahead-*.done"))) == 1
    written = [json.loads(p.read_text()) for p in (tmp_path / "cache" / "suitability").glob("*.json")]
    assert len(written) == 5 and not any("auc" in entry for entry in written)  # the importances only
    assert _hashes(tmp_path / "out" / "yrd-enhanced") == _hashes(default_run.out_dir)
