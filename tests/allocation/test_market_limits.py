"""Binding limits: the allocation names the bounds its solution sits on (manifest ``binding_limits``)."""
from __future__ import annotations

from allocation.allocation_fixtures import generous_capacities, variant

from gridcarbon.allocation import allocate


def test_tight_removal_capacities_are_named_as_binding(baseline, drivers):
    tight = allocate(variant(), baseline, drivers, generous_capacities(45.0))
    binding = {(b["family"], b["bound"], b["sector"]): b for b in tight.binding}
    sink = binding[("capacities", "upper", "forest_sink")]
    assert sink["years"][1] == 2060 and sink["held_mt"] > 0 and set(sink["regions"]) <= {
        "Shanghai", "Jiangsu", "Zhejiang", "Anhui"}
    assert tight.summary()["binding_limits"] == tight.binding


def test_generous_capacities_do_not_bind(enhanced):
    assert not [b for b in enhanced.binding if b["family"] == "capacities"]
