"""Forest prediction in blocks on threads (gridcarbon.suitability.prediction): the very floats of
scikit-learn's ``predict_proba``."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import ExtraTreesClassifier

from gridcarbon.suitability.prediction import presence_probability


@pytest.fixture(scope="module")
def forest_and_cells():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(600, 4))
    y = (X[:, 0] + 0.5 * rng.normal(size=600) > 0.8).astype(int)
    forest = ExtraTreesClassifier(n_estimators=15, min_samples_leaf=3, class_weight="balanced_subsample",
                                  random_state=2).fit(X, y)
    cells = rng.normal(size=(5_003, 4))  # float64, as small grids' covariates
    cells[::97, 1] = np.nan  # missing values go where the trees send them
    return forest, cells


@pytest.mark.parametrize("block_cells", [1, 64, 2_500, 1_000_000])
def test_presence_probability_is_predict_proba_bit_for_bit(forest_and_cells, block_cells):
    forest, cells = forest_and_cells
    expected = forest.predict_proba(cells)[:, 1]
    got = presence_probability(forest, list(cells.T), block_cells=block_cells)
    assert got.dtype == np.float64 and got.tobytes() == expected.tobytes()
    single = cells[:1]
    assert presence_probability(forest, list(single.T), block_cells=block_cells).tobytes() == \
        forest.predict_proba(single)[:, 1].tobytes()


def test_presence_probability_of_float32_columns_and_no_cells(forest_and_cells):
    forest, cells = forest_and_cells
    columns = [np.ascontiguousarray(c, dtype=np.float32) for c in cells.T]
    expected = forest.predict_proba(np.stack(columns, axis=1))[:, 1]
    assert presence_probability(forest, columns, block_cells=100).tobytes() == expected.tobytes()
    assert presence_probability(forest, [c[:0] for c in columns], block_cells=100).size == 0
