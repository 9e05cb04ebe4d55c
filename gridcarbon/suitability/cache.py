"""On-disk cache of the suitability models' blocked cross-validation and final forests, keyed by all they depend on.

A run's five models cost 25 cross-validation forests and 5 final ones (issue 19); the
built-in scenarios fit them from the same cells every time. :func:`fit_key` keys a fit by the
sha256 of its training matrix, labels, cross-validation blocks, the own-sector layer the folds
recompute, the seed, the model settings and the scikit-learn version. Under that key
:func:`cached_json` keeps the AUCs (the very numbers a fresh cross-validation gives) and
:func:`gridcarbon.core.cache.cached_pickle` the final forest (seeded, so a fresh fit is the same
trees: a run's models, surfaces and outputs are the same bytes with the cache warm, cold or
off; a forest is 2-5 MB for the Yangtze River Delta at 10 km). Entries are files in
``$GRIDCARBON_CACHE_DIR/suitability`` (default ``~/.cache/gridcarbon/suitability``;
:mod:`gridcarbon.core.cache` has the folder, the atomic writes and ``GRIDCARBON_CACHE_DIR=off``).

The cross-validations of the default scenario ship with the package (:data:`SHIPPED`, written
by :mod:`gridcarbon.suitability.ship`): a cache filled at build time, read after the user's own
cache, so the first run after an install fits only the five final forests, not the 25
cross-validation forests (about 7 s of CPU). They are keyed like every entry: a study area,
seed, setting or scikit-learn version of their own misses them and is cross-validated.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from importlib.metadata import version
from importlib.resources import files

from gridcarbon.core.cache import cache_dir, digest, write_entry

#: version of what a cached cross-validation means: raise it when the code changes its result
#: without changing its inputs or settings (old entries are then never read)
FORMAT = 1
#: the entries' sub-folder of the cache (:func:`gridcarbon.core.cache.cache_dir`)
KIND = "suitability"
#: package data: the cross-validations shipped with the package, ``{"entries": {key: result}}``
SHIPPED = files("gridcarbon") / "data" / "suitability_cv.json"


def fit_key(*parts: object) -> str:
    """sha256 (hex) of :data:`FORMAT`, the scikit-learn version and ``parts``
    (:func:`gridcarbon.core.cache.digest`)."""
    return digest(FORMAT, version("scikit-learn"), *parts)


def cached_json(key: str, compute: Callable[[], dict]) -> dict:
    """The JSON object stored under ``key``, or ``compute()``'s (stored for next time unless the
    folder cannot be written; it must hold only JSON types: floats round-trip exactly)."""
    stored = stored_json(key)
    if stored is not None:
        return stored
    result = compute()
    folder = cache_dir(KIND)
    if folder is not None:
        write_entry(folder, f"{key}.json", json.dumps(result).encode())
    return result


def stored_json(key: str) -> dict | None:
    """The JSON object stored under ``key`` in the cache folder, else in :data:`SHIPPED`; None
    when neither holds it, or when the cache is off."""
    folder = cache_dir(KIND)
    if folder is None:
        return None
    path = folder / f"{key}.json"
    return json.loads(path.read_text()) if path.exists() else shipped().get(key)


@cache
def shipped() -> dict[str, dict]:
    """The entries of :data:`SHIPPED` by key (read once per process)."""
    return json.loads(SHIPPED.read_text())["entries"]
