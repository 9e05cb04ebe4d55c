"""matplotlib figures, with matplotlib's drawing machinery imported at the first one.

Importing matplotlib's figure, axes and artist modules costs 0.3-0.5 s of CPU
(``python -X importtime``). A run draws its figures in its map workers
(:mod:`gridcarbon.output.map_process`), so the run's own process, which writes the rasters and
tables, never needs them: the drawing modules make their figures with :func:`figure` and name
matplotlib's drawing classes only for type checking or inside the functions that draw.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def figure(**kwargs: Any) -> Figure:
    """A new matplotlib ``Figure(**kwargs)`` on the Agg canvas (no pyplot state)."""
    from matplotlib.figure import Figure

    return Figure(**kwargs)
