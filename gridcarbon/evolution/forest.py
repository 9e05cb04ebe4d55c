"""Forest sinks where trees grow: room for new forest, the uptake of new stands, and their age.

New forest is planted only where trees grow (docs/architecture.md, "Evolution"):

- **Land cover.** On MODIS grassland (incl. savanna) and shrubland, never on cropland, built-up
  land, water, wetland, barren land or snow and ice; a share :data:`AFFOREST_SHARE` of it. Urban
  growth takes open land and farmland alike: the room shrinks with the cell's free land.
- **Water.** Not below the 400 mm/yr isohyet (the ``semi_arid`` zone of
  ``data/forest_uptake.csv``), and only on the non-arid share of a cell's land (Koppen-Geiger
  group B, Beck et al. 2018, is left out).
- **Terrain.** Not above :data:`MAX_ELEV_M` (the Tibetan Plateau's tree line) nor on slopes
  steeper than :data:`MAX_SLOPE_DEG`.

A new stand takes up the peak rate of its climate zone (``forest_uptake.csv``: t CO2/ha/yr
by annual precipitation, with the zone's plantation type and sources) after a linear ramp
over the zone's ``ramp_years``, and no more after: a hectare's sink saturates at that rate.
Existing forest keeps its base-year sink (the inventory's), in proportion to the base-year
forest that urban growth leaves. Afforestation plants each year, region by region, what the
allocated sink :data:`PLANT_LEAD_YEARS` ahead needs beyond what standing forest and earlier
stands will give then. What the land can hold in a year (the coupling's forest capacity) is
that of all room planted in the first year after the base year. Fractions are of a cell's
area (0..1); sinks are magnitudes, t CO2/yr.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy import ndimage

from gridcarbon.core import regionkernels
from gridcarbon.core.cells import label_runs
from gridcarbon.core.errors import SchemaError
from gridcarbon.core.grid import Grid
from gridcarbon.inputs.columns import require_columns
from gridcarbon.inputs.data import read_table
from gridcarbon.inventory.base import Inventory

#: shipped table of uptake rates per climate zone and forest type (sources in its rows and
#: in ``data/SOURCES.md``)
UPTAKE_FILE = "forest_uptake.csv"
UPTAKE_COLUMNS = ["zone", "forest_type", "precip_min_mm", "precip_max_mm", "peak_uptake_t_co2_ha_yr",
                  "ramp_years", "source"]
#: share (0..1) of the eligible grassland and shrubland that can become forest. ASSUMPTION:
#: China aims at 26 % forest cover by 2035 from 24 % in 2021 (National Forestry and
#: Grassland Administration, 2018); much open land stays pasture (Grassland Law, basic
#: grassland protection); 0.4 gives 5.5 % of China's land as new forest room at 10 km, some
#: 29 % cover if all of it were planted by 2060
AFFOREST_SHARE = 0.4
#: highest terrain (m) for new stands. ASSUMPTION: the Tibetan Plateau's alpine tree lines lie
#: at 3600-4900 m (Miehe et al. 2007, Mountain Research and Development 27:169-173); below
#: them plantations still fail on cold and drought, and ERA5 overstates the plateau's rain
#: (``data/SOURCES.md``), so the plateau is left to grass
MAX_ELEV_M = 3500.0
#: steepest cell-mean slope (degrees) for new stands, from the landscape's 0.2 degree DEM.
#: ASSUMPTION: the DEM smooths relief, so a cell whose mean slope exceeds 15 degrees is gorge
#: country whose local slopes mostly exceed the 35 degrees above which site preparation is not
#: done; gentler cells keep their room (China's sloping-land programme plants slopes > 25 deg).
#: On that DEM no 10 km cell of China is this steep (the steepest: 8.4 degrees): the rule waits
#: for a finer DEM, the tree line (:data:`MAX_ELEV_M`) is the terrain rule that binds
MAX_SLOPE_DEG = 15.0
#: rows of a stripe of :func:`slope_deg` (a float64 stripe of China at 1 km: 10 MB)
SLOPE_STRIPE_ROWS = 256
#: years ahead a planting plan looks. ASSUMPTION: plantations are planned in five-year plans
#: and need about a decade to grow into their sink; each year plants for the sink ten years on
PLANT_LEAD_YEARS = 10
#: hectares per km2
HA_PER_KM2 = 100.0


def read_uptake(table: pd.DataFrame | None = None, *, source: str = UPTAKE_FILE) -> pd.DataFrame:
    """The uptake table (default: the shipped one), checked; rows in order of precipitation.

    Zones must tile annual precipitation from 0 mm/yr upwards without gaps; uptake (t
    CO2/ha/yr) >= 0; a zone with uptake needs ``ramp_years`` > 0. Raises :class:`SchemaError`
    naming ``source`` and the zone.
    """
    table = read_table(UPTAKE_FILE) if table is None else table.copy()
    require_columns(table, UPTAKE_COLUMNS, source=source)
    num = ["precip_min_mm", "precip_max_mm", "peak_uptake_t_co2_ha_yr", "ramp_years"]
    table[num] = table[num].apply(pd.to_numeric, errors="coerce")
    table = table.sort_values("precip_min_mm", kind="stable").reset_index(drop=True)
    for i, row in table.iterrows():
        bad = [c for c in num if not np.isfinite(row[c]) or row[c] < 0]
        start = 0.0 if i == 0 else table.precip_max_mm[i - 1]
        if bad:
            raise SchemaError(f"{', '.join(bad)} must be finite numbers >= 0", source=source, record=row.zone)
        if row.precip_min_mm != start or row.precip_max_mm <= row.precip_min_mm:
            raise SchemaError(f"precipitation range {row.precip_min_mm:g}-{row.precip_max_mm:g} mm must start at "
                              f"{start:g} mm and rise", source=source, record=row.zone,
                              hint="zones tile precipitation from 0 without gaps")
        if row.peak_uptake_t_co2_ha_yr > 0 and row.ramp_years <= 0:
            raise SchemaError("a zone with uptake needs ramp_years > 0", source=source, record=row.zone)
    return table


def climate_zone(precip_mm: np.ndarray, table: pd.DataFrame) -> np.ndarray:
    """Row of ``table`` (:func:`read_uptake`) whose precipitation range holds each cell (int8, y, x);
    -1 above the last range."""
    edges = table.precip_max_mm.to_numpy()
    zone = np.searchsorted(edges, np.asarray(precip_mm), side="right").astype(np.int8)
    zone[zone >= len(edges)] = -1
    return zone


def slope_deg(elevation_m: np.ndarray, grid: Grid) -> np.ndarray:
    """Terrain slope (degrees, y, x) of cell-centre heights; cells outside every region take the
    height of the nearest inside cell, so borders and coasts add no cliff.

    Made in stripes of :data:`SLOPE_STRIPE_ROWS` rows, each read with the rows above and below
    it (the gradient's central differences; the grid's first and last rows keep their one-sided
    ones): the bits of the whole layer at once, with the float64 heights and gradients of one
    stripe held, not of the grid (China at 1 km: they made the peak of the run's preparation)."""
    rows, cols = ndimage.distance_transform_edt(~grid.inside, return_distances=False, return_indices=True)
    elevation, ny = np.asarray(elevation_m), grid.shape[0]
    slope = np.empty(grid.shape)
    for top in range(0, ny, SLOPE_STRIPE_ROWS):
        bottom = min(top + SLOPE_STRIPE_ROWS, ny)
        above, below = max(top - 1, 0), min(bottom + 1, ny)
        filled = elevation[rows[above:below], cols[above:below]].astype(np.float64, copy=False)
        dy, dx = np.gradient(filled, grid.res)
        np.hypot(dx[top - above:bottom - above], dy[top - above:bottom - above], out=slope[top:bottom])
    return np.degrees(np.arctan(slope, out=slope), out=slope)


def base_room(landscape: xr.Dataset, grid: Grid, zone: np.ndarray, table: pd.DataFrame,
              scale: float = 1.0) -> np.ndarray:
    """Fraction (0..1, y, x) of each cell that could become new forest, before urban growth.

    :data:`AFFOREST_SHARE` x ``scale`` (at most 1) of the cell's grassland and shrubland, times
    its non-arid share, where its zone has uptake and the terrain is neither too high nor too steep.
    """
    grows = np.append(table.peak_uptake_t_co2_ha_yr.to_numpy() > 0, False)[zone]  # zone -1: the appended False
    terrain = (landscape.elevation_m.values < MAX_ELEV_M) & (slope_deg(landscape.elevation_m.values, grid)
                                                              <= MAX_SLOPE_DEG)
    open_land = np.asarray(landscape.grassland.values, np.float64) + landscape.shrub.values
    room = min(AFFOREST_SHARE * scale, 1.0) * open_land * np.clip(1.0 - landscape.arid_share.values, 0.0, 1.0)
    room[~(grows & terrain & grid.inside)] = 0.0
    return room


def ramp(age, ramp_years):
    """Share (0..1) of a stand's peak uptake at ``age`` years after planting: linear over
    ``ramp_years``, then saturated at 1 (0 for age <= 0)."""
    return np.clip(np.asarray(age, np.float64) / np.maximum(ramp_years, 1e-9), 0.0, 1.0)


@dataclass(frozen=True)
class ForestLand:
    """What the forest rules read of a run's base year (built once, :meth:`build`).

    Its layers, and the land its methods take (water, built-up and forest fractions), are
    compact: one value per cell of the grid's :attr:`~gridcarbon.core.grid.Grid.cell_index`
    (China at 1 km: 76 MB a float64 layer, not 214 MB). ``forest0`` base-year forest fraction
    and ``forest0_r`` its sum per region (sum of fractions); ``base_sink`` the base-year sink per
    region (t CO2/yr, magnitude); ``open_share`` the share (0..1) of each cell's base-year free
    land (neither water, built-up nor forest) that is :func:`base_room`; ``zone_runs`` the runs of
    compact positions (:meth:`~gridcarbon.core.cells.CellIndex.runs`) of one label
    ``region x n_zones + zone`` (cells beyond the table have none; not the label layer itself);
    ``uptake`` each zone's peak uptake (t CO2/km2/yr); ``ramp_years`` each zone's ramp (years).
    """

    base_year: int
    forest0: np.ndarray
    forest0_r: np.ndarray
    base_sink: np.ndarray
    open_share: np.ndarray
    zone_runs: np.ndarray
    uptake: np.ndarray
    ramp_years: np.ndarray

    @classmethod
    def build(cls, inv: Inventory, landscape: xr.Dataset, table: pd.DataFrame | None = None, *,
              uptake_scale: float = 1.0, room_scale: float = 1.0) -> ForestLand:
        """From the inventory's forest sink layer, the landscape and the uptake ``table``
        (default: :func:`read_uptake` of the shipped one); ``uptake_scale`` multiplies its peak
        uptakes, ``room_scale`` the afforestable share (:func:`base_room`), both dimensionless."""
        grid, table = inv.grid, read_uptake(table)
        zone = climate_zone(landscape.precipitation_mm.values, table)
        n = len(table)
        zone_region = np.where((grid.region_index >= 0) & (zone >= 0), grid.region_index * n + zone, -1)
        free = 1.0 - landscape.water.values - landscape.built_up.values - landscape.forest.values
        room = base_room(landscape, grid, zone, table, room_scale)
        # room / free where there is free land, 0 elsewhere (divided only there: a large grid's
        # float32 land would turn a 1e-300 floor into 0 and warn of a divide by zero)
        share = np.divide(room, free, out=np.zeros(free.shape, np.result_type(room, free)), where=free > 0)
        np.clip(share, 0.0, 1.0, out=share)
        index = grid.cell_index
        return cls(inv.year, index.compact(landscape.forest.values), grid.region_sums(landscape.forest.values),
                   -inv.region_sums("forest_sink"),
                   index.compact(share), index.runs(label_runs(zone_region)),
                   table.peak_uptake_t_co2_ha_yr.to_numpy() * HA_PER_KM2 * uptake_scale, table.ramp_years.to_numpy(np.float64))

    def room(self, water: np.ndarray, built: np.ndarray, forest: np.ndarray) -> np.ndarray:
        """Room for new forest left on this land (fraction, compact): :func:`regionkernels.forest_room`."""
        out = np.empty(np.shape(forest))
        regionkernels.forest_room(*self._land(water, built, forest), out.reshape(-1))
        return out

    def zone_sums(self, grid: Grid, fraction: np.ndarray) -> np.ndarray:
        """Peak uptake (t CO2/yr) of ``fraction`` (compact) of each cell as new stands, per zone and
        region, (n_zones, n_regions)."""
        return self._peak(grid, regionkernels.region_sums(self.zone_runs, np.ravel(fraction)[None], self._labels(grid))[0])

    def room_sums(self, grid: Grid, water: np.ndarray, built: np.ndarray, forest: np.ndarray) -> np.ndarray:
        """:meth:`zone_sums` of the :meth:`room` left on this land, without its layer."""
        return self._peak(grid, regionkernels.room_sums(self.zone_runs, *self._land(water, built, forest),
                                                        self._labels(grid)))

    def plant(self, grid: Grid, water: np.ndarray, built: np.ndarray, forest: np.ndarray,
              frac: np.ndarray) -> np.ndarray:
        """``forest`` (compact) with each region's share ``frac`` (0..1) of its :meth:`room` planted,
        in a new layer."""
        return regionkernels.plant_room(grid.compact_runs, *self._land(water, built, forest), frac)

    def _land(self, water, built, forest) -> tuple[np.ndarray, ...]:
        """The flat layers :func:`~gridcarbon.core.regionkernels.forest_room` reads."""
        return self.open_share.ravel(), np.ravel(self.forest0), np.ravel(water), np.ravel(built), np.ravel(forest)

    def _labels(self, grid: Grid) -> int:
        """The number of zone x region labels of :attr:`zone_runs`."""
        return len(self.uptake) * len(grid.regions)

    def _peak(self, grid: Grid, area: np.ndarray) -> np.ndarray:
        """Peak uptake (t CO2/yr, (n_zones, n_regions)) of ``area`` (km2 / cell area) per zone x region label."""
        return area.reshape(len(grid.regions), len(self.uptake)).T * grid.cell_area_km2 * self.uptake[:, None]

    def kept_sink(self, grid: Grid, forest: np.ndarray) -> np.ndarray:
        """Base-year sink per region (t CO2/yr) of the base-year forest still standing in ``forest`` (compact)."""
        then = self.forest0_r
        now = regionkernels.min_region_sums(grid.compact_runs, np.ravel(forest), self.forest0, len(grid.regions))
        return self.base_sink * np.where(then > 0, now / np.maximum(then, 1e-300), 0.0)

    def stands(self, grid: Grid, water: np.ndarray, built: np.ndarray,
               forest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """What this land holds, for :meth:`capacity`: the base-year sink still standing
        (:meth:`kept_sink`, t CO2/yr per region) and the peak uptake (:meth:`zone_sums`, t CO2/yr,
        (n_zones, n_regions)) of every new stand and all remaining room, summed without their
        layer (:func:`~gridcarbon.core.regionkernels.stand_sums`: each cell's stands rounded to
        the dtype of ``forest - forest0``, as numpy's layers were: a float32 land's in float32)."""
        like = np.empty(1, np.result_type(forest, self.forest0))
        area = regionkernels.stand_sums(self.zone_runs, *self._land(water, built, forest), self._labels(grid), like)
        return self.kept_sink(grid, forest), self._peak(grid, area)

    def capacity(self, kept: np.ndarray, peak: np.ndarray, year: int) -> np.ndarray:
        """Forest sink (t CO2/yr per region) a land's :meth:`stands` (``kept``, ``peak``) could
        hold in ``year``: standing base-year forest, and every new stand and all remaining room
        planted in the first year after the base year."""
        return kept + ramp(year - self.base_year - 1, self.ramp_years) @ peak


class Planting:
    """Afforestation through the years: cohorts of new stands and the planting rule.

    ``cohorts[k]`` holds the peak uptake (t CO2/yr, (n_zones, n_regions)) of the stands planted
    in year index ``k``; a cohort gives :func:`ramp` of its age times that. A stand a town later
    covers keeps counting here (the evolution imposes the allocated totals in any case).
    """

    def __init__(self, land: ForestLand, grid: Grid, n_years: int):
        self.land, self.grid = land, grid
        self.cohorts = np.zeros((n_years, len(land.uptake), len(grid.regions)))

    def supply(self, forest: np.ndarray, at: int) -> np.ndarray:
        """Sink per region (t CO2/yr) in year index ``at`` of standing base-year forest and of
        the cohorts planted so far."""
        ages = at - np.arange(len(self.cohorts))
        grown = ramp(ages[:, None], self.land.ramp_years[None, :])  # (n_years, n_zones)
        return self.land.kept_sink(self.grid, forest) + np.einsum("kz,kzr->r", grown, self.cohorts)

    def step(self, k: int, water: np.ndarray, built: np.ndarray, forest: np.ndarray,
             demand: np.ndarray) -> np.ndarray:
        """Plant in year index ``k`` on the compact land; returns the new forest fraction (compact).

        ``demand`` is the allocated sink per year index and region (t CO2/yr, magnitudes).
        Plants, in proportion to each cell's room, what the demand :data:`PLANT_LEAD_YEARS`
        ahead (or in the last year) needs beyond :meth:`supply` then; all the room at most.
        """
        ahead = min(k + PLANT_LEAD_YEARS, len(demand) - 1)
        need = np.maximum(demand[ahead] - self.supply(forest, ahead), 0.0)
        peak = self.land.room_sums(self.grid, water, built, forest)
        gives = ramp(ahead - k, self.land.ramp_years) @ peak
        frac = np.where(gives > 0, np.clip(need / np.maximum(gives, 1e-300), 0.0, 1.0), 0.0)
        self.cohorts[k] = peak * frac
        return self.land.plant(self.grid, water, built, forest, frac)
