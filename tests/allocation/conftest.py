"""Allocation fixtures: the calibration baseline, the YRD drivers and one solved yrd-enhanced.

Session-scoped and shared read-only: copy before modifying.
"""
from __future__ import annotations

import pandas as pd
import pytest
from allocation.allocation_fixtures import (
    generous_capacities,
    regional_baseline_from_calibration,
    yrd_drivers,
)

from gridcarbon.allocation import AllocationResult, allocate_scenario


@pytest.fixture(scope="session")
def baseline() -> pd.DataFrame:
    """``region, sector, value_t`` for the four YRD provinces from the calibration figures."""
    return regional_baseline_from_calibration()


@pytest.fixture(scope="session")
def drivers() -> pd.DataFrame:
    """The built-in YRD drivers."""
    return yrd_drivers()


@pytest.fixture(scope="session")
def enhanced(baseline) -> AllocationResult:
    """yrd-enhanced allocated with generous removal capacities."""
    return allocate_scenario("yrd-enhanced", baseline, capacities=generous_capacities())
