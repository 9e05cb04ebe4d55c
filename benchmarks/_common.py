"""Shared pieces of the benchmarks: timing, machine load, synthetic YRD inputs, JSON records.

Not a benchmark itself. The bench_*.py scripts put this folder on ``sys.path`` and import
it as ``_common`` so that they run both as ``python benchmarks/bench_x.py`` and when a test
loads them by file path.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import time
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from pyproj import Transformer

from gridcarbon.core.grid import CHINA_ALBERS, Grid
from gridcarbon.inputs.regions import load_regions

RESULTS_DIR = Path(__file__).resolve().parent / "results"


# ------------------------------------------------------------------ machine and timing
def load_1min() -> float:
    """1-minute load average: the machine has 2 cores and is shared, so quote it with times."""
    return round(os.getloadavg()[0], 2)


def machine() -> dict:
    return {"python": platform.python_version(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "loadavg_1_5_15": [round(x, 2) for x in os.getloadavg()]}


def best_of(fn: Callable[[], object], *, repeat: int = 3, warmup: int = 1,
            slow_s: float | None = None) -> tuple[object, dict]:
    """Call ``fn`` ``warmup`` times untimed, then ``repeat`` times; best wall and CPU seconds.

    The warm-up compiles numba kernels (or loads them from the cache) and fills caches.
    A slow reference stops early: when a warm-up call or a timed run took more than
    ``slow_s`` seconds, no further timed run is made (``runs`` in the record says how many
    were). Returns (last result, record).
    """
    load_start = load_1min()
    result = None
    warm_s = 0.0
    for _ in range(warmup):
        t0 = time.perf_counter()
        result = fn()
        warm_s = time.perf_counter() - t0
    runs = 1 if (slow_s is not None and warmup and warm_s > slow_s) else repeat
    walls, cpus = [], []
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        result = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        if slow_s is not None and walls[-1] > slow_s:
            break
    runs = len(walls)
    return result, {"best_s": sig(min(walls)), "median_s": sig(statistics.median(walls)),
                    "cpu_best_s": sig(min(cpus)), "runs": runs, "warmup": warmup,
                    "warmup_s": sig(warm_s), "load_1min": [load_start, load_1min()]}


def sig(x: float, digits: int = 4) -> float:
    """``x`` rounded to ``digits`` significant figures (small timings keep their digits)."""
    return float(f"{x:.{digits}g}")


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b to 3 significant figures (None when either is missing or zero)."""
    return None if not a or not b else sig(a / b, 3)


def write_record(record: dict, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2, default=_jsonable) + "\n")
    return path


def _jsonable(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj)}")


# ------------------------------------------------------------------ synthetic YRD inputs
@lru_cache(maxsize=4)
def yrd_grid(res: float) -> Grid:
    """The project grid over the four YRD provinces (CHINA_ALBERS) at ``res`` metres."""
    return Grid.from_regions(load_regions("yrd"), res=res)


@lru_cache(maxsize=1)
def yrd_provinces_metric():
    """YRD province polygons in the grid CRS (for point-in-province tests)."""
    return load_regions("yrd").to_crs(CHINA_ALBERS)


@lru_cache(maxsize=1)
def cities() -> pd.DataFrame:
    """Real YRD city centres (gridcarbon/data/yrd_cities.csv) in the grid CRS.

    Columns x, y (m), weight (population share) and sigma_m (cluster spread: the city's
    urban radius).
    """
    with resources.files("gridcarbon.data").joinpath("yrd_cities.csv").open(encoding="utf-8") as f:
        table = pd.read_csv(f)
    x, y = Transformer.from_crs("EPSG:4326", CHINA_ALBERS, always_xy=True).transform(
        table.lon.to_numpy(), table.lat.to_numpy())
    weight = table.population_m.to_numpy(float)
    return pd.DataFrame({"name": table.name, "x": x, "y": y, "weight": weight / weight.sum(),
                         "sigma_m": table.urban_radius_km.to_numpy(float) * 1000.0})


def inner_bbox(margin_m: float, *grids: Grid) -> tuple[float, float, float, float]:
    """Common extent of ``grids`` shrunk by ``margin_m`` on every side."""
    b = np.array([g.bounds for g in grids])
    return (b[:, 0].max() + margin_m, b[:, 1].max() + margin_m,
            b[:, 2].min() - margin_m, b[:, 3].min() - margin_m)


def clustered_xy(rng: np.random.Generator, n: int, bbox, *, spread: float = 1.5) -> np.ndarray:
    """``n`` points clustered around YRD city centres (population-weighted), inside ``bbox``.

    Each point picks a city with probability proportional to its population and lands at a
    normal offset of ``spread`` x the city's urban radius; points outside ``bbox`` are
    redrawn (not clipped: clipping would stack them on the bbox edge, a grid line).
    """
    c = cities()
    cx, cy, w, s = c.x.to_numpy(), c.y.to_numpy(), c.weight.to_numpy(), c.sigma_m.to_numpy() * spread
    out = np.empty((0, 2))
    while len(out) < n:
        m = n - len(out) + 16
        pick = rng.choice(len(c), size=m, p=w)
        xy = np.column_stack([cx[pick] + rng.normal(0, 1, m) * s[pick], cy[pick] + rng.normal(0, 1, m) * s[pick]])
        inside = (xy[:, 0] > bbox[0]) & (xy[:, 0] < bbox[2]) & (xy[:, 1] > bbox[1]) & (xy[:, 1] < bbox[3])
        out = np.concatenate([out, xy[inside]])
    return out[:n]


def emissions(rng: np.random.Generator, n: int) -> np.ndarray:
    """Per-source t CO2/yr: log-normal, median 1e4 t, heavy right tail."""
    return rng.lognormal(np.log(1e4), 1.5, n)
