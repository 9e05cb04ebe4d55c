"""Work beside the run in a forked process (gridcarbon.core.worker)."""
from __future__ import annotations

import os
from concurrent.futures import Future

import pytest

from gridcarbon.core import worker


def pid_and_square(x: int) -> tuple[int, int]:
    return os.getpid(), x * x


def fail(message: str) -> None:
    raise ValueError(message)


def test_background_forks_once_at_the_first_submit():
    background = worker.Background(inline=False)
    assert background.pool is None  # nothing forked before there is work
    first, second = background.submit(pid_and_square, 3), background.submit(pid_and_square, 4)
    background.release()
    assert isinstance(first, Future)
    assert first.result()[1] == 9 and second.result()[1] == 16
    assert first.result()[0] == second.result()[0] != os.getpid()  # one worker process, not this one


def test_inline_background_runs_here_and_errors_surface_at_result():
    background = worker.Background(inline=True)
    assert background.submit(pid_and_square, 5).result() == (os.getpid(), 25)
    failed = background.submit(fail, "boom")
    with pytest.raises(ValueError, match="boom"):
        failed.result()
    assert background.pool is None


def test_no_fork_where_it_is_not_safe(monkeypatch):
    monkeypatch.setattr(worker.sys, "platform", "darwin")
    assert worker.fork_executor(2) is None
    background = worker.Background(inline=False)
    assert background.submit(pid_and_square, 2).result() == (os.getpid(), 4) and background.inline
