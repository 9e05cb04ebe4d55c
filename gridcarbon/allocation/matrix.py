"""A linear program assembled as sparse arrays, block by block, and handed to HiGHS whole.

The allocation's rows and variables come in regular blocks (one per region x sector x year
cell, one per year, ...), so they are built with numpy rather than one modelling object per
term: :class:`Matrix` collects blocks of columns (bounds, costs) and rows (bounds and
``(row, column, coefficient)`` triplets), then :meth:`Matrix.highs` passes the column-wise
matrix to ``highspy.Highs.passModel`` in one call.

Order. Columns keep the order in which blocks are added. Rows are placed by section (the
order of :meth:`Matrix.section` calls) and, within a section, by the ``order`` key each
block gives, so a block built for all years at once can still interleave with another
year by year. The order fixes the LP HiGHS sees and with it the solution among equally cheap
ones. Row and column ids returned while building are final: rows are ids into the sorted
order once :meth:`Matrix.highs` has run (:meth:`Matrix.row_index`).

Elastic copy. Each row of a relaxable family (``family`` not None) gets two slack columns,
``+up - down``, placed before all other columns in row order; the objective becomes their
sum (Mt) and every other cost is dropped.
"""
from __future__ import annotations

import os
import sys

import highspy
import numpy as np
from scipy import sparse

#: column id meaning "no variable here" (e.g. the base year, fixed to the baseline)
NONE = -1


class Matrix:
    """Blocks of columns and rows of one LP (see the module docstring)."""

    def __init__(self, *, elastic: bool = False):
        self.elastic = elastic
        self.col_lo: list[np.ndarray] = []
        self.col_hi: list[np.ndarray] = []
        self.n_cols = 0
        self._costs: list[tuple[np.ndarray, np.ndarray]] = []
        self._rows: list[dict] = []        # blocks: lo, hi, key, section, family, year, entries
        self.n_rows = 0
        self._section = 0
        self.position: np.ndarray | None = None   # final row of each row id, after highs()
        self.families: list[str | None] = []
        self.row_years = np.zeros(0, dtype=int)
        self.slack_rows = np.zeros(0, dtype=int)   # rows (final positions) with slack columns, elastic only

    def section(self) -> None:
        """Start a new section: its rows come after every row added so far."""
        self._section += 1

    def columns(self, lo, hi, *, shape: tuple[int, ...] | None = None) -> np.ndarray:
        """Add columns with bounds ``lo``..``hi`` (broadcast to ``shape``); return their ids in that shape."""
        lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
        shape = np.broadcast_shapes(lo.shape, hi.shape) if shape is None else shape
        lo, hi = np.broadcast_to(lo, shape).ravel(), np.broadcast_to(hi, shape).ravel()
        ids = np.arange(self.n_cols, self.n_cols + lo.size)
        self.col_lo.append(lo)
        self.col_hi.append(hi)
        self.n_cols += lo.size
        return ids.reshape(shape)

    def objective(self, cols, coefs) -> None:
        """Add ``coefs`` (million yuan per unit) to the cost of columns ``cols`` (ids < 0 skipped)."""
        cols, coefs = (a.ravel() for a in np.broadcast_arrays(np.asarray(cols), np.asarray(coefs, dtype=float)))
        keep = cols >= 0
        self._costs.append((cols[keep], coefs[keep]))

    def rows(self, lo, hi, terms, *, order=None, family: str | None = None, year=0) -> np.ndarray:
        """Add ``n`` rows ``lo <= sum_k coef_k x col_k <= hi``; return their ids.

        ``terms``: (cols, coef) pairs, each ``cols`` an (n,) array of column ids (< 0: no
        term in that row) and ``coef`` a scalar or (n,) array. ``order``: (n,) sort keys
        within the section (default: in the order given, after the section's earlier rows).
        ``family`` None marks rows that always hold (never relaxed); ``year``: index per row.
        """
        lo, hi, year = _flat(lo, hi, year)
        n = lo.size
        r, c, v = [np.zeros(0, dtype=int)], [np.zeros(0, dtype=int)], [np.zeros(0)]
        for cols, coef in terms:
            cols = np.asarray(cols).ravel()
            coef = np.broadcast_to(np.asarray(coef, dtype=float).ravel(), (n,)) if np.ndim(coef) else np.full(n, coef)
            keep = cols >= 0
            r.append(np.flatnonzero(keep))
            c.append(cols[keep])
            v.append(coef[keep])
        return self._add_rows(lo, hi, np.concatenate(r), np.concatenate(c), np.concatenate(v),
                              order=order, family=family, year=year)

    def rows_coo(self, lo, hi, local, cols, vals, *, order=None, family: str | None = None, year=0) -> np.ndarray:
        """Add rows given as triplets: ``local`` row (0..n-1) of each entry, its column and coefficient."""
        lo, hi, year = _flat(lo, hi, year)
        return self._add_rows(lo, hi, np.asarray(local), np.asarray(cols), np.asarray(vals, dtype=float),
                              order=order, family=family, year=year)

    def _add_rows(self, lo, hi, local, cols, vals, *, order, family, year) -> np.ndarray:
        n = lo.size
        ids = np.arange(self.n_rows, self.n_rows + n)
        key = np.arange(n, dtype=float) + self.n_rows if order is None else np.asarray(order, dtype=float).ravel()
        self._rows.append({"lo": lo, "hi": hi, "key": key, "section": self._section, "family": family,
                           "year": year, "entries": (local + self.n_rows, cols, vals)})
        self.n_rows += n
        return ids

    def row_index(self, ids) -> np.ndarray:
        """Final positions (as HiGHS numbers the rows) of row ids."""
        return self.position[np.asarray(ids)]

    def highs(self) -> highspy.Highs:
        """A silent HiGHS instance holding this LP (minimise), rows sorted, slacks added when elastic."""
        blocks = self._rows
        section = np.concatenate([np.full(b["lo"].size, b["section"]) for b in blocks])
        key = np.concatenate([b["key"] for b in blocks])
        sorted_ids = np.lexsort((key, section))
        self.position = np.empty_like(sorted_ids)
        self.position[sorted_ids] = np.arange(sorted_ids.size)
        family = np.concatenate([np.full(b["lo"].size, b["family"], dtype=object) for b in blocks])
        self.families = list(family[sorted_ids])
        self.row_years = np.concatenate([b["year"] for b in blocks])[sorted_ids]
        row, col, val = (np.concatenate([b["entries"][i] for b in blocks]) for i in range(3))
        lo, hi = (np.concatenate([b[k] for b in blocks])[sorted_ids] for k in ("lo", "hi"))
        col_lo, col_hi = np.concatenate(self.col_lo), np.concatenate(self.col_hi)
        cost = np.zeros(self.n_cols)
        for cols, coefs in self._costs:
            np.add.at(cost, cols, coefs)
        row = self.position[row]
        if self.elastic:
            row, col, val, col_lo, col_hi, cost = self._with_slacks(row, col, val, col_lo, col_hi)
        matrix = sparse.csc_matrix((val, (row, col)), shape=(len(lo), len(col_lo)))
        matrix.sort_indices()
        h = silent_highs()
        h.passModel(_lp(matrix, col_lo, col_hi, cost, lo, hi))
        return h

    def _with_slacks(self, row, col, val, col_lo, col_hi):
        """Slack columns (up, down) of every relaxable row first; objective = their sum."""
        relax = np.flatnonzero(np.array([f is not None for f in self.families], dtype=bool))
        n_slack = 2 * relax.size
        self.slack_rows = relax
        up, down = np.arange(0, n_slack, 2), np.arange(1, n_slack, 2)
        row = np.concatenate([row, relax, relax])
        col = np.concatenate([col + n_slack, up, down])
        val = np.concatenate([val, np.ones(relax.size), -np.ones(relax.size)])
        col_lo = np.concatenate([np.zeros(n_slack), col_lo])
        col_hi = np.concatenate([np.full(n_slack, np.inf), col_hi])
        cost = np.concatenate([np.ones(n_slack), np.zeros(self.n_cols)])
        return row, col, val, col_lo, col_hi, cost

    @property
    def slack_offset(self) -> int:
        """Number of slack columns placed before the model's own (0 unless elastic)."""
        return 2 * len(self.slack_rows)


def silent_highs() -> highspy.Highs:
    """A HiGHS instance with output off; the banner HiGHS prints to fd 1 when a process makes its
    first instance goes to /dev/null (a library must not write to the user's terminal)."""
    sys.stdout.flush()
    saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)
    h.setOptionValue("output_flag", False)
    return h


def _flat(lo, hi, year) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row bounds and years broadcast to the rows' shape (that of ``lo``) and flattened."""
    lo = np.asarray(lo, dtype=float)
    hi, year = np.broadcast_to(np.asarray(hi, dtype=float), lo.shape), np.broadcast_to(np.asarray(year), lo.shape)
    return lo.ravel(), hi.ravel(), year.ravel().astype(int)


def _lp(matrix: sparse.csc_matrix, col_lo, col_hi, cost, row_lo, row_hi) -> highspy.HighsLp:
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = matrix.shape[1], matrix.shape[0]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, col_lo, col_hi
    lp.row_lower_, lp.row_upper_ = row_lo, row_hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = matrix.indptr, matrix.indices, matrix.data
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = matrix.shape[1], matrix.shape[0]
    return lp
