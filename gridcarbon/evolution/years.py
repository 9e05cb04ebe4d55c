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

from gridcarbon.allocation.power import PowerSolution
from gridcarbon.core.grid import Grid
from gridcarbon.core.gridding import distribute
from gridcarbon.core.sectors import GRIDDED, POINT_SECTORS
from gridcarbon.evolution.context import EvolutionContext
from gridcarbon.evolution.land import land_steps, year_capacities
from gridcarbon.evolution.patterns import Patterns
from gridcarbon.evolution.points import Fleet, FleetRun, YearInputs, step_points
from gridcarbon.evolution.power_units import follow_power
from gridcarbon.evolution.relocation import relocation_caps
from gridcarbon.evolution.siting import SiteOrders, Surface
from gridcarbon.evolution.storage import Storage
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
    storage: pd.DataFrame  # site, region, year, beccs_t, captured_t, injected_t, cumulative_t, capacity_t, fill
    storage_sites: pd.DataFrame  # cell (flat index), site: the cells each storage site covers
    #: (n_gridded, n_years, y, x) t CO2/yr/cell of every year when all are kept (``layers``
    #: are its views, so a caller needs no stacked copy: 0.9 GB for China at 10 km), else None
    cube: np.ndarray | None = None

    def summary(self) -> dict:
        worst = float((self.residuals.residual_t.abs() / self.residuals.allocated_t.abs().clip(lower=1.0)).max())
        return {"facility_events": self.fleet.counts(),
                "max_relative_residual": worst,
                "facilities_active_end": int((self.fleet.table.status == "active").sum()),
                "captured_t": float(self.storage.captured_t.sum()),
                "storage_fill_max": float(self.storage.fill.max()) if len(self.storage) else 0.0}


def evolve(ctx: EvolutionContext, totals: pd.DataFrame, *, snapshot_years: Iterable[int] = (),
           on_year: Callable[[int, np.ndarray], None] | None = None,
           keep_years: Iterable[int] | None = None, dtype=np.float64,
           transfers: pd.DataFrame | None = None, power: PowerSolution | None = None) -> EvolutionResult:
    """Evolve ``ctx``'s inventory from its base year to its end year under allocated ``totals``.

    ``totals`` has region, sector, year, allocated_t (t CO2/yr). Each year's (n_gridded, y, x) layers
    (t CO2/yr/cell) go to ``on_year(year, layers)`` as they are made; the result keeps the layers of ``keep_years``
    (all years when None, then made in place in the result's ``cube``), so a national 1 km run holds one year at a
    time; ``dtype`` float32 halves those layers (totals are imposed in float64, then stored). On a
    :attr:`~Grid.large` grid whose years are not all kept, ``on_year`` gets them compact, (n_gridded, n_inside) on
    the grid's :attr:`~Grid.cell_index` (China at 1 km: 0.4 GB a float32 year, not 1.2 GB). The facility table is
    kept for ``snapshot_years``. ``transfers``: the plants that move between regions
    (:func:`.transfer.plan_transfers`, already in ``totals``). With the allocation's ``power`` system the fleet's
    power plants follow its units (:mod:`.power_units`). Deterministic under the context's seed.
    """
    grid, inv = ctx.grid, ctx.inv
    targets = ctx.targets(totals)
    keep = set(ctx.years if keep_years is None else keep_years)
    cube = np.empty((len(GRIDDED), len(ctx.years)) + grid.shape, dtype) if keep >= set(ctx.years) else None
    compact = cube is None and grid.large
    fleet = Fleet.from_facilities(inv.facilities, grid, inv.year)
    if transfers is not None:
        fleet.reserved.update(transfers.id)
    patterns = Patterns.build(ctx, fleet)
    storage = Storage.on(ctx.storage_sites, removals=-targets[:, GRIDDED.index("beccs")], years=ctx.years)
    run = FleetRun({s: Surface(ctx.surfaces[s], grid.cell_index) for s in POINT_SECTORS}, grid, ctx.spec, storage,
                   relocation_caps(fleet, ctx.assumptions.relocation_rate), transfers,
                   frozenset() if power is None else frozenset({"power"}), ctx.assumptions)
    layers, snapshots, rows, held = {}, {}, [], []
    for k, year, rng, b, f in land_steps(ctx, targets):
        held.append(year_capacities(ctx, year, b, f))
        if k == 0:  # the inventory's layers (compact or not, as the year's stack is)
            now = _base_stack(inv.layers(), grid, compact=compact)
        else:
            _step_fleet(ctx, run, fleet, patterns.point_share, targets[k], year, rng, b)
            if power is not None:
                follow_power(fleet, power, year, list(grid.regions), storage)
            # the patterns' generator (which holds the year's land) goes with the call
            now = impose_totals(patterns.raw_layers(ctx, fleet, k, year, b, f), targets[k], grid,
                                fallback=ctx.surfaces, dtype=dtype, out=None if cube is None else cube[:, k],
                                compact=compact)
        rows.append(_residuals(now, targets[k], grid, year, compact=compact))
        if on_year is not None:
            on_year(year, now)
        if cube is not None:
            if k == 0:
                cube[:, 0] = now
            layers[year] = cube[:, k]
        elif year in keep:  # full layers, a new array (the base year's are the inventory's)
            layers[year] = grid.cell_index.expand(now) if compact else now.copy() if k == 0 else now
        if year in snapshot_years:
            snapshots[year] = facility_snapshot(fleet, grid, inv.facilities, year)
        # a year not kept is not held while the next is made (1.1 GB at 1 km for China), nor
        # its land while the next year's grows (0.2 GB a layer)
        del now, b, f
    fleet.orders = SiteOrders()  # the siting orders hold the suitability surfaces: they go with the evolution
    return EvolutionResult(grid, layers, fleet, snapshots, pd.concat(rows, ignore_index=True),
                           pd.concat(held, ignore_index=True), storage.table(list(grid.regions)), storage.sites(),
                           cube)


def _base_stack(layers: np.ndarray, grid: Grid, *, compact: bool) -> np.ndarray:
    """The inventory's (n_gridded, y, x) or compact (n_gridded, n_inside) ``layers`` as the base
    year's stack: compact when ``compact``, else full (the stored arrays where they already are)."""
    held_compact = layers.ndim == 2
    if compact:
        return layers if held_compact else grid.cell_index.compact(layers)
    return grid.cell_index.expand(layers) if held_compact else layers


def _step_fleet(ctx: EvolutionContext, run: FleetRun, fleet: Fleet, share: np.ndarray, target: np.ndarray,
                year: int, rng: np.random.Generator, built: np.ndarray) -> None:
    """One year of the point rules of ``run`` with the fleet's ``share`` (n_point_sectors x
    n_regions) of each region x point sector's allocated total (``target``: n_gridded x
    n_regions, t CO2/yr), given the year's ``built`` fraction (compact); sectors the run's power
    system follows are left to :func:`.power_units.follow_power`."""
    spec = ctx.spec
    tgt = {(r, s): target[GRIDDED.index(s), r] * share[j, r]
           for j, s in enumerate(POINT_SECTORS) for r in range(len(ctx.grid.regions))
           if share[j, r] > 0 and s not in run.followed}
    restrict = restricted(ctx.barred, built_up=built, index=ctx.grid.cell_index,
                          urban_core_threshold=spec.urban_core_threshold,
                          relocate_from=list(spec.relocate_from))
    step_points(fleet, year, tgt, run, YearInputs(restrict, built), rng)


def impose_totals(raw: Iterable[np.ndarray], target: np.ndarray, grid: Grid, *, fallback: dict,
                  dtype=np.float64, out: np.ndarray | None = None, compact: bool = False) -> np.ndarray:
    """Rescale each region x sector of ``raw`` (layers in GRIDDED order) to its allocated total exactly.

    ``target`` is (n_gridded, n_regions) t CO2/yr. Where a region's pattern is empty but its
    total is not, the total goes to the sector's ``fallback`` surface (point sectors) or is
    spread evenly (others). Returns (n_gridded, y, x) t CO2/yr/cell in ``dtype``, in ``out``
    when given (each of its layers C-contiguous, e.g. one year of a (sector, year, y, x) cube);
    ``compact``: a new (n_gridded, n_inside) array of the values at the grid's
    :attr:`~Grid.cell_index` cells alone (the same bits).
    """
    if out is None:
        out = np.empty((len(GRIDDED),) + ((grid.cell_index.size,) if compact else grid.shape), dtype=dtype)
    layers = iter(raw)
    for i, s in enumerate(GRIDDED):  # a layer is let go before the next is made
        distribute(target[i][None, :], next(layers), grid, fallback=fallback.get(s), out=out[i:i + 1])
    return out


def _residuals(layers: np.ndarray, target: np.ndarray, grid: Grid, year: int, *, compact: bool) -> pd.DataFrame:
    """The residual table of ``year``'s ``layers`` (t CO2/yr/cell; ``compact``: on the grid's
    :attr:`~Grid.cell_index`) against the allocated ``target`` (n_gridded, n_regions, t CO2/yr)."""
    got = grid.compact_region_sums(layers) if compact else grid.region_sums(layers)
    return pd.DataFrame([(r, s, year, target[i, j], got[i, j], got[i, j] - target[i, j])
                         for i, s in enumerate(GRIDDED) for j, r in enumerate(grid.regions)],
                        columns=["region", "sector", "year", "allocated_t", "gridded_t", "residual_t"])


def facility_snapshot(fleet: Fleet, grid: Grid, facilities: gpd.GeoDataFrame, year: int) -> gpd.GeoDataFrame:
    """Facility table in ``year`` (grid CRS): original location unless moved or new (cell centre).

    Columns: the fleet's (:mod:`.fleet`; ``utilisation``, ``emission_t`` and ``captured_t`` of
    ``year``, t CO2/yr), ``region``, ``year``, and ``moved_from_x`` / ``moved_from_y`` (grid CRS,
    m): where a relocated plant stood (its original site), NaN for plants that never moved.
    """
    t = fleet.table.copy()
    orig = facilities.set_index(facilities["id"].astype(str)).geometry
    keep = t.origin.eq("base").to_numpy() & t.id.isin(orig.index).to_numpy()
    ox, oy = orig.reindex(t.id).x.to_numpy(), orig.reindex(t.id).y.to_numpy()
    cx, cy = _centres(grid, t.cell.to_numpy(np.int64))
    moved = (t.moved_from >= 0).to_numpy()
    gx = np.where(keep & ~moved, ox, cx)
    gy = np.where(keep & ~moved, oy, cy)
    fx, fy = _centres(grid, np.maximum(t.moved_from.to_numpy(np.int64), 0))
    t["moved_from_x"] = np.where(moved, np.where(keep, ox, fx), np.nan)
    t["moved_from_y"] = np.where(moved, np.where(keep, oy, fy), np.nan)
    t["region"] = np.asarray(grid.regions, dtype=object)[t.region_pos.to_numpy()]
    t["year"] = year
    t = t.drop(columns=["region_pos"])
    return gpd.GeoDataFrame(t, geometry=gpd.points_from_xy(gx, gy), crs=grid.crs)


def _centres(grid: Grid, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x and y (grid CRS, m) of the centres of flat ``cells``."""
    nx = grid.shape[1]
    return grid.x[cells % nx], grid.y[cells // nx]
