"""The power system inside the allocation LP (``docs/architecture.md``, "Power system").

:func:`add_power` adds, for every region r, technology g and year t after the base year:

- ``N[r, g, t]`` new capacity built since the base year, GW, ``0 <= N <= headroom`` (potential
  minus the existing fleet) and ``0 <= N[t] - N[t-1] <= build rate`` (what is built stays);
- ``G[r, g, t]`` generation of dispatchable technologies (fossil, with and without capture),
  TWh, ``G <= max cf x 8.76 x (existing + N)``; must-run technologies (nuclear, hydro, wind,
  solar, biomass) generate ``cf x 8.76 x (existing + N)``, substituted into the rows;
- ``I[r, t]`` imports from and ``X[r, t]`` exports to outside the study area, TWh, within
  their line limits (imports at least ``import_min``, what today's lines carry); ``Ti[r, t]``,
  ``To[r, t]`` trade in and out between study regions, within each region's limit, summing to
  zero over regions every year;

and the rows ``sum_g G + I - X + Ti - To = demand`` (energy balance), ``sum_g firm_g x
(existing + N) >= peak`` (firm capacity), ``E[r, power, t] = sum_g factor x G`` (power CO2,
Mt = t/MWh x TWh) and ``E[r, indirect, t] = intensity_t x I`` (indirect emissions follow the
imports). Costs: :data:`LEVELISED` x :data:`COST_WEIGHT` per MWh, in million yuan per TWh.
All rows belong to the family ``power system`` (relaxable in the elastic copy). Rows are
placed year by year and region by region (:func:`_key`), each block built for all cells at once.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gridcarbon.allocation.matrix import NONE
from gridcarbon.allocation.power_data import HOURS_TWH, TECHNOLOGIES, PowerSystem
from gridcarbon.core.sectors import EMITTING
from gridcarbon.core.units import T_PER_MT

FAMILY = "power system"
#: ASSUMPTION: levelised cost of generation, yuan/MWh (orders of magnitude of CEC / IEA 2023 China
#: figures: coal 350, gas 550, nuclear 400, hydro 300, onshore wind 250, offshore 400, solar 220,
#: biomass 600, with capture +200); imports 400 (delivered UHV price), trade 50 (wheeling)
LEVELISED = {"coal": 350.0, "gas": 550.0, "nuclear": 400.0, "hydro": 300.0, "onshore_wind": 250.0,
             "offshore_wind": 400.0, "solar": 220.0, "biomass": 600.0, "coal_ccs": 550.0, "gas_ccs": 750.0}
IMPORT_COST, TRADE_COST = 400.0, 50.0
#: ASSUMPTION: the allocation's marginal abatement cost curve already prices the power sector's
#: abatement; the block's levelised costs only order technologies and flows, at 1 % weight, so
#: they do not count that abatement twice
COST_WEIGHT = 0.01
#: technologies with capture, and the capture rate their residual emission factors in
#: ``technologies.csv`` assume (``ALLOCATION_SOURCES.md``: "with 90 % capture coal 0.10 and gas
#: 0.042" t CO2/MWh, i.e. gross 1.0 and 0.42 after the heat-rate penalty)
CAPTURE, CAPTURE_RATE = ("coal_ccs", "gas_ccs"), 0.9
#: row slots per region and year after the 2 per technology (build, capacity): balance, firm, CO2, indirect
_SLOTS = 4


@dataclass
class PowerVars:
    """The block's column ids: N, G (R, G, T); I, X, Ti, To (R, T); :data:`NONE` where none (and at t = 0)."""

    system: PowerSystem
    N: np.ndarray
    G: np.ndarray
    flows: dict[str, np.ndarray]


def captured_factor(ps: PowerSystem) -> np.ndarray:
    """(R, G, T) t CO2 captured per MWh generated (= Mt/TWh): gross factor x :data:`CAPTURE_RATE`
    = residual factor x rate / (1 - rate) for the :data:`CAPTURE` technologies, 0 elsewhere."""
    on = np.isin(TECHNOLOGIES, CAPTURE)[None, :, None]
    return np.where(on, ps.factor * CAPTURE_RATE / (1.0 - CAPTURE_RATE), 0.0)


def _vars(m, hi: np.ndarray, made: np.ndarray | None = None, lo: np.ndarray | None = None) -> np.ndarray:
    """Columns for the cells of ``hi`` with t > 0 (where ``made``), within ``lo`` (default 0) and ``hi``."""
    cells = np.ones(hi.shape, dtype=bool) if made is None else made.copy()
    cells[..., 0] = False
    ids = np.full(hi.shape, NONE)
    ids[cells] = m.columns(0.0 if lo is None else lo[cells], hi[cells])
    return ids


def add_power(lp) -> None:
    """Add the power block to ``lp`` (its problem's ``power``) with its cost (million yuan); set ``lp.power``."""
    ps: PowerSystem = lp.p.power
    n_t = len(ps.years)
    builds = np.repeat((ps.headroom.max(axis=2) > 0)[:, :, None], n_t, axis=2)
    runs = (ps.dispatchable[None, :] & ((ps.existing.max(axis=2) > 0) | builds[:, :, 0]))[:, :, None]
    pv = PowerVars(ps, N=_vars(lp.m, ps.headroom, builds),
                   G=_vars(lp.m, np.full(ps.existing.shape, np.inf), np.repeat(runs, n_t, axis=2)), flows={})
    for name, cap in (("I", ps.import_cap), ("X", ps.export_cap),
                      ("Ti", np.repeat(ps.trade_cap[:, None], n_t, 1)),
                      ("To", np.repeat(ps.trade_cap[:, None], n_t, 1))):
        pv.flows[name] = _vars(lp.m, cap, lo=ps.import_min if name == "I" else None)
    lp.power = pv
    _technology_rows(lp.m, pv)
    _region_rows(lp, pv)
    years = np.arange(1, n_t)
    lp.m.rows(np.zeros(n_t - 1), 0.0, [*((pv.flows["Ti"][r, 1:], 1.0) for r in range(len(ps.regions))),
                                       *((pv.flows["To"][r, 1:], -1.0) for r in range(len(ps.regions)))],
              order=_key(ps, len(ps.regions), years, 0), family=FAMILY, year=years)
    _cost(lp.m, pv)


def _key(ps: PowerSystem, r, t, slot):
    """Row order within the block: year, then region (the trade row after all regions), then slot."""
    n_r, per = len(ps.regions), 2 * len(TECHNOLOGIES) + _SLOTS
    return (np.asarray(t) * (n_r + 1) + np.asarray(r)) * per + np.asarray(slot)


def _technology_rows(m, pv: PowerVars) -> None:
    """Build-rate rows ``0 <= N[t] - N[t-1] <= rate`` and capacity rows ``G - scale N <= scale x existing``."""
    ps = pv.system
    scale = ps.cf * HOURS_TWH                                           # (R, G) TWh per GW
    r, g, t = np.nonzero(pv.N >= 0)
    m.rows(np.zeros(len(t)), ps.build_rate[r, g], [(pv.N[r, g, t], 1.0), (pv.N[r, g, t - 1], -1.0)],
           order=_key(ps, r, t, 2 * g), family=FAMILY, year=t)
    r, g, t = np.nonzero((pv.G >= 0) & ps.dispatchable[None, :, None])
    m.rows(np.full(len(t), -np.inf), scale[r, g] * ps.existing[r, g, t],
           [(pv.G[r, g, t], 1.0), (pv.N[r, g, t], -scale[r, g])], order=_key(ps, r, t, 2 * g + 1),
           family=FAMILY, year=t)


def _region_rows(lp, pv: PowerVars) -> None:
    """Energy balance, firm capacity (where the existing fleet falls short), power CO2 and indirect rows."""
    ps, m = pv.system, lp.m
    n_r, n_g, n_t = ps.existing.shape
    r, t = (a.ravel() for a in np.meshgrid(np.arange(n_r), np.arange(1, n_t), indexing="ij"))
    slot = 2 * n_g
    scale = ps.cf * HOURS_TWH
    must_run = ~ps.dispatchable
    fixed = (scale[:, must_run, None] * ps.existing[:, must_run, :]).sum(axis=1)[r, t]
    gen = [(pv.G[r, g, t], 1.0) if ps.dispatchable[g] else (pv.N[r, g, t], scale[r, g]) for g in range(n_g)]
    f = {k: v[r, t] for k, v in pv.flows.items()}
    need = ps.demand[r, t] - fixed
    m.rows(need, need, [*gen, (f["I"], 1.0), (f["X"], -1.0), (f["Ti"], 1.0), (f["To"], -1.0)],
           order=_key(ps, r, t, slot), family=FAMILY, year=t)
    short = ps.peak[r, t] - np.einsum("g,rg->r", ps.firm, ps.existing[r, :, t])
    s = short > 0        # the existing fleet alone may already cover the peak
    m.rows(short[s], np.inf, [(pv.N[r[s], g, t[s]], ps.firm[g]) for g in range(n_g) if ps.firm[g] > 0],
           order=_key(ps, r[s], t[s], slot + 1), family=FAMILY, year=t[s])
    co2 = [(lp.E[r, EMITTING.index("power"), t], 1.0),
           *((pv.G[r, g, t], -ps.factor[r, g, t]) for g in range(n_g) if ps.fossil[g])]
    m.rows(np.zeros(len(t)), 0.0, co2, order=_key(ps, r, t, slot + 2), family=FAMILY, year=t)
    m.rows(np.zeros(len(t)), 0.0, [(lp.E[r, EMITTING.index("indirect"), t], 1.0), (f["I"], -ps.intensity[t])],
           order=_key(ps, r, t, slot + 3), family=FAMILY, year=t)


def _cost(m, pv: PowerVars) -> None:
    ps, levelised = pv.system, np.array([LEVELISED[g] for g in TECHNOLOGIES])
    m.objective(pv.G, np.broadcast_to(COST_WEIGHT * levelised[None, :, None], pv.G.shape))
    must_run = np.broadcast_to(~ps.dispatchable[None, :, None], pv.N.shape)
    per_gw = np.broadcast_to((COST_WEIGHT * levelised[None, :] * ps.cf * HOURS_TWH)[:, :, None], pv.N.shape)
    m.objective(np.where(must_run, pv.N, NONE), per_gw)
    m.objective(pv.flows["I"], COST_WEIGHT * IMPORT_COST)
    m.objective(pv.flows["Ti"], COST_WEIGHT * TRADE_COST)


@dataclass(frozen=True)
class PowerSolution:
    """Solved power system, base year from the calibration: capacity GW, generation TWh, CO2 Mt
    (``emissions`` after capture, ``captured`` the CO2 the capture plants send to storage)."""

    system: PowerSystem
    capacity: np.ndarray     # (R, G, T)
    generation: np.ndarray   # (R, G, T)
    emissions: np.ndarray    # (R, G, T) Mt
    captured: np.ndarray     # (R, G, T) Mt captured and stored (capture technologies)
    flows: dict[str, np.ndarray]   # I, X, Ti, To (R, T) TWh


def read_power(pv: PowerVars, x: np.ndarray, zero_tol: float) -> PowerSolution:
    """Solution values of the block from the column values ``x``."""
    ps = pv.system

    def values(ids: np.ndarray, base: np.ndarray) -> np.ndarray:
        out = np.where(ids >= 0, x[np.maximum(ids, 0)], 0.0)
        out[..., 0] = base
        out[np.abs(out) < zero_tol] = 0.0
        return out
    capacity = ps.existing + values(pv.N, np.zeros(ps.existing.shape[:2]))
    generation = values(pv.G, ps.gen0)
    must_run = ~ps.dispatchable
    generation[:, must_run, 1:] = (ps.cf[:, :, None] * HOURS_TWH * capacity)[:, must_run, 1:]
    base = {"I": ps.imports0, "X": ps.exports0, "Ti": np.maximum(ps.trade0, 0), "To": np.maximum(-ps.trade0, 0)}
    flows = {k: values(v, base[k]) for k, v in pv.flows.items()}
    return PowerSolution(ps, capacity, generation, generation * ps.factor, generation * captured_factor(ps), flows)


def coal_unit_generation(solution: PowerSolution, year: int) -> pd.DataFrame:
    """Generation (TWh) and CO2 (t) of every coal unit (``id``, ``region``) operating in ``year``:
    the region's coal generation shared by the operating units in proportion to capacity, each
    at its own emission factor (their sum is the region's coal CO2, as the fleet factor is their
    capacity-weighted mean)."""
    s, t = solution.system, solution.system.years.index(year)
    units = s.coal_units[(s.coal_units["start"] <= year) & (s.coal_units["retire"] > year)]
    by_region = dict(zip(s.regions, solution.generation[:, TECHNOLOGIES.index("coal"), t]))
    share = units["capacity_mw"] / units.groupby("region")["capacity_mw"].transform("sum")
    gen = units["region"].map(by_region) * share
    return pd.DataFrame({"id": units["id"], "region": units["region"], "generation_twh": gen,
                         "emissions_t": gen * units["factor_t_per_mwh"] * T_PER_MT})


def unit_generation(solution: PowerSolution, year: int) -> pd.DataFrame:
    """Generation (TWh) and CO2 (t) of every fossil generator in ``year``.

    Coal per real unit (``id``): :func:`coal_unit_generation`. Other fossil technologies as one
    row per region (``id`` = ``region/technology``).
    """
    s, t = solution.system, solution.system.years.index(year)
    rows = [coal_unit_generation(solution, year)]
    rows[0].insert(2, "technology", "coal")
    for g in np.flatnonzero(s.fossil):
        if TECHNOLOGIES[g] != "coal":
            rows.append(pd.DataFrame({"id": [f"{r}/{TECHNOLOGIES[g]}" for r in s.regions], "region": s.regions,
                                      "technology": TECHNOLOGIES[g], "generation_twh": solution.generation[:, g, t],
                                      "emissions_t": solution.emissions[:, g, t] * T_PER_MT}))
    return pd.concat(rows, ignore_index=True)
