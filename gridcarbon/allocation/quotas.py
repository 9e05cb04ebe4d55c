"""Tiers below the region: prefecture-city carbon pools and enterprise (facility) quotas.

The seeds' chain "regional carbon budget - metropolitan carbon credits - enterprise carbon
quotas" (``docs/architecture.md``, "Allocation"):

- **cities** (:func:`city_quotas`): each region x sector x year total is shared among the
  region's prefecture cities (``data/<set>_cities.csv``: population, GDP) with the same
  principles and phase-in as the regions: grandfathering = the city's share of the region's
  base-year gridded sector (cells go to the nearest city centre of their own region), the
  other principles from city population and GDP (held at their shipped values: ASSUMPTION, no
  city projections ship). ``indirect`` (imported electricity, not gridded) follows GDP; removal
  sectors keep their base-year gridded split (population where a region had none).
- **facilities** (:func:`facility_quotas`): a city's point-sector quota goes to its base-year
  plants by their base-year emissions (grandfathering, as China's ETS allocates to existing
  plants; ASSUMPTION for the other years) and the rest of the city's base-year sector to one
  row ``<city>:<sector>:other`` (sources outside the fleet).

Each tier sums to the level above to float rounding (weights summing to 1).
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from gridcarbon.allocation.shares import SHARE_RULES
from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import GRIDDED, POINT_SECTORS, REMOVALS

QUOTA_COLUMNS = ["city", "region", "sector", "year", "quota_t"]


def city_of_cells(grid: Grid, cities: pd.DataFrame) -> np.ndarray:
    """Per flat cell the position in ``cities`` (``region, lon, lat``) of the nearest city centre
    of the cell's region; -1 outside every region or where a region has no city."""
    pts = gpd.GeoSeries(gpd.points_from_xy(cities["lon"], cities["lat"]), crs="EPSG:4326").to_crs(grid.crs)
    xy = np.c_[pts.x, pts.y]
    out = np.full(grid.shape[0] * grid.shape[1], -1, dtype=np.int64)
    xs, ys = np.meshgrid(grid.x, grid.y)
    for pos, region in enumerate(grid.regions):
        mine = np.flatnonzero(cities["region"].to_numpy() == region)
        cells = grid.cells_of(pos)
        if len(mine) == 1:
            out[cells] = mine[0]
        elif len(mine) and len(cells):
            _, nearest = cKDTree(xy[mine]).query(np.c_[xs.ravel()[cells], ys.ravel()[cells]])
            out[cells] = mine[nearest]
    return out


def city_sums(base: np.ndarray, city_index: np.ndarray, grid: Grid, n_cities: int) -> np.ndarray:
    """Base-year gridded emissions of each city, (GRIDDED, n_cities) t CO2/yr.

    ``base``: base-year gridded layers (GRIDDED, y, x) t CO2/yr/cell, or compact (GRIDDED,
    n_inside) on ``grid``'s :attr:`~Grid.cell_index` (the same sums: the same cells, added in the
    same order); ``city_index`` from :func:`city_of_cells`.
    """
    cell_city = city_index if base.ndim == 3 else city_index[grid.cell_index.cells]
    flat = base.reshape(len(GRIDDED), -1)
    inside = cell_city >= 0
    return np.stack([np.bincount(cell_city[inside], weights=layer[inside], minlength=n_cities) for layer in flat])


def city_quotas(totals: pd.DataFrame, by_city: np.ndarray, cities: pd.DataFrame,
                weights: dict[str, float], *, base_year: int, end_year: int) -> pd.DataFrame:
    """``city, region, sector, year, quota_t`` (t CO2/yr, removals negative).

    ``totals``: the allocation's ``region, sector, year, allocated_t``; ``by_city``: the cities'
    base-year gridded emissions (GRIDDED, cities) t CO2/yr (:func:`city_sums`);
    ``cities``: ``city, region, population_m, gdp_bn_yuan``; ``weights``: the principles.
    """
    parts = [_region_quotas(totals[totals["region"] == region], by_city[:, rows], cities.iloc[rows], weights,
                            base_year=base_year, end_year=end_year)
             for region, rows in cities.groupby("region", sort=False).indices.items()]
    return pd.concat(parts, ignore_index=True)[QUOTA_COLUMNS]


def _region_quotas(totals: pd.DataFrame, base: np.ndarray, cities: pd.DataFrame, weights: dict[str, float], *,
                   base_year: int, end_year: int) -> pd.DataFrame:
    """One region's city x sector x year quotas; ``base`` (GRIDDED, its cities) t CO2/yr."""
    pop = cities["population_m"].to_numpy(float)[:, None]
    gdp = cities["gdp_bn_yuan"].to_numpy(float)[:, None]
    principles = sum(w * SHARE_RULES[name](pop[:, 0], pop, gdp)[:, 0] for name, w in weights.items()
                     if name != "grandfather")
    table = totals.pivot(index="sector", columns="year", values="allocated_t")
    years = table.columns.to_numpy()
    phase = np.clip((years - base_year) / (end_year - base_year), 0.0, 1.0)
    quotas = []  # per sector, (cities, years) t CO2/yr
    for sector, row in table.iterrows():
        share = _sector_share(sector, base, pop[:, 0], gdp[:, 0])
        if sector in REMOVALS or sector == "indirect":
            w = np.repeat(share[:, None], len(years), axis=1)
        else:
            blend = weights.get("grandfather", 0.0) * share + principles
            w = (1 - phase)[None, :] * share[:, None] + phase[None, :] * blend[:, None]
        quotas.append(w * row.to_numpy()[None, :])
    n, k = len(cities) * len(years), len(table)
    return pd.DataFrame({"city": np.tile(np.repeat(cities["city"].to_numpy(), len(years)), k),
                         "region": np.tile(np.repeat(cities["region"].to_numpy(), len(years)), k),
                         "sector": np.repeat(table.index.to_numpy(object), n), "year": np.tile(years, len(cities) * k),
                         "quota_t": np.concatenate([q.ravel() for q in quotas])})


def _sector_share(sector: str, base: np.ndarray, pop: np.ndarray, gdp: np.ndarray) -> np.ndarray:
    """Base-year split of a sector among a region's cities (GDP for ``indirect``; population if empty)."""
    values = gdp if sector == "indirect" else np.abs(base[GRIDDED.index(sector)])
    return values / values.sum() if values.sum() > 0 else pop / pop.sum()


def facility_quotas(cities_q: pd.DataFrame, facilities: pd.DataFrame, city_index: np.ndarray,
                    by_city: np.ndarray, city_names: np.ndarray) -> pd.DataFrame:
    """``id, city, region, sector, year, quota_t`` for the base-year plants of point sectors,
    plus a ``<city>:<sector>:other`` row per city and sector for the rest.

    ``facilities``: ``id, sector, region, cell, emission_t`` (base year); ``city_index`` per flat
    cell (:func:`city_of_cells`); ``by_city`` (GRIDDED, cities) t CO2/yr (:func:`city_sums`).
    """
    plants = facilities[facilities["sector"].isin(POINT_SECTORS) & (facilities["emission_t"] > 0)].copy()
    plants["city"] = city_names[city_index[plants["cell"].to_numpy(int)]]
    point = cities_q[cities_q["sector"].isin(POINT_SECTORS)]
    gridded = pd.concat([pd.DataFrame({"city": city_names, "sector": s, "base_t": by_city[GRIDDED.index(s)]})
                         for s in POINT_SECTORS])
    held = plants.groupby(["city", "sector"])["emission_t"].sum().rename("plants_t")
    gridded = gridded.join(held, on=["city", "sector"]).fillna({"plants_t": 0.0})
    gridded["whole_t"] = np.maximum(gridded["base_t"], gridded["plants_t"])
    plants = plants.merge(gridded[["city", "sector", "whole_t"]], on=["city", "sector"])
    plants["share"] = plants["emission_t"] / plants["whole_t"]
    rest = gridded.assign(id=gridded["city"] + ":" + gridded["sector"] + ":other",
                          share=np.where(gridded["whole_t"] > 0, 1 - gridded["plants_t"] / gridded["whole_t"], 1.0))
    shares = pd.concat([plants[["id", "city", "sector", "share"]], rest[["id", "city", "sector", "share"]]])
    out = shares.merge(point, on=["city", "sector"])
    out["quota_t"] = out["quota_t"] * out.pop("share")
    return out.sort_values(["year", "city", "sector", "id"], kind="stable")[
        ["id", "city", "region", "sector", "year", "quota_t"]].reset_index(drop=True)


def quota_tables(totals: pd.DataFrame, base: np.ndarray, facilities: pd.DataFrame, grid: Grid,
                 cities: pd.DataFrame, provinces: pd.DataFrame, weights: dict[str, float], *,
                 base_year: int, end_year: int) -> dict[str, pd.DataFrame]:
    """``quotas/cities.csv`` and ``quotas/facilities.csv`` of a run.

    ``base``: base-year gridded layers (GRIDDED, y, x) t CO2/yr/cell, or compact (GRIDDED,
    n_inside) on ``grid``'s :attr:`~Grid.cell_index`; ``cities``: a shipped ``<set>_cities.csv``
    (prefecture rows are used); ``provinces``: ``adcode, region``. A region without a city
    becomes its own single pool (city = region).
    """
    table = _pools(cities, provinces, grid.regions)
    city_index = city_of_cells(grid, table)
    by_city = city_sums(base, city_index, grid, len(table))
    per_city = city_quotas(totals, by_city, table, weights, base_year=base_year, end_year=end_year)
    per_plant = facility_quotas(per_city, facilities, city_index, by_city, table["city"].to_numpy())
    names = table.set_index("city")["name"]
    per_city.insert(1, "name", per_city["city"].map(names))
    return {"quotas/cities.csv": per_city, "quotas/facilities.csv": per_plant}


def _pools(cities: pd.DataFrame, provinces: pd.DataFrame, regions: tuple[str, ...]) -> pd.DataFrame:
    """``city`` (adcode as text), ``name``, ``region``, ``lon``, ``lat``, ``population_m``, ``gdp_bn_yuan``."""
    pref = cities[cities["level"] == "prefecture"]
    region = pref["province_adcode"].map(provinces.set_index("adcode")["region"])
    table = pd.DataFrame({"city": pref["city_adcode"].astype("int64").astype(str).to_numpy(),
                          "name": pref["name"].to_numpy(),
                          "region": region.to_numpy(), "lon": pref["lon"].to_numpy(float),
                          "lat": pref["lat"].to_numpy(float), "population_m": pref["population_m"].to_numpy(float),
                          "gdp_bn_yuan": pref["gdp_bn_yuan"].to_numpy(float)})
    table = table[table["region"].isin(regions)]
    alone = [r for r in regions if r not in set(table["region"])]
    lone = pd.DataFrame({"city": alone, "name": alone, "region": alone, "lon": np.nan, "lat": np.nan,
                         "population_m": 1.0, "gdp_bn_yuan": 1.0})
    return pd.concat([table, lone], ignore_index=True) if alone else table.reset_index(drop=True)
