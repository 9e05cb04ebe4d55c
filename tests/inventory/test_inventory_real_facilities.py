"""The built-in baselines hold the real plants: recall, counts, calibration factors, pipeline rows.

Recall (issue 13): of the operating GEM steel plants, operating clinker-making cement plants and
operating coal units of 300 MW or more inside the study area, the share whose 10 km cell holds
that sector in the built baseline.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridcarbon.inputs.facilities import (
    read_cement_plants,
    read_coal_units,
    read_steel_plants,
)
from gridcarbon.inputs.facility_co2 import operating_in
from gridcarbon.inventory.base import frame_coverage
from gridcarbon.inventory.builtin import build_baseline, calibration, sector_totals_t

#: issue 13's must-show figures
MIN_RECALL = 0.95
MIN_FACILITIES = {"yrd": 500, "china": 4000}
BIG_COAL_MW = 300.0


#: built baselines by region set; "china" is the session's ``china_baseline`` (:func:`national`)
BUILT: dict[str, tuple] = {}


@pytest.fixture(scope="module", autouse=True)
def national(china_baseline):
    BUILT["china"] = china_baseline


def baseline(region_set: str):
    """``build_baseline(region_set)`` (10 km), built once."""
    if region_set not in BUILT:
        BUILT[region_set] = build_baseline(region_set)
    return BUILT[region_set]


def real_plants(year: int) -> dict[str, pd.DataFrame]:
    """Per sector, the operating real plants the recall is measured on (lon, lat, region)."""
    coal = read_coal_units()
    coal = coal[operating_in(coal, year) & (coal.capacity_mw >= BIG_COAL_MW)]
    steel = read_steel_plants()
    steel = steel[operating_in(steel, year)].drop_duplicates("plant_id")
    cement = read_cement_plants()
    cement = cement[operating_in(cement, year) & (cement.plant_type != "grinding")]
    return {"power": coal, "steel": steel, "cement": cement}


def recall(region_set: str, *, strict: bool = False) -> dict[str, float]:
    """Share of real plants in the study area whose cell holds their sector.

    A plant whose cell lies outside every region (a coastal cell whose centre is at sea: the
    grid gives it no region, docs/architecture.md "Cell ownership") is looked up in the cell
    the gridding rule puts it in, the nearest cell of its own region; ``strict`` counts it as
    missed instead.
    """
    inv, _ = baseline(region_set)
    grid = inv.grid
    out = {}
    for sector, plants in real_plants(inv.year).items():
        plants = plants[plants.region.isin(list(grid.regions))].to_crs(grid.crs)
        row, col = grid.cell_of(plants.geometry.x.to_numpy(), plants.geometry.y.to_numpy())
        cell = np.where(row >= 0, row * grid.shape[1] + col, -1)
        inside = (row >= 0) & (grid.region_index.ravel()[np.maximum(cell, 0)] >= 0)
        if not strict:
            cell = np.where(inside, cell, frame_coverage(plants, grid, own_region=True).cell)
        hit = (cell >= 0) & (inv.layer(sector).ravel()[np.maximum(cell, 0)] > 0)
        out[sector] = float(np.where(inside | (not strict), hit, False).mean())
    return out


@pytest.mark.parametrize("region_set", ["yrd", "china"])
def test_base_year_recall_of_real_plants(region_set):
    got = recall(region_set)
    assert set(got) == {"power", "steel", "cement"}
    for sector, share in got.items():
        assert share >= MIN_RECALL, f"{region_set} {sector}: recall {share:.3f}"


@pytest.mark.parametrize("region_set", ["yrd", "china"])
def test_facility_counts_and_pipeline(region_set):
    inv, _ = baseline(region_set)
    fac = inv.facilities
    emitting = fac[fac.emission_t > 0]
    assert len(emitting) >= MIN_FACILITIES[region_set]
    assert fac.id.is_unique
    pipeline = fac[~fac.active.astype(bool)]
    assert len(pipeline) > 0 and (pipeline.emission_t == 0).all()
    assert {"construction", "permitted", "announced"} <= set(pipeline.status)
    assert not fac.status.eq("retired").any()
    assert fac.loc[fac.sector == "chemical", "source"].str.startswith("illustrative").all()
    assert not fac.loc[fac.sector != "chemical", "source"].str.startswith("illustrative").any()


@pytest.mark.parametrize("region_set", ["yrd", "china"])
def test_calibration_factors_per_province_and_sector(region_set):
    inv, _ = baseline(region_set)
    table = inv.calibration
    totals = sector_totals_t(calibration(region_set))
    by_sector = table.groupby("sector").calibrated_t.sum()
    for sector in ("power", "steel", "cement", "chemical"):
        assert by_sector[sector] == pytest.approx(totals[sector], rel=1e-9)
        mine = table[table.sector == sector]
        # one factor per sector: each plant and each province keeps its physical-activity share
        assert np.allclose(mine.factor, mine.factor.iloc[0], rtol=1e-12)
    assert set(table.region) <= set(inv.grid.regions)
    # the gridded sector layers hold exactly the calibrated point totals (no area part)
    sums = inv.totals.set_index(["region", "sector"]).value_t
    for r in table.itertuples():
        assert sums[r.region, r.sector] == pytest.approx(r.calibrated_t, rel=1e-9)


def test_yrd_factors_are_the_documented_findings():
    """README, "What is illustrative": YRD steel 316 Mt from activity vs 250 Mt, power 861 vs 980 Mt."""
    table = baseline("yrd")[0].calibration
    raw = table.groupby("sector").raw_t.sum() / 1e6
    assert raw["steel"] == pytest.approx(316.3, abs=0.5)
    assert raw["power"] == pytest.approx(861.5, abs=0.5)
