"""Scenario files: one typed schema, YAML loading, ``extends`` inheritance and validation.

A scenario is a YAML file (DESIGN section 10). Every model forbids unknown keys, so a typo
fails naming the key. Loading happens in layers:

1. read the YAML (``yaml.safe_load``) and resolve the file's paths relative to its folder,
   refusing path traversal (``..`` escaping the folder, absolute system locations);
2. if it ``extends`` a built-in scenario (by name) or another file (by path), load that
   first and deep-merge this file over it (mappings merge key by key, lists and scalars
   replace; chains are allowed, cycles are an error);
3. validate the merged mapping against :class:`Scenario` (pydantic, strict types);
4. run the cross-field checks that need several sections at once (years against the
   base year, sectors and regions in tables, peak against net-zero year).

:func:`validate_scenario` collects every problem, one line each, as
``file: key.path: problem``; :func:`load_scenario` raises the first as
:class:`~gridcarbon.errors.ScenarioError` (``source`` = file, ``record`` = key path).
Pathway values are in ``pathway.unit`` (t, kt, Mt or Gt CO2 per year).
"""
from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from gridcarbon.core.errors import ScenarioError
from gridcarbon.core.sectors import EMITTING, REMOVALS, SECTORS
from gridcarbon.inputs.data import SCENARIO_DIR

BUILTIN_DIR = SCENARIO_DIR

#: Region ids of the built-in region sets (DESIGN section 9).
BUILTIN_REGIONS: dict[str, tuple[str, ...]] = {
    "yrd": ("Shanghai", "Jiangsu", "Zhejiang", "Anhui"),
    "china": ("Beijing", "Tianjin", "Hebei", "Shanxi", "Inner Mongolia", "Liaoning", "Jilin",
              "Heilongjiang", "Shanghai", "Jiangsu", "Zhejiang", "Anhui", "Fujian", "Jiangxi",
              "Shandong", "Henan", "Hubei", "Hunan", "Guangdong", "Guangxi", "Hainan",
              "Chongqing", "Sichuan", "Guizhou", "Yunnan", "Tibet", "Shaanxi", "Gansu",
              "Qinghai", "Ningxia", "Xinjiang"),
}

#: Tonnes of CO2 per pathway unit.
UNIT_T = {"t": 1.0, "kt": 1e3, "Mt": 1e6, "Gt": 1e9}

#: Keys holding file paths, resolved relative to the file that sets them.
PATH_KEYS = (("boundaries",), ("drivers",), ("inventory", "points"), ("inventory", "lines"),
             ("inventory", "areas"), ("inventory", "raster"), ("evolution", "new_corridors"))

#: Absolute locations a scenario may never point into.
SYSTEM_DIRS = ("/bin", "/boot", "/dev", "/etc", "/lib", "/proc", "/root", "/run", "/sbin",
               "/sys", "/usr", "/var/run", "C:/Windows", "C:\\Windows")

#: Pathway keys of the milestone form; ``series`` is the other, exclusive form.
MILESTONE_FORM = ("peak", "milestones", "rates")

DEFAULT_RAMP = 0.25  # max annual change, fraction of the base-year value
WEIGHT_TOLERANCE = 1e-6


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# -- pathway ----------------------------------------------------------------------------
class Peak(_Model):
    """Peak year and level (pathway unit)."""

    year: int
    level: float = Field(ge=0)


class Milestone(_Model):
    """A gross total anchored at ``year``: exactly one of the three ways to state it."""

    year: int
    change_from_peak: float | None = Field(default=None, gt=-1)
    change_from_base: float | None = Field(default=None, gt=-1)
    level: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_form(self) -> Milestone:
        given = [k for k in ("change_from_peak", "change_from_base", "level") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of change_from_peak, change_from_base, level"
                             f" (got {', '.join(given) or 'none'})")
        return self


class Rate(_Model):
    """Annual compound change from ``start`` to ``end`` inclusive (-0.094 = -9.4 %/yr)."""

    start: int
    end: int
    annual: float = Field(gt=-1)

    @model_validator(mode="after")
    def _ordered(self) -> Rate:
        if self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        return self


class NetZero(_Model):
    """Year at which net = gross - removals reaches ``net`` (pathway unit)."""

    year: int
    net: float = 0.0


class PathwaySpec(_Model):
    """Gross total pathway for the whole area, in ``unit`` per year (see :mod:`gridcarbon.pathway`)."""

    unit: Literal["t", "kt", "Mt", "Gt"] = "Mt"
    history: dict[int, float] = Field(default_factory=dict)
    base_total: float | None = Field(default=None, gt=0)
    peak: Peak | None = None
    milestones: list[Milestone] = Field(default_factory=list)
    rates: list[Rate] = Field(default_factory=list)
    series: dict[int, float] | None = None
    net_zero: NetZero | None = None
    removals_start: int | None = None
    sectors: dict[str, dict[int, float]] = Field(default_factory=dict)

    @property
    def factor_t(self) -> float:
        """Tonnes per pathway unit."""
        return UNIT_T[self.unit]

    @field_validator("history", "series")
    @classmethod
    def _non_negative(cls, values: dict[int, float] | None) -> dict[int, float] | None:
        bad = {y: v for y, v in (values or {}).items() if v < 0}
        if bad:
            raise ValueError(f"totals must be >= 0, got {bad}")
        return values

    @model_validator(mode="after")
    def _consistent(self) -> PathwaySpec:
        milestone_form = [k for k in MILESTONE_FORM if getattr(self, k)]
        if self.series is not None and milestone_form:
            raise ValueError(f"series cannot be combined with {', '.join(milestone_form)}")
        if any(m.change_from_peak is not None for m in self.milestones) and self.peak is None:
            raise ValueError("a milestone uses change_from_peak but no peak is given")
        problems = _anchor_problems(self.anchor_years(), self.rates)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def anchor_years(self) -> list[int]:
        """Years fixed by the peak and the milestones."""
        return ([self.peak.year] if self.peak else []) + [m.year for m in self.milestones]


def _anchor_problems(anchors: list[int], rates: list[Rate]) -> list[str]:
    """Duplicate anchors, overlapping rate periods and anchors inside a rate period."""
    problems = [f"year {y} is anchored twice" for y in sorted({y for y in anchors if anchors.count(y) > 1})]
    spans = sorted((r.start, r.end) for r in rates)
    problems += [f"rate periods {a}-{b} and {c}-{d} overlap"
                 for (a, b), (c, d) in zip(spans, spans[1:]) if c <= b]
    problems += [f"milestone year {y} falls inside the rate period {a}-{b}"
                 for y in anchors for a, b in spans if a <= y <= b]
    return problems


# -- principles and allocation ------------------------------------------------------------
class Principles(_Model):
    """Weights of the burden-sharing principles (see :func:`gridcarbon.allocation.target_shares`)."""

    grandfather: float = Field(default=0.0, ge=0)
    per_capita: float = Field(default=0.0, ge=0)
    ability_to_pay: float = Field(default=0.0, ge=0)
    efficiency: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _sum_to_one(self) -> Principles:
        total = sum(self.weights().values())
        if abs(total - 1.0) > WEIGHT_TOLERANCE:
            raise ValueError(f"weights must sum to 1, got {total:.6g}")
        return self

    def weights(self) -> dict[str, float]:
        """Principle name -> weight."""
        return self.model_dump()


class Bound(_Model):
    """User bound on one region x sector in ``years`` (inclusive), pathway unit.

    Bounds apply to the allocated value, so for removal sectors (negative values)
    ``min: -50`` means at most 50 units of removals.
    """

    region: str
    sector: str
    years: list[int] = Field(min_length=2, max_length=2)  # first and last year, inclusive
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Bound:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        if self.years[0] > self.years[1]:
            raise ValueError(f"years {self.years} are reversed")
        return self


class AllocationSpec(_Model):
    """Settings of the allocation LP (see :mod:`gridcarbon.allocation`)."""

    share_penalty: float = Field(default=200.0, ge=0)  # yuan per t of deviation from the target share
    ramp: dict[str, float] = Field(default_factory=dict)
    floors: dict[str, float] = Field(default_factory=lambda: {"steel": 0.12, "cement": 0.12, "chemical": 0.15})
    bounds: list[Bound] = Field(default_factory=list)

    @field_validator("ramp")
    @classmethod
    def _positive_ramp(cls, ramp: dict[str, float]) -> dict[str, float]:
        bad = {s: v for s, v in ramp.items() if v <= 0}
        if bad:
            raise ValueError(f"ramp limits must be > 0, got {bad}")
        return ramp

    @field_validator("floors")
    @classmethod
    def _fraction_floors(cls, floors: dict[str, float]) -> dict[str, float]:
        bad = {s: v for s, v in floors.items() if not 0 <= v < 1}
        if bad:
            raise ValueError(f"floors are fractions in [0, 1), got {bad}")
        return floors

    def ramp_for(self, sector: str) -> float:
        """Max annual change of ``sector`` as a fraction of its base-year value."""
        return self.ramp.get(sector, DEFAULT_RAMP)


class RemovalsSpec(_Model):
    """User removal capacities {region: {forest_sink | beccs: pathway unit per year}}."""

    capacity: dict[str, dict[Literal["forest_sink", "beccs"], float]] = Field(default_factory=dict)

    @field_validator("capacity")
    @classmethod
    def _non_negative(cls, capacity: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        bad = {(r, k): v for r, caps in capacity.items() for k, v in caps.items() if v < 0}
        if bad:
            raise ValueError(f"capacities must be >= 0, got {bad}")
        return capacity


# -- inputs, evolution, coupling ------------------------------------------------------------
class InventorySpec(_Model):
    """The user's own baseline sources (paths) and a column mapping source -> contract."""

    points: str | None = None
    lines: str | None = None
    areas: str | None = None
    raster: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)


class EvolutionSpec(_Model):
    """Settings read by the spatial evolution module; validated here only."""

    transfer: bool = False
    retire_utilisation: float = Field(default=0.55, gt=0, le=1)
    build_utilisation: float = Field(default=1.05, gt=0)
    min_spacing_km: float = Field(default=30.0, ge=0)
    max_plants_per_cell: int = Field(default=1, ge=1)
    urban_core_threshold: float = Field(default=0.6, ge=0, le=1)
    relocate_from: list[Literal["urban_core", "eco_reserve"]] = Field(
        default_factory=lambda: ["urban_core", "eco_reserve"])
    electrification: dict[int, float] = Field(default_factory=lambda: {2024: 0.03, 2035: 0.35, 2060: 0.9})
    new_corridors: str | None = None
    siting_noise: float = Field(default=0.0, ge=0)
    ccs_reach_km: float = Field(default=100.0, ge=0)
    capture_rate: float = Field(default=0.9, ge=0, le=1)

    @field_validator("electrification")
    @classmethod
    def _shares(cls, shares: dict[int, float]) -> dict[int, float]:
        bad = {y: v for y, v in shares.items() if not 0 <= v <= 1}
        if bad:
            raise ValueError(f"electrified shares are fractions in [0, 1], got {bad}")
        return shares


class CouplingSpec(_Model):
    """Allocate-evolve loop: stop when totals change by less than ``tolerance`` (relative)."""

    tolerance: float = Field(default=0.001, gt=0)
    max_iterations: int = Field(default=6, ge=1)


class Scenario(_Model):
    """One resolved scenario (after ``extends``); paths are absolute strings."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    description: str = ""
    extends: str | None = None
    region_set: Literal["yrd", "china"] = "yrd"
    boundaries: str | None = None
    region_field: str = "region"
    base_year: int = 2024
    end_year: int = 2060
    years: list[int] = Field(default_factory=lambda: [2030, 2035, 2060])
    resolution: float = Field(default=10_000, ge=100, le=100_000)  # metres
    seed: int = 42
    drivers: str | None = None
    inventory: InventorySpec | None = None
    pathway: PathwaySpec = Field(default_factory=PathwaySpec)
    principles: Principles = Field(default_factory=lambda: Principles(
        grandfather=0.4, per_capita=0.2, ability_to_pay=0.2, efficiency=0.2))
    allocation: AllocationSpec = Field(default_factory=AllocationSpec)
    removals: RemovalsSpec = Field(default_factory=RemovalsSpec)
    evolution: EvolutionSpec = Field(default_factory=EvolutionSpec)
    coupling: CouplingSpec = Field(default_factory=CouplingSpec)

    _source: str | None = PrivateAttr(default=None)

    @field_validator("years")
    @classmethod
    def _sorted_unique(cls, years: list[int]) -> list[int]:
        if not years:
            raise ValueError("give at least one exported year")
        if years != sorted(set(years)):
            raise ValueError(f"years must be sorted and unique, got {years}")
        return years

    @property
    def source(self) -> str | None:
        """The file this scenario was loaded from (None when built in memory)."""
        return self._source

    @property
    def regions(self) -> tuple[str, ...] | None:
        """Region ids when known without reading files (built-in boundaries), else None."""
        return BUILTIN_REGIONS[self.region_set] if self.boundaries is None else None

    @property
    def all_years(self) -> list[int]:
        """Every simulated year, base to end."""
        return list(range(self.base_year, self.end_year + 1))

    def hash(self) -> str:
        """First 12 hex digits of the sha256 of the canonical resolved JSON (``extends`` left out)."""
        canonical = json.dumps(self.model_dump(mode="json", exclude={"extends"}), sort_keys=True,
                               separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]


# -- problems ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario: the file, the key path and a sentence."""

    source: str
    key: str | None
    message: str

    def line(self) -> str:
        """``file: key.path: message``."""
        return ": ".join(p for p in (self.source, self.key, self.message) if p)

    def error(self, *, more: int = 0) -> ScenarioError:
        """The problem as an exception (``more`` = number of further problems)."""
        hint = f"{more} more problem(s): run `gridcarbon validate`" if more else None
        return ScenarioError(self.message, source=self.source, record=self.key, hint=hint)


class _Invalid(Exception):
    """Internal: stops loading with the problems found so far."""

    def __init__(self, problems: list[Problem]):
        super().__init__(problems)
        self.problems = problems


# -- public API --------------------------------------------------------------------------------
def list_scenarios() -> list[tuple[str, str]]:
    """Built-in scenarios as (name, description), sorted by name."""
    return [(p.stem, (_read_yaml(p) or {}).get("description", "")) for p in sorted(BUILTIN_DIR.glob("*.yaml"))]


def load_scenario(name_or_path: str | os.PathLike) -> Scenario:
    """Load a built-in scenario by name or a YAML file by path; raise :class:`ScenarioError`."""
    scenario, problems = _resolve(name_or_path)
    if problems:
        raise problems[0].error(more=len(problems) - 1)
    return scenario


def validate_scenario(name_or_path: str | os.PathLike) -> list[str]:
    """Every problem of a scenario, one line each (``file: key.path: problem``); [] when valid."""
    return [p.line() for p in _resolve(name_or_path)[1]]


def _resolve(name_or_path: str | os.PathLike) -> tuple[Scenario | None, list[Problem]]:
    """The scenario (None when it cannot be built) and every problem found."""
    path_problems: list[Problem] = []
    try:
        path = _locate(name_or_path, relative_to=Path.cwd(), source=str(name_or_path), key=None)
        raw = _merged(path, chain=(), problems=path_problems)
    except _Invalid as invalid:
        return None, invalid.problems
    raw.setdefault("name", _slug(path.stem))
    source = path.name
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as err:
        return None, path_problems + [_pydantic_problem(e, source) for e in err.errors()]
    scenario._source = str(path)
    return scenario, path_problems + cross_field_problems(scenario, source=source)


# -- files, extends, merging -------------------------------------------------------------------------
def _locate(target: str | os.PathLike, *, relative_to: Path, source: str, key: str | None) -> Path:
    """A scenario file from a path or a built-in name; problems are reported at ``source: key``."""
    text = os.fspath(target)
    if text.endswith((".yaml", ".yml")) or os.sep in text or "/" in text:
        path = Path(text) if Path(text).is_absolute() else relative_to / text
        if not path.is_file():
            raise _Invalid([Problem(source, key, f"scenario file not found: {path}")])
        return path.resolve()
    builtin = BUILTIN_DIR / f"{text}.yaml"
    if not builtin.is_file():
        names = ", ".join(name for name, _ in list_scenarios())
        raise _Invalid([Problem(source, key, f"unknown scenario {text!r} (built-in: {names})")])
    return builtin.resolve()


def _merged(path: Path, *, chain: tuple[Path, ...], problems: list[Problem]) -> dict:
    """The file's mapping with its paths resolved, merged over what it extends.

    Path problems are appended to ``problems``; problems that stop loading raise.
    """
    source = path.name
    if path in chain:
        cycle = " -> ".join(p.name for p in (*chain, path))
        raise _Invalid([Problem(source, "extends", f"extends cycle: {cycle}")])
    raw = _read_mapping(path)
    problems += _resolve_paths(raw, folder=path.parent, source=source)
    parent = raw.get("extends")
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise _Invalid([Problem(source, "extends", f"must be a scenario name or path, got {parent!r}")])
    base = _merged(_locate(parent, relative_to=path.parent, source=source, key="extends"), chain=(*chain, path),
                   problems=problems)
    for identity in ("name", "description"):
        base.pop(identity, None)
    return deep_merge(base, raw)


def deep_merge(base: dict, override: dict) -> dict:
    """``override`` over ``base``: mappings merge by key, lists and scalars replace.

    The two pathway forms are exclusive: an override giving ``series`` drops the inherited
    peak/milestones/rates, one giving any of those drops the inherited ``series``.
    """
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            inherited = base[key]
            if key == "pathway":
                inherited = _drop_other_form(inherited, value)
            merged[key] = deep_merge(inherited, value)
        else:
            merged[key] = value
    return merged


def _drop_other_form(inherited: dict, override: dict) -> dict:
    if override.get("series") is not None:
        return {k: v for k, v in inherited.items() if k not in MILESTONE_FORM}
    if any(override.get(k) for k in MILESTONE_FORM):
        return {k: v for k, v in inherited.items() if k != "series"}
    return inherited


def _read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _read_mapping(path: Path) -> dict:
    """The YAML mapping in ``path``; syntax errors name the line."""
    source = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise _Invalid([Problem(source, None, f"cannot read the file: {err}")]) from err
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise _Invalid([Problem(source, None, _yaml_message(err))]) from err
    if raw is None:
        raise _Invalid([Problem(source, None, "the file is empty")])
    if not isinstance(raw, dict):
        raise _Invalid([Problem(source, None, f"expected a mapping of keys, got a {type(raw).__name__}")])
    return raw


def _yaml_message(err: yaml.YAMLError) -> str:
    mark = getattr(err, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    what = getattr(err, "problem", None) or str(err).splitlines()[0]
    return f"YAML syntax error{where}: {what}"


def _resolve_paths(raw: dict, *, folder: Path, source: str) -> list[Problem]:
    """Replace each path value in ``raw`` by an absolute path; list the problems (values kept as given)."""
    problems = []
    for keys in PATH_KEYS:
        parent = raw
        for key in keys[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if not isinstance(parent, dict) or not isinstance(parent.get(keys[-1]), str):
            continue  # absent, null, or a type error pydantic reports
        try:
            parent[keys[-1]] = str(_safe_path(parent[keys[-1]], folder=folder))
        except ValueError as err:
            problems.append(Problem(source, ".".join(keys), str(err)))
    return problems


def _safe_path(value: str, *, folder: Path) -> Path:
    """``value`` resolved against ``folder``; raise ValueError for traversal or a missing file."""
    if PurePath(value).is_absolute() or re.match(r"^[A-Za-z]:[\\/]", value):
        if any(value == d or value.startswith((d + "/", d + "\\")) for d in SYSTEM_DIRS):
            raise ValueError(f"path {value!r} points into a system location")
        path = Path(value)
    else:
        path = Path(os.path.normpath(folder / value))
        if not path.is_relative_to(Path(os.path.normpath(folder))):
            raise ValueError(f"path {value!r} escapes the scenario's folder")
    if not path.exists():
        raise ValueError(f"file not found: {path}")
    return path


def _slug(stem: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", stem.lower()).strip("-_") or "scenario"


# -- pydantic errors as problems -------------------------------------------------------------------
def _key_path(loc: tuple) -> str:
    parts = [f"[{item}]" if isinstance(item, int) else f".{item}" for item in loc if item != "[key]"]
    return "".join(parts).removeprefix(".")


def _pydantic_problem(error: dict, source: str) -> Problem:
    loc, kind = tuple(error["loc"]), error["type"]
    if kind == "extra_forbidden":
        return Problem(source, _key_path(loc), f"unknown key {loc[-1]!r}" + _suggestion(loc))
    message = error["msg"].removeprefix("Value error, ")
    if kind not in ("missing", "value_error"):
        message += f", got {_short(error.get('input'))}"
    return Problem(source, _key_path(loc) or None, message)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _suggestion(loc: tuple) -> str:
    """`` (did you mean 'x'?)`` when the unknown key is close to an allowed one."""
    allowed = _allowed_keys(Scenario, loc[:-1])
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names of the model reached by following ``loc`` from ``model``."""
    for item in loc:
        if isinstance(item, int):
            continue
        field = model.model_fields.get(item)
        nested = _model_in(field.annotation) if field else None
        if nested is None:
            return []
        model = nested
    return list(model.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is None:
        return None
    return next((m for m in map(_model_in, get_args(annotation)) if m), None)


# -- cross-field checks -----------------------------------------------------------------------------
def cross_field_problems(scenario: Scenario, *, source: str) -> list[Problem]:
    """Checks spanning several sections; every problem, not just the first.

    With the base year not before the end year, the year-range checks are skipped: each
    would only repeat that one problem.
    """
    s = scenario
    if s.base_year >= s.end_year:
        found = [("base_year", f"base year {s.base_year} must be before end year {s.end_year}")]
    else:
        found = _year_problems(s) + _pathway_year_problems(s) + _sector_year_problems(s)
    found += _sector_problems(s) + _region_problems(s)
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


def _sector_message(name: str, allowed, *, kind: str = "sector") -> str:
    return f"unknown {kind} {name!r} (use one of {', '.join(allowed)})"


def _region_problems(s: Scenario) -> list[tuple[str, str]]:
    regions = s.regions
    if regions is None:
        return []
    message = f"unknown region {{!r}} for region set {s.region_set!r} (use one of {', '.join(regions)})"
    found = [(f"allocation.bounds[{i}].region", message.format(b.region))
             for i, b in enumerate(s.allocation.bounds) if b.region not in regions]
    found += [(f"removals.capacity.{r}", message.format(r)) for r in s.removals.capacity if r not in regions]
    return found
