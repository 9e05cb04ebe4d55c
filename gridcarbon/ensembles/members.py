"""One ensemble member: a scenario variant run against the study area every member shares.

What no varied assumption touches is built once (:func:`shared`): the grid, inventory,
landscape, drivers and the suitability fit (the assumption table changes rule settings,
scale factors and weights, none of the fit's inputs). A member (:func:`run_member`) builds
its own evolution context (its rules, seed and scale factors), runs the coupling loop and the
evolution, and keeps only what the aggregation reads: the exported years' layers (one
float32 ``.npy`` file per member, never gathered in memory), its totals and its named outputs.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from gridcarbon.config import Scenario
from gridcarbon.core import memory
from gridcarbon.core.errors import InfeasibleAllocationError, MassBalanceError
from gridcarbon.core.sectors import EMITTING, GRIDDED, POINT_SECTORS
from gridcarbon.coupling import agree
from gridcarbon.evolution import EvolutionContext, evolve
from gridcarbon.job import RESIDUAL_RTOL, Prepared, parent_totals, prepare
from gridcarbon.output.layers import named_layers
from gridcarbon.suitability.fitting import Suitability

#: share of the gross emitting cells whose emissions make the "top cells" output
#: (ASSUMPTION: the top 5 % of cells, the hotspot share named in issue 17 and CHRED studies)
TOP_SHARE = 0.05
#: layer names of a member's file, in order (:func:`gridcarbon.output.layers.named_layers`)
LAYERS = [*GRIDDED, "total", "net"]


@dataclass(frozen=True)
class Shared:
    """What every member reads: the resolved scenario and its prepared study area (suitability
    surfaces only: the fitted models stay with the caller)."""

    scenario: Scenario
    prepared: Prepared

    @property
    def exported(self) -> list[int]:
        return [self.scenario.base_year, *self.scenario.years]


def shared(sc: Scenario) -> Shared:
    """Prepare ``sc`` once for all its members (:func:`gridcarbon.job.prepare`)."""
    prep = prepare(sc)
    light = Suitability({}, prep.suitability.surfaces)
    return Shared(sc, replace(prep, suitability=light, context=replace(prep.context, suitability=light)))


@dataclass(frozen=True)
class Member:
    """A member's number, seed and scenario changes (``overrides`` for ``with_overrides``)."""

    index: int
    seed: int
    overrides: dict


@memory.without_huge_page_advice()
def run_member(common: Shared, member: Member, folder: str | Path | None = None) -> dict:
    """Run one member; write its layers to ``folder/member_<index>.npy`` when a folder is given.

    Returns ``{"index", "totals", "outputs", "infeasible"}``: totals (region, sector, year,
    allocated_t, t CO2/yr, every sector and year), the named outputs of :func:`outputs` and
    None. A member whose assumptions make the pathway infeasible (say, faster demand growth
    with longer-lived plants than the pathway leaves room for) is a result too, not a crash:
    it returns ``totals`` None, no outputs and the allocation's one-line diagnosis in
    ``infeasible``, and writes no layers.
    """
    sc = common.scenario.with_overrides(seed=member.seed, **member.overrides)
    prep = common.prepared
    ctx = EvolutionContext.build(prep.area.inventory, prep.area.landscape, prep.drivers, prep.suitability,
                                 spec=sc.evolution, seed=sc.seed, end_year=sc.end_year, assumptions=sc.assumptions)
    try:
        agreed = agree(sc, ctx, prep.drivers, parent=parent_totals(sc))
    except InfeasibleAllocationError as err:
        return {"index": member.index, "totals": None, "outputs": {}, "infeasible": "; ".join(err.conflicts)}
    keep = sorted({*common.exported, sc.end_year})
    evo = evolve(ctx, agreed.allocation.totals, keep_years=keep, dtype=np.float32)
    worst = evo.summary()["max_relative_residual"]
    if worst > RESIDUAL_RTOL:
        raise MassBalanceError(f"{sc.name} member {member.index}: a total is off by {worst:.3g} (relative)")
    if folder is not None:
        stack = np.stack([np.stack([named_layers(evo.layers[y])[n] for n in LAYERS]) for y in common.exported])
        np.save(Path(folder) / f"member_{member.index:04d}.npy", stack.astype(np.float32))
    base = prep.area.inventory.layers()
    if base.ndim == 2:  # held compact (a large grid): the outputs compare rectangles
        base = prep.area.grid.cell_index.expand(base)
    return {"index": member.index, "totals": agreed.allocation.totals[["region", "sector", "year", "allocated_t"]],
            "outputs": outputs(sc, agreed.allocation, evo, base), "infeasible": None}


def outputs(sc: Scenario, alloc, evo, base: np.ndarray) -> dict[str, float]:
    """The named outputs a sensitivity analysis ranks assumptions by, in the end year.

    ``gross_<region>_t`` (t CO2/yr, emitting sectors with ``indirect``, as the pathway), ``storage_used_t`` (t injected by the
    end year), ``forest_sink_t`` (t CO2/yr, magnitude), ``carbon_price_yuan_per_t``,
    ``top_cells_share`` (share of gross emissions in the top :data:`TOP_SHARE` of emitting
    cells) and ``new_cells_share_<sector>`` (share of a point sector's emissions in cells it
    did not occupy in the base year). ``base``: base-year (n_gridded, y, x) layers.
    """
    end = sc.end_year
    t = alloc.totals[alloc.totals.year == end]
    emitting = t[t.sector.isin(EMITTING)]
    out = {f"gross_{r}_t": float(v) for r, v in emitting.groupby("region").allocated_t.sum().items()}
    store = evo.storage
    out["storage_used_t"] = float(store[store.year == end].cumulative_t.sum()) if len(store) else 0.0
    out["forest_sink_t"] = float(-t[t.sector == "forest_sink"].allocated_t.sum())
    out["carbon_price_yuan_per_t"] = float(alloc.carbon_price().get(end, np.nan))
    gross = named_layers(evo.layers[end])["total"].ravel()
    cells = np.sort(gross[gross > 0])[::-1]
    top = max(1, int(np.ceil(TOP_SHARE * len(cells)))) if len(cells) else 0
    out["top_cells_share"] = float(cells[:top].sum() / cells.sum()) if len(cells) else 0.0
    for sector in POINT_SECTORS:
        i = GRIDDED.index(sector)
        now = evo.layers[end][i]
        out[f"new_cells_share_{sector}"] = float(now[base[i] <= 0].sum() / now.sum()) if now.sum() > 0 else 0.0
    return out


def member_totals(results: list[dict]) -> pd.DataFrame:
    """Every feasible member's totals in one table (``member`` column first)."""
    return pd.concat([r["totals"].assign(member=r["index"]) for r in results if r["infeasible"] is None],
                     ignore_index=True)
