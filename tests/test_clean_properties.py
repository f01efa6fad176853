"""Property tests of cleaning: nothing invented, nothing lost, input untouched, schema kept.

Raw course tables are generated column by column from a mix of valid values (in the
styles senders use) and invalid ones, with a small pool of persons and start dates so that
duplicates and conflicting duplicates occur. Runs are derandomised (reproducible).
"""

from __future__ import annotations

import copy
import datetime as dt

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from vip2analysis.clean import CleanResult, clean_tables, parse_dates
from vip2analysis.contract import (
    COURSE_COLUMNS,
    DEMO_KEY,
    OPTIONAL,
    REQUIRED,
    clean_schemas,
    job_packages,
    match_municipality,
    municipalities,
    parse_cpr,
)
from vip2analysis.io import RawTable, read_file

CLEANING = settings(max_examples=20, derandomize=True, deadline=None)  # ~0.3 s per clean
PARSING = settings(max_examples=100, derandomize=True, deadline=None)
RAW_COLUMNS = (*REQUIRED["courses"], *OPTIONAL["courses"])
MUNICIPALITIES = municipalities()["name"].tolist()
CODES = municipalities()["code"].tolist()
PACKAGES = job_packages()["name"].tolist()

# ---------------------------------------------------------------------------------------
# Strategies: one per raw column, valid and invalid values mixed
# ---------------------------------------------------------------------------------------

# Made-up CPR numbers (7th digit 0-3: born in the 1900s); a small pool makes duplicates.
PERSONS = ["010180-1234", "0101801235", " 150575-2346 ", "311265-3457", "290280-0128"]


@st.composite
def _cpr(draw) -> str:
    day, month = draw(st.integers(1, 28)), draw(st.integers(1, 12))
    yy, serial = draw(st.integers(0, 99)), draw(st.integers(0, 9999))
    return f"{day:02d}{month:02d}{yy:02d}{draw(st.sampled_from(['-', '']))}{serial:04d}"


def _date_text(date: dt.date) -> st.SearchStrategy:
    """One date in every style a sender may use (text, Excel cell, Excel serial number)."""
    serial = (date - dt.date(1899, 12, 30)).days
    return st.sampled_from(
        [
            date.strftime("%d-%m-%Y"),
            f"{date.day}.{date.month}.{date.year}",
            date.isoformat(),
            date.strftime("%d/%m/%Y"),
            date.strftime("%d-%m-%Y 00:00:00"),
            dt.datetime(date.year, date.month, date.day),
            serial,
            str(serial),
        ]
    )


BAD_DATES = ["29-02-2007", "31.4.2008", "01-05-1899", "2100-01-01", "13/13/2008", "snart"]
course_dates = st.one_of(
    st.sampled_from([dt.date(2007, 5, 1), dt.date(2008, 2, 29)]),  # shared: duplicates
    st.dates(dt.date(2006, 1, 1), dt.date(2011, 12, 31)),
)


def _mixed(valid: st.SearchStrategy, invalid: list) -> st.SearchStrategy:
    """About one value in 20 invalid, so that many rows are clean."""
    return st.integers(0, 19).flatmap(lambda i: st.sampled_from(invalid) if i == 19 else valid)


_municipality_variant = st.sampled_from(MUNICIPALITIES).flatmap(
    lambda name: st.sampled_from([name, f"Jobcenter {name}", f"{name} Kommune", name.upper()])
)
COLUMN_VALUES = {
    "cpr": _mixed(
        st.one_of(st.sampled_from(PERSONS), _cpr()),
        ["010180-12345", "290223-1234", "=1+1", " ", None, float("nan"), 101801234],
    ),
    "municipality": _mixed(
        st.one_of(_municipality_variant, st.sampled_from(CODES).map(lambda c: f"0{c}")),
        ["Atlantis", "=1+1", "  ", None, 999],
    ),
    "job_package": _mixed(st.sampled_from([*PACKAGES, "rengøring", "SOSU"]), ["Astronaut", None]),
    "status": _mixed(st.sampled_from(["Afsluttet", "I gang", "Afbrudt"]), ["Måske", None]),
    "outcome": _mixed(
        st.sampled_from(["Løntilskud", "Ordinært job", "Uddannelse", "Kontanthjælp", "Afbrudt"]),
        ["Lotto", None],
    ),
    "sex": _mixed(st.sampled_from([None, None, None, None, None, "K", "mand"]), ["X"]),
    "country_of_origin": _mixed(
        st.sampled_from(["Irak", "Somalia", "tyrkiet", "Sri Lanka", "Norge", None]), ["Atlantis"]
    ),
    "residence_basis": _mixed(
        st.sampled_from(["Flygtning", "Familiesammenført", "Andet", None]), ["Turist"]
    ),
    "years_without_activation": _mixed(
        st.sampled_from(["2,5", "0", 3, 1.5, "0,123", None, None]), ["61", "-1", "x"]
    ),
    "match_category": _mixed(st.sampled_from(["1", "3", 4, "5", None]), ["6", "2,5", "x"]),
    "match_group": _mixed(st.sampled_from([None, None, None, "1", 2]), ["4"]),
}


@st.composite
def raw_rows(draw) -> dict:
    """One raw course row; the dates are drawn around the start so that most fit together."""
    row = draw(st.fixed_dictionaries(COLUMN_VALUES))
    start = draw(course_dates)
    end = start + dt.timedelta(days=draw(st.integers(-30, 600)))  # sometimes before start
    last = start - dt.timedelta(days=draw(st.integers(-30, 5000)))  # sometimes after start
    row["start_date"] = draw(_mixed(_date_text(start), [*BAD_DATES, None]))
    row["end_date"] = draw(
        _mixed(st.sampled_from([None, float("nan")]) | _date_text(end), BAD_DATES)
    )
    row["last_activation"] = draw(_mixed(st.one_of(st.none(), _date_text(last)), ["x"]))
    return row


@st.composite
def _file_rows(draw) -> list[dict]:
    """Rows of one file, some sent twice: exactly, or with another outcome (a conflict)."""
    rows = draw(st.lists(raw_rows(), max_size=10))
    if rows:
        for i in draw(st.lists(st.integers(0, len(rows) - 1), max_size=2)):
            rows.append(dict(rows[i]))
        for i in draw(st.lists(st.integers(0, len(rows) - 1), max_size=1)):
            rows.append({**rows[i], "outcome": "Uddannelse" if rows[i]["outcome"] else "Job"})
    return rows


def _raw_table(file: str, rows: list[dict], n_ragged: int) -> RawTable:
    """A RawTable as the reader would give it: ragged rows after the body rows."""
    data = pd.DataFrame({c: pd.Series([r.get(c) for r in rows], dtype=object) for c in RAW_COLUMNS})
    data["source_file"] = file
    data["source_row"] = pd.Series(range(2, len(rows) + 2), dtype="int64")
    first_ragged = len(rows) + 2
    ragged = pd.DataFrame(
        {
            "source_row": range(first_ragged, first_ragged + n_ragged),
            "cells": [14] * n_ragged,
            "expected": [12] * n_ragged,
        }
    )
    return RawTable(file, "courses", data, ragged, [], pd.DataFrame(), {})


raw_tables = st.lists(st.tuples(_file_rows(), st.integers(0, 2)), min_size=1, max_size=2).map(
    lambda files: [_raw_table(f"f{i}.csv", r, n) for i, (r, n) in enumerate(files)]
)


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def _clean(tables: list[RawTable], key: bytes = DEMO_KEY) -> CleanResult:
    return clean_tables(tables, key=key)


def _raw_keys(tables: list[RawTable]) -> set[tuple[str, int]]:
    keys = set()
    for t in tables:
        rows = [*t.data["source_row"].tolist(), *t.ragged["source_row"].tolist()]
        keys |= {(t.file, int(r)) for r in rows}
    return keys


def _keys(frame: pd.DataFrame) -> list[tuple[str, int]]:
    return list(zip(frame["source_file"], frame["source_row"].astype(int), strict=True))


def _cprs_of(tables: list[RawTable], courses: pd.DataFrame) -> pd.Series:
    """The normalised CPR number of each clean row, looked up in the raw tables."""
    raw = pd.concat([t.data for t in tables]).set_index(["source_file", "source_row"])
    cells = raw.loc[list(zip(courses["source_file"], courses["source_row"], strict=True)), "cpr"]
    # a number cell has lost its leading zero (Excel); cleaning puts it back, and so do we
    text = [f"{int(v):010d}" if isinstance(v, int | float) else str(v) for v in cells]
    return parse_cpr(pd.Series(text, dtype=object))["cpr"]


# ---------------------------------------------------------------------------------------
# Nothing invented, nothing lost, nothing changed
# ---------------------------------------------------------------------------------------


@CLEANING
@given(raw_tables)
def test_no_clean_row_is_invented(tables):
    clean = _keys(_clean(tables).courses)
    assert len(clean) == len(set(clean))
    assert set(clean) <= _raw_keys(tables)


@CLEANING
@given(raw_tables)
def test_every_raw_row_is_in_exactly_one_place(tables):
    res = _clean(tables)
    clean, rejected = set(_keys(res.courses)), set(_keys(res.rejects))
    duplicates = _keys(res.duplicates)
    assert len(duplicates) == len(set(duplicates))
    assert not (clean & rejected or clean & set(duplicates) or rejected & set(duplicates))
    assert clean | rejected | set(duplicates) == _raw_keys(tables)
    assert res.accounting["balanced"].all()


@CLEANING
@given(raw_tables)
def test_input_is_not_mutated(tables):
    before = copy.deepcopy(tables)
    _clean(tables)
    for got, want in zip(tables, before, strict=True):
        pd.testing.assert_frame_equal(got.data, want.data)
        pd.testing.assert_frame_equal(got.ragged, want.ragged)


@CLEANING
@given(raw_tables)
def test_output_satisfies_the_clean_schema(tables):
    courses = _clean(tables).courses
    assert tuple(courses.columns) == COURSE_COLUMNS
    clean_schemas()["courses"].validate(courses)


@settings(CLEANING, max_examples=8)
@given(raw_tables)
def test_person_id_is_stable_across_runs_and_differs_by_key(tables):
    first, again = _clean(tables).courses, _clean(tables).courses
    other = _clean(tables, key=b"another-secret-key").courses
    assert first["person_id"].tolist() == again["person_id"].tolist()
    assert _keys(first) == _keys(other)
    assert not set(first["person_id"]) & set(other["person_id"])


@CLEANING
@given(raw_tables)
def test_person_id_is_one_per_cpr_number_across_files(tables):
    courses = _clean(tables).courses
    cprs = _cprs_of(tables, courses)
    pairs = set(zip(cprs, courses["person_id"], strict=True))
    assert len(pairs) == cprs.nunique() == courses["person_id"].nunique()


# ---------------------------------------------------------------------------------------
# Idempotence: parsing what was parsed gives it back
# ---------------------------------------------------------------------------------------


@PARSING
@given(st.lists(_mixed(course_dates.flatmap(_date_text), [*BAD_DATES, None]), max_size=20))
def test_parse_dates_of_iso_text_gives_the_same_dates(values):
    dates, _ = parse_dates(pd.Series(values, dtype=object), required=False)
    iso = dates.dt.strftime("%Y-%m-%d").astype(object).where(dates.notna(), None)
    again, reason = parse_dates(iso, required=False)
    pd.testing.assert_series_equal(again, dates)
    assert set(reason.dropna()) <= {"date_out_of_range"}


@PARSING
@given(st.lists(_municipality_variant, min_size=1, max_size=20))
def test_match_municipality_of_canonical_names_gives_the_same_names(raw):
    names = match_municipality(pd.Series(raw))["municipality"]
    assert names.notna().all()
    again = match_municipality(names)
    assert again["municipality"].tolist() == names.tolist()


def test_every_municipality_name_matches_itself():
    got = match_municipality(pd.Series(MUNICIPALITIES))["municipality"].tolist()
    assert got == MUNICIPALITIES


# Clean values rendered back the way a sender writes them (Danish headers and wordings).
_DANISH = {
    "status": {"completed": "Afsluttet", "ongoing": "I gang", "dropped_out": "Afbrudt"},
    "outcome": {
        "ordinary_employment": "Ordinær beskæftigelse",
        "subsidised_employment": "Løntilskud",
        "education": "Uddannelse",
        "still_on_benefit": "Fortsat på kontanthjælp",
        "dropped_out": "Ophørt",
        "unknown": "Ukendt",
    },
    "sex": {"F": "K", "M": "M"},
    "residence_basis": {
        "refugee": "Flygtning",
        "family_reunified": "Familiesammenført",
        "other": "Andet",
    },
}


def _cells(values: pd.Series) -> pd.Series:
    """Values as CSV cells: text, empty where missing."""
    return values.astype(object).where(values.notna(), "").astype(str)


def _render(courses: pd.DataFrame, cprs: pd.Series) -> pd.DataFrame:
    """A raw course file (Danish headers, sender wordings) holding the clean values."""
    years = courses["years_without_activation"].astype(object)
    match = courses["match_code"].astype(object).where(courses["match_code"].notna(), None)
    return pd.DataFrame(
        {
            "CPR": cprs.str[:6] + "-" + cprs.str[6:],
            "Kommune": courses["municipality"],
            "Jobpakke": courses["job_package"],
            "Startdato": courses["start_date"].dt.strftime("%d-%m-%Y"),
            "Slutdato": _cells(courses["end_date"].dt.strftime("%d-%m-%Y")),
            **{
                header: courses[col].map(_DANISH[col]).fillna("")
                for header, col in [
                    ("Status", "status"),
                    ("Afgang", "outcome"),
                    ("Køn", "sex"),
                    ("Opholdsgrundlag", "residence_basis"),
                ]
            },
            "Oprindelsesland": _cells(courses["country_of_origin"]),
            "År uden aktivering": _cells(years).str.replace(".", ",", regex=False),
            "Matchkategori": _cells(match.where(courses["match_system"] == "category")),
            "Matchgruppe": _cells(match.where(courses["match_system"] == "group")),
        }
    )


@settings(CLEANING, max_examples=12)
@given(tables=raw_tables)
def test_cleaning_a_file_of_clean_values_gives_the_same_table(tmp_path_factory, tables):
    first = _clean(tables).courses
    path = tmp_path_factory.mktemp("roundtrip") / "clean_again.csv"
    _render(first, _cprs_of(tables, first)).to_csv(path, sep=";", index=False)
    again = _clean([read_file(path)]).courses
    values = [c for c in COURSE_COLUMNS if c not in ("source_file", "source_row")]
    pd.testing.assert_frame_equal(again[values], first[values])
    assert again["source_row"].tolist() == list(range(2, len(first) + 2))
