"""Handing freed memory back to the operating system between simulated years.

Two things keep a national 1 km run's memory after a year is written. Reference cycles
(matplotlib figures and the writer's frames) keep that year's 1.1 GiB layer stack alive
until the cyclic garbage collector happens to run; and glibc's allocator keeps the freed
1-30 MB blocks of every year (COG stripes, NetCDF chunks, per-region cell lists) in its
per-thread arenas. :func:`release` collects the cycles (when asked: a full collection costs
~0.1 s in a process holding many small objects), then ``malloc_trim(0)`` returns the free pages,
as dask distributed trims its workers (a no-op elsewhere than glibc).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import lru_cache


@lru_cache(maxsize=1)
def _libc():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def release(*, cycles: bool = False) -> bool:
    """Return free heap pages to the operating system, after collecting reference cycles
    if ``cycles``. Returns True if the allocator could be asked (glibc).
    """
    if cycles:
        gc.collect()
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
