"""Maps drawn in processes of their own, beside the run (:mod:`gridcarbon.core.worker`).

Drawing a year's maps with matplotlib holds the interpreter lock for most of a second per
map. In the run's writer thread that competes with the evolution for the one lock, however
many cores the machine has. :class:`MapProcess` draws them in :data:`WORKERS` worker processes
instead, beside the run; an error surfaces at :meth:`MapProcess.wait`. The PNG bytes are the
same either way. The run writer also has them write its largest CSV tables (the quota tables
and the storage account of China: about 460,000 rows), whose formatting holds the lock as
drawing does. The workers are forked when the writer is made, from the calling thread,
before the writer thread starts, so they hold no lock a writer thread could hold. Where
:func:`~gridcarbon.core.worker.fork_executor` gives no workers, and on a large grid (1 km: each
year's layers are gigabytes to copy), the maps are drawn in the calling thread
(``inline=True``).
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Self

from gridcarbon.core.worker import done_future, fork_executor

#: worker processes. Two: during the evolution one worker keeps up with the maps on the second
#: core of a two-core machine, but after the last year the main process only writes tables and
#: then waits for the last year's maps, the change map and the energy and market figures
#: (about 2 s of drawing in the default run): a second worker draws them on the core the main
#: process leaves free
WORKERS = 2
#: how much lower the workers run in the scheduler's priority than the run (``os.nice``): their
#: figures are wanted at the run's end, the run's own threads (the evolution, the writer) are its
#: critical path. Measured on this two-core machine, alternating runs: ``china-enhanced`` at 10 km
#: 16.0 s mean wall (15.7-16.4) against 17.5 s (16.5-18.9) at the run's priority; the first run
#: after a fresh install 15.0 s against 15.6 s; the default run warm 7.2 s against 7.5 s
NICENESS = 10


def draw_now(draw: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run ``draw(*args, **kwargs)`` here: the default of writers that take a ``submit`` argument
    (a :meth:`MapProcess.submit` draws in the worker instead)."""
    draw(*args, **kwargs)


class MapProcess:
    """Runs drawing calls in :data:`WORKERS` worker processes (or inline); use as a context manager."""

    def __init__(self, *, inline: bool):
        self.pool = None if inline else fork_executor(WORKERS, niceness=NICENESS)
        if self.pool is not None:
            self.pool.submit(int).result()  # fork the workers now (all at once under fork), from this thread
        self.jobs: list[Future] = []

    @property
    def inline(self) -> bool:
        """Whether drawing calls run in the calling thread (no worker processes)."""
        return self.pool is None

    def submit(self, draw: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Draw ``draw(*args, **kwargs)`` (a module-level function, its arguments picklable)."""
        if self.pool is None:
            draw_now(draw, *args, **kwargs)
        else:
            self.jobs.append(self.pool.submit(draw, *args, **kwargs))

    def call(self, draw: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        """``draw(*args, **kwargs)`` whose result is wanted (the report's charts): its Future."""
        return done_future(draw, *args, **kwargs) if self.pool is None else self.pool.submit(draw, *args, **kwargs)

    def wait(self) -> None:
        """Wait for every submitted drawing; raise the first one's error."""
        jobs, self.jobs = self.jobs, []
        for job in jobs:
            job.result()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
