"""End-to-end tests of the command line and the run folder (docs/architecture.md, "Outputs" and
"Scenarios and the command line").

Costly runs are shared: the session's ``default_run`` (read-only, copied when a test needs to
change it), the session's kill-and-rerun of the default scenario (``killed_run``, whose rerun
also checks that a second run in another process writes byte-identical GeoTIFFs; the point-rule
tests reuse it), the session's 50 km ensemble (``small_ensemble``, also the local side of the
dask comparison; all three in tests/conftest.py), one batch of two small scenarios reused by
``compare``, and a scenario whose removals cannot be met, started in the background at the
start of the module and collected by a later test, so that it runs while the cheap tests do.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio

from gridcarbon.core.sectors import EMITTING, GRIDDED, SECTORS

CLI = [sys.executable, "-m", "gridcarbon.cli"]
ENV = {**os.environ, "MPLBACKEND": "Agg"}
SCENARIO = "yrd-enhanced"
YEARS = [2024, 2030, 2035, 2060]
REGIONS = {"Shanghai", "Jiangsu", "Zhejiang", "Anhui"}
LAYERS = [*GRIDDED, "total", "net"]
#: the other rasters of an exported year: storage fill and the provenance bands
YEAR_EXTRAS = ["storage_fill", "provenance"]
TIMEOUT = 900  # s for one CLI run: generous, the machine is shared
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------ helpers
def cli(*args, cwd=None, timeout=TIMEOUT) -> subprocess.CompletedProcess:
    """Run ``python -m gridcarbon.cli ARGS`` in a real subprocess; text output captured."""
    return subprocess.run([*CLI, *map(str, args)], cwd=cwd, env=ENV, capture_output=True, text=True,
                          timeout=timeout)


class Job:
    """A CLI subprocess started now and collected later (stdout/stderr go to files)."""

    def __init__(self, folder: Path, *args):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self._out = open(folder / "stdout.txt", "w")
        self._err = open(folder / "stderr.txt", "w")
        self.proc = subprocess.Popen([*CLI, *map(str, args)], cwd=folder, env=ENV, stdout=self._out,
                                     stderr=self._err, stdin=subprocess.DEVNULL)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def result(self, timeout=TIMEOUT) -> tuple[int, str, str]:
        rc = self.proc.wait(timeout=timeout)
        self._out.close()
        self._err.close()
        return rc, (self.folder / "stdout.txt").read_text(), (self.folder / "stderr.txt").read_text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._out.close()
        self._err.close()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tif_hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): sha256(p) for p in sorted(folder.glob("*/*.tif"))}


def read_band(path: Path) -> np.ma.MaskedArray:
    with rasterio.open(path) as src:
        return src.read(1, masked=True)


def one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}: {lines[:2]!r} ... {lines[-1:]!r}"
    assert lines[0].startswith("error:"), lines[0]
    return lines[0]


def write_yaml(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# ------------------------------------------------------------------ background work
NO_STORAGE = ("name: no-storage\nextends: yrd-enhanced\nyears: [2030]\n"
              "removals: {capacity: {Jiangsu: {beccs: 1}, Anhui: {beccs: 1}, "
              "Zhejiang: {beccs: 0}, Shanghai: {beccs: 0}}}\n")


@pytest.fixture(scope="module", autouse=True)
def background(tmp_path_factory):
    """Start the slow independent CLI run now, while the cheap tests go; its test collects it.

    ``no_storage``: a folder holding one scenario whose removals cannot be met (the folder is
    expanded, the run fails in the allocation).
    """
    root = tmp_path_factory.mktemp("no-storage")
    write_yaml(root / "scenarios" / "no-storage.yaml", NO_STORAGE)
    jobs = {"no_storage": Job(root, "run", root / "scenarios", "--out", root / "out", "-q")}
    yield jobs
    for job in jobs.values():
        job.stop()


# ------------------------------------------------------------------ cheap commands first
def test_help_and_scenarios():
    from typer.testing import CliRunner

    from gridcarbon.cli import app

    runner = CliRunner()
    for args in (["--help"], ["run", "--help"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 0, res.output
        assert "Usage" in res.output
    res = runner.invoke(app, ["run", "--help"])
    for option in ("--out", "--years", "--jobs", "--ensemble", "--quiet"):
        assert option in res.output
    res = runner.invoke(app, ["scenarios"])
    assert res.exit_code == 0
    names = [line.split("\t")[0] for line in res.output.splitlines()]
    assert {"yrd-enhanced", "yrd-policy"} <= set(names)


def test_unknown_scenario_exits_2_with_one_line(tmp_path):
    res = cli("run", "no-such-scenario", "--out", tmp_path / "out", "-q", cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    line = one_line_error(res.stderr)
    assert "no-such-scenario" in line
    assert not (tmp_path / "out" / "no-such-scenario").exists()


def test_validate_names_the_typo_key(tmp_path):
    typo = write_yaml(tmp_path / "typo.yaml", "name: typo\nextends: yrd-enhanced\n"
                      "principels: {grandfather: 0.4, per_capita: 0.2, ability_to_pay: 0.2, efficiency: 0.2}\n")
    res = cli("validate", typo, cwd=tmp_path)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "principels" in res.stdout + res.stderr
    from typer.testing import CliRunner

    from gridcarbon.cli import app

    good = CliRunner().invoke(app, ["validate", "yrd-enhanced"])
    assert good.exit_code == 0, good.output
    assert "ok" in good.output


def test_a_builtin_name_stays_a_name_beside_a_folder_of_that_name(tmp_path, monkeypatch):
    """Running ``gridcarbon run yrd-enhanced --out .`` twice: the second run's argument names the
    built-in scenario, not the first run's output folder of the same name."""
    from gridcarbon.cli import _scenario_files

    monkeypatch.chdir(tmp_path)
    (tmp_path / "yrd-enhanced").mkdir()
    assert _scenario_files(["yrd-enhanced"]) == ["yrd-enhanced"]
    (tmp_path / "yrd-enhanced" / "a.yaml").write_text("name: a\nextends: yrd-enhanced\n")
    assert _scenario_files(["yrd-enhanced"]) == [str(Path("yrd-enhanced") / "a.yaml")]


def test_empty_scenario_folder_is_an_input_error(tmp_path):
    (tmp_path / "empty").mkdir()
    res = cli("run", tmp_path / "empty", "--out", tmp_path / "out", "-q", cwd=tmp_path)
    assert res.returncode == 2
    assert "no scenario files" in one_line_error(res.stderr)


def test_folder_argument_expands_to_its_yaml_files(tmp_path, monkeypatch):
    """The folder form hands every *.yaml / *.yml inside, sorted, to the runner (no model run)."""
    from typer.testing import CliRunner

    from gridcarbon import cli as cli_module

    folder = tmp_path / "scenarios"
    for name in ("b.yaml", "a.yaml", "c.yml"):
        write_yaml(folder / name, f"name: {Path(name).stem}\nextends: yrd-enhanced\nyears: [2030]\n")
    write_yaml(folder / "notes.txt", "not a scenario")
    from gridcarbon import job

    calls = []

    def fake_run_to_folder(scenario, out, years=None, resolution=None, seed=None):
        calls.append(scenario)
        return str(Path(out) / Path(scenario).stem)

    monkeypatch.setattr(job, "run_to_folder", fake_run_to_folder)
    res = CliRunner().invoke(cli_module.app, ["run", str(folder), "--out", str(tmp_path / "out"), "-q"])
    assert res.exit_code == 0, res.output
    assert calls == [str(folder / "a.yaml"), str(folder / "b.yaml"), str(folder / "c.yml")]
    assert res.output.split() == [str(tmp_path / "out" / s) for s in ("a", "b", "c")]


def test_allocate_writes_the_totals_table(tmp_path):
    target = tmp_path / "tables" / "totals.csv"
    res = cli("allocate", "--out", target, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(target)
    assert list(table.columns) == ["region", "sector", "year", "allocated_t"]
    assert set(table.sector) == set(SECTORS) and len(SECTORS) == 12
    assert set(table.year) == set(range(2024, 2061))
    assert set(table.region) == REGIONS
    assert not table.duplicated(["region", "sector", "year"]).any()
    assert np.isfinite(table.allocated_t).all()
    removals = table[table.sector.isin(["forest_sink", "beccs"])]
    assert (removals.allocated_t <= 1e-6).all()
    assert [p.name for p in target.parent.iterdir()] == ["totals.csv"]  # no temporary left


# ------------------------------------------------------------------ the default run's folder
def test_default_run_layout(default_run):
    out = Path(default_run.out_dir)
    assert out.name == SCENARIO
    for name in ("manifest.json", "totals.csv", "cube.nc", "facilities.gpkg"):
        assert (out / name).is_file(), name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"] == SCENARIO

    import geopandas as gpd

    layers = set(gpd.list_layers(out / "facilities.gpkg")["name"])
    assert {f"facilities_{y}" for y in YEARS} <= layers

    import xarray as xr

    with xr.open_dataset(out / "cube.nc") as cube:
        assert cube["emission"].dims == ("sector", "year", "y", "x")
        assert set(YEARS) <= set(cube["year"].values.tolist())

    pngs = {p.name for p in (out / "maps").glob("*.png")}
    expected = {f"{kind}_{y}.png" for y in YEARS for kind in ("total", "net", "sectors")}
    assert expected | {"change_2024_2060.png"} <= pngs
    for year in YEARS:
        for layer in LAYERS:
            assert (out / str(year) / f"{layer}.tif").is_file(), f"{year}/{layer}.tif"
            assert (out / str(year) / f"{layer}.qml").is_file(), f"{year}/{layer}.qml"
    stray = [p.name for p in out.parent.iterdir() if p.name.startswith(".")]
    assert stray == []


def test_totals_csv_conserves_and_is_complete(default_run):
    totals = pd.read_csv(Path(default_run.out_dir) / "totals.csv")
    assert list(totals.columns) == ["region", "sector", "year", "allocated_t", "gridded_t", "residual_t"]
    gridded = totals[totals.sector.isin(GRIDDED)]
    assert gridded.gridded_t.notna().all()
    bound = 1e-6 * np.maximum(gridded.allocated_t.abs(), 1.0)
    worst = gridded[gridded.residual_t.abs() > bound]
    assert worst.empty, worst.head()
    indirect = totals[totals.sector == "indirect"]
    assert len(indirect) > 0 and indirect.gridded_t.isna().all()
    assert set(totals.region) == REGIONS
    assert set(totals.sector) == set(SECTORS)
    assert set(totals.year) == set(range(2024, 2061))
    assert not totals.duplicated(["region", "sector", "year"]).any()
    assert len(totals) == len(REGIONS) * len(SECTORS) * len(range(2024, 2061))


def test_geotiffs_are_valid_cogs_with_tags_and_sums(default_run):
    from pyproj import CRS
    from rio_cogeo.cogeo import cog_validate

    out, grid = Path(default_run.out_dir), default_run.grid
    for year in YEARS:
        for layer in LAYERS:
            path = out / str(year) / f"{layer}.tif"
            valid, errors, _warnings = cog_validate(str(path), quiet=True)
            assert valid and not errors, (path, errors)
            with rasterio.open(path) as src:
                assert CRS.from_wkt(src.crs.to_wkt()).equals(grid.crs), path
                assert src.transform == grid.transform
                assert src.nodata is not None
                assert src.dtypes[0] == "float32"
                tags = src.tags()
            assert tags["units"] == "t CO2/yr/cell"
            assert tags["scenario"] == SCENARIO
            assert tags["sector"] == layer and tags["year"] == str(year)
    totals = pd.read_csv(out / "totals.csv")
    t2060 = totals[totals.year == 2060].groupby("sector").gridded_t.sum()
    for sector in GRIDDED:
        values = read_band(out / "2060" / f"{sector}.tif")
        assert not values.mask[grid.inside].any()  # inside cells carry a value (0 if none)
        assert values.mask[~grid.inside].all()
        if SECTORS[sector].removal:
            assert values.max() <= 0, sector
        else:
            assert values.min() >= 0, sector
        total = float(values.sum(dtype=np.float64))
        assert abs(total - t2060[sector]) <= 1e-5 * max(abs(t2060[sector]), 1.0), (sector, total, t2060[sector])


def test_net_zero_in_2060(default_run):
    out = Path(default_run.out_dir)
    totals = pd.read_csv(out / "totals.csv")
    gross_2024 = totals[(totals.year == 2024) & totals.sector.isin(EMITTING)].allocated_t.sum()
    assert gross_2024 > 1e9  # ~2.39 Gt incl. indirect
    net_2060 = float(read_band(out / "2060" / "net.tif").sum(dtype=np.float64))
    assert abs(net_2060) <= 0.05 * gross_2024, (net_2060, gross_2024)
    total_2024 = float(read_band(out / "2024" / "total.tif").sum(dtype=np.float64))
    total_2060 = float(read_band(out / "2060" / "total.tif").sum(dtype=np.float64))
    assert 0 < total_2060 < 0.2 * total_2024


def test_run_is_callable_from_the_package_root(default_run):
    """``gridcarbon.run(...)`` as the package docstring shows, after the modules are imported too."""
    import importlib

    import gridcarbon
    import gridcarbon.cli  # noqa: F401 - importing submodules must not shadow the API names
    from gridcarbon import run

    assert callable(run) and callable(gridcarbon.run), f"gridcarbon.run is {gridcarbon.run!r}"
    assert gridcarbon.run is run
    home = importlib.import_module(run.__module__)
    assert home.run is run and home.RunResult is type(default_run)
    homes = {"load_run": "gridcarbon.result", "ensemble": "gridcarbon.ensembles", "RunResult": "gridcarbon.result"}
    for name, module in homes.items():
        first = getattr(gridcarbon, name)
        assert first is getattr(importlib.import_module(module), name), name
        # still the API's object once its home module is imported (a submodule of the same name would replace it)
        assert getattr(gridcarbon, name) is first, f"gridcarbon.{name} is now {getattr(gridcarbon, name)!r}"


def test_python_api(default_run):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.axes
    import matplotlib.pyplot as plt

    emission = default_run.emissions["emission"]
    assert emission.dims == ("sector", "year", "y", "x")
    assert list(emission.sector.values) == list(GRIDDED)
    assert default_run.emissions.rio.crs is not None
    from pyproj import CRS

    assert CRS.from_wkt(default_run.emissions.rio.crs.to_wkt()).equals(default_run.grid.crs)
    totals = default_run.totals
    expected = totals[(totals.year == 2060) & totals.sector.isin(EMITTING) & totals.sector.isin(GRIDDED)]
    got = float(default_run.total(2060).sum())
    assert got == pytest.approx(expected.gridded_t.sum(), rel=1e-9)
    ax = default_run.plot(2060)
    try:
        assert isinstance(ax, matplotlib.axes.Axes)
    finally:
        plt.close(ax.figure)


# ------------------------------------------------------------------ maps and compare
def test_maps_command_rerenders_pngs(default_run, tmp_path):
    from PIL import Image

    folder = tmp_path / SCENARIO
    shutil.copytree(default_run.out_dir, folder)
    expected = sorted(p.name for p in (folder / "maps").glob("*.png"))
    assert expected
    shutil.rmtree(folder / "maps")
    from typer.testing import CliRunner

    from gridcarbon.cli import app

    res = CliRunner().invoke(app, ["maps", str(folder)])
    assert res.exit_code == 0, res.output
    got = sorted(p.name for p in (folder / "maps").glob("*.png"))
    assert got == expected
    for name in got:
        path = folder / "maps" / name
        assert path.read_bytes()[:8] == PNG_SIGNATURE
        with Image.open(path) as image:
            image.verify()
            assert image.size[0] > 100 and image.size[1] > 100


def test_compare_run_with_itself_is_all_zero(default_run, tmp_path):
    out = tmp_path / "self"
    res = cli("compare", default_run.out_dir, default_run.out_dir, "--out", out, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(out / "comparison.csv")
    diff_cols = [c for c in table.columns if "_minus_" in c]
    assert len(diff_cols) == 1
    diffs = table[diff_cols[0]].dropna()
    assert len(diffs) > 0 and (diffs == 0).all()
    for year in YEARS:
        tifs = list((out / str(year)).glob("*.tif"))
        assert len(tifs) == 1
        values = read_band(tifs[0])
        assert values.count() > 0 and float(np.abs(values).max()) == 0.0
    assert len(list((out / "maps").glob("*.png"))) == len(YEARS)


# ------------------------------------------------------------------ batch (reused by compare)
@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    a = write_yaml(root / "scen" / "a.yaml", "name: batch-a\nextends: yrd-enhanced\nyears: [2030]\n")
    b = write_yaml(root / "scen" / "b.yaml",
                   "name: batch-b\nextends: yrd-enhanced\nyears: [2030]\n"
                   "principles: {grandfather: 0.1, per_capita: 0.5, ability_to_pay: 0.2, efficiency: 0.2}\n"
                   "allocation: {trade: false}\n")  # without trade the principles set each region's cap
    out = root / "out"
    res = cli("run", a, b, "--out", out, "--jobs", "2", "-q", cwd=root)
    return {"res": res, "out": out, "a": out / "batch-a", "b": out / "batch-b"}


def test_batch_runs_two_scenarios_in_parallel(batch):
    res = batch["res"]
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == [str(batch["a"]), str(batch["b"])]
    assert res.stderr.strip() == ""  # --quiet
    for key, weights in (("a", {"grandfather": 0.4}), ("b", {"grandfather": 0.1, "per_capita": 0.5})):
        folder = batch[key]
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["scenario"] == f"batch-{key}"
        assert manifest["years"] == [2030]
        for name, value in weights.items():
            assert manifest["scenario_resolved"]["principles"][name] == value
        for year in (2024, 2030):
            for layer in LAYERS:
                assert (folder / str(year) / f"{layer}.tif").is_file()
        assert not (folder / "2060").exists()
    stray = [p.name for p in batch["out"].iterdir() if p.name.startswith(".")]
    assert stray == []
    ta = pd.read_csv(batch["a"] / "totals.csv").set_index(["region", "sector", "year"]).allocated_t
    tb = pd.read_csv(batch["b"] / "totals.csv").set_index(["region", "sector", "year"]).allocated_t
    assert not np.allclose(ta.loc[:, :, 2030], tb.loc[:, :, 2030], rtol=1e-6)  # the weights took effect
    ma, mb = (pd.read_csv(batch[k] / "market.csv").set_index(["region", "year"]) for k in "ab")
    assert not np.allclose(ma.allowance_t.loc[:, 2030], mb.allowance_t.loc[:, 2030], rtol=1e-6)
    assert (mb.permits_bought_t == 0).all()  # no trade: every region meets its own allowance


def test_compare_two_runs(batch, tmp_path):
    assert batch["res"].returncode == 0, batch["res"].stderr
    out = tmp_path / "cmp"
    res = cli("compare", batch["a"], batch["b"], "--out", out, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(out / "comparison.csv")
    col = "batch-b_minus_batch-a_t"
    assert {"region", "sector", "year", "batch-a_t", "batch-b_t", col} <= set(table.columns)
    rows = table.dropna(subset=[col])
    assert np.allclose(rows[col], rows["batch-b_t"] - rows["batch-a_t"], atol=0.01)
    assert (rows[rows.year == 2030][col].abs() > 1.0).any()
    for year in (2024, 2030):
        tif = out / str(year) / "batch-b_minus_batch-a.tif"
        png = out / "maps" / f"batch-b_minus_batch-a_{year}.png"
        assert tif.is_file() and png.read_bytes()[:8] == PNG_SIGNATURE
        diff = read_band(tif)
        ga = read_band(batch["a"] / str(year) / "total.tif").astype(np.float64)
        gb = read_band(batch["b"] / str(year) / "total.tif").astype(np.float64)
        assert np.allclose(diff, gb - ga, rtol=1e-5, atol=1e-3 * float(np.abs(ga).max()))
    assert float(np.abs(read_band(out / "2030" / "batch-b_minus_batch-a.tif")).max()) > 0


# ------------------------------------------------------------------ kill, lock, rerun (tests/conftest.py)
def test_kill_midway_leaves_previous_result_untouched(killed_run):
    assert killed_run["exited_by_itself"] is None, "the run ended before it could be killed"
    assert killed_run["tmp_appeared"], "the run never reached its temporary folder"
    assert killed_run["victim_rc"] == -signal.SIGKILL
    assert killed_run["lock_owner"] == str(killed_run["victim_pid"])  # killed while holding the lock
    assert killed_run["after"] == killed_run["before"]
    # its forked map workers end with it (they would otherwise sleep on, orphaned)
    assert killed_run["workers"] >= 2 and killed_run["orphans"] == 0


def test_rerun_after_kill_takes_over_the_stale_lock(killed_run):
    assert killed_run["stale_lock"] is not None  # the dead run's lock was left behind
    res = killed_run["rerun"]
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == [str(killed_run["final"])]
    assert not killed_run["lock"].exists()
    manifest = json.loads((killed_run["final"] / "manifest.json").read_text())
    assert manifest["scenario"] == SCENARIO
    for rel, digest in manifest["files"].items():
        assert sha256(killed_run["final"] / rel) == digest, rel
    left = sorted(p.name for p in killed_run["out"].iterdir() if p.name.startswith("."))
    assert left == []  # no lock, no temporary: neither the rerun's nor the killed run's


def test_atomic_dir_recovers_what_a_killed_writer_left(tmp_path):
    """A writer killed between its two renames leaves the previous result in ``.old-<pid>``."""
    from gridcarbon.output.atomic import atomic_dir

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    final = tmp_path / "result"
    old = tmp_path / f".result.old-{dead.pid}"
    write_yaml(old / "a.txt", "previous")
    write_yaml(tmp_path / f".result.tmp-{dead.pid}" / "a.txt", "half written")
    (tmp_path / ".result.lock").write_text(str(dead.pid))
    with pytest.raises(RuntimeError):
        with atomic_dir(final) as tmp:
            (tmp / "a.txt").write_text("new")
            raise RuntimeError("the run fails")
    assert (final / "a.txt").read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result"]


def test_second_run_writes_identical_geotiffs(default_run, killed_run):
    """Determinism across processes: the rerun (a fresh interpreter) matches the session's run."""
    assert killed_run["rerun"].returncode == 0, killed_run["rerun"].stderr
    first = tif_hashes(Path(default_run.out_dir))
    second = tif_hashes(killed_run["final"])
    assert len(first) == len(YEARS) * (len(LAYERS) + len(YEAR_EXTRAS))
    assert set(second) == set(first)
    differing = sorted(k for k in first if first[k] != second[k])
    assert differing == []


def test_run_into_locked_folder_fails_with_exit_2(killed_run):
    rc, stdout, stderr = killed_run["locked"]
    assert rc == 2, stderr
    line = one_line_error(stderr)
    assert "another run" in line
    assert killed_run["locked_out_entries"] == [f".{SCENARIO}.lock"]  # nothing written, the lock kept


def test_unmeetable_removals_exit_2_and_write_nothing(background):
    """Given as a folder (real subprocess): the folder is expanded, the run fails on the removals."""
    job = background["no_storage"]
    rc, stdout, stderr = job.result()
    assert rc == 2, stderr
    line = one_line_error(stderr)
    assert "removals" in line
    assert "no-storage.yaml" in line  # found through the folder
    out = job.folder / "out"
    assert not (out / "no-storage").exists()
    assert not out.exists() or list(out.iterdir()) == [], list(out.iterdir())


# ------------------------------------------------------------------ ensemble (tests/conftest.py)
def test_ensemble_writes_ordered_percentiles_and_total_bands(small_ensemble):
    """Two members at 50 km in two worker processes (``small_ensemble`` in tests/conftest.py)."""
    from gridcarbon.testing import yrd_grid

    res, folder, _ = small_ensemble
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == [str(folder)]
    inside = yrd_grid(50_000).inside
    for year in (2024, 2060):
        for layer in LAYERS:
            bands = {s: read_band(folder / str(year) / f"{layer}_{s}.tif") for s in ("p05", "p50", "p95")}
            for band in bands.values():
                assert (~band.mask == inside).all()
            p05, p50, p95 = (bands[s].filled(np.nan)[inside] for s in ("p05", "p50", "p95"))
            assert np.isfinite(p50).all()
            assert (p05 <= p50).all() and (p50 <= p95).all(), (year, layer)
        with rasterio.open(folder / str(year) / "total_p50.tif") as src:
            assert src.tags()["members"] == "2"
    assert not (folder / "members").exists()  # member files are scratch
    bands = pd.read_csv(folder / "totals_ensemble.csv")
    assert (bands.members == 2).all()
    assert (bands.p05_t <= bands.p50_t).all() and (bands.p50_t <= bands.p95_t).all()
    gross = bands[(bands.region != "all") & (bands.sector == "gross") & (bands.year == 2060)]
    assert len(gross) == len(REGIONS) and (gross.p05_t < gross.p95_t).any()  # assumptions move provinces' shares
    area = bands[(bands.region == "all") & (bands.sector == "gross")]
    assert np.allclose(area.p05_t, area.p95_t, rtol=1e-9)  # the scenario's pathway holds in every member
    members = pd.read_csv(folder / "members.csv")
    assert list(members.seed) == [42, 43] and members.relocation_rate.nunique() == 2

def test_run_freezes_what_its_imports_made_before_running(monkeypatch, tmp_path):
    """``gridcarbon run`` moves the objects its imports made into the garbage collector's permanent
    generation (``gc.freeze``) before the first run: later full collections, also in the map
    workers it forks, do not scan them."""
    import gc

    from typer.testing import CliRunner

    from gridcarbon import job
    from gridcarbon.cli import app

    frozen = []
    monkeypatch.setattr(job, "run_to_folder", lambda *args: frozen.append(gc.get_freeze_count()) or str(tmp_path))
    gc.unfreeze()
    try:
        result = CliRunner().invoke(app, ["run", "yrd-enhanced", "--out", str(tmp_path), "--quiet"])
    finally:
        gc.unfreeze()  # the test process's objects go back to the collector
    assert result.exit_code == 0, result.output
    assert len(frozen) == 1 and frozen[0] > 10_000
