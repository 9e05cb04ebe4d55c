"""The one accessor of package data: shipped tables, calibration YAML, built-in scenarios, boundaries.

Everything the package ships lives under ``gridcarbon/data`` (tables and YAML, their sources
in ``data/SOURCES.md``) and ``gridcarbon/boundaries`` (GeoPackages; the checkout's top-level
``boundaries/`` before installation). Readers elsewhere ask here instead of building paths.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

#: the package's root folder (``gridcarbon/``)
PACKAGE_DIR = Path(str(resources.files("gridcarbon")))
#: shipped tables and YAML files
DATA_DIR = PACKAGE_DIR / "data"
#: the built-in scenarios (``<name>.yaml``)
SCENARIO_DIR = DATA_DIR / "scenarios"


def data_path(name: str) -> Path:
    """Path of a shipped data file, e.g. ``data_path("yrd_drivers.csv")``."""
    return DATA_DIR / name


def read_table(name: str) -> pd.DataFrame:
    """A shipped CSV table, a fresh copy on every call (parsed once per process)."""
    return _parsed(name).copy()


@lru_cache(maxsize=None)
def _parsed(name: str) -> pd.DataFrame:
    with data_path(name).open(encoding="utf-8") as f:
        return pd.read_csv(f)


def read_yaml(name: str) -> dict:
    """A shipped YAML file as a dictionary."""
    with data_path(name).open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def boundary_dir() -> Path:
    """``gridcarbon/boundaries`` inside an installed wheel, else the checkout's ``boundaries/``."""
    packaged = PACKAGE_DIR / "boundaries"
    return packaged if packaged.is_dir() else PACKAGE_DIR.parent / "boundaries"
