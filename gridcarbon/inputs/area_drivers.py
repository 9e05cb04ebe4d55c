"""Population and GDP of a custom study area's regions, aggregated from the shipped tables.

Each province's yearly drivers (``data/china_drivers.csv``: persons, yuan at 2024 prices) go
to its prefectures in proportion to their population and GDP (``data/china_cities.csv``),
and each prefecture's to the study regions by the share of its area each covers (the
prefecture polygons of ``boundaries/china.gpkg``). A study region made of whole provinces
therefore gets exactly the provinces' drivers; one cutting a prefecture gets an even-density
share of it. docs/architecture.md, "Any study area".
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridcarbon.core.grid import CHINA_ALBERS
from gridcarbon.inputs.data import read_table
from gridcarbon.inputs.drivers import DRIVER_COLUMNS, drivers_path, read_drivers
from gridcarbon.inputs.regions import load_regions

if TYPE_CHECKING:  # read only: the readers sit below the scenario schema
    from gridcarbon.config import Scenario

#: ``adcode // ADCODE_PROVINCE`` is a six-digit administrative code's province prefix (GB/T 2260)
ADCODE_PROVINCE = 10000
#: the table columns (million persons, billion yuan) behind each driver column
SHARE_OF = {"population": "population_m", "gdp_yuan": "gdp_bn_yuan"}


def scenario_drivers(scenario: Scenario, regions: gpd.GeoDataFrame) -> pd.DataFrame:
    """The scenario's ``drivers:`` table, else the drivers aggregated for its own boundaries,
    else the built-in region set's table."""
    if scenario.boundaries is not None and not scenario.drivers:
        return aggregated_drivers(regions)
    return read_drivers(drivers_path(scenario))


def aggregated_drivers(regions: gpd.GeoDataFrame) -> pd.DataFrame:
    """``region, year, population, gdp_yuan`` of the study ``regions`` (column ``region``), every
    year of the national drivers table."""
    provinces = read_table("china_drivers.csv")
    weights = _prefecture_weights(regions)  # region, province, population, gdp_yuan (0..1 of the province)
    rows = []
    for column in SHARE_OF:
        table = provinces.pivot(index="region", columns="year", values=column)
        share = weights.pivot_table(index="region", columns="province", values=column, aggfunc="sum", fill_value=0.0)
        values = share.to_numpy() @ table.reindex(share.columns).fillna(0.0).to_numpy()
        rows.append(pd.DataFrame(values, index=share.index, columns=table.columns).stack().rename(column))
    out = pd.concat(rows, axis=1).reset_index()
    out.columns = DRIVER_COLUMNS
    order = {r: i for i, r in enumerate(regions.region)}
    return out.sort_values(["region", "year"], key=lambda c: c.map(order) if c.name == "region" else c,
                           ignore_index=True)


def _prefecture_weights(regions: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per study region and prefecture it touches: the prefecture's province and the part (0..1)
    of the province's population and GDP the region covers."""
    cities = read_table("china_cities.csv")
    pref = cities[cities.level == "prefecture"].set_index("city_adcode")
    names = read_table("china_provinces.csv").set_index("adcode").region
    polygons = load_regions("china", "cities").to_crs(CHINA_ALBERS)
    code = polygons.adcode.astype(int)
    single = pref.reset_index().groupby("province_adcode").city_adcode.agg(lambda s: s.iloc[0] if len(s) == 1 else -1)
    polygons["city"] = np.where(code.isin(pref.index), code, single.reindex(code // ADCODE_PROVINCE * ADCODE_PROVINCE)
                                .fillna(-1).to_numpy())
    polygons = polygons[polygons.city >= 0].dissolve("city").reset_index()
    metric = regions.to_crs(CHINA_ALBERS).geometry.values
    r, p = shapely.STRtree(polygons.geometry.values).query(metric, predicate="intersects")
    covered = shapely.area(shapely.intersection(metric[r], polygons.geometry.values[p]))
    covered /= shapely.area(polygons.geometry.values[p])
    row = pref.loc[polygons.city.to_numpy()[p]]
    out = pd.DataFrame({"region": regions.region.to_numpy()[r],
                        "province": names.reindex(row.province_adcode.to_numpy()).to_numpy()})
    for column, source in SHARE_OF.items():
        of_province = row[source] / pref.groupby("province_adcode")[source].transform("sum").loc[row.index]
        out[column] = covered * of_province.to_numpy()
    return out
