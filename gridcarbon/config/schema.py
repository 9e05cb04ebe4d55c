"""The root of a scenario: :class:`Scenario`, its identity (source file, hash) and changed copies.

A scenario is a YAML file (``docs/architecture.md``, section "Scenarios and the command line");
its sections are the models of :mod:`gridcarbon.config.sections`. :func:`build_scenario` is the
one way a mapping becomes a scenario: the schema (pydantic, strict types), then the cross-field
checks of :mod:`gridcarbon.config.checks`. Loading a file and :meth:`Scenario.with_overrides`
both go through it.
"""
from __future__ import annotations

import functools
import glob
import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gridcarbon.config.assumptions import Assumptions
from gridcarbon.config.checks import DEFAULT_REGION_FIELD, cross_field_problems
from gridcarbon.config.evolution import EvolutionSpec
from gridcarbon.config.merge import deep_merge
from gridcarbon.config.problems import Problem, pydantic_problems
from gridcarbon.config.sections import (
    AllocationSpec,
    CouplingSpec,
    InventorySpec,
    PathwaySpec,
    Principles,
    RemovalsSpec,
    StrictModel,
)
from gridcarbon.config.targets import Target
from gridcarbon.core.errors import InputError, ScenarioError

#: Keys holding file paths, resolved relative to the file that sets them
#: (``evolution.new_corridors`` are given in the scenario itself, not as a file).
PATH_KEYS = (("boundaries",), ("drivers",), ("inventory", "points"), ("inventory", "lines"), ("inventory", "areas"),
             ("inventory", "raster"))

#: Region ids of the built-in region sets (``docs/architecture.md``, section "Calibration").
BUILTIN_REGIONS: dict[str, tuple[str, ...]] = {
    "yrd": ("Shanghai", "Jiangsu", "Zhejiang", "Anhui"),
    "china": ("Beijing", "Tianjin", "Hebei", "Shanxi", "Inner Mongolia", "Liaoning", "Jilin",
              "Heilongjiang", "Shanghai", "Jiangsu", "Zhejiang", "Anhui", "Fujian", "Jiangxi",
              "Shandong", "Henan", "Hubei", "Hunan", "Guangdong", "Guangxi", "Hainan",
              "Chongqing", "Sichuan", "Guizhou", "Yunnan", "Tibet", "Shaanxi", "Gansu",
              "Qinghai", "Ningxia", "Xinjiang"),
}

class Scenario(StrictModel):
    """One resolved scenario (after ``extends``); paths are absolute strings.

    ``boundaries`` names a custom study area (a vector file whose ``region_field`` names the
    regions): the national built-in inventory (``region_set: china``) clipped to it
    (docs/architecture.md, "Any study area").
    """

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    description: str = ""
    extends: str | None = None
    region_set: Literal["yrd", "china"] = "yrd"
    boundaries: str | None = None
    region_field: str = DEFAULT_REGION_FIELD
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
    targets: list[Target] = Field(default_factory=list)  # figures the run must reproduce (config/targets.py)
    assumptions: Assumptions = Field(default_factory=Assumptions)

    _source: str | None = PrivateAttr(default=None)

    @field_validator("years")
    @classmethod
    def _sorted_unique(cls, years: list[int]) -> list[int]:
        if not years:
            raise ValueError("give at least one exported year")
        if years != sorted(set(years)):
            raise ValueError(f"years must be sorted and unique, got {years}")
        return years

    @model_validator(mode="after")
    def _remember_source(self, info: ValidationInfo) -> Scenario:
        """The file the mapping came from, passed by :func:`build_scenario` as context."""
        if info.context:
            self._source = info.context.get("source")
        return self

    @property
    def source(self) -> str | None:
        """The file this scenario was loaded from (None when built in memory)."""
        return self._source

    @property
    def regions(self) -> tuple[str, ...]:
        """Region ids of the study area: a built-in region set's, or those of the boundaries file
        (raises :class:`InputError` naming the file when it cannot be read)."""
        if self.boundaries is not None:
            # imported here: a scenario loads without geopandas
            from gridcarbon.inputs.study_area import study_region_ids

            return study_region_ids(self.boundaries, self.region_field)
        return BUILTIN_REGIONS[self.region_set]

    @property
    def all_years(self) -> list[int]:
        """Every simulated year, base to end."""
        return list(range(self.base_year, self.end_year + 1))

    def hash(self) -> str:
        """First 12 hex digits of the sha256 of the canonical resolved JSON (``extends`` left out,
        and ``assumptions`` while all are 1, so that scenarios keep their hash).

        Input files count by content, not by where they are: each path in :data:`PATH_KEYS`
        that names an existing file is replaced by the sha256 of its bytes (a shapefile's with
        those of its sidecar files), so a scenario folder copied elsewhere keeps its hash.
        """
        skip = {"extends"} | ({"assumptions"} if self.assumptions == Assumptions() else set())
        content = self.model_dump(mode="json", exclude=skip)
        for keys in PATH_KEYS:
            parent = content
            for key in keys[:-1]:
                parent = parent.get(key) if isinstance(parent, dict) else None
            if isinstance(parent, dict) and isinstance(parent.get(keys[-1]), str):
                parent[keys[-1]] = _file_digest(Path(parent[keys[-1]]))
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    def with_overrides(self, **changes: Any) -> Scenario:
        """A copy with some keys changed (e.g. command-line options), validated as a file is.

        Changes combine with this scenario as a file extending it would (a mapping merges into
        the section it changes, other values replace); a change given as None is no change (an
        option left out); paths are taken as given. The copy keeps :attr:`source`. Changed
        ``years`` outside base_year+1..end_year raise :class:`InputError` with record
        ``--years``; any other problem raises :class:`ScenarioError` naming the key.
        """
        changes = {key: value for key, value in changes.items() if value is not None}
        if not changes:
            return self
        where = Path(self.source).name if self.source else None
        new, problems = build_scenario(deep_merge(self.model_dump(), changes), path=self.source, where=where)
        outside = [y for y in new.years if not new.base_year < y <= new.end_year] if new else []
        if "years" in changes and outside:
            raise InputError(f"years {outside} outside {new.base_year + 1}..{new.end_year}", record="--years")
        if problems:
            first = problems[0]
            raise ScenarioError(first.message, source=first.source, record=first.key)
        return new


def _file_digest(path: Path) -> str:
    """``sha256:<hex>`` of the file's bytes (and its shapefile sidecars'), or the path as given
    when there is no such file (a scenario built in memory with a name to resolve later)."""
    if not path.is_file():
        return str(path)
    parts = sorted(path.parent.glob(f"{glob.escape(path.stem)}.*")) if path.suffix.lower() == ".shp" else [path]
    digest = hashlib.sha256()
    for part in parts:
        stat = part.stat()
        digest.update(_part_digest(str(part), stat.st_size, stat.st_mtime_ns).encode())
    return f"sha256:{digest.hexdigest()}"


@functools.lru_cache(maxsize=64)
def _part_digest(path: str, size: int, mtime_ns: int) -> str:
    """sha256 (hex) of one file, read in blocks; cached by path, size and modification time, since a
    run hashes its scenario several times and an input raster can be gigabytes."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def build_scenario(data: dict, *, path: str | None, where: str | None) -> tuple[Scenario | None, list[Problem]]:
    """The scenario ``data`` describes (None when the schema refuses it) and all its problems.

    ``path`` becomes :attr:`Scenario.source`; problems are reported at ``where`` (a file name).
    """
    try:
        scenario = Scenario.model_validate(data, context={"source": path})
    except ValidationError as err:
        return None, pydantic_problems(err, source=where, model=Scenario)
    return scenario, cross_field_problems(scenario, source=where)
