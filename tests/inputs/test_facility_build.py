"""The facility tables are reproducible: gridcarbon.inputs.gem.build_facility_tables regenerates the
shipped data/facilities/*.csv byte for byte from the original GEM / GPPD files in ../shared/data."""
from __future__ import annotations

from pathlib import Path

import pytest

from gridcarbon.inputs.facilities import TABLES, shipped_path

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
if not (SHARED_DATA / "gem_plant_trackers").is_dir() or not (SHARED_DATA / "gppd_china").is_dir():
    pytest.skip("../shared/data (gem_plant_trackers, gppd_china) is not present on this machine",
                allow_module_level=True)

pytestmark = pytest.mark.slow  # reads three GEM workbooks (~20 s)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from gridcarbon.inputs.gem import build_facility_tables

    out = tmp_path_factory.mktemp("facilities")
    return out, build_facility_tables(SHARED_DATA, out)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_build_regenerates_the_shipped_table_byte_for_byte(built, name):
    out, _ = built
    assert (out / name).read_bytes() == shipped_path(TABLES[name]).read_bytes()


def test_build_report(built):
    _, report = built
    assert report["coal_units.csv"]["dropped"] == {"cancelled": 1016}
    assert report["steel_plants.csv"]["dropped"] == {"cancelled": 14}
    assert report["gas_plants.csv"]["dropped"] == {"outside the 31 provinces (Hong Kong, Macau)": 5}
    assert report["power_capacity.csv"]["dropped"] == {
        "GEM coordinates in Hong Kong / Macau": 5, "GPPD outside the 31 provinces": 0, "cancelled (GEM)": 236}
    for name in ("coal_units.csv", "steel_plants.csv", "cement_plants.csv"):
        assert report[name]["unmapped_provinces"] == {}  # every GEM province name maps
    # GEM hydro's border dams, a typo and empty cells: placed by their coordinates
    assert report["power_capacity.csv"]["unmapped_provinces"] == {
        "(empty)": 5, "Fujiang": 1, "Guangxi - Guizhou border": 3, "Sichuan - Qinghai border": 1,
        "Sichuan - Tibet border": 10, "Sichuan - Yunnan border": 6, "Yunnan - Guizhou border": 1}
