"""Shared fixtures: the costly runs are made once per test session and reused read-only.

The suite runs on two processes (pytest-xdist, ``-n 2 --dist loadfile``: a test file stays on
one worker, so its module fixtures are made once). A session fixture is made once per worker
unless it goes through :func:`once_per_session`, which makes it on the first worker that asks
(under a file lock) and hands the others a pickled copy.
"""
from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
from filelock import FileLock

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

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
    "tests/suitability/test_suitability_real_aucs.py",
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


@pytest.fixture(scope="session")
def default_run(tmp_path_factory):
    """The README's main job (yrd-enhanced, seed 42, 10 km) written to a temporary folder.

    Returns the RunResult; ``result.out_dir`` is the written ``<out>/yrd-enhanced`` folder.
    Tests must not modify the folder: copy it first (``shutil.copytree``) if they need to.
    Made once per session (:func:`once_per_session`).
    """
    from gridcarbon.job import run

    return once_per_session(tmp_path_factory, "default-run", lambda folder: run("yrd-enhanced", out=folder))


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
