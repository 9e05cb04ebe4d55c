"""Work in forked processes beside a run: the maps, and the suitability cross-validation.

matplotlib and scikit-learn's Python hold the interpreter lock, so a thread cannot overlap
them with the evolution; a worker process can, on the second core of a two-core machine.
Workers are forked, not spawned: a spawned process imports the caller's ``__main__``, which
re-runs a user's script that calls :func:`gridcarbon.run` without an ``if __name__ ==
"__main__"`` guard; a forked one also inherits the engine options
(:mod:`gridcarbon.core.options`). Where fork is not the safe default (anything but Linux) and
in a daemonic process (a dask or multiprocessing worker, which may not have children),
:func:`fork_executor` gives None and callers run the work here. A worker ends with the run that
forked it, even when the run is killed (SIGKILL leaves it no chance to shut its workers down).
"""
from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any


def fork_executor(workers: int, *, niceness: int = 0,
                  warm_up: Callable[[], object] | None = None) -> ProcessPoolExecutor | None:
    """An executor of ``workers`` forked processes (forked at its first submit), ``niceness``
    below the caller in the scheduler's priority (``os.nice``), each calling ``warm_up`` first
    (before any task), or None where forking is not safe."""
    if sys.platform != "linux" or multiprocessing.current_process().daemon:
        return None
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_start_worker, initargs=(os.getpid(), niceness, warm_up))


#: ``prctl`` option: the signal a process gets when the thread that forked it ends (linux/prctl.h)
PR_SET_PDEATHSIG = 1


def _start_worker(parent: int, niceness: int, warm_up: Callable[[], object] | None) -> None:
    """A worker's initializer: SIGTERM it when its parent ends (end it now if the parent already
    has), lower its priority by ``niceness``, then call ``warm_up``. A warm-up that fails (say, no
    writable temporary folder) leaves the worker cold, not broken: an initializer's error would
    break the pool, and every task with it, with no word of the cause; a task meeting the same
    trouble reports it."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:
        os._exit(0)
    if niceness:
        os.nice(niceness)
    if warm_up is not None:
        try:
            warm_up()
        except Exception:  # noqa: BLE001 - only a head start is lost (see above)
            pass


def done_future(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
    """``call(*args, **kwargs)`` run here, as a finished Future (its result or its error)."""
    future: Future = Future()
    try:
        future.set_result(call(*args, **kwargs))
    except Exception as exc:  # noqa: BLE001 - handed to whoever asks the future
        future.set_exception(exc)
    return future


class Background:
    """Calls run in one worker process forked at the first :meth:`submit` (no process when
    nothing is submitted), or here when ``inline`` or forking is not safe. :meth:`submit` gives
    a Future either way; :meth:`release` lets the worker exit once its work is done."""

    def __init__(self, *, inline: bool):
        self.inline = inline
        self.pool: ProcessPoolExecutor | None = None

    def submit(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        """``call(*args, **kwargs)`` (a module-level function, its arguments picklable)."""
        if self.pool is None and not self.inline:
            self.pool = fork_executor(1)
            self.inline = self.pool is None
        if self.pool is None:
            return done_future(call, *args, **kwargs)
        return self.pool.submit(call, *args, **kwargs)

    def release(self) -> None:
        """Return at once; the worker finishes what was submitted, then exits."""
        if self.pool is not None:
            self.pool.shutdown(wait=False)
