"""Ids pseudonymised before cleaning (issue 10, item 11): Statistics Denmark's research
machines hold the project's pseudonymised PNR, not CPR numbers.

``ids="pseudonymised"`` (``vip2 clean --ids pseudonymised``) keeps such ids as ``person_id``
without validation or hashing, takes sex and birth date from their own columns (or leaves
them missing), and refuses ids that could be real CPR numbers. The notebooks say which
figures cannot be made without them. Each case builds its own files here.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from stdnum.dk import cpr as stdnum_cpr
from stdnum.exceptions import InvalidComponent
from test_bad_input import HEADERS as CPR_HEADERS
from test_bad_input import _assert_balanced, _rejects, _row, _write_csv
from typer.testing import CliRunner

from vip2analysis.build.runner import build
from vip2analysis.clean import clean_tables, run_clean
from vip2analysis.cli import app
from vip2analysis.contract import DEMO_KEY, clean_schemas, parse_cpr
from vip2analysis.contract.schema import ALIASES
from vip2analysis.errors import ParameterError
from vip2analysis.io import read_file, read_frame

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

HEADERS = ("PNR", "Kommune", "Jobpakke", "Startdato", "Slutdato", "Status", "Afgang")


def _course(pnr, **extra):
    row = dict(zip(HEADERS[1:], _row()[1:7], strict=True))
    return {"PNR": pnr, **row, **extra}


def _own_ids(rows: list[dict], name: str = "dst.csv"):
    return clean_tables([read_frame(pd.DataFrame(rows), name=name)], key=None, ids="pseudonymised")


def test_pseudonymised_ids_are_kept_as_they_are_without_a_key():
    rows = [_course(f"P{n:09d}") for n in (1, 2, 3)]
    rows[1]["Startdato"] = "01-06-2008"
    res = _own_ids(rows)
    assert res.courses["person_id"].tolist() == ["P000000001", "P000000002", "P000000003"]
    assert _rejects(res) == []
    assert res.accounting_dict()["ids"] == "pseudonymised"
    _assert_balanced(res)


def test_the_same_file_without_the_mode_is_rejected_row_by_row_as_before():
    """What stopped a researcher at Statistics Denmark: every pseudonym is a bad CPR."""
    rows = [_course(f"P{n:09d}") for n in (1, 2, 3)]
    res = clean_tables([read_frame(pd.DataFrame(rows), name="dst.csv")], key=DEMO_KEY)
    assert res.courses.empty
    assert {r[2] for r in _rejects(res)} == {"cpr_format"}
    _assert_balanced(res)


def test_sex_and_birth_date_come_from_their_columns_or_stay_missing():
    rows = [
        _course("A1", **{"Køn": "K", "Fødselsdato": "03.04.1975"}),
        _course("A2", **{"Køn": "", "Fødselsdato": ""}),
        _course("A3", **{"Køn": "Mand", "Fødselsdato": "1. marts 1980"}),
    ]
    res = _own_ids(rows)
    c = res.courses
    assert c["sex"].tolist()[::2] == ["F", "M"] and pd.isna(c["sex"].iloc[1])
    assert c["birth_date"].dt.strftime("%Y-%m-%d").tolist()[::2] == ["1975-04-03", "1980-03-01"]
    assert pd.isna(c["birth_date"].iloc[1]) and pd.isna(c["age_at_start"].iloc[1])
    assert c["age_at_start"].tolist()[::2] == [33, 28]  # start 1 May 2008
    clean_schemas("pseudonymised")["courses"].validate(c)
    _assert_balanced(res)


def test_without_sex_and_birth_date_columns_they_are_missing():
    res = _own_ids([_course("A1"), _course("A2")])
    assert res.courses[["sex", "birth_date", "age_at_start"]].isna().all().all()
    _assert_balanced(res)


def test_a_birth_date_column_is_checked_in_its_own_right():
    rows = [
        _course("A1", **{"Fødselsdato": "31-02-1980"}),
        _course("A2", **{"Fødselsdato": "1-1-2030"}),
    ]
    res = _own_ids(rows)
    assert [(r[1], r[2]) for r in _rejects(res)] == [
        ("birth_date", "date_unparseable"),
        ("birth_date", "age_out_of_range"),  # born after the course started
    ]
    _assert_balanced(res)


@pytest.mark.parametrize(
    "pnr",
    [
        "010180-1234",  # a CPR as it is written
        "0101801234",  # without the dash
        " 3112991234 ",  # around spaces
        101801234,  # a number cell that lost its leading zero
    ],
)
def test_ids_that_could_be_real_cpr_numbers_are_refused_and_masked(pnr):
    res = _own_ids([_course(pnr), _course("P1")])
    assert [(r[0], r[1], r[2]) for r in _rejects(res)] == [(2, "cpr", "id_looks_like_cpr")]
    assert res.courses["person_id"].tolist() == ["P1"]
    shown = res.rejects.to_csv(index=False)
    assert not re.search(r"\d{6}-?\d{3,4}", shown), shown  # no CPR in the rejects
    assert "--ids cpr" in res.rejects["message"].iloc[0]
    _assert_balanced(res)


@pytest.mark.parametrize(
    "pnr",
    [
        "3201801234",  # day 32: no date
        "0113801234",  # month 13
        "01018012345",  # 11 digits
        "AB01018012",  # letters
        "0101801234X",
    ],
)
def test_ids_that_cannot_be_a_cpr_number_are_kept(pnr):
    res = _own_ids([_course(pnr)])
    assert res.courses["person_id"].tolist() == [pnr] and _rejects(res) == []


def test_a_ten_digit_id_is_refused_exactly_when_it_begins_with_a_real_birth_date():
    """python-stdnum as the oracle: its CPR birth date (with the century rule) exists."""
    ids = [
        f"{d:02d}{m:02d}{y:02d}{s:04d}"
        for d in (0, 1, 29, 31)
        for m in (2, 4, 12, 13)
        for y in (0, 80)
        for s in (1, 4999, 9999)
    ]
    res = _own_ids([_course(i) for i in ids])
    kept = set(res.courses["person_id"])
    for i in ids:
        try:
            stdnum_cpr.get_birth_date(i)
            real = True
        except InvalidComponent:
            real = False
        assert (i not in kept) == real, i
    assert 0 < len(kept) < len(ids)
    _assert_balanced(res)


def test_missing_spaced_and_overlong_ids_are_rejected_with_their_reasons():
    res = _own_ids([_course(""), _course("A 1"), _course("A" * 65), _course("A" * 64)])
    assert [(r[0], r[2]) for r in _rejects(res)] == [
        (2, "id_missing"),
        (3, "id_format"),
        (4, "id_format"),
    ]
    assert res.courses["person_id"].tolist() == ["A" * 64]
    _assert_balanced(res)


def test_duplicates_use_the_pseudonym_as_the_key():
    rows = [_course("A1"), _course("A1"), _course("A2"), _course("A2", Afgang="Uddannelse")]
    res = _own_ids(rows)
    assert res.courses["person_id"].tolist() == ["A1"]
    assert len(res.duplicates) == 1
    assert [r[2] for r in _rejects(res)] == ["conflicting_duplicate"] * 2
    _assert_balanced(res)


def test_cpr_mode_checks_a_birth_date_column_against_the_cpr_number(tmp_path):
    headers = (*CPR_HEADERS, "Fødselsdato")
    path = _write_csv(
        tmp_path / "f.csv",
        [
            [*_row(), "01-01-1980"],
            [*_row(CPR="020180-1234"), "01-01-1980"],
        ],
        header=headers,
    )
    res = clean_tables([read_file(path)], key=DEMO_KEY)
    assert [(r[0], r[1], r[2]) for r in _rejects(res)] == [
        (3, "birth_date", "birth_date_cpr_conflict")
    ]
    _assert_balanced(res)


def test_cpr_mode_still_needs_a_key_and_the_mode_is_checked():
    table = read_frame(pd.DataFrame([_course("A1")]), name="f.csv")
    with pytest.raises(ParameterError, match="key"):
        clean_tables([table], key=None)
    with pytest.raises(ParameterError, match="pseudonymised"):
        clean_tables([table], key=None, ids="hashed")  # type: ignore[arg-type]


def test_the_command_line_cleans_a_folder_of_pseudonyms_without_a_key(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    pd.DataFrame([_course("P1"), _course("0101801234")]).to_csv(
        raw / "dst.csv", sep=";", index=False
    )
    out = tmp_path / "processed"
    runner = CliRunner()
    refused = runner.invoke(app, ["clean", "--raw", str(raw), "--out", str(out), "--ids", "foo"])
    assert refused.exit_code == 2 and "--ids" in refused.output
    without = runner.invoke(app, ["clean", "--raw", str(raw), "--out", str(out)])
    assert without.exit_code != 0 and "key" in str(without.exception)  # CPR mode needs one
    done = runner.invoke(
        app, ["clean", "--raw", str(raw), "--out", str(out), "--ids", "pseudonymised"]
    )
    assert done.exit_code == 0, done.output
    acc = json.loads((out / "accounting.json").read_text(encoding="utf-8"))
    assert acc["ids"] == "pseudonymised" and acc["total"]["balanced"]
    assert acc["rejects_by_reason"] == {"id_looks_like_cpr": 1}
    assert pd.read_parquet(out / "courses.parquet")["person_id"].tolist() == ["P1"]
    assert "0101801234" not in (out / "rejects.csv").read_text(encoding="utf-8")


# --- the notebooks, on a whole pseudonymised data set ---------------------------------


def _pseudonym(cpr: str) -> str:
    return "P" + hashlib.sha256(cpr.encode()).hexdigest()[:12]


def _pseudonymised_copy(synthetic: Path, folder: Path, keep: tuple[str, ...] = ()) -> Path:
    """The synthetic set as Statistics Denmark would hand it over: person ids replaced by
    pseudonyms, sex and birth date only where ``keep`` names them."""
    folder.mkdir(parents=True)
    for path in sorted(synthetic.iterdir()):
        if path.name.startswith("dream"):  # the register extract, with the same pseudonyms
            extract = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
            extract["pnr"] = [_pseudonym(v) for v in extract["pnr"]]
            if "sex" not in keep:
                extract = extract.drop(columns="kon")
            extract.to_csv(folder / "dream_extract.csv", sep=";", index=False)
            continue
        if path.suffix not in (".csv", ".xlsx"):
            continue
        raw = read_file(path)
        if raw.kind not in ("courses", "comparison"):
            shutil.copy(path, folder / path.name)
            continue
        frame = raw.data.drop(columns=["source_file", "source_row"])
        person = parse_cpr(frame["cpr"].astype(object))  # what the CPR number said
        frame["birth_date"] = person["birth_date"].dt.strftime("%d-%m-%Y")
        frame["sex"] = frame["sex"].where(frame["sex"].notna(), person["sex"].map({"F": "K"}))
        frame["cpr"] = [
            None if pd.isna(v) else _pseudonym(n if isinstance(n, str) else str(v))
            for v, n in zip(frame["cpr"], person["cpr"], strict=True)
        ]
        frame = frame.drop(columns=[c for c in ("sex", "birth_date") if c not in keep])
        frame = frame.dropna(axis=1, how="all")
        frame.columns = [
            "PNR" if c == "cpr" else ALIASES[c][0] if c in ALIASES else c for c in frame.columns
        ]
        frame.to_csv(folder / f"{path.stem}.csv", sep=";", index=False)
    return folder


def _markdown(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return [
        "".join(out["data"]["text/markdown"])
        for cell in cells
        for out in cell.get("outputs", [])
        if "text/markdown" in out.get("data", {})
    ]


@pytest.mark.slow
def test_notebooks_say_which_figures_cannot_be_made_without_sex_and_birth_date(
    tmp_path, synthetic_dir
):
    raw = _pseudonymised_copy(synthetic_dir, tmp_path / "raw")
    processed = tmp_path / "processed"
    first = run_clean(raw, processed, ids="pseudonymised")
    assert first.courses[["sex", "birth_date"]].isna().all().all()
    with (raw / "gladsaxe.csv").open("a", encoding="utf-8") as fh:
        fh.write("\n")  # a changed raw folder: the build re-cleans it, in the same mode
    out = tmp_path / "out"
    result = build(
        notebooks_dir=NOTEBOOKS,
        processed=processed,
        out=out,
        periods=["method"],
        notebooks=["03_employment_by_group", "04_effects"],
        workers=2,
    )
    assert {j.status for j in result.jobs} == {"ok"}, [j.error for j in result.jobs]
    acc = json.loads((processed / "accounting.json").read_text(encoding="utf-8"))
    assert acc["ids"] == "pseudonymised" and acc["total"]["clean_rows"] > 500
    by_group = _markdown(out / "method/03_employment_by_group/03_employment_by_group.ipynb")
    assert any("pseudonymiseret før rensningen" in m for m in by_group)
    assert any("Mangler i data:** køn, alder ved start" in m for m in by_group)
    assert any("Kan ikke laves:** figurer og tabeller fordelt på køn" in m for m in by_group)
    figures = {p.stem for p in (out / "method/03_employment_by_group/figures").glob("*.png")}
    assert "beskaeftigelse_sex" not in figures and "beskaeftigelse_duration_band" in figures
    effects = _markdown(out / "method/04_effects/04_effects.ipynb")
    assert any("Ikke med i modellen:** køn, alder" in m for m in effects)
    shown = pd.read_csv(out / "method/04_effects/tables/effekt_deltagelse.csv")
    assert not shown["term"].str.contains("sex").any()
    assert shown["term"].str.contains("duration_band").any()


@pytest.mark.slow
def test_with_sex_and_birth_date_columns_every_figure_is_made(tmp_path, synthetic_dir):
    raw = _pseudonymised_copy(synthetic_dir, tmp_path / "raw", keep=("sex", "birth_date"))
    processed = tmp_path / "processed"
    res = run_clean(raw, processed, ids="pseudonymised")
    # all but the few rows whose synthetic CPR number was a fault (no sex, no birth date)
    assert res.courses[["sex", "birth_date", "age_at_start"]].notna().mean().min() > 0.98
    out = tmp_path / "out"
    result = build(
        notebooks_dir=NOTEBOOKS,
        processed=processed,
        out=out,
        periods=["method"],
        notebooks=["03_employment_by_group"],
    )
    assert {j.status for j in result.jobs} == {"ok"}
    md = _markdown(out / "method/03_employment_by_group/03_employment_by_group.ipynb")
    assert not any("Mangler i data" in m for m in md)
    assert (out / "method/03_employment_by_group/figures/beskaeftigelse_sex.png").is_file()
