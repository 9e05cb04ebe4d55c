"""The assumption ranges table, its Latin-hypercube samples and a sample as scenario changes."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridcarbon.config import load_scenario
from gridcarbon.core.errors import SchemaError
from gridcarbon.ensembles.ranges import COLUMNS, latin_hypercube, overrides, read_ranges


def test_shipped_ranges_cover_at_least_ten_assumptions_with_sources():
    table = read_ranges()
    assert len(table) >= 10
    assert table.source.str.len().min() > 20
    assert (table.low < table.high).all()


def test_latin_hypercube_puts_one_sample_in_every_stratum_and_is_seeded():
    table = read_ranges()
    n = 32
    a, b = latin_hypercube(table, n, seed=7), latin_hypercube(table, n, seed=7)
    pd.testing.assert_frame_equal(a, b)
    for row in table.itertuples():
        values = a[row.name].to_numpy()
        unit = (np.log(values / row.low) / np.log(row.high / row.low) if row.distribution == "loguniform"
                else (values - row.low) / (row.high - row.low))
        assert sorted(np.floor(unit * n).astype(int)) == list(range(n))


def test_a_sample_becomes_a_valid_scenario_with_weights_summing_to_one():
    sc = load_scenario("yrd-enhanced")
    table = read_ranges()
    sample = {name: high for name, high in zip(table.name, table.high)}
    member = sc.with_overrides(**overrides(sc, table, sample))
    assert member.assumptions.relocation_rate == 2.0
    assert member.evolution.ccs_reach_km == 200
    assert member.principles.grandfather == 0.6
    assert sum(member.principles.weights().values()) == pytest.approx(1.0)
    shares = member.evolution.electrification.urban_passenger
    first = min(shares)
    assert shares[first] == sc.evolution.electrification.urban_passenger[first]  # the base year stays
    assert max(shares.values()) <= 1.0
    assert member.allocation.floors["steel"] == pytest.approx(1.25 * sc.allocation.floors["steel"])
    assert member.hash() != sc.hash()


def test_bad_ranges_name_the_file_and_row(tmp_path):
    good = read_ranges().iloc[:2]
    cases = {"low": ("low", 5.0), "target": ("target", "evolution.no_such_key"), "mode": ("mode", "shift")}
    for label, (column, value) in cases.items():
        bad = good.copy()
        bad.loc[1, column] = value
        path = tmp_path / f"{label}.csv"
        bad[COLUMNS].to_csv(path, index=False)
        with pytest.raises(SchemaError, match=r"row 3") as info:
            read_ranges(path)
        assert str(path) in str(info.value)
    good.drop(columns="unit").to_csv(tmp_path / "short.csv", index=False)
    with pytest.raises(SchemaError, match="unit"):
        read_ranges(tmp_path / "short.csv")
    with pytest.raises(SchemaError, match="no_such"):
        read_ranges(names=["no_such"])
