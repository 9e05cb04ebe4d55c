"""Package data that gridcarbon computes itself: the default scenario's cross-validations.

:data:`gridcarbon.suitability.cache.SHIPPED` holds the blocked cross-validation (AUCs, folds) of
every suitability model the scenarios of :data:`SCENARIOS` fit, under the model's cache key, so
the first run after an install reads them instead of fitting 25 forests (docs/performance.md,
"Issue 19, sixth round"). :func:`build_shipped_cv` computes them afresh (cache off) and writes the file::

    python -m gridcarbon.shipped

Run it when a change moves the default scenario's keys (its inventory, covariates, model
settings or the scikit-learn version): ``tests/suitability/test_suitability_shipped.py`` fails
until then, and runs are only slower meanwhile, never different.
"""
from __future__ import annotations

import json
import os
from importlib.metadata import version
from pathlib import Path

from gridcarbon.core.cache import CACHE_ENV
from gridcarbon.job import prepare, resolve
from gridcarbon.suitability.cache import SHIPPED

#: scenarios whose cross-validations ship, at their own resolution and seed: the default, the
#: first thing a new user runs (its policy and nested variants share its study area and keys)
SCENARIOS = ("yrd-enhanced",)


def fresh_cross_validations(scenarios: tuple[str, ...] = SCENARIOS) -> dict[str, dict]:
    """Cross-validation of every model the ``scenarios`` fit, by cache key, computed with the
    cache off (neither the user's cache nor :data:`SHIPPED` is read)."""
    before = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = "off"
    try:
        entries = {}
        for name in scenarios:
            models = prepare(resolve(name)).suitability.models
            entries |= {m.key: m.cross_validation() for m in models.values()}
    finally:
        if before is None:
            del os.environ[CACHE_ENV]
        else:
            os.environ[CACHE_ENV] = before
    return dict(sorted(entries.items()))


def build_shipped_cv(path: str | Path = str(SHIPPED)) -> Path:
    """Write :func:`fresh_cross_validations` to ``path`` (JSON: the scenarios, the scikit-learn
    version and the entries); returns the path."""
    path = Path(path)
    data = {"scenarios": list(SCENARIOS), "scikit-learn": version("scikit-learn"),
            "entries": fresh_cross_validations()}
    path.write_text(json.dumps(data, indent=1) + "\n")
    return path


if __name__ == "__main__":
    print(build_shipped_cv())
