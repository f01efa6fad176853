"""The large synthetic DREAM extract for benchmarks: parquet and CSV.gz agree, the layout is
a DREAM extract's, and the files are reproducible from the seed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from vip2analysis.contract.dream import (
    Week,
    iso_weeks,
    load_dream_codes,
    parse_month_column,
    parse_week_column,
)
from vip2analysis.synth.large_dream import CSV_NAME, PARQUET_NAME, write_large_dream

PERSONS = 300


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("large_dream")
    return out, write_large_dream(out, persons=PERSONS, seed=7)


def test_both_files_hold_the_same_persons_and_cells(written: tuple[Path, dict]) -> None:
    out, meta = written
    assert (out / PARQUET_NAME).is_file() and (out / CSV_NAME).is_file()
    assert json.loads((out / "SYNTHETIC.json").read_text(encoding="utf-8"))["synthetic"]
    table = pq.read_table(out / PARQUET_NAME)
    csv = pd.read_csv(out / CSV_NAME, sep=";", dtype=str, keep_default_na=False)
    assert table.num_rows == len(csv) == meta["persons"] == PERSONS
    assert table.column_names == list(csv.columns)
    assert table.column_names[:3] == ["pnr", "kon", "kom"]
    # every cell the same: a null in parquet is an empty cell in the CSV
    for col in table.column_names:
        values = table.column(col).to_pylist()
        assert ["" if v is None else str(v) for v in values] == csv[col].tolist(), col
    assert csv["pnr"].str.fullmatch(r"\d{10}").all()
    assert set(csv["kon"]) <= {"K", "M"}


def test_layout_is_a_dream_extract(written: tuple[Path, dict]) -> None:
    out, meta = written
    names = pq.read_schema(out / PARQUET_NAME).names
    weekly = [c for c in names if c.startswith("y_")]
    monthly = [c for c in names if c.startswith("branche_")]
    assert names == ["pnr", "kon", "kom", *weekly, *monthly]
    weeks = [parse_week_column(c) for c in weekly]
    assert weeks == iso_weeks(Week(2000, 1), Week(2012, 52)) and len(weeks) == meta["weeks"]
    assert Week(2004, 53) in weeks and Week(2009, 53) in weeks
    assert [parse_month_column(c) for c in monthly] == [
        (y, m) for y in range(2008, 2013) for m in range(1, 13)
    ]
    csv = pd.read_csv(out / CSV_NAME, sep=";", dtype=str, keep_default_na=False)
    cells = pd.unique(csv[weekly].to_numpy().ravel())
    assert all(c == "" or (len(c) == 3 and c.isdigit()) for c in cells)
    codes = np.array([int(c) for c in cells if c])
    assert load_dream_codes().known(codes).all()
    assert {"730", "731", "", "997"} >= set(cells) and {"730", ""} <= set(cells)
    assert set(pd.unique(csv[monthly].to_numpy().ravel())) == {"", "1"}


def test_same_seed_same_bytes(written: tuple[Path, dict], tmp_path: Path) -> None:
    out, _ = written
    again = write_large_dream(tmp_path, persons=PERSONS, seed=7)
    for name in (PARQUET_NAME, CSV_NAME, "SYNTHETIC.json"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name
    assert again["files"][PARQUET_NAME] == (out / PARQUET_NAME).stat().st_size
    other = write_large_dream(tmp_path / "other", persons=PERSONS, seed=8)
    assert (tmp_path / "other" / CSV_NAME).read_bytes() != (out / CSV_NAME).read_bytes()
    assert other["persons"] == PERSONS
