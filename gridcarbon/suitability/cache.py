"""On-disk cache of fitted suitability models, keyed by everything a fit depends on.

A run's five suitability models (25 cross-validation forests and 5 final ones) cost most of a
warm default run's fitting time (issue 19), yet the built-in scenarios fit them from the same
cells every time. :func:`cached_fit` keys a fit by the sha256 of its training matrix, labels,
cross-validation blocks, the own-sector layer the folds recompute, the seed, the model
settings and the scikit-learn version; a hit returns the stored model, so the reported AUCs,
importances and surfaces are the very ones a fresh fit gives (same bytes). The folder is
``$GRIDCARBON_CACHE_DIR/suitability`` (default ``~/.cache/gridcarbon/suitability``);
``GRIDCARBON_CACHE_DIR=off`` turns the cache off. Files are written atomically (a temporary
file renamed), so concurrent runs never read half a model.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import sklearn

#: environment variable naming the cache folder (``off``: no cache)
CACHE_ENV = "GRIDCARBON_CACHE_DIR"
#: version of what a cached fit means: raise it when the fitting code changes its result
#: without changing its inputs or settings (old entries are then never read)
FORMAT = 1

T = TypeVar("T")


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


def cached_fit(key: str, fit: Callable[[], T]) -> T:
    """The object stored under ``key``, or ``fit()``'s result (stored for next time).

    Always a copy read back from its pickle, with or without the cache: a read-back
    scikit-learn forest pickles to other bytes than the fitted one, and a run's saved models
    must not depend on whether the cache was warm.
    """
    folder = cache_dir()
    path = None if folder is None else folder / f"{key}.pkl"
    if path is not None and path.exists():
        # the key covers every input of the fit; the folder is the user's own
        return pickle.loads(path.read_bytes())
    data = pickle.dumps(fit(), protocol=5)
    if path is not None:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as tmp:
            tmp.write(data)
        os.replace(tmp.name, path)
    return pickle.loads(data)
