"""On-disk cache of the suitability models' fits, keyed by all they depend on.

A run's five models cost 25 cross-validation forests and 5 final ones (issue 19); the
built-in scenarios fit them from the same cells every time. :func:`cached_json` keys the
blocked cross-validation by the sha256 of the fit's training matrix, labels, cross-validation
blocks, the own-sector layer the folds recompute, the seed, the model settings and the
scikit-learn version (:func:`fit_key`); a hit returns the stored AUCs, the very numbers a fresh
cross-validation gives. :func:`cached_pickle` keeps the final forest the same way, keyed by its
training matrix, labels, seed and settings: a hit unpickles the very trees a fresh fit grows
(scikit-learn's trees round-trip a pickle exactly), so a run's trees, surfaces and outputs are
the same with the cache warm, cold or off; a fresh forest is handed on through the same round
trip, so it is the same kind of object as a cached one (see :func:`cached_pickle`). A pickle
runs code when loaded: an entry is loaded only if its bytes match the sha256 stored beside it
when it was written (a truncated or altered entry is fitted again and rewritten). Entries live
in ``$GRIDCARBON_CACHE_DIR/suitability`` (default ``~/.cache/gridcarbon/suitability``): small
JSON files for the cross-validation, a pickle per forest (5-26 MB for China at 10 km with its
20,000 background cells, 2-5 MB for the YRD); ``GRIDCARBON_CACHE_DIR=off`` turns the cache
off. Files are written atomically (a temporary file renamed), so concurrent runs never read
half an entry.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import sklearn

#: environment variable naming the cache folder (``off``: no cache)
CACHE_ENV = "GRIDCARBON_CACHE_DIR"
#: version of what a cached entry means: raise it when the code changes a fit's result
#: without changing its inputs or settings (old entries are then never read)
FORMAT = 1
#: pickle protocol of cached forests (protocol 5: numpy arrays without extra copies)
PICKLE_PROTOCOL = 5


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
    _write(folder, {path: json.dumps(result).encode()})
    return result


def cached_pickle(key: str, compute: Callable[[], object]) -> object:
    """The object pickled under ``key`` if its bytes still match their recorded sha256, else
    ``compute()``'s, pickled for next time (unless the cache is off or cannot be written).

    Either way the caller gets the object back from its pickle: unpickling does not restore
    which equal sub-objects (numpy dtypes) a fresh object shared, so a fresh forest could save
    to other pickle bytes than a cached one with the same trees.
    """
    folder = cache_dir()
    path = None if folder is None else folder / f"{key}.pkl"
    data = None if path is None else _checked_bytes(path)
    if data is None:
        data = pickle.dumps(compute(), protocol=PICKLE_PROTOCOL)
        if path is not None:
            _write(folder, {path: data, _digest_path(path): hashlib.sha256(data).hexdigest().encode()})
    return pickle.loads(data)  # our own bytes, or bytes checked against the digest written with them


def _digest_path(path: Path) -> Path:
    """Where the sha256 (hex) of the cached file ``path`` is kept."""
    return path.with_name(path.name + ".sha256")


def _checked_bytes(path: Path) -> bytes | None:
    """The bytes of the cached file ``path`` if they match their recorded sha256, else None."""
    digest = _digest_path(path)
    if not (path.exists() and digest.exists()):
        return None
    data = path.read_bytes()
    return data if hashlib.sha256(data).hexdigest() == digest.read_text() else None


def _write(folder: Path, files: dict[Path, bytes]) -> None:
    """Write each file's bytes atomically (a temporary file renamed), in the order given."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path, data in files.items():
            with tempfile.NamedTemporaryFile("wb", dir=folder, suffix=".tmp", delete=False) as tmp:
                tmp.write(data)
            os.replace(tmp.name, path)
    except OSError:  # a read-only or full disk only costs the next run the same work
        pass
