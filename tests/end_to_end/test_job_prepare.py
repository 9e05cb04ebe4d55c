"""What ``job.prepare`` hands the coupling loop and the evolution."""
from gridcarbon import job


def test_a_run_carries_only_the_landscape_layers_it_reads(default_prepared):
    """The built landscape has more layers (MODIS groups, precipitation, arid share) than a run
    reads; the run keeps only those it reads, and its grid is the inventory's."""
    prep = default_prepared  # job.prepare of yrd-enhanced
    assert tuple(prep.area.landscape.data_vars) == job.RUN_LANDSCAPE
    assert prep.area.inventory.grid is prep.area.grid is prep.context.grid
    assert set(prep.suitability.surfaces) >= {"power", "steel", "cement", "urban"}
