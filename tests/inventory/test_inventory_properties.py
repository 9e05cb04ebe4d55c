"""Property tests (hypothesis): validated point, line and area sources grid to their region
and sector totals (gridcarbon.inventory.base.grid_frame), removals keep their sign.

Examples are few (``max_examples`` 15-25) so the file runs in well under a minute.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, box

from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import (
    AREA_SECTORS,
    GRIDDED,
    LINE_SECTORS,
    POINT_SECTORS,
    REMOVALS,
)
from gridcarbon.inputs.regions import load_regions
from gridcarbon.inputs.sources import prepare_sources, read_sources
from gridcarbon.inventory.base import grid_frame
from gridcarbon.testing import signed, yrd_grid, yrd_lonlat

REGIONS = load_regions("yrd")
REGION_IDS = list(REGIONS["region"])
RTOL = 1e-9
FAST = settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------ strategies
# points inside the YRD without rejection (gridcarbon.testing.yrd_lonlat)
lonlat = st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)).map(lambda t: yrd_lonlat(*t))
emission = st.floats(0.0, 1e8, allow_nan=False, allow_infinity=False)
resolution = st.sampled_from([10_000.0, 20_000.0])


@st.composite
def point_rows(draw, min_size=1, max_size=30):
    n = draw(st.integers(min_size, max_size))
    rows = []
    for i in range(n):
        lon, lat = draw(lonlat)
        rows.append({"id": f"s{i}", "sector": draw(st.sampled_from(POINT_SECTORS)), "emission_t": draw(emission),
                     "lon": lon, "lat": lat})
    return rows


@st.composite
def line_frames(draw):
    n = draw(st.integers(1, 12))
    geoms = []
    for _ in range(n):
        pts = draw(st.lists(lonlat, min_size=2, max_size=5))
        assume(LineString(pts).length > 1e-6)
        geoms.append(LineString(pts))
    return gpd.GeoDataFrame({"id": [f"l{i}" for i in range(n)],
                             "sector": draw(st.lists(st.sampled_from(LINE_SECTORS), min_size=n, max_size=n)),
                             "emission_t": draw(st.lists(emission, min_size=n, max_size=n)),
                             "region": draw(st.lists(st.sampled_from(REGION_IDS), min_size=n, max_size=n))},
                            geometry=geoms, crs="EPSG:4326")


@st.composite
def area_frames(draw):
    n = draw(st.integers(1, 10))
    sectors = draw(st.lists(st.sampled_from(AREA_SECTORS + ["forest_sink"]), min_size=n, max_size=n))
    geoms = []
    for _ in range(n):
        (lon, lat), half = draw(lonlat), draw(st.floats(0.005, 0.4))
        geoms.append(box(lon - half, lat - half, lon + half, lat + half))
    values = [signed(s, v) for s, v in zip(sectors, draw(st.lists(emission, min_size=n, max_size=n)))]
    return gpd.GeoDataFrame({"id": [f"a{i}" for i in range(n)], "sector": sectors, "emission_t": values},
                            geometry=geoms, crs="EPSG:4326")


def write_csv(rows: list[dict], folder: Path, name: str = "plants.csv") -> Path:
    path = folder / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


# ------------------------------------------------------------------ mass conservation
def region_sector_sums(layers: np.ndarray, grid: Grid) -> pd.Series:
    sums = grid.region_sums(layers)
    return pd.Series({(r, s): sums[i, j] for i, s in enumerate(GRIDDED) for j, r in enumerate(grid.regions)})


def assert_conserved(got: pd.Series, expected: pd.Series) -> None:
    """Every cell of ``got`` equals ``expected`` (missing = 0) within RTOL of the largest magnitude."""
    scale = max(expected.abs().max() if len(expected) else 0.0, 1.0)
    expected = expected.reindex(got.index, fill_value=0.0)
    worst = (got - expected).abs()
    assert (worst <= RTOL * np.maximum(expected.abs(), scale * 1e-3)).all(), worst[worst > 0].sort_values().tail()


@FAST
@given(rows=point_rows(), res=resolution)
def test_points_grid_to_their_region_sums(rows, res):
    grid = yrd_grid(res)
    with tempfile.TemporaryDirectory() as folder:
        frame = read_sources(write_csv(rows, Path(folder)), "points", REGIONS, crs=grid.crs)
    assert list(frame.id) == [r["id"] for r in rows]
    np.testing.assert_allclose(frame.emission_t, [r["emission_t"] for r in rows], rtol=1e-15)
    layers, cov = grid_frame(frame, grid, own_region=True)
    assert (layers[:, ~grid.inside] == 0).all()  # nothing outside the regions
    got = region_sector_sums(layers, grid)
    assert_conserved(got, frame.groupby(["region", "sector"])["emission_t"].sum())
    # each point sits in a cell of its own region
    assert (grid.region_index.ravel()[cov.cell] == pd.Series(frame.region).map(REGION_IDS.index).values).all()


@FAST
@given(frame=line_frames(), res=resolution, own_region=st.booleans())
def test_lines_conserve_sector_and_region_totals(frame, res, own_region):
    grid = yrd_grid(res)
    lines = prepare_sources(frame, "lines", REGIONS, crs=grid.crs, name="roads.gpkg")
    if not own_region:
        lines = lines.drop(columns="region")
    layers, cov = grid_frame(lines, grid, own_region=own_region)
    assert (layers[:, ~grid.inside] == 0).all()
    np.testing.assert_allclose(np.bincount(cov.src, weights=cov.share, minlength=len(lines)), 1.0, rtol=1e-12)
    got = region_sector_sums(layers, grid)
    if own_region:  # the line's own region gets all of it
        assert_conserved(got, lines.groupby(["region", "sector"])["emission_t"].sum())
    else:  # split by the cells crossed: sector totals over all regions are kept
        assert_conserved(got.groupby(level=1).sum(), lines.groupby("sector")["emission_t"].sum())


@settings(deadline=None, max_examples=15)
@given(frame=area_frames(), res=resolution)
def test_areas_and_sinks_conserve_sector_totals(frame, res):
    grid = yrd_grid(res)
    areas = prepare_sources(frame, "areas", REGIONS, crs=grid.crs, name="areas.gpkg")
    layers, _ = grid_frame(areas, grid, own_region=False)
    got = region_sector_sums(layers, grid).groupby(level=1).sum()
    assert_conserved(got, areas.groupby("sector")["emission_t"].sum())
    for sector in REMOVALS:  # signs survive gridding
        assert (layers[GRIDDED.index(sector)] <= 0).all()
