"""The numba cache folder falls back to a temporary one where numba's defaults are read only."""
import os
import subprocess
import sys

import numba

from gridcarbon.core.jitcache import FALLBACK_NAME, ensure_cache_dir, writable


def test_a_path_under_a_file_is_not_writable_and_a_new_folder_in_tmp_is(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert not writable(blocker / "sub" / "__pycache__")
    assert writable(tmp_path / "new" / "deeper")


def test_read_only_defaults_fall_back_to_a_temporary_folder(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setattr(numba.config, "CACHE_DIR", "")  # restored after the test
    folder = ensure_cache_dir(blocker / "__pycache__", blocker / "numba")
    assert folder is not None and FALLBACK_NAME in folder and os.environ["NUMBA_CACHE_DIR"] == folder
    assert numba.config.CACHE_DIR == folder  # numba, already imported, uses it too


def test_writable_defaults_or_a_user_setting_are_left_alone(tmp_path, monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    assert ensure_cache_dir(tmp_path / "__pycache__", tmp_path / "file" / "numba") is None
    assert "NUMBA_CACHE_DIR" not in os.environ
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    assert ensure_cache_dir(tmp_path / "file" / "x", tmp_path / "file" / "y") is None
    assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "mine")


def test_importing_gridcarbon_loads_neither_numba_nor_the_model():
    """``import gridcarbon`` (and so ``gridcarbon --help``) stays cheap: the API is lazy."""
    code = "import sys, gridcarbon; print(sorted(m for m in ('numba', 'geopandas', 'matplotlib', 'sklearn') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_listing_the_scenarios_loads_neither_geopandas_nor_numba():
    """``gridcarbon scenarios`` reads the scenario files only: no geometry stack, no kernels."""
    code = ("import sys; from gridcarbon.config import list_scenarios; assert list_scenarios(); "
            "print(sorted(m for m in ('numba', 'geopandas', 'matplotlib', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"
