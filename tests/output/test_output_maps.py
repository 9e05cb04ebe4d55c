"""PNG maps (gridcarbon.output.maps): valid, deterministic, reduced for large grids."""
from __future__ import annotations

import math
import tracemalloc

import matplotlib.image as mpimg
import numpy as np
import pytest

import gridcarbon
from gridcarbon.output import maps
from gridcarbon.output.maps import outline_path, render_change, render_map, render_panel
from gridcarbon.testing import lonlat_regions, random_layer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def render_all(folder, grid, values) -> list:
    net, outlines = values - 2 * random_layer(grid, seed=5), outline_path(lonlat_regions(), grid)
    return [
        render_map(folder / "map.png", values, grid, outlines=outlines, title="Power 2030", kind="sequential"),
        render_map(folder / "net.png", net, grid, outlines=outlines, title="Net 2030", kind="diverging"),
        render_panel(folder / "panel.png", {"power": values, "sink": -0.1 * values}, grid, outlines=outlines,
                     title="Sectors 2030"),
        render_change(folder / "change.png", values, 0.5 * values, grid, outlines=None,
                      title="2060 - 2030"),
    ]


def test_maps_are_valid_deterministic_pngs(grid, values, tmp_path):
    (tmp_path / "a").mkdir()
    first = render_all(tmp_path / "a", grid, values)
    second = render_all(tmp_path / "b", grid, values)
    for one, two in zip(first, second):
        data = one.read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        assert b"Software" not in data and b"matplotlib" not in data
        image = mpimg.imread(one)
        assert image.ndim == 3 and image.shape[0] > 100
        assert len(np.unique(image.reshape(-1, image.shape[-1]), axis=0)) > 10  # not blank
        assert data == two.read_bytes(), one.name


def test_map_of_an_all_zero_layer_renders(grid, tmp_path):
    zeros = np.where(grid.inside, 0.0, np.nan)
    path = render_change(tmp_path / "none.png", zeros, zeros, grid, outlines=outline_path(lonlat_regions(), grid),
                         title="no change")
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_large_layers_are_drawn_as_block_means(grid, values, tmp_path):
    """A layer wider than ``max_display_cells`` (a 1 km national grid) is drawn reduced, mass per cell kept."""
    with gridcarbon.set_options(max_display_cells=30):
        shown, inside = maps._display(values, grid.inside)
        k = int(np.ceil(max(values.shape) / 30))
        assert max(shown.shape) <= 30 and shown.shape == (-(-values.shape[0] // k), -(-values.shape[1] // k))
        cells = np.pad(grid.inside, ((0, -values.shape[0] % k), (0, -values.shape[1] % k))).reshape(
            shown.shape[0], k, shown.shape[1], k).sum(axis=(1, 3))
        assert np.isclose((shown * cells).sum(), np.where(grid.inside, values, 0.0).sum(), rtol=1e-12)
        assert inside.sum() == (cells > 0).sum()
        path = render_map(tmp_path / "big.png", values, grid, outlines=outline_path(lonlat_regions(), grid),
                          title="reduced")
        assert path.read_bytes().startswith(PNG_SIGNATURE)
    with gridcarbon.set_options(max_display_cells=10_000):
        assert maps._display(values, grid.inside)[0] is values  # small grids are drawn as they are


def test_block_means_have_the_masked_and_padded_layers_values_from_one_copy():
    # the plain expression masked the layer, then padded the masked copy: two copies of a 1 km
    # national layer while a map of an exported year is drawn
    def plain(values, inside, k):
        pad = ((0, -values.shape[0] % k), (0, -values.shape[1] % k))
        shape = ((values.shape[0] + pad[0][1]) // k, k, (values.shape[1] + pad[1][1]) // k, k)
        count = np.pad(inside, pad).reshape(shape).sum(axis=(1, 3))
        return np.pad(np.where(inside, values, 0.0), pad).reshape(shape).sum(axis=(1, 3)) / np.maximum(count, 1)

    rng = np.random.default_rng(4)
    inside = rng.random((301, 413)) < 0.7
    with gridcarbon.set_options(max_display_cells=40):
        for dtype in (np.float32, np.float64, np.int32):
            values = (rng.random(inside.shape) * 100.0).astype(dtype)
            if dtype != np.int32:
                values[inside.nonzero()[0][:3], inside.nonzero()[1][:3]] = (np.nan, -0.0, np.inf)
            maps._display(values, inside)  # the block-sum kernel loaded for this dtype (numba's memory)
            tracemalloc.start()
            shown, _ = maps._display(values, inside)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            want = plain(values, inside, math.ceil(413 / 40))
            assert shown.dtype == want.dtype and np.array_equal(shown, want, equal_nan=True)
            assert np.array_equal(np.signbit(shown), np.signbit(want))
            assert peak <= 1.5 * np.zeros(inside.shape, np.result_type(dtype, 0.0)).nbytes  # plain: 2.0


def test_a_panel_of_compact_layers_makes_each_rectangle_twice_and_draws_the_same_png(grid, values, tmp_path):
    """The sector panel of a large grid's year gets its layers compact, made into rectangles as
    asked for (:class:`~gridcarbon.core.cells.FullLayers`): each is asked for twice (the shared
    scale, then its drawing), not three times, and the PNG is that of the plain layers."""
    from gridcarbon.core.cells import FullLayers

    index = grid.cell_index
    plain = {"power": np.where(grid.inside, values, 0.0), "sink": np.where(grid.inside, -0.1 * values, 0.0)}
    asked = []

    class Counted(FullLayers):
        def __getitem__(self, name):
            asked.append(name)
            return super().__getitem__(name)

    outlines = outline_path(lonlat_regions(), grid)
    made = render_panel(tmp_path / "compact.png", Counted(index, {k: index.compact(v) for k, v in plain.items()}),
                        grid, outlines=outlines, title="Sectors 2030")
    want = render_panel(tmp_path / "plain.png", plain, grid, outlines=outlines, title="Sectors 2030")
    assert sorted(asked) == ["power", "power", "sink", "sink"]
    assert made.read_bytes() == want.read_bytes()


@pytest.mark.parametrize("value, label", [(0.0, "0"), (1e3, "10\N{SUPERSCRIPT THREE}"), (1.0, "10\N{SUPERSCRIPT ZERO}"),
                                          (-1e-2, "\N{MINUS SIGN}10\N{SUPERSCRIPT MINUS}\N{SUPERSCRIPT TWO}"),
                                          (-1e6, "\N{MINUS SIGN}10\N{SUPERSCRIPT SIX}"), (2000.0, "2000")])
def test_colour_bar_ticks_are_powers_of_ten_in_plain_text(value, label):
    from gridcarbon.output.maps import power_label

    assert power_label(value) == label


@pytest.mark.parametrize("kind", ["sequential", "diverging"])
def test_maps_are_drawn_without_mathtext(grid, tmp_path, monkeypatch, kind):
    """The colour bar's labels are plain text: matplotlib's mathtext (its default for a log scale)
    is never asked to typeset one."""
    import matplotlib.mathtext

    def refuse(self, text, *args, **kwargs):
        raise AssertionError(f"mathtext asked to typeset {text!r}")
    monkeypatch.setattr(matplotlib.mathtext.MathTextParser, "parse", refuse)
    values = np.where(grid.inside, np.linspace(-1e4, 1e5, grid.inside.size).reshape(grid.shape), 0.0)
    assert render_map(tmp_path / "m.png", values, grid, outlines=None, title="x", kind=kind).exists()
