"""Exactness and conservation of the gridding kernels against shapely."""
import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon, box

from gridcarbon.core.gridding import (
    coverage,
    distribute,
    line_coverage,
    point_coverage,
    polygon_coverage,
)
from gridcarbon.testing import regular_grid

RES = 1000.0


@pytest.fixture(scope="module")
def grid():
    """Two regions side by side in a metric CRS, 20 x 12 cells of 1 km."""
    return regular_grid({"west": (0, 0, 10_000, 12_000), "east": (10_000, 0, 20_000, 12_000)}, res=RES)


@pytest.fixture(scope="module")
def single():
    """One 20 x 12 km region: every piece stays where the geometry puts it."""
    return regular_grid({"all": (0, 0, 20_000, 12_000)}, res=RES)


def _cells_shapely(geom, grid, measure):
    """Reference: measure of geom inside every cell, computed by shapely."""
    ny, nx = grid.shape
    out = np.zeros(ny * nx)
    for r in range(ny):
        for c in range(nx):
            cell = box(grid.bounds[0] + c * RES, grid.bounds[3] - (r + 1) * RES,
                       grid.bounds[0] + (c + 1) * RES, grid.bounds[3] - r * RES)
            out[r * nx + c] = measure(geom.intersection(cell))
    return out


coord = st.floats(min_value=200, max_value=19_800, allow_nan=False)
ycoord = st.floats(min_value=200, max_value=11_800, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(coord, ycoord), min_size=2, max_size=8))
def test_line_length_share_is_exact(single, pts):
    line = LineString(pts)
    if line.length < 1 or not line.is_simple:  # shapely's overlay merges retraced parts
        return
    grid = single
    cov = line_coverage(gpd.GeoSeries([line]), grid, np.array([0]))
    got = np.bincount(cov.cell, weights=cov.share * line.length, minlength=grid.shape[0] * grid.shape[1])
    ref = _cells_shapely(line, grid, lambda g: g.length)
    if abs(ref.sum() - line.length) > 1e-6 * line.length:
        return  # the line runs along a cell edge: shapely counts it in both cells, any one is right
    np.testing.assert_allclose(got, ref, atol=1e-6 * line.length)
    assert got.sum() == pytest.approx(line.length, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(coord, ycoord), min_size=3, max_size=9))
def test_polygon_area_fraction_is_exact(single, pts):
    poly = shapely.make_valid(Polygon(pts))
    polys = [g for g in shapely.get_parts(poly) if g.geom_type == "Polygon" and g.area > 1]
    if not polys:
        return
    geom = shapely.MultiPolygon(polys) if len(polys) > 1 else polys[0]
    grid = single
    cov = polygon_coverage(gpd.GeoSeries([geom]), grid, np.array([0]))
    got = np.bincount(cov.cell, weights=cov.share * geom.area, minlength=grid.shape[0] * grid.shape[1])
    np.testing.assert_allclose(got, _cells_shapely(geom, grid, lambda g: g.area), atol=1e-6 * geom.area)
    assert got.sum() == pytest.approx(geom.area, rel=1e-9)


def test_polygon_with_hole_subtracts_hole(single):
    grid = single
    ring = box(1000, 1000, 9000, 9000)
    holed = Polygon(ring.exterior.coords, [box(3000, 3000, 6000, 6000).exterior.coords])
    cov = polygon_coverage(gpd.GeoSeries([holed]), grid, np.array([0]))
    got = np.bincount(cov.cell, weights=cov.share * holed.area, minlength=grid.shape[0] * grid.shape[1])
    ref = _cells_shapely(holed, grid, lambda g: g.area)
    np.testing.assert_allclose(got, ref, atol=1e-6)
    # a cell fully inside the hole gets nothing
    r, c = grid.cell_of(4500, 4500)
    assert got[r * grid.shape[1] + c] == 0


def test_points_conserve_per_region_and_rehome_foreign_pieces(grid):
    rng = np.random.default_rng(1)
    xy = rng.uniform([0, 0], [20_000, 12_000], size=(500, 2))
    pts = gpd.GeoSeries(shapely.points(xy))
    truth = (xy[:, 0] >= 10_000).astype(int)
    # claim a few points belong to the other region: their mass must stay in the claimed region
    claimed = truth.copy()
    claimed[:25] = 1 - claimed[:25]
    values = rng.lognormal(8, 2, 500)
    cov = point_coverage(pts, grid, claimed)
    layers = cov.spread(values, grid)
    sums = grid.region_sums(layers)[0]
    for r in (0, 1):
        assert sums[r] == pytest.approx(values[claimed == r].sum(), rel=1e-9)
    assert cov.rehomed_share > 0


def test_distribute_normalises_proxy_per_region(grid):
    proxy = np.zeros(grid.shape)
    a, b = grid.cell_of(3_500, 9_500), grid.cell_of(4_500, 7_500)  # both in the west region
    proxy[a] = 5.0
    proxy[b] = 15.0  # the east region has no proxy -> even spread
    out = distribute(np.array([[100.0, 50.0]]), proxy, grid)[0]
    assert out[a] == pytest.approx(25.0) and out[b] == pytest.approx(75.0)
    east = grid.region_index == 1
    np.testing.assert_allclose(out[east], 50.0 / east.sum())


def test_distribute_into_a_compact_out_writes_the_inside_values_bit_for_bit():
    """A compact ``out`` (n_layers, n_inside) holds the values of the full layers at the inside
    cells, the very bits (float32 as a large grid stores them): a region spread by its proxy, one
    by the fallback, one evenly; cells outside, between runs of one row and at both ends."""
    from gridcarbon.core.grid import Grid

    full = regular_grid({"west": (0, 0, 10_000, 12_000), "east": (10_000, 0, 20_000, 12_000),
                         "south": (0, -4_000, 20_000, 0)}, res=RES)
    index = full.region_index.copy()
    index[:3, :4] = index[-1, -5:] = -1  # outside: the first cells and the last
    index[5, 8:13] = -1  # a gap inside a row
    grid = Grid(full.crs, full.res, full.bounds, full.regions, index)
    rng = np.random.default_rng(4)
    proxy = rng.lognormal(sigma=3.0, size=(2, *grid.shape))  # sums that depend on their order
    proxy[1][index == 1] = 0.0  # the east follows the fallback, the south spreads evenly
    proxy[1][index == 2] = 0.0
    fallback = np.where(grid.region_index == 2, 0.0, rng.uniform(size=grid.shape))
    totals = np.array([[1e6, 3e5, 7.0], [2e5, 9e4, 11.0]])
    want = distribute(totals, proxy, grid, fallback=fallback, out=np.empty((2, *grid.shape), np.float32))
    compact = np.full((2, grid.cell_index.size), np.nan, np.float32)
    got = distribute(totals, proxy, grid, fallback=fallback, out=compact)
    assert got is compact and got.tobytes() == grid.cell_index.compact(want).tobytes()
    assert grid.compact_region_sums(got).tobytes() == grid.region_sums(want).tobytes()
    # a compact proxy (what the year loop's patterns are), one layer at a time, with the full
    # fallback: the same bits into a full out and into a compact one
    for k in range(2):
        pattern = grid.cell_index.compact(proxy[k])
        into_full = distribute(totals[k], pattern, grid, fallback=fallback, out=np.full((1, *grid.shape), np.nan))
        assert into_full.astype(np.float32).tobytes() == want[k].tobytes()
        into_compact = distribute(totals[k], pattern, grid, fallback=fallback,
                                  out=np.full((1, grid.cell_index.size), np.nan, np.float32))
        assert into_compact.tobytes() == compact[k].tobytes()


def test_distribute_compiles_its_kernel_once_whatever_the_totals(grid):
    """A read-only totals array (a pandas column's values) is another numba type: distribute
    copies totals, so a fresh install compiles spread_by_proxy once, not twice."""
    from gridcarbon.core import regionkernels

    proxy = np.ones(grid.shape)
    writable = np.array([[100.0, 50.0]])
    read_only = writable.copy()
    read_only.setflags(write=False)
    first = distribute(writable, proxy, grid)
    compiled = len(regionkernels.spread_by_proxy.signatures)
    np.testing.assert_array_equal(distribute(read_only, proxy, grid), first)
    assert len(regionkernels.spread_by_proxy.signatures) == compiled


def test_mixed_geometries_are_rejected(grid):
    from gridcarbon.core.errors import GeometryError

    with pytest.raises(GeometryError, match="mixed"):
        coverage(gpd.GeoSeries([Point(1, 1), LineString([(0, 0), (1, 1)])]), grid, np.array([0, 0]))


def test_lines_without_own_region_conserve_pieces_off_the_grid(grid):
    """A line running off the grid keeps its full mass: the outside part is re-homed."""
    line = LineString([(5_000, 5_500), (30_000, 5_500)])  # 15 km of its 25 km lie east of the grid
    cov = line_coverage(gpd.GeoSeries([line]), grid, np.array([-1]))
    layers = cov.spread(np.array([250.0]), grid)
    assert layers.sum() == pytest.approx(250.0, rel=1e-12)
    assert grid.region_sums(layers)[0][1] == pytest.approx(250.0 * 20 / 25, rel=1e-9)
