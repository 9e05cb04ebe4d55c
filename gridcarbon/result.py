"""What a run gives back: :class:`RunResult` in memory, and :func:`load_run` to read a finished run folder."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rioxarray  # noqa: F401 - registers the Dataset.rio accessor used below
import xarray as xr

from gridcarbon.config import Scenario
from gridcarbon.core.errors import InputError
from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import GRIDDED, SECTORS
from gridcarbon.inputs.study_area import scenario_outlines, scenario_regions
from gridcarbon.output import styles
from gridcarbon.output.layers import named_layers


@dataclass
class RunResult:
    """In-memory results of a run (what a notebook works with)."""

    scenario: Scenario
    grid: Grid
    emissions: xr.Dataset  # emission (sector, year, y, x), t CO2/yr/cell, with rio CRS
    totals: pd.DataFrame  # region, sector, year, allocated_t, gridded_t, residual_t
    facilities: gpd.GeoDataFrame  # facility table at the exported years (column ``year``)
    events: pd.DataFrame  # year, id, event, sector, region, from_cell, to_cell
    manifest: dict
    boundaries: gpd.GeoDataFrame
    out_dir: Path | None = None
    models: dict = field(default_factory=dict, repr=False)
    market: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)  # file -> allocation market table
    storage: pd.DataFrame | None = None  # site, region, year, beccs_t, captured_t, injected_t, cumulative_t, capacity_t, fill
    storage_sites: pd.DataFrame | None = field(default=None, repr=False)  # cell (flat), site of each storage cell
    energy: dict = field(default_factory=dict, repr=False)  # energy.csv, energy_summary.csv, primary_energy.csv tables
    transfers: pd.DataFrame | None = None  # period, sector, from_region, to_region, plants, potential_mt, moved_mt

    def total(self, year: int, *, net: bool = False) -> xr.DataArray:
        """Gross (emitting sectors) or net (with removals) t CO2/yr/cell in ``year``."""
        sectors = [s for s in GRIDDED if net or not SECTORS[s].removal]
        return self.emissions["emission"].sel(year=year, sector=sectors).sum("sector")

    def layers(self, year: int) -> dict[str, np.ndarray]:
        """Every exported layer of ``year`` (t CO2/yr/cell): sectors, ``total`` (gross) and ``net``."""
        return named_layers(self.emissions["emission"].sel(year=year).transpose("sector", "y", "x").values)

    def plot(self, year: int, sector: str = "total", *, ax=None, vmin: float | None = None,
             vmax: float | None = None):
        """Quick look: one sector (or ``total`` / ``net``) of one year on a log scale.

        ``vmin`` / ``vmax`` (t CO2/yr/cell, magnitudes) fix the scale, e.g. to compare years.
        """
        import matplotlib.pyplot as plt

        if sector in ("total", "net"):
            values = self.total(year, net=sector == "net").values
        else:
            values = self.emissions["emission"].sel(year=year, sector=sector).values
        kind = "diverging" if (values < 0).any() else "sequential"
        auto = styles.log_limits(values)
        vmin, vmax = vmin or auto[0], vmax or auto[1]
        ax = ax or plt.subplots(figsize=(6, 5))[1]
        shown = np.where(self.grid.inside, values, np.nan)
        extent = (self.grid.bounds[0], self.grid.bounds[2], self.grid.bounds[1], self.grid.bounds[3])
        image = ax.imshow(shown, extent=extent, cmap=styles.colormap(kind), norm=styles.norm(kind, vmin, vmax))
        self.boundaries.to_crs(self.grid.crs).boundary.plot(ax=ax, color="#333", linewidth=0.5)
        ax.set_title(f"{self.scenario.name} {year} {sector}")
        ax.figure.colorbar(image, ax=ax, label="t CO2/yr/cell")
        return ax


def load_run(folder: str | Path) -> RunResult:
    """A finished run from its folder (cube, totals, manifest) for maps and comparisons."""
    folder = Path(folder)
    manifest_path = folder / "manifest.json"
    if not manifest_path.exists():
        raise InputError("not a gridcarbon run folder (no manifest.json)", source=str(folder))
    manifest = json.loads(manifest_path.read_text())
    # JSON mode: the manifest stores int-keyed maps (years) with string keys, which strict
    # python-mode validation rejects
    sc = Scenario.model_validate_json(json.dumps(manifest["scenario_resolved"]))
    grid = Grid.from_regions(scenario_regions(sc), res=sc.resolution)
    ds = open_cube(folder / "cube.nc", grid)
    totals = pd.read_csv(folder / "totals.csv")
    return RunResult(sc, grid, ds, totals, gpd.GeoDataFrame(), pd.DataFrame(), manifest,
                     scenario_outlines(sc), folder)


def open_cube(path: Path, grid: Grid) -> xr.Dataset:
    """A run's ``cube.nc`` as a lazy (dask) float64 ``emission`` cube, 0 outside regions, with its CRS."""
    try:
        cube = xr.open_dataset(path, chunks={"sector": 1, "year": 1})
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the emission cube: {exc}", source=str(path)) from exc
    emission = cube["emission"].fillna(0.0).astype(np.float64)
    ds = xr.Dataset({"emission": emission.drop_vars([c for c in emission.coords if c not in emission.dims])})
    return ds.rio.write_crs(grid.crs.to_wkt())
