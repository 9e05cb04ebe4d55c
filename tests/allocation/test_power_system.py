"""The power system inside the allocation (issue 16): balance, CO2 links, limits, fleet."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridcarbon.allocation.power import unit_generation
from gridcarbon.allocation.power_data import TECHNOLOGIES
from gridcarbon.output.energy import energy_tables


@pytest.fixture(scope="module")
def tables(enhanced) -> dict[str, pd.DataFrame]:
    return energy_tables(enhanced, capture_rate=0.9)


def test_energy_balance_holds_every_region_year(enhanced, tables):
    """Generation of every technology plus net imports equals demand in every region and year."""
    energy = tables["energy"]
    supply = energy.groupby(["region", "year"])["generation_twh"].sum()
    demand = tables["energy_summary"].set_index(["region", "year"])["electricity_demand_twh"].drop("total", level="region")
    assert len(supply) == 4 * 37
    np.testing.assert_allclose(supply.reindex(demand.index).to_numpy(), demand.to_numpy(), rtol=1e-7)


def test_power_co2_is_the_sum_over_generating_units(enhanced):
    """The allocated power CO2 of each region and year equals the sum over its coal units and other fossil plants."""
    power = enhanced.totals[enhanced.totals.sector == "power"].set_index(["region", "year"])["allocated_t"]
    for year in (2024, 2030, 2035, 2045, 2060):
        units = unit_generation(enhanced.power, year)
        by_region = units.groupby("region")["emissions_t"].sum()
        want = power.xs(year, level="year").reindex(by_region.index)
        np.testing.assert_allclose(by_region.to_numpy(), want.to_numpy(), rtol=1e-6, atol=1.0)
        assert (units.loc[units.technology == "coal", "generation_twh"] >= 0).all()


def test_indirect_emissions_follow_the_imports(enhanced, tables):
    """The indirect sector equals the imports from outside times their carbon intensity."""
    imports = tables["energy"].query("technology == 'imports'").set_index(["region", "year"])["emissions_t"]
    indirect = enhanced.totals[enhanced.totals.sector == "indirect"].set_index(["region", "year"])["allocated_t"]
    np.testing.assert_allclose(imports.reindex(indirect.index).to_numpy(), indirect.to_numpy(), rtol=1e-6, atol=1.0)
    assert indirect.xs(2024, level="year").sum() > 0


def test_builds_respect_potentials_and_rates(enhanced):
    """New capacity grows within headroom and yearly build rates; no offshore wind inland, no new coal."""
    ps = enhanced.power
    s = ps.system
    new = ps.capacity - s.existing
    assert (new <= s.headroom + 1e-6).all()
    assert (np.diff(new, axis=2) <= s.build_rate[:, :, None] + 1e-6).all()
    assert (np.diff(new, axis=2) >= -1e-6).all()   # what is built stays
    anhui = s.regions.index("Anhui")
    assert ps.capacity[anhui, TECHNOLOGIES.index("offshore_wind")].max() == 0
    assert (new[:, TECHNOLOGIES.index("coal")] <= 1e-9).all()
    assert new[:, TECHNOLOGIES.index("solar"), -1].sum() > 0


def test_coal_fleet_retires_by_age(enhanced):
    """Existing coal capacity falls as units reach their lifetimes; the 2024 fleet is the real units'."""
    s = enhanced.power.system
    coal = s.existing[:, TECHNOLOGIES.index("coal")].sum(axis=0)
    alive = s.coal_units[(s.coal_units.start <= 2024) & (s.coal_units.retire > 2024)]
    assert coal[0] == pytest.approx(alive.capacity_mw.sum() / 1e3)
    assert coal[-1] < 0.5 * coal[0]
    assert (np.diff(coal[s.years.index(2030):]) <= 1e-9).all()


def test_generation_within_capacity(enhanced):
    """Every technology generates at most its capacity x 8.76 x its (maximum) capacity factor."""
    ps = enhanced.power
    limit = ps.capacity * ps.system.cf[:, :, None] * 8.76
    assert (ps.generation <= limit + 1e-6).all()


def test_summary_shares_are_fractions(tables):
    """Non-fossil shares lie in [0, 1]; the total rows sum the regions' demand and primary energy."""
    summary = tables["energy_summary"]
    for column in ("non_fossil_share_electricity", "non_fossil_share_primary"):
        assert summary[column].between(0, 1).all()
    by_year = summary[summary.region != "total"].groupby("year")["primary_energy_mtce"].sum()
    total = summary[summary.region == "total"].set_index("year")["primary_energy_mtce"]
    np.testing.assert_allclose(by_year.to_numpy(), total.reindex(by_year.index).to_numpy())
    share = summary[summary.region == "total"].set_index("year")["non_fossil_share_primary"]
    assert share[2060] > share[2035] > share[2024]


def test_firm_capacity_covers_the_peak(enhanced):
    """In every region and year the firm capacity meets the peak requirement (after the base year)."""
    ps = enhanced.power
    firm = np.einsum("g,rgt->rt", ps.system.firm, ps.capacity)
    assert (firm[:, 1:] >= ps.system.peak[:, 1:] - 1e-6).all()
    assert (ps.system.peak[:, -1] > ps.system.peak[:, 1]).any()


def test_demand_grows_with_electrification(enhanced):
    """Demand exceeds the GDP-driven path once road transport and buildings electrify."""
    from gridcarbon.allocation.power_data import DEMAND_GDP_ELASTICITY, provinces
    from gridcarbon.config import load_scenario
    from gridcarbon.inputs.drivers import drivers_path, read_drivers

    s = enhanced.power.system
    drivers = read_drivers(drivers_path(load_scenario("yrd-enhanced")))
    gdp = drivers.pivot_table(index="region", columns="year", values="gdp_yuan").loc[s.regions, [2024, 2060]]
    gdp_only = provinces().loc[s.regions, "demand_2024_twh"] * (gdp[2060] / gdp[2024]) ** DEMAND_GDP_ELASTICITY
    extra = s.demand[:, -1] - gdp_only.to_numpy()
    assert (extra > 0).all()
    np.testing.assert_allclose(s.demand[:, 0], provinces().loc[s.regions, "demand_2024_twh"].to_numpy())


def test_primary_energy_adds_up_from_its_components(enhanced, tables):
    """The summary's primary energy is the sum of ``primary_energy.csv``; other sectors' fuel follows their CO2."""
    from gridcarbon.output.energy_accounting import PROCESS_SHARE, SECTOR_FUEL_CARBON

    primary, summary = tables["primary_energy"], tables["energy_summary"].set_index(["region", "year"])
    sums = primary.groupby(["region", "year"])["mtce"].sum()
    np.testing.assert_allclose(sums.reindex(summary.index).to_numpy(), summary["primary_energy_mtce"].to_numpy())
    clean = primary[~primary.fossil].groupby(["region", "year"])["mtce"].sum().reindex(summary.index)
    np.testing.assert_allclose(clean / summary["primary_energy_mtce"], summary["non_fossil_share_primary"])
    cement = primary.query("component == 'cement' and region != 'total'").set_index(["region", "year"])["mtce"]
    co2 = enhanced.totals.query("sector == 'cement'").set_index(["region", "year"])["allocated_t"] / 1e6
    want = co2 * (1 - PROCESS_SHARE["cement"]) / SECTOR_FUEL_CARBON["cement"]
    np.testing.assert_allclose(cement.reindex(want.index).to_numpy(), want.to_numpy())


def test_study_2035_share_needs_more_clean_power_than_all_demand(tables):
    """The README's bound: with the 2035 CO2 the pathway allows, 55 % non-fossil primary energy would
    need more non-fossil electricity (coal-equivalent) than the study area uses in all."""
    from gridcarbon.output.energy_accounting import COAL_EQUIVALENT

    total = tables["primary_energy"].query("region == 'total' and year == 2035")
    fossil = total.loc[total.fossil, "mtce"].sum()
    demand = tables["energy_summary"].query("region == 'total' and year == 2035")["electricity_demand_twh"].item()
    assert fossil * 0.55 / 0.45 / COAL_EQUIVALENT > demand
