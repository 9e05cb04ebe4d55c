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


def note_warm_up(folder) -> None:
    """A stand-in for ``map_process.warm_up``: notes the worker's pid in ``folder``."""
    import os

    (folder / str(os.getpid())).touch()


def warmed_up(folder) -> bool:
    """Whether this worker's warm-up ran before this task (module level: sent to the worker by name)."""
    import os

    return (folder / str(os.getpid())).exists()


def test_each_worker_warms_up_before_its_first_task(tmp_path, monkeypatch):
    from functools import partial

    from gridcarbon.output import map_process

    monkeypatch.setattr(map_process, "warm_up", partial(note_warm_up, tmp_path))
    with MapProcess(inline=False) as drawing:
        assert all(job.result() for job in [drawing.call(warmed_up, tmp_path) for _ in range(6)])
    assert len(list(tmp_path.iterdir())) == map_process.WORKERS  # once per worker, not per task


def test_the_warm_up_draws_a_map_and_a_panel_and_leaves_nothing_behind(tmp_path, monkeypatch):
    """``warm_up`` draws through the run's own drawing functions (what loads matplotlib's modules,
    fonts and caches) into a temporary folder, which it removes."""
    import tempfile

    from gridcarbon.output import map_process

    drawn = []
    for name in ("render_map", "render_panel"):
        real = getattr(map_process, name)
        monkeypatch.setattr(map_process, name, lambda path, *a, real=real, **k: drawn.append(real(path, *a, **k)))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    map_process.warm_up()
    assert [p.name for p in drawn] == ["map.png", "panel.png"]
    assert not any(p.exists() for p in drawn) and not list(tmp_path.iterdir())


def failing_warm_up() -> None:
    raise OSError("no writable temporary folder")


def test_a_failed_warm_up_leaves_the_workers_drawing(grid, values, tmp_path, monkeypatch):
    """A worker whose warm-up fails still draws (its tasks report their own errors): an error in a
    pool's initializer would break the pool and every map with it."""
    from gridcarbon.output import map_process

    monkeypatch.setattr(map_process, "warm_up", failing_warm_up)
    with MapProcess(inline=False) as drawing:
        drawing.submit(render_map, tmp_path / "map.png", values, grid, outlines=None, title="x")
        drawing.wait()
    assert (tmp_path / "map.png").read_bytes().startswith(b"\x89PNG")
