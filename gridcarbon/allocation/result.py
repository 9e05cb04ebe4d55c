"""The allocation's result: totals in t CO2/yr with how they were obtained, after the mass balance.

:func:`build_result` converts a solve (Mt) to the tidy totals table (t) and checks first that
the yearly sums meet the pathway (:func:`mass_balance`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from gridcarbon.allocation.lp import Solved
from gridcarbon.allocation.power import PowerSolution
from gridcarbon.allocation.problem import Problem
from gridcarbon.core.errors import MassBalanceError
from gridcarbon.core.sectors import EMITTING, REMOVALS, SECTORS
from gridcarbon.core.units import T_PER_MT

#: ASSUMPTION: the yearly sums may differ from the pathway by 1e-6 of it (about 2 kt in 2.4 Gt):
#: well above what the solver's feasibility tolerance leaves, well below any reported figure.
#: The diagnosis uses it too, for the base year against the baseline.
BALANCE_RTOL = 1e-6
#: ASSUMPTION: residuals are relative to at least 1 t, so years with a zero pathway (no
#: removals) are compared in absolute terms instead of dividing by zero
BALANCE_FLOOR_T = 1.0


@dataclass
class AllocationResult:
    """Allocated totals and how they were obtained.

    ``totals``: tidy table ``region, sector, year, allocated_t`` (t CO2/yr; removals
    negative; all sectors). ``pathway``: the annual pathway
    (:func:`gridcarbon.allocation.annual_pathway`). ``objective``: yuan. ``timings``:
    seconds, ``build_s`` (pyomo model and its translation to HiGHS) and ``solve_s``
    (HiGHS). ``target_shares``: per region and year, each principle's share, their blend
    and the phased-in target. ``provenance``: scenario name and hash, solver and version.
    """

    totals: pd.DataFrame
    pathway: pd.DataFrame
    status: str
    objective: float
    timings: dict[str, float]
    target_shares: pd.DataFrame
    residual_rel: float = 0.0
    size: dict[str, int] = field(default_factory=dict)
    provenance: dict[str, str] = field(default_factory=dict)
    power: PowerSolution | None = None   # the solved power system (gridcarbon.allocation.power)

    def to_dataarray(self) -> xr.DataArray:
        """Totals as a DataArray (region, sector, year) named ``allocated_t``."""
        totals = self.totals
        array = (totals.set_index(["region", "sector", "year"])["allocated_t"].to_xarray()
                 .reindex(region=pd.unique(totals["region"]), sector=pd.unique(totals["sector"])))
        array.attrs.update(units="t CO2 / yr", long_name="allocated CO2 emissions (removals negative)")
        return array

    def summary(self) -> dict:
        """JSON-ready facts for a manifest."""
        return {**self.provenance, "status": self.status, "objective_yuan": float(self.objective),
                "timings_s": {k: round(v, 4) for k, v in self.timings.items()},
                "mass_balance_residual_rel": float(self.residual_rel), "lp_size": dict(self.size),
                "regions": sorted(self.totals["region"].unique().tolist()),
                "years": [int(self.totals["year"].min()), int(self.totals["year"].max())]}


def build_result(p: Problem, solved: Solved, *, provenance: dict[str, str]) -> AllocationResult:
    """The result of an optimal solve, in t CO2/yr; raises :class:`MassBalanceError` (see :func:`mass_balance`)."""
    residual = mass_balance(p, solved)
    values = np.concatenate([solved.E, -solved.R], axis=1) * T_PER_MT
    names = EMITTING + REMOVALS
    array = xr.DataArray(values, dims=("region", "sector", "year"),
                         coords={"region": p.regions, "sector": names, "year": p.years})
    totals = (array.sel(sector=list(SECTORS)).to_dataframe(name="allocated_t").reset_index()
              [["region", "sector", "year", "allocated_t"]])
    return AllocationResult(totals=totals, pathway=p.pathway, status=solved.status, objective=solved.objective,
                            timings=solved.timings, target_shares=p.target_shares, residual_rel=residual,
                            size=solved.size, provenance=provenance, power=solved.power)


def mass_balance(p: Problem, solved: Solved) -> float:
    """Largest relative residual of the yearly sums; raise :class:`MassBalanceError` above :data:`BALANCE_RTOL`."""
    worst = 0.0
    for what, got, want in (("gross", solved.E.sum(axis=(0, 1)), p.gross),
                            ("removals", solved.R.sum(axis=(0, 1)), p.removals)):
        residual = np.abs(got - want) / np.maximum(np.abs(want), BALANCE_FLOOR_T / T_PER_MT)
        t = int(np.argmax(residual))
        if residual[t] > BALANCE_RTOL:
            raise MassBalanceError(f"allocated {what} {got[t] * T_PER_MT:.6g} t in {p.years[t]} differ from the "
                                   f"pathway {want[t] * T_PER_MT:.6g} t (relative residual {residual[t]:.2g})")
        worst = max(worst, float(residual[t]))
    return worst
