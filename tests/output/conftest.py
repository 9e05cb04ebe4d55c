"""Fixtures of the output tests: two WGS84 regions on a 10 km China Albers grid, and a layer on it."""
from __future__ import annotations

import numpy as np
import pytest

from gridcarbon.core.grid import Grid
from gridcarbon.testing import lonlat_regions, random_layer


@pytest.fixture(scope="module")
def grid() -> Grid:
    """:func:`gridcarbon.testing.lonlat_regions` at 10 km (China Albers): cells inside and outside."""
    return Grid.from_regions(lonlat_regions(), res=10_000)


@pytest.fixture(scope="module")
def values(grid) -> np.ndarray:
    """A lognormal layer with zero cells (:func:`gridcarbon.testing.random_layer`), t CO2/yr/cell."""
    return random_layer(grid)
