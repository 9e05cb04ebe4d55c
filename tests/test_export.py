"""Export layer: COG rasters, QGIS styles, the CF NetCDF cube and PNG maps."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import geopandas as gpd
import matplotlib.image as mpimg
import numpy as np
import pytest
import rasterio
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from pyproj import CRS
from rio_cogeo.cogeo import cog_validate
from shapely.geometry import box

from gridcarbon.core.errors import OutputError, RasterInputError
from gridcarbon.core.grid import Grid
from gridcarbon.output.export import NODATA, read_raster_band, write_cog, write_netcdf
from gridcarbon.output.maps import render_change, render_map, render_panel
from gridcarbon.output.styles import log_limits, tonnes_label, write_qml

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TAGS = {"sector": "power", "year": 2030, "scenario": "test-scenario", "scenario_hash": "abc123",
        "seed": 42, "gridcarbon_version": "0.1.0"}


# -- factories -----------------------------------------------------------------------
def regions() -> gpd.GeoDataFrame:
    """Two adjacent 0.5 x 1 degree regions around 120E 31N (WGS84)."""
    return gpd.GeoDataFrame({"region": ["west", "east"]},
                            geometry=[box(119.5, 30.5, 120.0, 31.5), box(120.0, 30.5, 120.5, 31.5)],
                            crs="EPSG:4326")


def layer(grid: Grid, *, seed: int = 0, zero_share: float = 0.3) -> np.ndarray:
    """Lognormal t CO2/yr/cell (1e2-1e6 t) with some zero cells; garbage outside regions."""
    rng = np.random.default_rng(seed)
    values = rng.lognormal(mean=9.0, sigma=2.0, size=grid.shape)
    values[rng.random(grid.shape) < zero_share] = 0.0
    values[~grid.inside] = 123.0  # must not leak into any output
    return values


@pytest.fixture(scope="module")
def grid() -> Grid:
    return Grid.from_regions(regions(), res=10_000)


@pytest.fixture(scope="module")
def values(grid) -> np.ndarray:
    return layer(grid)


@pytest.fixture(scope="module")
def cog(grid, values, tmp_path_factory):
    path = tmp_path_factory.mktemp("cog") / "power.tif"
    return write_cog(path, values, grid, description="Power and heat 2030", tags=TAGS)


@pytest.fixture(scope="module")
def cube(grid) -> xr.Dataset:
    sectors, years = ["power", "buildings", "forest_sink"], [2024, 2030, 2060]
    data = np.stack([np.stack([layer(grid, seed=10 * i + j) for j in range(len(years))])
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


def test_cog_larger_than_a_tile_has_average_overviews(tmp_path):
    fine = Grid.from_regions(regions(), res=200)  # > 512 rows, so GDAL must build overviews
    path = write_cog(tmp_path / "fine.tif", layer(fine), fine, description="fine", tags={})
    assert cog_validate(path)[:2] == (True, [])
    with rasterio.open(path) as src:
        assert src.overviews(1)
        full = src.read(1, masked=True)
        half = src.read(1, masked=True, out_shape=(src.height // 2, src.width // 2))
    assert not half.mask.all()
    assert np.ma.max(half) <= np.ma.max(full)  # averages, never beyond the data
    assert np.ma.min(half) >= 0  # nodata (-9999) is not averaged into inside cells


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


# -- QGIS styles ---------------------------------------------------------------------
def style(folder, kind: str):
    return write_qml(folder / f"{kind}.qml", kind=kind, vmin=1e2, vmax=1e6, label=f"{kind} 2030")


def ramp_items(path) -> list[ET.Element]:
    root = ET.parse(path).getroot()
    assert root.tag == "qgis" and root.get("version").startswith("3.")
    assert root.get("styleCategories") == "AllStyleCategories"
    renderer = root.find("pipe/rasterrenderer")
    assert renderer.get("type") == "singlebandpseudocolor" and renderer.get("band") == "1"
    shader = renderer.find("rastershader/colorrampshader")
    assert shader.get("colorRampType") == "INTERPOLATED" and shader.get("clip") == "0"
    return shader.findall("item")


@pytest.mark.parametrize("kind", ["sequential", "diverging"])
def test_qml_is_a_qgis_pseudocolor_ramp_with_increasing_log_stops(kind, tmp_path):
    path = style(tmp_path, kind)
    assert path.read_text().startswith("<!DOCTYPE qgis")
    items = ramp_items(path)
    values = [float(item.get("value")) for item in items]
    assert len(items) >= 6 and values == sorted(set(values))
    assert values[-1] == pytest.approx(1e6)
    assert all(item.get("label").endswith(" t") for item in items)
    assert all(item.get("color").startswith("#") and len(item.get("color")) == 7 for item in items)
    positive = [v for v in values if v > 0]
    assert np.allclose(np.diff(np.log10(positive)), np.diff(np.log10(positive))[0])  # log spaced


def test_sequential_qml_shows_zero_transparent(tmp_path):
    items = ramp_items(style(tmp_path, "sequential"))
    assert float(items[0].get("value")) == 0 and items[0].get("alpha") == "0"
    assert [item.get("label") for item in items[1:4]] == ["1e2 t", "3.2e2 t", "1e3 t"]


def test_diverging_qml_is_symmetric_green_to_red(tmp_path):
    items = ramp_items(style(tmp_path, "diverging"))
    values = np.array([float(item.get("value")) for item in items])
    assert (values < 0).any() and (values > 0).any() and 0 in values
    np.testing.assert_allclose(values, -values[::-1])

    def rgb(item):
        colour = item.get("color")
        return [int(colour[i:i + 2], 16) for i in (1, 3, 5)]

    assert rgb(items[0])[1] > rgb(items[0])[0]  # removals green
    assert rgb(items[-1])[0] > rgb(items[-1])[1]  # emissions red
    assert min(rgb(items[len(items) // 2])) > 230  # zero near white


def test_qml_rejects_an_empty_log_range(tmp_path):
    with pytest.raises(ValueError):
        write_qml(tmp_path / "x.qml", kind="sequential", vmin=1e6, vmax=1e2, label="x")


def test_labels_and_limits():
    labels = [tonnes_label(v) for v in (0, 1e4, 31622.8, -1e2)]
    assert labels == ["0 t", "1e4 t", "3.2e4 t", "-1e2 t"]
    assert log_limits(np.array([0.0, 3.2e5, np.nan, -7e5])) == (1e2, 1e6)
    assert log_limits(np.zeros(4)) == (1e2, 1e6)


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
        again = write_netcdf(tmp_path / "again.nc", ds.transpose("year", "sector", "y", "x"), grid,
                             attrs={"title": "again"})
        with xr.open_dataset(again) as back:
            assert back["emission"].dims == ("sector", "year", "y", "x")
            np.testing.assert_array_equal(back["emission"].values, ds["emission"].values)
            assert CRS.from_wkt(back.rio.crs.to_wkt()).equals(grid.crs)


def test_netcdf_needs_the_emission_cube(grid, cube, tmp_path):
    with pytest.raises(OutputError, match="emission"):
        write_netcdf(tmp_path / "x.nc", cube.rename(emission="other"), grid, attrs={})


# -- PNG maps ------------------------------------------------------------------------
def render_all(folder, grid, values) -> list:
    net = values - 2 * layer(grid, seed=5)
    return [
        render_map(folder / "map.png", values, grid, boundaries=regions(), title="Power 2030",
                   kind="sequential"),
        render_map(folder / "net.png", net, grid, boundaries=regions(), title="Net 2030",
                   kind="diverging"),
        render_panel(folder / "panel.png", {"power": values, "sink": -0.1 * values}, grid,
                     boundaries=regions(), title="Sectors 2030"),
        render_change(folder / "change.png", values, 0.5 * values, grid, boundaries=None,
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
    path = render_change(tmp_path / "none.png", zeros, zeros, grid, boundaries=regions(),
                         title="no change")
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_large_layers_are_drawn_as_block_means(grid, values, tmp_path, monkeypatch):
    """A layer wider than MAX_DISPLAY cells (a 1 km national grid) is drawn reduced, mass per cell kept."""
    from gridcarbon.output import maps

    monkeypatch.setattr(maps, "MAX_DISPLAY", 30)
    shown, inside = maps._display(values, grid.inside)
    k = int(np.ceil(max(values.shape) / 30))
    assert max(shown.shape) <= 30 and shown.shape == (-(-values.shape[0] // k), -(-values.shape[1] // k))
    cells = np.pad(grid.inside, ((0, -values.shape[0] % k), (0, -values.shape[1] % k))).reshape(
        shown.shape[0], k, shown.shape[1], k).sum(axis=(1, 3))
    assert np.isclose((shown * cells).sum(), np.where(grid.inside, values, 0.0).sum(), rtol=1e-12)
    assert inside.sum() == (cells > 0).sum()
    path = render_map(tmp_path / "big.png", values, grid, boundaries=regions(), title="reduced")
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    monkeypatch.setattr(maps, "MAX_DISPLAY", 10_000)
    assert maps._display(values, grid.inside)[0] is values  # small grids are drawn as they are
