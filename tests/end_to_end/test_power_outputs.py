"""Every run with provinces writes the energy tables and figures (issue 16)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridcarbon.allocation.power import CAPTURE, CAPTURE_RATE


def test_run_writes_energy_tables_and_plots(default_run):
    out = Path(default_run.out_dir)
    energy = pd.read_csv(out / "energy.csv")
    summary = pd.read_csv(out / "energy_summary.csv")
    assert list(energy.columns) == ["region", "year", "technology", "capacity_gw", "generation_twh", "emissions_t"]
    assert list(summary.columns) == ["region", "year", "electricity_demand_twh", "non_fossil_share_electricity",
                                     "primary_energy_mtce", "non_fossil_share_primary"]
    assert {"imports", "coal", "offshore_wind", "solar"} <= set(energy.technology)
    assert set(summary.region) == {"Shanghai", "Jiangsu", "Zhejiang", "Anhui", "total"}
    for name in ("generation_mix.png", "non_fossil_shares.png"):
        assert (out / "maps" / name).stat().st_size > 10_000
    # the power rows of energy.csv carry the allocated power emissions, the imports the indirect ones
    totals = pd.read_csv(out / "totals.csv")
    for sector, rows in (("power", energy.technology != "imports"), ("indirect", energy.technology == "imports")):
        got = energy[rows].groupby(["region", "year"])["emissions_t"].sum()
        want = totals[totals.sector == sector].set_index(["region", "year"])["allocated_t"]
        np.testing.assert_allclose(got.reindex(want.index).to_numpy(), want.to_numpy(), rtol=1e-6)
    primary = pd.read_csv(out / "primary_energy.csv")
    assert list(primary.columns) == ["region", "year", "component", "fossil", "mtce"]
    assert {"coal", "imports", "steel", "beccs"} <= set(primary.component)


def test_gridded_power_is_the_power_system_of_every_region_year(default_run):
    """Grid and power block agree: each region-year's gridded power CO2 equals the sum over its
    generating technologies (coal per unit) in ``energy.csv``, to 1e-6 relative."""
    out = Path(default_run.out_dir)
    energy = pd.read_csv(out / "energy.csv")
    units = energy[energy.technology != "imports"].groupby(["region", "year"])["emissions_t"].sum()
    power = pd.read_csv(out / "totals.csv").query("sector == 'power'").set_index(["region", "year"])
    assert len(power) == 4 * 37
    np.testing.assert_allclose(power["gridded_t"].to_numpy(), units.reindex(power.index).to_numpy(), rtol=1e-6)
    year = default_run.emissions["emission"].sel(sector="power", year=2060).values
    assert np.isclose(np.nansum(year), power.xs(2060, level="year")["gridded_t"].sum(), rtol=1e-6)
    shares = default_run.manifest["energy"]["non_fossil_share_primary_pct"]
    assert shares[2060] > shares[2024] > 0


def test_power_grid_is_the_sum_over_generating_units(default_run):
    """Grid follows units: each cell's power CO2 is the sum of the active power plants in it, and
    the plants' emissions per region are the power block's generating technologies (``energy.csv``)."""
    energy = pd.read_csv(Path(default_run.out_dir) / "energy.csv").set_index(["region", "year", "technology"])
    facilities = default_run.facilities
    for year in (2030, 2035, 2060):
        plants = facilities[(facilities.year == year) & (facilities.sector == "power") & (facilities.status == "active")]
        layer = default_run.emissions["emission"].sel(sector="power", year=year).values.ravel()
        want = np.bincount(plants.cell.to_numpy(int), weights=plants.emission_t.to_numpy(float), minlength=layer.size)
        assert np.abs(np.nan_to_num(layer) - want).max() <= 1e-6 * want.sum()
        by_region = plants.groupby("region")["emission_t"].sum()
        block = energy.xs(year, level="year").drop(index="imports", level="technology")["emissions_t"]
        block = block.groupby(level="region").sum().reindex(by_region.index)
        np.testing.assert_allclose(by_region.to_numpy(), block.to_numpy(), rtol=1e-6)
    late = facilities[(facilities.year == 2060) & (facilities.sector == "power")]
    assert late.ccs.any() and (late.status == "cancelled").any()


def test_power_capture_is_stored_within_site_capacities(default_run):
    """The power block's capture plants store what they capture (``energy.csv``: generation x gross
    factor x capture rate) in storage sites: per region-year the plants' captured_t, and
    ``storage.csv``'s captured tonnes are the fleet's (industrial + power); no site overfills."""
    out = Path(default_run.out_dir)
    energy = pd.read_csv(out / "energy.csv")
    storage = pd.read_csv(out / "storage.csv")
    ccs = energy[energy.technology.isin(CAPTURE)]
    block = (ccs.emissions_t * CAPTURE_RATE / (1 - CAPTURE_RATE)).groupby([ccs.region, ccs.year]).sum()
    facilities = default_run.facilities
    for year in (2035, 2060):
        plants = facilities[(facilities.year == year) & (facilities.status == "active")]
        power = plants[plants.sector == "power"].groupby("region")["captured_t"].sum()
        want = block.xs(year, level="year")
        np.testing.assert_allclose(power.reindex(want.index).fillna(0.0).to_numpy(), want.to_numpy(), rtol=1e-6)
        # every tonne the fleet captures is booked into a site; summed over the area, since an
        # industrial plant books into the nearest site in reach, which may lie in the next region
        booked = storage.loc[storage.year == year, "captured_t"].sum()
        assert booked == pytest.approx(plants["captured_t"].sum(), rel=1e-6)
    assert block.groupby(level="year").sum().max() > 1e8  # the power block captures > 100 Mt in its peak year
    assert (storage.cumulative_t <= storage.capacity_t * (1 + 1e-9)).all()


def test_a_capture_retrofit_stays_where_it_was_built(default_run):
    """A coal unit is retrofitted with capture once and keeps it while it runs: capture plants
    do not hop between stations from year to year."""
    events = default_run.events
    retrofits = events[(events.event == "retrofitted") & (events.sector == "power")]
    assert len(retrofits) > 0 and retrofits.id.is_unique
    capturing = default_run.facilities[(default_run.facilities.sector == "power") & default_run.facilities.ccs]
    by_year = capturing.groupby("year").id.apply(set)
    years = sorted(by_year.index)
    for before, after in zip(years, years[1:]):
        still_running = {i for i in by_year[before]
                         if i in set(default_run.facilities.id[(default_run.facilities.year == after)
                                                                & (default_run.facilities.status == "active")])}
        assert still_running <= by_year[after], (before, after)
