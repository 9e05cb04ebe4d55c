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
