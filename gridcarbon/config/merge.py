"""How an overriding mapping combines with a base scenario: a file over the scenario it
``extends``, or changes over a loaded scenario (:meth:`Scenario.with_overrides`).
"""
from __future__ import annotations

from gridcarbon.config.sections import MILESTONE_FORM


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
