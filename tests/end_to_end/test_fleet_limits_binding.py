"""The fleet's bottom-up limits reach the allocation through the coupling: in a fast pathway
(yrd-enhanced falling 6 %/yr from 2025 with a coal phase-out, power at 215 Mt in 2035 and 110
Mt in 2040) the committed emissions of coal units too young to retire bind, the coupling
iterates, and the manifest names the limit (issue: an allocation that optimises, item 7)."""
from __future__ import annotations

from gridcarbon.config import load_scenario
from gridcarbon.job import run


def fast_pathway():
    sc = load_scenario("yrd-enhanced")
    rate = type(sc.pathway.rates[0])
    rates = [rate(start=2025, end=2040, annual=-0.06), rate(start=2041, end=2060, annual=-0.05)]
    pathway = sc.pathway.model_copy(update={"rates": rates, "milestones": [], "peak": None,
                                            "sectors": {"power": {2035: 215.0, 2040: 110.0}}})
    return sc.model_copy(update={"name": "yrd-fast", "pathway": pathway, "years": [2030]})


def test_a_fast_pathway_binds_committed_emissions_and_the_manifest_names_them():
    result = run(fast_pathway())
    manifest = result.manifest
    coupling = manifest["coupling"]
    assert coupling["converged"] and coupling["iterations"] >= 2
    assert all("limit_change_rel" in step for step in coupling["history"])
    binding = [b for b in manifest["allocation"]["binding_limits"] if b["family"] == "committed emissions"]
    assert binding and binding[0]["bound"] == "lower" and binding[0]["sector"] == "power"
    assert binding[0]["held_mt"] > 0 and binding[0]["years"][0] <= 2040


def fast_chemicals():
    """yrd-enhanced with its chemical plants cut from 150 Mt to 60 Mt between 2026 and 2032:
    faster than Zhejiang's and Shanghai's young refineries, far from storage, can retire."""
    sc = load_scenario("yrd-enhanced")
    pathway = sc.pathway.model_copy(update={"sectors": {"chemical": {2026: 140.0, 2032: 60.0}}})
    return sc.model_copy(update={"name": "yrd-fast-chemicals", "pathway": pathway, "years": [2030]})


def test_a_fall_faster_than_the_fleet_can_retire_binds_the_retirement_rate():
    manifest = run(fast_chemicals()).manifest
    coupling = manifest["coupling"]
    assert coupling["converged"] and coupling["iterations"] >= 2
    named = [b for b in manifest["allocation"]["binding_limits"] if b["family"] == "retirement rate"]
    assert named and named[0]["bound"] == "lower" and named[0]["sector"] == "chemical"
    assert {"Zhejiang", "Shanghai"} <= set(named[0]["regions"])
    for step in coupling["history"]:   # every iteration lists the fleet's limits that bind, with numbers
        held = {(b["limit"], b["region"], b["sector"]): dict(zip(b["years"], b["held_mt"])) for b in step["binding"]}
        assert held[("retirement rate", "Zhejiang", "chemical")][2032] > 5.0
