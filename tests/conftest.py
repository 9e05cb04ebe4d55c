"""Shared fixtures: the costly runs are made once per test session and reused read-only.

The suite runs on two processes (pytest-xdist, ``-n 2 --dist loadfile``: a test file stays on
one worker, so its module fixtures are made once). A session fixture is made once per worker
unless it goes through :func:`once_per_session`, which makes it on the first worker that asks
(under a file lock) and hands the others a pickled copy.
"""
from __future__ import annotations

import hashlib
import logging
import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from filelock import FileLock

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CLI_TIMEOUT = 900  # s for one CLI run of a session fixture: generous, the machine is shared

#: Test files started first, slowest first (``pytest --durations``): with two workers taking
#: whole files from a queue, a long file started last would finish alone. The first two do not
#: wait for each other (only the first needs ``default_run``). Files not listed keep their
#: collection order after these.
SLOW_FIRST = [
    "tests/end_to_end/test_cli.py",
    "tests/end_to_end/test_china_run.py",
    "tests/inventory/test_inventory_china_1km.py",
    "tests/end_to_end/test_dask.py",
    "tests/end_to_end/test_study_area_runs.py",
    "tests/end_to_end/test_sensitivity_cli.py",
    "notebooks/03_compare_scenarios.ipynb",
    "notebooks/01_quickstart.ipynb",
    "tests/evolution/test_points_default_run.py",
    "tests/end_to_end/test_streaming.py",
    "tests/end_to_end/test_jit_ahead_run.py",
    "tests/suitability/test_suitability_real_aucs.py",
    "tests/suitability/test_suitability_shipped.py",
    "notebooks/02_bring_your_own_inventory.ipynb",
    "notebooks/04_custom_study_area.ipynb",
    "tests/end_to_end/test_run_logging.py",
    "tests/end_to_end/test_benchmarks_smoke.py",
    "tests/suitability/test_suitability_backtest.py",
    "tests/clients/test_clients.py",
    "tests/evolution/test_evolution_years.py",
    "tests/end_to_end/test_bad_inputs.py",
]


def pytest_collection_modifyitems(items):
    """Whole files in :data:`SLOW_FIRST` order, the others after them as collected."""
    rank = {name: k for k, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))  # stable: a file keeps its order


def once_per_session(tmp_path_factory, name: str, make):
    """``make(folder)`` once per test session, even across xdist workers; its pickled result.

    Without xdist the fixture's own scope already makes it once. Under xdist the first worker
    to ask makes it in a folder shared by the session's workers, holding a lock, and pickles it
    there; the others wait on the lock and unpickle it.
    """
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return make(tmp_path_factory.mktemp(name))
    shared = tmp_path_factory.getbasetemp().parent  # this session's, above the workers' folders
    cached = shared / f"{name}.pickle"
    with FileLock(shared / f"{name}.lock"):
        if cached.is_file():
            return pickle.loads(cached.read_bytes())
        result = make(shared / name)
        cached.write_bytes(pickle.dumps(result))
        return result


class _Kept(logging.Handler):
    """Keeps the ``gridcarbon`` log records of a run, with their messages formatted (picklable)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(logging.makeLogRecord({**record.__dict__, "msg": record.getMessage(), "args": None,
                                                   "exc_info": None}))


def _logged_default_run(folder: Path):
    """The default job written to ``folder``, and the INFO records it logged (in order)."""
    from gridcarbon.job import run

    logger, kept = logging.getLogger("gridcarbon"), _Kept()
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(kept)
    try:
        return run("yrd-enhanced", out=folder), kept.records
    finally:
        logger.removeHandler(kept)
        logger.setLevel(level)


@pytest.fixture(scope="session")
def default_logged_run(tmp_path_factory):
    """(RunResult, log records) of the README's main job: see :func:`default_run`."""
    return once_per_session(tmp_path_factory, "default-run", _logged_default_run)


@pytest.fixture(scope="session")
def default_run(default_logged_run):
    """The README's main job (yrd-enhanced, seed 42, 10 km) written to a temporary folder.

    Returns the RunResult; ``result.out_dir`` is the written ``<out>/yrd-enhanced`` folder.
    Tests must not modify the folder: copy it first (``shutil.copytree``) if they need to.
    Made once per session (:func:`once_per_session`).
    """
    return default_logged_run[0]


@pytest.fixture(scope="session")
def default_run_log(default_logged_run):
    """The ``gridcarbon`` log records (INFO and above, messages formatted) that :func:`default_run`
    logged, in order: a run observed through the standard logger."""
    return default_logged_run[1]


def _tree_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` by relative path."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _cli_job(folder: Path, *args) -> subprocess.Popen:
    """``python -m gridcarbon.cli ARGS`` started in ``folder`` (stdout/stderr to files there)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "stdout.txt", "w") as out, open(folder / "stderr.txt", "w") as err:
        return subprocess.Popen([sys.executable, "-m", "gridcarbon.cli", *map(str, args)], cwd=folder,
                                env={**os.environ, "MPLBACKEND": "Agg"}, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _until(proc: subprocess.Popen, done, deadline: float) -> None:
    while proc.poll() is None and not done() and time.monotonic() < deadline:
        time.sleep(0.05)


def _kill_and_rerun(root: Path, source: Path) -> dict:
    """Kill a default run (CLI) while it writes over a copy of ``source``, then run it again.

    A run into a folder locked by a live process is started alongside (it fails only when it
    reaches the export, so it overlaps the first run's computation). What each step saw, and
    the rerun's CompletedProcess, go into the returned dict (tests/end_to_end/test_cli.py).
    """
    scenario = source.name
    root.mkdir(parents=True, exist_ok=True)
    out = root / "out"
    final = out / scenario
    shutil.copytree(source, final)
    locked_out = root / "locked"
    locked_out.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    (locked_out / f".{scenario}.lock").write_text(str(sleeper.pid))
    locked_job = _cli_job(root / "locked-job", "run", "--out", locked_out, "-q")
    victim = _cli_job(root / "victim", "run", "--out", out, "-q")
    tmp, lock = out / f".{scenario}.tmp-{victim.pid}", out / f".{scenario}.lock"
    info = {"before": _tree_hashes(final), "final": final, "out": out, "tmp": tmp, "lock": lock,
            "victim_pid": victim.pid}
    try:
        deadline = time.monotonic() + CLI_TIMEOUT
        _until(victim, tmp.exists, deadline)
        info["tmp_appeared"] = tmp.exists()
        _until(victim, lambda: not tmp.exists() or any(tmp.rglob("*.tif")), deadline)  # midway: some files written
        info["lock_owner"] = lock.read_text().strip() if lock.exists() else None
        info["exited_by_itself"] = victim.poll()
        workers = psutil.Process(victim.pid).children(recursive=True) if victim.poll() is None else []
        _stop(victim)
        info["workers"] = len(workers)
        info["orphans"] = len(psutil.wait_procs(workers, timeout=10)[1])  # still alive 10 s after the kill
        info["victim_rc"] = victim.returncode
        info["after"] = _tree_hashes(final)
        info["stale_lock"] = lock.read_text().strip() if lock.exists() else None
        info["rerun"] = subprocess.run([sys.executable, "-m", "gridcarbon.cli", "run", "--out", str(out), "-q"],
                                       check=False, cwd=root, env={**os.environ, "MPLBACKEND": "Agg"},
                                       capture_output=True, text=True, timeout=CLI_TIMEOUT)
        rc = locked_job.wait(timeout=CLI_TIMEOUT)
        folder = root / "locked-job"
        info["locked"] = (rc, (folder / "stdout.txt").read_text(), (folder / "stderr.txt").read_text())
        info["locked_out_entries"] = sorted(p.name for p in locked_out.iterdir())
    finally:
        for proc in (locked_job, victim, sleeper):
            _stop(proc)
    return info


@pytest.fixture(scope="session")
def killed_run(default_run, tmp_path_factory):
    """The kill-and-rerun of the default scenario (:func:`_kill_and_rerun` over a copy of
    ``default_run``), once per session. ``["final"]`` is the rerun's folder: a second default
    run (seed 42, the same years) written by a fresh process, read-only for the tests."""
    return once_per_session(tmp_path_factory, "killed-run",
                            lambda folder: _kill_and_rerun(folder, Path(default_run.out_dir)))


#: the command of :func:`small_ensemble`: two members of the default scenario at 50 km, 2060 exported
SMALL_ENSEMBLE = ("run", "--ensemble", "2", "--resolution", "50000", "--years", "2060", "--quiet")


@pytest.fixture(scope="session")
def small_ensemble(tmp_path_factory):
    """``gridcarbon run`` + :data:`SMALL_ENSEMBLE` + ``--jobs 2`` (two worker processes) into a
    folder, once per session: (CompletedProcess, the ``<out>/yrd-enhanced-ensemble`` folder, the
    command without ``--jobs`` and ``--out``). Checked by tests/end_to_end/test_cli.py; the local
    side of the dask comparison (tests/end_to_end/test_dask.py)."""
    def make(folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        res = subprocess.run([sys.executable, "-m", "gridcarbon.cli", *SMALL_ENSEMBLE, "--jobs", "2",
                              "--out", str(folder / "out")], check=False, cwd=folder,
                             env={**os.environ, "MPLBACKEND": "Agg"}, capture_output=True, text=True,
                             timeout=CLI_TIMEOUT)
        return res, folder / "out" / "yrd-enhanced-ensemble", list(SMALL_ENSEMBLE)

    return once_per_session(tmp_path_factory, "small-ensemble", make)


@pytest.fixture(scope="session")
def china_run(tmp_path_factory) -> Path:
    """``gridcarbon run china-enhanced --years 2060`` (10 km, seed 42), once per session: its
    ``<out>/china-enhanced`` folder, read-only (tests/end_to_end/test_china_run.py, and the
    national siting models' skill in tests/suitability/test_suitability_real_aucs.py)."""
    def make(folder: Path) -> Path:
        res = subprocess.run([sys.executable, "-m", "gridcarbon.cli", "run", "china-enhanced", "--years", "2060",
                              "--out", str(folder), "--quiet"], check=False, capture_output=True, text=True,
                             timeout=1200)  # s: the national run
        assert res.returncode == 0, res.stderr
        return folder / "china-enhanced"

    return once_per_session(tmp_path_factory, "china-run", make)


@pytest.fixture(scope="session")
def china_baseline(tmp_path_factory):
    """``build_baseline("china", res=10_000)``: the national built-in inventory at 10 km and its
    landscape, once per session (:func:`once_per_session`), read-only."""
    from gridcarbon.inventory.builtin import build_baseline

    return once_per_session(tmp_path_factory, "china-baseline", lambda folder: build_baseline("china", res=10_000))


@pytest.fixture(scope="session")
def default_prepared():
    """``job.prepare`` of yrd-enhanced (study area, drivers, fitted suitability, evolution
    context), made once per worker and shared read-only."""
    from gridcarbon import job

    return job.prepare(job.resolve("yrd-enhanced"))


@pytest.fixture(scope="session")
def shared_data():
    """Folder of the optional reference data sets; tests using it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present on this machine")
    return SHARED_DATA
