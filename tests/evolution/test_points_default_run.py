"""The point rules on the default run (yrd-enhanced, seed 42), through the public API and the run folder.

Must-show figures of issue 14 for the fleet: steel stays where it is, relocation at most once
and within the documented yearly caps, capture never above the capture rate of the plant's
throughput, no storage site overfilled, and the same bytes for the same seed.
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import gridcarbon
from gridcarbon.evolution.lifecycle import plant_hazard
from gridcarbon.evolution.relocation import RELOCATION_CAP_SHARE
from gridcarbon.output.export import read_raster_band
from gridcarbon.output.layers import FILL_UNITS

YEARS = [2035]


@pytest.fixture(scope="module")
def runs(default_run, killed_run):
    """The default scenario run twice into separate folders: the session's ``default_run``
    (seed 42; 2024, 2030, 2035 and 2060 exported) and a second run with the same options, the
    session's rerun after a killed run (``killed_run``: a fresh ``gridcarbon run`` process)."""
    assert default_run.scenario.seed == 42 and YEARS[0] in default_run.scenario.years
    assert killed_run["rerun"].returncode == 0, killed_run["rerun"].stderr
    again = gridcarbon.load_run(killed_run["final"])
    assert again.out_dir != default_run.out_dir
    assert (again.scenario.name, again.scenario.seed, again.scenario.years) == \
        (default_run.scenario.name, 42, default_run.scenario.years)
    return [default_run, again]


def facilities(result, year: int) -> gpd.GeoDataFrame:
    return gpd.read_file(result.out_dir / "facilities.gpkg", layer=f"facilities_{year}")


def cells(frame: gpd.GeoDataFrame, res: float) -> pd.Series:
    return (frame.geometry.x // res).astype(int).astype(str) + "/" + (frame.geometry.y // res).astype(int).astype(str)


def test_steel_stays_mostly_where_it_is(runs):
    result = runs[0]
    res = result.grid.res
    base, end = facilities(result, 2024), facilities(result, 2035)
    steel0 = set(cells(base[(base.status == "active") & (base.sector == "steel")], res))
    steel = end[(end.status == "active") & (end.sector == "steel")]
    moved_in = ~cells(steel, res).isin(steel0)
    share = steel.emission_t[moved_in].sum() / steel.emission_t.sum()
    assert share <= 0.20
    # the steel target never rises in the default pathway: steel is built only in a region and
    # year where steel retired (or left), and the pipeline goes first
    ev = result.events[result.events.year <= 2035]
    built = ev[(ev.event == "built") & (ev.sector == "steel")]
    gone = ev[ev.event.isin(["retired", "relocated"]) & (ev.sector == "steel")]
    assert set(zip(built.region, built.year)) <= set(zip(gone.region, gone.year))
    assert built.id.str.startswith("STEEL-").any()


def test_relocation_once_and_within_the_yearly_caps(runs):
    result = runs[0]
    ev = result.events
    moved = ev[ev.event == "relocated"]
    assert len(moved) > 0 and moved.id.is_unique
    base = facilities(result, 2024).set_index("id")
    fleet = base[base.status == "active"].groupby("sector").potential_t.sum()
    per_year = moved.assign(potential_t=moved.id.map(base.potential_t)).groupby(["sector", "year"]).potential_t.sum()
    for (sector, _), value in per_year.items():
        assert value <= RELOCATION_CAP_SHARE[sector] * fleet[sector] * (1 + 1e-12)
    end = facilities(result, 2035).set_index("id")
    assert set(end.index[end.moved_from_x.notna()]) == set(moved.id[moved.year <= 2035])


@pytest.mark.parametrize("sector", ["steel", "cement"])
def test_steel_and_cement_retire_at_the_calibrated_rate(runs, sector):
    """2025-2030: the default pathway's steel and cement targets are flat, so base-year plants
    retire by their life cycles alone: planned and "operating pre-retirement" closures for sure,
    the others with the age hazard's probability (within three standard deviations)."""
    result = runs[0]
    base = facilities(result, 2024)
    base = base[(base.status == "active") & (base.sector == sector)].fillna({"fuel": "", "technology": ""})
    survive = np.ones(len(base))
    for year in range(2025, 2031):
        survive *= 1.0 - plant_hazard(base, year)
    planned = (base.planned_retirement <= 2030).to_numpy()
    p = np.where(planned, 1.0, 1.0 - survive)
    ev = result.events
    retired = ev[(ev.event == "retired") & (ev.year <= 2030) & ev.id.isin(base.id)]
    assert p.sum() > planned.sum() + 3  # the hazard retires plants beyond the planned ones
    assert abs(len(retired) - p.sum()) <= 3 * np.sqrt((p * (1 - p)).sum())
    assert set(base.id[planned]) <= set(retired.id)


def test_capture_and_storage_balance(runs):
    result = runs[0]
    for year in (2024, 2035):
        f = facilities(result, year)
        pre = f.emission_t + f.captured_t
        assert (f.captured_t <= result.scenario.evolution.capture_rate * pre * (1 + 1e-12)).all()
        assert (f.captured_t[f.status != "active"] == 0).all()
    storage = pd.read_csv(result.out_dir / "storage.csv")
    assert {"site", "year", "injected_t", "cumulative_t", "capacity_t"} <= set(storage.columns)
    assert (storage.cumulative_t <= storage.capacity_t * (1 + 1e-9)).all()
    # the BECCS booked into the sites is the allocation's beccs removal, region by region
    totals = result.totals[result.totals.sector == "beccs"]
    booked = storage.groupby("region").beccs_t.sum()
    allocated = -totals.groupby("region").allocated_t.sum()
    assert booked.reindex(allocated.index, fill_value=0.0).to_numpy() == pytest.approx(
        allocated.where(allocated.index.isin(booked.index), 0.0).to_numpy(), rel=1e-9)


def test_storage_fill_layer_is_the_storage_account(runs):
    result = runs[0]
    storage = pd.read_csv(result.out_dir / "storage.csv")
    sites = result.storage_sites
    listed = result.manifest["storage_fill"]
    assert listed["units"] == FILL_UNITS and listed["sites"] == storage.site.nunique()
    for year in [2024, *YEARS]:
        path = result.out_dir / str(year) / "storage_fill.tif"
        assert f"{year}/storage_fill.tif" in listed["files"] and path.with_suffix(".qml").exists()
        values, tags = read_raster_band(path)
        assert tags["units"] == FILL_UNITS
        cell = values.ravel()[sites.cell.to_numpy()]
        fill = storage[storage.year == year].set_index("site").fill.reindex(sites.site.to_numpy()).to_numpy()
        assert cell == pytest.approx(fill, abs=1e-6)  # every cell of a site shows its site's fill
        assert np.nanmax(values) <= 1.0 and np.isnan(np.delete(values.ravel(), sites.cell.to_numpy())).all()
    assert np.nanmax(values) > 0  # 2035: capture and BECCS have started filling sites


def test_same_seed_same_facility_and_storage_tables(runs):
    a, b = runs
    for year in [2024, *YEARS]:
        pd.testing.assert_frame_equal(facilities(a, year), facilities(b, year))
    assert (a.out_dir / "storage.csv").read_bytes() == (b.out_dir / "storage.csv").read_bytes()
    assert (a.out_dir / "facility_events.csv").read_bytes() == (b.out_dir / "facility_events.csv").read_bytes()
    worst = (a.totals.residual_t.abs() / a.totals.allocated_t.abs().clip(lower=1.0)).max()
    assert np.isfinite(worst) and worst <= 1e-6
