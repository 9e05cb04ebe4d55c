"""Sector ids, their source class and how they are accounted.

Emissions are t CO2 / yr; removal sectors carry non-positive values. ``indirect``
(imported electricity) is reported in tables but never gridded (docs/architecture.md,
"Calibration"). Sector ids and source classes: docs/architecture.md, "Sources and
inventories".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gridcarbon.core.errors import SchemaError

SourceClass = Literal["point", "line", "area", "sink", "table"]


@dataclass(frozen=True)
class Sector:
    """One sector: id, label, source class, whether it removes CO2 and whether it is gridded."""

    id: str
    label: str
    source_class: SourceClass
    removal: bool = False
    gridded: bool = True


SECTORS: dict[str, Sector] = {s.id: s for s in (
    Sector("power", "Power and heat", "point"),
    Sector("steel", "Iron and steel", "point"),
    Sector("cement", "Cement and lime", "point"),
    Sector("chemical", "Petrochemical and chemical", "point"),
    Sector("other_industry", "Other industry", "area"),
    Sector("transport_road", "Road transport", "line"),
    Sector("transport_other", "Rail, waterway and other transport", "line"),
    Sector("buildings", "Residential and commercial buildings", "area"),
    Sector("agriculture", "Agriculture", "area"),
    Sector("forest_sink", "Forest carbon sink", "sink", removal=True),
    Sector("beccs", "CCUS / BECCS geological storage", "sink", removal=True),
    Sector("indirect", "Indirect (imported electricity)", "table", gridded=False),
)}

GRIDDED = [s for s, m in SECTORS.items() if m.gridded]
EMITTING = [s for s, m in SECTORS.items() if not m.removal]
REMOVALS = [s for s, m in SECTORS.items() if m.removal]
POINT_SECTORS = [s for s, m in SECTORS.items() if m.source_class == "point"]
LINE_SECTORS = [s for s, m in SECTORS.items() if m.source_class == "line"]
AREA_SECTORS = [s for s, m in SECTORS.items() if m.source_class == "area"]


def check_sector(name: object, *, source: str | None = None, record: object = None) -> str:
    """Return ``name`` if it is a known sector id, else raise :class:`SchemaError`."""
    if isinstance(name, str) and name in SECTORS:
        return name
    raise SchemaError(f"unknown sector {name!r}", source=source, record=record,
                      hint="use one of " + ", ".join(SECTORS))
