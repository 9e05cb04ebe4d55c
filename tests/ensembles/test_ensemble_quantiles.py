"""Block-wise per-cell quantiles equal the quantiles of the whole stack, and stay ordered."""
from __future__ import annotations

import numpy as np
import pandas as pd

from gridcarbon.ensembles.aggregate import PERCENTILES, cell_quantiles, total_bands


def test_blockwise_quantiles_match_the_full_stack(tmp_path):
    rng = np.random.default_rng(0)
    members = rng.lognormal(3.0, 1.5, size=(9, 2, 3, 17, 11)).astype(np.float32)  # member, year, layer, y, x
    files = []
    for k, m in enumerate(members):
        files.append(tmp_path / f"member_{k:04d}.npy")
        np.save(files[-1], m)
    whole = np.percentile(members, PERCENTILES, axis=0)
    for block in (1, 9 * 2 * 3 * 11 * 4, 10**9):  # one row per block, four rows, everything at once
        q = cell_quantiles(files, block_values=block)
        np.testing.assert_allclose(q, whole, rtol=1e-6)
        assert (q[0] <= q[1]).all() and (q[1] <= q[2]).all()


def test_total_bands_are_ordered_and_sum_regions():
    rows = [{"member": m, "region": r, "sector": s, "year": 2060, "allocated_t": v * (m + 1)}
            for m in range(5) for r in ("A", "B") for s, v in (("power", 10.0), ("forest_sink", -2.0))]
    bands = total_bands(pd.DataFrame(rows)).set_index(["region", "sector", "year"])
    assert (bands.p05_t <= bands.p50_t).all() and (bands.p50_t <= bands.p95_t).all()
    assert bands.loc[("all", "power", 2060), "p50_t"] == 60.0  # member 2: 2 x 3 x 10
    assert bands.loc[("all", "net", 2060), "p50_t"] == 48.0
    assert bands.loc[("A", "gross", 2060), "members"] == 5
