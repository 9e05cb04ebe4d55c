"""COG overviews that keep the layer's total: each overview pixel holds the sum of its cells.

A layer holds t CO2/yr per cell, so a zoomed-out pixel that averaged its cells would show a
number of no stated meaning. Here an overview pixel at factor ``f`` holds the tonnes of the
``f`` x ``f`` cells it covers (t CO2/yr per overview pixel), and every overview level sums to the
full-resolution total. GDAL 3.10 has no SUM overview resampling, so the levels are computed
here and handed to the COG driver as the overviews of a VRT source (``OVERVIEWS=
FORCE_USE_EXISTING``). Levels follow the COG driver's rule: halve until the coarsest level
fits in one tile.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import numpy as np
from rasterio.io import DatasetWriter, MemoryFile

from gridcarbon.core.blocks import inside_block_sums

#: tag (and QGIS legend note) saying how overview pixels are formed
OVERVIEW_RESAMPLING = "sum"


def overview_factors(shape: tuple[int, int], block: int) -> list[int]:
    """Decimation factors (2, 4, ...) of the COG driver's overviews of a ``shape`` (y, x) raster
    tiled in ``block`` pixels: until both sides of the coarsest level fit in one tile."""
    factors, f = [], 1
    while -(-shape[0] // f) > block or -(-shape[1] // f) > block:
        f *= 2
        factors.append(f)
    return factors


def _halve(values: np.ndarray, inside: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sums (float64, t CO2/yr) of the ``inside`` cells of each 2 x 2 block of ``values`` (y, x,
    t CO2/yr/cell) and whether a block holds any inside cell."""
    sums, counts = inside_block_sums(values, inside, 2, np.float64)
    return sums, counts > 0


def block_sums_by_level(values: np.ndarray, inside: np.ndarray, factors: list[int]) -> Iterator[np.ndarray]:
    """Each overview level of ``values`` (y, x, t CO2/yr/cell) as float64 block sums over the
    ``inside`` cells, NaN where a block holds no inside cell (no float64 copy of ``values`` is made)."""
    total, holds = values, inside
    for _ in factors:
        total, holds = _halve(total, holds)
        yield np.where(holds, total, np.nan)


@contextmanager
def with_sum_overviews(staging: DatasetWriter, values: np.ndarray, inside: np.ndarray, *,
                       block: int, nodata: float) -> Iterator[str]:
    """A VRT (XML text) of the finished ``staging`` dataset whose overviews are the block sums
    of ``values``; copy it with the COG driver and ``OVERVIEWS=FORCE_USE_EXISTING``.

    The VRT carries ``staging``'s band description, unit and tags. Valid while the context is open.
    """
    factors = overview_factors(values.shape, block)
    with ExitStack() as stack:
        levels = []
        for f, level in zip(factors, block_sums_by_level(values, inside, factors)):
            mem = stack.enter_context(MemoryFile())
            profile = {**staging.profile, "width": level.shape[1], "height": level.shape[0],
                       "transform": staging.transform * staging.transform.scale(f, f)}
            with mem.open(**profile) as dst:
                dst.write(np.where(np.isnan(level), nodata, level).astype(np.float32), 1)
            levels.append(mem.name)
        yield _vrt(staging, levels)


def _vrt(staging: DatasetWriter, levels: list[str]) -> str:
    """VRT XML of ``staging`` band 1 with the datasets ``levels`` as its overviews."""
    root = ET.Element("VRTDataset", rasterXSize=str(staging.width), rasterYSize=str(staging.height))
    ET.SubElement(root, "SRS").text = staging.crs.to_wkt()
    ET.SubElement(root, "GeoTransform").text = ", ".join(repr(float(v)) for v in staging.transform.to_gdal())
    _metadata(root, staging.tags())
    band = ET.SubElement(root, "VRTRasterBand", dataType="Float32", band="1")
    ET.SubElement(band, "Description").text = staging.descriptions[0] or ""
    ET.SubElement(band, "NoDataValue").text = repr(float(staging.nodata))
    ET.SubElement(band, "UnitType").text = staging.units[0] or ""
    _source(ET.SubElement(band, "SimpleSource"), staging.name)
    for name in levels:
        _source(ET.SubElement(band, "Overview"), name)
    return ET.tostring(root, encoding="unicode")


def _metadata(parent: ET.Element, tags: dict[str, str]) -> None:
    meta = ET.SubElement(parent, "Metadata")
    for key, value in tags.items():
        ET.SubElement(meta, "MDI", key=key).text = value


def _source(parent: ET.Element, filename: str) -> None:
    ET.SubElement(parent, "SourceFilename", relativeToVRT="0").text = filename
    ET.SubElement(parent, "SourceBand").text = "1"
