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
from gridcarbon.core.sectors import GRIDDED
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
_SECTOR_CODE = {s: i for i, s in enumerate(GRIDDED)}
#: the fleet's statuses, stored as their position in this tuple (``Fleet["status"]``)
STATUSES = ("active", "retired", PIPELINE, "cancelled")
ACTIVE, RETIRED, WAITING, CANCELLED = range(len(STATUSES))
#: text columns of :attr:`Fleet.table` (object arrays of str)
TEXT_COLUMNS = ("id", "fuel", "technology", "source", "origin")
#: columns of :attr:`Fleet.table`, in order
COLUMNS = ["id", "sector", "region_pos", "cell", "capacity", "potential_t", "year_built", "inefficiency", "status",
           "fuel", "technology", "source", "planned_retirement", "planned_year", "origin", "ccs", "capturing",
           "site", "moved_from", "moved_year", "utilisation", "emission_t", "captured_t"]


@dataclass
class Fleet:
    """Facility columns through time (module docstring) and the event log.

    The rules read and write plain numpy arrays, one per column, indexed by row (``fleet["cell"]``);
    ``sector`` holds the position in :data:`GRIDDED` and ``status`` the position in
    :data:`STATUSES`. :attr:`table` is the fleet as a DataFrame (names, not positions).
    """

    columns: dict[str, np.ndarray]
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
        columns = {
            "id": facilities["id"].astype(str).to_numpy(dtype=object),
            "sector": sector_codes(facilities.sector.to_numpy(dtype=object)),
            "region_pos": region_pos.astype(np.int64), "cell": facilities["cell"].to_numpy(np.int64),
            "capacity": capacity, "potential_t": potential, "year_built": built.to_numpy(np.int64),
            "inefficiency": rel.fillna(1.0).to_numpy(float), "status": np.where(active, ACTIVE, WAITING),
            "fuel": _text(facilities, "fuel"), "technology": _text(facilities, "technology"),
            "source": _text(facilities, "source"),
            "planned_retirement": _planned_retirement(facilities, base_year),
            "planned_year": np.where(active, np.nan, _due_years(facilities, base_year)),
            "origin": np.full(n, "base", dtype=object), "ccs": np.zeros(n, bool), "capturing": np.zeros(n, bool),
            "site": np.full(n, -1, np.int64), "moved_from": np.full(n, -1, np.int64),
            "moved_year": np.full(n, -1, np.int64), "utilisation": np.where(active, 1.0, 0.0),
            "emission_t": np.where(active, potential, 0.0), "captured_t": np.zeros(n)}
        return cls({c: np.array(v) for c, v in columns.items()})  # own, writable copies

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> Fleet:
        """A fleet from a table of :data:`COLUMNS` (as :attr:`table` gives it)."""
        codes = {"sector": _SECTOR_CODE, "status": {s: i for i, s in enumerate(STATUSES)}}
        columns = {c: table[c].map(codes[c]).to_numpy(np.int64) if c in codes
                   else table[c].to_numpy(object if c in TEXT_COLUMNS else None) for c in COLUMNS}
        return cls({c: np.array(v) for c, v in columns.items()})

    def __getitem__(self, column: str) -> np.ndarray:
        return self.columns[column]

    def __len__(self) -> int:
        return self.columns["id"].size

    @property
    def named(self) -> dict[str, np.ndarray]:
        """The columns with ``sector`` and ``status`` as names (object arrays)."""
        names = {"sector": np.asarray(GRIDDED, dtype=object), "status": np.asarray(STATUSES, dtype=object)}
        return {c: names[c][self.columns[c]] if c in names else self.columns[c] for c in COLUMNS}

    @property
    def table(self) -> pd.DataFrame:
        """The fleet as a new DataFrame (columns in the module docstring)."""
        return pd.DataFrame(self.named)

    def append(self, rows: dict[str, np.ndarray]) -> np.ndarray:
        """Append ``rows`` (every column, arrays of one length); returns their row indices."""
        k = len(self)
        self.columns = {c: np.concatenate([self.columns[c], rows[c]]) for c in COLUMNS}
        return np.arange(k, len(self))

    def row(self, id_: str) -> int:
        """Row index of the plant ``id_``."""
        return int(np.flatnonzero(self.columns["id"] == id_)[0])

    def log(self, year, rows: np.ndarray, event: str, to_cell=None):
        """One event per row of ``rows`` (indices or mask), from its cell (to ``to_cell`` when given)."""
        c = self.columns
        rows = np.flatnonzero(rows) if rows.dtype == bool else rows
        for r, i in enumerate(rows):
            cell = int(c["cell"][i])
            self.events.append((year, c["id"][i], event, GRIDDED[c["sector"][i]], int(c["region_pos"][i]),
                                cell, cell if to_cell is None else int(to_cell[r])))

    def counts(self) -> dict[str, int]:
        ev = pd.DataFrame(self.events, columns=EVENT_COLUMNS)
        return {e: int((ev.event == e).sum()) for e in ("retired", "relocated", "transferred", "retrofitted", "built", "cancelled")}

    def active(self, region_pos: int | None = None, sector: str | None = None) -> np.ndarray:
        """Mask of the active plants (of one region and sector when given)."""
        c = self.columns
        sel = c["status"] == ACTIVE
        if region_pos is not None:
            sel &= c["region_pos"] == region_pos
        if sector is not None:
            sel &= c["sector"] == _SECTOR_CODE[sector]
        return sel

    def of_sector(self, *sectors: str) -> np.ndarray:
        """Mask of the rows of ``sectors``."""
        return np.isin(self.columns["sector"], [_SECTOR_CODE[s] for s in sectors])


def sector_codes(sectors) -> np.ndarray:
    """Positions in :data:`GRIDDED` of sector names."""
    return np.array([_SECTOR_CODE[s] for s in sectors], dtype=np.int64)


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


def group_keys(fleet: Fleet) -> np.ndarray:
    """One integer per (region, sector) of each row of the fleet."""
    return fleet["region_pos"] * 1000 + fleet["sector"]


def key_group(key: int) -> tuple[int, str]:
    """(region_pos, sector) of a :func:`group_keys` value."""
    return int(key // 1000), GRIDDED[int(key % 1000)]


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
    rows = fleet.active(sector=sector)
    cells, pos = np.unique(fleet["cell"][rows], return_inverse=True)
    return cells, np.bincount(pos, weights=fleet["emission_t"][rows], minlength=cells.size)


def point_layers(fleet: Fleet, grid: Grid, sectors: list[str]) -> np.ndarray:
    """(len(sectors), y, x) t CO2/yr/cell of the active fleet."""
    out = np.zeros((len(sectors), grid.shape[0] * grid.shape[1]))
    for k, s in enumerate(sectors):
        cells, t = point_cells(fleet, s)
        out[k, cells] = t
    return out.reshape(len(sectors), *grid.shape)
