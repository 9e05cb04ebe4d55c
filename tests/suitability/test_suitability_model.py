"""Suitability models (gridcarbon.suitability.model): spatial blocks, blocked-CV fits, saved models."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from gridcarbon.core.errors import InputError
from gridcarbon.suitability.model import fit_suitability, load_model, spatial_blocks
from gridcarbon.testing import two_region_grid


@pytest.fixture(scope="module")
def suit_setup():
    grid = two_region_grid(20, res=10_000.0)  # 20 x 40 cells of 10 km: 2 x 4 blocks of 100 km
    rng = np.random.default_rng(11)
    layers = {"signal": rng.uniform(size=grid.shape), "noise1": rng.uniform(size=grid.shape),
              "noise2": rng.normal(size=grid.shape), "noise3": rng.uniform(size=grid.shape)}
    cov = xr.Dataset({k: (("y", "x"), v) for k, v in layers.items()}, coords=grid.coords())
    presence = layers["signal"] > 0.85
    return grid, cov, presence


def test_spatial_blocks_group_neighbours(suit_setup):
    grid = suit_setup[0]
    blocks = spatial_blocks(grid).reshape(grid.shape)
    k = 10  # 100 km / 10 km
    for r0 in range(0, grid.shape[0], k):
        for c0 in range(0, grid.shape[1], k):
            tile = blocks[r0:r0 + k, c0:c0 + k]
            assert (tile == tile[0, 0]).all()
    assert len(np.unique(blocks)) == (grid.shape[0] // k) * (grid.shape[1] // k)
    assert blocks[0, 0] == blocks[0, 1] == blocks[1, 0] == blocks[9, 9]
    assert blocks[0, 9] != blocks[0, 10] and blocks[9, 0] != blocks[10, 0]
    some = np.array([0, 7, grid.shape[1] * 11 + 3, blocks.size - 1])
    assert np.array_equal(spatial_blocks(grid, cells=some), blocks.ravel()[some])


def test_fit_suitability_skill_importance_determinism_and_hash(suit_setup, tmp_path):
    grid, cov, presence = suit_setup
    model = fit_suitability("power", presence, cov, grid, seed=3)
    assert model.auc > 0.8
    assert max(model.importances, key=model.importances.get) == "signal"
    assert model.n_presence == int(presence.sum())
    assert model.cross_validation()["folds"] == 5 and len(model.auc_folds) >= 1
    pred = model.predict(cov, grid)
    again = fit_suitability("power", presence, cov, grid, seed=3).predict(cov, grid)
    assert np.array_equal(pred, again)
    # bit-identical on repeat too (threaded tree sums would differ in the last bit)
    assert all(np.array_equal(pred, model.predict(cov, grid)) for _ in range(3))
    assert pred[presence].mean() > pred[~presence].mean()
    path = tmp_path / "power.pkl"
    digest = model.save(path)
    loaded = load_model(path, sha256=digest)
    assert np.array_equal(loaded.predict(cov, grid), pred)
    assert loaded.auc == model.auc and loaded.features == model.features
    with pytest.raises(InputError, match="hash mismatch"):
        load_model(path, sha256="0" * 64)
    path.write_bytes(path.read_bytes() + b"tampered")
    with pytest.raises(InputError):
        load_model(path, sha256=digest)


def test_compact_covariates_give_the_model_and_surface_of_full_layers(suit_setup):
    """Covariates kept for the inside cells only (``cell`` layers over ``grid.cell_index``) train
    the same forest and predict the same surface, to the bit, as the (y, x) layers."""
    from gridcarbon.core.grid import Grid

    grid, cov, presence = suit_setup
    index = grid.region_index.copy()
    index[:6, :9] = -1  # a corner outside every region
    grid = Grid(grid.crs, grid.res, grid.bounds, grid.regions, index)
    compact = xr.Dataset({k: (("cell",), grid.cell_index.compact(v.values)) for k, v in cov.items()})
    full = fit_suitability("power", presence, cov, grid, seed=4)
    kept = fit_suitability("power", presence, compact, grid, seed=4)
    assert kept.summary() == full.summary() and kept.auc == full.auc
    surface = kept.predict(compact, grid)
    assert np.array_equal(surface, full.predict(cov, grid))
    assert (surface[:6, :9] == 0).all() and surface[grid.inside].max() > 0


def test_fit_suitability_refuses_too_few_presences(suit_setup):
    grid, cov, presence = suit_setup
    few = np.zeros_like(presence)
    few[0, 0] = few[5, 5] = True
    with pytest.raises(InputError, match="too few presence"):
        fit_suitability("cement", few, cov, grid, seed=0)


def test_own_cluster_density_does_not_leak_into_the_cv():
    """A sector's own cluster density, recomputed per fold without the test blocks' plants, cannot
    vouch for the test cells; computed once from all plants (the leak) it would."""
    from gridcarbon.suitability.covariates import cluster_density

    grid = two_region_grid(20, res=10_000.0)
    rng = np.random.default_rng(5)
    presence = np.zeros(grid.shape, bool)
    for r, c in zip(rng.integers(1, 19, 14), rng.integers(1, 39, 14)):
        presence[r - 1:r + 2, c - 1:c + 2] = True  # clusters of 3 x 3 cells
    layer = presence * 1e6  # t CO2/yr/cell
    cov = xr.Dataset({"ind_x": (("y", "x"), cluster_density(layer, grid)),
                      "noise": (("y", "x"), rng.uniform(size=grid.shape))}, coords=grid.coords())
    leaky = fit_suitability("x", presence, cov, grid, seed=1)
    honest = fit_suitability("x", presence, cov, grid, seed=1, own=("ind_x", layer))
    assert leaky.auc > 0.9
    assert honest.auc < leaky.auc - 0.15
    # the fitted model is the same: only the CV's test cells lose their own plants
    assert np.array_equal(leaky.predict(cov, grid), honest.predict(cov, grid))



def test_a_cached_cross_validation_gives_the_fresh_model_and_its_key_covers_the_inputs(suit_setup, tmp_path,
                                                                                        monkeypatch):
    from gridcarbon.core import cache
    from gridcarbon.suitability import model as suitability

    grid, cov, presence = suit_setup
    monkeypatch.setenv(cache.CACHE_ENV, "off")
    fresh = fit_suitability("power", presence, cov, grid, seed=5)
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    first = fit_suitability("power", presence, cov, grid, seed=5)
    assert len(list((tmp_path / "suitability").glob("*.json"))) == 2  # the AUCs and the importances

    def never(*args, **kwargs):
        raise AssertionError("cross-validated again")

    with monkeypatch.context() as m:
        m.setattr(suitability, "_blocked_cv", never)
        m.setattr(suitability, "_fit_forest", never)
        hit = fit_suitability("power", presence, cov, grid, seed=5)
    for model in (first, hit):  # the same model, to the byte, as without the cache
        assert model.summary() == fresh.summary() and model.auc == fresh.auc
        assert model.save(tmp_path / "m.pkl") == fresh.save(tmp_path / "f.pkl")
    fit_suitability("power", presence, cov, grid, seed=6)  # another seed
    moved = presence.copy()
    moved[0, 0] = ~moved[0, 0]
    fit_suitability("power", moved, cov, grid, seed=5)  # another presence cell
    assert len(list((tmp_path / "suitability").glob("*.json"))) == 6
    assert len(list((tmp_path / "suitability").glob("*.pkl"))) == 3  # the forests
    assert len(list((tmp_path / "suitability").glob("*.model"))) == 1  # the saved bytes of the seed-5 model
    assert not list((tmp_path / "suitability").glob("*.tmp"))


def test_a_folder_that_cannot_be_written_only_costs_the_cache(suit_setup, tmp_path, monkeypatch):
    from gridcarbon.core import cache

    grid, cov, presence = suit_setup
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(cache.CACHE_ENV, str(blocker))  # <file>/suitability cannot be made
    model = fit_suitability("power", presence, cov, grid, seed=5)
    monkeypatch.setenv(cache.CACHE_ENV, "off")
    assert model.summary() == fit_suitability("power", presence, cov, grid, seed=5).summary()


def test_a_cross_validation_in_a_worker_gives_the_same_model_and_fills_the_cache(suit_setup, tmp_path,
                                                                                 monkeypatch):
    """A run hands its uncached cross-validations to a forked worker (their AUCs serve only the
    manifest): the model is the one an inline fit gives, and the worker writes the cache entry."""
    from gridcarbon.core import cache
    from gridcarbon.core.worker import Background

    grid, cov, presence = suit_setup
    monkeypatch.setenv(cache.CACHE_ENV, "off")
    inline = fit_suitability("power", presence, cov, grid, seed=5)
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    background = Background(inline=False)
    pending = fit_suitability("power", presence, cov, grid, seed=5, background=background)
    background.release()
    assert not isinstance(pending.cv, dict)  # still a Future: the fit did not wait for it
    assert pending.summary() == inline.summary() and pending.auc_folds == inline.auc_folds
    assert pending.save(tmp_path / "p.pkl") == inline.save(tmp_path / "i.pkl")
    assert len(list((tmp_path / "suitability").glob("*.json"))) == 2  # the AUCs (by the worker), the importances
    unused = Background(inline=False)
    hit = fit_suitability("power", presence, cov, grid, seed=5, background=unused)
    assert isinstance(hit.cv, dict) and hit.auc == inline.auc and unused.pool is None  # a hit forks nothing


HIT_SCRIPT = """
import sys
import numpy as np
import xarray as xr
from gridcarbon.suitability.model import fit_suitability
from gridcarbon.testing import two_region_grid
grid = two_region_grid(20, res=10_000.0)
rng = np.random.default_rng(11)
cov = xr.Dataset({k: (("y", "x"), rng.uniform(size=grid.shape)) for k in ("signal", "noise")}, coords=grid.coords())
model = fit_suitability("power", cov["signal"].values > 0.85, cov, grid, seed=5)
np.save(sys.argv[1] + "/surface.npy", model.predict(cov, grid))
print(model.save(sys.argv[1] + "/model.pkl"), model.summary()["auc_blocked_cv"], "sklearn" in sys.modules)
"""


def test_a_model_read_from_the_cache_needs_no_scikit_learn(tmp_path):
    """Once a model's AUCs, importances, surface and saved bytes are in the cache, a new process
    gives the same surface, bytes and summary without importing scikit-learn (0.5-0.8 s)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "GRIDCARBON_CACHE_DIR": str(tmp_path / "cache")}
    runs = []
    for name in ("cold", "warm"):
        (tmp_path / name).mkdir()
        out = subprocess.run([sys.executable, "-c", HIT_SCRIPT, str(tmp_path / name)], env=env, check=True,
                             capture_output=True, text=True).stdout.split()
        runs.append(out)
    (cold_sha, cold_auc, cold_sklearn), (warm_sha, warm_auc, warm_sklearn) = runs
    assert cold_sklearn == "True" and warm_sklearn == "False"
    assert warm_sha == cold_sha and warm_auc == cold_auc
    assert np.array_equal(np.load(tmp_path / "cold" / "surface.npy"), np.load(tmp_path / "warm" / "surface.npy"))
    loaded = load_model(tmp_path / "warm" / "model.pkl", sha256=warm_sha)
    assert loaded.estimator.n_estimators > 0 and loaded.target == "power"



def test_a_large_grids_surface_is_cached_as_its_inside_cells_and_read_back_to_the_bit(suit_setup, tmp_path,
                                                                                      monkeypatch):
    """On a large grid (China at 1 km: a minute of both cores a run) the cache holds a surface's
    inside cells in the storage dtype: a hit is the computed surface without predicting, another
    covariate misses, and the small-grid entry of the same model is another one."""
    import pickle

    import gridcarbon
    from gridcarbon.core import cache
    from gridcarbon.suitability import model as suitability

    def never(*args, **kwargs):
        raise AssertionError("predicted")

    def arrays(folder):
        return [a for a in (pickle.loads(p.read_bytes()) for p in folder.glob("*.pkl")) if isinstance(a, np.ndarray)]

    grid, cov, presence = suit_setup
    with gridcarbon.set_options(large_grid_cells=0):
        monkeypatch.setenv(cache.CACHE_ENV, "off")
        computed = fit_suitability("power", presence, cov, grid, seed=5).predict(cov, grid)
        monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
        first = fit_suitability("power", presence, cov, grid, seed=5).predict(cov, grid)
        with monkeypatch.context() as m:
            m.setattr(suitability, "presence_probability", never)
            hit = fit_suitability("power", presence, cov, grid, seed=5).predict(cov, grid)
            changed = cov.copy(deep=True)
            changed["noise1"].values[3, 4] += 1.0
            with pytest.raises(AssertionError, match="predicted"):
                fit_suitability("power", presence, changed, grid, seed=5).predict(changed, grid)
        for surface in (first, hit):
            assert surface.dtype == grid.storage_dtype == np.float32 and surface.shape == grid.shape
            assert np.array_equal(surface.view(np.uint32), computed.view(np.uint32))
        [stored] = arrays(tmp_path / "suitability")
        assert stored.shape == (grid.cell_index.size,) and stored.dtype == np.float32
    small = fit_suitability("power", presence, cov, grid, seed=5).predict(cov, grid)
    assert small.dtype == np.float64 and np.allclose(small, computed, atol=1e-7)
    assert len(arrays(tmp_path / "suitability")) == 2  # the small grid's layer beside the large grid's cells
