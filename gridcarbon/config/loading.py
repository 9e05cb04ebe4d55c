"""Scenario files: YAML reading, ``extends`` inheritance, path resolution, loading and validation.

Loading happens in layers (``docs/architecture.md``, section "Scenarios and the command line"):

1. read the YAML (``yaml.safe_load``) and resolve the file's paths relative to its folder,
   refusing path traversal (``..`` escaping the folder, absolute system locations);
2. if it ``extends`` a built-in scenario (by name) or another file (by path), load that
   first and deep-merge this file over it (mappings merge key by key, lists and scalars
   replace; chains are allowed, cycles are an error);
3. validate the merged mapping against :class:`~gridcarbon.config.schema.Scenario`
   (pydantic, strict types), then run the cross-field checks.

:func:`validate_scenario` collects every problem, one line each, as
``file: key.path: problem``; :func:`load_scenario` raises the first as
:class:`~gridcarbon.core.errors.ScenarioError` (``source`` = file, ``record`` = key path).
"""
from __future__ import annotations

import os
import re
from pathlib import Path, PurePath
from typing import Any

import yaml

from gridcarbon.config.merge import deep_merge
from gridcarbon.config.problems import Problem
from gridcarbon.config.schema import PATH_KEYS, Scenario, build_scenario
from gridcarbon.inputs.data import SCENARIO_DIR

BUILTIN_DIR = SCENARIO_DIR

#: Absolute locations a scenario may never point into.
SYSTEM_DIRS = ("/bin", "/boot", "/dev", "/etc", "/lib", "/proc", "/root", "/run", "/sbin",
               "/sys", "/usr", "/var/run", "C:/Windows", "C:\\Windows")


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
    scenario, problems = build_scenario(raw, path=str(path), where=path.name)
    return scenario, path_problems + problems


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


# -- paths ----------------------------------------------------------------------------------------------
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
