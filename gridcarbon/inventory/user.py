"""A user's own inventory: point, line and area tables and a raster, gridded on the study area's grid.

Replaces the built-in baseline when a scenario names ``inventory:`` files (docs/architecture.md,
"Sources and inventories"). The built-in plants and corridors are never built for it; only the
grid and the landscape are shared with the built-in study area.
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np

from gridcarbon.config import Scenario
from gridcarbon.core.errors import InputError
from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import GRIDDED
from gridcarbon.inputs.sources import read_sources
from gridcarbon.inventory.base import Inventory, assemble, grid_frame, regrid_raster

#: network kind assumed for user line sources that do not say (column ``kind``): it drives
#: the distance covariates and how electrification acts on a corridor
DEFAULT_LINE_KIND = {"transport_road": "motorway", "transport_other": "rail"}
#: columns of an empty facility table (a user inventory without points)
POINT_COLUMNS = ["id", "sector", "emission_t", "region", "cell"]
#: columns of an empty line table (a user inventory without lines)
LINE_COLUMNS = ["id", "sector", "emission_t", "kind"]


def user_inventory(scenario: Scenario, grid: Grid, regions: gpd.GeoDataFrame) -> Inventory:
    """The scenario's ``inventory`` files gridded on ``grid`` (t CO2/yr/cell), its base year.

    ``regions`` (one polygon per region, column ``region``) assign points and lines to regions.
    """
    spec = scenario.inventory
    layers = np.zeros((len(GRIDDED),) + grid.shape)
    facilities = gpd.GeoDataFrame({c: [] for c in POINT_COLUMNS}, geometry=[], crs=grid.crs)
    lines = gpd.GeoDataFrame({c: [] for c in LINE_COLUMNS}, geometry=[], crs=grid.crs)
    line_cov = None
    read = dict(regions=regions, crs=grid.crs, columns=spec.columns)
    if spec.points:
        facilities = read_sources(spec.points, "points", **read)
        part, cov = grid_frame(facilities, grid, own_region=True)
        facilities["cell"] = cov.cell
        layers += part
    if spec.lines:
        lines = read_sources(spec.lines, "lines", **read)
        if "kind" not in lines:
            lines["kind"] = lines.sector.map(DEFAULT_LINE_KIND)
        part, line_cov = grid_frame(lines, grid, own_region=False)
        layers += part
    if spec.areas:
        part, _ = grid_frame(read_sources(spec.areas, "areas", **read), grid, own_region=False)
        layers += part
    if spec.raster:
        layers += regrid_raster(spec.raster, grid)
    sums = grid.region_sums(layers)
    ds, table = assemble(grid, scenario.base_year, layers.astype(grid.storage_dtype, copy=False), sums=sums,
                         attrs={"inventory": "user"})
    names = [Path(p).name for p in (spec.points, spec.lines, spec.areas, spec.raster) if p]
    return Inventory(grid, scenario.base_year, ds, table, facilities, lines, line_cov,
                     [f"user inventory from {', '.join(names)}"])


def input_problems(scenario: Scenario, regions: gpd.GeoDataFrame, grid: Grid) -> list[str]:
    """Every problem of the scenario's inventory files, one line each ([] if fine or none given)."""
    spec = scenario.inventory
    if spec is None:
        return []
    checks = [(lambda k=k: read_sources(getattr(spec, k), k, regions, crs="EPSG:4326", columns=spec.columns))
              for k in ("points", "lines", "areas") if getattr(spec, k)]
    if spec.raster:
        checks.append(lambda: regrid_raster(spec.raster, grid))
    problems = []
    for check in checks:
        try:
            check()
        except InputError as exc:
            problems.append(str(exc))
    return problems
