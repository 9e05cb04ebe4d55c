"""The national landscape clipped to a custom study area agrees with the area's aggregated drivers."""
from __future__ import annotations

import numpy as np

from gridcarbon.core.grid import Grid
from gridcarbon.inputs.area_drivers import aggregated_drivers
from gridcarbon.inputs.data import data_path
from gridcarbon.inputs.study_area import read_study_regions
from gridcarbon.inventory.study import clipped_landscape


def test_clipped_people_match_the_provinces_drivers():
    regions = read_study_regions(data_path("scenarios/jjj-provinces.geojson"), "region")
    grid = Grid.from_regions(regions, res=10_000)
    land = clipped_landscape(regions, grid)
    people = grid.region_sums(land.population.values)
    drivers = aggregated_drivers(regions)
    expected = drivers[drivers.year == 2024].set_index("region").population.reindex(list(grid.regions))
    # cells split by a border count wholly for the region holding their centre: within 2 %
    np.testing.assert_allclose(people, expected.to_numpy(), rtol=0.02)
    assert (land.population.values[~grid.inside] == 0).all()
