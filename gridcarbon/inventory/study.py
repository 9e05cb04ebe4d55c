"""The national built-in inventory clipped to a custom study area.

The study area's regions (:mod:`gridcarbon.inputs.study_area`) take what the national
baseline (``region_set: china``) holds inside them (docs/architecture.md, "Any study area"):

- **points** by location (a plant on reclaimed land or a pier, outside every province but
  within ``NEAR_REGION_M`` of a study region, joins it, as in the national build);
- **lines**: the national corridor pieces cut exactly at the study borders, each piece
  keeping the share of its emission its length holds;
- **areas**: the national area sectors (urban road traffic, buildings, agriculture, forest
  sink, other industry) are built on a *host* grid of the provinces the area touches, with
  the national province totals of the reference grid; each host cell gives a study region
  the share of its area the region covers (exact polygon clipping), in the same cell when
  the region owns it, else in the region's nearest cell.

The host grid and the study grid share their origin (both snap to ``ALIGN_M``), so cell
values copy across without resampling; the landscape is the host's, cell by cell.
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
import xarray as xr

from gridcarbon.core.grid import Grid
from gridcarbon.core.gridding import distribute
from gridcarbon.core.sectors import GRIDDED
from gridcarbon.inputs.regions import load_regions
from gridcarbon.inputs.sources import NEAR_REGION_M
from gridcarbon.inputs.study_area import OVERLAP_TOLERANCE
from gridcarbon.inventory.base import Inventory, assemble, frame_coverage
from gridcarbon.inventory.builtin import (
    area_proxy,
    builtin_landscape,
    calibration,
    corridor_lines,
    plant_points,
    reference_area_totals,
    sector_totals_t,
)
from gridcarbon.inventory.facilities import calibration_table
from gridcarbon.inventory.landscape import area_fraction

#: the built-in inventory a study area is clipped from: the national one
NATIONAL = "china"
#: area sectors of the built-in baselines (spread over landscape proxies)
AREA_SECTORS = ("transport_road", "buildings", "agriculture", "forest_sink", "other_industry")
#: margin around the study area, in cells, within which provinces join the host grid: a
#: cell partly covered by the area but centred in a neighbouring province (diagonal: sqrt 2)
HOST_MARGIN_CELLS = 2 ** 0.5


def clipped_baseline(regions: gpd.GeoDataFrame, grid: Grid, *, source: str = "boundaries") -> tuple[Inventory, xr.Dataset]:
    """The national baseline inside ``regions`` (column ``region``, any CRS) on ``grid``
    (t CO2/yr/cell), and the landscape (units of :mod:`gridcarbon.inventory.landscape`).

    ``source`` names the boundaries in the inventory's history.
    """
    regions = regions.to_crs(grid.crs)
    provinces = load_regions(NATIONAL).to_crs(grid.crs)
    host_grid, host_land = _host(regions, provinces, grid)
    cal = calibration(NATIONAL)
    totals = sector_totals_t(cal)
    points = _clip_points(plant_points(NATIONAL, grid, provinces, cal, totals), regions, provinces)
    road_urban = cal["road_urban_share"] * totals["transport_road"]
    lines = _clip_lines(corridor_lines(NATIONAL, grid, provinces, totals, totals["transport_road"] - road_urban),
                        regions)
    point_cov = frame_coverage(points, grid, own_region=True)
    line_cov = frame_coverage(lines, grid, own_region=True)
    points["cell"] = point_cov.cell
    layers = np.zeros((len(GRIDDED),) + grid.shape)
    for frame, cov in ((points, point_cov), (lines, line_cov)):
        sector = frame.sector.map({s: i for i, s in enumerate(GRIDDED)}).to_numpy()
        layers += cov.spread(frame.emission_t.to_numpy(), grid, layer=sector, n_layers=len(GRIDDED))
    layers += _area_layers(host_land, host_grid, provinces, regions, grid)
    sums = grid.region_sums(layers)
    ds, table = assemble(grid, cal["base_year"], layers.astype(grid.storage_dtype, copy=False), sums=sums,
                         attrs={"inventory": f"gridcarbon built-in {NATIONAL} baseline clipped to {source}"})
    history = [f"built-in {NATIONAL} baseline {cal['base_year']} clipped to {source} at {grid.res:g} m: "
               f"{int((points.emission_t > 0).sum())} point facilities emitting in {cal['base_year']}, "
               f"{len(lines)} corridor pieces cut at the study borders, area sectors by exact coverage of "
               f"the {len(host_grid.regions)} provinces it touches ({', '.join(host_grid.regions)})"]
    landscape = _on_study_grid(host_land, host_grid, grid).astype(grid.storage_dtype, copy=False)
    return (Inventory(grid, cal["base_year"], ds, table, points, lines, line_cov, history,
                      calibration=calibration_table(points)), landscape)


def clipped_landscape(regions: gpd.GeoDataFrame, grid: Grid) -> xr.Dataset:
    """The national landscape inside ``regions`` on ``grid`` (for a user inventory on a custom area)."""
    host_grid, host_land = _host(regions.to_crs(grid.crs), load_regions(NATIONAL).to_crs(grid.crs), grid)
    return _on_study_grid(host_land, host_grid, grid).astype(grid.storage_dtype, copy=False)


def _host(regions: gpd.GeoDataFrame, provinces: gpd.GeoDataFrame, grid: Grid) -> tuple[Grid, xr.Dataset]:
    """The host grid (the national provinces within :data:`HOST_MARGIN_CELLS` cells of the study
    area, grid CRS, same origin as ``grid``) and its national landscape."""
    area = shapely.union_all(regions.geometry.values).buffer(HOST_MARGIN_CELLS * grid.res)
    host = Grid.from_regions(provinces[provinces.intersects(area)].reset_index(drop=True), res=grid.res,
                             crs=grid.crs)
    return host, builtin_landscape(NATIONAL, host)


def _clip_points(points: gpd.GeoDataFrame, regions: gpd.GeoDataFrame,
                 provinces: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """National plants inside the study regions, ``region`` set to the study region and
    ``province`` kept.

    A plant joins the region holding it if that region shares land with the plant's own
    province (more than :data:`OVERLAP_TOLERANCE` of the region): a plant the national
    table puts in a neighbouring province, whose point the simplified border leaves just
    inside the area, stays out. Plants off every province's land join a study region within
    ``NEAR_REGION_M`` (as the national build joins them to the nearest province).
    """
    geoms = points.geometry.values
    region = np.full(len(points), -1)
    hit_pt, hit_reg = shapely.STRtree(regions.geometry.values).query(geoms, predicate="within")
    region[hit_pt] = hit_reg
    on_land = np.zeros(len(points), bool)
    on_land[shapely.STRtree(provinces.geometry.values).query(geoms, predicate="within")[0]] = True
    offshore = np.flatnonzero((region < 0) & ~on_land)
    near_pt, near_reg = shapely.STRtree(regions.geometry.values).query_nearest(
        geoms[offshore], max_distance=NEAR_REGION_M)
    region[offshore[near_pt]] = near_reg
    shares = _shared_land(regions, provinces)
    province = provinces.region.reset_index(drop=True).reset_index().set_index("region")["index"]
    own = province.reindex(points.region).to_numpy()
    keep = region >= 0
    keep[keep] = shares[region[keep], own[keep]] > OVERLAP_TOLERANCE
    out = points[keep].rename(columns={"region": "province"})
    out.insert(out.columns.get_loc("province"), "region", regions.region.to_numpy()[region[keep]])
    return out.reset_index(drop=True)


def _shared_land(regions: gpd.GeoDataFrame, provinces: gpd.GeoDataFrame) -> np.ndarray:
    """(study regions, provinces): the part (0..1) of each study region's area in each province."""
    left, right = shapely.STRtree(provinces.geometry.values).query(regions.geometry.values, predicate="intersects")
    out = np.zeros((len(regions), len(provinces)))
    out[left, right] = shapely.area(shapely.intersection(regions.geometry.values[left],
                                                         provinces.geometry.values[right]))
    return out / shapely.area(regions.geometry.values)[:, None]


def _clip_lines(lines: gpd.GeoDataFrame, regions: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """National corridor pieces cut at the study borders; emission and activity by length share.

    A piece keeps its national id when one study region holds it whole, else gets
    ``<id>@<study region>``."""
    national = lines.rename(columns={"region": "province"})
    full = national.set_index("id").length
    pieces = gpd.overlay(national, regions[["region", "geometry"]], how="intersection", keep_geom_type=True)
    pieces = pieces[pieces.length > 0].copy()
    share = pieces.length.to_numpy() / full.reindex(pieces["id"]).to_numpy()
    pieces["emission_t"] *= share
    pieces["activity"] *= share
    cut = pieces.groupby("id")["id"].transform("size").to_numpy() > 1
    pieces["id"] = np.where(cut, pieces["id"] + "@" + pieces["region"], pieces["id"])
    return pieces.sort_values("id").reset_index(drop=True)


def _area_layers(land: xr.Dataset, host: Grid, provinces: gpd.GeoDataFrame, regions: gpd.GeoDataFrame,
                 grid: Grid) -> np.ndarray:
    """(n_gridded, y, x) t CO2/yr/cell of the area sectors on the study grid, by exact coverage."""
    reference = reference_area_totals(NATIONAL)  # (n_gridded, national provinces)
    national = {r: i for i, r in enumerate(provinces.region)}
    columns = [national[r] for r in host.regions]
    host_layers = np.stack([distribute(reference[GRIDDED.index(s), columns][None],
                                       area_proxy(land, s, host.cell_area_km2), host)[0] for s in AREA_SECTORS])
    out = np.zeros((len(GRIDDED),) + grid.shape)
    flat = out.reshape(len(GRIDDED), -1)
    dr, dc = _offset(host, grid)
    rows, cols = np.indices(host.shape)
    rows, cols = (rows + dr).ravel(), (cols + dc).ravel()
    for r in range(len(regions)):  # loop over study regions; cells are vectorised
        frac = area_fraction(regions.geometry.iloc[[r]], host).ravel()
        cells = np.flatnonzero(frac > 0)
        target = _home_cells(grid, r, rows[cells], cols[cells])
        for k, sector in enumerate(AREA_SECTORS):
            flat[GRIDDED.index(sector)] += np.bincount(target, weights=host_layers[k].ravel()[cells] * frac[cells],
                                                       minlength=flat.shape[1])
    return out


def _offset(host: Grid, grid: Grid) -> tuple[int, int]:
    """(rows, columns) to add to a host cell's position to find it on the study grid."""
    return (round((grid.bounds[3] - host.bounds[3]) / grid.res),
            round((host.bounds[0] - grid.bounds[0]) / grid.res))


def _home_cells(grid: Grid, region: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Flat study cells of (row, col) positions: the cell itself when ``region`` owns it, else the
    region's nearest cell."""
    ny, nx = grid.shape
    on_grid = (rows >= 0) & (rows < ny) & (cols >= 0) & (cols < nx)
    flat = np.where(on_grid, rows * nx + cols, -1)
    foreign = ~on_grid | (grid.region_index.ravel()[np.maximum(flat, 0)] != region)
    if foreign.any():
        flat[foreign] = grid.nearest_region_cell(region, cols[foreign] + 0.5, rows[foreign] + 0.5)
    return flat


def _on_study_grid(land: xr.Dataset, host: Grid, grid: Grid) -> xr.Dataset:
    """The host landscape copied cell by cell onto the study grid (0 outside the study regions)."""
    dr, dc = _offset(host, grid)
    ny, nx = grid.shape
    r0, r1 = max(dr, 0), min(dr + host.shape[0], ny)
    c0, c1 = max(dc, 0), min(dc + host.shape[1], nx)
    layers = {}
    for name, var in land.data_vars.items():
        values = np.zeros(grid.shape, var.dtype)
        values[r0:r1, c0:c1] = var.values[r0 - dr:r1 - dr, c0 - dc:c1 - dc]
        values[~grid.inside] = 0
        layers[name] = (("y", "x"), values)
    return xr.Dataset(layers, coords=grid.coords())
