"""Bottom-up spatial evolution of the base-year grid, year by year (DESIGN section 5).

:func:`evolve` moves *where* emissions sit for reasons a planner recognises (see the
rule modules :mod:`.points`, :mod:`.lines`, :mod:`.areas`) and then imposes the allocated
region x sector totals exactly, every year, reporting the residual.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr
from scipy import ndimage

from gridcarbon.core.grid import Grid
from gridcarbon.core.gridding import distribute
from gridcarbon.core.sectors import GRIDDED, LINE_SECTORS, POINT_SECTORS
from gridcarbon.evolution.areas import (
    afforest,
    afforestable,
    built_demand,
    grow_urban,
    hill_factor,
    urban_allowed,
)
from gridcarbon.evolution.lines import Corridors, electrified_share
from gridcarbon.evolution.points import Fleet, PointRules, point_cells, step_points
from gridcarbon.inventory.base import Inventory
from gridcarbon.suitability.covariates import build_covariates, restricted
from gridcarbon.suitability.model import SuitabilityModel, fit_suitability

#: years over which a storage basin's effective capacity is injected (capacity / years = t/yr;
#: ASSUMPTION: 20-year injection campaigns, as in CCUS source-sink matching studies)
INJECTION_YEARS = 20.0
#: forest uptake used where a region had no forest sink in the base year (t CO2/km2/yr;
#: ~3 t/ha/yr, subtropical plantation forests)
DEFAULT_SINK_T_KM2 = 300.0
#: built-up fraction that marks a cell as urban for the development-probability model
URBAN_PRESENCE = 0.5
#: covariates the urban model may use (not population or GDP: they are drawn from built-up)
URBAN_FEATURES = ["dist_coast_km", "dist_waterway_km", "dist_motorway_km", "dist_rail_km",
                  "dist_city_km", "elevation_m", "water", "forest", "eco_reserve"]


@dataclass
class EvolutionResult:
    """Evolved layers of the kept years (n_gridded, y, x, t CO2/yr/cell) and what happened."""

    grid: Grid
    layers: dict[int, np.ndarray]
    fleet: Fleet
    snapshots: dict[int, gpd.GeoDataFrame]
    residuals: pd.DataFrame  # region, sector, year, allocated_t, gridded_t, residual_t
    capacities: pd.DataFrame  # region, sector, year, capacity_t (magnitudes)
    models: dict[str, SuitabilityModel]

    def summary(self) -> dict:
        worst = float((self.residuals.residual_t.abs() / self.residuals.allocated_t.abs().clip(lower=1.0)).max())
        return {"facility_events": self.fleet.counts(),
                "suitability": {k: m.summary() for k, m in self.models.items()},
                "max_relative_residual": worst,
                "facilities_active_end": int((self.fleet.table.status == "active").sum())}


#: fitted models by a hash of everything they learn from (covariates, presence, seed):
#: scenarios sharing a baseline and seed reuse them within a process (a fit is ~40 % of a run)
_FITTED: dict[str, dict] = {}


def fit_models(inv: Inventory, covariates: xr.Dataset, landscape: xr.Dataset, *, seed: int) -> dict:
    """Suitability per point sector (presence of today's plants) plus the urban model."""
    key = _fit_key(inv, covariates, landscape, seed)
    if key not in _FITTED:
        _FITTED.clear()  # keep one set: grids can be large
        _FITTED[key] = _fit(inv, covariates, landscape, seed=seed)
    return dict(_FITTED[key])


def _fit_key(inv: Inventory, covariates: xr.Dataset, landscape: xr.Dataset, seed: int) -> str:
    import hashlib

    h = hashlib.sha256(str(seed).encode())
    for name in sorted(covariates.data_vars):
        h.update(name.encode())
        h.update(np.ascontiguousarray(covariates[name].values).tobytes())
    h.update(np.ascontiguousarray(landscape.built_up.values).tobytes())
    h.update(inv.facilities.sector.astype(str).str.cat(sep=",").encode())
    h.update(np.ascontiguousarray(inv.facilities.cell.to_numpy(np.int64)).tobytes())
    return h.hexdigest()


def _fit(inv: Inventory, covariates: xr.Dataset, landscape: xr.Dataset, *, seed: int) -> dict:
    ncell = inv.grid.shape[0] * inv.grid.shape[1]
    models = {}
    for s in POINT_SECTORS:
        cells = inv.facilities.cell[inv.facilities.sector == s].to_numpy(np.int64)
        if cells.size >= 3:
            presence = np.bincount(cells, minlength=ncell).reshape(inv.grid.shape) > 0
            feats = [f for f in covariates.data_vars if f != "built_up"]
            models[s] = fit_suitability(s, presence, covariates, inv.grid, seed=seed, features=feats)
    urban = landscape.built_up.values >= URBAN_PRESENCE
    models["urban"] = fit_suitability("urban", urban, covariates, inv.grid, seed=seed, features=URBAN_FEATURES)
    return models


def capacity_table(grid: Grid, landscape: xr.Dataset, built: dict[int, np.ndarray], forest: dict[int, np.ndarray],
                   sink_rate: np.ndarray, *, hill: np.ndarray | None = None) -> pd.DataFrame:
    """What the grid can hold per region and year: forest sink and geological storage (t/yr).

    ``hill``: the landscape's :func:`~.areas.hill_factor`, computed when not given.
    """
    storage = grid.region_sums(landscape.storage_mt.values) * 1e6 / INJECTION_YEARS
    hill = hill_factor(landscape) if hill is None else hill
    rows = []
    for year in sorted(built):
        room = forest[year] + afforestable(landscape, built[year], forest[year], hill=hill)
        sink = grid.region_sums(room) * grid.cell_area_km2 * sink_rate
        rows += [(r, "forest_sink", year, float(sink[i])) for i, r in enumerate(grid.regions)]
        rows += [(r, "beccs", year, float(storage[i])) for i, r in enumerate(grid.regions)]
    return pd.DataFrame(rows, columns=["region", "sector", "year", "capacity_t"])


def initial_capacities(inv: Inventory, landscape: xr.Dataset, years: list[int]) -> pd.DataFrame:
    """Capacities of the base-year landscape, used before the first evolution."""
    built = {y: landscape.built_up.values for y in years}
    forest = {y: landscape.forest.values for y in years}
    return capacity_table(inv.grid, landscape, built, forest, _sink_rate(inv, landscape))


def _sink_rate(inv: Inventory, landscape: xr.Dataset) -> np.ndarray:
    """Forest uptake per km2 of forest in each region (t/km2/yr, magnitude)."""
    sink = -inv.grid.region_sums(inv.layer("forest_sink"))
    area = inv.grid.region_sums(landscape.forest.values) * inv.grid.cell_area_km2
    rate = np.where(area > 0, sink / np.maximum(area, 1e-12), 0.0)
    return np.where(rate > 0, rate, DEFAULT_SINK_T_KM2)


def _target_array(totals: pd.DataFrame, grid: Grid, years: list[int]) -> np.ndarray:
    """(n_years, n_gridded, n_regions) allocated t/yr (removals negative)."""
    cube = totals.pivot_table(index=["year", "sector"], columns="region", values="allocated_t", aggfunc="sum")
    full = pd.MultiIndex.from_product([years, GRIDDED], names=["year", "sector"])
    cube = cube.reindex(index=full, columns=list(grid.regions)).fillna(0.0)
    return cube.to_numpy().reshape(len(years), len(GRIDDED), len(grid.regions))


def _driver_ratios(drivers: pd.DataFrame, grid: Grid, years: list[int], base_year: int):
    """GDP and population of each year over the base year, (n_years, n_regions) each."""
    def ratio(col):
        t = drivers.pivot_table(index="year", columns="region", values=col).reindex(columns=list(grid.regions))
        t = t.reindex(sorted(set(t.index) | set(years))).interpolate().ffill().bfill()
        return (t.loc[years] / t.loc[base_year]).to_numpy()
    return ratio("gdp_yuan"), ratio("population")


def inventory_covariates(inv: Inventory, landscape: xr.Dataset, *, city_points: gpd.GeoSeries | None = None,
                         coast: gpd.GeoSeries | None = None) -> xr.Dataset:
    """Covariates of an inventory's grid (empty city or coast layers mean 'far away')."""
    empty = gpd.GeoSeries([], crs=inv.grid.crs)
    layers = inv.emissions["emission"].values
    return build_covariates(inv.grid, landscape=landscape, lines=inv.lines,
                            coast=empty if coast is None else coast,
                            city_points=empty if city_points is None else city_points,
                            point_layers={s: layers[GRIDDED.index(s)] for s in POINT_SECTORS})


def predict_surfaces(models: dict[str, SuitabilityModel], covariates: xr.Dataset, grid: Grid) -> dict[str, np.ndarray]:
    """Suitability (0..1) per point sector (uniform inside when a sector has no model) and ``urban``."""
    surfaces = {s: models[s].predict(covariates, grid) if s in models else grid.inside.astype(grid.storage_dtype)
                for s in POINT_SECTORS}
    surfaces["urban"] = models["urban"].predict(covariates, grid)
    return surfaces


@dataclass
class _Setting:
    """What every year of an evolution reads: targets, driver ratios, surfaces and land rules."""

    inv: Inventory
    landscape: xr.Dataset
    spec: object
    seed: int
    years: list[int]
    targets: np.ndarray  # (n_years, n_gridded, n_regions) t/yr
    gdp_ratio: np.ndarray  # (n_years, n_regions)
    pop_ratio: np.ndarray
    surfaces: dict[str, np.ndarray]
    sink_rate: np.ndarray  # t/km2/yr per region
    hill: np.ndarray  # afforestation preference of the terrain (y, x)

    @classmethod
    def build(cls, inv, landscape, totals, drivers, *, spec, seed, end_year, surfaces) -> "_Setting":
        years = list(range(inv.year, end_year + 1))
        gdp_ratio, pop_ratio = _driver_ratios(drivers, inv.grid, years, inv.year)
        return cls(inv, landscape, spec, seed, years, _target_array(totals, inv.grid, years), gdp_ratio,
                   pop_ratio, surfaces, _sink_rate(inv, landscape), hill_factor(landscape))


def _land_steps(st: _Setting):
    """Yield ``(k, year, rng, built, forest)`` for every year, the base year first (``rng`` None).

    Urban growth first (the CA), then afforestation for the allocated sink. ``rng`` is the
    year's generator, already used by the CA; the point rules continue drawing from it.
    """
    grid, land, spec = st.inv.grid, st.landscape, st.spec
    allowed, water = urban_allowed(land), land.water.values
    # the CA and afforestation run in float64 whatever the landscape's storage dtype
    b, f = (land[v].values.astype(np.float64, copy=False) for v in ("built_up", "forest"))
    built_r0 = grid.region_sums(b)
    sink = GRIDDED.index("forest_sink")
    yield 0, st.years[0], None, b, f
    for k, year in enumerate(st.years[1:], start=1):
        rng = np.random.default_rng([st.seed, year])
        b = grow_urban(b, built_demand(built_r0, st.gdp_ratio[k], st.pop_ratio[k]), st.surfaces["urban"],
                       allowed, water, grid, rng=rng, noise=spec.siting_noise)
        f = np.minimum(f, np.clip(1.0 - water - b, 0.0, 1.0))
        need_km2 = -st.targets[k, sink] / st.sink_rate / grid.cell_area_km2
        f = afforest(f, np.maximum(need_km2 - grid.region_sums(f), 0.0) * grid.cell_area_km2,
                     afforestable(land, b, f, hill=st.hill), grid)
        yield k, year, rng, b, f


def land_capacities(inv: Inventory, landscape: xr.Dataset, totals: pd.DataFrame, drivers: pd.DataFrame, *,
                    spec, seed: int, end_year: int, surfaces: dict[str, np.ndarray]) -> pd.DataFrame:
    """What the evolved land can hold each year under ``totals`` (the coupling's feedback).

    Runs only the land part of :func:`evolve` (urban growth and afforestation, identical
    draws), which is all the capacities depend on.
    """
    st = _Setting.build(inv, landscape, totals, drivers, spec=spec, seed=seed, end_year=end_year,
                        surfaces=surfaces)
    return pd.concat([_capacities(st, year, b, f) for _, year, _, b, f in _land_steps(st)], ignore_index=True)


def _capacities(st: _Setting, year: int, built: np.ndarray, forest: np.ndarray) -> pd.DataFrame:
    return capacity_table(st.inv.grid, st.landscape, {year: built}, {year: forest}, st.sink_rate, hill=st.hill)


def evolve(inv: Inventory, landscape: xr.Dataset, totals: pd.DataFrame, drivers: pd.DataFrame, *,
           spec, seed: int, end_year: int, snapshot_years: list[int] = (),
           models: dict | None = None, covariates: xr.Dataset | None = None,
           surfaces: dict[str, np.ndarray] | None = None,
           on_year: Callable[[int, np.ndarray], None] | None = None,
           keep_years: Iterable[int] | None = None, dtype=np.float64) -> EvolutionResult:
    """Evolve ``inv`` from its base year to ``end_year`` under allocated ``totals``.

    ``totals`` has region, sector, year, allocated_t; ``drivers`` region, year, population,
    gdp_yuan; ``spec`` is the scenario's ``evolution`` section. ``covariates`` default to
    :func:`inventory_covariates` without city or coast layers; ``models`` are fitted and
    ``surfaces`` predicted when not given. Each year's (n_gridded, y, x) layers (t CO2/yr/cell)
    go to ``on_year(year, layers)`` as they are made; the result keeps the layers of
    ``keep_years`` (all years when None), so a national 1 km run holds one year at a time;
    ``dtype`` float32 halves those layers (totals are imposed in float64, then stored).
    Deterministic under ``seed``.
    """
    grid, base = inv.grid, inv.year
    if surfaces is None:
        covariates = covariates if covariates is not None else inventory_covariates(inv, landscape)
        models = models or fit_models(inv, covariates, landscape, seed=seed)
        surfaces = predict_surfaces(models, covariates, grid)
    st = _Setting.build(inv, landscape, totals, drivers, spec=spec, seed=seed, end_year=end_year, surfaces=surfaces)
    keep = set(st.years if keep_years is None else keep_years)
    suit = {s: surfaces[s] for s in POINT_SECTORS}
    base_layers = inv.emissions["emission"].values
    rules = PointRules(spec.retire_utilisation, spec.build_utilisation, spec.min_spacing_km,
                       spec.max_plants_per_cell, spec.transfer, spec.ccs_reach_km, spec.capture_rate,
                       spec.siting_noise)
    fleet = Fleet.from_facilities(inv.facilities, grid, base)
    corridors = Corridors.build(inv.lines, inv.line_coverage, grid, base) if len(inv.lines) else None
    rest, point_share = _unmoved(base_layers, fleet, corridors, grid, base)
    area = _AreaBase.of(landscape)
    storage_cells = landscape.storage_mt.values > 0
    reach = (ndimage.distance_transform_edt(~storage_cells) * grid.res / 1000.0 <= spec.ccs_reach_km
             if storage_cells.any() else np.zeros(grid.shape, bool))
    elec0 = electrified_share(spec.electrification, base)

    layers, snapshots, rows, caps = {}, {}, [], []
    for k, year, rng, b, f in _land_steps(st):
        caps.append(_capacities(st, year, b, f))
        if k == 0:
            now = base_layers
        else:  # points: fleet rules, with the point share of each region x sector
            tgt = {(r, s): st.targets[k, GRIDDED.index(s), r] * point_share[j, r]
                   for j, s in enumerate(POINT_SECTORS) for r in range(len(grid.regions)) if point_share[j, r] > 0}
            restrict = restricted(landscape, built_up=b, urban_core_threshold=spec.urban_core_threshold,
                                  relocate_from=list(spec.relocate_from))
            step_points(fleet, year, targets=tgt, beccs=-st.targets[k, GRIDDED.index("beccs")], suitability=suit,
                        restricted=restrict, storage_reach=reach, grid=grid, rules=rules, rng=rng)
            raw = _raw_layers(rest, fleet, corridors, grid, landscape, area, year=year, b=b, f=f,
                              gdp_ratio=st.gdp_ratio[k], pop_ratio=st.pop_ratio[k],
                              elec=electrified_share(spec.electrification, year), elec0=elec0, reach=reach)
            now = _impose_totals(raw, st.targets[k], grid, fallback=suit, dtype=dtype)
        rows.append(_residuals(now, st.targets[k], grid, year))
        if on_year is not None:
            on_year(year, now)
        if year in keep:
            layers[year] = now.copy() if k == 0 else now
        if year in snapshot_years:
            snapshots[year] = facility_snapshot(fleet, grid, inv.facilities, year)
    models = models or {}
    return EvolutionResult(grid, layers, fleet, snapshots, pd.concat(rows, ignore_index=True),
                           pd.concat(caps, ignore_index=True), models)


@dataclass(frozen=True)
class _Unmoved:
    """A sector's base layer with ``values`` in place of it at flat ``cells``: what the fleet
    and corridor rules do not move (t CO2/yr/cell), without a second full layer."""

    base: np.ndarray
    cells: np.ndarray
    values: np.ndarray

    def layer(self, ratio: np.ndarray | None = None) -> np.ndarray:
        """A new float64 (y, x) layer, times ``ratio`` (y, x) when given."""
        if ratio is None:
            out = self.base.astype(np.float64)
            out.flat[self.cells] = self.values
        else:
            out = self.base * ratio
            out.flat[self.cells] = self.values * ratio.flat[self.cells]
        return out


def _unmoved(base_layers: np.ndarray, fleet: Fleet, corridors: Corridors | None, grid: Grid,
             base_year: int) -> tuple[list[_Unmoved], np.ndarray]:
    """What the fleet and corridor rules do not move, and the fleet's share of each point sector.

    Returns per gridded sector the base layer minus the base fleet (point sectors, clipped at
    0) or minus the base corridors (line sectors), and the fleet's region share of each
    point sector, (n_point_sectors, n_regions).
    """
    none = np.zeros(0, np.int64)
    rest = [_Unmoved(layer, none, none.astype(float)) for layer in base_layers]
    share = np.zeros((len(POINT_SECTORS), len(grid.regions)))
    region = grid.region_index.ravel()
    for j, s in enumerate(POINT_SECTORS):
        i = GRIDDED.index(s)
        cells, t = point_cells(fleet, s)
        rest[i] = _Unmoved(base_layers[i], cells, np.clip(base_layers[i].flat[cells] - t, 0.0, None))
        ours = region[cells] >= 0
        fleet_r = np.bincount(region[cells][ours], weights=t[ours], minlength=len(grid.regions))
        whole = grid.region_sums(base_layers[i])
        share[j] = np.where(whole > 0, np.clip(fleet_r / np.where(whole > 0, whole, 1.0), 0.0, 1.0), 0.0)
    if corridors is not None:
        ones = np.ones(len(grid.regions))
        lines = corridors.cells(base_year, gdp_ratio=ones, pop_ratio=ones, electrified=0.0, electrified_base=0.0)
        for s, (cells, t) in zip(LINE_SECTORS, lines):
            i = GRIDDED.index(s)
            rest[i] = _Unmoved(base_layers[i], cells, base_layers[i].flat[cells] - t)
    return rest, share


@dataclass(frozen=True)
class _AreaBase:
    """Base-year proxies that area sources change against, with their ratio offsets."""

    built: np.ndarray
    forest: np.ndarray
    water: np.ndarray
    population: np.ndarray
    gdp: np.ndarray
    eps: dict[str, float]

    @classmethod
    def of(cls, land: xr.Dataset) -> "_AreaBase":
        base = cls(land.built_up.values, land.forest.values, land.water.values, land.population.values,
                   land.gdp.values, {})
        then = {"population": base.population, "activity": base.activity(), "crop": base.crop(), "forest": base.forest}
        base.eps.update({k: _ratio_eps(v) for k, v in then.items()})
        return base

    def activity(self) -> np.ndarray:
        """GDP x (0.3 + built-up): where small industry sits (made when asked: 1 km grids are large)."""
        return self.gdp * (0.3 + self.built)

    def crop(self) -> np.ndarray:
        """Land neither water, built-up nor forest (fraction)."""
        return np.clip(1.0 - self.water - self.built - self.forest, 0.0, 1.0)

    def ratio(self, sector: str, built: np.ndarray, forest: np.ndarray) -> np.ndarray:
        """Change of an area-like sector's proxy since the base year (y, x), >= 0."""
        if sector in ("buildings", "transport_road"):  # people follow built-up growth
            return _safe_ratio(_grow_proxy(self.population, self.built, built), self.population,
                               self.eps["population"])
        if sector == "other_industry":
            now = _grow_proxy(self.gdp, self.built, built)
            now *= 0.3 + built
            return _safe_ratio(now, self.activity(), self.eps["activity"])
        if sector == "agriculture":
            crop = np.clip(1.0 - self.water - built - forest, 0.0, 1.0)
            return _safe_ratio(crop, self.crop(), self.eps["crop"])
        return _safe_ratio(forest, self.forest, self.eps["forest"])


#: sectors whose unmoved pattern scales with an area proxy (:meth:`_AreaBase.ratio`)
AREA_CHANGE = ("other_industry", "transport_road", "buildings", "agriculture", "forest_sink")


def _raw_layers(rest, fleet, corridors, grid, land, area: _AreaBase, *, year, b, f, gdp_ratio, pop_ratio,
                elec, elec0, reach):
    """Spatial pattern of each sector in ``year`` before totals are imposed (t/yr/cell).

    Yields one (y, x) layer per sector in GRIDDED order, made when it is asked for, so a
    year never holds a second full (sector, y, x) stack.
    """
    lines_now = (corridors.cells(year, gdp_ratio=gdp_ratio, pop_ratio=pop_ratio, electrified=elec,
                                 electrified_base=elec0) if corridors else None)
    for i, s in enumerate(GRIDDED):
        if s == "beccs":
            yield _beccs_pattern(fleet, grid, land, reach)
            continue
        layer = rest[i].layer(area.ratio(s, b, f) if s in AREA_CHANGE else None)
        if s in POINT_SECTORS:
            cells, t = point_cells(fleet, s)
            layer.flat[cells] += t
        if s in LINE_SECTORS and lines_now is not None:
            cells, t = lines_now[LINE_SECTORS.index(s)]
            layer.flat[cells] += t
        yield layer


def _grow_proxy(base: np.ndarray, built0: np.ndarray, built: np.ndarray) -> np.ndarray:
    """A people-like proxy that follows built-up growth: base x (built + 0.02) / (built0 + 0.02).

    Computed in place in one new layer (the same bits as the plain expression).
    """
    out = built + 0.02
    out *= base
    out /= built0 + 0.02
    return out


def _ratio_eps(then: np.ndarray) -> float:
    """Offset of :func:`_safe_ratio`: 1 % of the mean positive base value."""
    positive = then[then > 0]
    return 0.01 * max(float(np.mean(positive)) if positive.size else 1.0, 1e-12)


def _safe_ratio(now: np.ndarray, then: np.ndarray, eps: float) -> np.ndarray:
    """(now + eps) / (then + eps), in one new layer."""
    out = now + eps
    out /= then + eps
    return out


def _beccs_pattern(fleet: Fleet, grid: Grid, land, reach) -> np.ndarray:
    """Where stored CO2 is captured: CCS plants (by capture), else storage cells (by capacity)."""
    t = fleet.table[(fleet.table.status == "active") & fleet.table.ccs]
    cells, pos = np.unique(t.cell.to_numpy(np.int64), return_inverse=True)
    captured = np.bincount(pos, weights=-t.potential_t.to_numpy(float), minlength=cells.size)
    region = grid.region_index.ravel()[cells]
    ours = region >= 0
    capturing = np.bincount(region[ours], weights=captured[ours], minlength=len(grid.regions)) < 0
    by_plants = capturing[np.maximum(grid.region_index, 0)]
    out = np.where(by_plants, 0.0, -land.storage_mt.values * 1e-3)  # tiny weight: only where no plant captures
    out.flat[cells] = np.where(by_plants.flat[cells], captured, out.flat[cells])
    return out


def _impose_totals(raw, target: np.ndarray, grid: Grid, *, fallback: dict, dtype=np.float64) -> np.ndarray:
    """Rescale each region x sector of ``raw`` (layers in GRIDDED order) to its allocated total exactly.

    Where a region's pattern is empty but its total is not, the total goes to the sector's
    suitability surface (point sectors) or is spread evenly (others).
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
