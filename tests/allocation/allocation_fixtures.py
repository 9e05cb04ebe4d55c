"""Factories for allocation tests: a YRD baseline from the calibration figures
(``docs/architecture.md``, "Calibration"), the built-in drivers, capacities and scenario variants.

Not part of the package: the real baseline comes from the gridded inventory. Tests in this
folder get these through the fixtures of ``conftest.py``; tests elsewhere import them as
``from allocation.allocation_fixtures import ...``.
"""
from __future__ import annotations

import pandas as pd

from gridcarbon.allocation import AllocationResult
from gridcarbon.config import Scenario, deep_merge, load_scenario
from gridcarbon.core.sectors import EMITTING, REMOVALS
from gridcarbon.inputs.data import data_path
from gridcarbon.inputs.drivers import read_drivers

TOTAL_MT = 2390.0
INDIRECT_FRAC = 0.13                      # imported electricity, reported but not gridded
NAMED_MT = {"power": 980.0, "steel": 250.0, "cement": 160.0, "chemical": 150.0,
            "transport_road": 150.0, "transport_other": 50.0}
# assumption: the remainder of direct emissions split 55/35/10 over these three sectors
REMAINDER_SPLIT = {"other_industry": 0.55, "buildings": 0.35, "agriculture": 0.10}
FOREST_SINK_MT = -30.0
CEADS_2019_MT = {"Shanghai": 192.9, "Jiangsu": 804.6, "Zhejiang": 381.4, "Anhui": 408.1}
YRD = list(CEADS_2019_MT)


def sector_totals_mt() -> dict[str, float]:
    """YRD 2024 sector totals (Mt CO2/yr): gridded direct = 87 %, indirect = 13 % of 2390 Mt."""
    direct = (1 - INDIRECT_FRAC) * TOTAL_MT
    remainder = direct - sum(NAMED_MT.values())
    return (NAMED_MT | {s: f * remainder for s, f in REMAINDER_SPLIT.items()}
            | {"indirect": INDIRECT_FRAC * TOTAL_MT, "forest_sink": FOREST_SINK_MT, "beccs": 0.0})


def regional_baseline_from_calibration(shares: dict[str, float] | None = None) -> pd.DataFrame:
    """``region, sector, value_t`` for the four YRD provinces, every sector split by CEADs 2019 shares."""
    weights = shares or CEADS_2019_MT
    total = sum(weights.values())
    rows = [(region, sector, value * 1e6 * w / total)
            for sector, value in sector_totals_mt().items() for region, w in weights.items()]
    return pd.DataFrame(rows, columns=["region", "sector", "value_t"])


def yrd_drivers() -> pd.DataFrame:
    """The built-in YRD drivers table."""
    return read_drivers(data_path("yrd_drivers.csv"))


def generous_capacities(value_mt: float = 500.0, years=range(2024, 2061)) -> pd.DataFrame:
    """Removal capacities far above any need: ``value_mt`` per region, kind and year."""
    rows = [(r, k, y, value_mt * 1e6) for r in YRD for k in ("forest_sink", "beccs") for y in years]
    return pd.DataFrame(rows, columns=["region", "sector", "year", "capacity_t"])


def variant(name: str = "yrd-enhanced", **sections) -> Scenario:
    """A built-in scenario with ``sections`` merged over it as an ``extends`` file would be."""
    return Scenario.model_validate(deep_merge(load_scenario(name).model_dump(), sections))


def yearly(result: AllocationResult, *, removals: bool = False) -> pd.Series:
    """Allocated gross (or removals, negative) per year, t CO2/yr."""
    totals = result.totals
    chosen = totals[totals["sector"].isin(REMOVALS if removals else EMITTING)]
    return chosen.groupby("year")["allocated_t"].sum()


def regional_shares(result: AllocationResult, year: int) -> pd.Series:
    """Each region's share of the allocated gross in ``year``."""
    totals = result.totals
    gross = totals[(totals["year"] == year) & totals["sector"].isin(EMITTING)]
    by_region = gross.groupby("region")["allocated_t"].sum()
    return by_region / by_region.sum()
