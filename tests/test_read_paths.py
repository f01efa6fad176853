"""The reader's two CSV paths agree: pyarrow (fast) and the csv module (the reference).

The fast path either gives the csv-module path's table or declines (returns None), so the
caller falls back. The only differences allowed: an empty line is a row of '' (not None)
and a column the file lacks is <NA> text (not None); both are empty cells to cleaning.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vip2analysis.io import read

HEADER = "CPR;Kommune;Jobpakke;Startdato;Slutdato;Status;Afgang"
ROW = "010180-1234;Århus;Lager;01-04-2007;06-12-2007;Gennemført;Uddannelse"
CELL = st.sampled_from(["a", "Å", " ", '"', '""', '"q;q"', '"m\nl"', "=1+1", "", "\u00a0", "€"])


def _both(data: bytes) -> tuple[read.RawTable | None, read.RawTable]:
    fast = read._fast_csv("f.csv", data)
    slow = read._table("f.csv", *read._from_csv(Path("f.csv"), data))
    return fast, slow


def _cells(table: read.RawTable) -> dict[str, list[object]]:
    empty = lambda v: v is None or v is pd.NA or v == ""  # noqa: E731
    return {c: ["" if empty(v) else v for v in table.data[c]] for c in sorted(table.data)}


def _assert_same(fast: read.RawTable, slow: read.RawTable) -> None:
    for attr in ("kind", "headers", "extra_columns", "encoding", "delimiter", "header_row"):
        assert getattr(fast, attr) == getattr(slow, attr), attr
    assert _cells(fast) == _cells(slow)
    assert fast.ragged.astype("int64").equals(slow.ragged.astype("int64"))


def test_fast_path_keeps_line_numbers_title_rows_blank_and_ragged_rows():
    text = f"Indberetning\n\n{HEADER}\n{ROW}\n\n1;2;3\n{ROW};;\n{ROW}\r\n   \n{ROW}\n"
    fast, slow = _both(text.encode("utf-8"))
    assert fast is not None
    _assert_same(fast, slow)
    assert fast.data["source_row"].tolist() == [4, 5, 7, 8, 9, 10]
    assert fast.ragged["source_row"].tolist() == [6]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_fast_path_reads_each_encoding(encoding):
    fast, slow = _both(f'{HEADER}\n{ROW}\n"=A1";"Ø; C";x;x;x;x;x\n'.encode(encoding))
    assert fast is not None and fast.encoding == encoding
    _assert_same(fast, slow)


def test_a_line_break_in_a_value_leaves_the_file_to_the_csv_module():
    fast, _ = _both(f'{HEADER}\n{ROW}\n1;"Å\nrhus";3;4;5;6;7\n'.encode())
    assert fast is None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.lists(CELL, min_size=5, max_size=9).map(";".join), max_size=8),
    end=st.sampled_from(["\n", "\r\n", "\r"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
)
def test_fast_path_gives_the_csv_module_table_or_declines(rows, end, encoding):
    data = end.join([HEADER, *rows, ""]).encode(encoding, errors="replace")
    fast, slow = _both(data)
    if fast is not None:
        _assert_same(fast, slow)
