"""On-disk cache of results that are pure functions of their inputs, keyed by all they depend on.

What a run computes again and again from the same inputs is cached here, one folder per kind:
the suitability models (their blocked cross-validation, forests, importances, saved bytes and
surfaces: :mod:`gridcarbon.suitability.cache`), the built-in study area of a region set on a
grid (:func:`gridcarbon.job.study_area`) with the 10 km reference totals a 1 km run
redistributes (:func:`gridcarbon.inventory.builtin.reference_area_totals`), and CRS lookups
(:func:`gridcarbon.core.grid.crs_lookup`). A key is
the sha256 of everything the result depends on (:func:`digest`); for the study area that
includes :func:`code_fingerprint`, the bytes of every file of the installed package (code and
package data) and the versions of the libraries that compute it, so an upgrade or an edited
source file never reads an old entry. A hit returns the very object a fresh computation
gives, so outputs are the same bytes with the cache warm, cold or off.

Entries live in ``$GRIDCARBON_CACHE_DIR/<kind>`` (default ``~/.cache/gridcarbon/<kind>``, or
``$XDG_CACHE_HOME/gridcarbon``); ``GRIDCARBON_CACHE_DIR=off`` turns the cache off. Files are
written atomically (a temporary file renamed), so concurrent runs never read half an entry;
nothing expires, and deleting the folder is safe. A pickled entry is loaded only when its
bytes match the sha256 written with it (:func:`cached_pickle`).
"""
from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Callable
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import TypeVar

import numpy as np

#: environment variable naming the cache folder (``off``: no cache)
CACHE_ENV = "GRIDCARBON_CACHE_DIR"
#: libraries whose results a cached study area holds (geometry, projection, raster reading,
#: arrays, tables, the gridding kernels): their versions are part of :func:`code_fingerprint`
FINGERPRINT_LIBRARIES = ("numpy", "pandas", "xarray", "shapely", "pyproj", "rasterio", "geopandas", "scipy",
                         "numba")
#: the package folder whose files :func:`code_fingerprint` reads (compiled caches excluded)
PACKAGE_ROOT = Path(__file__).resolve().parents[1]

T = TypeVar("T")
log = logging.getLogger(__name__)


def cache_dir(kind: str) -> Path | None:
    """The folder of one kind of entry, or None when ``GRIDCARBON_CACHE_DIR=off``."""
    root = os.environ.get(CACHE_ENV, "")
    if root.lower() == "off":
        return None
    base = Path(root) if root else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "gridcarbon"
    return base / kind


def digest(*parts: object) -> str:
    """sha256 (hex) of ``parts``: arrays by dtype, shape and bytes, anything else by ``repr``."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(f"|{part.dtype.str}{part.shape}|".encode())
            h.update(np.ascontiguousarray(part).reshape(-1).view(np.uint8))  # its bytes, not a copy of them
        else:
            h.update(f"|{part!r}".encode())
    return h.hexdigest()


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """sha256 (hex) of every file of the package (relative path and bytes; ``__pycache__``
    left out) and of the versions of :data:`FINGERPRINT_LIBRARIES`: about 25 MB read once per
    process."""
    h = hashlib.sha256(repr([(lib, version(lib)) for lib in FINGERPRINT_LIBRARIES]).encode())
    for path in sorted(PACKAGE_ROOT.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(path.relative_to(PACKAGE_ROOT).as_posix().encode())
            with path.open("rb") as f:
                h.update(hashlib.file_digest(f, "sha256").digest())
    return h.hexdigest()


def write_entry(folder: Path, name: str, data: bytes) -> None:
    """Write ``folder/name`` atomically; a folder that cannot be written is left alone (the next
    run only does the same work again)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=folder, suffix=".tmp", delete=False) as tmp:
            tmp.write(data)
        os.replace(tmp.name, folder / name)
    except OSError:
        pass


def cached_bytes(kind: str, name: str, compute: Callable[[], bytes]) -> tuple[bytes, str]:
    """The bytes stored as ``kind``/``name``, or ``compute()``'s (stored for next time), checked
    against the sha256 written beside them like :func:`cached_pickle`'s; with their sha256 (hex),
    hashed once (a run's suitability models: 79 MB for China at 10 km)."""
    folder = cache_dir(kind)
    checked = None if folder is None else _checked(folder / name)
    if checked is not None:
        return checked
    data = compute()
    sha = hashlib.sha256(data).hexdigest()
    if folder is not None:
        _store(folder / name, data, sha)
    return data, sha


def cached_pickle(kind: str, key: str, compute: Callable[[], T]) -> T:
    """The object stored under ``kind``/``key``, or ``compute()``'s (stored for next time).

    A pickle runs code when loaded: an entry is unpickled only if its bytes match the sha256
    written beside it (``<key>.pkl.sha256``); a truncated, altered or unreadable entry is
    computed and written again.
    """
    folder = cache_dir(kind)
    if folder is None:
        return compute()
    path = folder / f"{key}.pkl"
    checked = _checked(path)
    if checked is not None:
        try:
            return pickle.loads(checked[0])
        except Exception as exc:  # noqa: BLE001 - an unreadable entry is computed and written again
            log.warning("unreadable cache entry %s (%s): computing it again", path, exc)
    result = compute()
    _store(path, pickle.dumps(result, protocol=5))
    return result


def _store(path: Path, data: bytes, sha: str | None = None) -> None:
    """Write the entry ``path`` and its sha256 (``sha``, hex, if already known) beside it."""
    write_entry(path.parent, path.name, data)
    write_entry(path.parent, _digest_path(path).name, (sha or hashlib.sha256(data).hexdigest()).encode())


def _digest_path(path: Path) -> Path:
    """Where the sha256 (hex) of the cache entry ``path`` is kept."""
    return path.with_name(path.name + ".sha256")


def _checked(path: Path) -> tuple[bytes, str] | None:
    """The bytes of the cache entry ``path`` and their sha256 (hex) if it is the recorded one, else None."""
    digest = _digest_path(path)
    if not (path.exists() and digest.exists()):
        return None
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    return (data, sha) if sha == digest.read_text() else None
