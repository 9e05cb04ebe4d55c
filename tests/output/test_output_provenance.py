"""Provenance per cell: classes of the facility table, shares that sum to one where a cell
emits, a real GEM plant alone in its cell is a measured facility, and the region table."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rasterio

from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import GRIDDED
from gridcarbon.output.provenance import (
    BANDS_PER_LAYER,
    RASTER_LAYERS,
    class_shares,
    dominant,
    measured,
)


def plant_table(**columns) -> pd.DataFrame:
    base = {"origin": "base", "moved_from": -1, "planned_year": np.nan, "source": "GEM Global Coal Plant Tracker"}
    return pd.DataFrame([base | columns])


@pytest.mark.parametrize("change, is_measured", [
    ({}, True),
    ({"source": ""}, True),  # a user's point table: a reported plant at its site
    ({"moved_from": 17}, False),  # relocated by the evolution
    ({"origin": "new"}, False),  # built by the evolution
    ({"planned_year": 2027.0}, False),  # pipeline row brought online
    ({"source": "illustrative (data/yrd_plants.csv)"}, False),
])
def test_measured_facility_class(change, is_measured):
    assert measured(plant_table(**change)).tolist() == [is_measured]


def test_class_shares_sum_to_one_where_a_cell_emits():
    rng = np.random.default_rng(5)
    parts = tuple(np.where(rng.uniform(size=200) < 0.5, 0.0, rng.lognormal(size=200)) for _ in range(3))
    pattern = sum(parts)
    final = np.where(pattern > 0, 3.0 * pattern, 0.0)
    final[:10] = 1.0  # emitting cells with an empty pattern: the region's fallback spread
    shares = class_shares(final, parts)
    assert np.allclose(shares.sum(axis=0)[final != 0], 1.0)
    assert (shares.sum(axis=0)[final == 0] == 0).all() and (shares >= 0).all()
    fallback = (pattern == 0) & (final != 0)
    assert (shares[2, fallback] == 1.0).all()


def read_bands(path):
    with rasterio.open(path) as src:
        return src.read(masked=True).filled(np.nan), list(src.descriptions)


def test_provenance_layer_in_every_exported_year(default_run):
    sc = default_run.scenario
    for year in (sc.base_year, *sc.years):
        bands, names = read_bands(default_run.out_dir / str(year) / "provenance.tif")
        assert (default_run.out_dir / str(year) / "provenance.qml").is_file()
        assert bands.shape[0] == len(RASTER_LAYERS) * BANDS_PER_LAYER == len(names)
        layers = default_run.layers(year)
        inside = default_run.grid.inside
        for k, name in enumerate(RASTER_LAYERS):
            block = bands[k * BANDS_PER_LAYER:(k + 1) * BANDS_PER_LAYER]
            emits = (layers[name] != 0) & inside
            total = block[1:].sum(axis=0)
            assert np.allclose(total[emits], 1.0, atol=1e-6), (year, name)
            assert (total[~emits & inside] == 0).all() and (block[0][~emits & inside] == 0).all(), (year, name)
            assert names[k * BANDS_PER_LAYER].startswith(f"{name}: confidence class")
            dominant = block[1:].argmax(axis=0) + 1
            assert (block[0][emits] == dominant[emits]).all(), (year, name)


def test_a_cell_holding_only_a_real_gem_plant_is_measured(default_run):
    year = default_run.scenario.base_year
    fac = default_run.facilities[default_run.facilities.year == year]
    active = fac[(fac.status == "active") & (fac.emission_t > 0)]
    # cells whose plants (of any sector) are all units of the GEM coal tracker
    gem = active.groupby("cell").filter(lambda g: g.source.str.startswith("GEM Global Coal").all())
    assert gem.cell.nunique() > 10
    bands, _ = read_bands(default_run.out_dir / str(year) / "provenance.tif")
    k = RASTER_LAYERS.index("power") * BANDS_PER_LAYER
    rows, cols = np.divmod(gem.cell.to_numpy(np.int64), default_run.grid.shape[1])
    assert (bands[k][rows, cols] == 1).all()  # class 1: measured facility
    assert bands[k + 1][rows, cols] == pytest.approx(np.ones(len(gem)), abs=1e-6)
    illustrative = active.groupby("cell").filter(lambda g: g.source.str.startswith("illustrative").all())
    rows, cols = np.divmod(illustrative.cell.to_numpy(np.int64), default_run.grid.shape[1])
    assert len(illustrative) and (bands[RASTER_LAYERS.index("chemical") * BANDS_PER_LAYER][rows, cols] == 2).all()


def test_region_table_shares_sum_to_one_and_match_the_totals(default_run):
    table = pd.read_csv(default_run.out_dir / "provenance.csv")
    assert list(table.columns) == ["region", "year", "sector", "class", "proxy", "source", "t", "share"]
    sums = table.groupby(["region", "year", "sector"]).agg(t=("t", "sum"), share=("share", "sum"))
    emitting = sums[sums.t.abs() > 0]
    assert np.allclose(emitting.share, 1.0, atol=1e-6)
    gridded = default_run.totals[default_run.totals.sector.isin(GRIDDED)].set_index(["region", "year", "sector"])
    joined = sums.join(gridded.gridded_t, how="inner")
    assert len(joined) == len(default_run.grid.regions) * 4 * len(GRIDDED)
    assert np.allclose(joined.t, joined.gridded_t, rtol=1e-5, atol=1.0)  # float32 layers


def test_a_year_is_written_from_compact_shares_which_go_once_written(tmp_path):
    """Shares on the inside cells only (grid.cell_index) become full bands, nodata outside; the
    writer lets each layer's shares go once its bands are written."""
    from gridcarbon.output.provenance import write_year
    from gridcarbon.testing import two_region_grid

    base = two_region_grid(4)
    index = base.region_index.copy()
    index[0, :3] = -1  # cells outside every region
    grid = Grid(base.crs, base.res, base.bounds, base.regions, index)
    rng = np.random.default_rng(2)
    n = grid.cell_index.size
    shares = {}
    for name in RASTER_LAYERS:
        raw = rng.uniform(size=(3, n)) * (rng.uniform(size=n) > 0.3)
        shares[name] = np.divide(raw, raw.sum(axis=0), out=np.zeros_like(raw), where=raw.sum(axis=0) > 0).astype(np.float32)
    expected = {name: grid.cell_index.expand(s) for name, s in shares.items()}
    path = write_year(tmp_path, 2030, shares, grid, {})
    assert shares == {}
    bands, _ = read_bands(path)
    for k, name in enumerate(RASTER_LAYERS):
        block = bands[k * BANDS_PER_LAYER:(k + 1) * BANDS_PER_LAYER]
        assert np.isnan(block[:, ~grid.inside]).all()
        assert np.array_equal(block[1:, grid.inside], expected[name][:, grid.inside])
        assert np.array_equal(block[0, grid.inside], dominant(expected[name])[grid.inside])


def test_a_years_raster_is_written_before_the_next_years_shares_are_made(default_run, tmp_path, monkeypatch):
    """Year by year, the shares are made and then the raster written, which empties them: the
    two at once (in two threads) made the peak of a national 1 km run's finish; the files are
    the run's bytes."""
    import shutil

    from gridcarbon.output import provenance
    from gridcarbon.output.run_folder import run_meta

    sc = default_run.scenario
    years = [sc.base_year, *sc.years]
    folder = tmp_path / "run"
    shutil.copytree(default_run.out_dir, folder)
    events, order = [], iter(years)
    real_shares, real_write = provenance.year_provenance, provenance.write_year

    def shares(*args, **kwargs):
        events.append(("shares", next(order)))
        return real_shares(*args, **kwargs)

    def write(root, year, raster, grid, meta):
        events.append(("write", year))
        path = real_write(root, year, raster, grid, meta)
        events.append(("emptied", not raster))
        return path
    monkeypatch.setattr(provenance, "year_provenance", shares)
    monkeypatch.setattr(provenance, "write_year", write)
    facilities = pd.DataFrame(default_run.facilities.drop(columns="geometry"))
    provenance.write_provenance(folder, default_run.grid, facilities, years,
                                run_meta(sc, default_run.manifest["allocation"]["status"]))
    assert events == [e for y in years for e in (("shares", y), ("write", y), ("emptied", True))]
    for name in [f"{y}/provenance.tif" for y in years] + ["provenance.csv"]:
        assert (folder / name).read_bytes() == (default_run.out_dir / name).read_bytes(), name
