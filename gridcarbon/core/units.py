"""Units: one convention for the whole package.

Gridded values are **t CO2 per cell per year** (:data:`UNITS`); removals are negative.
Tables hold t CO2/yr; the allocation LP works in Mt internally (:data:`T_PER_MT`) and
messages quote Mt through :func:`format_mt`.
"""
from __future__ import annotations

#: unit of every gridded layer, COG band and cube variable
UNITS = "t CO2/yr/cell"
#: tonnes per megatonne
T_PER_MT = 1e6


def format_mt(tonnes: float) -> str:
    """``tonnes`` (t CO2) as a short Mt string: ``1,234 Mt``, ``56.7 Mt``, ``0.123 Mt``."""
    mt = tonnes / T_PER_MT
    if abs(mt) >= 100:
        return f"{mt:,.0f} Mt"
    return f"{mt:.1f} Mt" if abs(mt) >= 10 else f"{mt:.3g} Mt"
