"""The sparse LP builder: rows placed by section and order key, duals read back by row id, and
the elastic copy's slack columns."""
from __future__ import annotations

import numpy as np
import pytest

from gridcarbon.allocation.matrix import NONE, Matrix


def small(elastic: bool = False) -> tuple[Matrix, np.ndarray, np.ndarray, np.ndarray]:
    """min x0 + 2 x1 + 3 x2 with x0 + x1 >= 2 (family a), x1 + x2 >= 1 (family b), x0 <= 1 (always)."""
    m = Matrix(elastic=elastic)
    x = m.columns(0.0, np.inf, shape=(3,))
    m.objective(x, [1.0, 2.0, 3.0])
    m.section()
    later = m.rows([1.0], np.inf, [(x[1:2], 1.0), (x[2:3], 1.0)], order=[5], family="b")
    first = m.rows([2.0], np.inf, [(x[:1], 1.0), (x[1:2], 1.0), (np.array([NONE]), 9.0)], order=[1], family="a")
    m.section()
    cap = m.rows([-np.inf], 1.0, [(x[:1], 1.0)])
    return m, first, later, cap


def test_rows_follow_sections_and_order_keys_and_duals_follow_the_ids():
    m, first, later, cap = small()
    h = m.highs()
    h.run()
    assert list(m.row_index(np.r_[first, later, cap])) == [0, 1, 2]
    x = np.asarray(h.getSolution().col_value)
    assert x == pytest.approx([1.0, 1.0, 0.0])
    duals = np.asarray(h.getSolution().row_dual)[m.row_index(np.r_[first, later])]
    assert duals == pytest.approx([2.0, 0.0])     # one more unit of row a costs x1's price


def test_the_elastic_copy_puts_slacks_first_and_minimises_them():
    m, *_ = small(elastic=True)
    h = m.highs()
    h.run()
    assert m.slack_offset == 4 and list(m.slack_rows) == [0, 1]   # the family-less cap row has none
    assert h.getInfo().objective_function_value == pytest.approx(0.0)
    assert h.getNumCol() == 3 + 4
