"""Raster and cube export (gridcarbon.output.export, gridcarbon.output.cube): COG rasters and the CF NetCDF cube."""
from __future__ import annotations

import zlib
from types import SimpleNamespace

import netCDF4
import numpy as np
import pytest
import rasterio
import rasterio.shutil
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from pyproj import CRS
from rasterio.io import MemoryFile
from rio_cogeo.cogeo import cog_validate

import gridcarbon
from gridcarbon.core.cells import CellIndex, FullLayers
from gridcarbon.core.errors import OutputError, RasterInputError
from gridcarbon.core.grid import CHINA_ALBERS_CRS, Grid
from gridcarbon.output.export import (
    COG_CACHE_MB,
    COG_OPTIONS,
    NODATA,
    _staging_profile,
    band_block,
    read_raster_band,
    read_raster_cells,
    stored,
    write_bands_cog,
    write_cog,
)
from gridcarbon.output.cube import (
    CUBE_COMPLEVEL,
    CUBE_STRATEGY,
    ZLIB_MEM_LEVEL,
    CubeWriter,
    inside_windows,
    packed_chunk,
    write_netcdf,
)
from gridcarbon.output.layers import WrittenLayers
from gridcarbon.testing import lonlat_regions, random_layer

TAGS = {"sector": "power", "year": 2030, "scenario": "test-scenario", "scenario_hash": "abc123",
        "seed": 42, "gridcarbon_version": "0.1.0"}


@pytest.fixture(scope="module")
def cog(grid, values, tmp_path_factory):
    path = tmp_path_factory.mktemp("cog") / "power.tif"
    return write_cog(path, values, grid, description="Power and heat 2030", tags=TAGS)


@pytest.fixture(scope="module")
def cube(grid) -> xr.Dataset:
    sectors, years = ["power", "buildings", "forest_sink"], [2024, 2030, 2060]
    data = np.stack([np.stack([random_layer(grid, seed=10 * i + j) for j in range(len(years))])
                     for i in range(len(sectors))])
    data[2] *= -0.01  # a removal sector
    return xr.Dataset({"emission": (("sector", "year", "y", "x"), data)},
                      coords={"sector": sectors, "year": years, **grid.coords()})


@pytest.fixture(scope="module")
def netcdf(grid, cube, tmp_path_factory):
    path = tmp_path_factory.mktemp("nc") / "cube.nc"
    attrs = {"title": "gridcarbon test cube", "scenario": "test-scenario", "seed": 42,
             "history": "written by test_export"}
    return write_netcdf(path, cube, grid, attrs=attrs)


# -- Cloud-Optimized GeoTIFF ---------------------------------------------------------
def test_fixture_grid_has_inside_and_outside_cells(grid):
    assert grid.inside.any() and (~grid.inside).any()


def test_cog_is_valid_tiled_deflate_float32(cog):
    is_valid, errors, _warnings = cog_validate(cog)
    assert is_valid and errors == []
    with rasterio.open(cog) as src:
        assert src.dtypes == ("float32",)
        assert src.profile["tiled"] and src.block_shapes[0] == (512, 512)
        assert src.compression.name.lower() == "deflate"
        assert src.tags(ns="IMAGE_STRUCTURE")["PREDICTOR"] == "3"  # floating point
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"


@pytest.mark.parametrize(("shape", "block"), [((89, 80), 128), ((130, 90), 256), ((553, 484), 512), ((5530, 4840), 512)])
def test_a_multiband_cog_tiles_to_its_grid(shape, block):
    """Bands are compressed tile by tile: a small grid's COG is not padded to 512 px tiles."""
    grid = SimpleNamespace(shape=shape)
    assert band_block(grid) == block


def test_a_small_grid_multiband_cog_is_valid_with_small_tiles(grid, tmp_path):
    values = random_layer(grid)
    path = write_bands_cog(tmp_path / "bands.tif", [("a", values), ("b", 2 * values)], grid, count=2, tags={})
    assert cog_validate(path)[:2] == (True, [])
    with rasterio.open(path) as src:
        assert src.block_shapes[0] == (band_block(grid),) * 2 and band_block(grid) < 512
        np.testing.assert_array_equal(src.read(2)[grid.inside], (2 * values).astype(np.float32)[grid.inside])


def test_a_multiband_cog_is_the_same_file_whatever_its_staging(grid, tmp_path):
    """The staging copy is compressed only on a large grid: the COG's bytes do not depend on it."""
    bands = [(f"band {k}", random_layer(grid, seed=k)) for k in range(6)]
    small = write_bands_cog(tmp_path / "small.tif", bands, grid, count=6, tags={"year": 2030})
    with gridcarbon.set_options(large_grid_cells=1):
        assert grid.large
        large = write_bands_cog(tmp_path / "large.tif", bands, grid, count=6, tags={"year": 2030})
    assert small.read_bytes() == large.read_bytes()


def _three_bands(shape: tuple[int, int], *, spread: int | None = None) -> tuple[Grid, list[tuple[str, np.ndarray]]]:
    """A 1 km grid of ``shape`` and three layers of shares on it: 60 % of the cells inside and
    half of them 0 at random, or so in a ``spread`` x ``spread`` corner, all inside and 0 elsewhere
    (faster to compress)."""
    res, rng = 1000.0, np.random.default_rng(3)
    corner = np.s_[:spread, :spread] if spread else np.s_[:, :]
    part = np.zeros(shape)[corner].shape
    inside = np.ones(shape, bool)
    inside[corner] = rng.random(part) < 0.6
    grid = Grid(CHINA_ALBERS_CRS, res, (0.0, 0.0, shape[1] * res, shape[0] * res), ("a",),
                np.where(inside, 0, -1).astype(np.int32))
    bands = []
    for k in range(3):
        values = np.zeros(shape)
        values[corner] = np.where(rng.random(part) < 0.5, rng.random(part), 0.0)
        bands.append((f"band {k}", values))
    return grid, bands


def _gdal_bands_cog(path, bands, grid: Grid, cache_mb: int):
    """``bands`` copied to a COG by GDAL with the options of :func:`write_bands_cog` and its own
    defaults otherwise (swath, where it builds the overviews), with a ``cache_mb`` block cache."""
    with rasterio.Env(GDAL_CACHEMAX=cache_mb), MemoryFile() as mem, \
            mem.open(**_staging_profile(grid, len(bands), NODATA, band_block(grid)), interleave="band") as staging:
        for k, (description, values) in enumerate(bands, 1):
            staging.write(stored(values, grid.inside), k)
            staging.set_band_description(k, description)
        staging.update_tags(year="2030", overview_resampling="nearest")
        rasterio.shutil.copy(staging, path, driver="COG", **{
            **COG_OPTIONS, "OVERVIEWS": "AUTO", "OVERVIEW_RESAMPLING": "NEAREST", "BLOCKSIZE": str(band_block(grid))})
    return path


def test_a_multiband_cog_with_overviews_is_the_file_gdal_writes_with_its_default_swath(tmp_path):
    """The bands are copied to the COG in swaths of a row of tiles (not GDAL's default swath,
    minutes at 1 km): the same file, overviews included, on a grid larger than one tile."""
    grid, bands = _three_bands((520, 600))
    ours = write_bands_cog(tmp_path / "ours.tif", bands, grid, count=3, tags={"year": 2030})
    gdal = _gdal_bands_cog(tmp_path / "gdal.tif", bands, grid, COG_CACHE_MB)
    with rasterio.open(ours) as src:
        assert src.overviews(1)
    assert ours.read_bytes() == gdal.read_bytes()


def test_a_multiband_cog_builds_its_overviews_in_memory_into_the_file_gdal_writes_through_a_temporary_file(
        tmp_path, monkeypatch, caplog):
    """An overview level of more than about 10 MB: GDAL by default builds it in a temporary
    GeoTIFF beside the output (re-read many times over at 1 km), the writer in memory; the same file."""
    grid, bands = _three_bands((2000, 2000), spread=300)  # a first level of 3 x 1000 x 1000 float32: 12 MB
    monkeypatch.setenv("CPL_DEBUG", "ON")
    with caplog.at_level("DEBUG", logger="rasterio._env"):
        gdal = _gdal_bands_cog(tmp_path / "gdal.tif", bands, grid, COG_CACHE_MB)
        through_file = [r for r in caplog.messages if "Creating temporary file" in r]
        caplog.clear()
        ours = write_bands_cog(tmp_path / "ours.tif", bands, grid, count=3, tags={"year": 2030})
        assert through_file and not [r for r in caplog.messages if "Creating temporary file" in r]
    assert ours.read_bytes() == gdal.read_bytes()


def _levels(path):
    """Full-resolution band and every overview level of a COG, masked (t CO2/yr per pixel)."""
    with rasterio.open(path) as src:
        shapes = [(src.height, src.width)] + [(-(-src.height // f), -(-src.width // f)) for f in src.overviews(1)]
        return [src.read(1, masked=True, out_shape=shape) for shape in shapes], src.tags()


def test_cog_overviews_keep_the_layer_total(tmp_path):
    """Zoomed out, a pixel holds the tonnes of the cells it covers: every level sums to the total."""
    fine = Grid.from_regions(lonlat_regions(), res=100)  # > 1024 rows: two overview levels
    values = random_layer(fine)
    path = write_cog(tmp_path / "fine.tif", values, fine, description="fine", tags={})
    assert cog_validate(path)[:2] == (True, [])
    levels, tags = _levels(path)
    assert tags["overview_resampling"] == "sum" and len(levels) >= 3
    total = values[fine.inside].sum()
    for level in levels:
        assert not level.mask.all()
        assert np.ma.sum(level.astype(np.float64)) == pytest.approx(total, rel=1e-6)
    assert np.ma.max(levels[1]) > np.ma.max(levels[0])  # sums of four cells, not averages


def test_a_fraction_layer_keeps_averaged_overviews(tmp_path):
    fine = Grid.from_regions(lonlat_regions(), res=200)
    share = np.where(fine.inside, 0.25, 0.0)
    path = write_cog(tmp_path / "share.tif", share, fine, description="share", tags={}, overviews="average")
    levels, tags = _levels(path)
    assert tags["overview_resampling"] == "average" and len(levels) >= 2
    assert all(np.ma.allclose(level, 0.25) for level in levels)  # nodata is not averaged in


def test_cog_georeferencing_matches_grid(cog, grid):
    with rasterio.open(cog) as src:
        assert CRS.from_wkt(src.crs.to_wkt()).equals(grid.crs)
        assert src.transform.almost_equals(grid.transform)
        assert tuple(src.bounds) == pytest.approx(grid.bounds)
        assert (src.height, src.width) == grid.shape


def test_cog_nodata_outside_and_zero_inside(cog, grid, values):
    with rasterio.open(cog) as src:
        raw = src.read(1)
        assert src.nodata == NODATA
    assert np.all(raw[~grid.inside] == NODATA)
    zero_inside = grid.inside & (values == 0)
    assert zero_inside.any() and np.all(raw[zero_inside] == 0.0)
    assert np.all(raw[grid.inside] >= 0)


def test_cog_description_and_tags(cog):
    with rasterio.open(cog) as src:
        tags = src.tags()
        assert src.descriptions == ("Power and heat 2030",)
        assert src.units == ("t CO2/yr/cell",)
    assert tags["units"] == "t CO2/yr/cell"
    assert {k: tags[k] for k in TAGS} == {k: str(v) for k, v in TAGS.items()}
    assert not any("DATETIME" in key.upper() for key in tags)


def test_cog_values_round_trip_within_float32(cog, grid, values):
    back, tags = read_raster_band(cog)
    assert np.all(np.isnan(back[~grid.inside]))
    np.testing.assert_allclose(back[grid.inside], values[grid.inside], rtol=1e-7, atol=0)
    assert np.nansum(back) == pytest.approx(values[grid.inside].sum(), rel=1e-6)
    assert tags["description"] == "Power and heat 2030" and tags["sector"] == "power"


def test_cog_writes_are_byte_identical(grid, values, tmp_path):
    first = write_cog(tmp_path / "a.tif", values, grid, description="d", tags=TAGS)
    second = write_cog(tmp_path / "b.tif", values, grid, description="d", tags=TAGS)
    assert first.read_bytes() == second.read_bytes()
    assert b"DateTime" not in first.read_bytes()


def test_cog_rejects_a_layer_of_another_shape(grid, tmp_path):
    with pytest.raises(OutputError, match="shape"):
        write_cog(tmp_path / "x.tif", np.zeros((3, 3)), grid, description="d", tags={})


def test_cog_unwritable_path_is_an_output_error(grid, values, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(OutputError):
        write_cog(tmp_path / "file" / "x.tif", values, grid, description="d", tags={})


def test_read_raster_band_of_a_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(RasterInputError):
        read_raster_band(tmp_path / "missing.tif")
    with pytest.raises(RasterInputError):
        read_raster_cells(tmp_path / "missing.tif", CellIndex.of_mask(np.ones((2, 2), bool)))


def test_a_layer_read_at_the_inside_cells_is_the_full_read_there_bit_for_bit(grid, values, tmp_path):
    """From the file (nodata as NaN, also an inside cell holding the nodata value) and from the
    layers a small grid's writer keeps in memory."""
    values = values.copy()
    first = np.flatnonzero(grid.inside)[0]
    values.flat[first] = NODATA
    write_cog(tmp_path / "2030" / "power.tif", values, grid, description="d", tags=TAGS)
    index = grid.cell_index
    full = read_raster_band(tmp_path / "2030" / "power.tif")[0]
    cells = read_raster_cells(tmp_path / "2030" / "power.tif", index)
    assert cells.dtype == np.float64 and np.isnan(cells[0])
    assert cells.tobytes() == index.compact(full).tobytes()
    kept = WrittenLayers(tmp_path, grid, {2030: {"power": values}})
    assert kept.cells(2030, "power", index).tobytes() == index.compact(kept(2030, "power")).tobytes() == cells.tobytes()
    assert WrittenLayers(tmp_path).cells(2030, "power", index).tobytes() == cells.tobytes()


# -- NetCDF cube ---------------------------------------------------------------------
def test_netcdf_crs_and_transform_read_back(netcdf, grid):
    with xr.open_dataset(netcdf) as ds:
        assert CRS.from_wkt(ds.rio.crs.to_wkt()).equals(grid.crs)
        assert ds["emission"].rio.transform().almost_equals(grid.transform)
        np.testing.assert_allclose(ds["x"], grid.x)
        np.testing.assert_allclose(ds["y"], grid.y)


def test_netcdf_sums_per_sector_and_year_match(netcdf, cube, grid):
    with xr.open_dataset(netcdf) as ds:
        assert list(ds["sector"].values) == list(cube["sector"].values)
        assert list(ds["year"].values) == [2024, 2030, 2060]
        sums = ds["emission"].sum(("y", "x")).values
        outside = ds["emission"].values[..., ~grid.inside]
        inside = ds["emission"].values[..., grid.inside]
    expected = cube["emission"].values[..., grid.inside].sum(axis=-1)
    np.testing.assert_allclose(sums, expected, rtol=1e-6)
    assert np.isnan(outside).all()
    assert (inside == 0).any() and not np.isnan(inside).any()


def test_netcdf_cf_metadata_and_encoding(netcdf, grid):
    with xr.open_dataset(netcdf) as ds:
        emission, crs = ds["emission"], ds["crs"]
        assert ds.attrs["Conventions"] == "CF-1.8"
        assert ds.attrs["title"] == "gridcarbon test cube"
        assert ds.attrs["scenario"] == "test-scenario"
        assert emission.attrs["units"] == "t yr-1"
        assert emission.attrs["long_name"] == "CO2 emission per grid cell (t CO2/yr/cell)"
        assert emission.attrs["cell_methods"] == "area: sum"
        assert emission.attrs["grid_mapping"] == "crs"
        assert emission.encoding["dtype"] == np.float32 and emission.encoding["zlib"]
        assert emission.encoding["chunksizes"] == (1, 1, *grid.shape)
        assert emission.encoding["_FillValue"] == NODATA
        assert crs.attrs["grid_mapping_name"] == "albers_conical_equal_area"
        assert crs.attrs["longitude_of_central_meridian"] == 105.0
        assert list(crs.attrs["standard_parallel"]) == [25.0, 47.0]
        assert CRS.from_wkt(crs.attrs["spatial_ref"]).equals(grid.crs)
        assert ds["x"].attrs["standard_name"] == "projection_x_coordinate"


def test_netcdf_gdal_places_the_grid(netcdf, grid):
    with rasterio.open(f"netcdf:{netcdf}:emission") as src:
        assert CRS.from_wkt(src.crs.to_wkt()).equals(grid.crs)
        assert src.transform.almost_equals(grid.transform)
        assert src.count == 9


def test_netcdf_reread_and_transposed_cube_writes_the_same_values(netcdf, grid, tmp_path):
    with xr.open_dataset(netcdf) as ds:
        again = write_netcdf(tmp_path / "again.nc", ds.transpose("year", "sector", "y", "x", ...), grid,
                             attrs={"title": "again"})
        with xr.open_dataset(again) as back:
            assert back["emission"].dims == ("sector", "year", "y", "x")
            np.testing.assert_array_equal(back["emission"].values, ds["emission"].values)
            assert CRS.from_wkt(back.rio.crs.to_wkt()).equals(grid.crs)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cube_layers_are_stored_bit_for_bit_as_the_cogs_store_them(grid, values, dtype, tmp_path):
    # the cube writer fills one float32 layer in place: NaN, -0.0, values float32 cannot hold and
    # values rounded to float32 come out as ``stored`` makes them, in every year (the reused layer
    # keeps nothing of the year before)
    first = values.astype(dtype)
    odd = first.copy()
    inside = np.flatnonzero(grid.inside)
    odd.flat[inside[:4]] = [np.nan, -0.0, 1e300 if dtype == np.float64 else np.inf, 1 / 3]
    odd.flat[np.flatnonzero(~grid.inside)[:2]] = [7.0, np.nan]
    layers = {2024: np.stack([first, -first]), 2030: np.stack([odd, np.zeros_like(odd)])}
    with np.errstate(over="ignore"):  # 1e300 overflows float32 on purpose, in both ways of storing it
        with CubeWriter(tmp_path / "cube.nc", grid, sectors=["a", "b"], years=[2024, 2030], attrs={}) as cube_writer:
            for year, stack in layers.items():
                cube_writer.write(year, stack)
        expected = [[stored(layer, grid.inside).tobytes() for layer in stack] for stack in layers.values()]
    with netCDF4.Dataset(tmp_path / "cube.nc") as nc:
        nc.set_auto_maskandscale(False)
        written = nc["emission"][:]
    for k, stack in enumerate(expected):
        for i, layer in enumerate(stack):
            assert written[i, k].tobytes() == layer


def _stored_chunks(path, chunk_bytes: int) -> list[bytes]:
    """The chunks a NetCDF-4 file stores compressed with zlib level 1 (each a zlib stream, header
    78 01, that inflates to ``chunk_bytes``), inflated, in file order."""
    data, chunks, at = path.read_bytes(), [], 0
    while (at := data.find(b"\x78\x01", at)) >= 0:
        stream = zlib.decompressobj()
        try:
            chunk = stream.decompress(data[at:], chunk_bytes + 1)
        except zlib.error:
            chunk = b""
        if stream.eof and len(chunk) == chunk_bytes:
            chunks.append(chunk)
        at += 1
    return chunks


def test_a_cube_stores_no_chunk_outside_every_region_and_reads_fill_there(grid, values, tmp_path):
    # chunks of 2 x 2 cells: 9 of the grid's 42 hold no inside cell. They are never written, so
    # the file stores none of them, and every reader gives the fill value there all the same
    path, edge = tmp_path / "cube.nc", 2
    windows = inside_windows(grid.inside, (edge, edge))
    assert len(windows) == 33
    assert all(grid.inside[rows, cols].any() for rows, cols in windows)
    covered = np.zeros(grid.shape, bool)
    for rows, cols in windows:
        covered[rows, cols] = True
    assert covered[grid.inside].all() and not covered.all()
    stack = np.stack([values, -values])
    with gridcarbon.set_options(cube_chunk_cells=edge):
        with CubeWriter(path, grid, sectors=["a", "b"], years=[2024], attrs={}) as cube_writer:
            cube_writer.write(2024, stack)
    assert len(_stored_chunks(path, edge * edge * 4)) == 2 * len(windows)  # no all-fill chunk among them
    expected = [stored(layer, grid.inside) for layer in stack]
    with netCDF4.Dataset(path) as nc:
        nc.set_auto_maskandscale(False)
        assert nc["emission"].chunking() == [1, 1, edge, edge]
        for i, layer in enumerate(expected):
            assert nc["emission"][i, 0].tobytes() == layer.tobytes()
    with xr.open_dataset(path) as ds:
        read = ds["emission"].values[:, 0]
    assert np.isnan(read[:, ~grid.inside]).all()
    np.testing.assert_array_equal(read[:, grid.inside], np.stack(expected)[:, grid.inside])
    with rasterio.open(f"netcdf:{path}:emission") as src:
        assert src.read(2).tobytes() == expected[1].tobytes()  # bands run year within sector


def test_netcdf_needs_the_emission_cube(grid, cube, tmp_path):
    with pytest.raises(OutputError, match="emission"):
        write_netcdf(tmp_path / "x.nc", cube.rename(emission="other"), grid, attrs={})


@pytest.mark.parametrize("compact", [False, True])
def test_layers_kept_in_memory_or_spilled_read_exactly_as_their_written_cogs(tmp_path, grid, values, compact):
    """The run writer hands the provenance and the report its layers from memory (a small grid)
    or from the compact files it spilled them to (a large one, whose years come compact): bit for
    bit what reading the year's COGs back gives (so their outputs do not depend on which), also
    at an inside cell holding the nodata value."""
    from gridcarbon.output.layers import WrittenLayers, named_layers, spill_layers, write_layers

    index = grid.cell_index
    layers = np.stack([values * (k + 1) * (-1 if k == 9 else 1) for k in range(11)])
    layers.reshape(11, -1)[0, np.flatnonzero(grid.inside)[0]] = NODATA
    named = named_layers(index.compact(layers) if compact else layers)
    write_layers(tmp_path / "2030", FullLayers(index, named), grid, year=2030, meta={})
    spill_layers(tmp_path / "spilled", 2030, named, index)
    files, spilled = WrittenLayers(tmp_path), WrittenLayers(tmp_path, grid, spilled=tmp_path / "spilled")
    readers = [files, spilled] if compact else [files, spilled, WrittenLayers(tmp_path, grid, {2030: named})]
    assert all(r.years() == [2030] for r in readers)
    for name in named:
        a, *others = (r(2030, name) for r in readers)
        assert a.dtype == np.float64 and all(b.tobytes() == a.tobytes() for b in others)  # NaN outside in all
        assert np.isnan(a[~grid.inside]).all() and np.isnan(a[grid.inside]).sum() == (name == "power")
        assert all(r.cells(2030, name, index).tobytes() == files.cells(2030, name, index).tobytes() for r in readers)


def test_cogs_written_from_several_threads_leave_gdal_configured_as_before(tmp_path):
    """``rasterio.Env`` sets GDAL's process-wide configuration: COGs written from threads at once
    (the run writer's provenance beside its storage-fill layers) must not leave its block cache
    option behind (without ``export.GDAL_ENV_LOCK`` a third of such runs left 128 MB set, and a
    later GeoTIFF of the same values came out 37 % larger)."""
    import threading

    from rasterio._env import get_gdal_config

    from gridcarbon.output import export
    from gridcarbon.testing import two_region_grid

    grid = two_region_grid(20, res=10_000.0)
    values = np.random.default_rng(0).uniform(size=grid.shape)
    before = get_gdal_config("GDAL_CACHEMAX")

    def write(i):
        for k in range(25):
            export.write_cog(tmp_path / f"{i}_{k}.tif", values, grid, description="x", tags={})
    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(list(tmp_path.glob("*.tif"))) == 100
    assert get_gdal_config("GDAL_CACHEMAX") == before


def test_a_cubes_chunks_are_the_ones_hdf5s_own_filters_store_and_the_file_is_deterministic(grid, values, tmp_path):
    # the writer shuffles and deflates each chunk itself, on several threads, and hands it to
    # HDF5 as stored bytes: they inflate to what netCDF-C's own shuffle filter stores for the same
    # values (edge chunks padded alike), in the same order, and every write is the same file (a
    # compressor whose output varies from call to call, as ISA-L's did in one write of eight, fails)
    edge = 3
    stack = np.stack([values, -values, np.zeros_like(values)])
    expected = np.stack([stored(layer, grid.inside) for layer in stack])
    plain = tmp_path / "plain.nc"
    with netCDF4.Dataset(plain, "w") as nc:
        for name, size in zip(("sector", "year", "y", "x"), (3, 1, *grid.shape)):
            nc.createDimension(name, size)
        var = nc.createVariable("emission", "f4", ("sector", "year", "y", "x"), zlib=True, complevel=1,
                                shuffle=True, chunksizes=(1, 1, edge, edge), fill_value=np.float32(NODATA))
        var.set_auto_maskandscale(False)
        for i in range(3):
            for rows, cols in inside_windows(grid.inside, (edge, edge)):
                var[i, 0, rows, cols] = expected[i][rows, cols]
    written = []
    for name in ("a.nc", "b.nc", "c.nc", "d.nc"):
        with gridcarbon.set_options(cube_chunk_cells=edge):
            with CubeWriter(tmp_path / name, grid, sectors=["a", "b", "c"], years=[2024], attrs={}) as cube_writer:
                cube_writer.write(2024, stack)
        written.append((tmp_path / name).read_bytes())
    assert all(file == written[0] for file in written[1:])
    chunks = _stored_chunks(tmp_path / "a.nc", edge * edge * 4)
    assert len(chunks) == 3 * len(inside_windows(grid.inside, (edge, edge))) > 3
    assert chunks == _stored_chunks(plain, edge * edge * 4)
    with netCDF4.Dataset(tmp_path / "a.nc") as nc:
        nc.set_auto_maskandscale(False)
        assert nc["emission"][:, 0].tobytes() == expected.tobytes()


@pytest.mark.parametrize("edge", [7, 64])
def test_a_packed_chunk_is_the_bytes_the_stdlib_zlib_makes_of_the_shuffled_chunk(edge):
    """The cube's chunks are deflated by zlib-ng: its run-length deflate writes the very bytes
    zlib does (so the file is the same bytes either way), of HDF5's byte shuffle of the chunk
    padded with the fill; interior and edge windows, zeros, fill and values."""
    rng = np.random.default_rng(edge)
    layer = np.where(rng.uniform(size=(2 * edge + 3, 3 * edge - 2)) < 0.5, 0.0,
                     rng.lognormal(3.0, 2.0, size=(2 * edge + 3, 3 * edge - 2))).astype(np.float32)
    layer[:, :edge // 2] = NODATA
    for rows, cols in inside_windows(np.ones(layer.shape, bool), (edge, edge)):
        padded = np.full((edge, edge), np.float32(NODATA))
        padded[:rows.stop - rows.start, :cols.stop - cols.start] = layer[rows, cols]
        shuffled = padded.view(np.uint8).reshape(-1, 4).T.copy()
        packer = zlib.compressobj(CUBE_COMPLEVEL, zlib.DEFLATED, zlib.MAX_WBITS, ZLIB_MEM_LEVEL, CUBE_STRATEGY)
        assert packed_chunk(layer, (rows, cols), chunk=(edge, edge)) == packer.compress(shuffled) + packer.flush()
