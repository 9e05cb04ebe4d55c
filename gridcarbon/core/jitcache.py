"""Where numba keeps the compiled kernels between runs (``cache=True``).

numba caches next to a kernel's source (``__pycache__``) or, when the package folder is read
only (a system-wide install), in the user's cache folder. Where neither can be written (a
container with a read-only image and home), numba refuses to import a cached kernel, so
:func:`ensure_cache_dir`, run when ``gridcarbon`` is imported and before numba is, points
``NUMBA_CACHE_DIR`` at a per-user folder of the temporary directory. A run then compiles
its kernels once (about 10 s of CPU from an empty cache) and later runs load them.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

#: the folder of the compiled kernels when neither numba default can be written
FALLBACK_NAME = "gridcarbon-numba-cache"


def writable(path: Path) -> bool:
    """Whether ``path`` can be written or created (its first existing ancestor is a writable folder)."""
    for folder in (path, *path.parents):
        if folder.exists():
            return folder.is_dir() and os.access(folder, os.W_OK)
    return False


def user_cache() -> Path:
    """numba's user-wide cache folder (appdirs' user cache dir on Linux: ``$XDG_CACHE_HOME`` or ``~/.cache``)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path("~/.cache").expanduser()
    return Path(base) / "numba"


def ensure_cache_dir(sources: Path | None = None, user: Path | None = None) -> str | None:
    """Set ``NUMBA_CACHE_DIR`` to a temporary per-user folder when numba could cache neither
    beside the kernels (``sources``: the package's ``core/__pycache__``) nor in ``user``
    (its user-wide folder); returns the folder set, None when nothing had to change."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    sources = Path(__file__).resolve().parent / "__pycache__" if sources is None else sources
    if writable(sources) or writable(user_cache() if user is None else user):
        return None
    import tempfile  # only here: importing gridcarbon stays cheap

    folder = str(Path(tempfile.gettempdir()) / f"{FALLBACK_NAME}-{os.getuid() if hasattr(os, 'getuid') else 0}")
    os.environ["NUMBA_CACHE_DIR"] = folder
    if "numba" in sys.modules:  # numba read its settings already
        sys.modules["numba"].config.CACHE_DIR = folder
    return folder
