"""Property tests (hypothesis): gridding conserves mass, corrupt tables fail cleanly,
random valid pathways allocate with conserved totals.

Examples are few (``max_examples`` 5-25) so the file runs in well under a minute.
"""
from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, box

from gridcarbon.core.errors import InputError
from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import (
    AREA_SECTORS,
    EMITTING,
    GRIDDED,
    LINE_SECTORS,
    POINT_SECTORS,
    REMOVALS,
    SECTORS,
)
from gridcarbon.inputs.regions import load_regions
from gridcarbon.inputs.sources import prepare_sources, read_sources
from gridcarbon.inventory.base import grid_frame

REGIONS = load_regions("yrd")
REGION_IDS = list(REGIONS["region"])
UNION = shapely.union_all(REGIONS.geometry.values)
shapely.prepare(UNION)
RTOL = 1e-9
FAST = settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow])


@lru_cache(maxsize=None)
def grid_at(res: float) -> Grid:
    return Grid.from_regions(REGIONS, res=res)


# ------------------------------------------------------------------ strategies
# points inside the YRD without rejection: an area-weighted triangle of the union, then a
# uniform point in it (barycentric), so hypothesis shrinks towards the first triangle's corner
TRIANGLES = shapely.get_parts(shapely.constrained_delaunay_triangles(UNION))
CORNERS = shapely.get_coordinates(TRIANGLES).reshape(-1, 4, 2)[:, :3]
CUMULATIVE = np.cumsum(shapely.area(TRIANGLES)) / shapely.area(TRIANGLES).sum()


def _inside(t: tuple[float, float, float]) -> tuple[float, float]:
    w, a, b = t
    k = min(int(np.searchsorted(CUMULATIVE, w, side="right")), len(CUMULATIVE) - 1)
    if a + b > 1:
        a, b = 1 - a, 1 - b
    p0, p1, p2 = CORNERS[k]
    x, y = p0 + a * (p1 - p0) + b * (p2 - p0)
    return float(x), float(y)


lonlat = st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)).map(_inside)
emission = st.floats(0.0, 1e8, allow_nan=False, allow_infinity=False)
resolution = st.sampled_from([10_000.0, 20_000.0])


def signed(sector: str, value: float) -> float:
    return -value if SECTORS[sector].removal else value


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
    grid = grid_at(res)
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
    grid = grid_at(res)
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
    grid = grid_at(res)
    areas = prepare_sources(frame, "areas", REGIONS, crs=grid.crs, name="areas.gpkg")
    layers, _ = grid_frame(areas, grid, own_region=False)
    got = region_sector_sums(layers, grid).groupby(level=1).sum()
    assert_conserved(got, areas.groupby("sector")["emission_t"].sum())
    for sector in REMOVALS:  # signs survive gridding
        assert (layers[GRIDDED.index(sector)] <= 0).all()


# ------------------------------------------------------------------ corrupt tables fail cleanly
COLUMNS = ["id", "sector", "emission_t", "lon", "lat"]
NUMERIC = ["emission_t", "lon", "lat"]
#: letters that can never turn a number into another number or a NaN spelling (no e, i, n, a, f, l)
JUNK = st.text(alphabet="ghjkmopqrstuvwxyz", min_size=1, max_size=4)


@st.composite
def valid_rows(draw):
    rows = []
    for i in range(draw(st.integers(2, 6))):
        sector = draw(st.sampled_from([s for s in GRIDDED]))
        lon, lat = draw(lonlat)
        rows.append({"id": f"r{i}", "sector": sector, "emission_t": signed(sector, draw(emission)),
                     "lon": lon, "lat": lat})
    return rows


def csv_text(rows: list[dict], columns=COLUMNS) -> str:
    return "".join(",".join(str(r[c]) for c in columns) + "\n" for r in [dict(zip(columns, columns))] + rows)


def read_text(text: str | bytes) -> gpd.GeoDataFrame:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plants.csv"
        path.write_bytes(text.encode() if isinstance(text, str) else text)
        return read_sources(path, "points", REGIONS, crs=grid_at(20_000.0).crs)


def fails_cleanly(text: str | bytes) -> InputError:
    """The read raises an InputError (a different exception type fails the test by propagating)."""
    with pytest.raises(InputError) as info:
        read_text(text)
    assert "\n" not in str(info.value) and "plants.csv" in str(info.value)
    return info.value


@settings(deadline=None, max_examples=10)
@given(rows=valid_rows())
def test_valid_tables_read(rows):
    frame = read_text(csv_text(rows))
    assert list(frame.id) == [r["id"] for r in rows]


@FAST
@given(rows=valid_rows(), column=st.sampled_from(COLUMNS))
def test_dropped_column(rows, column):
    err = fails_cleanly(csv_text(rows, [c for c in COLUMNS if c != column]))
    assert "missing column" in str(err) and column in str(err)


@FAST
@given(rows=valid_rows(), data=st.data())
def test_blank_cell(rows, data):
    k = data.draw(st.integers(0, len(rows) - 1))
    column = data.draw(st.sampled_from(COLUMNS))
    rows[k][column] = ""
    err = fails_cleanly(csv_text(rows))
    assert (f"row {k + 1}" if column == "id" else f"record {rows[k]['id']}") in str(err)


@FAST
@given(rows=valid_rows(), data=st.data())
def test_text_in_a_numeric_column(rows, data):
    k = data.draw(st.integers(0, len(rows) - 1))
    column = data.draw(st.sampled_from(NUMERIC))
    value = str(rows[k][column])
    at = data.draw(st.integers(0, len(value)))
    rows[k][column] = value[:at] + data.draw(JUNK) + value[at:]
    err = fails_cleanly(csv_text(rows))
    assert "not numeric" in str(err) and column in str(err) and f"record {rows[k]['id']}" in str(err)


@FAST
@given(rows=valid_rows(), data=st.data())
def test_duplicated_row(rows, data):
    k = data.draw(st.integers(0, len(rows) - 1))
    copy = dict(rows[k])
    rows.insert(data.draw(st.integers(0, len(rows))), copy)
    err = fails_cleanly(csv_text(rows))
    assert "duplicate id" in str(err) and f"record {copy['id']}" in str(err)


@FAST
@given(rows=valid_rows(), data=st.data())
def test_truncated_file(rows, data):
    """A file cut at any byte either fails with an InputError or reads as a prefix of the records."""
    text = csv_text(rows).encode()
    cut = data.draw(st.integers(0, len(text) - 1))
    try:
        frame = read_text(text[:cut])
    except InputError as err:
        assert "\n" not in str(err)
        return
    ids = [r["id"] for r in rows]
    assert 1 <= len(frame) <= len(rows) and list(frame.id) == ids[: len(frame)]
    assert cut > len(csv_text(rows[: len(frame) - 1]).encode())  # no record appears from nowhere
    np.testing.assert_array_equal(frame.emission_t[:-1], [r["emission_t"] for r in rows[: len(frame) - 1]])


@FAST
@given(rows=valid_rows(), data=st.data())
def test_damaged_byte(rows, data):
    """Any single byte replaced: an InputError or a table, never another exception type."""
    text = bytearray(csv_text(rows).encode())
    at = data.draw(st.integers(0, len(text) - 1))
    text[at] = data.draw(st.sampled_from(list(range(256))))
    try:
        frame = read_text(bytes(text))
    except InputError as err:
        assert "\n" not in str(err)
        return
    assert len(frame) <= len(rows) + 1 and frame.emission_t.notna().all()


# ------------------------------------------------------------------ pathways and allocation
@pytest.fixture(scope="module")
def allocation_inputs():
    from allocation_fixtures import (
        generous_capacities,
        regional_baseline_from_calibration,
        yrd_drivers,
    )

    return regional_baseline_from_calibration(), yrd_drivers(), generous_capacities()


@st.composite
def milestone_pathways(draw):
    """Peak, a 2035 milestone, two rate periods and a net-zero year: always feasible in shape."""
    peak_year = draw(st.integers(2025, 2030))
    return {"unit": "Mt", "series": None,
            "peak": {"year": peak_year, "level": draw(st.floats(2390.0, 2600.0))},
            "milestones": [{"year": 2035, "change_from_peak": draw(st.floats(-0.3, 0.0))}],
            "rates": [{"start": 2036, "end": 2050, "annual": draw(st.floats(-0.10, -0.02))},
                      {"start": 2051, "end": 2060, "annual": draw(st.floats(-0.08, 0.0))}],
            "net_zero": {"year": 2060, "net": draw(st.floats(0.0, 100.0))},
            "removals_start": draw(st.integers(2025, peak_year + 5))}


@st.composite
def principle_weights(draw):
    raw = draw(st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4).filter(lambda w: sum(w) > 0.1))
    total = sum(raw)
    return dict(zip(["grandfather", "per_capita", "ability_to_pay", "efficiency"], [w / total for w in raw]))


@settings(deadline=None, max_examples=5, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pathway=milestone_pathways(), principles=principle_weights())
def test_random_pathway_allocation_conserves_totals(pathway, principles, allocation_inputs):
    from gridcarbon.allocation.lp import allocate
    from gridcarbon.config.scenario import Scenario, deep_merge, load_scenario

    baseline, drivers, capacities = allocation_inputs
    sc = Scenario.model_validate(deep_merge(load_scenario("yrd-enhanced").model_dump(),
                                            {"pathway": pathway, "principles": principles}))
    result = allocate(sc, baseline, drivers, capacities)
    path = result.pathway[result.pathway["kind"] == "projection"]
    # the pathway holds its anchors
    assert path.at[2024, "gross_t"] == pytest.approx(baseline.loc[baseline.sector.isin(EMITTING), "value_t"].sum())
    assert path.at[pathway["peak"]["year"], "gross_t"] == pytest.approx(pathway["peak"]["level"] * 1e6, rel=1e-12)
    assert path.at[2035, "gross_t"] == pytest.approx(
        pathway["peak"]["level"] * 1e6 * (1 + pathway["milestones"][0]["change_from_peak"]), rel=1e-12)
    assert path.at[2060, "net_t"] == pytest.approx(pathway["net_zero"]["net"] * 1e6, rel=1e-9, abs=1.0)
    # the allocation sums to the pathway every year, with the right signs
    totals = result.totals
    yearly = totals.groupby([totals.sector.isin(EMITTING), "year"])["allocated_t"].sum()
    np.testing.assert_allclose(yearly[True].loc[path.index], path.gross_t, rtol=1e-6)
    np.testing.assert_allclose(-yearly[False].loc[path.index], path.removals_t, rtol=1e-6, atol=1.0)
    assert (totals.loc[totals.sector.isin(EMITTING), "allocated_t"] >= -1e-6).all()
    assert (totals.loc[totals.sector.isin(REMOVALS), "allocated_t"] <= 1e-6).all()
    # the base year is the baseline, region by region and sector by sector
    base = totals[totals.year == 2024].merge(baseline, on=["region", "sector"], how="left").fillna({"value_t": 0.0})
    np.testing.assert_allclose(base.allocated_t, base.value_t, rtol=1e-6, atol=1.0)
    assert result.residual_rel <= 1e-6
