"""Engine options: tunables of memory and speed that never change a result's meaning.

In the spirit of ``xarray.set_options`` / ``rioxarray.set_options``: a validated table of
values read at run time, set for a block with a context manager or for the session::

    import gridcarbon
    with gridcarbon.set_options(in_memory_bytes=0):   # stream even a small run to disk
        gridcarbon.run("yrd-enhanced", out="output")
    gridcarbon.set_options(max_display_cells=2000)     # from now on

Model rules and their constants live with the rules (and in the scenario); only how the
engine stores, chunks and draws things is an option.
"""
from __future__ import annotations

from typing import Any, Callable

#: current values (read with :func:`get_option`, changed with :class:`set_options`)
OPTIONS: dict[str, Any] = {
    # largest (sector, year, y, x) float64 emission cube a run keeps in memory (bytes); bigger
    # runs stream every year to ``cube.nc`` and read it back lazily (dask)
    "in_memory_bytes": 2 * 2**30,
    # grids with more cells than this (China at 1 km) store static layers in float32, write
    # exported years before evolving the next, and keep no full-grid caches
    "large_grid_cells": 10_000_000,
    # largest layer side (cells) a PNG map draws as is; larger layers are drawn as block sums
    "max_display_cells": 1000,
    # cells per suitability prediction chunk (a 16-feature float32 chunk is ~64 MB)
    "predict_chunk_cells": 1_000_000,
    # largest NetCDF chunk edge of the emission cube (cells): 1 MiB float32 chunks, HDF5's default
    # chunk cache; a 1 km national layer is 110 chunks, 66 of them written (the rest all outside)
    "cube_chunk_cells": 512,
    # most bytes of evolved years queued for the run writer's thread while the next years evolve
    # (China at 10 km: 24 MB a year); a larger year (1 km: 1.1 GB) waits until the queue is empty
    "writer_queue_bytes": 256 * 2**20,
}


def _non_negative_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _positive_int(value: Any) -> bool:
    return _non_negative_int(value) and value > 0


VALIDATORS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "in_memory_bytes": (_non_negative_int, "an integer >= 0 (bytes)"),
    "large_grid_cells": (_non_negative_int, "an integer >= 0 (cells)"),
    "max_display_cells": (_positive_int, "an integer > 0 (cells)"),
    "predict_chunk_cells": (_positive_int, "an integer > 0 (cells)"),
    "cube_chunk_cells": (_positive_int, "an integer > 0 (cells)"),
    "writer_queue_bytes": (_non_negative_int, "an integer >= 0 (bytes)"),
}


def get_option(name: str) -> Any:
    """The current value of engine option ``name`` (see :data:`OPTIONS`)."""
    return OPTIONS[name]


class set_options:  # noqa: N801 - used like a function, as in xarray and rioxarray
    """Set engine options for a ``with`` block (restored on exit) or for the session.

    Unknown names and invalid values raise ``ValueError`` naming the option and what it takes.
    """

    def __init__(self, **changes: Any):
        for name, value in changes.items():
            if name not in OPTIONS:
                raise ValueError(f"unknown gridcarbon option {name!r}; options: {', '.join(sorted(OPTIONS))}")
            valid, what = VALIDATORS[name]
            if not valid(value):
                raise ValueError(f"gridcarbon option {name} must be {what}, got {value!r}")
        self._previous = {name: OPTIONS[name] for name in changes}
        OPTIONS.update(changes)

    def __enter__(self) -> "set_options":
        return self

    def __exit__(self, *exc: object) -> None:
        OPTIONS.update(self._previous)
