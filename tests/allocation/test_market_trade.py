"""Principles as allowances, cost as the chooser: permits, transfer payments, prices, discounting."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from allocation.allocation_fixtures import generous_capacities, variant

from gridcarbon.allocation import AllocationResult, allocate
from gridcarbon.allocation.supply import regional_curves, supply_facts
from gridcarbon.config import load_scenario
from gridcarbon.core.errors import ScenarioError
from gridcarbon.core.sectors import EMITTING
from gridcarbon.inputs.mac_curves import load_mac_curves


@pytest.fixture(scope="module")
def no_trade(baseline, drivers) -> AllocationResult:
    """yrd-enhanced with each region held to its own allowance."""
    return allocate(variant(allocation={"trade": False}), baseline, drivers, generous_capacities())


def test_trading_costs_no_more_than_each_region_alone(enhanced, no_trade):
    assert enhanced.trade and not no_trade.trade
    assert enhanced.objective <= no_trade.objective
    assert no_trade.objective - enhanced.objective > 1e6   # trading saves something real (yuan)


def test_cost_optimal_split_differs_from_the_principles_and_permits_close_the_gap(enhanced):
    m = enhanced.market
    assert np.allclose(m["emissions_t"], m["allowance_t"] + m["permits_bought_t"], rtol=1e-9, atol=1.0)
    moved = (m["permits_bought_t"].abs() / m["allowance_t"]).groupby(m["year"]).max()
    assert moved.loc[2030:].min() > 0.01        # some region is > 1 % off its allowance every year
    per_year = m.groupby("year")[["permits_bought_t", "transfer_payment_yuan", "allowance_t"]].sum()
    assert (per_year["permits_bought_t"].abs() <= 1e-6 * per_year["allowance_t"]).all()
    assert (per_year["transfer_payment_yuan"].abs() <= 1e-6 * per_year["allowance_t"] * 1e3).all()


def test_allowances_follow_the_principle_blend(enhanced):
    shares = enhanced.target_shares.set_index(["region", "year"])["target"]
    m = enhanced.market.set_index(["region", "year"])
    gross = enhanced.pathway.loc[m.index.get_level_values("year"), "gross_t"].to_numpy()
    assert np.allclose(m["allowance_t"], shares.reindex(m.index).to_numpy() * gross, rtol=1e-12)


def test_without_trade_each_region_emits_its_allowance_at_its_own_price(enhanced, no_trade):
    m = no_trade.market
    assert np.allclose(m["emissions_t"], m["allowance_t"], rtol=1e-6)
    assert (m["permits_bought_t"] == 0).all() and (m["transfer_payment_yuan"] == 0).all()
    spread = m.groupby("year")["carbon_price_yuan_per_t"].agg(lambda p: p.max() - p.min())
    assert spread.max() > 5.0                                     # regions alone pay different prices
    traded = enhanced.market.groupby("year")["carbon_price_yuan_per_t"].agg(lambda p: p.max() - p.min())
    assert traded.max() == 0.0                                    # one price with trade


def test_carbon_price_is_positive_every_year_after_the_peak(enhanced):
    price = enhanced.carbon_price()
    peak = load_scenario("yrd-enhanced").pathway.peak.year
    assert (price.loc[peak + 1:] > 0).all()
    assert price.loc[2060] > price.loc[2035] > 0
    assert enhanced.summary()["market"]["carbon_price_yuan_per_t"][2060] == pytest.approx(price.loc[2060], abs=1e-3)


def test_marginal_abatement_costs_reach_the_carbon_price(enhanced):
    mac = enhanced.mac.merge(enhanced.market[["region", "year", "carbon_price_yuan_per_t"]], on=["region", "year"])
    assert set(mac["sector"]) == set(EMITTING) and (mac["mac_yuan_per_t"] >= 0).all()
    late = mac[mac["year"] >= 2030].groupby(["region", "year"])
    # sectors abate up to the price (within the 1 yuan/t smoothing); ramps that bind across years
    # can push single cells above it, never the typical one
    assert np.allclose(late["mac_yuan_per_t"].median(), late["carbon_price_yuan_per_t"].first(), atol=2.0)


def test_discounting_lowers_the_present_cost(baseline, drivers, enhanced):
    flat = allocate(variant(allocation={"discount_rate": 0.0}), baseline, drivers, generous_capacities())
    assert enhanced.discount_rate == 0.05 and flat.discount_rate == 0.0
    assert flat.objective > 1.5 * enhanced.objective


def test_costs_differ_by_province_through_storage_and_scrap():
    facts = supply_facts()
    regions = ["Hebei", "Zhejiang", "Guangdong"]
    widths, costs = regional_curves(load_mac_curves(), regions, facts)
    cement, steel = EMITTING.index("cement"), EMITTING.index("steel")
    assert facts.at["Zhejiang", "ccs_distance_km"] > facts.at["Hebei", "ccs_distance_km"]
    assert costs[1, cement, -1] > costs[0, cement, -1]           # farther from storage: dearer CCS
    assert facts.at["Hebei", "eaf_room_frac"] < facts.at["Guangdong", "eaf_room_frac"]
    assert widths[0, steel].sum() == pytest.approx(1.0) and widths[2, steel].sum() == pytest.approx(1.0)
    cheap_hebei = widths[0, steel][costs[0, steel] <= 250].sum()
    cheap_guangdong = widths[2, steel][costs[2, steel] <= 250].sum()
    assert cheap_hebei < cheap_guangdong                          # little scrap: little cheap EAF room
    assert (np.diff(costs, axis=2) >= 0).all()                   # curves stay convex


def test_unknown_regions_keep_the_national_curve():
    widths, costs = regional_curves(load_mac_curves(), ["Atlantis"], pd.DataFrame())
    mac = load_mac_curves()
    steel = EMITTING.index("steel")
    assert costs[0, steel].max() == max(c for _, c in mac["steel"])
    assert widths[0, steel].sum() == pytest.approx(1.0)


def test_a_discount_rate_of_100_percent_is_refused(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("extends: yrd-enhanced\nname: bad\nallocation: {discount_rate: 1.5}\n")
    with pytest.raises(ScenarioError, match="discount_rate"):
        load_scenario(path)
