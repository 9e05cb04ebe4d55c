"""Siting backtest (gridcarbon.suitability.backtest and ``gridcarbon backtest``): models fitted on
the plants of 2010 rank the cells of the units built 2011-2024 above both baselines."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gridcarbon.cli import app
from gridcarbon.core.errors import InputError
from gridcarbon.suitability.backtest import METHODS, backtest, score_sites
from gridcarbon.testing import two_region_grid


@pytest.fixture(scope="module")
def china_table(tmp_path_factory):
    out = tmp_path_factory.mktemp("backtest") / "china.csv"
    result = CliRunner().invoke(app, ["backtest", "china-enhanced", "--year", "2010", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return pd.read_csv(out)


def test_backtest_beats_both_baselines_for_coal_steel_and_cement(china_table):
    t = china_table.set_index(["sector", "method"])
    for sector in ("power", "steel", "cement"):
        model = t.loc[(sector, "suitability")]
        assert model.new_units >= 50 and model.train_plants > model.new_units  # a real hold-out
        assert model.auc >= 0.75, (sector, model.auc)
        for baseline in ("population_density", "distance_to_plants"):
            assert model.auc > t.loc[(sector, baseline)].auc, (sector, baseline)
        assert model.top10_share > t.loc[(sector, "population_density")].top10_share
    assert set(china_table.method) == set(METHODS) and (china_table.year == 2010).all()
    assert (china_table.base_year == 2024).all()


def test_backtest_rejects_a_year_after_the_base_year():
    with pytest.raises(InputError, match="backtest year 2030 must lie in"):
        backtest("yrd", year=2030)
    result = CliRunner().invoke(app, ["backtest", "--year", "1800"])
    assert result.exit_code == 2 and "backtest year 1800" in result.output


def test_score_sites_ranks_and_measures_distances():
    grid = two_region_grid(10, res=10_000.0)  # 10 x 20 cells, all inside
    score = np.zeros(grid.shape)
    score[0, :] = 1.0  # the top 10 % (20 of 200 cells) is row 0
    new = np.array([0 * 20 + 5, 3 * 20 + 5])  # one unit in row 0, one 3 cells (30 km) below
    m = score_sites(score, new, np.zeros(grid.shape, bool), grid)
    assert m["new_units"] == 2 and m["new_cells"] == 2
    assert m["top10_share"] == 0.5
    assert m["median_km_to_top"] == pytest.approx(15.0)  # median of 0 and 30 km
    assert 0.5 < m["auc"] < 1.0
    assert score_sites(-score, new, np.zeros(grid.shape, bool), grid)["auc"] < 0.5
