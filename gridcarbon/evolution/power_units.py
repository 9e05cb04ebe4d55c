"""The power fleet follows the allocation's power system ("grid follows units", issue 16).

When the allocation carries a power system (:mod:`gridcarbon.allocation.power`), the fleet's
power rows leave the point rules (no age-hazard retirements, no retrofits, builds or
utilisation of their own); each year, after the rules ran for the other sectors:

- a coal unit (fleet id :data:`COAL_PREFIX` + GEM id) operates exactly in the years the power
  block counts it (GEM start year to retirement, :func:`~gridcarbon.allocation.power_fleet.coal_units`)
  and emits what the block's dispatch gives it (:func:`~gridcarbon.allocation.power.coal_unit_generation`:
  the region's coal generation shared by capacity, at the unit's own emission factor);
- gas plants share their region's gas emissions by capacity (new gas capacity of the block
  runs at the existing gas sites; a region without gas plants at its coal units' sites);
- capture plants (``coal_ccs``, ``gas_ccs``, new capacity of the block) stay where they were
  retrofitted while the unit runs, and new ones stand at the sites of the region's coal units
  with the most storage room of the region within ``ccs_reach_km`` this year (ties: those that
  retire first), as many sites as their capacity fills, and share the
  region's capture emissions and captured CO2 by capacity (ASSUMPTION: capture plants are
  built at existing coal stations, which have the grid connection, cooling water and permits,
  as China's CCUS demonstration units are, and at those matched to the most storage left nearby,
  as source-sink matching in CCUS planning does; a region without coal units at its gas
  plants). Their captured tonnes go to the region's storage sites in reach of their station,
  nearest first, within their room after the year's industrial capture
  (:meth:`.storage.Storage.route`); what a station's sites cannot hold shifts to the region's
  other capture stations with room in reach; what no site in reach holds is vented, i.e.
  emitted at the stations, so cumulative injection never exceeds a site's capacity.

A region's power pattern is then the sum over its generating units, equal to its allocated
power (the block's row ``E[power] = sum factor x G``), so imposing the total leaves it unchanged.
Units: capacity MW (fleet) and GW (block), emissions t CO2/yr.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from gridcarbon.allocation.power import CAPTURE, PowerSolution, coal_unit_generation
from gridcarbon.allocation.power_data import TECHNOLOGIES
from gridcarbon.core.units import T_PER_MT
from gridcarbon.evolution.fleet import ACTIVE, CANCELLED, RETIRED, WAITING, Fleet
from gridcarbon.evolution.storage import Storage

#: the inventory's id prefix of a GEM coal unit (``inventory/builtin.py``: ``COAL-<GEM id>``)
COAL_PREFIX = "COAL-"


def follow_power(fleet: Fleet, solution: PowerSolution, year: int, regions: list[str], storage: Storage) -> None:
    """Set status, emissions and captured CO2 of the fleet's power rows from the power block
    in ``year`` and route the capture into ``storage`` (after the year's industrial capture).

    Power rows the block does not know (coal units neither operating nor committed) that wait
    in the pipeline are cancelled: the block builds no coal beyond the committed units.
    """
    c, s = fleet.columns, solution.system
    power = fleet.of_sector("power")
    unit = pd.Index(COAL_PREFIX + s.coal_units["id"]).get_indexer(c["id"])  # the block's coal unit of each row
    mine = power & (unit >= 0)
    coal = coal_unit_generation(solution, year)
    at = pd.Index(COAL_PREFIX + coal["id"]).get_indexer(c["id"])  # its operating unit, -1 for none
    running = mine & (at >= 0)
    gas = power & (c["fuel"] == "gas") & (c["status"] == ACTIVE)
    sites = _capture_sites(fleet, mine, unit, solution, year, regions, storage)
    plants = power & (c["fuel"] == "gas") & ~np.isin(c["status"], [WAITING, CANCELLED])
    gas_t, gas_at = _shared(fleet, [gas, mine], _emitted(solution, "gas", year), regions)
    ccs_t, ccs_at = _shared(fleet, [sites, plants], sum(_emitted(solution, g, year) for g in CAPTURE), regions)
    stored = pd.Series(solution.captured[:, :, s.years.index(year)].sum(axis=1) * T_PER_MT, index=s.regions)
    captured_t, _ = _shared(fleet, [sites, plants], stored, regions)
    kept, gross = _store(fleet, storage, year, captured_t)
    # a host's residual CO2 follows what it captures (both technologies capture CAPTURE_RATE)
    ccs_t *= np.divide(gross, captured_t, out=np.ones(len(fleet)), where=captured_t > 0)
    site = storage.reach_site[c["cell"]]
    coal_t = np.append(coal["emissions_t"].to_numpy(), 0.0)[at]  # a row without an operating unit: 0
    emission = np.where(running, coal_t, 0.0) + gas_t + ccs_t + gross - kept
    was = c["status"]
    capture = sites | ccs_at
    hosts = running | gas | gas_at | capture
    status = np.where(hosts, ACTIVE, np.where(was == WAITING, WAITING, RETIRED))
    status = np.where(mine | hosts, status, np.where(power & (was == WAITING), CANCELLED, was))
    _log_changes(fleet, year, power, was, status, capture)
    c["status"] = status
    c["emission_t"][power] = emission[power]
    c["captured_t"][power] = kept[power]
    c["site"][power & (kept > 0)] = site[power & (kept > 0)]
    c["ccs"][power] = capture[power]
    c["capturing"][power] = capture[power]
    pot = c["potential_t"][power]
    c["utilisation"][power] = np.divide(emission[power], pot, out=np.zeros(pot.shape), where=pot > 0)


def _shared(fleet: Fleet, choices: list[np.ndarray], totals: pd.Series | None, regions: list[str]
            ) -> tuple[np.ndarray, np.ndarray]:
    """Each region's total (t CO2/yr) shared by capacity (evenly without capacities) over its rows
    of the first mask in ``choices`` that has any there; returns the emissions and the hosts."""
    out, hosts = np.zeros(len(fleet)), np.zeros(len(fleet), bool)
    if totals is None:
        return out, hosts
    region, pos = fleet["region_pos"], {name: i for i, name in enumerate(regions)}
    capacity = _known(fleet["capacity"])
    for name, total in totals.items():
        ours = region == pos.get(name, -1)
        here = next((rows & ours for rows in choices if (rows & ours).any()), None)
        if total == 0 or here is None:
            continue
        w = capacity * here if capacity[here].sum() > 0 else here.astype(float)
        out += total * w / w.sum()
        hosts |= here
    return out, hosts


def _store(fleet: Fleet, storage: Storage, year: int, captured_t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Route each capture host's share (t) into storage; what its sites cannot hold shifts to
    the region's other hosts with room in reach (their capture plants run more). Returns per
    row the tonnes stored and captured (stored + vented: what no host's sites hold, by share)."""
    cell, pos = fleet["cell"], fleet["region_pos"]
    on = np.flatnonzero(captured_t > 0)
    kept = np.zeros(len(fleet))
    kept[on] = storage.route(year, cell[on], pos[on], captured_t[on])
    gross = kept.copy()
    for p in np.unique(pos[on]):
        rows = on[pos[on] == p]
        left = captured_t[rows].sum() - kept[rows].sum()
        for i in rows:
            if left <= 0:
                break
            extra = storage.route(year, cell[[i]], pos[[i]], np.array([left]))[0]
            kept[i], left = kept[i] + extra, left - extra
        gross[rows] = kept[rows] + max(left, 0.0) * captured_t[rows] / captured_t[rows].sum()
    return kept, gross


def _capture_sites(fleet: Fleet, coal: np.ndarray, unit: np.ndarray, solution: PowerSolution, year: int,
                   regions: list[str], storage: Storage) -> np.ndarray:
    """Coal unit rows hosting capture plants: per region, the units that already capture (a
    retrofit stays while its unit runs), then the units with the most storage room of the region
    within reach, then the earliest-retiring, until their capacity covers the block's capture
    capacity (GW) of ``year`` (which never falls: what the block builds stays). ``unit``: each
    row's position in the block's coal units (-1 for none)."""
    s, k = solution.system, solution.system.years.index(year)
    need = {r: sum(solution.capacity[i, TECHNOLOGIES.index(g), k] for g in CAPTURE) * 1e3
            for i, r in enumerate(s.regions)}
    retire = np.append(s.coal_units["retire"].to_numpy(float), np.nan)[unit]  # NaN for a row of no unit
    ids, capacity = fleet["id"].astype(str), _known(fleet["capacity"])
    already = fleet["ccs"]
    out = np.zeros(len(fleet), bool)
    candidates = []  # per region that needs capture: its coal rows not yet capturing
    for pos, name in enumerate(regions):
        rows = np.flatnonzero(coal & (fleet["region_pos"] == pos))
        if need.get(name, 0.0) <= 0 or rows.size == 0:
            continue
        kept = rows[already[rows]]
        out[kept] = True
        candidates.append((name, kept, rows[~already[rows]]))
    rest = np.concatenate([r for *_, r in candidates]) if candidates else np.zeros(0, np.int64)
    # one look-up for every region's candidates: a row's room depends on its own cell and region alone
    reach = np.split(storage.room_in_reach(year, fleet["cell"][rest], fleet["region_pos"][rest]),
                     np.cumsum([r.size for *_, r in candidates])[:-1])
    for (name, kept, rest), room in zip(candidates, reach):
        rest = rest[np.lexsort((ids[rest], retire[rest], -room))]
        before = capacity[kept].sum() + np.cumsum(capacity[rest]) - capacity[rest]
        out[rest[before < need[name]]] = True
    return out


def _emitted(solution: PowerSolution, technology: str, year: int) -> pd.Series:
    """The block's CO2 (t/yr) of a fossil ``technology`` in ``year`` by region (0 for one not fossil)."""
    s, g = solution.system, TECHNOLOGIES.index(technology)
    t = solution.emissions[:, g, s.years.index(year)] * T_PER_MT if s.fossil[g] else np.zeros(len(s.regions))
    return pd.Series(t, index=s.regions)


def _log_changes(fleet: Fleet, year: int, power: np.ndarray, was: np.ndarray, now: np.ndarray,
                 sites: np.ndarray) -> None:
    """Events of the power rows: built (a pipeline row starts), retired, cancelled, retrofitted (capture site)."""
    for event, mask in (("built", power & (now == ACTIVE) & (was == WAITING)),
                        ("retired", power & (was == ACTIVE) & (now == RETIRED)),
                        ("cancelled", power & (was == WAITING) & (now == CANCELLED)),
                        ("retrofitted", power & sites & ~fleet["ccs"])):
        if mask.any():
            fleet.log(year, mask, event)


def _known(capacity: np.ndarray) -> np.ndarray:
    """Capacities with 0 for unknown (NaN)."""
    return np.where(np.isnan(capacity), 0.0, capacity)
