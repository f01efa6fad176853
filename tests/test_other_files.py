"""Other people's files (issue 10): Excel-mangled CPR numbers, Danish dates, keys, totals and
repeated header rows, unnamed columns, conflicting duplicates. Each case builds its own
files here; the accounting must balance on every one."""

from __future__ import annotations

import datetime as dt

import numpy as np
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


# --- 6. a conflicting duplicate names its counterpart and what differs ---------------------


def test_a_conflicting_duplicate_names_its_counterpart_and_the_columns(tmp_path):
    first = _write_csv(tmp_path / "a.csv", [_row(), _row(CPR="020280-1236")])
    second = _write_csv(
        tmp_path / "b.csv", [_row(CPR="020280-1236"), _row(Afgang="Uddannelse", Status="Afbrudt")]
    )
    res = _clean(first, second)
    conflicts = res.rejects.loc[res.rejects["reason"].eq("conflicting_duplicate")]
    assert len(conflicts) == 2
    by_file = conflicts.set_index("source_file")
    assert by_file.loc["a.csv", "raw_value"] == "b.csv row 3"
    assert by_file.loc["b.csv", "raw_value"] == "a.csv row 2"
    assert by_file.loc["a.csv", "column"] == "status, outcome" or set(
        by_file.loc["a.csv", "column"].split(", ")
    ) == {"status", "outcome"}
    assert "b.csv row 3 differs in" in by_file.loc["a.csv", "message"]
    assert not conflicts["message"].str.contains(r"\d{6}-?\d{4}").any()  # no CPR anywhere
    assert len(res.duplicates) == 1  # the exact copy of 020280-1236 is a duplicate, not a conflict
    _assert_balanced(res)


# --- 7. a value under an empty header is reported, not dropped silently ---------------------


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_values_under_an_empty_header_are_reported(tmp_path, form):
    header = [*HEADERS[:3], "", *HEADERS[3:]]
    rows = [[*_row()[:3], "note", *_row()[3:]], [*_row()[:3], "", *_row()[3:]]]
    rows[1][0] = "020280-1236"
    if form == "csv":
        path = _write_csv(tmp_path / "f.csv", rows, header=header)
    else:
        path = _xlsx(tmp_path / "f.xlsx", rows, header=header)
    res = _clean(path)
    assert len(res.courses) == 2 and _rejects(res) == []  # the rows stay
    note = res.notes.loc[res.notes["note"].eq("unnamed_column")]
    assert note[["source_row", "column"]].values.tolist() == [[1, "(no header, column 4)"]]
    assert note["message"].iloc[0].endswith(": 1 value(s)")
    assert res.accounting_dict()["unnamed_columns"] == {f"f.{form}": {"4": 1}}
    _assert_balanced(res)


# --- 10. totals rows and repeated header rows: one reject each, their own reason -----------


def test_a_totals_row_and_a_repeated_header_get_one_reject_each(tmp_path):
    totals = ["I alt", "", "", "", "", "", "3", "", "", "", "", ""]
    rows = [_row(), list(HEADERS), _row(CPR="020280-1236"), totals, ["Total:", *[""] * 11]]
    res = _clean(_write_csv(tmp_path / "f.csv", rows))
    assert _rejects(res) == [
        (3, "", "repeated_header", ""),
        (5, "", "totals_row", ""),
        (6, "", "totals_row", ""),
    ]
    assert len(res.courses) == 2
    _assert_balanced(res)


def test_a_municipality_named_like_a_header_word_is_not_a_header_row(tmp_path):
    res = _clean(_write_csv(tmp_path / "f.csv", [_row(Afgang="Status")]))
    assert [r[2] for r in _rejects(res)] == ["outcome_unknown"]
    _assert_balanced(res)


# --- 2. workbooks with a summary sheet first, and a named sheet ----------------------------


def _workbook(path, sheets):
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets:
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def test_a_summary_sheet_first_is_passed_over(tmp_path):
    from vip2analysis.io import read_file

    path = _workbook(
        tmp_path / "f.xlsx",
        [
            ("Oversigt", [["Antal forløb", 2], ["Udtræk", "30.06.2010"]]),
            ("Data", [list(HEADERS), _row()]),
        ],
    )
    raw = read_file(path)
    assert raw.kind == "courses" and len(raw.data) == 1
    res = _clean(path)
    assert len(res.courses) == 1
    _assert_balanced(res)


def test_no_data_sheet_names_every_sheet_tried(tmp_path):
    from vip2analysis.errors import RawFileError
    from vip2analysis.io import read_file

    path = _workbook(tmp_path / "f.xlsx", [("Oversigt", [["Antal", 2]]), ("Noter", [["tekst"]])])
    with pytest.raises(RawFileError) as err:
        read_file(path)
    msg = str(err.value)
    assert "f.xlsx" in msg and "'Oversigt'" in msg and "'Noter'" in msg and "--sheet" in msg


def test_a_named_sheet_is_read_and_a_wrong_name_lists_the_sheets(tmp_path):
    from vip2analysis.errors import RawFileError
    from vip2analysis.io import read_file

    rows_a = [list(HEADERS), _row()]
    rows_b = [list(HEADERS), _row(), _row(CPR="020280-1236")]
    path = _workbook(tmp_path / "f.xlsx", [("2009", rows_a), ("2010", rows_b)])
    assert len(read_file(path).data) == 1  # the first that fits
    assert len(read_file(path, sheet="2010").data) == 2
    with pytest.raises(RawFileError, match=r"no sheet named '2011'; its sheets are '2009', '2010'"):
        read_file(path, sheet="2011")


# --- 3. a DataFrame already in memory -------------------------------------------------------


def test_read_frame_takes_a_dataframe_with_optional_columns_missing():
    import vip2analysis as v2

    frame = pd.DataFrame(
        {
            "CPR": np.array([101801234, 2110620629], dtype="int64"),  # what pd.read_excel gives
            "Kommune": ["Aarhus", "Gladsaxe"],
            "Jobpakke": ["Bager", "Detailhandel"],
            "Startdato": pd.to_datetime(["2008-05-01", "2008-06-01"]),
            "Slutdato": pd.to_datetime(["2008-11-01", None]),
            "Status": ["Afsluttet", "I gang"],
            "Afgang": ["Ordinært job", None],
        }
    )
    raw = v2.read_frame(frame, name="export.xlsx")
    assert raw.kind == "courses" and raw.data["sex"].isna().all()
    res = v2.clean_tables([raw], key=DEMO_KEY)
    assert len(res.courses) == 2 and res.rejects.empty
    assert res.notes["note"].tolist() == ["cpr_leading_zero"]
    assert res.courses["sex"].tolist() == ["F", "M"]  # from the CPR, with its zero back
    _assert_balanced(res)


# --- 4. whole-folder runs: lock files, notes, several bad files, --keep-going, --exclude ---


def _folder_with_trouble(tmp_path):
    from test_bad_input import _write_csv as write

    raw = tmp_path / "raw"
    raw.mkdir()
    write(raw / "a.csv", [_row()])
    write(raw / "b.csv", [_row(CPR="020280-1236")])
    (raw / "~$forloeb.xlsx").write_bytes(b"\x00" * 165)  # Excel's lock file while open
    (raw / "noter.txt").write_text("husk at tjekke Aarhus\n", encoding="utf-8")
    (raw / ".DS_Store").write_bytes(b"\x00\x00")
    return raw


def test_lock_files_notes_and_hidden_files_are_passed_over_and_listed(tmp_path):
    from vip2analysis.clean import run_clean

    raw = _folder_with_trouble(tmp_path)
    res = run_clean(raw, tmp_path / "out", env={"VIP2_PSEUDONYM_KEY": "a key of 16 bytes+"})
    assert len(res.courses) == 2
    ignored = dict(res.ignored_files)
    assert set(ignored) == {"~$forloeb.xlsx", "noter.txt", ".DS_Store"}
    assert "lock file" in ignored["~$forloeb.xlsx"]
    import json

    accounting = json.loads((tmp_path / "out" / "accounting.json").read_text())
    assert {f["file"] for f in accounting["ignored_files"]} == set(ignored)
    _assert_balanced(res)


def test_every_bad_file_is_reported_at_once_and_nothing_is_written(tmp_path):
    from vip2analysis.clean import run_clean
    from vip2analysis.errors import CleanError

    raw = _folder_with_trouble(tmp_path)
    (raw / "c.csv").write_bytes(b"")
    (raw / "d.csv").write_text("x;y\n1;2\n", encoding="utf-8")
    with pytest.raises(CleanError) as err:
        run_clean(raw, tmp_path / "out", env={"VIP2_PSEUDONYM_KEY": "a key of 16 bytes+"})
    msg = str(err.value)
    assert "2 of 4 file(s) cannot be read" in msg and "c.csv" in msg and "d.csv" in msg
    assert not (tmp_path / "out").exists()
    res = run_clean(
        raw, tmp_path / "out", keep_going=True, env={"VIP2_PSEUDONYM_KEY": "a key of 16 bytes+"}
    )
    assert len(res.courses) == 2 and [f for f, _ in res.failed_files] == ["c.csv", "d.csv"]
    res = run_clean(
        raw,
        tmp_path / "out2",
        exclude=["c.*", "d.csv"],
        env={"VIP2_PSEUDONYM_KEY": "a key of 16 bytes+"},
    )
    assert not res.failed_files and ("c.csv", "excluded (--exclude)") in res.ignored_files


def test_the_cli_takes_explicit_files_and_exits_2_naming_every_bad_file(tmp_path):
    import subprocess
    import sys

    raw = _folder_with_trouble(tmp_path)
    (raw / "c.csv").write_bytes(b"")
    env = {"VIP2_PSEUDONYM_KEY": "a key of 16 bytes+", "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "vip2analysis", "clean", "--out", str(tmp_path / "o")]
    bad = subprocess.run([*cmd, "--raw", str(raw)], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "c.csv: the file is empty" in bad.stderr
    ok = subprocess.run([*cmd, str(raw / "a.csv")], capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr
    assert "a.csv" in ok.stdout and "b.csv" not in ok.stdout
    going = subprocess.run(
        [*cmd, "--raw", str(raw), "--keep-going"], capture_output=True, text=True, env=env
    )
    assert going.returncode == 0 and "not read" in going.stderr and "c.csv" in going.stderr


# --- 5. a user's configuration: vip2.yaml -------------------------------------------------

CONFIG = """\
aliases:
  cpr: [Personnr]
vocabulary:
  outcome:
    ordinary_employment: [Fast job]
job_packages:
  Lager og logistik: vip2
municipalities:
  "Kbh.": København
sheets:
  "aarhus*.xlsx": Data 2009
"""


def test_a_user_config_adds_aliases_wordings_packages_spellings_and_sheets(tmp_path):
    import json

    from vip2analysis.clean import run_clean

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "vip2.yaml").write_text(CONFIG, encoding="utf-8")
    header = ["Personnr", *HEADERS[1:]]
    _write_csv(raw / "a.csv", [_row(Afgang="Fast job", Kommune="Kbh.")], header=header)
    _write_csv(raw / "b.csv", [_row(CPR="020280-1236", Jobpakke="Lager og logistik")])
    _workbook(
        raw / "aarhus_2009.xlsx",
        [("Data 2009", [list(HEADERS), _row(CPR="030380-1238")]), ("Other", [list(HEADERS)])],
    )
    res = run_clean(raw, tmp_path / "out", env={"VIP2_PSEUDONYM_KEY": "a key of 16 bytes+"})
    assert _rejects(res) == [] and len(res.courses) == 3
    courses = res.courses.set_index("source_file")
    assert courses.loc["a.csv", "outcome"] == "ordinary_employment"
    assert courses.loc["a.csv", "municipality"] == "København"
    assert courses.loc["b.csv", "job_package_group"] == "vip2"
    accounting = json.loads((tmp_path / "out" / "accounting.json").read_text())
    import hashlib

    assert accounting["config"]["sha256"] == hashlib.sha256(CONFIG.encode()).hexdigest()
    assert "vip2.yaml" not in {f["file"] for f in accounting["ignored_files"]}
    _assert_balanced(res)
    # without the config, the same files are rejected or unreadable
    res_plain = run_clean(
        None,
        tmp_path / "out2",
        files=[raw / "b.csv"],
        env={"VIP2_PSEUDONYM_KEY": "a key of 16 bytes+"},
    )
    assert [r[2] for r in _rejects(res_plain)] == ["unknown_job_package"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("colour: red\n", "section `colour`: unknown; allowed: aliases, vocabulary"),
        ("aliases:\n  kpr: [x]\n", "aliases, `kpr`: not a contract column"),
        (
            "vocabulary:\n  outcome:\n    happy: [glad]\n",
            "vocabulary, `outcome`, `happy`: not a code",
        ),
        ("vocabulary:\n  mood: {}\n", "vocabulary, `mood`: unknown field"),
        (
            "job_packages:\n  Lager: new\n",
            "job_packages, `Lager`: group must be one of original, vip2",
        ),
        (
            "municipalities:\n  Kbh.: Kopenhagen\n",
            "municipalities, `Kbh.`: 'Kopenhagen' is not one",
        ),
        ("aliases: [cpr]\n", "aliases: expected a mapping"),
        ('aliases:\n  cpr: [""]\n', "aliases, `cpr`: expected a word"),
    ],
)
def test_a_wrong_config_entry_names_file_section_and_entry(tmp_path, text, needle):
    from vip2analysis.contract.user_config import load_user_config
    from vip2analysis.errors import ConfigError

    path = tmp_path / "vip2.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_user_config(path)
    assert str(err.value).startswith(str(path)) and needle in str(err.value)


def test_the_readmes_config_example_is_a_valid_config(repo_root, tmp_path):
    import re

    from vip2analysis.contract.user_config import load_user_config

    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(aliases:.*?)```", readme, re.S)
    assert block, "the README shows a vip2.yaml"
    path = tmp_path / "vip2.yaml"
    path.write_text(block.group(1), encoding="utf-8")
    config = load_user_config(path)
    assert ("Personnr", "cpr") in config.aliases
    assert config.sheet_for("aarhus_2009.xlsx") == "Data 2009"


def test_the_readmes_researcher_snippet_runs_on_files_made_here(repo_root, tmp_path, monkeypatch):
    """The README's researcher section, rerun: its Python block on two municipal files."""
    import re

    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n(import vip2analysis as v2\n.*?)```", readme, re.S)
    assert block, "the README shows how a researcher cleans files"
    key = tmp_path / "vip2.key"
    key.write_text("a key that is long enough\n", encoding="utf-8")
    _write_csv(tmp_path / "kommune_a.csv", [_row()])
    _xlsx(tmp_path / "kommune_b.xlsx", [_row(CPR="020280-1236")])
    monkeypatch.chdir(tmp_path)
    code = block.group(1).replace("/secure/place/vip2.key", str(key))
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    result = scope["result"]
    assert len(result.courses) == 2 and result.rejects.empty
    _assert_balanced(result)
