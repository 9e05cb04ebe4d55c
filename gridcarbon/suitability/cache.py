"""On-disk cache of the suitability models' blocked cross-validation, keyed by all it depends on.

A run's five models cost 25 cross-validation forests and 5 final ones (issue 19); the
built-in scenarios fit them from the same cells every time, and the folds serve only the
reported skill. :func:`cached_json` keys a result by the sha256 of the fit's training matrix,
labels, cross-validation blocks, the own-sector layer the folds recompute, the seed, the model
settings and the scikit-learn version (:func:`fit_key`); a hit returns the stored AUCs, the
very numbers a fresh cross-validation gives. The final model is fitted every time, so a run's
models and surfaces never depend on the cache. Entries are small JSON files in
``$GRIDCARBON_CACHE_DIR/suitability`` (default ``~/.cache/gridcarbon/suitability``);
``GRIDCARBON_CACHE_DIR=off`` turns the cache off. Files are written atomically (a temporary
file renamed), so concurrent runs never read half an entry.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import sklearn

#: environment variable naming the cache folder (``off``: no cache)
CACHE_ENV = "GRIDCARBON_CACHE_DIR"
#: version of what a cached cross-validation means: raise it when the code changes its result
#: without changing its inputs or settings (old entries are then never read)
FORMAT = 1


def cache_dir() -> Path | None:
    """The cache folder, or None when ``GRIDCARBON_CACHE_DIR=off``."""
    root = os.environ.get(CACHE_ENV, "")
    if root.lower() == "off":
        return None
    base = Path(root) if root else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "gridcarbon"
    return base / "suitability"


def fit_key(*parts: object) -> str:
    """sha256 (hex) of ``parts``: arrays by dtype, shape and bytes, anything else by ``repr``."""
    digest = hashlib.sha256(f"{FORMAT}|{sklearn.__version__}".encode())
    for part in parts:
        if isinstance(part, np.ndarray):
            digest.update(f"|{part.dtype.str}{part.shape}|".encode())
            digest.update(np.ascontiguousarray(part).tobytes())
        else:
            digest.update(f"|{part!r}".encode())
    return digest.hexdigest()


def cached_json(key: str, compute: Callable[[], dict]) -> dict:
    """The JSON object stored under ``key``, or ``compute()``'s (stored for next time unless the
    folder cannot be written; it must hold only JSON types: floats round-trip exactly)."""
    folder = cache_dir()
    if folder is None:
        return compute()
    path = folder / f"{key}.json"
    if path.exists():
        return json.loads(path.read_text())
    result = compute()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=folder, suffix=".tmp", delete=False) as tmp:
            json.dump(result, tmp)
        os.replace(tmp.name, path)
    except OSError:  # a read-only or full disk only costs the next run the same work
        pass
    return result
