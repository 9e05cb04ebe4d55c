"""The reference grid's area-sector totals of a built-in region set (gridcarbon.inventory.builtin)
are built once per package and read from the on-disk cache after."""
from __future__ import annotations

import numpy as np
import pytest

from gridcarbon.core import cache
from gridcarbon.inventory import builtin


@pytest.fixture
def built(tmp_path, monkeypatch):
    """Calls of the reference build (a stand-in table), with the cache in ``tmp_path``."""
    calls = []

    def build(region_set):
        calls.append(region_set)
        return np.arange(12.0).reshape(4, 3) / 7.0

    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(builtin, "_reference_area_totals", build)
    monkeypatch.setattr(builtin, "code_fingerprint", lambda: "this release")
    builtin.reference_area_totals.cache_clear()
    yield calls
    builtin.reference_area_totals.cache_clear()


def test_reference_totals_are_built_once_per_package(built, tmp_path, monkeypatch):
    first = builtin.reference_area_totals("yrd")
    builtin.reference_area_totals.cache_clear()  # a new process
    again = builtin.reference_area_totals("yrd")
    assert built == ["yrd"] and again.tobytes() == first.tobytes() == (np.arange(12.0).reshape(4, 3) / 7.0).tobytes()
    assert len(list((tmp_path / "study_area").glob("*.pkl"))) == 1
    builtin.reference_area_totals("china")
    builtin.reference_area_totals.cache_clear()
    monkeypatch.setattr(builtin, "code_fingerprint", lambda: "another release")
    builtin.reference_area_totals("yrd")
    assert built == ["yrd", "china", "yrd"]
