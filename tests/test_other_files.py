"""Other people's files (issue 10): Excel-mangled CPR numbers, Danish dates, keys, totals and
repeated header rows, unnamed columns, conflicting duplicates. Each case builds its own
files here; the accounting must balance on every one."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from openpyxl import Workbook
from stdnum.dk import cpr as stdnum_cpr
from test_bad_input import HEADERS, _assert_balanced, _clean, _rejects, _row, _write_csv

from vip2analysis.contract import DEMO_KEY, parse_cpr, pseudonymise

# --- 1. a CPR stored as a number in Excel ---------------------------------------------------


def _xlsx(path, rows, header=HEADERS):
    wb = Workbook()
    wb.active.append(list(header))
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


@pytest.mark.parametrize("day", [1, 5, 9])
def test_a_number_cell_cpr_gets_its_leading_zero_back(tmp_path, day):
    cpr = f"{day:02d}0380" + "1234"  # born on the 1st-9th: a leading zero Excel drops
    assert stdnum_cpr.is_valid(cpr) or stdnum_cpr.get_birth_date(cpr)  # a real date
    row = _row()
    row[0] = int(cpr)  # a number cell: 9 digits
    res = _clean(_xlsx(tmp_path / "f.xlsx", [row]))
    assert len(res.courses) == 1 and _rejects(res) == []
    notes = res.notes
    assert notes[["source_row", "column", "note"]].values.tolist() == [
        [2, "cpr", "cpr_leading_zero"]
    ]
    expected = pseudonymise(pd.Series([cpr]), key=DEMO_KEY).iloc[0]
    assert res.courses["person_id"].iloc[0] == expected
    birth = stdnum_cpr.get_birth_date(cpr)
    assert res.courses["birth_date"].iloc[0].date() == birth
    assert res.accounting_dict()["notes_by_kind"] == {"cpr_leading_zero": 1}
    _assert_balanced(res)


def test_a_nine_character_text_stays_invalid(tmp_path):
    res = _clean(_write_csv(tmp_path / "f.csv", [_row(CPR="101801234")]))
    assert [r[2] for r in _rejects(res)] == ["cpr_format"]
    assert res.notes.empty
    _assert_balanced(res)


def test_an_integer_cpr_column_of_a_dataframe_is_repaired():
    out = parse_cpr(pd.Series([101801234, 2110620629], dtype="int64"))
    assert out["cpr"].tolist() == ["0101801234", "2110620629"]
    for cpr in out["cpr"]:
        assert stdnum_cpr.get_birth_date(cpr) is not None


# --- 8. Danish dates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3. marts 2008", dt.date(2008, 3, 3)),
        ("3. mar. 2008", dt.date(2008, 3, 3)),
        ("3 marts 2008", dt.date(2008, 3, 3)),
        ("03.03.08", dt.date(2008, 3, 3)),
        ("3-3-08", dt.date(2008, 3, 3)),
        ("17. Oktober 2009", dt.date(2009, 10, 17)),
        ("1. sept. 2009", dt.date(2009, 9, 1)),
        ("15.06.95", dt.date(1995, 6, 15)),
    ],
)
def test_danish_dates_are_read(tmp_path, text, expected):
    res = _clean(_write_csv(tmp_path / "f.csv", [_row(Startdato=text, Slutdato="31-12-2009")]))
    assert _rejects(res) == []
    assert res.courses["start_date"].iloc[0].date() == expected
    _assert_balanced(res)


@pytest.mark.parametrize("text", ["31. februar 2008", "3. marz 2008", "3.3.", "2008-3"])
def test_what_is_not_a_date_is_still_rejected(tmp_path, text):
    res = _clean(_write_csv(tmp_path / "f.csv", [_row(Startdato=text)]))
    assert [r[1:3] for r in _rejects(res)] == [("start_date", "date_unparseable")]
    _assert_balanced(res)


# --- 9. keys: the README's recipe reproduces a pseudonym outside Python --------------------


def test_the_readmes_openssl_recipe_gives_the_same_pseudonym(repo_root):
    import re
    import shutil
    import subprocess

    if shutil.which("openssl") is None or shutil.which("xxd") is None:
        pytest.skip("openssl or xxd not installed")
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```\n(\s*printf '0101801234' \| openssl.*?)```", readme, re.S)
    assert block, "the README shows how to reproduce a pseudonym with openssl"
    command = block.group(1).replace("\\\n", " ")
    key = "a partner institution's key!"
    res = subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        env={"KEY": key, "PATH": "/usr/bin:/bin"},
    )
    if res.returncode != 0 and "BLAKE2BMAC" in res.stderr:
        pytest.skip("this openssl has no BLAKE2BMAC")
    assert res.returncode == 0, res.stderr
    expected = pseudonymise(pd.Series(["010180-1234"]), key=key.encode()).iloc[0]
    assert res.stdout.strip() == expected
