"""Tiers: city quotas sum to the region's allocation, facility quotas to the city's (1e-9 relative)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from gridcarbon import job
from gridcarbon.allocation import allocate
from gridcarbon.core.sectors import POINT_SECTORS
from gridcarbon.inputs.drivers import drivers_path, read_drivers

RTOL = 1e-9


@pytest.fixture(scope="module")
def tiers():
    """yrd-enhanced allocated on its built-in inventory, and its city and facility quotas."""
    sc = job.resolve("yrd-enhanced")
    regions = job.load_regions(sc.region_set)
    area = job.study_area(sc, job.Grid.from_regions(regions, res=sc.resolution), regions)
    alloc = allocate(sc, area.inventory.totals, read_drivers(drivers_path(sc)))
    return alloc, job.quotas(sc, area, alloc), area


def test_city_quotas_sum_to_the_region_allocation(tiers):
    alloc, q, _ = tiers
    cities = q["quotas/cities.csv"]
    want = alloc.totals.set_index(["region", "sector", "year"])["allocated_t"]
    got = cities.groupby(["region", "sector", "year"])["quota_t"].sum().reindex(want.index)
    assert not got.isna().any()
    scale = want.abs().groupby(level=["region", "sector"]).transform("max").clip(lower=1.0)
    assert ((got - want).abs() / scale).max() <= RTOL
    assert cities["city"].nunique() == 41                     # the YRD's prefecture cities


def test_facility_quotas_sum_to_the_city_quota(tiers):
    _, q, area = tiers
    cities, plants = q["quotas/cities.csv"], q["quotas/facilities.csv"]
    point = cities[cities["sector"].isin(POINT_SECTORS)].set_index(["city", "sector", "year"])["quota_t"]
    got = plants.groupby(["city", "sector", "year"])["quota_t"].sum().reindex(point.index)
    assert np.allclose(got, point, rtol=RTOL, atol=1e-6)
    real = plants[~plants["id"].str.endswith(":other")]
    assert set(real["id"]) <= set(area.inventory.facilities["id"]) and real["id"].nunique() > 100
    assert real["quota_t"].sum() > 0.5 * plants["quota_t"].sum()   # most point emissions sit at named plants


def test_city_quotas_move_from_today_towards_the_principles(tiers):
    _, q, _ = tiers
    c = q["quotas/cities.csv"]
    shanghai = c[(c["region"] == "Shanghai")]
    assert shanghai["city"].nunique() == 1                     # a one-city region keeps its whole quota
    jiangsu = c[(c["region"] == "Jiangsu") & (c["sector"] == "buildings")].pivot(index="year", columns="name",
                                                                                    values="quota_t")
    share = jiangsu.div(jiangsu.sum(axis=1), axis=0)
    assert (share.loc[2060] - share.loc[2024]).abs().max() > 0.005   # the principles move the city split


def test_quotas_of_a_compact_inventory_are_the_same(tiers):
    alloc, q, area = tiers
    held = replace(area, inventory=area.inventory.compacted())  # as a large grid's run holds it
    assert held.inventory.layers().ndim == 2
    mine = job.quotas(job.resolve("yrd-enhanced"), held, alloc)
    for name, table in q.items():  # the same cells summed in the same order: the same bits
        pd.testing.assert_frame_equal(mine[name], table, check_exact=True)
