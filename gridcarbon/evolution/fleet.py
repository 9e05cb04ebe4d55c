"""The facility fleet: one row per plant, carried through the years by the point rules.

Columns of :attr:`Fleet.table` (one row per facility, rows only ever appended):

- ``id``, ``sector``, ``region_pos`` (index into the grid's regions), ``cell`` (flat index);
- ``capacity`` (the inventory's capacity, in its sector's unit of output; NaN if unknown);
- ``potential_t``: pre-capture CO2 at utilisation 1 (t/yr; the base year's emissions of a
  base plant, the sector's median of a new one, capacity x the sector's median CO2 per unit
  of capacity for a pipeline row): the plant's throughput in CO2 terms;
- ``fuel``, ``technology``, ``source`` (the facility table a plant comes from; as in the
  inventory, "" if absent), ``planned_retirement`` (year,
  NaN none; :mod:`.lifecycle`), ``planned_year`` (year a pipeline row comes due, NaN never);
- ``year_built``, ``inefficiency`` (CO2 per unit of capacity over the sector median);
- ``status`` (``active``, ``retired``, :data:`PIPELINE`, ``cancelled``), ``origin`` (``base``, ``new``);
- ``ccs`` (capture installed), ``capturing`` (capture runs this year: storage has room),
  ``site`` (storage site receiving its CO2, -1 none);
- ``moved_from`` (flat cell it left, -1 never moved), ``moved_year`` (year of the move, -1);
- ``utilisation`` (output over the base-year output), ``emission_t`` (t/yr after capture)
  and ``captured_t`` (t/yr stored) of the current year.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from gridcarbon.core.grid import Grid
from gridcarbon.core.sectors import POINT_SECTORS
from gridcarbon.evolution.siting import SiteOrders
from gridcarbon.inputs.facility_co2 import operating_in

#: age (years) of a plant whose build year is unknown (``year_built`` is optional in the
#: points contract; ASSUMPTION: China's fleet is young, median coal unit ~15-20 years)
UNKNOWN_PLANT_AGE = 20
#: fleet status of a facility not operating in the base year (construction, permitted, announced,
#: shelved, mothballed, or a later start year): carried for the rules that will build or cancel
#: it, never active in this version
PIPELINE = "pipeline"
#: years after the base year in which a plant "operating pre-retirement" closes: ASSUMPTION,
#: GEM's steel tracker flags capacity announced for closure under capacity-replacement plans,
#: which typically close within three years of the replacement's approval
PRE_RETIREMENT_YEARS = 3
#: years after the base year in which a pipeline row without a start year comes due, by
#: status: ASSUMPTION, ~2 years of construction for a coal unit or a blast furnace, plus a
#: year per earlier permitting stage
PIPELINE_LAG = {"construction": 2, "permitted": 3, "pre-permit": 4, "announced": 5}
#: columns of :attr:`Fleet.events`
EVENT_COLUMNS = ["year", "id", "event", "sector", "region", "from", "to"]
_SECTOR_NAME = dict(enumerate(POINT_SECTORS))
_SECTOR_CODE = {s: i for i, s in _SECTOR_NAME.items()}


@dataclass
class Fleet:
    """Facility table through time (columns in the module docstring) and its event log."""

    table: pd.DataFrame
    events: list[tuple] = field(default_factory=list)  # (year, id, event, sector, region, from_cell, to_cell)
    orders: SiteOrders = field(default_factory=SiteOrders, repr=False)  # siting orders of this evolution
    reserved: set[str] = field(default_factory=set)  # ids planned to transfer: not retired or relocated before

    @classmethod
    def from_facilities(cls, facilities: gpd.GeoDataFrame, grid: Grid, base_year: int) -> "Fleet":
        region_pos = facilities.region.map({r: i for i, r in enumerate(grid.regions)}).to_numpy()
        cap = (pd.to_numeric(facilities["capacity"], errors="coerce") if "capacity" in facilities
               else pd.Series(np.nan, index=facilities.index))
        potential = facilities.emission_t.to_numpy(float)
        capacity = cap.to_numpy(float)
        intensity = np.divide(potential, capacity, out=np.full(capacity.shape, np.nan), where=capacity > 0)
        intensity = np.where(intensity > 0, intensity, np.nan)  # NaN and zero capacities: unknown
        rel = pd.Series(intensity).groupby(facilities.sector.values).transform(lambda v: v / np.nanmedian(v))
        built = pd.to_numeric(facilities["year_built"], errors="coerce") if "year_built" in facilities \
            else pd.Series(np.nan, index=facilities.index)  # optional in the points contract
        built = built.fillna(base_year - UNKNOWN_PLANT_AGE)
        active = base_year_active(facilities, base_year)
        potential = np.where(active, potential, _pipeline_potential(facilities, cap, potential, active))
        n = len(facilities)
        table = pd.DataFrame({
            "id": facilities["id"].astype(str).to_numpy(), "sector": facilities.sector.to_numpy(),
            "region_pos": region_pos, "cell": facilities["cell"].to_numpy(np.int64),
            "capacity": cap.to_numpy(float), "potential_t": potential, "year_built": built.to_numpy(int),
            "inefficiency": rel.fillna(1.0).to_numpy(), "status": np.where(active, "active", PIPELINE),
            "fuel": _text(facilities, "fuel"), "technology": _text(facilities, "technology"),
            "source": _text(facilities, "source"),
            "planned_retirement": _planned_retirement(facilities, base_year),
            "planned_year": np.where(active, np.nan, _due_years(facilities, base_year)),
            "origin": "base", "ccs": False, "capturing": False, "site": np.full(n, -1, np.int64),
            "moved_from": np.full(n, -1, np.int64), "moved_year": np.full(n, -1, np.int64),
            "utilisation": np.where(active, 1.0, 0.0), "emission_t": np.where(active, potential, 0.0),
            "captured_t": 0.0})
        return cls(table)

    def log(self, year, rows: pd.DataFrame, event: str, to_cell=None):
        for r, (_, row) in enumerate(rows.iterrows()):  # one entry per event, not per cell
            self.events.append((year, row.id, event, row.sector, int(row.region_pos), int(row.cell),
                                int(row.cell if to_cell is None else to_cell[r])))

    def counts(self) -> dict[str, int]:
        ev = pd.DataFrame(self.events, columns=EVENT_COLUMNS)
        return {e: int((ev.event == e).sum()) for e in ("retired", "relocated", "transferred", "retrofitted", "built", "cancelled")}

    def active(self, region_pos: int | None = None, sector: str | None = None) -> pd.Series:
        """Mask of the active plants (of one region and sector when given)."""
        t = self.table
        sel = t.status == "active"
        if region_pos is not None:
            sel &= t.region_pos == region_pos
        if sector is not None:
            sel &= t.sector == sector
        return sel


def _text(facilities: pd.DataFrame, column: str) -> np.ndarray:
    """An optional text column of the points contract, "" where absent."""
    if column not in facilities:
        return np.full(len(facilities), "", dtype=object)
    return facilities[column].fillna("").astype(str).to_numpy(dtype=object)


def _planned_retirement(facilities: pd.DataFrame, base_year: int) -> np.ndarray:
    """GEM's planned retirement year; "operating pre-retirement" plants close
    :data:`PRE_RETIREMENT_YEARS` after the base year (NaN: no plan)."""
    planned = (pd.to_numeric(facilities["planned_retirement_year"], errors="coerce").to_numpy(float)
               if "planned_retirement_year" in facilities else np.full(len(facilities), np.nan))
    if "status" in facilities:
        pre = (facilities["status"] == "operating pre-retirement").to_numpy()
        planned = np.where(pre & np.isnan(planned), base_year + PRE_RETIREMENT_YEARS, planned)
    return planned


def _due_years(facilities: pd.DataFrame, base_year: int) -> np.ndarray:
    """Year each row would come due as a pipeline row: its start year, else the base year plus
    :data:`PIPELINE_LAG` of its status; an operating row starting after the base year comes due
    in its start year (NaN: never, e.g. shelved or mothballed)."""
    if "status" not in facilities:
        return np.full(len(facilities), np.nan)
    column = "start_year" if "start_year" in facilities else "year_built"
    start = (pd.to_numeric(facilities[column], errors="coerce") if column in facilities
             else pd.Series(np.nan, index=facilities.index))
    status = facilities["status"].fillna("operating")
    lag = status.map(PIPELINE_LAG).astype(float) + base_year
    planned = np.where(status.isin(list(PIPELINE_LAG)), start.fillna(lag), np.nan)
    return np.where(status.str.startswith("operating"), start, planned).astype(float)


def _pipeline_potential(facilities: pd.DataFrame, cap: pd.Series, potential: np.ndarray,
                        active: np.ndarray) -> np.ndarray:
    """Throughput (t CO2/yr) of pipeline rows: capacity x the median CO2 per unit of capacity
    of the sector's base-year plants (0 where either is unknown)."""
    capacity = cap.to_numpy(float)
    known = active & (capacity > 0)  # NaN and zero capacities compare False
    per_unit = pd.Series(np.divide(potential, capacity, out=np.full(capacity.shape, np.nan), where=known))
    median = per_unit.groupby(facilities.sector.values).transform("median").to_numpy(float)
    return np.nan_to_num(cap.to_numpy(float) * median)


def group_keys(t: pd.DataFrame) -> np.ndarray:
    """One integer per (region, sector) of each row of a fleet table."""
    return t.region_pos.to_numpy(np.int64) * 1000 + t.sector.map(_SECTOR_CODE).to_numpy(np.int64)


def key_group(key: int) -> tuple[int, str]:
    """(region_pos, sector) of a :func:`group_keys` value."""
    return int(key // 1000), _SECTOR_NAME[int(key % 1000)]


def base_year_active(facilities: pd.DataFrame, base_year: int) -> np.ndarray:
    """Which facilities operate in ``base_year``: all of a table without ``status``, else those
    :func:`~gridcarbon.inputs.facility_co2.operating_in` the year (status operating, started by
    ``start_year``, else ``year_built``)."""
    if "status" not in facilities:
        return np.ones(len(facilities), bool)
    frame = facilities.assign(status=facilities["status"].fillna("operating"))
    if "start_year" not in frame and "year_built" in frame:  # the points contract's build year
        frame["start_year"] = pd.to_numeric(frame["year_built"], errors="coerce")
    return operating_in(frame, base_year).to_numpy()


def point_cells(fleet: Fleet, sector: str) -> tuple[np.ndarray, np.ndarray]:
    """Flat cells (ascending) holding a sector's active plants, and their emissions (t CO2/yr/cell)."""
    t = fleet.table
    rows = t[(t.status == "active") & (t.sector == sector)]
    cells, pos = np.unique(rows.cell.to_numpy(np.int64), return_inverse=True)
    return cells, np.bincount(pos, weights=rows.emission_t.to_numpy(float), minlength=cells.size)


def point_layers(fleet: Fleet, grid: Grid, sectors: list[str]) -> np.ndarray:
    """(len(sectors), y, x) t CO2/yr/cell of the active fleet."""
    out = np.zeros((len(sectors), grid.shape[0] * grid.shape[1]))
    for k, s in enumerate(sectors):
        cells, t = point_cells(fleet, s)
        out[k, cells] = t
    return out.reshape(len(sectors), *grid.shape)
