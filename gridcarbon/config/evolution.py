"""The evolution section of a scenario: the point rules, the two electrification schedules of
road traffic and the corridors a scenario opens, as strict pydantic models (see
:mod:`gridcarbon.config.sections` for the conventions).
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from gridcarbon.config.sections import StrictModel


def _check_schedule(shares: dict[int, float]) -> dict[int, float]:
    """An electrification schedule {year: share}: at least one year, shares in [0, 1]."""
    if not shares:
        raise ValueError("give at least one year: {year: electrified share}")
    bad = {y: v for y, v in shares.items() if not 0 <= v <= 1}
    if bad:
        raise ValueError(f"electrified shares are fractions in [0, 1], got {bad}")
    return shares


def schedule_at(schedule: dict[int, float], year: int) -> float:
    """Value of a ``{year: value}`` schedule in ``year`` (e.g. an electrified share, 0..1),
    linear between the schedule's years, constant beyond them."""
    years = sorted(schedule)
    if year <= years[0] or year >= years[-1]:
        return float(schedule[years[0] if year <= years[0] else years[-1]])
    after = next(y for y in years if y >= year)
    before = max(y for y in years if y < year)
    w = (year - before) / (after - before)
    return float(schedule[before] + w * (schedule[after] - schedule[before]))


#: share of road CO2 that is urban passenger traffic in the built-in baselines (urban road area
#: source against corridor lines, 40 / 60), weighting the two schedules into one
URBAN_ROAD_SHARE = 0.4


class ElectrificationSpec(StrictModel):
    """Electrified share (0..1) of road activity by year, linear in between, held beyond.

    Urban passenger traffic (cars, taxis, buses, urban delivery vans) leads; intercity
    freight (heavy trucks on the corridors) lags. Defaults, ASSUMPTION from China's record:
    new-energy vehicles were 8.9 % of the vehicle stock at the end of 2024 (Ministry of Public
    Security, Jan 2025), ~48 % of 2024 passenger car sales (CPCA) and most city buses (Ministry
    of Transport), so urban passenger activity starts near 12 %; the NEV Industry Development
    Plan 2021-2035 (State Council, 2020) makes public-sector vehicles fully electric by 2035,
    and with ~10-year vehicle lifetimes urban passenger activity is ~60 % electric by 2035.
    Zero-emission heavy trucks were ~13 % of 2024 heavy-truck sales but ~1 % of the stock
    (ICCT China zero-emission truck market reports), with 15-20-year lives and long-haul
    range and charging still unsolved, so freight reaches ~12 % by 2035 and 85 % by 2060.
    Weighted 40 / 60 (urban / corridor road CO2 in the built-in baselines) the two schedules
    give the former single schedule's 0.35 (2035, here 0.31) and 0.9 (2060).
    """

    urban_passenger: dict[int, float] = Field(
        default_factory=lambda: {2024: 0.12, 2030: 0.4, 2035: 0.6, 2045: 0.85, 2060: 0.98})
    freight: dict[int, float] = Field(default_factory=lambda: {2024: 0.01, 2030: 0.05, 2035: 0.12, 2045: 0.4,
                                                               2060: 0.85})

    @field_validator("urban_passenger", "freight")
    @classmethod
    def _shares(cls, shares: dict[int, float]) -> dict[int, float]:
        return _check_schedule(shares)

    def blended(self) -> dict[int, float]:
        """One schedule (year -> share, 0..1) for the electricity the power system must supply:
        the two weighted by :data:`URBAN_ROAD_SHARE`, at every year either names."""
        years = sorted(set(self.urban_passenger) | set(self.freight))
        return {y: URBAN_ROAD_SHARE * schedule_at(self.urban_passenger, y)
                + (1 - URBAN_ROAD_SHARE) * schedule_at(self.freight, y) for y in years}


#: corridor kinds a scenario may open, and the sector each belongs to
CORRIDOR_SECTOR = {"motorway": "transport_road", "rail": "transport_other", "waterway": "transport_other"}


class NewCorridor(StrictModel):
    """A corridor opening in a later year: a polyline through ``path`` (lon, lat; WGS84
    degrees; two points are its endpoints), carrying ``traffic_weight`` times the base-year
    emission per km of the corridors of its ``kind`` from ``opened`` on."""

    id: str = Field(min_length=1)
    kind: Literal["motorway", "rail", "waterway"]
    opened: int
    path: list[list[float]] = Field(min_length=2)
    traffic_weight: float = Field(default=1.0, gt=0)

    @field_validator("path")
    @classmethod
    def _lon_lat(cls, path: list[list[float]]) -> list[list[float]]:
        bad = [i for i, p in enumerate(path) if len(p) != 2 or not (-180 <= p[0] <= 180 and -90 <= p[1] <= 90)]
        if bad:
            raise ValueError(f"point {bad[0]} {path[bad[0]]} is not [lon, lat] in degrees")
        if len({tuple(p) for p in path}) < 2:
            raise ValueError("a corridor needs two distinct points")
        return path

    @property
    def sector(self) -> str:
        return CORRIDOR_SECTOR[self.kind]


class EvolutionSpec(StrictModel):
    """Settings of the spatial evolution (:mod:`gridcarbon.evolution`); the one home of their defaults.

    Every default is an ASSUMPTION of the built-in scenarios (reasoning beside each); a
    scenario file may change any of them.
    """

    #: industrial transfer: steel and chemical plants move from regions whose allocated totals
    #: fall faster to regions with room, and the allocation moves their tonnes with them
    #: (:mod:`gridcarbon.evolution.transfer`; off: provinces keep their industry)
    transfer: bool = False
    #: fleet utilisation (allocated total / fossil potential) below which plants retire
    #: (ASSUMPTION: Chinese coal units ran at ~50 % load factor in 2023; below 55 % the
    #: oldest units close rather than all running less)
    retire_utilisation: float = Field(default=0.55, gt=0, le=1)
    #: utilisation above which new plants are built (ASSUMPTION: 5 % headroom before building)
    build_utilisation: float = Field(default=1.05, gt=0)
    #: least distance (km) between plants of one sector when siting (ASSUMPTION: industrial
    #: parks of a prefecture lie some 30 km apart)
    min_spacing_km: float = Field(default=30.0, ge=0)
    #: most plants of one sector per cell
    max_plants_per_cell: int = Field(default=1, ge=1)
    #: built-up fraction above which a cell is urban core, where plants must not stay
    #: (ASSUMPTION: the cores of China's relocation-out-of-city policies)
    urban_core_threshold: float = Field(default=0.6, ge=0, le=1)
    #: restrictions a plant relocates from at its refurbishment age
    relocate_from: list[Literal["urban_core", "eco_reserve"]] = Field(
        default_factory=lambda: ["urban_core", "eco_reserve"])
    #: electrified share of road activity by year for urban passenger traffic and for
    #: intercity freight (see :class:`ElectrificationSpec`)
    electrification: ElectrificationSpec = Field(default_factory=lambda: ElectrificationSpec())
    #: corridors opening after the base year (motorways, railways, waterways), each on its year
    new_corridors: list[NewCorridor] = Field(default_factory=list)
    #: scale of the Gumbel noise on suitability when siting (0: deterministic best sites)
    siting_noise: float = Field(default=0.0, ge=0)
    #: how far (km) a plant may be from geological storage to be retrofitted with CCS
    #: (ASSUMPTION: ~100 km of CO2 pipeline, as in CCUS source-sink matching studies of China)
    ccs_reach_km: float = Field(default=100.0, ge=0)
    #: share of a retrofitted plant's CO2 that is captured (ASSUMPTION: 90 %, the usual design
    #: rate of post-combustion capture)
    capture_rate: float = Field(default=0.9, ge=0, le=1)

    @field_validator("new_corridors")
    @classmethod
    def _unique_ids(cls, corridors: list[NewCorridor]) -> list[NewCorridor]:
        ids = [c.id for c in corridors]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"corridor ids must be unique, repeated: {', '.join(twice)}")
        return corridors
