"""Cross-field checks of a scenario: the rules that need several sections at once.

Years against the base and end years, sector names in the allocation tables and trajectories,
regions against the region set, the peak against the net-zero year. They run on a scenario the
schema accepted and report every problem, not just the first.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gridcarbon.config.evolution import schedule_at
from gridcarbon.config.problems import Problem
from gridcarbon.config.targets import target_problems
from gridcarbon.core.errors import InputError
from gridcarbon.core.sectors import EMITTING, REMOVALS, SECTORS

#: the region column of the built-in boundaries (and the default region_field)
DEFAULT_REGION_FIELD = "region"

if TYPE_CHECKING:
    from gridcarbon.config.schema import Scenario


def cross_field_problems(scenario: Scenario, *, source: str | None) -> list[Problem]:
    """Checks spanning several sections; every problem, not just the first.

    With the base year not before the end year, the year-range checks are skipped: each
    would only repeat that one problem.
    """
    s = scenario
    if s.base_year >= s.end_year:
        found = [("base_year", f"base year {s.base_year} must be before end year {s.end_year}")]
    else:
        found = _year_problems(s) + _pathway_year_problems(s) + _sector_year_problems(s) + _corridor_year_problems(s)
    found += _sector_problems(s) + _region_problems(s) + _electrification_problems(s)
    found += target_problems(s)
    return [Problem(source, key, message) for key, message in found]


def _year_problems(s: Scenario) -> list[tuple[str, str]]:
    return [(f"years[{i}]", f"exported year {y} is outside {s.base_year + 1}..{s.end_year}")
            for i, y in enumerate(s.years) if not s.base_year < y <= s.end_year]


def _pathway_year_problems(s: Scenario) -> list[tuple[str, str]]:
    p, first, last = s.pathway, s.base_year, s.end_year
    found = [(f"pathway.history[{y}]", f"history year {y} must be before the base year {first}")
             for y in p.history if y >= first]
    if p.peak and not first < p.peak.year <= last:
        found.append(("pathway.peak.year", f"peak year {p.peak.year} is outside {first + 1}..{last}"
                      " (the base year holds the base total; without a later peak, omit it)"))
    found += [(f"pathway.milestones[{i}].year", f"milestone year {m.year} is outside {first + 1}..{last}"
               + (" (milestones come after the base year)" if m.year <= first else ""))
              for i, m in enumerate(p.milestones) if not first < m.year <= last]
    found += [(f"pathway.rates[{i}]", f"rate period {r.start}-{r.end} is outside {first + 1}..{last}")
              for i, r in enumerate(p.rates) if r.start <= first or r.end > last]
    found += [(f"pathway.series[{y}]", f"series year {y} is outside {first}..{last}")
              for y in p.series or {} if not first <= y <= last]
    return found + _net_zero_problems(s)


def _net_zero_problems(s: Scenario) -> list[tuple[str, str]]:
    p = s.pathway
    found = []
    if p.removals_start is not None and not s.base_year <= p.removals_start <= s.end_year:
        found.append(("pathway.removals_start", f"{p.removals_start} is outside {s.base_year}..{s.end_year}"))
    if p.net_zero is None:
        return found
    year = p.net_zero.year
    if not s.base_year < year <= s.end_year:
        found.append(("pathway.net_zero.year", f"net-zero year {year} is outside {s.base_year + 1}..{s.end_year}"))
    if p.peak and p.peak.year > year:
        found.append(("pathway.peak.year", f"peak year {p.peak.year} is after the net-zero year {year}"))
    if p.removals_start is not None and p.removals_start > year:
        found.append(("pathway.removals_start", f"removals start {p.removals_start} is after the net-zero year {year}"))
    return found


def _sector_problems(s: Scenario) -> list[tuple[str, str]]:
    a, p = s.allocation, s.pathway
    found = [(f"allocation.{table}.{name}", _sector_message(name, EMITTING, kind="emitting sector"))
             for table, names in (("floors", a.floors), ("ramp", a.ramp)) for name in names
             if name not in EMITTING]
    found += [(f"pathway.sectors.{name}", _sector_message(name, SECTORS)) for name in p.sectors if name not in SECTORS]
    found += [(f"pathway.sectors.{name}[{y}]", "removal sector totals are <= 0 (removals are negative)"
               if name in REMOVALS else "emitting sector totals must be >= 0")
              for name, values in p.sectors.items() if name in SECTORS
              for y, v in values.items() if (v > 0 if name in REMOVALS else v < 0)]
    found += [(f"allocation.bounds[{i}].sector", _sector_message(b.sector, SECTORS))
              for i, b in enumerate(a.bounds) if b.sector not in SECTORS]
    return found


def _sector_year_problems(s: Scenario) -> list[tuple[str, str]]:
    """Years of sector trajectories and bounds outside base..end."""
    found = [(f"pathway.sectors.{name}[{y}]", f"year {y} is outside {s.base_year}..{s.end_year}")
             for name, values in s.pathway.sectors.items() for y in values if not s.base_year <= y <= s.end_year]
    found += [(f"allocation.bounds[{i}].years", f"years {b.years} are outside {s.base_year}..{s.end_year}")
              for i, b in enumerate(s.allocation.bounds) if b.years[0] < s.base_year or b.years[1] > s.end_year]
    return found


def _corridor_year_problems(s: Scenario) -> list[tuple[str, str]]:
    """Opening years of new corridors outside base + 1..end (a base-year corridor belongs in the inventory)."""
    return [(f"evolution.new_corridors[{i}].opened",
             f"corridor {c.id!r} opens in {c.opened}, outside {s.base_year + 1}..{s.end_year}"
             + (" (corridors open in the base year belong in the inventory's lines)" if c.opened <= s.base_year else ""))
            for i, c in enumerate(s.evolution.new_corridors) if not s.base_year < c.opened <= s.end_year]


def _electrification_problems(s: Scenario) -> list[tuple[str, str]]:
    """A schedule fully electric in the base year leaves no direct emissions to scale from."""
    e = s.evolution.electrification
    return [(f"evolution.electrification.{name}", f"electrified share {schedule_at(schedule, s.base_year):g} in "
             f"the base year {s.base_year}: base-year road emissions need a share below 1")
            for name, schedule in (("urban_passenger", e.urban_passenger), ("freight", e.freight))
            if schedule_at(schedule, s.base_year) >= 1.0]


def _sector_message(name: str, allowed, *, kind: str = "sector") -> str:
    return f"unknown {kind} {name!r} (use one of {', '.join(allowed)})"


def _region_problems(s: Scenario) -> list[tuple[str, str]]:
    if s.boundaries is None and s.region_field != DEFAULT_REGION_FIELD:
        return [("region_field", "region_field names the region column of a boundaries file: set boundaries too")]
    if s.boundaries is not None:
        found = _boundary_problems(s)
        if found or not Path(s.boundaries).is_file():  # a missing file is reported by the path check
            return found
    regions = s.regions
    where = "the boundaries" if s.boundaries is not None else f"region set {s.region_set!r}"
    message = f"unknown region {{!r}} for {where} (use one of {', '.join(regions)})"
    found = [(f"allocation.bounds[{i}].region", message.format(b.region))
             for i, b in enumerate(s.allocation.bounds) if b.region not in regions]
    found += [(f"removals.capacity.{r}", message.format(r)) for r in s.removals.capacity if r not in regions]
    return found


def _boundary_problems(s: Scenario) -> list[tuple[str, str]]:
    """A custom study area: clipped from the national inventory, its file readable, nesting by province."""
    if s.region_set != "china":
        return [("boundaries", f"a study area from boundaries is clipped from the national inventory: set "
                               f"region_set: china, not {s.region_set!r}")]
    if not Path(s.boundaries).is_file():
        return []
    try:
        regions = s.regions
    except InputError as err:
        return [("boundaries" if err.record != "region_field" else "region_field", str(err))]
    # imported here: loading a scenario needs no geopandas
    from gridcarbon.inputs.regions import province_table

    not_provinces = [r for r in regions if r not in set(province_table().region)]
    if s.pathway.parent is not None and not_provinces:
        return [("pathway.from", f"a nested pathway takes the parent's totals per province, and regions "
                                 f"{', '.join(not_provinces[:3])} of {Path(s.boundaries).name} are not provinces "
                                 "(give the pathway, or regions named as provinces)")]
    return []
