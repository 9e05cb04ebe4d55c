"""Handing freed memory back to the operating system between simulated years.

Two things keep a national 1 km run's memory after a year is written. Reference cycles
(matplotlib figures and the writer's frames) keep that year's 1.1 GiB layer stack alive
until the cyclic garbage collector happens to run; and glibc's allocator keeps the freed
1-30 MB blocks of every year (COG stripes, NetCDF chunks, per-region cell lists) in its
per-thread arenas. :func:`release` collects the cycles (when asked: a full collection costs
~0.1 s in a process holding many small objects), then ``malloc_trim(0)`` returns the free pages,
as dask distributed trims its workers (a no-op elsewhere than glibc).

The opposite cost is a large grid's: glibc maps every block larger than 32 MB afresh (its
largest dynamic ``mmap`` threshold) and unmaps it when freed, so each full layer a 1 km national
run makes (107 MB in float32, 214 MB in float64; thousands over a run) comes as new pages the
kernel zeroes at first touch: a third of such a run's CPU was system time.
:func:`reuse_freed_blocks` has the heap keep and reuse them, and :func:`release` still hands
them back after each exported year (the run writer's); :func:`map_large_blocks` undoes it
for the run's end, where the heap's holes would stay resident. Both turn off numpy's transparent-huge-page advice
(``madvise(MADV_HUGEPAGE)`` on every array of 4 MB or more, numpy's "Global state" page): where
the kernel's THP defrag setting is ``madvise``, each such fresh array then waits for the kernel
to compact memory into 2 MB pages, and China at 1 km took 302 s with the advice against 274 s
without it (docs/performance.md, "twelfth round").
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import threading
from contextlib import contextmanager
from functools import lru_cache

import numpy as np


#: glibc's ``mallopt`` parameters (``malloc.h``)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
#: blocks up to this size (bytes) come from the heap and go back to it when freed, instead of a
#: fresh ``mmap`` each. ASSUMPTION: just above one full float64 layer of China at 1 km (214 MB),
#: the arrays a run makes by the thousand; stacks of layers (a year's float32 stack, 1.18 GB,
#: once a year) are still mapped: in the heap they left holes that raised the peak (China at
#: 2 km, 295 MB year stacks: 2.82 GB with 1 GiB here, 2.71 GB with 256 MiB, 2.70 GB with glibc's default)
HEAP_BLOCK_BYTES = 256 << 20
#: free bytes at the top of the heap kept for the next blocks before ``free`` trims it.
#: ASSUMPTION: two float64 layers of China at 1 km; the free pages below the top stay until
#: :func:`release` (after each exported year on a large grid), as with glibc's default
HEAP_TOP_BYTES = 512 << 20
#: blocks from this size (bytes) on are mapped afresh and unmapped when freed, outside the year
#: loop: glibc's largest dynamic ``mmap`` threshold on 64-bit (``DEFAULT_MMAP_THRESHOLD_MAX`` of
#: ``malloc.c``, 4 MiB x sizeof(long)); its trim threshold: twice that (glibc's dynamic rule)
MAPPED_BLOCK_BYTES = 32 << 20
MAPPED_TOP_BYTES = 2 * MAPPED_BLOCK_BYTES


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


def reuse_freed_blocks() -> bool:
    """From now on in this process, serve blocks up to :data:`HEAP_BLOCK_BYTES` from the heap
    and keep up to :data:`HEAP_TOP_BYTES` free at its top, so that a freed layer's pages are
    reused, not unmapped and zeroed anew, and give numpy's new arrays no huge-page advice.
    Returns True if the allocator could be asked (glibc; a process-wide setting: the main
    thread's heap, the others' arenas map large blocks as before).
    """
    return _heap(HEAP_BLOCK_BYTES, HEAP_TOP_BYTES)


def map_large_blocks() -> bool:
    """From now on in this process, map every block of :data:`MAPPED_BLOCK_BYTES` or more
    afresh and unmap it when freed, keep at most :data:`MAPPED_TOP_BYTES` free at the heap's
    top, and give numpy's new arrays no huge-page advice. Undoes :func:`reuse_freed_blocks`,
    for the end of a large grid's run (the last year's export, the result, the finish: tables,
    maps and provenance), whose large blocks are few and of many sizes: in the heap their free
    holes stayed resident beside what the writer thread maps (China at 1 km: 1.2-2.2 GB through
    the finish, which made the run's peak). Returns True if the allocator could be asked (glibc).
    """
    return _heap(MAPPED_BLOCK_BYTES, MAPPED_TOP_BYTES)


def _heap(mapped_from: int, top: int) -> bool:
    """Blocks of ``mapped_from`` bytes or more mapped, ``top`` bytes kept free at the heap's top
    (``mallopt``), no huge-page advice from numpy. True if the allocator could be asked (glibc)."""
    _huge_page_advice(False)
    libc = _libc()
    if libc is None:
        return False
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(libc.mallopt(M_MMAP_THRESHOLD, mapped_from)) and bool(libc.mallopt(M_TRIM_THRESHOLD, top))


#: open :func:`without_huge_page_advice` scopes, and numpy's advice before the first opened
#: (both under the lock)
_open_scopes, _advice_before = 0, True
_ADVICE_LOCK = threading.Lock()


@contextmanager
def without_huge_page_advice():
    """No transparent-huge-page advice from numpy for the arrays made inside (a ``with`` block or
    a function it decorates), the advice back as it was after.

    A run's first arrays of 4 MB or more are its largest (the in-memory emission cube, year
    stacks): with the advice, where the kernel's THP defrag setting is ``madvise``, the first
    touch of each 2 MB waits for the kernel to compact memory. Measured on this two-core machine
    (AnonHugePages 0 kB: the compaction did not even yield huge pages): writing the 407 layers of
    ``china-enhanced``'s 871 MB cube (37 years, 11 sectors, 553 x 484 cells) for the first time
    took 9-14 ms a 2 MB layer with the advice, 1.2 ms without.

    The switch is the process's: runs in several threads at once share one scope, the setting
    saved by the first to enter and given back by the last to leave.
    """
    global _open_scopes, _advice_before
    with _ADVICE_LOCK:
        if _open_scopes == 0:
            _advice_before = _huge_page_advice(False)
        _open_scopes += 1
    try:
        yield
    finally:
        with _ADVICE_LOCK:
            _open_scopes -= 1
            if _open_scopes == 0:
                _huge_page_advice(_advice_before)


def _huge_page_advice(enabled: bool) -> bool:
    """Have numpy advise (or not) transparent huge pages for its new large arrays (the switch
    behind its ``NUMPY_MADVISE_HUGEPAGE`` variable, which numpy reads only at import); returns
    whether it did before."""
    core = getattr(np, "_core", None) or np.core
    return bool(core.multiarray._set_madvise_hugepage(enabled))
