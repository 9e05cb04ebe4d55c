"""Fossil CCS on the fleet: retrofits that lower a plant's own emissions, and capture booked
against its throughput.

A retrofit is one of the answers to a falling emission target (after utilisation, beside
retirement): the plant keeps its throughput (``potential_t``, pre-capture) and emits only
``1 - capture_rate`` of what it burns while capture runs. Throughput, not emissions after
capture, decides whether new plants are needed, so a retrofit never causes a build.

Each year (:func:`dispatch`) the region x sector target ``T`` (t CO2/yr after capture) is
met by one utilisation ``u`` shared by its plants and, where capture would take the group
below its target even at the highest utilisation, by capturing less:

- ``T <= U x P_eff``: ``u = T / P_eff``, full capture (``P_eff`` = sum of
  ``potential_t x (1 - capture_rate)`` for capturing plants, ``potential_t`` otherwise);
- ``T <= U x P``: ``u = U``, capture throttled to what the target leaves (``P`` = sum of
  ``potential_t``);
- else: ``u = T / P``, no capture (the fleet could not grow to meet the target),

with ``U = build_utilisation``. Per plant-year: pre-capture ``u x potential_t``,
``captured_t`` <= ``capture_rate`` x pre-capture, ``emission_t`` = pre-capture - captured.
Captured CO2 is reported as captured, never as a removal: the ``beccs`` removal sector is
biomass with storage on the storage sites (:mod:`.storage`).
"""
from __future__ import annotations

import numpy as np

from gridcarbon.config import EvolutionSpec
from gridcarbon.evolution.fleet import Fleet, group_keys, key_group
from gridcarbon.evolution.storage import Storage

#: oldest plant (years) that is retrofitted with CCS: ASSUMPTION, a capture unit needs some
#: 15 years of plant life left to repay its capital, and coal units and blast furnaces are
#: designed for ~40 years
RETROFIT_MAX_AGE = 25
#: years of full-load capture the plant's storage site must still hold for a retrofit:
#: ASSUMPTION, the same 15-year payback
RETROFIT_MIN_YEARS = 15
#: highest group utilisation a retrofit may leave (1 = base-year output): ASSUMPTION, a plant
#: is retrofitted to keep running, not to run harder than today
RETROFIT_MAX_UTILISATION = 1.0


def effective(fleet: Fleet, rows: np.ndarray, rules: EvolutionSpec) -> np.ndarray:
    """Emissions (t/yr) of the fleet's ``rows`` (mask) at utilisation 1 with capture running where it runs."""
    return fleet["potential_t"][rows] * np.where(fleet["capturing"][rows], 1.0 - rules.capture_rate, 1.0)


def reserve_capture(fleet: Fleet, storage: Storage, year: int, rules: EvolutionSpec) -> np.ndarray:
    """Decide which CCS plants capture in ``year``; returns each site's room left (t).

    A plant (in id order) captures when its site still holds its largest possible capture
    of the year (``potential_t x capture_rate x build_utilisation``); otherwise capture stops there.
    """
    room = storage.room(year)
    capturing = np.zeros(len(fleet), bool)
    ccs = np.flatnonzero(fleet.active() & fleet["ccs"])
    site, potential = fleet["site"], fleet["potential_t"]
    for i in ccs[np.argsort(fleet["id"][ccs], kind="stable")]:
        need = _max_capture(potential[i], rules)
        if site[i] >= 0 and room[site[i]] >= need:
            room[site[i]] -= need
            capturing[i] = True
    fleet.columns["capturing"] = capturing
    return room


def retrofit(fleet: Fleet, year: int, sel: np.ndarray, target: float, storage: Storage, room: np.ndarray,
             rules: EvolutionSpec) -> None:
    """Retrofit the largest eligible plants of ``sel`` (mask of one region x sector) while their
    utilisation ``target / P_eff`` is below ``retire_utilisation``; ``room`` (t per site) shrinks
    by what each retrofit reserves."""
    potential = effective(fleet, sel, rules).sum()
    if target <= 0 or potential <= 0:
        return
    pot = fleet["potential_t"]
    rows = np.flatnonzero(sel & ~fleet["ccs"] & (year - fleet["year_built"] <= RETROFIT_MAX_AGE))
    rows = rows[np.lexsort((fleet["id"][rows].astype(str), -pot[rows]))]
    sites = storage.reach_site[fleet["cell"][rows]]
    for i, site in zip(rows[sites >= 0], sites[sites >= 0]):
        if target / potential >= rules.retire_utilisation:
            break
        cut = pot[i] * rules.capture_rate
        need = _max_capture(pot[i], rules)
        if target / (potential - cut) > RETROFIT_MAX_UTILISATION or room[site] < need * RETROFIT_MIN_YEARS:
            continue
        room[site] -= need
        potential -= cut
        fleet["ccs"][i] = fleet["capturing"][i] = True
        fleet["site"][i] = site
        fleet.log(year, np.array([i]), "retrofitted")


def dispatch(fleet: Fleet, targets: dict[tuple[int, str], float], rules: EvolutionSpec) -> None:
    """Set utilisation, emission_t and captured_t of every active plant (module docstring) so
    each (region_pos, sector) of ``targets`` emits its target exactly; plants of groups
    without a target keep their emissions."""
    c = fleet.columns
    active = fleet.active()
    pot = np.where(active, c["potential_t"], 0.0)
    cap = np.where(c["capturing"], pot * rules.capture_rate, 0.0)
    uniq, inv = np.unique(group_keys(fleet), return_inverse=True)
    p_all = np.bincount(inv, weights=pot, minlength=uniq.size)
    c_all = np.bincount(inv, weights=cap, minlength=uniq.size)
    want = np.array([targets.get(key_group(k), np.nan) for k in uniq])
    u, s = _operating_point(np.nan_to_num(want), p_all, c_all, rules.build_utilisation)
    covered = np.isfinite(want)[inv] & active
    captured = np.where(covered, u[inv] * s[inv] * cap, 0.0)
    pre = np.where(covered, u[inv] * pot, np.where(active, c["emission_t"], 0.0))
    c["utilisation"] = np.where(covered, u[inv], np.where(active, c["utilisation"], 0.0))
    c["captured_t"] = captured
    c["emission_t"] = pre - captured


def _operating_point(target: np.ndarray, p_all: np.ndarray, c_all: np.ndarray, u_max: float):
    """Utilisation ``u`` and capture share ``s`` (0..1) per group (module docstring)."""
    p_eff = p_all - c_all
    with np.errstate(divide="ignore", invalid="ignore"):
        full = target <= u_max * p_eff
        throttled = ~full & (target <= u_max * p_all)
        u = np.where(full, target / p_eff, np.where(throttled, u_max, target / p_all))
        s = np.where(full, 1.0, np.where(throttled, (p_all - target / u_max) / c_all, 0.0))
    return np.nan_to_num(u, posinf=0.0), np.clip(np.nan_to_num(s), 0.0, 1.0)


def book_capture(fleet: Fleet, storage: Storage, year: int) -> None:
    """Book this year's captured_t of the fleet into the storage account."""
    on = fleet["captured_t"] > 0
    storage.book(year, fleet["site"][on], fleet["captured_t"][on])


def _max_capture(potential_t: float, rules: EvolutionSpec) -> float:
    """Largest capture (t/yr) of a plant in one year: at the highest utilisation the fleet runs."""
    return float(potential_t) * rules.capture_rate * max(rules.build_utilisation, 1.0)
