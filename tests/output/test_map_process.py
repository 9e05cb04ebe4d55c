"""Maps drawn in the worker process (gridcarbon.output.map_process) are the maps drawn inline."""
from __future__ import annotations

import pytest

import gridcarbon
from gridcarbon.core.errors import OutputError
from gridcarbon.output.map_process import MapProcess
from gridcarbon.output.maps import outline_path, render_map
from gridcarbon.testing import lonlat_regions


def draw_both(grid, values, tmp_path, name: str) -> tuple[bytes, bytes]:
    for inline in (True, False):
        with MapProcess(inline=inline) as drawing:
            drawing.submit(render_map, tmp_path / f"{name}_{inline}.png", values, grid,
                           outlines=outline_path(lonlat_regions(), grid), title="Power 2030")
            drawing.wait()
    return (tmp_path / f"{name}_True.png").read_bytes(), (tmp_path / f"{name}_False.png").read_bytes()


def test_worker_maps_are_the_inline_maps_under_the_callers_options(grid, values, tmp_path):
    inline, worker = draw_both(grid, values, tmp_path, "default")
    assert worker == inline
    with gridcarbon.set_options(max_display_cells=12):  # the worker is forked with the caller's options
        inline_small, worker_small = draw_both(grid, values, tmp_path, "reduced")
    assert worker_small == inline_small and worker_small != worker


def test_a_drawing_error_in_the_worker_surfaces_at_wait(grid, values, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with MapProcess(inline=False) as drawing:
        drawing.submit(render_map, blocker / "map.png", values, grid, outlines=None, title="x")
        with pytest.raises(OutputError, match="cannot write"):
            drawing.wait()


def test_the_workers_draw_below_the_runs_priority():
    """The map workers run :data:`NICENESS` below the run (``os.nice``): their figures are wanted
    at the end, the run's own threads are its critical path."""
    import os

    from gridcarbon.output.map_process import NICENESS

    assert NICENESS > 0
    with MapProcess(inline=False) as drawing:
        assert drawing.call(os.nice, 0).result() == min(os.nice(0) + NICENESS, 19)
