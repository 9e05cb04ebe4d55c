"""Property tests (hypothesis): corrupt source tables fail cleanly
(gridcarbon.inputs.sources.read_sources): one InputError of one line naming the file, the
column and the record, never another exception type.

Examples are few (``max_examples`` 10-25) so the file runs in well under a minute.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridcarbon.core.errors import InputError
from gridcarbon.core.sectors import GRIDDED
from gridcarbon.inputs.regions import load_regions
from gridcarbon.inputs.sources import read_sources
from gridcarbon.testing import signed, yrd_grid, yrd_lonlat

REGIONS = load_regions("yrd")
FAST = settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow])
# points inside the YRD without rejection (gridcarbon.testing.yrd_lonlat)
lonlat = st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)).map(lambda t: yrd_lonlat(*t))
emission = st.floats(0.0, 1e8, allow_nan=False, allow_infinity=False)


COLUMNS = ["id", "sector", "emission_t", "lon", "lat"]
NUMERIC = ["emission_t", "lon", "lat"]
#: letters that can never turn a number into another number or a NaN spelling (no e, i, n, a, f, l)
JUNK = st.text(alphabet="ghjkmopqrstuvwxyz", min_size=1, max_size=4)


@st.composite
def valid_rows(draw):
    rows = []
    for i in range(draw(st.integers(2, 6))):
        sector = draw(st.sampled_from([s for s in GRIDDED]))
        lon, lat = draw(lonlat)
        rows.append({"id": f"r{i}", "sector": sector, "emission_t": signed(sector, draw(emission)),
                     "lon": lon, "lat": lat})
    return rows


def csv_text(rows: list[dict], columns=COLUMNS) -> str:
    return "".join(",".join(str(r[c]) for c in columns) + "\n" for r in [dict(zip(columns, columns))] + rows)


def read_text(text: str | bytes) -> gpd.GeoDataFrame:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plants.csv"
        path.write_bytes(text.encode() if isinstance(text, str) else text)
        return read_sources(path, "points", REGIONS, crs=yrd_grid(20_000.0).crs)


def fails_cleanly(text: str | bytes) -> InputError:
    """The read raises an InputError (a different exception type fails the test by propagating)."""
    with pytest.raises(InputError) as info:
        read_text(text)
    assert "\n" not in str(info.value) and "plants.csv" in str(info.value)
    return info.value


@settings(deadline=None, max_examples=10)
@given(rows=valid_rows())
def test_valid_tables_read(rows):
    frame = read_text(csv_text(rows))
    assert list(frame.id) == [r["id"] for r in rows]


@FAST
@given(rows=valid_rows(), column=st.sampled_from(COLUMNS))
def test_dropped_column(rows, column):
    err = fails_cleanly(csv_text(rows, [c for c in COLUMNS if c != column]))
    assert "missing column" in str(err) and column in str(err)


@FAST
@given(rows=valid_rows(), data=st.data())
def test_blank_cell(rows, data):
    k = data.draw(st.integers(0, len(rows) - 1))
    column = data.draw(st.sampled_from(COLUMNS))
    rows[k][column] = ""
    err = fails_cleanly(csv_text(rows))
    assert (f"row {k + 1}" if column == "id" else f"record {rows[k]['id']}") in str(err)


@FAST
@given(rows=valid_rows(), data=st.data())
def test_text_in_a_numeric_column(rows, data):
    k = data.draw(st.integers(0, len(rows) - 1))
    column = data.draw(st.sampled_from(NUMERIC))
    value = str(rows[k][column])
    at = data.draw(st.integers(0, len(value)))
    rows[k][column] = value[:at] + data.draw(JUNK) + value[at:]
    err = fails_cleanly(csv_text(rows))
    assert "not numeric" in str(err) and column in str(err) and f"record {rows[k]['id']}" in str(err)


@FAST
@given(rows=valid_rows(), data=st.data())
def test_duplicated_row(rows, data):
    k = data.draw(st.integers(0, len(rows) - 1))
    copy = dict(rows[k])
    rows.insert(data.draw(st.integers(0, len(rows))), copy)
    err = fails_cleanly(csv_text(rows))
    assert "duplicate id" in str(err) and f"record {copy['id']}" in str(err)


@FAST
@given(rows=valid_rows(), data=st.data())
def test_truncated_file(rows, data):
    """A file cut at any byte either fails with an InputError or reads as a prefix of the records."""
    text = csv_text(rows).encode()
    cut = data.draw(st.integers(0, len(text) - 1))
    try:
        frame = read_text(text[:cut])
    except InputError as err:
        assert "\n" not in str(err)
        return
    ids = [r["id"] for r in rows]
    assert 1 <= len(frame) <= len(rows) and list(frame.id) == ids[: len(frame)]
    assert cut > len(csv_text(rows[: len(frame) - 1]).encode())  # no record appears from nowhere
    np.testing.assert_array_equal(frame.emission_t[:-1], [r["emission_t"] for r in rows[: len(frame) - 1]])


@FAST
@given(rows=valid_rows(), data=st.data())
def test_damaged_byte(rows, data):
    """Any single byte replaced: an InputError or a table, never another exception type."""
    text = bytearray(csv_text(rows).encode())
    at = data.draw(st.integers(0, len(text) - 1))
    text[at] = data.draw(st.sampled_from(list(range(256))))
    try:
        frame = read_text(bytes(text))
    except InputError as err:
        assert "\n" not in str(err)
        return
    assert len(frame) <= len(rows) + 1 and frame.emission_t.notna().all()
