"""On-disk cache of the suitability models' blocked cross-validation, keyed by all it depends on.

A run's five models cost 25 cross-validation forests and 5 final ones (issue 19); the
built-in scenarios fit them from the same cells every time, and the folds serve only the
reported skill. :func:`cached_json` keys a result by the sha256 of the fit's training matrix,
labels, cross-validation blocks, the own-sector layer the folds recompute, the seed, the model
settings and the scikit-learn version (:func:`fit_key`); a hit returns the stored AUCs, the
very numbers a fresh cross-validation gives. The final model is fitted every time, so a run's
models and surfaces never depend on the cache. Entries are small JSON files in
``$GRIDCARBON_CACHE_DIR/suitability`` (default ``~/.cache/gridcarbon/suitability``;
:mod:`gridcarbon.core.cache` has the folder, the atomic writes and ``GRIDCARBON_CACHE_DIR=off``).
"""
from __future__ import annotations

import json
from collections.abc import Callable

import sklearn

from gridcarbon.core.cache import cache_dir, digest, write_entry

#: version of what a cached cross-validation means: raise it when the code changes its result
#: without changing its inputs or settings (old entries are then never read)
FORMAT = 1
#: the entries' sub-folder of the cache (:func:`gridcarbon.core.cache.cache_dir`)
KIND = "suitability"


def fit_key(*parts: object) -> str:
    """sha256 (hex) of :data:`FORMAT`, the scikit-learn version and ``parts``
    (:func:`gridcarbon.core.cache.digest`)."""
    return digest(FORMAT, sklearn.__version__, *parts)


def cached_json(key: str, compute: Callable[[], dict]) -> dict:
    """The JSON object stored under ``key``, or ``compute()``'s (stored for next time unless the
    folder cannot be written; it must hold only JSON types: floats round-trip exactly)."""
    folder = cache_dir(KIND)
    if folder is None:
        return compute()
    path = folder / f"{key}.json"
    if path.exists():
        return json.loads(path.read_text())
    result = compute()
    write_entry(folder, path.name, json.dumps(result).encode())
    return result
