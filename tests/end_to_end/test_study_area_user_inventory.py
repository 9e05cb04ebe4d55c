"""A user's own inventory on a custom study area: gridded on the area's grid, on the clipped landscape."""
from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from gridcarbon import job
from gridcarbon.config import load_scenario
from gridcarbon.core.grid import Grid
from gridcarbon.inputs.study_area import scenario_regions


def test_user_points_on_user_zones(tmp_path):
    zones = {"west": shapely.box(120.4, 31.0, 121.1, 32.0), "east": shapely.box(121.1, 30.7, 121.95, 31.55)}
    gpd.GeoDataFrame({"zone": list(zones)}, geometry=list(zones.values()), crs="EPSG:4326").to_crs(
        "EPSG:3857").to_file(tmp_path / "zones.gpkg")
    pd.DataFrame({"id": ["shagang", "baosteel"], "sector": ["steel", "steel"], "emission_t": [3.0e7, 4.0e7],
                  "lon": [120.47, 121.47], "lat": [31.98, 31.40]}).to_csv(tmp_path / "plants.csv", index=False)
    (tmp_path / "mine.yaml").write_text("name: mine\nregion_set: china\nboundaries: zones.gpkg\nregion_field: zone\n"
                                        "inventory: {points: plants.csv}\n")
    sc = load_scenario(tmp_path / "mine.yaml")
    regions = scenario_regions(sc)
    area = job.study_area(sc, Grid.from_regions(regions, res=10_000), regions)
    totals = area.inventory.totals.pivot(index="sector", columns="region", values="value_t")
    assert totals.loc["steel", "west"] == 3.0e7 and totals.loc["steel", "east"] == 4.0e7
    assert totals.drop(index="steel").abs().to_numpy().sum() == 0  # the user's inventory replaces the built-in one
    people = area.grid.region_sums(area.landscape.population.values)
    assert people[area.grid.regions.index("east")] > 1.5e7  # most of Shanghai's 24.8 M residents
    assert area.city_points.size >= 2  # Suzhou and Shanghai seats
