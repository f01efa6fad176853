"""The central test: cleaning the bundled raw files gives back the synthetic truth."""

from __future__ import annotations

import pandas as pd
import pytest

from vip2analysis.clean import clean_tables
from vip2analysis.contract import COURSE_COLUMNS, CPR_LIKE, DEMO_KEY
from vip2analysis.io import find_raw_files, read_file


@pytest.fixture(scope="module")
def result(synthetic_dir):
    return clean_tables([read_file(p) for p in find_raw_files(synthetic_dir)], key=DEMO_KEY)


def _truth(synthetic_dir, name):
    return pd.read_csv(synthetic_dir / "truth" / name, keep_default_na=False, na_values=[""])


def _comparable(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """Both sides as text with the same formatting, so that equality means equal values."""
    out = pd.DataFrame(index=frame.index)
    for col in columns:
        s = frame[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            s = s.dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_bool_dtype(s) or col == "work_ready":
            s = s.astype("string").str.lower()
        elif col == "years_without_activation":
            s = s.astype("Float64").round(2)
        out[col] = s.astype("string")
    return out


def test_courses_equal_truth_row_by_row(result, synthetic_dir):
    truth = _truth(synthetic_dir, "courses.csv")
    cols = [c for c in COURSE_COLUMNS]
    got = _comparable(result.courses, cols).set_index(["source_file", "source_row"]).sort_index()
    want = _comparable(truth, cols).set_index(["source_file", "source_row"]).sort_index()
    assert list(got.index) == list(want.index)
    diff = got.compare(want)
    assert diff.empty, diff.head(20).to_string()


def test_dissemination_equals_truth(result, synthetic_dir):
    amb = _truth(synthetic_dir, "ambassadors.csv")
    got = result.tables["ambassadors"]
    assert got["ambassador_id"].tolist() == amb["ambassador_id"].tolist()
    assert got["municipality"].tolist() == amb["municipality"].tolist()
    assert got["certified_date"].dt.strftime("%Y-%m-%d").tolist() == amb["certified_date"].tolist()
    act = _truth(synthetic_dir, "activities.csv")
    got = result.tables["activities"]
    assert got["kind"].tolist() == act["kind"].tolist()
    assert (
        got["recipients"].astype("Float64").tolist() == act["recipients"].astype("Float64").tolist()
    )


def test_every_listed_fault_is_rejected_or_repaired_for_its_reason(result, synthetic_dir):
    faults = _truth(synthetic_dir, "faults.csv")
    rejects = result.rejects
    dups = result.duplicates
    for f in faults.itertuples():
        where = (rejects["source_file"] == f.file) & (rejects["source_row"] == f.row)
        if f.action == "reject":
            assert set(rejects.loc[where, "reason"]) == {f.reason}, (f.file, f.row, f.kind)
        elif f.action == "duplicate":
            hit = (dups["source_file"] == f.file) & (dups["source_row"] == f.row)
            assert hit.sum() == 1 and not where.any(), (f.file, f.row)
        else:  # repaired: in the clean table (its values are checked against the truth above)
            clean = result.courses
            kept = (clean["source_file"] == f.file) & (clean["source_row"] == f.row)
            assert kept.sum() == 1 and not where.any(), (f.file, f.row, f.kind)


def test_nothing_else_is_rejected(result, synthetic_dir):
    faults = _truth(synthetic_dir, "faults.csv")
    expected = set(
        zip(
            faults.loc[faults.action == "reject", "file"],
            faults.loc[faults.action == "reject", "row"],
            strict=True,
        )
    )
    got = set(zip(result.rejects["source_file"], result.rejects["source_row"], strict=True))
    assert got == expected
    dup_expected = faults[faults.action == "duplicate"]
    assert len(result.duplicates) == len(dup_expected)


def test_accounting_holds_for_every_file(result):
    acc = result.accounting
    assert acc["balanced"].all()
    assert (
        acc["raw_rows"] == acc["clean_rows"] + acc["rejected_rows"] + acc["duplicate_rows"]
    ).all()
    summary = result.accounting_dict()
    assert summary["total"]["balanced"]
    assert summary["extra_columns"] == {"gladsaxe.csv": ["Sagsbehandler"]}


def test_no_cpr_survives_cleaning(result):
    for name, table in result.tables.items():
        assert "cpr" not in table.columns, name
        text = table.astype("string").fillna("")
        for col in text.columns:
            assert not text[col].str.contains(CPR_LIKE, regex=True).any(), (name, col)
    assert not result.rejects["raw_value"].astype(str).str.contains(CPR_LIKE).any()
