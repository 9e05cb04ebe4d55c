"""How a run reports progress, and the two ways the command line shows it.

A run reports through the standard ``gridcarbon`` logger, one INFO record per stage
(``inventory``, ``suitability models``, ``allocation (iteration k)``, ``evolution and export``,
``writing``; ``record.stage`` is True) and one per simulated year (``record.step`` and
``record.steps``: the year's position, 1-based, and the number of years); other records are
messages (a target met or missed). Every record carries the scenario name as ``record.scenario``. Code using gridcarbon as a library sees these
records like any other log; the command line shows them with :func:`show_progress`:

- on a terminal, a live display (rich): finished stages with their duration, a bar of the
  simulated years with the time left, then the writing stage;
- otherwise plain lines, ``[scenario] stage`` and ``[scenario] year 2031 (7/37, 12 s left)``,
  one per record, for logs and pipes.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

#: the logger a run reports through (every ``gridcarbon.*`` module logs below it)
LOGGER = "gridcarbon"


def stage_extra(scenario: str) -> dict[str, object]:
    """The ``extra`` of a stage's record: scenario name and the stage flag."""
    return {"scenario": scenario, "stage": True}


def year_extra(scenario: str, step: int, steps: int) -> dict[str, object]:
    """The ``extra`` of a year's record: scenario name, position (1-based) and number of years."""
    return {"scenario": scenario, "step": step, "steps": steps}


class _Lines(logging.Handler):
    """Records as plain lines on ``console``; a year's line says how long the years have left."""

    def __init__(self, console: Console):
        super().__init__()
        self.console, self.started = console, {}

    def emit(self, record: logging.LogRecord) -> None:
        scenario = getattr(record, "scenario", None)
        text = record.getMessage()
        step, steps = getattr(record, "step", None), getattr(record, "steps", None)
        if step is not None:
            start = self.started.setdefault(scenario, time.monotonic())
            left = (time.monotonic() - start) / max(step - 1, 1) * (steps - step) if step > 1 else None
            text += f" ({step}/{steps}" + (f", {left:.0f} s left)" if left is not None else ")")
        self.console.print(f"[{scenario}] {text}" if scenario else text, markup=False, highlight=False)


class _Live(logging.Handler):
    """Records as a live rich display: a line per stage with its duration, a bar of the years;
    messages are printed above it."""

    def __init__(self, progress: Progress):
        super().__init__()
        self.progress = progress
        self.stage: TaskID | None = None
        self.years: dict[str, TaskID] = {}

    def emit(self, record: logging.LogRecord) -> None:
        scenario = getattr(record, "scenario", None) or ""
        if getattr(record, "stage", False):
            self._finish_stage()
            self.stage = self.progress.add_task(record.getMessage(), total=None, scenario=scenario, years=False)
            return
        if getattr(record, "step", None) is None:
            self.progress.console.print(f"[{scenario}] {record.getMessage()}", markup=False, highlight=False)
            return
        if scenario not in self.years:
            self._finish_stage()
            self.years[scenario] = self.progress.add_task("years", total=record.steps, scenario=scenario,
                                                          years=True)
        self.progress.update(self.years[scenario], completed=record.step,
                             description=f"year {record.getMessage().removeprefix('year ')}")

    def _finish_stage(self) -> None:
        if self.stage is not None:
            self.progress.update(self.stage, total=1, completed=1)
            self.stage = None

    def close(self) -> None:
        self._finish_stage()
        super().close()


class _YearsOnly(ProgressColumn):
    """``column`` on the years' bar, blank on a stage's line."""

    def __init__(self, column: ProgressColumn):
        super().__init__()
        self.column = column

    def render(self, task: Task) -> RenderableType:
        return self.column.render(task) if task.fields.get("years") else Text("")


def _live_display(console: Console) -> Progress:
    """One line per stage (spinner, then done and its duration), one bar of the years with the time left."""
    return Progress(SpinnerColumn(finished_text="[green]done"),
                    TextColumn("[{task.fields[scenario]}]", markup=False), TextColumn("{task.description}"),
                    TimeElapsedColumn(), _YearsOnly(BarColumn()), _YearsOnly(MofNCompleteColumn()),
                    _YearsOnly(TextColumn("left")), _YearsOnly(TimeRemainingColumn()),
                    console=console, transient=False)


@contextmanager
def show_progress(console: Console, *, quiet: bool = False) -> Iterator[None]:
    """Show the ``gridcarbon`` logger's records on ``console`` while the block runs: live on a
    terminal, plain lines otherwise, nothing when ``quiet``."""
    logger = logging.getLogger(LOGGER)
    live = None
    if quiet:  # a handler that drops everything, so Python's last-resort handler prints no warnings
        handler: logging.Handler = logging.NullHandler()
    elif console.is_terminal and not console.is_dumb_terminal:
        live = _live_display(console)
        handler = _Live(live)
    else:
        handler = _Lines(console)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    if live is not None:
        live.start()
    try:
        yield
        handler.close()  # the last stage is done (after a failure it stays unfinished)
    finally:
        if live is not None:
            live.stop()
        logger.removeHandler(handler)
        logger.setLevel(level)
