"""On-disk cache (gridcarbon.core.cache) and the cached built-in study area (gridcarbon.job.study_area)."""
from __future__ import annotations

import numpy as np
import pytest

from gridcarbon import job
from gridcarbon.core import cache
from gridcarbon.core.grid import Grid
from gridcarbon.inputs.study_area import scenario_regions


def test_an_entry_is_computed_once_then_read(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    calls = []

    def compute():
        calls.append(1)
        return {"a": np.arange(5.0)}

    first = cache.cached_pickle("demo", "k1", compute)
    second = cache.cached_pickle("demo", "k1", compute)
    assert len(calls) == 1
    np.testing.assert_array_equal(first["a"], second["a"])
    cache.cached_pickle("demo", "k2", compute)  # another key: computed
    assert len(calls) == 2
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == ["k1.pkl", "k1.pkl.sha256", "k2.pkl",
                                                                      "k2.pkl.sha256"]  # no temporary left


def test_an_altered_entry_is_computed_again_never_unpickled(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    assert cache.cached_pickle("demo", "k", lambda: 42) == 42
    evil = b"cos\nsystem\n(S'echo pwned'\ntR."  # a pickle that would run a command
    (tmp_path / "demo" / "k.pkl").write_bytes(evil)
    loads = cache.pickle.loads

    def checked(data):
        assert data != evil, "unpickled an entry whose sha256 does not match"
        return loads(data)

    monkeypatch.setattr(cache.pickle, "loads", checked)
    assert cache.cached_pickle("demo", "k", lambda: 7) == 7
    assert cache.cached_pickle("demo", "k", lambda: 0) == 7  # written again with its digest, then read


def test_bytes_come_with_their_sha256_hashed_once(tmp_path, monkeypatch):
    """``cached_bytes`` gives the entry's sha256 with its bytes, from the one hash that checks a
    stored entry (or stores a new one); an altered entry is computed and stored again."""
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    hashed, real = [], cache.hashlib.sha256
    monkeypatch.setattr(cache.hashlib, "sha256", lambda data: hashed.append(len(data)) or real(data))
    data = b"model bytes" * 1000
    want = real(data).hexdigest()
    for compute in (lambda: data, lambda: b"never computed"):
        hashed.clear()
        assert cache.cached_bytes("demo", "m.model", compute) == (data, want)
        assert hashed == [len(data)]
    (tmp_path / "demo" / "m.model").write_bytes(b"altered")
    assert cache.cached_bytes("demo", "m.model", lambda: data) == (data, want)
    assert (tmp_path / "demo" / "m.model").read_bytes() == data


def test_an_unreadable_entry_is_computed_again(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "k.pkl").write_bytes(b"not a pickle")
    (folder / "k.pkl.sha256").write_text(cache.hashlib.sha256(b"not a pickle").hexdigest())
    assert cache.cached_pickle("demo", "k", lambda: 42) == 42
    assert "unreadable cache entry" in caplog.text
    assert cache.cached_pickle("demo", "k", lambda: 0) == 42  # written again, then read


def test_off_and_unwritable_folders_only_cost_the_work(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, "off")
    assert cache.cache_dir("demo") is None
    assert cache.cached_pickle("demo", "k", lambda: 1) == 1
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(cache.CACHE_ENV, str(blocker))
    assert cache.cached_pickle("demo", "k", lambda: 2) == 2


def test_the_fingerprint_follows_the_package_files(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(cache, "PACKAGE_ROOT", tmp_path)
    cache.code_fingerprint.cache_clear()
    try:
        before = cache.code_fingerprint()
        (tmp_path / "a.py").write_text("x = 2\n")
        cache.code_fingerprint.cache_clear()
        assert cache.code_fingerprint() != before
    finally:
        cache.code_fingerprint.cache_clear()


@pytest.fixture(scope="module")
def yrd():
    sc = job.resolve("yrd-enhanced")
    regions = scenario_regions(sc)
    return sc, Grid.from_regions(regions, res=sc.resolution), regions


def _same_area(a: job.StudyArea, b: job.StudyArea) -> None:
    assert a.grid.shape == b.grid.shape and a.grid.transform == b.grid.transform
    assert a.inventory.emissions.equals(b.inventory.emissions)
    assert a.landscape.equals(b.landscape)
    assert a.inventory.facilities.equals(b.inventory.facilities)
    assert a.boundaries.geometry.equals(b.boundaries.geometry)


def test_a_builtin_study_area_is_built_once_per_package_and_grid(yrd, tmp_path, monkeypatch):
    sc, grid, regions = yrd
    monkeypatch.setenv(cache.CACHE_ENV, "off")
    fresh = job.study_area(sc, grid, regions)
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    built = job.study_area(sc, grid, regions)
    assert len(list((tmp_path / "study_area").glob("*.pkl"))) == 1

    def never(*args):
        raise AssertionError("built again")

    with monkeypatch.context() as m:
        m.setattr(job, "_build_study_area", never)
        hit = job.study_area(sc, grid, regions)
    for area in (built, hit):  # the same study area as without the cache
        _same_area(area, fresh)
    monkeypatch.setattr(job, "code_fingerprint", lambda: "another release")
    job.study_area(sc, grid, regions)  # another package: built and stored again
    assert len(list((tmp_path / "study_area").glob("*.pkl"))) == 2


def test_user_boundaries_and_large_grids_are_never_cached(yrd, tmp_path, monkeypatch):
    sc, grid, regions = yrd
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    calls = []
    monkeypatch.setattr(job, "_build_study_area", lambda *a: calls.append(a) or "built")
    import gridcarbon

    with gridcarbon.set_options(large_grid_cells=10):  # this grid now counts as large
        assert job.study_area(sc, grid, regions) == "built"
    custom = sc.model_copy(update={"boundaries": "drawn.gpkg"})
    assert job.study_area(custom, grid, regions) == "built"
    assert len(calls) == 2 and not (tmp_path / "study_area").exists()


def test_a_run_from_a_cached_study_area_has_every_accessor_it_uses():
    """A cache hit skips the builders, and with them the imports they made on the way (rioxarray
    registers ``Dataset.rio`` when imported): the run's own modules must import what they use."""
    import subprocess
    import sys

    code = "import gridcarbon.job, gridcarbon.result, xarray as xr; xr.Dataset().rio.write_crs('EPSG:4326')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
