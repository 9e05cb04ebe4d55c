"""Importable test fixtures: tiny grids with regions, toy inputs and a toy facility fleet.

In the manner of emiproc's ``tests_utils``: small factories that the test suite shares
instead of re-building the same toy inputs in every file, and that code built on
gridcarbon can import for its own tests (``from gridcarbon.testing import two_region_grid``).
They build inputs and assert nothing; tests state what they expect of them.

Units: coordinates, box edges and resolutions are in units of the CRS they are given in
(metres for the projected CRSs used here, degrees for WGS84); emissions of sources are
t CO2/yr, of gridded layers t CO2/yr/cell; fractions are 0..1 of a cell's area.
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr
from shapely.geometry import box

from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import GRIDDED, SECTORS
from gridcarbon.evolution.points import Fleet
from gridcarbon.inputs.regions import load_regions
from gridcarbon.inventory.base import Inventory, assemble

#: Python source for a test's child process: a numba compile listener appending ``(module,
#: name, argument types)`` of every gridcarbon function numba compiles to the list ``compiled``
COMPILE_LISTENER = """
from numba.core import event

compiled = []


class _Seen(event.Listener):
    def on_start(self, ev):
        pass

    def on_end(self, ev):
        func = ev.data["dispatcher"].py_func
        if func.__module__.startswith("gridcarbon"):
            compiled.append((func.__module__, func.__name__, str(ev.data["args"])))


event.register("numba:compile", _Seen())
"""
#: the static layers of a landscape (:func:`~gridcarbon.inventory.landscape.build_landscape`)
LANDSCAPE_LAYERS = ("elevation_m", "water", "forest", "eco_reserve", "storage_mt", "built_up", "population",
                    "gdp", "cropland", "grassland", "shrub", "precipitation_mm", "arid_share")
#: columns of a facility table made by :func:`toy_facilities`
PLANT_COLUMNS = ["id", "sector", "region", "cell", "emission_t", "capacity", "year_built"]


# ------------------------------------------------------------------ grids with regions
def box_regions(boxes: dict[str, tuple[float, float, float, float]], *, crs: str = "EPSG:3857") -> gpd.GeoDataFrame:
    """One rectangular region per entry, ``name -> (xmin, ymin, xmax, ymax)`` in ``crs`` units."""
    return gpd.GeoDataFrame({"region": list(boxes)}, geometry=[box(*b) for b in boxes.values()], crs=crs)


def regular_grid(boxes: dict[str, tuple[float, float, float, float]], *, res: float = 1000.0,
                 crs: str = "EPSG:3857") -> Grid:
    """Grid of ``res`` (m) cells in ``crs`` over rectangular regions (:func:`box_regions`, edges in m)."""
    return Grid.from_regions(box_regions(boxes, crs=crs), res=res, crs=crs)


def two_region_grid(n: int = 10, *, res: float = 1000.0, crs: str = "EPSG:3857") -> Grid:
    """Regions ``A`` (west) and ``B`` (east), each ``n`` x ``n`` cells of ``res`` (m).

    A holds columns 0 .. n-1, B columns n .. 2n-1; the flat index of a cell is
    ``row * 2n + col``, row 0 in the north.
    """
    side = n * res
    return regular_grid({"A": (0.0, 0.0, side, side), "B": (side, 0.0, 2 * side, side)}, res=res, crs=crs)


def lonlat_regions() -> gpd.GeoDataFrame:
    """Two adjacent regions ``west`` and ``east`` of 0.5 x 1 degree around 120E 31N (WGS84 degrees)."""
    return box_regions({"west": (119.5, 30.5, 120.0, 31.5), "east": (120.0, 30.5, 120.5, 31.5)}, crs="EPSG:4326")


@lru_cache(maxsize=None)
def yrd_grid(res: float) -> Grid:
    """The grid of the four built-in YRD provinces at ``res`` (m, China Albers).

    Cached: one grid per resolution is shared by every caller, who must not change it.
    """
    return Grid.from_regions(load_regions("yrd"), res=res)


@lru_cache(maxsize=1)
def _yrd_triangles() -> tuple[np.ndarray, np.ndarray]:
    """Corners (n, 3, 2; degrees) of a triangulation of the YRD and their cumulative area shares."""
    union = shapely.union_all(load_regions("yrd").geometry.values)
    triangles = shapely.get_parts(shapely.constrained_delaunay_triangles(union))
    corners = shapely.get_coordinates(triangles).reshape(-1, 4, 2)[:, :3]
    return corners, np.cumsum(shapely.area(triangles)) / shapely.area(triangles).sum()


def yrd_lonlat(w: float, a: float, b: float) -> tuple[float, float]:
    """A point (lon, lat; WGS84 degrees) inside the YRD from three numbers in [0, 1].

    ``w`` picks a triangle of the provinces' union by area, ``a`` and ``b`` a point in it
    (barycentric): uniform over the YRD without rejection, so a property-test strategy
    mapping three floats through it shrinks towards the first triangle's corner.
    """
    corners, cumulative = _yrd_triangles()
    k = min(int(np.searchsorted(cumulative, w, side="right")), len(cumulative) - 1)
    if a + b > 1:
        a, b = 1 - a, 1 - b
    p0, p1, p2 = corners[k]
    x, y = p0 + a * (p1 - p0) + b * (p2 - p0)
    return float(x), float(y)


# ------------------------------------------------------------------ values on a grid
def signed(sector: str, value: float) -> float:
    """``value`` (t CO2/yr, a magnitude) with the sign of ``sector``: negative for removals."""
    return -value if SECTORS[sector].removal else value


def random_layer(grid: Grid, *, seed: int = 0, mean: float = 9.0, zero_share: float = 0.3) -> np.ndarray:
    """A (y, x) layer of t CO2/yr/cell: lognormal (median ``exp(mean)``, sigma 2) with about
    ``zero_share`` of the cells 0, and 123 outside the regions (which must not leak into outputs)."""
    rng = np.random.default_rng(seed)
    values = rng.lognormal(mean=mean, sigma=2.0, size=grid.shape)
    values[rng.random(grid.shape) < zero_share] = 0.0
    values[~grid.inside] = 123.0
    return values


# ------------------------------------------------------------------ toy inputs
def toy_landscape(grid: Grid, **layers: np.ndarray) -> xr.Dataset:
    """A landscape on ``grid``: the :data:`LANDSCAPE_LAYERS`, each 0 unless given in ``layers`` (y, x).

    Fractions of a cell (water, forest, eco_reserve, built_up, cropland, grassland, shrub,
    arid_share) except elevation_m (m), storage_mt (Mt CO2 of geological storage), population
    (persons), gdp (yuan/yr) and precipitation_mm (mm/yr). All zero is a flat, rainless, bare,
    unpeopled land.
    """
    unknown = sorted(set(layers) - set(LANDSCAPE_LAYERS))
    if unknown:
        raise ValueError(f"not landscape layers: {unknown}; layers: {', '.join(LANDSCAPE_LAYERS)}")
    values = {name: np.asarray(layers.get(name, np.zeros(grid.shape)), float) for name in LANDSCAPE_LAYERS}
    return xr.Dataset({k: (("y", "x"), v) for k, v in values.items()}, coords=grid.coords())


def toy_drivers(grid: Grid, years: Sequence[int], *, gdp_growth: float = 0.0, population: float = 1e7,
                gdp: float = 1e12) -> pd.DataFrame:
    """Drivers of every region of ``grid`` (region, year, population, gdp_yuan): ``population``
    persons throughout, ``gdp`` yuan/yr in ``years[0]`` growing by ``gdp_growth`` (a fraction) a year."""
    rows = [(r, y, population, gdp * (1.0 + gdp_growth) ** (y - years[0])) for r in grid.regions for y in years]
    return pd.DataFrame(rows, columns=["region", "year", "population", "gdp_yuan"])


def plant(plant_id: str, cell: int, *, sector: str = "power", region: str = "A", emission: float = 100.0,
          capacity: float = 100.0, built: int = 2000) -> dict:
    """One facility record for :func:`toy_facilities`: flat ``cell`` index, ``emission`` t CO2/yr,
    ``capacity`` in the sector's unit of output, ``built`` the year it was built."""
    return {"id": plant_id, "sector": sector, "region": region, "cell": cell, "emission_t": emission,
            "capacity": capacity, "year_built": built}


def toy_facilities(grid: Grid, plants: Sequence[dict]) -> gpd.GeoDataFrame:
    """Point sources (the :data:`PLANT_COLUMNS`, grid CRS) from :func:`plant` records, each at its cell's centre."""
    frame = pd.DataFrame(plants, columns=PLANT_COLUMNS)
    nx = grid.shape[1]
    cells = frame["cell"].to_numpy(np.int64)
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(grid.x[cells % nx], grid.y[cells // nx]),
                            crs=grid.crs)


def toy_fleet(grid: Grid, plants: Sequence[dict], base_year: int = 2024) -> Fleet:
    """The evolution's facility fleet of :func:`plant` records in ``base_year``."""
    return Fleet.from_facilities(toy_facilities(grid, plants), grid, base_year)


def toy_inventory(grid: Grid, *, layers: np.ndarray | None = None, plants: Sequence[dict] = (),
                  year: int = 2024) -> Inventory:
    """A base-year inventory on ``grid`` without line sources.

    Its (n_gridded, y, x) emission layers are ``layers`` (t CO2/yr/cell; zero when None)
    plus the emission of every :func:`plant` record in its cell; no indirect emissions.
    """
    stack = np.zeros((len(GRIDDED),) + grid.shape) if layers is None else np.array(layers, float)
    facilities = toy_facilities(grid, list(plants))
    sector = facilities.sector.map(GRIDDED.index).to_numpy(np.int64)
    np.add.at(stack.reshape(len(GRIDDED), -1), (sector, facilities["cell"].to_numpy(np.int64)),
              facilities.emission_t.to_numpy(float))
    emissions, totals = assemble(grid, year, stack)
    lines = gpd.GeoDataFrame({"id": [], "sector": [], "emission_t": []}, geometry=[], crs=grid.crs)
    return Inventory(grid, year, emissions, totals, facilities, lines, None, history=["gridcarbon.testing toy"])
