"""Scenario corridors (``evolution.new_corridors``) and the two electrification schedules:
validated with one line naming file and record, and opening on their year in a run."""
from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString

import gridcarbon
from gridcarbon.config import EvolutionSpec
from gridcarbon.core.errors import InputError
from gridcarbon.core.gridding import line_coverage
from gridcarbon.core.sectors import GRIDDED
from gridcarbon.evolution import EvolutionContext, evolve
from gridcarbon.testing import toy_drivers, toy_inventory

GOOD = {"id": "G99", "kind": "motorway", "opened": 2030, "path": [[119.0, 31.0], [120.5, 31.5]]}


def _problems(tmp_path, corridors=None, electrification=None) -> list[str]:
    import yaml

    evolution = {"new_corridors": corridors} if corridors is not None else {}
    if electrification is not None:
        evolution["electrification"] = electrification
    path = tmp_path / "corridors.yaml"
    path.write_text(yaml.safe_dump({"extends": "yrd-enhanced", "name": "yrd-corridors", "evolution": evolution}))
    return gridcarbon.validate_scenario(path)


def test_a_valid_corridor_list_loads(tmp_path):
    assert _problems(tmp_path, [GOOD, {**GOOD, "id": "R1", "kind": "rail", "traffic_weight": 0.5}]) == []


@pytest.mark.parametrize(("record", "where", "says"), [
    ({**GOOD, "opened": 2024}, "evolution.new_corridors[0].opened", "outside 2025..2060"),
    ({**GOOD, "opened": 2070}, "evolution.new_corridors[0].opened", "outside 2025..2060"),
    ({**GOOD, "kind": "canal"}, "evolution.new_corridors[0].kind", "motorway"),
    ({**GOOD, "path": [[119.0, 31.0]]}, "evolution.new_corridors[0].path", "at least 2"),
    ({**GOOD, "path": [[31.0, 119.0], [31.5, 120.5]]}, "evolution.new_corridors[0].path", "[lon, lat]"),
    ({**GOOD, "path": [[119.0, 31.0], [119.0, 31.0]]}, "evolution.new_corridors[0].path", "two distinct"),
    ({**GOOD, "traffic_weight": 0.0}, "evolution.new_corridors[0].traffic_weight", "greater than 0"),
    ({k: v for k, v in GOOD.items() if k != "opened"}, "evolution.new_corridors[0].opened", "required"),
])
def test_a_bad_corridor_is_one_line_naming_file_and_record(tmp_path, record, where, says):
    problems = _problems(tmp_path, [record])
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"corridors.yaml: {where}: ") and says in problems[0]


def test_repeated_corridor_ids_and_bad_schedules_are_refused(tmp_path):
    (twice,) = _problems(tmp_path, [GOOD, GOOD])
    assert "evolution.new_corridors" in twice and "G99" in twice
    (share,) = _problems(tmp_path, electrification={"urban_passenger": {2024: 1.2}, "freight": {2024: 0.0}})
    assert "evolution.electrification.urban_passenger" in share and "[0, 1]" in share
    (full,) = _problems(tmp_path, electrification={"urban_passenger": {2024: 1.0}, "freight": {2024: 0.0}})
    assert full.startswith("corridors.yaml: evolution.electrification.urban_passenger: ") and "base year 2024" in full
    with pytest.raises(ValueError, match="at least one year"):  # a file's {} merges with what it extends
        EvolutionSpec(electrification={"urban_passenger": {}, "freight": {2024: 0.0}})


# -- a corridor opening in a run ---------------------------------------------------------------
YEARS = list(range(2024, 2033))


def _toy_with_a_motorway(grid):
    """Toy base year on the two-region grid: urban road in A's town, one motorway along row 1 of A."""
    rows, cols = np.indices(grid.shape)
    layers = np.zeros((len(GRIDDED),) + grid.shape)
    road = GRIDDED.index("transport_road")
    layers[road] = np.where((rows < 4) & (cols < 4), 10.0, 0.1)
    lines = gpd.GeoDataFrame({"id": ["M1"], "sector": ["transport_road"], "kind": ["motorway"],
                              "emission_t": [90.0]}, geometry=[LineString([(500, 8500), (9500, 8500)])], crs=grid.crs)
    cov = line_coverage(lines.geometry, grid, np.full(1, -1, np.int64))
    layers[road] += cov.spread(lines.emission_t.to_numpy(), grid)[0]
    inv = toy_inventory(grid, layers=layers)
    return dataclasses.replace(inv, lines=lines, line_coverage=cov)


def _flat_totals(inv) -> pd.DataFrame:
    base = inv.totals[inv.totals.sector.isin(GRIDDED)]
    return pd.concat([base.assign(year=y, allocated_t=base.value_t) for y in YEARS]).drop(columns="value_t")


def _evolve(inv, land, suitability, corridors):
    spec = EvolutionSpec(new_corridors=corridors)
    ctx = EvolutionContext.build(inv, land, toy_drivers(inv.grid, YEARS), suitability, spec=spec, seed=1,
                                 end_year=YEARS[-1])
    return evolve(ctx, _flat_totals(inv))


def test_a_scenario_corridor_opens_on_its_year(grid, toy_base):
    _, land, suitability = toy_base
    inv = _toy_with_a_motorway(grid)
    lon_lat = gpd.GeoSeries([LineString([(10500, 500), (19500, 500)])], crs=grid.crs).to_crs("EPSG:4326")
    path = [list(p) for p in lon_lat.iloc[0].coords]  # along the bottom row of B, which has no corridor
    new = {"id": "G2", "kind": "motorway", "opened": 2030, "path": path, "traffic_weight": 2.0}
    res = _evolve(inv, land, suitability, [new])
    road = GRIDDED.index("transport_road")
    bottom_b = np.s_[9, 10:]
    share = {y: res.layers[y][road][bottom_b].sum() / res.layers[y][road][:, 10:].sum() for y in YEARS}
    before, after = max(share[y] for y in YEARS if y < 2030), min(share[y] for y in YEARS if y >= 2030)
    assert before < 0.15 and after > 0.4  # B's road moves onto the new motorway in 2030
    assert res.summary()["max_relative_residual"] <= 1e-6
    again = _evolve(inv, land, suitability, [new])
    assert all(np.array_equal(res.layers[y], again.layers[y]) for y in YEARS)


def test_a_scenario_corridor_outside_the_grid_or_without_a_kind_to_copy_is_refused(grid, toy_base):
    _, land, suitability = toy_base
    inv = _toy_with_a_motorway(grid)
    far = {"id": "FAR", "kind": "motorway", "opened": 2030, "path": [[10.0, 10.0], [10.5, 10.5]]}
    with pytest.raises(InputError, match=r"evolution.new_corridors.*record 0.*'FAR' lies outside"):
        _evolve(inv, land, suitability, [far])
    lon_lat = gpd.GeoSeries([LineString([(500, 500), (9500, 500)])], crs=grid.crs).to_crs("EPSG:4326")
    rail = {"id": "R1", "kind": "rail", "opened": 2030, "path": [list(p) for p in lon_lat.iloc[0].coords]}
    with pytest.raises(InputError, match="no rail corridor"):
        _evolve(inv, land, suitability, [rail])
