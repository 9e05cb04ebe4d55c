"""A STAC catalogue of the run folder: ``collection.json`` and an Item per exported year.

``collection.json`` (STAC 1.1, built with pystac, a self-contained catalogue: relative
links) describes the run (extent in WGS84, years, licence, the data sources) and carries the
run-wide files as assets (``cube.nc``, ``totals.csv``, ``report.html``, ``manifest.json``).
Each exported year gets ``<year>/item.json``, an Item with every COG of the year as a data
asset (raster extension: float32, nodata, unit ``t CO2/yr/cell``, cell size; projection
extension: WKT2 of the grid CRS, no EPSG code as the Albers grid has none, shape and affine
transform) and its ``.qml`` as a style asset. A catalogue or web map can index the run
without opening a raster.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pystac
import rasterio
from pyproj import CRS
from pystac.extensions.projection import ProjectionExtension
from pystac.extensions.raster import DataType, RasterBand, RasterExtension

from gridcarbon.core.units import UNITS
from gridcarbon.output.atomic import write_text_atomic
from gridcarbon.output.layers import exported_years, layer_style
from gridcarbon.output.metadata import DATA_LICENSE, REFERENCES, SUMMARY, lonlat_bounds

COLLECTION_FILE, ITEM_FILE = "collection.json", "item.json"
#: run-wide files every run folder holds, listed as collection assets: name -> (media type, role)
RUN_ASSETS = {"cube.nc": ("application/netcdf", "data"), "totals.csv": ("text/csv", "metadata"),
              "report.html": (pystac.MediaType.HTML, "overview"), "manifest.json": (pystac.MediaType.JSON, "metadata")}


def write_stac(root: Path, manifest: dict) -> Path:
    """Write the catalogue of the run folder ``root`` (``manifest``: the run's manifest);
    returns the path of ``collection.json``.

    pystac builds the objects; the JSON is written here, each file atomically, with relative
    links set explicitly (pystac's layouts would take the hidden ``.<name>.tmp-<pid>`` folder
    a run writes into for a file and place the catalogue beside it).
    """
    root = Path(root)
    years = exported_years(root)
    with rasterio.open(root / str(years[0]) / "total.tif") as src:
        grid = {"crs": CRS.from_wkt(src.crs.to_wkt()), "transform": list(src.transform)[:6],
                "shape": [src.height, src.width], "res": abs(src.transform.a),
                "bbox": list(lonlat_bounds(src.crs.to_wkt(), tuple(src.bounds)))}
    collection = _collection(manifest, grid)
    for asset, (media, role) in RUN_ASSETS.items():
        collection.add_asset(asset.split(".")[0], pystac.Asset(f"./{asset}", media_type=media, roles=[role]))
    up = "../" + COLLECTION_FILE
    for year in years:
        item = _item(root / str(year), year, manifest, grid)
        item.collection_id = collection.id
        item.links = [pystac.Link(rel, up, media_type=pystac.MediaType.JSON) for rel in ("root", "parent", "collection")]
        _write_json(root / str(year) / ITEM_FILE, item.to_dict(include_self_link=False, transform_hrefs=False))
    collection.links = [pystac.Link("root", "./" + COLLECTION_FILE, media_type=pystac.MediaType.JSON),
                        *[link for link in collection.links if link.rel == "license"],
                        *[pystac.Link("item", f"./{year}/{ITEM_FILE}", media_type=pystac.MediaType.GEOJSON)
                          for year in years]]
    return _write_json(root / COLLECTION_FILE, collection.to_dict(include_self_link=False, transform_hrefs=False))


def _write_json(path: Path, data: dict) -> Path:
    return write_text_atomic(path, json.dumps(data, indent=2) + "\n")


def _collection(manifest: dict, grid: dict) -> pystac.Collection:
    """The run's Collection: id, description, extent (WGS84 bbox, base year to end year), licence."""
    sc = manifest["scenario_resolved"]
    start, end = _year_span(sc["base_year"])[0], _year_span(sc["end_year"])[1]
    description = f"{sc.get('description', '')}\n\n" + SUMMARY.format(scenario=manifest["scenario"],
                                                                        seed=manifest["seed"])
    collection = pystac.Collection(
        id=f"gridcarbon-{manifest['scenario']}", title=f"gridcarbon run {manifest['scenario']}",
        description=description.strip(), license=DATA_LICENSE,
        extent=pystac.Extent(pystac.SpatialExtent([grid["bbox"]]), pystac.TemporalExtent([[start, end]])),
        keywords=["CO2", "emissions", "China", "carbon neutrality"],
        providers=[pystac.Provider("gridcarbon", roles=[pystac.ProviderRole.PROCESSOR,
                                                        pystac.ProviderRole.PRODUCER])],
        extra_fields={"gridcarbon:references": list(REFERENCES)})
    collection.add_link(pystac.Link("license", "https://creativecommons.org/licenses/by/4.0/",
                                    media_type=pystac.MediaType.HTML, title="CC BY 4.0"))
    return collection


def _item(folder: Path, year: int, manifest: dict, grid: dict) -> pystac.Item:
    """One exported year: every ``<layer>.tif`` of ``folder`` with raster and projection fields."""
    west, south, east, north = grid["bbox"]
    geometry = {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north], [west, north],
                                                    [west, south]]]}
    start, end = _year_span(year)
    item = pystac.Item(id=f"{manifest['scenario']}-{year}", geometry=geometry, bbox=grid["bbox"], datetime=None,
                       start_datetime=start, end_datetime=end,
                       properties={"gridcarbon:year": year, "gridcarbon:scenario": manifest["scenario"],
                                   "gridcarbon:scenario_hash": manifest["scenario_hash"],
                                   "gridcarbon:seed": manifest["seed"], "gridcarbon:units": UNITS})
    ProjectionExtension.ext(item, add_if_missing=True).apply(
        code=None, wkt2=grid["crs"].to_wkt("WKT2_2019"), shape=grid["shape"], transform=grid["transform"])
    RasterExtension.add_to(item)
    for tif in sorted(folder.glob("*.tif")):
        _, label = layer_style(tif.stem)
        asset = pystac.Asset(f"./{tif.name}", title=f"{label} {year}", media_type=pystac.MediaType.COG,
                             roles=["data"])
        with rasterio.open(tif) as src:  # one band per band of the file (provenance has several)
            bands = [RasterBand.create(nodata=src.nodata, data_type=DataType(dtype), unit=unit or UNITS,
                                       spatial_resolution=grid["res"]) for dtype, unit in zip(src.dtypes, src.units)]
        RasterExtension.ext(asset).apply(bands)
        item.add_asset(tif.stem, asset)
        if tif.with_suffix(".qml").is_file():
            item.add_asset(f"{tif.stem}_style", pystac.Asset(f"./{tif.stem}.qml", title=f"QGIS style of {tif.name}",
                                                              media_type=pystac.MediaType.XML, roles=["style"]))
    return item


def _year_span(year: int) -> tuple[datetime, datetime]:
    """First and last second of ``year`` (UTC): the period an annual emission layer covers."""
    return (datetime(year, 1, 1, tzinfo=UTC), datetime(year, 12, 31, 23, 59, 59, tzinfo=UTC))
