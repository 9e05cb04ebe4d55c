"""Maps drawn in processes of their own, beside the run (:mod:`gridcarbon.core.worker`).

Drawing a year's maps with matplotlib holds the interpreter lock for most of a second per
map. In the run's writer thread that competes with the evolution for the one lock, however
many cores the machine has. :class:`MapProcess` draws them in :data:`WORKERS` worker processes
instead, beside the run; an error surfaces at :meth:`MapProcess.wait`. The PNG bytes are the
same either way. The run writer also has them write its largest CSV tables (the quota tables
and the storage account of China: about 460,000 rows), whose formatting holds the lock as
drawing does. A run forks its workers as it starts (:func:`gridcarbon.job.run`, before the
study area is built), from the calling thread, before the writer thread starts, so they hold
no lock a writer thread could hold and share few pages with the run; each warms up
(:func:`warm_up`) beside the run's preparation, on the core the run leaves idle. Where
:func:`~gridcarbon.core.worker.fork_executor` gives no workers, and on a large grid (1 km: each
year's layers are gigabytes to copy), the maps are drawn in the calling thread
(``inline=True``).
"""
from __future__ import annotations

import tempfile
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Self

import numpy as np

from gridcarbon.core.grid import CHINA_ALBERS_CRS, OUTSIDE, Grid
from gridcarbon.core.worker import done_future, fork_executor
from gridcarbon.output.maps import render_map, render_panel

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


#: the made-up grid a worker's warm-up draws (:func:`warm_up`): 6 x 8 cells of 1 km, the top row outside
WARM_UP_SHAPE, WARM_UP_RES_M = (6, 8), 1000.0


def warm_up() -> None:
    """What a map worker does first, before any task: draw a map and a panel of a small made-up
    grid into a temporary folder. Importing matplotlib's drawing modules, loading the fonts and
    drawing a first figure took 0.3-0.5 s of a worker's CPU and doubled its first year's maps;
    warmed up beside the run's preparation, the workers draw the run's first maps at their
    usual pace."""
    rows, cols = WARM_UP_SHAPE
    index = np.zeros(WARM_UP_SHAPE, dtype=np.int32)
    index[0] = OUTSIDE
    grid = Grid(CHINA_ALBERS_CRS, WARM_UP_RES_M, (0.0, 0.0, cols * WARM_UP_RES_M, rows * WARM_UP_RES_M), ("a",), index)
    values = np.linspace(-1.0, 1e4, rows * cols).reshape(WARM_UP_SHAPE)  # t CO2/yr/cell
    with tempfile.TemporaryDirectory(prefix="gridcarbon-warm-up-") as tmp:
        render_map(Path(tmp) / "map.png", values, grid, outlines=None, title="warm-up")
        render_panel(Path(tmp) / "panel.png", {"a": values, "b": -values}, grid, outlines=None, title="warm-up")


def draw_now(draw: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run ``draw(*args, **kwargs)`` here: the default of writers that take a ``submit`` argument
    (a :meth:`MapProcess.submit` draws in the worker instead)."""
    draw(*args, **kwargs)


class MapProcess:
    """Runs drawing calls in :data:`WORKERS` worker processes (or inline); use as a context manager."""

    def __init__(self, *, inline: bool):
        self.pool = None if inline else fork_executor(WORKERS, niceness=NICENESS, warm_up=warm_up)
        if self.pool is not None:
            self.pool.submit(int)  # forks the workers now (all at once under fork), from this thread
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
