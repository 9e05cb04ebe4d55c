"""The power system inside the allocation LP (``docs/architecture.md``, "Power system").

:func:`add_power` adds, for every region r, technology g and year t after the base year:

- ``N[r, g, t]`` new capacity built since the base year, GW, ``0 <= N <= headroom`` (potential
  minus the existing fleet) and ``0 <= N[t] - N[t-1] <= build rate`` (what is built stays);
- ``G[r, g, t]`` generation of dispatchable technologies (fossil, with and without capture),
  TWh, ``G <= max cf x 8.76 x (existing + N)``; must-run technologies (nuclear, hydro, wind,
  solar, biomass) generate ``cf x 8.76 x (existing + N)``, substituted into the rows;
- ``I[r, t]`` imports from and ``X[r, t]`` exports to outside the study area, TWh, within
  their line limits; ``Ti[r, t]``, ``To[r, t]`` trade in and out between study regions, within
  each region's limit, summing to zero over regions every year;

and the rows ``sum_g G + I - X + Ti - To = demand`` (energy balance), ``sum_g firm_g x
(existing + N) >= peak`` (firm capacity), ``E[r, power, t] = sum_g factor x G`` (power CO2,
Mt = t/MWh x TWh) and ``E[r, indirect, t] = intensity_t x I`` (indirect emissions follow the
imports). Costs: :data:`LEVELISED` x :data:`COST_WEIGHT` per MWh, in million yuan per TWh.
All rows belong to the family ``power system`` (relaxable in the elastic copy).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

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


@dataclass
class PowerVars:
    """The block's variables as object arrays: N, G (R, G, T); I, X, Ti, To (R, T); slot 0 None."""

    system: PowerSystem
    N: np.ndarray
    G: np.ndarray
    flows: dict[str, np.ndarray]


def _linear(terms) -> LinearExpression:
    return LinearExpression([MonomialTermExpression((float(c), v)) for c, v in terms])


def _vars(lp, name: str, hi: np.ndarray, made: np.ndarray | None = None) -> np.ndarray:
    """Non-negative variables for the cells of ``hi`` with t > 0 (where ``made``), bounded above by ``hi``."""
    cells = [c for c in np.ndindex(hi.shape) if c[-1] > 0 and (made is None or made[c])]
    bounds = [(0.0, None if np.isinf(hi[c]) else float(hi[c])) for c in cells]
    var = pyo.Var(range(len(cells)), domain=pyo.NonNegativeReals, bounds=lambda _m, n: bounds[n])
    lp.model.add_component(name, var)
    out = np.full(hi.shape, None, dtype=object)
    for cell, data in zip(cells, var.values()):
        out[cell] = data
    return out


def add_power(lp) -> LinearExpression:
    """Add the power block to ``lp`` (its problem's ``power``), set ``lp.power``; return its cost (million yuan)."""
    ps: PowerSystem = lp.p.power
    n_t = len(ps.years)
    builds = np.repeat((ps.headroom.max(axis=2) > 0)[:, :, None], n_t, axis=2)
    runs = (ps.dispatchable[None, :] & ((ps.existing.max(axis=2) > 0) | builds[:, :, 0]))[:, :, None]
    pv = PowerVars(ps, N=_vars(lp, "power_N", ps.headroom, builds),
                   G=_vars(lp, "power_G", np.full(ps.existing.shape, np.inf), np.repeat(runs, n_t, axis=2)),
                   flows={})
    for name, cap in (("I", ps.import_cap), ("X", ps.export_cap),
                      ("Ti", np.repeat(ps.trade_cap[:, None], n_t, 1)),
                      ("To", np.repeat(ps.trade_cap[:, None], n_t, 1))):
        pv.flows[name] = _vars(lp, f"power_{name}", cap)
    lp.power = pv
    for t in range(1, n_t):
        _region_rows(lp, pv, t)
        lp.add(_linear([*((1.0, v) for v in pv.flows["Ti"][:, t]), *((-1.0, v) for v in pv.flows["To"][:, t])]),
               0.0, 0.0, family=FAMILY, year=t)
    return _cost(pv)


def _region_rows(lp, pv: PowerVars, t: int) -> None:
    ps = pv.system
    for r in range(len(ps.regions)):
        balance, fixed = [], 0.0   # generation terms and the fixed generation of the existing fleet (TWh)
        for g in range(len(TECHNOLOGIES)):
            scale, new, run = ps.cf[r, g] * HOURS_TWH, pv.N[r, g, t], pv.G[r, g, t]
            if new is not None:
                before = [(-1.0, pv.N[r, g, t - 1])] if t > 1 else []
                lp.add(_linear([(1.0, new), *before]), 0.0, ps.build_rate[r, g], family=FAMILY, year=t)
            if ps.dispatchable[g]:
                if run is not None:
                    lp.add(_linear([(1.0, run), *([(-scale, new)] if new is not None else [])]),
                           None, scale * ps.existing[r, g, t], family=FAMILY, year=t)
                    balance.append((1.0, run))
            else:   # must-run: generation = capacity x capacity factor
                fixed += scale * ps.existing[r, g, t]
                balance += [(scale, new)] if new is not None else []
        f = pv.flows
        balance += [(1.0, f["I"][r, t]), (-1.0, f["X"][r, t]), (1.0, f["Ti"][r, t]), (-1.0, f["To"][r, t])]
        lp.add(_linear(balance), ps.demand[r, t] - fixed, ps.demand[r, t] - fixed, family=FAMILY, year=t)
        short = ps.peak[r, t] - float(ps.firm @ ps.existing[r, :, t])
        if short > 0:   # the existing fleet alone may already cover the peak
            lp.add(_linear((ps.firm[g], pv.N[r, g, t]) for g in range(len(TECHNOLOGIES))
                           if ps.firm[g] > 0 and pv.N[r, g, t] is not None), short, None, family=FAMILY, year=t)
        power = [(1.0, lp.E[r, EMITTING.index("power"), t]),
                 *((-ps.factor[r, g, t], pv.G[r, g, t]) for g in range(len(TECHNOLOGIES))
                   if ps.fossil[g] and pv.G[r, g, t] is not None)]
        lp.add(_linear(power), 0.0, 0.0, family=FAMILY, year=t)
        lp.add(_linear([(1.0, lp.E[r, EMITTING.index("indirect"), t]), (-ps.intensity[t], f["I"][r, t])]),
               0.0, 0.0, family=FAMILY, year=t)


def _cost(pv: PowerVars) -> LinearExpression:
    ps, levelised = pv.system, [LEVELISED[g] for g in TECHNOLOGIES]
    terms = [(COST_WEIGHT * levelised[c[1]], v) for c, v in np.ndenumerate(pv.G) if v is not None]
    terms += [(COST_WEIGHT * levelised[c[1]] * ps.cf[c[:2]] * HOURS_TWH, v) for c, v in np.ndenumerate(pv.N)
              if v is not None and not ps.dispatchable[c[1]]]
    terms += [(COST_WEIGHT * IMPORT_COST, v) for v in pv.flows["I"].ravel() if v is not None]
    terms += [(COST_WEIGHT * TRADE_COST, v) for v in pv.flows["Ti"].ravel() if v is not None]
    return _linear(terms)


@dataclass(frozen=True)
class PowerSolution:
    """Solved power system, base year from the calibration: capacity GW, generation TWh, CO2 Mt."""

    system: PowerSystem
    capacity: np.ndarray     # (R, G, T)
    generation: np.ndarray   # (R, G, T)
    emissions: np.ndarray    # (R, G, T) Mt
    flows: dict[str, np.ndarray]   # I, X, Ti, To (R, T) TWh


def read_power(pv: PowerVars, zero_tol: float) -> PowerSolution:
    """Solution values of the block (after the solver loaded them)."""
    ps = pv.system

    def values(var: np.ndarray, base: np.ndarray) -> np.ndarray:
        out = np.array([0.0 if v is None else v.value for v in var.ravel()]).reshape(var.shape)
        out[..., 0] = base
        out[np.abs(out) < zero_tol] = 0.0
        return out
    capacity = ps.existing + values(pv.N, np.zeros(ps.existing.shape[:2]))
    generation = values(pv.G, ps.gen0)
    must_run = ~ps.dispatchable
    generation[:, must_run, 1:] = (ps.cf[:, :, None] * HOURS_TWH * capacity)[:, must_run, 1:]
    base = {"I": ps.imports0, "X": ps.exports0, "Ti": np.maximum(ps.trade0, 0), "To": np.maximum(-ps.trade0, 0)}
    flows = {k: values(v, base[k]) for k, v in pv.flows.items()}
    return PowerSolution(ps, capacity, generation, generation * ps.factor, flows)


def unit_generation(solution: PowerSolution, year: int) -> pd.DataFrame:
    """Generation (TWh) and CO2 (t) of every fossil generator in ``year``.

    Coal per real unit (``id``): the region's coal generation shared by the operating units
    in proportion to capacity, each at its own emission factor (their sum is the region's coal
    CO2, as the fleet factor is their capacity-weighted mean). Other fossil technologies as one
    row per region (``id`` = ``region/technology``).
    """
    s, t = solution.system, solution.system.years.index(year)
    units = s.coal_units[(s.coal_units["start"] <= year) & (s.coal_units["retire"] > year)]
    coal = TECHNOLOGIES.index("coal")
    by_region = dict(zip(s.regions, solution.generation[:, coal, t]))
    share = units["capacity_mw"] / units.groupby("region")["capacity_mw"].transform("sum")
    gen = units["region"].map(by_region) * share
    rows = [pd.DataFrame({"id": units["id"], "region": units["region"], "technology": "coal",
                          "generation_twh": gen, "emissions_t": gen * units["factor_t_per_mwh"] * T_PER_MT})]
    for g in np.flatnonzero(s.fossil):
        if TECHNOLOGIES[g] != "coal":
            rows.append(pd.DataFrame({"id": [f"{r}/{TECHNOLOGIES[g]}" for r in s.regions], "region": s.regions,
                                      "technology": TECHNOLOGIES[g], "generation_twh": solution.generation[:, g, t],
                                      "emissions_t": solution.emissions[:, g, t] * T_PER_MT}))
    return pd.concat(rows, ignore_index=True)
