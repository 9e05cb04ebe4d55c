"""The default run's STAC catalogue: a Collection, an Item per exported year, every COG an asset.

Validated offline: the raster and projection extension fields against the extension schemas
vendored in ``stac_schemas/`` (jsonschema), the STAC core fields one by one, and every field
against the COG it describes (rasterio).
"""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pystac
import pytest
import rasterio
from pyproj import CRS

from gridcarbon.core.units import UNITS
from gridcarbon.output.export import NODATA

pytestmark = pytest.mark.slow

SCHEMAS = Path(__file__).parent / "stac_schemas"
EXTENSION_FILES = {"https://stac-extensions.github.io/raster/v1.1.0/schema.json": "raster-v1.1.0.json",
                   "https://stac-extensions.github.io/projection/v2.0.0/schema.json": "projection-v2.0.0.json"}


@pytest.fixture(scope="module")
def folder(default_run) -> Path:
    return Path(default_run.out_dir)


@pytest.fixture(scope="module")
def items(folder) -> dict[int, dict]:
    collection = json.loads((folder / "collection.json").read_text())
    links = [link["href"] for link in collection["links"] if link["rel"] == "item"]
    return {int(Path(href).parent.name): json.loads((folder / href).read_text()) for href in links}


def validate_extensions(item: dict) -> None:
    """Raise jsonschema.ValidationError unless ``item`` is valid against each extension it names."""
    for uri in item["stac_extensions"]:
        schema = json.loads((SCHEMAS / EXTENSION_FILES[uri]).read_text())
        jsonschema.Draft7Validator(schema).validate(item)


def test_collection_core_fields(folder, default_run):
    collection = json.loads((folder / "collection.json").read_text())
    assert collection["type"] == "Collection" and collection["stac_version"] == "1.1.0"
    assert collection["id"] == "gridcarbon-yrd-enhanced" and collection["license"] == "CC-BY-4.0"
    assert collection["description"] and collection["gridcarbon:references"]
    (west, south, east, north), = collection["extent"]["spatial"]["bbox"]
    assert 114 < west < east < 124 and 26 < south < north < 36  # the Yangtze River Delta
    assert collection["extent"]["temporal"]["interval"] == [["2024-01-01T00:00:00Z", "2060-12-31T23:59:59Z"]]
    for asset in collection["assets"].values():
        assert (folder / asset["href"]).is_file(), asset["href"]
    assert pystac.read_file(folder / "collection.json").id == collection["id"]
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # nothing written beside the run folder


def test_an_item_per_exported_year_with_every_cog(items, folder, default_run):
    sc = default_run.scenario
    assert sorted(items) == [sc.base_year, *sc.years]
    for year, item in items.items():
        cogs = sorted(p.stem for p in (folder / str(year)).glob("*.tif"))
        data = sorted(k for k, a in item["assets"].items() if a["roles"] == ["data"])
        assert data == cogs and len(cogs) == 15  # 11 sectors, total, net, storage fill, provenance
        assert item["type"] == "Feature" and item["stac_version"] == "1.1.0" and item["id"] == f"yrd-enhanced-{year}"
        assert item["properties"]["datetime"] is None
        assert item["properties"]["start_datetime"] == f"{year}-01-01T00:00:00Z"
        assert item["collection"] == "gridcarbon-yrd-enhanced" and item["geometry"]["type"] == "Polygon"


def test_raster_and_projection_fields_describe_the_cogs(items, folder):
    for year, item in items.items():
        props = item["properties"]
        for name, asset in item["assets"].items():
            assert (folder / str(year) / asset["href"]).is_file()
            if asset["roles"] != ["data"]:
                continue
            with rasterio.open(folder / str(year) / asset["href"]) as src:
                assert props["proj:shape"] == [src.height, src.width]
                assert props["proj:transform"] == list(src.transform)[:6]
                assert CRS.from_wkt(props["proj:wkt2"]).equals(CRS.from_wkt(src.crs.to_wkt()))
                assert len(asset["raster:bands"]) == src.count, name
                for band, dtype, unit in zip(asset["raster:bands"], src.dtypes, src.units):
                    assert band == {"nodata": NODATA, "data_type": dtype, "unit": unit or UNITS,
                                    "spatial_resolution": src.res[0]}, name
                assert name != "total" or asset["raster:bands"][0]["unit"] == UNITS
        assert props["proj:code"] is None  # the Albers grid has no EPSG code: the WKT2 says it all


def test_items_valid_against_the_extension_schemas(items):
    for item in items.values():
        assert sorted(item["stac_extensions"]) == sorted(EXTENSION_FILES)
        validate_extensions(item)


def test_an_invalid_field_fails_the_schema(items):
    item = json.loads(json.dumps(next(iter(items.values()))))
    item["assets"]["total"]["raster:bands"][0]["data_type"] = "float99"
    with pytest.raises(jsonschema.ValidationError, match="float99"):
        validate_extensions(item)
