"""The compile-ahead process (gridcarbon.core.jitahead): what it compiles, when it starts, what it writes.

The cold default run that needs no kernel compiled by itself is tests/end_to_end/test_jit_ahead_run.py.
"""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import gridcarbon
from gridcarbon.core import jitahead, kernels
from gridcarbon.testing import COMPILE_LISTENER

PACKAGE = Path(gridcarbon.__file__).resolve().parent
START = "from gridcarbon.core import jitahead; print(jitahead.start(force=True))"


def _jitted(tree: ast.Module) -> dict[str, str]:
    """Module-level functions decorated ``@njit(...)`` or ``@kernel``: name -> decorator."""
    out = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for dec in node.decorator_list:
                target = dec.func if isinstance(dec, ast.Call) else dec
                if isinstance(target, ast.Name) and target.id in ("njit", "kernel"):
                    out[node.name] = target.id
    return out


def _python_callers(tree: ast.Module, name: str, jitted: dict[str, str]) -> list[str]:
    """Module-level functions (not jitted) that mention ``name``, and '<module>' for top-level code."""
    found = []
    for node in tree.body:
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        if name in names and getattr(node, "name", None) not in jitted:
            found.append(getattr(node, "name", "<module>"))
    return found


def test_every_kernel_called_from_python_is_compiled_ahead():
    """A kernel called from Python is ``@kernel`` and listed in AHEAD; an ``@njit`` helper is
    private and only other kernels call it (so AHEAD names every entry point)."""
    kernels_found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        jitted = _jitted(tree)
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for name, decorator in jitted.items():
            if decorator == "kernel":
                kernels_found.add((module, name))
            else:
                assert name.startswith("_") and not _python_callers(tree, name, jitted), f"{module}.{name}"
    assert kernels_found == {(m, n) for m, n, _ in jitahead.AHEAD}


def test_signatures_parse_to_the_types_a_run_passes():
    """The listed types are the ones numba infers for the arrays a run hands its kernels."""
    from numba import typeof
    from numba.core.sigutils import normalize_signature

    ro = np.zeros(3)
    ro.flags.writeable = False
    wanted = {"spread_by_proxy": (np.zeros((3, 2), np.int64), ro, np.zeros(3), np.zeros(3), np.zeros(3)),
              "window_grid_sum_f32": (np.zeros((2, 2), np.float32), np.array(0), np.array(0), 2, 2)}
    for module, name, args in jitahead.AHEAD:
        if name in wanted:
            types, _ = normalize_signature(f"({args},)")
            assert tuple(types) == tuple(typeof(a) for a in wanted[name]), name


def _python(code: str, cache: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -c code`` on the numba cache ``cache``, started beside it (not in a source checkout,
    whose ``gridcarbon`` folder ``-c`` would import before an installed package, as a user's would)."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True,
                          timeout=600, check=False, cwd=cache.parent)


def test_compile_all_writes_every_kernel_and_the_stamp(tmp_path):
    """The compile-ahead process fills an empty cache with every listed signature and writes
    its stamp; a process started on that cache then loads them all without compiling, and
    :func:`start` starts nothing."""
    cache, claims = tmp_path / "numba", tmp_path / "claims"
    claims.mkdir()
    done = _python(jitahead.CHILD_CODE, cache, str(jitahead.ROOT), str(claims))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(i) for i in range(len(jitahead.KERNELS))]
    assert sorted(p.name for p in claims.iterdir()) == sorted(key for key, _ in jitahead.KERNELS)
    assert len(list(cache.glob("gridcarbon-ahead-*.done"))) == 1
    load = ("from importlib import import_module; from numba.core.sigutils import normalize_signature\n"
            "from gridcarbon.core.jitahead import AHEAD\n"
            "for module, name, args in AHEAD:\n"
            "    k = getattr(import_module(module), name); k.compile(tuple(normalize_signature(f'({args},)')[0]))\n"
            "    print(name, sum(k.stats.cache_misses.values()))")
    loaded = _python(load, cache)
    assert loaded.returncode == 0, loaded.stderr
    assert [line.split()[1] for line in loaded.stdout.splitlines()] == ["0"] * len(jitahead.AHEAD)
    assert _python(START, cache).stdout.strip() == "False"


def test_compile_all_skips_the_kernels_another_process_claimed(tmp_path):
    """A kernel claimed in the claims folder is left to its claimant: the process compiles the
    others only, and writes no stamp (it has not compiled everything)."""
    cache, claims = tmp_path / "numba", tmp_path / "claims"
    claims.mkdir()
    left = [pos for pos, (key, _) in enumerate(jitahead.KERNELS) if key.endswith((".accumulate", ".urban_drive"))]
    for pos, (key, _) in enumerate(jitahead.KERNELS):
        if pos not in left:
            (claims / key).touch()
    done = _python(jitahead.CHILD_CODE, cache, str(jitahead.ROOT), str(claims))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(pos) for pos in left]
    assert not list(cache.glob("gridcarbon-ahead-*.done"))


#: a run whose compile-ahead process is busy with ``accumulate`` (claimed, never reported: the
#: process only sleeps) and has left ``forest_left`` unclaimed: the run needs ``accumulate``
STEAL = COMPILE_LISTENER + """
import numpy as np
from gridcarbon.core import jitahead, kernels

jitahead.CHILD_CODE = "import time; time.sleep(1.5)"
jitahead.start(force=True)
for key, _ in jitahead.KERNELS:
    if not key.endswith(".forest_left"):
        (jitahead._started.claims / key).touch()
out = kernels.accumulate(np.array([0, 0]), np.array([1, -1]), np.array([2.0, 3.0]), 1, 2)
print(out.tolist(), [name for _, name, _ in compiled], sorted(jitahead._started.mine))
"""


def test_a_waiting_run_compiles_the_kernels_nobody_claimed(tmp_path):
    """While the compile-ahead process compiles a kernel the run needs, the run compiles the
    kernels nobody has claimed yet (claiming them), then waits; when the process ends without
    reporting the kernel, the run compiles it itself."""
    done = _python(STEAL, tmp_path / "numba")
    assert done.returncode == 0, done.stderr
    stolen = next(key for key, _ in jitahead.KERNELS if key.endswith(".forest_left"))
    assert done.stdout.strip() == f"[[0.0, 2.0]] ['forest_left', 'accumulate'] ['{stolen}']"


def test_start_on_an_empty_cache_starts_once(tmp_path):
    """On an empty cache :func:`start` starts the process, and only once per interpreter."""
    twice = START + "; print(jitahead.start(force=True))"
    assert _python(twice, tmp_path / "numba").stdout.split() == ["True", "False"]


def test_no_compile_ahead_on_a_busy_machine(tmp_path):
    """With one other runnable thread per core or more right now nothing starts, unless forced;
    a high 1-minute load average left by a job that has ended does not count. Without the
    kernel's count, the load average decides."""
    code = ("import os, sys; from pathlib import Path; from gridcarbon.core import jitahead\n"
            "n = os.cpu_count() or 1; os.getloadavg = lambda: (9.0 * n, 0.0, 0.0); f = Path(sys.argv[1])\n"
            "jitahead.LOADAVG = f; f.write_text(f'{9 * n} 1 1 {n + 1}/300 42')\n"
            "print(jitahead.busy(), jitahead.start())\n"
            "f.write_text(f'{9 * n} 1 1 {n}/300 42'); print(jitahead.busy())\n"
            "f.unlink(); print(jitahead.busy()); os.getloadavg = lambda: (0.0, 0.0, 0.0); print(jitahead.busy())\n"
            "jitahead.LOADAVG = f; f.write_text(f'{9 * n} 1 1 1/300 42'); print(jitahead.start())")
    out = _python(code, tmp_path / "numba", str(tmp_path / "loadavg")).stdout.split()
    assert out == ["True", "False", "False", "True", "False", "True"]


def test_a_miss_without_compile_ahead_compiles_as_numba_does():
    """A kernel's wrapped cache behaves like numba's own when nothing is compiling ahead."""
    out = kernels.accumulate(np.array([0, 0]), np.array([1, -1]), np.array([2.0, 3.0]), 1, 2)
    assert out.tolist() == [[0.0, 2.0]]
    assert kernels.accumulate.stats.cache_path == kernels.accumulate._cache._cache.cache_path


#: a module of one kernel, made with numba's own ``njit`` or with :func:`jitahead.kernel` (the first
#: argument); prints the cache misses of its call and whether it is compiled to release the
#: interpreter lock
OPTIONS = """
import sys
from numba import njit
from gridcarbon.core.jitahead import kernel

def total(x):
    acc = 0.0
    for v in x:
        acc += v
    return acc

made = kernel(total) if sys.argv[1] == "kernel" else njit(cache=True)(total)
import numpy as np
assert made(np.arange(4.0)) == 6.0
print(sum(made.stats.cache_misses.values()), made.targetoptions.get("nogil", False))
"""


def test_a_kernel_releases_the_interpreter_lock_and_is_not_loaded_from_a_cache_without_it(tmp_path):
    """Kernels are compiled ``nogil``; numba's cache does not key its entries by that, so a kernel
    cached without it (a cache made before the option) must be compiled afresh (a miss), then
    loaded (no miss)."""
    (tmp_path / "numba").mkdir()
    (tmp_path / "one_kernel.py").write_text(OPTIONS)
    run = "import sys; sys.path.insert(0, sys.argv[2]); import one_kernel"
    outs = [_python(run, tmp_path / "numba", how, str(tmp_path)) for how in ("njit", "kernel", "kernel")]
    assert all(out.returncode == 0 for out in outs), [out.stderr[-500:] for out in outs]
    assert [out.stdout.split() for out in outs] == [["1", "False"], ["1", "True"], ["0", "True"]]
