"""CRS lookups asked once per process (gridcarbon.core.grid.crs_lookup, LookedUpCRS)."""
from __future__ import annotations

import geopandas as gpd
import pytest
from pyproj import CRS

from gridcarbon.core import grid
from gridcarbon.core.grid import CHINA_ALBERS_CRS, LookedUpCRS, crs_lookup


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:3857", CHINA_ALBERS_CRS])
def test_lookups_give_what_pyproj_gives(crs):
    plain = CRS(crs)
    assert crs_lookup(plain) == (plain.to_string(), plain.to_epsg())
    assert grid._search(plain.srs) == (plain.to_string(), plain.to_epsg())  # not from the disk cache
    assert LookedUpCRS(plain).to_epsg() == plain.to_epsg()
    assert LookedUpCRS(plain).to_epsg(min_confidence=20) == plain.to_epsg(min_confidence=20)


def test_equal_crs_made_from_other_text_keep_their_own_string():
    """The lookup is keyed by the definition's text: an equal CRS from PROJJSON keeps its own string."""
    albers = CRS(CHINA_ALBERS_CRS)
    from_json = CRS(albers.to_json())
    assert from_json == albers and from_json.to_string() != albers.to_string()
    crs_lookup(from_json)
    assert crs_lookup(albers) == (albers.to_string(), albers.to_epsg())
    assert crs_lookup(from_json) == (from_json.to_string(), from_json.to_epsg())


def test_a_geopackage_written_with_a_looked_up_crs_keeps_it(tmp_path):
    frame = gpd.GeoDataFrame({"a": [1, 2]}, geometry=gpd.points_from_xy([0, 1e5], [0, 1e5]), crs=CHINA_ALBERS_CRS)
    crs = LookedUpCRS(frame.crs)
    for layer in ("one", "two"):
        frame.set_crs(crs, allow_override=True).to_file(tmp_path / "f.gpkg", layer=layer, driver="GPKG")
    for layer in ("one", "two"):
        assert gpd.read_file(tmp_path / "f.gpkg", layer=layer).crs == CRS(CHINA_ALBERS_CRS)


def test_a_new_process_reads_the_lookup_from_the_disk_cache(tmp_path, monkeypatch):
    """The EPSG search is done once per cache folder: a later process (here: the in-process
    memo cleared) answers from the entry and never searches."""
    monkeypatch.setenv("GRIDCARBON_CACHE_DIR", str(tmp_path))
    albers = CRS(CHINA_ALBERS_CRS)
    grid._lookup.cache_clear()
    first = crs_lookup(albers)
    assert list((tmp_path / "crs").glob("*.pkl"))

    def no_search(srs):
        raise AssertionError("searched the EPSG database again")

    monkeypatch.setattr(grid, "_search", no_search)
    grid._lookup.cache_clear()
    assert crs_lookup(albers) == first == (albers.to_string(), albers.to_epsg())
    grid._lookup.cache_clear()
