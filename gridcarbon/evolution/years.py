"""The year loop: evolve the base-year grid year by year and impose the allocated totals exactly.

Each year the land moves first (:func:`.land.land_steps`), then the fleet follows its
rules (:mod:`.points`), the patterns of every sector are formed (:mod:`.patterns`) and
each region x sector is rescaled to its allocated total (:func:`impose_totals`); the
residual of every region x sector x year is reported.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from gridcarbon.core.grid import Grid
from gridcarbon.core.gridding import distribute
from gridcarbon.core.sectors import GRIDDED, POINT_SECTORS
from gridcarbon.evolution.context import EvolutionContext
from gridcarbon.evolution.land import land_steps, year_capacities
from gridcarbon.evolution.patterns import Patterns
from gridcarbon.evolution.points import Fleet, step_points
from gridcarbon.suitability.covariates import restricted


@dataclass
class EvolutionResult:
    """Evolved layers of the kept years (n_gridded, y, x, t CO2/yr/cell) and what happened."""

    grid: Grid
    layers: dict[int, np.ndarray]
    fleet: Fleet
    snapshots: dict[int, gpd.GeoDataFrame]
    residuals: pd.DataFrame  # region, sector, year, allocated_t, gridded_t, residual_t
    capacities: pd.DataFrame  # region, sector, year, capacity_t (magnitudes)

    def summary(self) -> dict:
        worst = float((self.residuals.residual_t.abs() / self.residuals.allocated_t.abs().clip(lower=1.0)).max())
        return {"facility_events": self.fleet.counts(),
                "max_relative_residual": worst,
                "facilities_active_end": int((self.fleet.table.status == "active").sum())}


def evolve(ctx: EvolutionContext, totals: pd.DataFrame, *, snapshot_years: Iterable[int] = (),
           on_year: Callable[[int, np.ndarray], None] | None = None,
           keep_years: Iterable[int] | None = None, dtype=np.float64) -> EvolutionResult:
    """Evolve ``ctx``'s inventory from its base year to its end year under allocated ``totals``.

    ``totals`` has region, sector, year, allocated_t (t CO2/yr). Each year's (n_gridded, y, x)
    layers (t CO2/yr/cell) go to ``on_year(year, layers)`` as they are made; the result keeps
    the layers of ``keep_years`` (all years when None), so a national 1 km run holds one year
    at a time; ``dtype`` float32 halves those layers (totals are imposed in float64, then
    stored). The facility table is kept for ``snapshot_years``. Deterministic under the
    context's seed.
    """
    grid, inv = ctx.grid, ctx.inv
    targets = ctx.targets(totals)
    keep = set(ctx.years if keep_years is None else keep_years)
    fleet = Fleet.from_facilities(inv.facilities, grid, inv.year)
    patterns = Patterns.build(ctx, fleet)
    layers, snapshots, rows, caps = {}, {}, [], []
    for k, year, rng, b, f in land_steps(ctx, targets):
        caps.append(year_capacities(ctx, year, b, f))
        if k == 0:
            now = inv.emissions["emission"].values
        else:
            _step_fleet(ctx, fleet, patterns, targets[k], year, rng, b)
            raw = patterns.raw_layers(ctx, fleet, k, year, b, f)
            now = impose_totals(raw, targets[k], grid, fallback=ctx.surfaces, dtype=dtype)
        rows.append(_residuals(now, targets[k], grid, year))
        if on_year is not None:
            on_year(year, now)
        if year in keep:
            layers[year] = now.copy() if k == 0 else now
        if year in snapshot_years:
            snapshots[year] = facility_snapshot(fleet, grid, inv.facilities, year)
    return EvolutionResult(grid, layers, fleet, snapshots, pd.concat(rows, ignore_index=True),
                           pd.concat(caps, ignore_index=True))


def _step_fleet(ctx: EvolutionContext, fleet: Fleet, patterns: Patterns, target: np.ndarray, year: int,
                rng: np.random.Generator, built: np.ndarray) -> None:
    """One year of the point rules, with the fleet's share of each region x point sector's
    allocated total (``target``: n_gridded x n_regions, t CO2/yr)."""
    spec, regions = ctx.spec, range(len(ctx.grid.regions))
    share = patterns.point_share
    tgt = {(r, s): target[GRIDDED.index(s), r] * share[j, r]
           for j, s in enumerate(POINT_SECTORS) for r in regions if share[j, r] > 0}
    restrict = restricted(ctx.landscape, built_up=built, urban_core_threshold=spec.urban_core_threshold,
                          relocate_from=list(spec.relocate_from))
    step_points(fleet, year, targets=tgt, beccs=-target[GRIDDED.index("beccs")],
                suitability={s: ctx.surfaces[s] for s in POINT_SECTORS}, restricted=restrict,
                storage_reach=patterns.reach, grid=ctx.grid, rules=spec, rng=rng)


def impose_totals(raw: Iterable[np.ndarray], target: np.ndarray, grid: Grid, *, fallback: dict,
                  dtype=np.float64) -> np.ndarray:
    """Rescale each region x sector of ``raw`` (layers in GRIDDED order) to its allocated total exactly.

    ``target`` is (n_gridded, n_regions) t CO2/yr. Where a region's pattern is empty but its
    total is not, the total goes to the sector's ``fallback`` surface (point sectors) or is
    spread evenly (others). Returns (n_gridded, y, x) t CO2/yr/cell in ``dtype``.
    """
    out = np.empty((len(GRIDDED),) + grid.shape, dtype=dtype)
    for i, (s, layer) in enumerate(zip(GRIDDED, raw)):
        distribute(target[i][None, :], layer, grid, fallback=fallback.get(s), out=out[i:i + 1])
    return out


def _residuals(layers: np.ndarray, target: np.ndarray, grid: Grid, year: int) -> pd.DataFrame:
    got = grid.region_sums(layers)
    return pd.DataFrame([(r, s, year, target[i, j], got[i, j], got[i, j] - target[i, j])
                         for i, s in enumerate(GRIDDED) for j, r in enumerate(grid.regions)],
                        columns=["region", "sector", "year", "allocated_t", "gridded_t", "residual_t"])


def facility_snapshot(fleet: Fleet, grid: Grid, facilities: gpd.GeoDataFrame, year: int) -> gpd.GeoDataFrame:
    """Facility table in ``year`` (grid CRS): original location unless moved or new (cell centre)."""
    t = fleet.table.copy()
    ny, nx = grid.shape
    x = grid.x[t.cell.to_numpy() % nx]
    y = grid.y[t.cell.to_numpy() // nx]
    orig = facilities.set_index(facilities["id"].astype(str)).geometry
    keep = t.origin.eq("base").to_numpy() & t.id.isin(orig.index).to_numpy()
    gx = np.where(keep, orig.reindex(t.id).x.to_numpy(), x)
    gy = np.where(keep, orig.reindex(t.id).y.to_numpy(), y)
    t["region"] = np.asarray(grid.regions, dtype=object)[t.region_pos.to_numpy()]
    t["year"] = year
    t = t.drop(columns=["region_pos"])
    return gpd.GeoDataFrame(t, geometry=gpd.points_from_xy(gx, gy), crs=grid.crs)
