"""Running on a dask.distributed cluster gives byte-identical rasters to the local run."""
import hashlib
import os
import subprocess
import sys

import pytest

from gridcarbon.ensembles.pool import TIMEOUT_ENV

distributed = pytest.importorskip("distributed")


def _hashes(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*.tif"))}


def test_run_through_scheduler_matches_local_run(default_run, tmp_path):
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        proc = subprocess.run([sys.executable, "-m", "gridcarbon.cli", "run", "--out", str(tmp_path),
                               "--dask-scheduler", cluster.scheduler_address, "--quiet"],
                              capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    remote = _hashes(tmp_path / "yrd-enhanced")
    local = _hashes(default_run.out_dir)
    assert remote and remote == local


def test_unreachable_scheduler_is_an_input_error(tmp_path):
    """Nothing listens on port 9: after the connect timeout (1 s here instead of 10 s), one line."""
    proc = subprocess.run([sys.executable, "-m", "gridcarbon.cli", "run", "--out", str(tmp_path),
                           "--dask-scheduler", "tcp://127.0.0.1:9", "--quiet"],
                          env={**os.environ, TIMEOUT_ENV: "1"}, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error:") and "dask scheduler" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_ensemble_through_scheduler_matches_local_ensemble(small_ensemble, tmp_path):
    """Two assumption members at 50 km: the cluster's quantile rasters equal a local run's (the
    session's ``small_ensemble``, in two worker processes), byte for byte."""
    local, folder, args = small_ensemble
    assert local.returncode == 0, local.stderr
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        proc = subprocess.run([sys.executable, "-m", "gridcarbon.cli", *args, "--out", str(tmp_path / "remote"),
                               "--dask-scheduler", cluster.scheduler_address], capture_output=True, text=True,
                              timeout=900)
    assert proc.returncode == 0, proc.stderr
    remote = _hashes(tmp_path / "remote" / "yrd-enhanced-ensemble")
    assert len(remote) == 2 * 13 * 3  # years 2024 and 2060, 13 layers, p05 / p50 / p95
    assert remote == _hashes(folder)
