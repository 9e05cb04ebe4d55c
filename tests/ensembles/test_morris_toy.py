"""Morris screening through the same code path as ``gridcarbon sensitivity``, on toy models whose
sensitivities are known."""
from __future__ import annotations

import numpy as np
import pandas as pd

from gridcarbon.ensembles import morris_screening
from gridcarbon.ensembles.ranges import read_ranges
from gridcarbon.ensembles.sensitivity import plot_ranking

NAMES = ["relocation_rate", "capture_rate", "ccs_reach_km", "discount_rate", "min_spacing_km"]


def toy(values: pd.DataFrame) -> pd.DataFrame:
    """``dominant``: 100 x capture_rate, 1e-3 x reach, nothing else; ``flat``: a constant;
    ``reach_only``: the reach squared."""
    return pd.DataFrame({"dominant": 100.0 * values.capture_rate + 1e-3 * values.ccs_reach_km,
                         "flat": np.full(len(values), 3.0),
                         "reach_only": values.ccs_reach_km ** 2})


def test_the_dominant_input_ranks_first_and_inert_inputs_score_zero(tmp_path):
    ranges = read_ranges(names=NAMES)
    indices = morris_screening(toy, ranges, trajectories=6, seed=3)
    assert set(indices.output) == {"dominant", "flat", "reach_only"}
    dominant = indices[indices.output == "dominant"].set_index("assumption")
    assert dominant.loc["capture_rate", "rank"] == 1
    # a full-range move of the capture rate (0.85 -> 0.95) is worth 10; of the reach (50 -> 200 km) 0.15
    assert np.isclose(dominant.loc["capture_rate", "mu_star"], 100 * 0.1, rtol=1e-6)
    assert np.isclose(dominant.loc["ccs_reach_km", "mu_star"], 1e-3 * 150, rtol=1e-6)
    inert = ["relocation_rate", "discount_rate", "min_spacing_km"]
    assert (dominant.loc[inert, "mu_star"] == 0).all()
    assert (indices[indices.output == "flat"].mu_star == 0).all()
    reach = indices[indices.output == "reach_only"].set_index("assumption")
    assert reach.loc["ccs_reach_km", "rank"] == 1 and reach.loc["ccs_reach_km", "sigma"] > 0  # non-linear
    png = plot_ranking(indices, tmp_path / "ranking.png", title="toy")
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_trajectories_with_an_infeasible_run_are_left_out_of_that_output():
    """A run whose output is NaN (an infeasible member) costs its trajectory, not the output."""
    ranges = read_ranges(names=NAMES)

    def sometimes_infeasible(values: pd.DataFrame) -> pd.DataFrame:
        found = toy(values)
        found.loc[values.relocation_rate > 1.5, "dominant"] = np.nan  # the top of the relocation range fails
        found["never"] = np.nan
        return found

    indices = morris_screening(sometimes_infeasible, ranges, trajectories=8, seed=3)
    assert "never" not in set(indices.output)
    dominant = indices[indices.output == "dominant"].set_index("assumption")
    assert np.isclose(dominant.loc["capture_rate", "mu_star"], 100 * 0.1, rtol=1e-6)  # still exact: the model is linear
    assert dominant.loc["capture_rate", "rank"] == 1
