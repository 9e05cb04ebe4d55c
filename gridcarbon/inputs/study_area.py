"""A custom study area: the user's region polygons (any vector file, any CRS) and their checks.

A scenario names ``boundaries`` (GeoPackage, GeoJSON, Shapefile, FlatGeobuf, GeoParquet; the
first layer) and ``region_field``, the column that names the regions. Records sharing a name
form one region. Every problem is one line naming the file and the record
(docs/architecture.md, "Any study area"): a missing file or field, a record without a name or
a polygon, a region outside mainland China, two regions overlapping each other.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import shapely

from gridcarbon.core.errors import CRSError, GeometryError, InputError, SchemaError
from gridcarbon.core.grid import CHINA_ALBERS
from gridcarbon.inputs.regions import load_regions, map_outlines

if TYPE_CHECKING:  # read only: the readers sit below the scenario schema
    from gridcarbon.config import Scenario

#: part of the smaller of two regions (0..1 of its area) two regions may share before they
#: count as overlapping. ASSUMPTION: hand-drawn or separately simplified borders leave slivers
#: of well under 0.1 % of a region; a real overlap (a city inside its province) is far larger
OVERLAP_TOLERANCE = 0.001
#: part of a region (0..1 of its area) that must lie in mainland China for it to be studied.
#: ASSUMPTION: a region drawn along the coast may reach into the sea; one almost entirely
#: outside the national provinces has no inventory, landscape or drivers to clip
MIN_CHINA_SHARE = 0.01
#: a polygon's edges are straight in its file's CRS; before it is reprojected each edge is cut
#: into pieces no longer than the file's extent (bounding-box diagonal) over DENSIFY_PARTS, so
#: the reprojected outline follows them. ASSUMPTION: 1/500 of the extent (under 1 km for an
#: area 500 km across) moves no 1 km cell centre across a border
DENSIFY_PARTS = 500
#: shapely geometry type ids of polygons (Polygon, MultiPolygon)
POLYGON_TYPES = (3, 6)


def scenario_regions(scenario: Scenario) -> gpd.GeoDataFrame:
    """The study area's region polygons (EPSG:4326, column ``region``): the boundaries file's,
    else the built-in region set's."""
    if scenario.boundaries is not None:
        return read_study_regions(scenario.boundaries, scenario.region_field)
    return load_regions(scenario.region_set)


def scenario_outlines(scenario: Scenario) -> gpd.GeoDataFrame:
    """Outlines drawn on a scenario's maps (EPSG:4326): its own regions, or the built-in set's."""
    if scenario.boundaries is not None:
        return scenario_regions(scenario)
    return map_outlines(scenario.region_set)


def read_study_regions(path: str | Path, field: str) -> gpd.GeoDataFrame:
    """The regions of a boundaries file: column ``region`` (the ``field`` values as text) and
    one (multi)polygon per region, EPSG:4326, in order of first appearance.

    Raises :class:`InputError` (or a subclass) naming the file and record on any problem.
    """
    path = Path(path)
    return _read_checked(str(path.resolve()), path.stat().st_mtime_ns if path.exists() else 0, field).copy()


def study_region_ids(path: str | Path, field: str) -> tuple[str, ...]:
    """The region ids of a boundaries file (checked as :func:`read_study_regions`)."""
    return tuple(read_study_regions(path, field)["region"])


@lru_cache(maxsize=8)
def _read_checked(path: str, _mtime: int, field: str) -> gpd.GeoDataFrame:
    name = Path(path).name
    frame = _read(path, name)
    if field not in frame.columns:
        columns = ", ".join(c for c in frame.columns if c != "geometry")
        raise SchemaError(f"no column {field!r} naming the regions", source=name, record="region_field",
                          hint=f"set region_field to one of: {columns}")
    for i, (value, geom) in enumerate(zip(frame[field], frame.geometry)):
        if pd.isna(value) or not str(value).strip():
            raise SchemaError(f"{field} is empty", source=name, record=i, hint="give every polygon a region name")
        if geom is None or geom.is_empty or shapely.get_type_id(geom) not in POLYGON_TYPES:
            raise GeometryError(f"region {value!r} has no polygon", source=name, record=i,
                                hint="study areas are polygons: remove points and lines")
    xmin, ymin, xmax, ymax = frame.total_bounds
    step = ((xmax - xmin) ** 2 + (ymax - ymin) ** 2) ** 0.5 / DENSIFY_PARTS
    frame = frame.assign(region=frame[field].astype(str).str.strip(),
                         geometry=shapely.segmentize(shapely.make_valid(frame.geometry.values), step))
    regions = frame.dissolve("region", sort=False).reset_index()[["region", "geometry"]]
    _check_overlaps(regions, name)
    _check_in_china(regions, name)
    return regions.to_crs("EPSG:4326")


def _read(path: str, name: str) -> gpd.GeoDataFrame:
    if not Path(path).is_file():
        raise InputError("boundaries file not found", source=name, record="boundaries",
                         hint="give a vector file of region polygons (write one with gridcarbon boundaries)")
    try:
        frame = gpd.read_parquet(path) if path.endswith(".parquet") else gpd.read_file(path, layer=0)
    except Exception as err:
        raise InputError(f"cannot be read as a vector file ({str(err).splitlines()[0][:120]})", source=name,
                         record="boundaries", hint="give a GeoPackage, GeoJSON, Shapefile or FlatGeobuf") from err
    if frame.crs is None:
        raise CRSError("boundaries have no CRS", source=name, record="boundaries",
                       hint="assign one, e.g. with ogr2ogr -a_srs EPSG:4326")
    if frame.empty:
        raise GeometryError("holds no region polygons", source=name, record="boundaries")
    return frame


def _check_overlaps(regions: gpd.GeoDataFrame, name: str) -> None:
    """Refuse two regions sharing more than :data:`OVERLAP_TOLERANCE` of the smaller one's area."""
    metric = regions.to_crs(CHINA_ALBERS).geometry.values
    area = shapely.area(metric)
    left, right = shapely.STRtree(metric).query(metric, predicate="intersects")
    for a, b in zip(left, right):
        if a < b:
            shared = shapely.area(shapely.intersection(metric[a], metric[b]))
            if shared > OVERLAP_TOLERANCE * min(area[a], area[b]):
                raise GeometryError(f"regions {regions.region[a]!r} and {regions.region[b]!r} overlap "
                                    f"({shared / 1e6:.0f} km2)", source=name, record=regions.region[b],
                                    hint="regions must not overlap: each place belongs to one region")


def _check_in_china(regions: gpd.GeoDataFrame, name: str) -> None:
    """Refuse a region with less than :data:`MIN_CHINA_SHARE` of its area in mainland China."""
    metric = regions.to_crs(CHINA_ALBERS).geometry.values
    china = shapely.union_all(load_regions("china").to_crs(CHINA_ALBERS).geometry.values)
    inside = shapely.area(shapely.intersection(metric, china)) / shapely.area(metric)
    outside = [r for r, share in zip(regions.region, inside) if share < MIN_CHINA_SHARE]
    if len(outside) == len(regions):
        raise GeometryError("no region overlaps mainland China", source=name, record=outside[0],
                            hint="check the file's CRS and coordinates")
    if outside:
        raise GeometryError(f"region {outside[0]!r} lies outside mainland China", source=name, record=outside[0],
                            hint="remove it or check its coordinates")
