"""Grid follows units (issue 16): the fleet's power plants follow the allocation's power block."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from gridcarbon.allocation.power import CAPTURE_RATE, unit_generation
from gridcarbon.allocation.power_data import TECHNOLOGIES
from gridcarbon.evolution.fleet import Fleet
from gridcarbon.evolution.power_units import follow_power
from gridcarbon.evolution.storage import Storage

COL = TECHNOLOGIES.index


def _solution(gas_twh: float = 1.0):
    """A one-region power block in 2030: unit A retired in 2026, B runs; 5 GW with capture."""
    units = pd.DataFrame({"id": ["A", "B"], "region": ["R0", "R0"], "capacity_mw": [600.0, 400.0],
                          "factor_t_per_mwh": [0.9, 1.0], "start": [2000, 2000], "retire": [2026, 2040]})
    fossil = np.isin(TECHNOLOGIES, ["coal", "gas", "coal_ccs", "gas_ccs"])
    system = SimpleNamespace(coal_units=units, years=[2024, 2025, 2030], regions=["R0"], fossil=fossil)
    gen, factor, cap = (np.zeros((1, len(TECHNOLOGIES), 3)) for _ in range(3))
    gen[0, [COL("coal"), COL("coal_ccs"), COL("gas")], 2] = [3.0, 5.0, gas_twh]
    factor[0, [COL("coal"), COL("coal_ccs"), COL("gas")]] = np.array([1.0, 0.1, 0.37])[:, None]
    cap[0, COL("coal_ccs"), 2] = 0.5
    captured = gen * factor * np.isin(TECHNOLOGIES, ["coal_ccs"])[None, :, None] * CAPTURE_RATE / (1 - CAPTURE_RATE)
    return SimpleNamespace(system=system, generation=gen, emissions=gen * factor, capacity=cap, captured=captured)


def _storage(capacity_t=(1e9, 1e9), reach_km: float = 1000.0) -> Storage:
    """Sites 0 and 1 on cells 5 and 6 of a 1 x 10 grid of 10 km cells (the fleet's plants on cells 0..4)."""
    km = np.abs(np.arange(10)[:, None] - np.array([5, 6])[None, :]) * 10.0
    reach_site = np.where(km.min(axis=1) <= reach_km, km.argmin(axis=1), -1)
    return Storage([2024, 2025, 2030], np.array([5, 6]), np.array([0, 1], np.int32), reach_site,
                   np.array(capacity_t), np.zeros(2, int),
                   np.zeros((3, 2)), np.zeros((3, 2)), 10, 10.0, reach_km)


def _fleet(with_gas: bool = True) -> Fleet:
    ids = ["COAL-A", "COAL-B", "COAL-X", "STEEL-1"] + (["GAS-1"] if with_gas else [])
    n = len(ids)
    table = pd.DataFrame({
        "id": ids, "sector": ["power"] * 3 + ["steel"] + ["power"] * (n - 4), "region_pos": 0, "cell": np.arange(n),
        "capacity": [600.0, 400.0, 100.0, 5.0, 300.0][:n], "potential_t": 1e6, "year_built": 2000,
        "inefficiency": 1.0, "status": ["active", "active", "pipeline", "active", "active"][:n],
        "fuel": ["coal", "coal", "coal", "", "gas"][:n], "technology": "", "source": "", "planned_retirement": np.nan,
        "planned_year": np.nan, "origin": "base", "ccs": False, "capturing": False, "site": -1, "moved_from": -1,
        "moved_year": -1, "utilisation": 1.0, "emission_t": 1e6, "captured_t": 0.0}, index=[10, 3, 1, 0, 7][:n])
    return Fleet.from_table(table)


@pytest.mark.parametrize("with_gas", [True, False])
def test_power_rows_carry_the_blocks_units(with_gas):
    fleet, solution = _fleet(with_gas), _solution()
    follow_power(fleet, solution, 2030, ["R0"], _storage())
    t = fleet.table.set_index("id")
    power = t[t.sector == "power"]
    assert power.emission_t.sum() == pytest.approx(unit_generation(solution, 2030).emissions_t.sum())
    # B runs at the block's dispatch; A retired in 2026 and hosts the capture plant (first to retire)
    assert t.loc["COAL-B", "status"] == "active" and t.loc["COAL-B", "emission_t"] >= 3.0e6
    assert t.loc["COAL-A", "ccs"] and t.loc["COAL-A", "status"] == "active"
    assert not t.loc["COAL-B", "ccs"]
    # a coal unit the block does not know is cancelled; other sectors are untouched
    assert t.loc["COAL-X", "status"] == "cancelled" and t.loc["COAL-X", "emission_t"] == 0.0
    assert t.loc["STEEL-1", "emission_t"] == 1e6
    events = pd.DataFrame(fleet.events, columns=["year", "id", "event", "sector", "region", "from", "to"])
    assert set(events.event) == {"retrofitted", "cancelled"}


def test_without_gas_plants_gas_runs_at_coal_sites():
    fleet = _fleet(with_gas=False)
    follow_power(fleet, _solution(gas_twh=2.0), 2030, ["R0"], _storage())
    t = fleet.table.set_index("id")
    # 2 TWh x 0.37 t/MWh of gas shared by capacity over the region's coal units
    assert t.loc[["COAL-A", "COAL-B"], "emission_t"].sum() == pytest.approx(3.0e6 + 0.5e6 + 0.74e6)


def test_capture_plants_store_their_co2_within_the_site():
    """5 TWh at 0.1 t/MWh residual = 0.5 Mt emitted and 4.5 Mt captured (90 %), booked at the nearest site."""
    fleet, storage = _fleet(), _storage()
    follow_power(fleet, _solution(), 2030, ["R0"], storage)
    t = fleet.table.set_index("id")
    assert t.loc[["COAL-A", "COAL-B"], "captured_t"].sum() == pytest.approx(4.5e6)
    assert storage.captured_t[2, 0] == pytest.approx(4.5e6) and storage.captured_t[:2].sum() == 0
    assert storage.captured_t[2, 1] == 0.0


def test_capture_in_reach_first_overflows_to_farther_sites_then_vents():
    # A (cell 0, 50 km from storage) is beyond a 45 km reach: the 0.3 GW capture plant goes to B (cell 2)
    fleet, storage, solution = _fleet(), _storage(capacity_t=(3e6, 1e6), reach_km=45.0), _solution()
    fleet["cell"][fleet.row("COAL-B")] = 2
    solution.capacity[0, COL("coal_ccs"), 2] = 0.3
    follow_power(fleet, solution, 2030, ["R0"], storage)
    t = fleet.table.set_index("id")
    assert t.loc["COAL-B", "ccs"] and not t.loc["COAL-A", "ccs"]
    # 4.5 Mt captured: 3 Mt to the nearest site (30 km), 1 Mt to the next (40 km), 0.5 Mt vented at B
    assert storage.captured_t[2] == pytest.approx([3e6, 1e6]) and t.loc["COAL-B", "captured_t"] == pytest.approx(4e6)
    assert t.loc["COAL-B", "emission_t"] == pytest.approx(3.0e6 * 1.0 + 0.5e6 + 0.5e6)


def test_a_full_site_shifts_capture_to_the_other_station():
    # A (cell 2) reaches only site 0 (30 km; 1 Mt of room), B (cell 9) only site 1 (30 km)
    fleet, storage = _fleet(), _storage(capacity_t=(1e6, 1e9), reach_km=35.0)
    fleet["cell"][fleet.row("COAL-A")] = 2
    fleet["cell"][fleet.row("COAL-B")] = 9
    solution = _solution()
    follow_power(fleet, solution, 2030, ["R0"], storage)
    t = fleet.table.set_index("id")
    # 4.5 Mt by capacity: A 2.7, B 1.8; A stores 1 Mt, its other 1.7 Mt move to B; nothing vented
    assert storage.captured_t[2] == pytest.approx([1e6, 3.5e6])
    assert t.loc[["COAL-A", "COAL-B"], "captured_t"].to_numpy() == pytest.approx([1e6, 3.5e6])
    # residual CO2 follows capture (1 t per 9 t captured), the block's total is kept
    assert t.loc["COAL-A", "emission_t"] == pytest.approx(1e6 / 9)
    assert t[t.sector == "power"].emission_t.sum() == pytest.approx(unit_generation(solution, 2030).emissions_t.sum())
