"""The bottom-up limits reach the allocation: in the default run the forest room the evolved
land leaves binds the allocated forest sink, so the coupling needs several iterations, and
the manifest names the limit it ended on (issue: an allocation that optimises, item 7)."""
from __future__ import annotations


def test_the_coupling_iterates_until_the_forest_room_binds_and_names_it(default_run):
    manifest = default_run.manifest
    coupling = manifest["coupling"]
    assert coupling["converged"] and coupling["iterations"] >= 2
    first, last = coupling["history"][0], coupling["history"][-1]
    assert first["capacity_change_rel"] > default_run.scenario.coupling.tolerance  # the land cut the room
    assert last["capacity_change_rel"] <= default_run.scenario.coupling.tolerance
    binding = [b for b in manifest["allocation"]["binding_limits"]
               if b["family"] == "capacities" and b["sector"] == "forest_sink" and b["bound"] == "upper"]
    assert binding and binding[0]["held_mt"] > 0 and binding[0]["regions"]
