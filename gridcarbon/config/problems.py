"""Problems of a scenario: the one-line record (file, key path, sentence) and pydantic errors
turned into such records, with a "did you mean" suggestion for a mistyped key.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from gridcarbon.core.errors import ScenarioError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario: the file, the key path and a sentence."""

    source: str | None
    key: str | None
    message: str

    def line(self) -> str:
        """``file: key.path: message``."""
        return ": ".join(p for p in (self.source, self.key, self.message) if p)

    def error(self, *, more: int = 0) -> ScenarioError:
        """The problem as an exception (``more`` = number of further problems)."""
        hint = f"{more} more problem(s): run `gridcarbon validate`" if more else None
        return ScenarioError(self.message, source=self.source, record=self.key, hint=hint)


def pydantic_problems(err: ValidationError, *, source: str | None, model: type[BaseModel]) -> list[Problem]:
    """Each error of ``err`` (raised validating ``model``) as a problem reported at ``source``."""
    return [_pydantic_problem(e, source, model) for e in err.errors()]


def _pydantic_problem(error: dict, source: str | None, model: type[BaseModel]) -> Problem:
    loc, kind = tuple(error["loc"]), error["type"]
    if kind == "extra_forbidden":
        return Problem(source, _key_path(loc), f"unknown key {loc[-1]!r}" + _suggestion(loc, model))
    message = error["msg"].removeprefix("Value error, ")
    if kind not in ("missing", "value_error"):
        message += f", got {_short(error.get('input'))}"
    return Problem(source, _key_path(loc) or None, message)


def _key_path(loc: tuple) -> str:
    parts = [f"[{item}]" if isinstance(item, int) else f".{item}" for item in loc if item != "[key]"]
    return "".join(parts).removeprefix(".")


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _suggestion(loc: tuple, model: type[BaseModel]) -> str:
    """`` (did you mean 'x'?)`` when the unknown key is close to an allowed one."""
    allowed = _allowed_keys(model, loc[:-1])
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
