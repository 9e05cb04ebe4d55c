"""The sections of a scenario as strict pydantic models: pathway, principles, allocation, removals,
inventory and coupling (the evolution section: :mod:`gridcarbon.config.evolution`).

Every model forbids unknown keys and converts nothing (``strict``), so a typo or a wrong type
fails naming the key. The rules that concern one section (weights summing to one, ordered rate
periods...) live here; the rules spanning sections are in :mod:`gridcarbon.config.checks`.
The defaults given here are the only ones: the stages read the validated sections, never a
default of their own. Pathway values are in ``pathway.unit`` (t, kt, Mt or Gt CO2 per year).
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: Tonnes of CO2 per pathway unit.
UNIT_T = {"t": 1.0, "kt": 1e3, "Mt": 1e6, "Gt": 1e9}

#: Pathway keys of the milestone form; ``series`` is the other, exclusive form.
MILESTONE_FORM = ("peak", "milestones", "rates")

DEFAULT_RAMP = 0.25  # max annual change, fraction of the base-year value
WEIGHT_TOLERANCE = 1e-6
#: ASSUMPTION: 5 %/yr, between the 8 % social discount rate of China's project appraisal rules
#: (NDRC & Ministry of Construction 2006, "Methods and Parameters for Economic Evaluation of
#: Construction Projects", 3rd ed.) and the 1.4-3 % of climate-policy cost-benefit studies
#: (Stern Review 2006; Nordhaus DICE-2016R 4-5 % market rate)
DEFAULT_DISCOUNT_RATE = 0.05


class StrictModel(BaseModel):
    """Base of every scenario model: unknown keys and type conversions are errors."""

    model_config = ConfigDict(extra="forbid", strict=True)


# -- pathway ----------------------------------------------------------------------------
class Peak(StrictModel):
    """Peak year and level (pathway unit)."""

    year: int
    level: float = Field(ge=0)


class Milestone(StrictModel):
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


class Rate(StrictModel):
    """Annual compound change from ``start`` to ``end`` inclusive (-0.094 = -9.4 %/yr)."""

    start: int
    end: int
    annual: float = Field(gt=-1)

    @model_validator(mode="after")
    def _ordered(self) -> Rate:
        if self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        return self


class NetZero(StrictModel):
    """Year at which net = gross - removals reaches ``net`` (pathway unit)."""

    year: int
    net: float = 0.0


class PathwaySpec(StrictModel):
    """Gross total pathway for the whole area, in ``unit`` per year (see :mod:`gridcarbon.allocation.pathway`).

    ``from`` (field ``parent``) names a scenario whose allocation gives this one's totals
    instead: its regions' yearly gross and removals (:mod:`gridcarbon.allocation.nesting`).
    """

    # ``from`` is a Python keyword: the field is ``parent``, read and written as ``from``
    model_config = ConfigDict(extra="forbid", strict=True, serialize_by_alias=True, validate_by_name=True)

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
    #: an alias, not a before-validator: that would turn JSON input into Python input, where
    #: strict mode refuses the year keys
    parent: str | None = Field(default=None, alias="from")

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
        own = [k for k in (*MILESTONE_FORM, "series", "net_zero") if getattr(self, k)]
        if self.parent is not None and own:
            raise ValueError(f"'from: {self.parent}' takes the totals from that scenario's allocation: "
                             f"leave out {', '.join(own)} (set them to null / [])")
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
class Principles(StrictModel):
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


class Bound(StrictModel):
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


class AllocationSpec(StrictModel):
    """Settings of the allocation LP (see :mod:`gridcarbon.allocation`)."""

    #: regions trade permits (True: one cap on the area, each region's allowance is its target
    #: share, the difference is bought or sold); False: each region meets its own allowance
    trade: bool = True
    #: annual discount rate of the abatement costs (see DEFAULT_DISCOUNT_RATE)
    discount_rate: float = Field(default=DEFAULT_DISCOUNT_RATE, ge=0, lt=1)
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


class RemovalsSpec(StrictModel):
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
class InventorySpec(StrictModel):
    """The user's own baseline sources (paths) and a column mapping source -> contract."""

    points: str | None = None
    lines: str | None = None
    areas: str | None = None
    raster: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)


class CouplingSpec(StrictModel):
    """Allocate-evolve loop: stop when totals change by less than ``tolerance`` (relative)."""

    tolerance: float = Field(default=0.001, gt=0)
    max_iterations: int = Field(default=6, ge=1)
