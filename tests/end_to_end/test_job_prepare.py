"""What ``job.prepare`` hands the coupling loop and the evolution."""
from gridcarbon import job
from gridcarbon.config import load_scenario


def test_a_run_carries_only_the_landscape_layers_it_reads():
    """The built landscape has more layers (MODIS groups, precipitation, arid share) than a run
    reads; the run keeps only those it reads, and its grid is the inventory's."""
    prep = job.prepare(load_scenario("yrd-enhanced"))
    assert tuple(prep.area.landscape.data_vars) == job.RUN_LANDSCAPE
    assert prep.area.inventory.grid is prep.area.grid is prep.context.grid
    assert set(prep.suitability.surfaces) >= {"power", "steel", "cement", "urban"}
