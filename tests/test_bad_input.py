"""Bad input files: every one gives a reject with a reason or a clear error, never a traceback.

Each test writes its files into ``tmp_path``. Row-level problems become rejects and the
accounting still holds (raw rows = clean + rejected + duplicates, per file and in total);
file-level problems raise :class:`RawFileError` / :class:`CleanError` naming the file, and the
CLI exits with code 2 and the message on stderr.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from vip2analysis.clean import CleanResult, clean_tables, run_clean
from vip2analysis.contract import DEMO_KEY, DEMO_KEY_ID
from vip2analysis.errors import CleanError, RawFileError
from vip2analysis.io import read_file

HEADERS = (
    "CPR",
    "Kommune",
    "Jobpakke",
    "Startdato",
    "Slutdato",
    "Status",
    "Afgang",
    "Køn",
    "Oprindelsesland",
    "Opholdsgrundlag",
    "År uden aktivering",
    "Matchkategori",
)
# A made-up CPR number (born 1 January 1980, even last digit: a woman).
VALID = {
    "CPR": "010180-1234",
    "Kommune": "Høje-Taastrup",
    "Jobpakke": "Køkken og kantine",
    "Startdato": "01-05-2008",
    "Slutdato": "01-11-2008",
    "Status": "Afsluttet",
    "Afgang": "Løntilskud",
    "Køn": "K",
    "Oprindelsesland": "Irak",
    "Opholdsgrundlag": "Flygtning",
    "År uden aktivering": "2,5",
    "Matchkategori": "4",
}
FUZZ = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

FUZZ_CLEAN = settings(FUZZ, max_examples=25)  # each example cleans a file (~0.15 s)


def _row(**changes: str) -> list[str]:
    """A valid course row; keyword arguments replace cells by header (``Kommune=...``)."""
    return [changes.get(h, VALID[h]) for h in HEADERS]


def _write_csv(path: Path, rows, *, sep=";", encoding="utf-8", header=HEADERS) -> Path:
    lines = [sep.join(header), *(sep.join(r) for r in rows)]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def _clean(*paths: Path) -> CleanResult:
    return clean_tables([read_file(p) for p in paths], key=DEMO_KEY)


def _assert_balanced(result: CleanResult) -> None:
    acc = result.accounting
    parts = acc["clean_rows"] + acc["rejected_rows"] + acc["duplicate_rows"]
    assert (acc["raw_rows"] == parts).all(), acc.to_string()
    assert acc["balanced"].all()
    total = result.accounting_dict()["total"]
    assert (
        total["raw_rows"] == total["clean_rows"] + total["rejected_rows"] + total["duplicate_rows"]
    )


def _rejects(result: CleanResult) -> list[tuple[int, str, str, str]]:
    """(row, column, reason, raw value) of every reject, in file order."""
    r = result.rejects
    return list(
        zip(r["source_row"], r["column"], r["reason"], r["raw_value"].astype(str), strict=True)
    )


def _synthetic_folder(folder: Path) -> Path:
    """Mark ``folder`` as synthetic so that it may use the public demo key."""
    folder.mkdir(parents=True, exist_ok=True)
    marker = {"synthetic": True, "pseudonym_key": DEMO_KEY_ID}
    (folder / "SYNTHETIC.json").write_text(json.dumps(marker), encoding="utf-8")
    return folder


def _vip2_clean(raw: Path, out: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIP2_")}
    return subprocess.run(
        [sys.executable, "-m", "vip2analysis", "clean", "--raw", str(raw), "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
    )


# ---------------------------------------------------------------------------------------
# Files that cannot be read: a clear error naming the file
# ---------------------------------------------------------------------------------------


def _utf16(path: Path) -> None:
    _write_csv(path, [_row()], encoding="utf-16")


def _open_quote(path: Path) -> None:
    """A quote that is never closed: the csv module reads the rest as one huge cell."""
    _write_csv(path, [_row(Kommune='"Aarhus'), *([_row()] * 2000)])


def _missing_status(path: Path) -> None:
    header = [h for h in HEADERS if h != "Status"]
    path.write_text(";".join(header) + "\n", encoding="utf-8")


FATAL = {
    "empty.csv": (lambda p: p.write_bytes(b""), "empty"),
    "whitespace.csv": (lambda p: p.write_bytes(b"  \n\t\r\n   \n"), "empty"),
    "binary.csv": (lambda p: p.write_bytes(b"\x89PNG\x00\x01\xff\x00" * 64), "NUL"),
    "random.xlsx": (lambda p: p.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 8), "XLSX"),
    "utf16.csv": (_utf16, "UTF-16"),
    "open_quote.csv": (_open_quote, "quote"),
    "no_status.csv": (_missing_status, "`status`"),
}


@pytest.mark.parametrize("name", list(FATAL))
def test_unreadable_file_raises_read_error_naming_it(tmp_path, name):
    write, words = FATAL[name]
    write(tmp_path / name)
    with pytest.raises(RawFileError) as err:
        read_file(tmp_path / name)
    assert name in str(err.value) and words in str(err.value)


@pytest.mark.parametrize("name", list(FATAL))
def test_unreadable_file_makes_cli_exit_2_without_traceback(tmp_path, name):
    raw = _synthetic_folder(tmp_path / "raw")
    _write_csv(raw / "good.csv", [_row()])
    FATAL[name][0](raw / name)
    res = _vip2_clean(raw, tmp_path / "out")
    assert res.returncode == 2, res.stdout
    assert name in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "out" / "courses.parquet").exists()


def test_run_clean_raises_clean_error_naming_the_bad_file(tmp_path):
    raw = _synthetic_folder(tmp_path / "raw")
    _write_csv(raw / "good.csv", [_row()])
    (raw / "broken.csv").write_bytes(b"")
    with pytest.raises(CleanError, match=r"broken\.csv"):
        run_clean(raw, tmp_path / "out")


def test_missing_required_column_lists_the_headers_it_accepts(tmp_path):
    _missing_status(tmp_path / "x.csv")
    with pytest.raises(RawFileError) as err:
        read_file(tmp_path / "x.csv")
    message = str(err.value)
    assert "x.csv" in message and "`status`" in message
    assert "'Status'" in message and "'Forløbsstatus'" in message


@FUZZ
@given(st.binary(min_size=1, max_size=400), st.integers(0, 399))
def test_random_bytes_with_nul_named_csv_are_a_read_error(tmp_path, data, at):
    data = data[: at % len(data)] + b"\x00" + data[at % len(data) :]
    (tmp_path / "noise.csv").write_bytes(data)
    with pytest.raises(RawFileError, match=r"noise\.csv"):
        read_file(tmp_path / "noise.csv")


@FUZZ
@given(st.one_of(st.binary(max_size=400), st.binary(max_size=400).map(b"PK\x03\x04".__add__)))
def test_random_bytes_named_xlsx_are_a_read_error(tmp_path, data):
    (tmp_path / "noise.xlsx").write_bytes(data)
    with pytest.raises(RawFileError, match=r"noise\.xlsx"):
        read_file(tmp_path / "noise.xlsx")


# ---------------------------------------------------------------------------------------
# Files that are fine but unusual
# ---------------------------------------------------------------------------------------


def test_header_only_is_a_valid_file_with_no_rows(tmp_path):
    res = _clean(_write_csv(tmp_path / "h.csv", []))
    row = res.accounting.iloc[0]
    assert (row.raw_rows, row.clean_rows, row.rejected_rows, row.duplicate_rows) == (0, 0, 0, 0)
    assert res.courses.empty and res.rejects.empty
    _assert_balanced(res)


def test_cp1252_keeps_danish_letters(tmp_path):
    path = _write_csv(tmp_path / "cp.csv", [_row()], encoding="cp1252")
    raw = read_file(path)
    assert raw.encoding == "cp1252"
    course = _clean(path).courses.iloc[0]
    assert course["municipality"] == "Høje-Taastrup"
    assert course["job_package"] == "Køkken og kantine"


def test_utf8_with_bom_reads_the_first_header(tmp_path):
    path = _write_csv(tmp_path / "bom.csv", [_row()], encoding="utf-8-sig")
    raw = read_file(path)
    assert raw.encoding == "utf-8-sig" and raw.headers["cpr"] == "CPR"
    assert len(_clean(path).courses) == 1


def test_unknown_extra_column_is_kept_aside_and_reported(tmp_path):
    path = _write_csv(
        tmp_path / "extra.csv", [[*_row(), "ring tirsdag"]], header=(*HEADERS, "Noter")
    )
    raw = read_file(path)
    assert raw.extras["Noter"].tolist() == ["ring tirsdag"]
    res = _clean(path)
    assert res.extra_columns == {"extra.csv": ["Noter"]}
    assert len(res.courses) == 1 and "Noter" not in res.courses.columns


# ---------------------------------------------------------------------------------------
# Rows that are broken: a reject with a reason, accounting intact
# ---------------------------------------------------------------------------------------


def test_mixed_delimiters_are_rejected_row_by_row(tmp_path):
    comma_row = [",".join(_row())]  # one ';'-cell holding the whole row
    half_comma = [",".join(_row()[:4]), *_row()[4:]]  # fewer cells than the header
    comma_date = _row(Startdato="01,05,2008")  # right cell count, value fails
    res = _clean(_write_csv(tmp_path / "m.csv", [_row(), comma_row, half_comma, comma_date]))
    assert [(r, reason) for r, _, reason, _ in _rejects(res)] == [
        (3, "ragged_row"),
        (4, "ragged_row"),
        (5, "date_unparseable"),
    ]
    assert len(res.courses) == 1
    _assert_balanced(res)


def test_ragged_rows_are_rejected_but_trailing_empty_cells_are_not(tmp_path):
    rows = [[*_row(), "x", "y"], _row()[:5], [*_row(), "", " "]]
    res = _clean(_write_csv(tmp_path / "r.csv", rows))
    got = _rejects(res)
    assert [(r, reason) for r, _, reason, _ in got] == [(2, "ragged_row"), (3, "ragged_row")]
    assert got[0][3] == "14 cells, header has 12" and got[1][3] == "5 cells, header has 12"
    assert res.courses["source_row"].tolist() == [4]
    _assert_balanced(res)


def test_csv_formula_is_text_and_rejected_for_its_column(tmp_path):
    rows = [_row(CPR="=1+1"), _row(Kommune='=HYPERLINK("http://x";"Aarhus")')]
    res = _clean(_write_csv(tmp_path / "f.csv", rows, sep="\t"))
    assert [(r, c, reason, v) for r, c, reason, v in _rejects(res)] == [
        (2, "cpr", "cpr_format", "=1+1"),
        (3, "municipality", "municipality_unknown", '=HYPERLINK("http://x";"Aarhus")'),
    ]
    _assert_balanced(res)


def test_xlsx_formula_is_never_evaluated(tmp_path):
    wb = Workbook()
    wb.active.append(HEADERS)
    wb.active.append(_row(CPR="=1+1"))
    wb.active.append(_row(Kommune="=1+1"))
    wb.save(tmp_path / "f.xlsx")
    assert load_workbook(tmp_path / "f.xlsx").active["A2"].data_type == "f"  # a real formula
    res = _clean(tmp_path / "f.xlsx")
    assert _rejects(res) == [
        (2, "cpr", "cpr_format", "=1+1"),
        (3, "municipality", "municipality_unknown", "=1+1"),
    ]
    _assert_balanced(res)


@pytest.mark.parametrize(
    ("header", "value", "reason"),
    [
        ("CPR", "010180-12345", "cpr_format"),  # 11 digits
        ("CPR", "290223-1234", "cpr_date"),  # 29 February 1923 (7th digit 1): no such day
        ("CPR", "010180-5234", "age_out_of_range"),  # 7th digit 5 with year 80: born 1880
        ("Startdato", "29-02-2007", "date_unparseable"),
        ("Startdato", "01-05-1899", "date_out_of_range"),
        ("Slutdato", "01-01-2100", "date_out_of_range"),
    ],
)
def test_impossible_cpr_or_date_is_rejected_for_its_reason(tmp_path, header, value, reason):
    res = _clean(_write_csv(tmp_path / "d.csv", [_row(), _row(**{header: value})]))
    assert [(r, reason) for r, _, reason, _ in _rejects(res)] == [(3, reason)]
    assert res.courses["source_row"].tolist() == [2]
    _assert_balanced(res)


def test_leap_day_of_a_leap_year_is_accepted(tmp_path):
    rows = [_row(CPR="290280-1234", Startdato="29-02-2008")]
    course = _clean(_write_csv(tmp_path / "leap.csv", rows)).courses.iloc[0]
    assert str(course["birth_date"].date()) == "1980-02-29"
    assert str(course["start_date"].date()) == "2008-02-29"


def test_rejects_never_show_a_cpr_number(tmp_path):
    rows = [_row(CPR="010180-12345"), _row(CPR="290223-1234")]
    values = _clean(_write_csv(tmp_path / "c.csv", rows)).rejects["raw_value"].tolist()
    assert values == ["XXXXXX-XXXXX", "2902XX-XXXX"]


def test_accounting_holds_over_many_bad_files_together(tmp_path):
    files = [
        _write_csv(tmp_path / "a.csv", [_row(), _row(), [*_row(), "x"]]),  # duplicate, ragged
        _write_csv(tmp_path / "b.csv", [], encoding="cp1252"),
        _write_csv(tmp_path / "c.csv", [_row(CPR="0101801234"), [""] * 12], encoding="utf-8-sig"),
        _write_csv(tmp_path / "d.csv", [_row(Startdato="31-04-2008")], sep="\t"),
    ]
    res = _clean(*files)
    _assert_balanced(res)
    assert res.accounting["raw_rows"].tolist() == [3, 0, 2, 1]
    assert res.accounting_dict()["total"]["raw_rows"] == 6


cells = st.one_of(
    st.text(st.characters(codec="cp1252", exclude_characters="\r\n"), max_size=10),
    st.sampled_from(["010180-1234", "290223-1234", "Aarhus", "Lager", "01-05-2008", "=1+1"]),
    st.sampled_from(['"', "29-02-2007", "39000", "1,5", "-1", "K", "Job", "I gang", ""]),
)


@FUZZ_CLEAN
@given(
    rows=st.lists(st.lists(cells, max_size=14), max_size=8),
    sep=st.sampled_from([";", ",", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
)
def test_random_rows_under_a_valid_header_never_break_the_accounting(tmp_path, rows, sep, encoding):
    path = _write_csv(tmp_path / "fuzz.csv", rows, sep=sep, encoding=encoding)
    try:
        raw = read_file(path)
    except RawFileError as exc:  # e.g. rows of ',' that out-vote a ';' header in the sniff
        assert "fuzz.csv" in str(exc)
        return
    res = clean_tables([raw], key=DEMO_KEY)
    _assert_balanced(res)
    assert res.accounting["raw_rows"].iloc[0] == raw.n_rows


# ---------------------------------------------------------------------------------------
# A 200 MB file through the CLI
# ---------------------------------------------------------------------------------------

_BLOCK = 1000  # rows per block; each block has the faults below, the rest is valid
_FAULTS = {
    10: ("cpr_date", lambda cells: ["300280-1234", *cells[1:]]),
    20: ("date_unparseable", lambda cells: [*cells[:3], "31-04-2008", *cells[4:]]),
    30: ("unknown_job_package", lambda cells: [*cells[:2], "Astronaut", *cells[3:]]),
    40: ("ragged_row", lambda cells: [*cells, "x", "y"]),
    50: ("blank_row", lambda cells: [""] * len(cells)),
}
_DUPLICATE_AT = 60  # an exact copy of the row before it


def _large_block(first: int) -> bytes:
    """One block of ``_BLOCK`` rows with distinct made-up CPR numbers from index ``first``."""
    base, lines = _row(), []
    for j in range(_BLOCK):
        i = first + j - (j == _DUPLICATE_AT)
        d, seq = divmod(i, 4000)  # 7th digit 0-3: born in the 1900s
        cpr = f"{1 + d % 28:02d}{1 + d // 28 % 12:02d}{60 + d // 336:02d}-{seq:04d}"
        cells = [cpr, *base[1:7], "KM"[seq % 2], *base[8:]]  # sex as the CPR's last digit
        if j in _FAULTS:
            cells = _FAULTS[j][1](cells)
        lines.append(";".join(cells))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _write_large(path: Path, size: int) -> int:
    """Write at least ``size`` bytes of course rows; return the number of blocks."""
    blocks = 0
    with path.open("wb") as fh:
        fh.write((";".join(HEADERS) + "\n").encode("utf-8"))
        while fh.tell() < size:
            fh.write(b"".join(_large_block((blocks + k) * _BLOCK) for k in range(100)))
            blocks += 100
    return blocks


@pytest.mark.slow
def test_200_mb_file_is_cleaned_by_the_cli_with_balanced_accounting(tmp_path):
    raw = _synthetic_folder(tmp_path / "raw")
    try:
        blocks = _write_large(raw / "large.csv", 200 * 2**20)
        started = time.perf_counter()
        res = _vip2_clean(raw, tmp_path / "out")
        print(f"vip2 clean on {blocks * _BLOCK} rows: {time.perf_counter() - started:.0f} s")
        assert res.returncode == 0, res.stderr
        acc = json.loads((tmp_path / "out" / "accounting.json").read_text(encoding="utf-8"))
    finally:
        shutil.rmtree(tmp_path / "raw")
        shutil.rmtree(tmp_path / "out", ignore_errors=True)
    total = acc["total"]
    assert total["balanced"] and total["raw_rows"] == blocks * _BLOCK
    assert acc["rejects_by_reason"] == {reason: blocks for reason, _ in _FAULTS.values()}
    assert total["duplicate_rows"] == blocks
    assert total["clean_rows"] == blocks * (_BLOCK - len(_FAULTS) - 1)


def test_large_file_block_is_valid_apart_from_its_faults(tmp_path):
    """The slow test's generator, on one small block (so its expectations are checked fast)."""
    path = tmp_path / "block.csv"
    path.write_bytes((";".join(HEADERS) + "\n").encode() + _large_block(0))
    res = _clean(path)
    _assert_balanced(res)
    reasons = res.rejects.drop_duplicates("source_row")["reason"].value_counts().to_dict()
    assert reasons == {reason: 1 for reason, _ in _FAULTS.values()}
    assert len(res.duplicates) == 1 and len(res.courses) == _BLOCK - len(_FAULTS) - 1
