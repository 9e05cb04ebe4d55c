"""The default scenario's cross-validations ship with the package (``gridcarbon.shipped``), and
they are what a fresh cross-validation gives: if a change moves the default scenario's keys or
results, this fails until ``python -m gridcarbon.shipped`` is run again. That a fresh install's
default run reads them (and fits no cross-validation) is checked by
``tests/end_to_end/test_jit_ahead_run.py``."""
from __future__ import annotations

import json

from gridcarbon.shipped import fresh_cross_validations
from gridcarbon.suitability.cache import SHIPPED, shipped, stored_json


def test_the_shipped_cross_validations_are_what_a_fresh_one_gives():
    fresh = fresh_cross_validations()
    assert len(fresh) == 5  # power, steel, cement and petrochemical plants, urban land
    assert fresh == shipped() == json.loads(SHIPPED.read_text())["entries"]
    assert all(0.5 < e["auc"] <= 1 and len(e["auc_folds"]) >= 3 for e in fresh.values())


def test_the_users_cache_is_read_before_the_shipped_entries_and_off_reads_neither(tmp_path, monkeypatch):
    key, entry = next(iter(shipped().items()))
    monkeypatch.setenv("GRIDCARBON_CACHE_DIR", str(tmp_path))
    assert stored_json(key) == entry and stored_json("0" * 64) is None
    (tmp_path / "suitability").mkdir()
    (tmp_path / "suitability" / f"{key}.json").write_text(json.dumps({"auc": 0.5}))
    assert stored_json(key) == {"auc": 0.5}
    monkeypatch.setenv("GRIDCARBON_CACHE_DIR", "off")
    assert stored_json(key) is None
