"""Numba kernels (gridcarbon.core.kernels, gridcarbon.core.regionkernels) against the numpy expressions they replace."""
import itertools

import numpy as np
import pytest

from gridcarbon.core import kernels, regionkernels
from gridcarbon.core.pairwise import window_grid_sum_f32


@pytest.mark.parametrize("ny, nx", [(1, 7), (3, 50), (89, 80), (301, 257)])
def test_window_sum_is_numpys_full_grid_float32_sum(ny, nx):
    rng = np.random.default_rng(ny * nx)
    for _ in range(40):
        h, w = rng.integers(1, ny + 1), rng.integers(1, nx + 1)
        r0, c0 = rng.integers(0, ny - h + 1), rng.integers(0, nx - w + 1)
        win = (rng.random((h, w)) * 10.0 ** rng.integers(-3, 4)).astype(np.float32)
        full = np.zeros((ny, nx), np.float32)
        full[r0:r0 + h, c0:c0 + w] = win
        assert window_grid_sum_f32(win, r0, c0, ny, nx) == full.sum()


def _sorted_breaks(au, av, bu, bv):
    """The segment's grid-line parameters as the kernel had them: every crossing, sorted by numpy."""
    t = [0.0, 1.0]
    for a, b in ((au, bu), (av, bv)):
        for k in range(int(np.floor(min(a, b))) + 1, int(np.ceil(max(a, b)))):
            t.append((k - a) / (b - a))
    return np.sort(np.array(t))


def test_line_pieces_break_segments_where_numpy_sorting_the_crossings_does():
    """The merge of the column and row crossings gives the same pieces, bit for bit, as sorting
    them (segments in every direction, on grid lines, vertical, horizontal, diagonal through corners)."""
    rng = np.random.default_rng(7)
    u = np.concatenate([rng.uniform(-2, 30, 300), [3, 3, 8, 1, 1, 5, 5, 2.5, 2.5, 0]])
    v = np.concatenate([rng.uniform(-2, 20, 300), [2, 9, 9, 1, 4, 4, 0, 0.5, 0.5, 0]])
    offsets = np.array([0, 100, 101, 300, 310], np.int64)  # one line of a single vertex too
    src, _, length, _, _ = kernels.line_pieces(u, v, offsets, 20, 30, 1000.0)
    k, expected = 0, []
    for i in range(offsets.size - 1):
        for j in range(offsets[i], offsets[i + 1] - 1):
            t = _sorted_breaks(u[j], v[j], u[j + 1], v[j + 1])
            seg = np.hypot(u[j + 1] - u[j], v[j + 1] - v[j]) * 1000.0
            expected += [seg * (t[q + 1] - t[q]) for q in range(t.size - 1)]
            k += t.size - 1
    assert src.size == k and np.array_equal(length, np.array(expected))
    assert np.isclose(length.sum(), sum(np.hypot(np.diff(u[a:b]), np.diff(v[a:b])).sum() * 1000.0
                                        for a, b in itertools.pairwise(offsets)))


def test_degenerate_polygon_rings_have_no_area():
    """Rings of fewer than three distinct vertices give no pieces (an empty ring included)."""
    u = np.array([0.5, 2.5, 0.5, 1.0, 3.0, 3.0, 1.0, 1.0])
    v = np.array([0.5, 2.5, 0.5, 1.0, 1.0, 3.0, 3.0, 1.0])
    offsets = np.array([0, 3, 3, 8], np.int64)  # a there-and-back line, an empty ring, a 2 x 2 square
    src, cell, area, _, _ = kernels.polygon_pieces(u, v, offsets, np.arange(3), np.ones(3), 5, 5, 1.0, 64)
    assert set(src) == {2} and area.sum() == 4.0 and sorted(cell) == [6, 7, 11, 12]


def _regions_with_gaps(rng, ny=40, nx=60, n=5):
    """A region index of blocky regions with cells outside (-1) scattered and in bands."""
    index = (np.arange(ny)[:, None] // 9 + np.arange(nx)[None, :] // 13) % n
    index[rng.uniform(size=(ny, nx)) < 0.2] = -1
    index[:, :4] = -1
    return index.astype(np.int32)


def _cell_by_cell(region, values, n):
    """Per-region sums adding cell after cell in flat order (what the run kernels keep to)."""
    out = np.zeros((values.shape[0], n))
    for k, i in itertools.product(range(values.shape[0]), range(region.size)):
        if region[i] >= 0:
            out[k, region[i]] += values[k, i]
    return out


def test_region_runs_sum_and_spread_as_cell_by_cell_loops_do():
    """Over the runs of a region index: region sums (float64 and float32 values), proxy spreading
    (with a fallback and an empty region) and scaling by region, bit for bit as the loops over
    every cell of the rectangle they replace; the cells outside are never read by the sums."""
    from gridcarbon.core.cells import label_runs

    rng = np.random.default_rng(5)
    region = _regions_with_gaps(rng).ravel()
    runs = label_runs(region)
    assert runs.dtype == np.int64 and (np.diff(runs[0]) > 0).all() and (runs[2] >= 0).all()
    assert np.array_equal(np.repeat(runs[2], runs[1] - runs[0]), region[region >= 0])
    values = rng.lognormal(size=(3, region.size)) * 10.0 ** rng.integers(-8, 8, size=(3, region.size))
    values[:, region < 0] = np.nan  # outside: never read
    for v in (values, values.astype(np.float32)):
        assert np.array_equal(regionkernels.region_sums(runs, v, 6), _cell_by_cell(region, v, 6))
    proxy = np.where(region == 2, 0.0, np.abs(np.nan_to_num(values[0])))  # region 2: no proxy
    fallback = np.where(region == 2, rng.uniform(size=region.size), 0.0)
    totals = np.array([5.0, -3.0, 7.0, 1e6, 2.5, 9.0])  # region 5 has no cells
    for back in (fallback, np.empty(0)):
        out = np.full(region.size, 4.0)
        regionkernels.spread_by_proxy(runs, proxy, totals, out, back)
        sums = _cell_by_cell(region, np.abs(proxy)[None], 6)[0]
        r = np.maximum(region, 0)
        want = np.where(sums[r] > 0, (np.abs(proxy) / np.where(sums > 0, sums, 1.0)[r]) * totals[r], 0.0)
        if back.size:
            backup = _cell_by_cell(region, back[None], 6)[0]
            want = np.where(sums[r] > 0, want, (back / np.where(backup > 0, backup, 1.0)[r]) * totals[r])
        else:
            count = np.bincount(region[region >= 0], minlength=6)
            want = np.where(sums[r] > 0, want, (1.0 / count[r]) * totals[r])
        assert np.array_equal(out, np.where(region >= 0, want, 0.0))
    weight = rng.normal(size=region.size)  # negative too: outside, -0.0 as numpy gives
    scale = rng.uniform(size=6)
    want = weight * np.where(region >= 0, scale[np.maximum(region, 0)], 0.0)
    regionkernels.scale_by_region(runs, weight, scale)
    assert weight.tobytes() == want.tobytes()




def test_region_sums_of_the_smaller_of_two_layers_are_those_of_numpys_minimum():
    """``min_region_sums`` is ``region_sums`` of ``np.minimum(a, b)`` bit for bit, for float64
    and float32 layers and mixed (the minimum in the wider dtype), ties and -0.0 included; the
    cells outside are never read."""
    from gridcarbon.core.cells import label_runs

    rng = np.random.default_rng(8)
    region = _regions_with_gaps(rng).ravel()
    runs = label_runs(region)
    a = rng.uniform(size=region.size) * 10.0 ** rng.integers(-6, 2, size=region.size)
    b = np.where(rng.random(region.size) < 0.2, a, rng.uniform(size=region.size))  # ties
    b[::17] = -0.0
    a[region < 0] = b[region < 0] = np.nan  # outside: never read
    for x, y in ((a, b), (a.astype(np.float32), b.astype(np.float32)), (a, b.astype(np.float32))):
        want = regionkernels.region_sums(runs, np.minimum(x, y)[None], 6)[0]
        got = regionkernels.min_region_sums(runs, x, y, 6)
        assert got.tobytes() == want.tobytes() and np.isfinite(got).all()
