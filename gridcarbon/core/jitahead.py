"""The run's numba kernels compiled ahead, in a second process, on the first run after an install.

A run calls 19 numba kernels (22 signatures, :data:`AHEAD`). From an empty numba cache it
compiles them on its own interpreter, one at a time as it reaches them: 5.5 s of the run
process's CPU (docs/performance.md, "Fresh install"; numba holds the interpreter lock while compiling, so
a thread would not overlap it). While the run imports its libraries and builds the study
area, the second core is mostly idle; there,
:func:`start` starts one process (``python -c``, not forked) that compiles the kernels of
:data:`AHEAD` in the order a run first needs them, each into numba's on-disk cache
(``cache=True``), and reports each one done on its standard output.

The two share the work through claims: before compiling a kernel (all its signatures, since
numba keeps one cache index per kernel), a process claims it by creating a file named after it
in a folder the run made (:func:`_claim`: ``O_EXCL``, so one process wins). The compile-ahead
process claims the kernels in order and skips those the run holds. The run's own kernels are
made by :func:`kernel`: when the run reaches a kernel the cache does not hold yet,

* if no process has claimed it, the run claims and compiles it itself;
* if the compile-ahead process is compiling it, the run does not sit idle: it claims and
  compiles the next kernels nobody has claimed (the ones it will need soon), and once none
  are left it waits for the process's report and loads the kernel from the cache (numba reads a
  kernel's cache index afresh at each new signature).

A kernel is thus compiled by one process only, and the two never write one kernel's cache
index at once; on a cold start both cores compile until the study area has its kernels.

The process is worth it only when a core is idle: on a machine already running one process
per core (:data:`BUSY_LOAD_PER_CORE`, counted when the run starts, :func:`busy`) it would only
add its own start-up to the run's share of the CPU, so :func:`start` starts nothing there and
the run compiles as before.

Once every kernel is compiled (by the process alone, or by the two once the process has ended
well), a stamp is written (:func:`stamp_path`, keyed by the kernels' sources, the signatures, their
options and the numba and Python versions) beside numba's cache; while it exists, :func:`start` starts
nothing, so warm runs pay one file lookup. Kernels are compiled for the argument types listed
here only: one a run calls with other types is compiled by the run itself, as without this
module (``tests/end_to_end/test_jit_ahead_run.py`` checks that the default run needs none).
"""
from __future__ import annotations

import atexit
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from functools import lru_cache
from importlib import import_module
from importlib.metadata import version
from pathlib import Path

from gridcarbon.core.jitcache import user_cache, writable

#: the kernels a run calls from Python and the argument types it calls them with (numba type
#: names; ``Array(f8, 1, 'C', readonly=True)`` is a read-only view), in the order the default
#: run and ``china-enhanced`` at 10 km first need them. Named, not imported: the kernel modules
#: import this one. All live in ``core``, so the compile-ahead process imports numpy and numba
#: only (importing ``evolution`` or ``inputs`` would cost it 3.6 s of CPU before compiling)
AHEAD = (
    ("gridcarbon.core.kernels", "polygon_pieces", "f8[::1], f8[::1], i8[::1], i8[::1], f8[::1], i8, i8, f8, i8"),
    ("gridcarbon.core.kernels", "add_weighted", "f8[:, ::1], f4[:, ::1], i8[::1], i8[::1], f8[::1]"),
    ("gridcarbon.core.kernels", "accumulate", "i8[::1], i8[::1], f8[::1], i8, i8"),
    ("gridcarbon.core.pairwise", "window_grid_sum_f32", "f4[:, ::1], Array(i8, 0, 'C'), Array(i8, 0, 'C'), i8, i8"),
    ("gridcarbon.core.regionkernels", "spread_by_proxy",
     "i8[:, ::1], Array(f8, 1, 'C', readonly=True), f8[::1], f8[::1], f8[::1]"),
    ("gridcarbon.core.kernels", "line_pieces", "f8[::1], f8[::1], i8[::1], i8, i8, f8"),
    ("gridcarbon.core.regionkernels", "region_sums", "i8[:, ::1], f8[:, ::1], i8"),
    ("gridcarbon.core.regionkernels", "region_sums", "i8[:, ::1], f8[:, :], i8"),  # a year of the (sector, year, y, x) cube
    ("gridcarbon.core.regionkernels", "stand_sums", "i8[:, ::1], f8[::1], f8[::1], f8[::1], f8[::1], f8[::1], i8, f8[::1]"),
    ("gridcarbon.core.regionkernels", "min_region_sums", "i8[:, ::1], f8[::1], f8[::1], i8"),
    ("gridcarbon.core.regionkernels", "urban_drive", "i8[::1], i8, i8, f8[::1], f8, f8[::1]"),
    ("gridcarbon.core.regionkernels", "fill_room", "i8[:, ::1], f8[::1], f8[::1], f8[::1], f8[::1], i8"),
    ("gridcarbon.core.regionkernels", "forest_left", "f8[::1], f8[::1], f8[::1], f8"),
    ("gridcarbon.core.regionkernels", "room_sums", "i8[:, ::1], f8[::1], f8[::1], f8[::1], f8[::1], f8[::1], i8"),
    ("gridcarbon.core.regionkernels", "plant_room", "i8[:, ::1], f8[::1], f8[::1], f8[::1], f8[::1], f8[::1], f8[::1]"),
    ("gridcarbon.core.kernels", "pick_sites", "i8[::1], b1[::1], i8, i8, i8[::1], i8, f8, i8, i8, f8"),
    ("gridcarbon.core.regionkernels", "scale_by_region", "i8[:, ::1], f8[::1], f8[::1]"),
    ("gridcarbon.core.shuffle", "shuffled_window", "u1[:, ::1], i8, i8, u1[::1], u1[:, :, ::1]"),
    # a large grid's COG overviews and maps (float32 sectors, float64 totals; float32 map blocks)
    ("gridcarbon.core.blocks", "block_sums", "f4[:, ::1], b1[:, ::1], i8, f8[:, ::1], i8[:, ::1]"),
    ("gridcarbon.core.blocks", "block_sums", "f8[:, ::1], b1[:, ::1], i8, f8[:, ::1], i8[:, ::1]"),
    ("gridcarbon.core.blocks", "block_sums", "f4[:, ::1], b1[:, ::1], i8, f4[:, ::1], i8[:, ::1]"),
    # a land's room for new forest cell by cell (:meth:`ForestLand.room`; a run sums and plants it
    # without the layer): last, as no run waits for it
    ("gridcarbon.core.regionkernels", "forest_room", "f8[::1], f8[::1], f8[::1], f8[::1], f8[::1], f8[::1]"),
)
#: the kernels of :data:`AHEAD` in the order first needed: ("module.name", positions of its
#: signatures in AHEAD). The unit of a claim: numba keeps one cache index per kernel
KERNELS = tuple((key, tuple(i for i, (m, n, _) in enumerate(AHEAD) if f"{m}.{n}" == key))
                for key in dict.fromkeys(f"{m}.{n}" for m, n, _ in AHEAD))
#: longest a run waits for the compile-ahead process to finish one kernel (s). ASSUMPTION: a
#: kernel compiles in at most 3 s on a loaded two-core machine (measured: 2.8 s for
#: ``polygon_pieces`` at a load of 4); past a minute the process is taken as hung, and the run
#: compiles what it needs itself
WAIT_S = 60.0
#: other runnable threads per core at or above which no compile-ahead process starts (unless
#: forced). ASSUMPTION: at one runnable process per core or more no core is idle, so the
#: process only adds its own start-up (about 2 s of CPU: python, numba's import and set-up)
#: to what the machine shares out; measured here at loads 4-9 (2 cores), nine cold runs took
#: 338 s with it against 320 s without
BUSY_LOAD_PER_CORE = 1.0
#: Linux's count of the threads runnable right now (the fourth field's numerator): unlike the
#: 1-minute load average it does not still count a job that ended seconds ago (``pip install``
#: just before the first run left a load of about 1 per core on this machine)
LOADAVG = Path("/proc/loadavg")
#: the package's parent folder: the compile-ahead process imports this very package
ROOT = Path(__file__).resolve().parents[2]
#: what the compile-ahead process runs (arguments: the package root, the claims folder): the run's own copy of the
#: package first on the path (``python -c`` puts the working directory first, which in a source checkout holds
#: another copy than an installed run's)
CHILD_CODE = ("import sys; sys.path.insert(0, sys.argv[1]); from gridcarbon.core.jitahead import compile_all; "
              "compile_all(sys.argv[1], sys.argv[2])")

#: numba options of every kernel beside ``cache=True``. ``nogil``: a kernel runs without the
#: interpreter lock, so the run's writer thread (whose compression releases it) is not held
#: between its calls while a kernel of the year loop runs. numba's cache index does not key
#: entries by these options (a kernel cached without them would be loaded as it was):
#: :func:`_options_cache` adds them to its keys
KERNEL_OPTIONS = (("nogil", True),)

_started: _Ahead | None = None


def kernel(fn):
    """``numba.njit(cache=True)`` with :data:`KERNEL_OPTIONS` for a kernel the run calls from
    Python: on a cache miss while the compile-ahead process is compiling it, the run compiles
    other kernels nobody has claimed, then waits for it and loads it (:meth:`_Ahead.await_kernel`)."""
    from numba import njit

    dispatcher = njit(cache=True, **dict(KERNEL_OPTIONS))(fn)
    if getattr(dispatcher, "_cache", None) is not None:  # None under NUMBA_DISABLE_JIT (a plain function)
        dispatcher._cache = _Awaited(_options_cache()(fn), f"{fn.__module__}.{fn.__name__}")
    return dispatcher


@lru_cache(maxsize=1)
def _options_cache() -> type:
    """numba's cache of compiled functions with :data:`KERNEL_OPTIONS` in every index key, so a
    kernel cached under other options is compiled afresh (made on first use: this module is
    imported before numba)."""
    from numba.core.caching import FunctionCache

    class OptionsCache(FunctionCache):
        def _index_key(self, sig, codegen):
            return (*super()._index_key(sig, codegen), KERNEL_OPTIONS)

    return OptionsCache


def start(*, force: bool = False) -> bool:
    """Start the compile-ahead process, unless this process started one already (or inherited
    one by fork), numba's JIT is off, :func:`stamp_path` says every kernel is in the cache, or
    (unless ``force``) the machine has no idle core (:func:`busy`). Returns whether a process
    was started."""
    global _started
    if _started is not None or os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0") or stamp_path().exists():
        return False
    if busy() and not force:
        return False
    claims = Path(tempfile.mkdtemp(prefix="gridcarbon-claims-"))
    try:
        proc = subprocess.Popen([sys.executable, "-c", CHILD_CODE, str(ROOT), str(claims)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    except OSError:  # no interpreter to start (an embedded Python): the run compiles as before
        shutil.rmtree(claims, ignore_errors=True)
        return False
    _started = _Ahead(proc, claims)
    atexit.register(_started.stop)
    return True


def busy() -> bool:
    """Whether the machine runs at least :data:`BUSY_LOAD_PER_CORE` other threads per core: the
    threads runnable right now (:data:`LOADAVG`) less this one, or where that count is not
    available the 1-minute load average (False where neither is: Windows)."""
    try:
        others = int(LOADAVG.read_text().split()[3].split("/")[0]) - 1
    except (OSError, IndexError, ValueError):
        try:
            others = os.getloadavg()[0]
        except (AttributeError, OSError):
            return False
    return others >= BUSY_LOAD_PER_CORE * (os.cpu_count() or 1)


def stamp_path() -> Path:
    """The file saying every kernel of :data:`AHEAD` is in numba's cache for these sources: in
    ``$NUMBA_CACHE_DIR``, else beside the compiled core kernels (numba's own choice of folder)."""
    user_dir = os.environ.get("NUMBA_CACHE_DIR")
    beside = Path(__file__).resolve().parent / "__pycache__"
    folder = Path(user_dir) if user_dir else beside if writable(beside) else user_cache()
    h = hashlib.sha256(repr((AHEAD, KERNEL_OPTIONS, version("numba"), sys.version, platform.machine())).encode())
    for module in sorted({m for m, _, _ in AHEAD}):
        info = (ROOT / Path(*module.split("."))).with_suffix(".py").stat()
        h.update(f"|{module}:{info.st_mtime}:{info.st_size}".encode())  # numba's own staleness test
    return folder / f"gridcarbon-ahead-{h.hexdigest()[:16]}.done"


def compile_all(root: str, claims: str) -> None:
    """The compile-ahead process: compile, in order, every kernel of :data:`KERNELS` it can claim
    in the folder ``claims``, printing each one's position in KERNELS when done; write the stamp
    if it compiled them all. Exits if it imported another copy of gridcarbon than the one in
    ``root``."""
    if ROOT != Path(root).resolve():
        raise SystemExit(f"imported gridcarbon from {ROOT}, not {root}")
    compiled = 0
    for pos, (key, _) in enumerate(KERNELS):
        if _claim(Path(claims), key):
            compile_kernel(pos)
            print(pos, flush=True)
            compiled += 1
    if compiled == len(KERNELS):
        _write_stamp()


def compile_kernel(pos: int, *, but: tuple | None = None) -> None:
    """Compile every :data:`AHEAD` signature of kernel ``KERNELS[pos]`` into numba's cache, but
    the argument types ``but`` (a tuple of numba types)."""
    from numba.core.sigutils import normalize_signature

    for i in KERNELS[pos][1]:
        module, name, args = AHEAD[i]
        types = tuple(normalize_signature(f"({args},)")[0])
        if types != but:
            getattr(import_module(module), name).compile(types)


def _claim(claims: Path, key: str) -> bool:
    """Claim kernel ``key`` for this process: whether no process had (the file ``claims/key`` is
    created with ``O_EXCL``, which one process only can do)."""
    try:
        os.close(os.open(claims / key, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _write_stamp() -> None:
    """Write :func:`stamp_path`: every kernel is in numba's cache."""
    stamp = stamp_path()
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.touch()


class _Ahead:
    """The compile-ahead process seen from the run: the kernels it has compiled (``done``), those
    the run claimed (``mine``), and whether it has ended."""

    def __init__(self, proc: subprocess.Popen, claims: Path):
        self.proc, self.pid, self.claims = proc, os.getpid(), claims
        self.done: set[str] = set()
        self.mine: set[str] = set()
        self.ended = False
        self.changed = threading.Condition()
        threading.Thread(target=self._read, name="gridcarbon-jitahead", daemon=True).start()

    def _read(self) -> None:
        """Record each kernel the process reports; at its end (done, failed or killed) wait for
        nothing more, and write the stamp if the two compiled every kernel between them."""
        for line in self.proc.stdout:
            with self.changed:
                self.done.add(KERNELS[int(line)][0])
                self.changed.notify_all()
        self.proc.wait()
        self.proc.stdout.close()
        with self.changed:
            self.ended = True
            self.changed.notify_all()
            shared = self.proc.returncode == 0 and self.mine and len(self.done | self.mine) == len(KERNELS)
        if shared:  # (a kernel the run claimed is compiled at once by the thread that claimed it)
            _write_stamp()

    def stop(self) -> None:
        """End the process if it still runs when the run's interpreter exits (it then writes no
        stamp, and the next run's compile-ahead loads what it finished from the cache), and
        remove the claims."""
        if os.getpid() == self.pid:
            if self.proc.poll() is None:
                self.proc.terminate()
                self.proc.wait()
            shutil.rmtree(self.claims, ignore_errors=True)

    def await_kernel(self, name: str, sig: tuple) -> bool:
        """Whether the run, missing kernel ``name`` for argument types ``sig`` in the cache, should
        load it from there again because the process has compiled it. While the process is
        compiling it, the run compiles the next kernels nobody has claimed (:func:`compile_kernel`),
        then waits (at most :data:`WAIT_S`, past which the process is taken as hung). False, and
        the run compiles ``sig`` itself, if nobody had claimed the kernel (the run claims it and
        first compiles its other signatures), the run has, the process ended without it, or this
        is a forked child of the run (which reads no reports)."""
        if os.getpid() != self.pid or name in self.mine:
            return False
        deadline = time.monotonic() + WAIT_S
        while True:
            with self.changed:
                if name in self.done or self.ended:
                    return name in self.done
            if self._take(name):
                compile_kernel(next(pos for pos, (key, _) in enumerate(KERNELS) if key == name), but=sig)
                return False
            pos = next((pos for pos, (key, _) in enumerate(KERNELS)
                        if key not in self.done and key not in self.mine and self._take(key)), None)
            if pos is not None:
                compile_kernel(pos)
                continue
            with self.changed:
                if not self.changed.wait_for(lambda: name in self.done or self.ended,
                                             timeout=max(deadline - time.monotonic(), 0.0)):
                    self.ended = True  # a hung process: the run compiles for itself from now on
                    return False

    def _take(self, key: str) -> bool:
        """Claim kernel ``key`` for the run."""
        if _claim(self.claims, key):
            self.mine.add(key)
            return True
        return False


class _Awaited:
    """A kernel's numba cache whose misses first go through the compile-ahead process
    (:meth:`_Ahead.await_kernel`; numba calls ``load_overload`` under its compiler lock: one
    thread at a time)."""

    def __init__(self, cache, name: str):
        self._cache, self._name = cache, name

    def load_overload(self, sig, target_context):
        found = self._cache.load_overload(sig, target_context)
        if found is None and _started is not None and _started.await_kernel(self._name, tuple(sig)):
            found = self._cache.load_overload(sig, target_context)
        return found

    def __getattr__(self, attr: str):
        return getattr(self._cache, attr)
