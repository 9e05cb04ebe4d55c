"""Property test (hypothesis): random valid pathways allocate with conserved totals.

A scenario-to-allocation check across the config and allocation stages, on the
calibration baseline of ``tests/allocation/allocation_fixtures.py``. Examples are few
(``max_examples`` 5).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridcarbon.core.sectors import EMITTING, REMOVALS


@pytest.fixture(scope="module")
def allocation_inputs():
    from allocation.allocation_fixtures import (
        generous_capacities,
        regional_baseline_from_calibration,
        yrd_drivers,
    )

    return regional_baseline_from_calibration(), yrd_drivers(), generous_capacities()


@st.composite
def milestone_pathways(draw):
    """Peak, a 2035 milestone, two rate periods and a net-zero year: always feasible in shape."""
    peak_year = draw(st.integers(2025, 2030))
    return {"unit": "Mt", "series": None,
            "peak": {"year": peak_year, "level": draw(st.floats(2390.0, 2600.0))},
            "milestones": [{"year": 2035, "change_from_peak": draw(st.floats(-0.3, 0.0))}],
            "rates": [{"start": 2036, "end": 2050, "annual": draw(st.floats(-0.10, -0.02))},
                      {"start": 2051, "end": 2060, "annual": draw(st.floats(-0.08, 0.0))}],
            "net_zero": {"year": 2060, "net": draw(st.floats(0.0, 100.0))},
            "removals_start": draw(st.integers(2025, peak_year + 5))}


@st.composite
def principle_weights(draw):
    raw = draw(st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4).filter(lambda w: sum(w) > 0.1))
    total = sum(raw)
    return dict(zip(["grandfather", "per_capita", "ability_to_pay", "efficiency"], [w / total for w in raw]))


@settings(deadline=None, max_examples=5, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pathway=milestone_pathways(), principles=principle_weights())
def test_random_pathway_allocation_conserves_totals(pathway, principles, allocation_inputs):
    from gridcarbon.allocation import allocate
    from gridcarbon.config import Scenario, deep_merge, load_scenario

    baseline, drivers, capacities = allocation_inputs
    sc = Scenario.model_validate(deep_merge(load_scenario("yrd-enhanced").model_dump(),
                                            {"pathway": pathway, "principles": principles}))
    result = allocate(sc, baseline, drivers, capacities)
    path = result.pathway[result.pathway["kind"] == "projection"]
    # the pathway holds its anchors
    assert path.at[2024, "gross_t"] == pytest.approx(baseline.loc[baseline.sector.isin(EMITTING), "value_t"].sum())
    assert path.at[pathway["peak"]["year"], "gross_t"] == pytest.approx(pathway["peak"]["level"] * 1e6, rel=1e-12)
    assert path.at[2035, "gross_t"] == pytest.approx(
        pathway["peak"]["level"] * 1e6 * (1 + pathway["milestones"][0]["change_from_peak"]), rel=1e-12)
    assert path.at[2060, "net_t"] == pytest.approx(pathway["net_zero"]["net"] * 1e6, rel=1e-9, abs=1.0)
    # the allocation sums to the pathway every year, with the right signs
    totals = result.totals
    yearly = totals.groupby([totals.sector.isin(EMITTING), "year"])["allocated_t"].sum()
    np.testing.assert_allclose(yearly[True].loc[path.index], path.gross_t, rtol=1e-6)
    np.testing.assert_allclose(-yearly[False].loc[path.index], path.removals_t, rtol=1e-6, atol=1.0)
    assert (totals.loc[totals.sector.isin(EMITTING), "allocated_t"] >= -1e-6).all()
    assert (totals.loc[totals.sector.isin(REMOVALS), "allocated_t"] <= 1e-6).all()
    # the base year is the baseline, region by region and sector by sector
    base = totals[totals.year == 2024].merge(baseline, on=["region", "sector"], how="left").fillna({"value_t": 0.0})
    np.testing.assert_allclose(base.allocated_t, base.value_t, rtol=1e-6, atol=1.0)
    assert result.residual_rel <= 1e-6
