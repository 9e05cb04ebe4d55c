"""Line-source evolution (gridcarbon.evolution.lines): corridors that electrify, open and grow,
on the two-region grid of ``conftest.py``."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString

from gridcarbon.config import EvolutionSpec
from gridcarbon.config.evolution import schedule_at
from gridcarbon.core.gridding import line_coverage
from gridcarbon.core.sectors import LINE_SECTORS
from gridcarbon.evolution.lines import ELECTRIFICATION_EFFECT, Corridors


def test_corridors_electrification_opening_year_and_regional_growth(grid):
    lines = gpd.GeoDataFrame({
        "sector": ["transport_road", "transport_other", "transport_other", "transport_road", "transport_road"],
        "kind": ["motorway", "waterway", "rail", "motorway", "motorway"],
        "emission_t": [100.0, 50.0, 40.0, 80.0, 60.0],
        "opened": [np.nan, np.nan, 2000, np.nan, 2030],
    }, geometry=[LineString([(500, 9500), (9500, 9500)]),       # row 0, A
                 LineString([(500, 7500), (9500, 7500)]),       # row 2, A
                 LineString([(500, 5500), (9500, 5500)]),       # row 4, A
                 LineString([(5000, 3500), (15000, 3500)]),     # row 6, half A half B
                 LineString([(10500, 1500), (19500, 1500)])],   # row 8, B, opens 2030
        crs=grid.crs)
    cov = line_coverage(lines.geometry, grid, np.full(len(lines), -1, np.int64))
    cor = Corridors.build(lines, cov, grid, 2024)
    assert cor.region_share[3] == pytest.approx([0.5, 0.5])

    def per_line(year, gdp, elec):
        sched = EvolutionSpec(electrification={"urban_passenger": {2024: 0.0}, "freight": {2024: 0.0, 2035: elec}})
        lay = cor.layers(year, grid, gdp_ratio=np.asarray(gdp, float), pop_ratio=np.ones(2),
                         electrification=sched.electrification).sum(axis=0)  # each line sits in its own row
        return lay.sum(axis=1)[[0, 2, 4, 6, 8]]

    base = per_line(2024, [1, 1], 0.0)
    assert base == pytest.approx([100.0, 50.0, 40.0, 80.0, 0.0])  # not yet open
    # half the freight activity electrified (no built-up given: all freight):
    # motorway x 0.5, rail x 0.75, waterway x 1
    e = per_line(2035, [1, 1], 0.5)
    assert e[:4] / base[:4] == pytest.approx([0.5, 1.0, 0.75, 0.5])
    assert e[0] / e[1] < base[0] / base[1]  # motorway falls relative to waterway
    # opened 2030: nothing in 2029, its full base weight from 2030
    assert per_line(2029, [1, 1], 0.0)[4] == 0.0
    assert per_line(2030, [1, 1], 0.0)[4] == pytest.approx(60.0)
    # GDP x4 in B only: growth 4 ** 0.5 = 2 for B's line, (1 + 2) / 2 for the straddling one
    g = per_line(2040, [1, 4], 0.0)
    assert g / np.r_[base[:4], 60.0] == pytest.approx([1.0, 1.0, 1.0, 1.5, 2.0])
    # layers land in the corridor's sector
    full = cor.layers(2040, grid, gdp_ratio=np.ones(2), pop_ratio=np.ones(2))
    road, other = LINE_SECTORS.index("transport_road"), LINE_SECTORS.index("transport_other")
    assert full[road].sum() == pytest.approx(240.0) and full[other].sum() == pytest.approx(90.0)
    assert ELECTRIFICATION_EFFECT["waterway"] == 0.0


def test_schedule_at_interpolates_linearly():
    sched = {2024: 0.03, 2035: 0.35, 2060: 0.9}
    assert schedule_at(sched, 2024) == pytest.approx(0.03)
    assert schedule_at(sched, 2030) == pytest.approx(0.03 + 0.32 * 6 / 11)
    assert schedule_at(sched, 2060) == pytest.approx(0.9)
    assert schedule_at(sched, 2070) == pytest.approx(0.9)  # held after the last year
