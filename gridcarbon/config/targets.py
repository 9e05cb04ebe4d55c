"""Targets of a scenario: figures a run must reproduce (pathway milestones, sector totals,
energy shares, removals), each with a tolerance and the source it comes from.

A run checks every target against the numbers it computed (:mod:`gridcarbon.output.targets`)
and reports each as met or not, in ``manifest.json`` and on stderr. Quantities and their
units (docs/architecture.md, "Scenarios and the command line"):

- tonnes (``unit``: t, kt, Mt or Gt CO2/yr): ``gross`` (emitting sectors incl. ``indirect``),
  ``net`` (gross less removals), ``removals`` (magnitude of ``forest_sink`` + ``beccs``),
  ``sector`` (the allocated total of ``sectors``), ``peak_level`` (largest gross of any year);
- fractions: ``sector_share`` (``sectors`` over gross), ``change_from_peak`` (gross of ``year``
  over the peak, minus 1), ``annual_change`` (compound yearly change of gross from
  ``from_year`` to ``year``), ``non_fossil_share_primary`` and
  ``non_fossil_share_electricity`` (``energy_summary.csv`` of the power system);
- years: ``peak_year``.

``region`` is ``total`` (the study area) or a region of the region set. A target is met when
``|computed - value| <= tolerance`` (in the quantity's unit).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from gridcarbon.config.sections import StrictModel
from gridcarbon.core.errors import InputError
from gridcarbon.core.sectors import SECTORS

if TYPE_CHECKING:
    from gridcarbon.config.schema import Scenario

Quantity = Literal["gross", "net", "removals", "sector", "sector_share", "peak_year", "peak_level",
                   "change_from_peak", "annual_change", "non_fossil_share_primary",
                   "non_fossil_share_electricity"]
#: quantities in tonnes (given in the target's ``unit``)
TONNE_QUANTITIES = ("gross", "net", "removals", "sector", "peak_level")
#: quantities of a sector or a group of sectors
SECTOR_QUANTITIES = ("sector", "sector_share")
#: quantities of the whole pathway, not of one year
PATHWAY_QUANTITIES = ("peak_year", "peak_level")
#: the study area as a whole, as ``region``
TOTAL = "total"


class Target(StrictModel):
    """One figure the run must reproduce within ``tolerance`` (see the module docstring)."""

    name: str = Field(min_length=1)
    quantity: Quantity
    region: str = TOTAL
    year: int | None = None
    from_year: int | None = None
    sectors: list[str] = Field(default_factory=list)
    value: float
    tolerance: float = Field(ge=0)
    unit: Literal["t", "kt", "Mt", "Gt"] = "Mt"
    source: str = ""

    @model_validator(mode="after")
    def _complete(self) -> Target:
        if self.quantity not in PATHWAY_QUANTITIES and self.year is None:
            raise ValueError(f"quantity {self.quantity!r} needs a year")
        if self.quantity in SECTOR_QUANTITIES and not self.sectors:
            raise ValueError(f"quantity {self.quantity!r} needs sectors")
        if self.quantity == "annual_change" and (self.from_year is None or self.from_year >= self.year):
            raise ValueError("annual_change needs a from_year before its year")
        return self


def target_problems(s: Scenario) -> list[tuple[str, str]]:
    """Targets naming an unknown region or sector (key, sentence). A target year outside the
    run's years is no error (a shortened copy of a scenario keeps its targets): the run reports
    it as not computed."""
    found = []
    try:
        regions = (TOTAL, *s.regions)
    except InputError:  # an unreadable boundaries file: reported by the boundary check
        regions = None
    for i, t in enumerate(s.targets):
        key = f"targets[{i}]"
        if regions is not None and t.region not in regions:
            found.append((f"{key}.region", f"unknown region {t.region!r} (use one of {', '.join(regions)})"))
        found += [(f"{key}.sectors", f"unknown sector {x!r} (use one of {', '.join(SECTORS)})")
                  for x in t.sectors if x not in SECTORS]
    return found
