"""Fault injection on the output folder: atomic replacement, full disks, read-only folders,
concurrent writers, stale locks, unsafe scenario names and tampered model files.

The session's ``default_run`` is only read (copied with ``shutil.copytree`` where a test
needs a previous result); every write goes to ``tmp_path``.
"""
from __future__ import annotations

import copy
import dataclasses
import errno
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcarbon.core.errors import InputError, OutputError, ScenarioError
from gridcarbon.output import atomic as outputs
from gridcarbon.output.atomic import atomic_dir, locked

NAME = "yrd-enhanced"


# ------------------------------------------------------------------ helpers
def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(final: Path) -> list[str]:
    """Temporary folders, old copies and locks a write may leave beside ``final``."""
    return sorted(p.name for p in final.parent.iterdir() if p.name.startswith(f".{final.name}."))


def previous_result(final: Path) -> dict[str, bytes]:
    with atomic_dir(final) as tmp:
        (tmp / "2030").mkdir()
        (tmp / "2030" / "total.tif").write_bytes(b"old raster \x00\x01")
        (tmp / "totals.csv").write_text("region,sector,year\nJiangsu,power,2030\n")
    return snapshot(final)


def enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def hold_lock(final: Path) -> subprocess.Popen:
    """Another process inside ``atomic_dir(final)``, writing until told to finish (a line on stdin)."""
    code = textwrap.dedent("""
        import sys
        from pathlib import Path
        from gridcarbon.output.atomic import atomic_dir
        with atomic_dir(Path(sys.argv[1])) as tmp:
            (tmp / "who.txt").write_text("first run")
            print("holding", flush=True)
            sys.stdin.readline()
    """)
    proc = subprocess.Popen([sys.executable, "-c", code, str(final)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding"
    return proc


def release(proc: subprocess.Popen) -> None:
    proc.stdin.write("\n")
    proc.stdin.flush()
    assert proc.wait(timeout=60) == 0


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    with pytest.raises(ProcessLookupError):
        os.kill(proc.pid, 0)
    return proc.pid


# ------------------------------------------------------------------ atomic_dir
def test_success_replaces_the_previous_result_and_cleans_up(tmp_path):
    final = tmp_path / "out" / NAME  # the parent does not exist yet
    previous_result(final)
    with atomic_dir(final) as tmp:
        assert tmp.parent == final.parent and tmp.name.startswith(f".{NAME}.tmp-")
        assert (final.parent / f".{NAME}.lock").read_text() == str(os.getpid())
        (tmp / "new.txt").write_text("new")
    assert snapshot(final) == {"new.txt": b"new"}
    assert leftovers(final) == []


@pytest.mark.parametrize("exc", [RuntimeError("model crashed"), KeyboardInterrupt(),
                                 OutputError("cannot write a raster")], ids=lambda e: type(e).__name__)
def test_failure_inside_keeps_the_previous_result(tmp_path, exc):
    final = tmp_path / NAME
    before = previous_result(final)
    with pytest.raises(type(exc)):
        with atomic_dir(final) as tmp:
            (tmp / "2030").mkdir()
            (tmp / "2030" / "total.tif").write_bytes(b"half written")
            raise exc
    assert snapshot(final) == before
    assert leftovers(final) == []  # no .yrd-enhanced.tmp-*, no lock


def test_full_disk_inside_is_an_output_error(tmp_path, monkeypatch):
    final = tmp_path / NAME
    before = previous_result(final)
    monkeypatch.setattr(Path, "write_text", enospc)
    with pytest.raises(OutputError, match="no space left") as info:
        with atomic_dir(final) as tmp:
            (tmp / "manifest.json").write_text("{}")
    assert info.value.exit_code == 2 and str(final) in str(info.value)
    monkeypatch.undo()
    assert snapshot(final) == before and leftovers(final) == []


@pytest.mark.parametrize("failing_call", [1, 2], ids=["moving-old-aside", "moving-new-in"])
@pytest.mark.parametrize("code,reason", [(errno.EROFS, "read-only file system"),
                                         (errno.EACCES, "permission denied")])
def test_refused_rename_keeps_the_previous_result(tmp_path, monkeypatch, failing_call, code, reason):
    """A read-only or protected folder (simulated: the renames are refused, as root ignores modes)."""
    final = tmp_path / NAME
    before = previous_result(final)
    real_replace, calls = os.replace, []

    def replace(src, dst):
        calls.append((Path(src).name, Path(dst).name))
        if len(calls) == failing_call:
            raise (PermissionError if code == errno.EACCES else OSError)(code, os.strerror(code))
        return real_replace(src, dst)

    monkeypatch.setattr(outputs.os, "replace", replace)
    with pytest.raises(OutputError, match=reason):
        with atomic_dir(final) as tmp:
            (tmp / "new.txt").write_text("new")
    monkeypatch.undo()
    old = f".{NAME}.old-{os.getpid()}"
    assert calls[0] == (NAME, old)
    if failing_call == 2:  # the new folder could not move in: the old one was moved back
        assert calls[1][1] == NAME and calls[2] == (old, NAME)
    assert snapshot(final) == before
    assert leftovers(final) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file modes; covered by the refused-rename test")
def test_read_only_parent_is_an_output_error(tmp_path):
    parent = tmp_path / "out"
    final = parent / NAME
    before = previous_result(final)
    parent.chmod(0o555)
    try:
        with pytest.raises(OutputError, match="permission denied"):
            with atomic_dir(final) as tmp:
                (tmp / "new.txt").write_text("new")
    finally:
        parent.chmod(0o755)
    assert snapshot(final) == before and leftovers(final) == []


def test_output_folder_under_a_file_is_an_output_error(tmp_path):
    blocker = tmp_path / "out"
    blocker.write_text("a file where the output folder should be")
    with pytest.raises(OutputError, match="cannot write"):
        with atomic_dir(blocker / NAME):
            pass
    assert blocker.read_text().startswith("a file")


# ------------------------------------------------------------------ locks
def test_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path):
    final = tmp_path / NAME
    before = previous_result(final)
    first = hold_lock(final)
    try:
        with pytest.raises(OutputError, match="another run") as info:
            with atomic_dir(final) as tmp:
                (tmp / "who.txt").write_text("second run")
        assert f"pid {first.pid}" in str(info.value) and info.value.exit_code == 2
        assert snapshot(final) == before  # the refused writer touched nothing
    finally:
        release(first)
    assert snapshot(final) == {"who.txt": b"first run"}
    assert leftovers(final) == []
    with atomic_dir(final) as tmp:  # once released, the folder can be written again
        (tmp / "who.txt").write_text("second run")
    assert snapshot(final) == {"who.txt": b"second run"}


def test_nested_writer_in_the_same_process_is_refused(tmp_path):
    final = tmp_path / NAME
    with atomic_dir(final) as tmp:
        (tmp / "a.txt").write_text("a")
        with pytest.raises(OutputError, match="another run"):
            with atomic_dir(final):
                pass
    assert snapshot(final) == {"a.txt": b"a"} and leftovers(final) == []


@pytest.mark.parametrize("content", ["dead", "not a pid"])
def test_stale_lock_is_taken_over(tmp_path, content):
    final = tmp_path / NAME
    lock = tmp_path / f".{NAME}.lock"
    lock.write_text(str(dead_pid()) if content == "dead" else content)
    with atomic_dir(final) as tmp:
        assert lock.read_text() == str(os.getpid())
        (tmp / "a.txt").write_text("a")
    assert snapshot(final) == {"a.txt": b"a"}
    assert not lock.exists()


def test_writer_killed_between_its_renames_is_undone(tmp_path):
    """A writer killed after moving the old result aside: the next writer puts it back first."""
    final = tmp_path / NAME
    before = previous_result(final)
    pid = dead_pid()
    os.replace(final, tmp_path / f".{NAME}.old-{pid}")  # what the dead writer did ...
    (tmp_path / f".{NAME}.tmp-{pid}").mkdir()  # ... with its half-written new result
    (tmp_path / f".{NAME}.tmp-{pid}" / "half.tif").write_bytes(b"half")
    with pytest.raises(RuntimeError):
        with atomic_dir(final):
            raise RuntimeError("this run fails too")
    assert snapshot(final) == before and leftovers(final) == []


def test_leftovers_of_a_killed_writer_are_removed(tmp_path):
    final = tmp_path / NAME
    previous_result(final)
    pid = dead_pid()
    for kind in ("old", "tmp"):
        (tmp_path / f".{NAME}.{kind}-{pid}").mkdir()
        (tmp_path / f".{NAME}.{kind}-{pid}" / "x").write_text(kind)
    with atomic_dir(final) as tmp:
        (tmp / "new.txt").write_text("new")
    assert snapshot(final) == {"new.txt": b"new"} and leftovers(final) == []


def test_lock_of_a_live_process_is_respected(tmp_path):
    lock = tmp_path / f".{NAME}.lock"
    lock.write_text(str(os.getppid()))  # the process that started pytest is alive
    with pytest.raises(OutputError, match=f"another run \\(pid {os.getppid()}\\)"):
        with locked(tmp_path / NAME):
            pass
    assert lock.read_text() == str(os.getppid())  # not stolen


# ------------------------------------------------------------------ write_outputs on a real run
@pytest.fixture
def result(default_run):
    """The session run with a private manifest (write_outputs records files and models in it)."""
    return dataclasses.replace(default_run, manifest=copy.deepcopy(default_run.manifest), out_dir=None)


@pytest.fixture
def previous(default_run, tmp_path):
    """``tmp/out/yrd-enhanced``: a copy of the session run's folder, and its snapshot."""
    final = tmp_path / "out" / default_run.scenario.name
    shutil.copytree(default_run.out_dir, final)
    return final, snapshot(final)


def test_write_outputs_full_disk_in_a_raster(result, previous, monkeypatch):
    import rasterio.shutil

    from gridcarbon.output.run_folder import write_outputs

    final, before = previous
    monkeypatch.setattr(rasterio.shutil, "copy", enospc)  # GDAL's COG copy inside export.write_cog
    with pytest.raises(OutputError, match="(?i)no space left"):
        write_outputs(result, final.parent)
    assert snapshot(final) == before and leftovers(final) == []


def test_write_outputs_full_disk_via_oserror(result, previous, monkeypatch):
    from gridcarbon.output import export
    from gridcarbon.output.run_folder import write_outputs

    final, before = previous
    monkeypatch.setattr(export, "write_cog", enospc)
    with pytest.raises(OutputError, match="no space left on the device"):
        write_outputs(result, final.parent)
    assert snapshot(final) == before and leftovers(final) == []


@pytest.fixture
def quick_writers(monkeypatch):
    """Stub the costly writers (rasters, maps, and the provenance, report and STAC read from the rasters) so a test
    reaches the end of write_outputs fast."""
    from gridcarbon.output import run_folder

    def fake_layers(root, named, grid, *, year, meta):
        root.mkdir(parents=True, exist_ok=True)
        (root / "total.tif").write_bytes(b"new raster")

    monkeypatch.setattr(run_folder, "write_layers", fake_layers)
    monkeypatch.setattr(run_folder, "render_year_maps", no_drawing)  # drawn in the map process: picklable
    monkeypatch.setattr(run_folder, "write_provenance", lambda *args, **kwargs: {})
    monkeypatch.setattr(run_folder, "write_catalogue", lambda *args, **kwargs: None)
    monkeypatch.setattr(run_folder, "build_maps", no_drawing)  # drawn in the map process too
    monkeypatch.setattr(run_folder.maps, "render_change", no_drawing)


def no_drawing(*args, **kwargs) -> None:
    """A map stub that the map worker process can receive (a module-level function)."""


def test_write_outputs_full_disk_at_the_last_file(result, previous, quick_writers, monkeypatch):
    from gridcarbon.output.run_folder import write_outputs

    final, before = previous
    real_write_text = Path.write_text

    def write_text(self, *args, **kwargs):
        if self.name == "manifest.json":
            enospc()
        return real_write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", write_text)
    with pytest.raises(OutputError, match="no space left"):
        write_outputs(result, final.parent)
    monkeypatch.undo()
    assert snapshot(final) == before and leftovers(final) == []


def test_write_outputs_crash_keeps_the_previous_result(result, previous, quick_writers, monkeypatch):
    from gridcarbon.output import run_folder

    final, before = previous

    def crash(*args, **kwargs):
        raise RuntimeError("facility writer crashed")

    monkeypatch.setattr(run_folder, "write_facilities", crash)
    with pytest.raises(RuntimeError, match="facility writer crashed"):
        run_folder.write_outputs(result, final.parent)
    assert snapshot(final) == before and leftovers(final) == []


def test_write_outputs_refused_while_another_run_writes(result, previous):
    from gridcarbon.output.run_folder import write_outputs

    final, before = previous
    first = hold_lock(final)
    try:
        with pytest.raises(OutputError, match="another run"):
            write_outputs(result, final.parent)
        assert snapshot(final) == before
    finally:
        release(first)


def test_write_outputs_replaces_the_previous_result(result, previous, quick_writers):
    from gridcarbon.output.run_folder import write_outputs

    final, before = previous
    (final / "stale-from-an-old-version.txt").write_text("x")
    assert write_outputs(result, final.parent) == final
    after = snapshot(final)
    assert "stale-from-an-old-version.txt" not in after and after["2030/total.tif"] == b"new raster"
    assert after["totals.csv"] == before["totals.csv"]  # same run, same table
    manifest = json.loads(after["manifest.json"])
    import hashlib

    assert manifest["files"] and all(hashlib.sha256(after[f]).hexdigest() == h for f, h in manifest["files"].items())
    assert leftovers(final) == []


# ------------------------------------------------------------------ scenario names cannot escape
@pytest.mark.parametrize("name", ["../evil", "..", "a/b", "/etc", "a\\b", ".hidden", "Evil", "", "-x",
                                  "evil\n", "x y"])
def test_unsafe_scenario_names_are_rejected(tmp_path, name):
    from gridcarbon.config import load_scenario

    path = tmp_path / "s.yaml"
    path.write_text(f"extends: yrd-enhanced\nname: {json.dumps(name)}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.record == "name" and info.value.exit_code == 2


@settings(deadline=None, max_examples=50)
@given(name=st.from_regex(r"[a-z0-9][a-z0-9_-]*", fullmatch=True))
def test_accepted_names_stay_inside_the_output_folder(name):
    from gridcarbon.config import Scenario

    sc = Scenario.model_validate({"name": name})
    out = Path("/srv/out")
    final = out / sc.name
    assert final.parent == out and os.path.normpath(final) == str(final) and final.name == name


def test_file_stems_become_safe_names(tmp_path):
    from gridcarbon.config import load_scenario

    path = tmp_path / "..My Scenario!.yaml"
    path.write_text("extends: yrd-enhanced\n")
    name = load_scenario(path).name
    assert name == "my-scenario" and "/" not in name and not name.startswith(".")


# ------------------------------------------------------------------ trusted model files
@pytest.fixture
def saved_model(tmp_path):
    from sklearn.ensemble import ExtraTreesClassifier

    from gridcarbon.suitability.model import SuitabilityModel

    rng = np.random.default_rng(0)
    X, y = rng.random((60, 3)), rng.random(60) > 0.5
    model = SuitabilityModel("power", ["a", "b", "c"], ExtraTreesClassifier(n_estimators=3, random_state=0).fit(X, y),
                             {"auc": 0.7, "auc_folds": [0.7], "folds": 1}, {"a": 0.5, "b": 0.3, "c": 0.2},
                             int(y.sum()))
    path = tmp_path / "power.pkl"
    return path, model.save(path), X


def test_model_with_its_hash_loads(saved_model):
    from gridcarbon.suitability.model import load_model

    path, digest, X = saved_model
    model = load_model(path, sha256=digest)
    assert model.target == "power" and model.estimator.predict_proba(X).shape == (60, 2)


@pytest.mark.parametrize("where", [0, -1, "middle"])
def test_tampered_model_is_refused_before_unpickling(saved_model, monkeypatch, where):
    from gridcarbon.suitability import model as suitability

    path, digest, _ = saved_model
    data = bytearray(path.read_bytes())
    at = len(data) // 2 if where == "middle" else where
    data[at] ^= 0x01
    path.write_bytes(bytes(data))

    def never(*args, **kwargs):
        raise AssertionError("unpickled an unchecked file")

    monkeypatch.setattr(suitability.pickle, "loads", never)
    with pytest.raises(InputError, match="hash mismatch") as info:
        suitability.load_model(path, sha256=digest)
    assert "power.pkl" in str(info.value) and info.value.exit_code == 2


def test_model_with_a_wrong_hash_is_refused(saved_model):
    from gridcarbon.suitability.model import load_model

    path, digest, _ = saved_model
    assert len(digest) == 64
    with pytest.raises(InputError, match="hash mismatch"):
        load_model(path, sha256="0" * 64)


def test_models_of_a_run_load_with_the_manifest_hashes(default_run):
    from gridcarbon.suitability.model import SuitabilityModel, load_model

    folder = Path(default_run.out_dir)
    models = json.loads((folder / "manifest.json").read_text())["models"]
    assert models
    for key, entry in models.items():
        model = load_model(folder / entry["file"], sha256=entry["sha256"])
        assert isinstance(model, SuitabilityModel) and model.target == key
