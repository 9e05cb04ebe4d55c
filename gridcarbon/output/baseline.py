"""The base-year inventory alone as a folder: styled COGs, NetCDF, totals and maps (``gridcarbon baseline``)."""
from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

from gridcarbon.core import memory
from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import GRIDDED
from gridcarbon.inputs.regions import load_regions, map_outlines
from gridcarbon.inventory.builtin import build_baseline
from gridcarbon.output import cube, maps
from gridcarbon.output.atomic import atomic_dir
from gridcarbon.output.layers import named_layers, write_layers


@memory.without_huge_page_advice()
def write_baseline(region_set: str, out: str | Path, *, resolution: float = 10_000) -> Path:
    """Base-year inventory of a built-in region set on a ``resolution`` m grid, written to ``out``
    atomically: styled COG per sector, total and net (t CO2/yr/cell), NetCDF, totals, maps."""
    resolution = float(resolution)  # tags read the same whether called from Python or the CLI
    grid = Grid.from_regions(load_regions(region_set), res=resolution)
    inv, _ = build_baseline(region_set, grid=grid)
    year = inv.year
    ds = inv.emissions.expand_dims(year=[year]).transpose("sector", "year", "y", "x")
    meta = {"scenario": f"{region_set}-baseline", "scenario_hash": "none", "seed": "none", "base_year": year,
            "gridcarbon_version": version("gridcarbon"), "solver_status": "not run", "resolution_m": resolution}
    outlines = maps.outline_path(map_outlines(region_set), grid)
    named = named_layers(ds["emission"].isel(year=0).values)
    final = Path(out)
    with atomic_dir(final) as tmp:
        write_layers(tmp, named, grid, year=year, meta=meta)
        cube.write_netcdf(tmp / "baseline.nc", ds, grid, attrs={
            "title": f"gridcarbon built-in {region_set} baseline {year} (illustrative)",
            "history": "; ".join(inv.history)})
        inv.totals.to_csv(tmp / "totals.csv", index=False, float_format="%.3f")
        maps.render_map(tmp / "total.png", named["total"], grid, outlines=outlines,
                        title=f"{region_set.upper()} {year}: gross CO2 (illustrative baseline)")
        maps.render_panel(tmp / "sectors.png", {s: named[s] for s in GRIDDED}, grid, outlines=outlines,
                          title=f"{region_set.upper()} {year}: sectors")
    return final
