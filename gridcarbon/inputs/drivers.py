"""Socio-economic drivers of the burden sharing: population and GDP per region and year.

The built-in tables (``data/<region set>_drivers.csv``, sources in ``data/ALLOCATION_SOURCES.md``)
or a scenario's own ``drivers:`` file. Values are checked where they are used
(:func:`gridcarbon.allocation.target_shares`), for tables read here and tables passed in alike.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pandas as pd

from gridcarbon.core.errors import InputError
from gridcarbon.inputs.columns import require_columns
from gridcarbon.inputs.data import data_path

if TYPE_CHECKING:  # read only: the readers sit below the scenario schema
    from gridcarbon.config import Scenario

#: columns of a drivers table: persons and yuan at constant prices
DRIVER_COLUMNS = ["region", "year", "population", "gdp_yuan"]


def read_drivers(path: str | os.PathLike) -> pd.DataFrame:
    """Read ``region, year, population, gdp_yuan`` (persons, yuan at constant prices)."""
    try:
        table = pd.read_csv(path)
    except (OSError, pd.errors.ParserError) as err:
        raise InputError(f"cannot read drivers: {err}", source=str(path)) from err
    require_columns(table, DRIVER_COLUMNS, source=str(path))
    return table


def drivers_path(scenario: Scenario) -> str:
    """The scenario's ``drivers:`` file, else the built-in table of its region set."""
    if scenario.drivers:
        return scenario.drivers
    if scenario.region_set in ("yrd", "china"):
        return str(data_path(f"{scenario.region_set}_drivers.csv"))
    raise InputError(f"no built-in drivers for region set {scenario.region_set!r}", source=scenario.source,
                     record="drivers", hint="set drivers: to a csv with region, year, population, gdp_yuan")
