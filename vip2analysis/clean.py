"""Cleaning: raw tables -> one validated, pseudonymised table per kind, with nothing lost.

Pure functions: :class:`~vip2analysis.read.RawTable` objects in, a :class:`CleanResult`
out; no file is read or written here. Every raw row ends up in exactly one place: the
clean table, the rejects table (file, row, column, raw value, reason code, sentence) or
the duplicates log. The CPR number is parsed, validated, turned into a keyed pseudonym
(``person_id``) and dropped: no clean table has a ``cpr`` column, and the rejects and
duplicates logs show CPR values masked (``3002XX-XXXX``).

Every value is mapped over the distinct values of its column, not row by row; only the
CPR number, nearly distinct per row, is parsed row by row in vectorised pyarrow kernels.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import yaml

from vip2analysis._arrow_text import is_arrow_text, stripped
from vip2analysis.cpr import age_at, mask_cpr, parse_cpr, pseudonymise
from vip2analysis.read import RawTable
from vip2analysis.reference import (
    match_country,
    match_job_package,
    match_municipality,
    normalise_key,
)
from vip2analysis.schema import (
    ACTIVATION_DATE_RANGE,
    AGE_RANGE,
    COURSE_COLUMNS,
    COURSE_DATE_RANGE,
    DURATION_BANDS,
    MAX_YEARS_WITHOUT_ACTIVATION,
)

__all__ = [
    "REASONS",
    "CleanResult",
    "clean_tables",
    "duration_band",
    "parse_dates",
    "parse_numbers",
]

# Reason code -> the sentence a sender reads in the rejects table.
REASONS: dict[str, str] = {
    "blank_row": "the row is empty",
    "ragged_row": "the row has a different number of cells than the header",
    "cpr_missing": "no CPR number",
    "cpr_format": "the CPR number is not 10 digits (DDMMYY-SSSS)",
    "cpr_date": "the CPR number's first six digits are not a real date",
    "age_out_of_range": "the age from the CPR number's birth date is not 0-120 at the start",
    "municipality_missing": "no municipality",
    "municipality_unknown": "not one of the 98 municipalities",
    "unknown_job_package": "not one of the 29 job packages (12 original + 17 VIP2)",
    "job_package_missing": "no job package",
    "date_missing": "a required date is empty",
    "date_unparseable": "not a date in a recognised style (dd-mm-yyyy, d.m.yyyy, yyyy-mm-dd, Excel)",
    "date_out_of_range": "the date is outside the plausible range",
    "end_before_start": "the end date is before the start date",
    "status_missing": "no status",
    "status_unknown": "a status wording that is not in the vocabulary",
    "outcome_unknown": "an outcome wording that is not in the vocabulary",
    "sex_unknown": "a sex value that is not K/M/Kvinde/Mand",
    "sex_cpr_conflict": "the recorded sex disagrees with the CPR number's last digit",
    "country_unknown": "a country of origin that matches no country (not guessed)",
    "residence_unknown": "a residence basis that is not in the vocabulary",
    "years_invalid": "years without activation is not a number from 0 to 60",
    "activation_after_start": "the last activation is after the course start",
    "match_invalid": "match category must be 1-5 and match group 1-3",
    "id_missing": "no identifier",
    "activity_missing": "no activity type",
    "activity_unknown": "an activity type that is not in the vocabulary",
    "recipients_invalid": "the number of recipients is not a whole number >= 0",
    "conflicting_duplicate": "the same person and start date sent more than once with different values",
}

_REJECT_COLUMNS = ["source_file", "source_row", "column", "raw_value", "reason", "message"]
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")


# ---------------------------------------------------------------------------------------
# Value parsers: (raw Series) -> (values, reason Series with <NA> where fine)
# ---------------------------------------------------------------------------------------


def _one_text(v: Any) -> Any:
    """One raw cell as stripped text (<NA> for empty); numbers without a spurious '.0'."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return pd.NA
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, pd.Timestamp | np.datetime64) or hasattr(v, "isoformat"):
        return pd.Timestamp(v).strftime("%Y-%m-%d")
    s = str(v).strip()
    return s if s else pd.NA


@dataclass(frozen=True)
class _Column:
    """A raw column as its distinct texts and, per row, the code of its text (-1: empty).

    Values and reasons are worked out once per distinct text and spread to the rows by
    code. A column of mostly distinct values (``per_row``) keeps one text per row.
    """

    codes: np.ndarray
    texts: pd.Series
    index: pd.Index
    per_row: bool = False

    @property
    def empty(self) -> np.ndarray:
        return self.codes < 0

    def spread(self, per_text: pd.Series | pd.DataFrame) -> Any:
        """Per-row values from values per distinct text (missing where the cell is empty)."""
        if isinstance(per_text, pd.DataFrame):
            return pd.DataFrame({c: self.spread(per_text[c]) for c in per_text}, index=self.index)
        values = pd.api.extensions.take(per_text.array, self.codes, allow_fill=True)
        return pd.Series(values, index=self.index, name=per_text.name)

    def text(self) -> pd.Series:
        """The stripped text of every row (<NA> where empty)."""
        return self.texts.set_axis(self.index) if self.per_row else self.spread(self.texts)

    def reason(self, per_text: pd.Series, missing: str | None = None) -> pd.Series:
        """Per-row reason codes from those per distinct text; ``missing`` where empty."""
        table = pd.array([*per_text.array, missing], dtype="string")
        return pd.Series(table.take(np.where(self.empty, len(per_text), self.codes)), self.index)


def _column(values: pd.Series, *, per_row: bool = False) -> _Column:
    """The raw cells as a :class:`_Column` (texts as :func:`_one_text` gives them)."""
    if is_arrow_text(values):
        if per_row:
            text = stripped(values).reset_index(drop=True)
            codes = np.where(text.isna().to_numpy(), -1, np.arange(len(text)))
            return _Column(codes, text, values.index, per_row=True)
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        texts = stripped(pd.Series(uniques.array))
    else:
        codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
        texts = pd.Series([_one_text(u) for u in uniques], dtype="string")
    text_codes, distinct = pd.factorize(texts, use_na_sentinel=True)
    if len(distinct) < len(texts):  # raw cells that share a text, or have none
        codes = np.append(text_codes, -1)[codes]
    return _Column(codes, pd.Series(distinct.array, dtype="string"), values.index)


def _text(values: pd.Series) -> pd.Series:
    """Raw cells as stripped text (<NA> for empty); numbers without a spurious '.0'."""
    return _column(values).text()


def _reason(mask: Any, code: str, index: pd.Index) -> pd.Series:
    """``code`` where ``mask`` is true, <NA> elsewhere (string dtype)."""
    hit = pd.Series(mask, index=index).fillna(False).astype(bool).to_numpy()
    codes = pd.array([code], dtype="string")
    return pd.Series(codes.take(np.where(hit, 0, -1), allow_fill=True), index=index)


def _first(*reasons: pd.Series) -> pd.Series:
    """Per row, the first reason that is not <NA>."""
    out = reasons[0]
    for r in reasons[1:]:
        if r.notna().any() and out.isna().any():
            out = out.fillna(r)
    return out


_DMY = r"^(\d{1,2})[-./](\d{1,2})[-./](\d{4})(?:\s+0{1,2}:0{2}(?::0{2})?)?$"
_YMD = r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T\s]0{1,2}:0{2}(?::0{2})?)?$"
_SERIAL = r"^(\d{5})(?:\.0+)?$"


def _dates_from_text(text: pd.Series) -> pd.Series:
    """Distinct text dates -> Timestamps (NaT where not a real date in a known style)."""
    dmy = text.str.extract(_DMY)
    ymd = text.str.extract(_YMD)
    parts = pd.DataFrame(
        {
            "year": dmy[2].fillna(ymd[0]),
            "month": dmy[1].fillna(ymd[1]),
            "day": dmy[0].fillna(ymd[2]),
        }
    ).astype("Float64")
    ok = parts.notna().all(axis=1)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[s]")
    if ok.any():
        out[ok] = pd.to_datetime(parts[ok].astype("int64"), errors="coerce")
    serial = text.str.extract(_SERIAL)[0].astype("Float64")
    from_serial = _EXCEL_EPOCH + pd.to_timedelta(serial.astype("float64"), unit="D")
    return out.fillna(from_serial.where(serial.notna()))


def parse_dates(
    values: pd.Series, *, required: bool, valid: tuple[str, str] = COURSE_DATE_RANGE
) -> tuple[pd.Series, pd.Series]:
    """Parse dates in every style the senders use; return (dates, reason codes).

    Accepted: ``dd-mm-yyyy``, ``d.m.yyyy``, ``dd/mm/yyyy``, ``yyyy-mm-dd``, Excel date cells
    and Excel serial numbers (5 digits). A real date outside ``valid`` is
    ``date_out_of_range``; anything else that is not a real date is ``date_unparseable``.

    Examples
    --------
    >>> d, r = parse_dates(pd.Series(["05-04-2007", "5.4.2007", "2007-04-05", 39177,
    ...                               "29-02-2007", None]), required=True)
    >>> d.dt.strftime("%Y-%m-%d").tolist()[:4]
    ['2007-04-05', '2007-04-05', '2007-04-05', '2007-04-05']
    >>> r.tolist()[4:]
    ['date_unparseable', 'date_missing']
    """
    return _parse_dates(values, None, required=required, valid=valid)


def _date_cells(values: pd.Series) -> np.ndarray:
    """True where a cell holds a date (an XLSX date cell) rather than text."""
    if is_arrow_text(values):
        return np.zeros(len(values), dtype=bool)
    is_date = values.map(lambda v: isinstance(v, pd.Timestamp) or hasattr(v, "isoformat"))
    return is_date.astype(bool).to_numpy()  # an empty pyarrow-string column maps to strings


def _parse_dates(
    values: pd.Series, col: _Column | None, *, required: bool, valid: tuple[str, str]
) -> tuple[pd.Series, pd.Series]:
    """:func:`parse_dates`, reusing ``col`` (the texts of ``values``) where no cell is a date."""
    is_date = _date_cells(values)
    if col is None or is_date.any():
        col = _column(values.where(~is_date, None))
    parsed = _dates_from_text(col.texts).astype("datetime64[s]")
    if not is_date.any():  # all text: one reason per distinct text
        fine = np.zeros(len(parsed), dtype=bool)
        reason = _date_reasons(parsed, fine, required=required, valid=valid)
        return col.spread(parsed), col.reason(reason, "date_missing" if required else None)
    dates = col.spread(parsed)
    dates[is_date] = pd.to_datetime(values[is_date].tolist()).astype("datetime64[s]")
    return dates, _date_reasons(dates, col.empty & ~is_date, required=required, valid=valid)


def _date_reasons(
    dates: pd.Series, missing: np.ndarray, *, required: bool, valid: tuple[str, str]
) -> pd.Series:
    low, high = (pd.Timestamp(x) for x in valid)
    return _first(
        _reason(missing if required else False, "date_missing", dates.index),
        _reason(~missing & dates.isna(), "date_unparseable", dates.index),
        _reason((dates < low) | (dates > high), "date_out_of_range", dates.index),
    )


def parse_numbers(values: pd.Series, *, low: float, high: float) -> tuple[pd.Series, pd.Series]:
    """Decimal numbers with ',' or '.' as decimal mark; reason ``invalid`` outside [low, high].

    Examples
    --------
    >>> n, r = parse_numbers(pd.Series(["3,5", 2, "x", None, "-1"]), low=0, high=60)
    >>> n.tolist()[:2], r.tolist()
    ([3.5, 2.0], [<NA>, <NA>, 'invalid', <NA>, 'invalid'])
    """
    col = _column(values)
    numbers, bad = _text_numbers(col.texts, low=low, high=high)
    return col.spread(numbers), col.reason(_reason(bad, "invalid", numbers.index))


def _text_numbers(text: pd.Series, *, low: float, high: float) -> tuple[pd.Series, np.ndarray]:
    """Distinct texts -> numbers (Float64, <NA> where bad) and the bad mask."""
    normal = text.str.replace(r"\s", "", regex=True).str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(normal.where(normal.str.fullmatch(r"-?\d+(\.\d+)?")), errors="coerce")
    numbers = numbers.astype("Float64")
    bad = (numbers.isna() | (numbers < low) | (numbers > high)).to_numpy(dtype=bool)
    return numbers.where(~bad), bad


def _whole_numbers(
    col: _Column, *, low: float, high: float, code: str
) -> tuple[pd.Series, pd.Series]:
    """Numbers that must be whole: (numbers, reason ``code`` where invalid or not whole)."""
    numbers, bad = _text_numbers(col.texts, low=low, high=high)
    not_whole = (numbers.notna() & (numbers != numbers.round())).to_numpy(dtype=bool)
    return col.spread(numbers), col.reason(_reason(bad | not_whole, code, numbers.index))


@functools.cache
def _vocabulary() -> dict[str, dict[str, str]]:
    ref = resources.files("vip2analysis") / "data" / "vocabulary.yaml"
    raw = yaml.safe_load(ref.read_text(encoding="utf-8"))
    out: dict[str, dict[str, str]] = {}
    for field_name, mapping in raw.items():
        words = [(w, code) for code, ws in mapping.items() for w in (code, *ws)]
        keys = normalise_key(pd.Series([str(w) for w, _ in words], dtype="string"))
        out[field_name] = {k: code for k, (_, code) in zip(keys, words, strict=True)}
    return out


def _vocab(
    col: _Column, field_name: str, *, unknown: str, missing: str | None = None
) -> tuple[pd.Series, pd.Series]:
    """Map wordings through the shipped vocabulary: (codes, reasons ``unknown``/``missing``)."""
    codes = normalise_key(col.texts).map(_vocabulary()[field_name]).astype("string")
    return col.spread(codes), col.reason(_reason(codes.isna(), unknown, codes.index), missing)


def duration_band(years: pd.Series) -> pd.Series:
    """Band years without activation: '<1', '1-2', '2-5', '5+' (left-closed intervals).

    Examples
    --------
    >>> duration_band(pd.Series([0.5, 1.0, 4.99, 5.0])).tolist()
    ['<1', '1-2', '2-5', '5+']
    """
    bands = pd.cut(
        years.astype("float64"), [0, 1, 2, 5, np.inf], right=False, labels=list(DURATION_BANDS)
    )
    return bands.astype(pd.CategoricalDtype(list(DURATION_BANDS), ordered=True))


# ---------------------------------------------------------------------------------------
# Rejects bookkeeping
# ---------------------------------------------------------------------------------------


# Columns whose values are mostly distinct: handled row by row (vectorised), not by value.
_PER_ROW = frozenset({"cpr"})


@dataclass
class _Checks:
    """Reason codes per column for one table; a row with any reason is rejected.

    Blank rows (every cell empty) get no reasons here: they are rejected once, as
    ``blank_row``. The raw columns are read once, as :class:`_Column` objects.
    """

    raw: pd.DataFrame
    found: list[pd.DataFrame] = field(default_factory=list)
    columns: dict[str, _Column] = field(default_factory=dict)

    def column(self, name: str) -> _Column:
        if name not in self.columns:
            self.columns[name] = _column(self.raw[name], per_row=name in _PER_ROW)
        return self.columns[name]

    @functools.cached_property
    def blank(self) -> np.ndarray:
        names = [c for c in self.raw.columns if c not in ("source_file", "source_row")]
        return np.logical_and.reduce([self.column(c).empty for c in names])

    def add(self, column: str, reason: pd.Series, raw_values: pd.Series | None = None) -> None:
        hit = reason.notna().to_numpy() & ~self.blank
        if not hit.any():
            return
        shown = self.raw[column] if raw_values is None else raw_values
        rows = self.raw.loc[hit, ["source_file", "source_row"]].copy()
        rows["column"] = column
        rows["raw_value"] = _text(shown[hit]).fillna("").astype(object)
        rows["reason"] = reason[hit].astype(object)
        self.found.append(rows)

    def rejected(self) -> pd.Series:
        bad = pd.Series(self.blank, index=self.raw.index)
        for f in self.found:
            bad[f.index] = True
        return bad

    def table(self) -> pd.DataFrame:
        if not self.found:
            return _empty_rejects()
        out = pd.concat(self.found)
        out["message"] = out["reason"].map(REASONS)
        return out[_REJECT_COLUMNS]


def _empty_rejects() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in _REJECT_COLUMNS})


def _structural_rejects(raw: RawTable) -> pd.DataFrame:
    """Ragged rows: a reject each, with the reader's cell counts."""
    if raw.ragged.empty:
        return _empty_rejects()
    out = pd.DataFrame(
        {
            "source_file": raw.file,
            "source_row": raw.ragged["source_row"].to_numpy(),
            "column": "",
            "raw_value": [
                f"{c} cells, header has {e}"
                for c, e in zip(raw.ragged["cells"], raw.ragged["expected"], strict=True)
            ],
            "reason": "ragged_row",
        }
    )
    out["message"] = REASONS["ragged_row"]
    return out


# ---------------------------------------------------------------------------------------
# Field groups shared by course and comparison files
# ---------------------------------------------------------------------------------------


def _person(raw: pd.DataFrame, checks: _Checks) -> pd.DataFrame:
    """CPR -> normalised number, birth date and sex; reasons into ``checks``."""
    parsed = parse_cpr(checks.column("cpr").text())
    checks.add("cpr", parsed["reason"], raw_values=raw["cpr"])
    return parsed


def _sex(raw: pd.DataFrame, cpr_sex: pd.Series, checks: _Checks) -> tuple[pd.Series, pd.Series]:
    """Recorded sex, or the CPR's when missing; a conflict is a reject, not a choice."""
    col = checks.column("sex")
    codes, unknown = _vocab(col, "sex", unknown="sex_unknown")
    conflict = codes.notna() & cpr_sex.notna() & (codes != cpr_sex)
    checks.add("sex", _first(unknown, _reason(conflict, "sex_cpr_conflict", raw.index)))
    from_cpr = col.empty & cpr_sex.notna()
    return codes.fillna(cpr_sex), from_cpr


def _age(raw: pd.DataFrame, birth: pd.Series, on: pd.Series, checks: _Checks) -> pd.Series:
    """Age in whole years at ``on`` from the CPR birth date; outside ``AGE_RANGE``: a reject."""
    age = age_at(birth, on)
    low, high = AGE_RANGE
    reason = _reason((age < low) | (age > high), "age_out_of_range", raw.index)
    checks.add("cpr", reason, raw_values=raw["cpr"])
    return age


def _place(raw: pd.DataFrame, checks: _Checks) -> pd.DataFrame:
    col = checks.column("municipality")
    muni = match_municipality(col.texts)
    unknown = _reason(muni["municipality"].isna(), "municipality_unknown", muni.index)
    checks.add("municipality", col.reason(unknown, "municipality_missing"))
    return col.spread(muni)


def _background(raw: pd.DataFrame, checks: _Checks) -> pd.DataFrame:
    col = checks.column("country_of_origin")
    country = match_country(col.texts)
    unknown = _reason(country["country_of_origin"].isna(), "country_unknown", country.index)
    checks.add("country_of_origin", col.reason(unknown))
    residence, reason = _vocab(
        checks.column("residence_basis"), "residence_basis", unknown="residence_unknown"
    )
    checks.add("residence_basis", reason)
    return col.spread(country).assign(residence_basis=residence)


_SYSTEMS = pd.array(["category", "group"], dtype="string")


def _match(raw: pd.DataFrame, checks: _Checks) -> pd.DataFrame:
    """Match category 1-5 or match group 1-3 (both systems), ``work_ready`` derived."""
    cat, reason = _whole_numbers(
        checks.column("match_category"), low=1, high=5, code="match_invalid"
    )
    checks.add("match_category", reason)
    grp, reason = _whole_numbers(checks.column("match_group"), low=1, high=3, code="match_invalid")
    checks.add("match_group", reason)
    cat, grp = (s.to_numpy(dtype="float64", na_value=np.nan) for s in (cat, grp))
    has_cat, missing = ~np.isnan(cat), np.isnan(cat) & np.isnan(grp)
    system = np.where(has_cat, 0, np.where(missing, -1, 1))  # the category system wins
    code = np.round(np.where(has_cat, cat, grp))
    ready = np.where(has_cat, code <= 3, code == 1)
    return pd.DataFrame(
        {
            "match_system": _SYSTEMS.take(system, allow_fill=True),
            "match_code": pd.arrays.IntegerArray(np.where(missing, 0, code).astype(int), missing),
            "work_ready": pd.arrays.BooleanArray(ready, missing),
        },
        index=raw.index,
    )


def _years(raw: pd.DataFrame, ref_date: pd.Series, checks: _Checks) -> pd.Series:
    """Years without activation: the recorded number, else from the date of last activation.

    From a date: ``round(days / 365.25, 2)`` up to the course start (or reference date).
    """
    col = checks.column("years_without_activation")
    years, bad = _text_numbers(col.texts, low=0, high=MAX_YEARS_WITHOUT_ACTIVATION)
    checks.add("years_without_activation", col.reason(_reason(bad, "years_invalid", years.index)))
    years = col.spread(years)
    last, reason = _dates(raw, checks, "last_activation", valid=ACTIVATION_DATE_RANGE)
    after = last.notna() & ref_date.notna() & (last > ref_date)
    checks.add(
        "last_activation", _first(reason, _reason(after, "activation_after_start", raw.index))
    )
    derived = ((ref_date - last).dt.days / 365.25).round(2).astype("Float64")
    return years.fillna(derived)


def _dates(
    raw: pd.DataFrame,
    checks: _Checks,
    column: str,
    *,
    required: bool = False,
    valid: tuple[str, str] = COURSE_DATE_RANGE,
) -> tuple[pd.Series, pd.Series]:
    """:func:`parse_dates` of one raw column (its texts read once, by ``checks``)."""
    return _parse_dates(raw[column], checks.column(column), required=required, valid=valid)


def _cpr_number(cpr: pd.Series) -> pd.Series:
    """Normalised CPR texts as numbers (Int64): cheaper to compare, group and hash."""
    return cpr.astype("int64[pyarrow]").astype("Int64")


# ---------------------------------------------------------------------------------------
# One cleaner per file kind: raw frame -> (candidate clean frame with `cpr`, checks)
# ---------------------------------------------------------------------------------------


def _courses(raw: pd.DataFrame, checks: _Checks) -> pd.DataFrame:
    person = _person(raw, checks)
    muni = _place(raw, checks)
    pkg = _job_package(checks)
    start, start_reason = _dates(raw, checks, "start_date", required=True)
    end, end_reason = _dates(raw, checks, "end_date")
    checks.add("start_date", start_reason)
    checks.add("end_date", _first(end_reason, _reason(end < start, "end_before_start", raw.index)))
    status, reason = _vocab(
        checks.column("status"), "status", unknown="status_unknown", missing="status_missing"
    )
    checks.add("status", reason)
    outcome, reason = _vocab(checks.column("outcome"), "outcome", unknown="outcome_unknown")
    checks.add("outcome", reason)
    sex, _ = _sex(raw, person["sex"], checks)
    age = _age(raw, person["birth_date"], start.where(start_reason.isna()), checks)
    years = _years(raw, start, checks)
    frame = pd.DataFrame(
        {
            "cpr": _cpr_number(person["cpr"]),
            "municipality": muni["municipality"],
            "municipality_code": muni["municipality_code"],
            "region": muni["region"],
            "job_package": pkg["job_package"],
            "job_package_group": pkg["job_package_group"],
            "start_date": start,
            "end_date": end,
            "status": status,
            "outcome": outcome.fillna("unknown"),  # an empty outcome is unknown
            "sex": sex,
            "birth_date": person["birth_date"].astype("datetime64[s]"),
            "age_at_start": age,
            "years_without_activation": years,
            "duration_band": duration_band(years),
        },
        index=raw.index,
    )
    return frame.join(_background(raw, checks)).join(_match(raw, checks))


def _job_package(checks: _Checks) -> pd.DataFrame:
    col = checks.column("job_package")
    pkg = match_job_package(col.texts)
    unknown = _reason(pkg["job_package"].isna(), "unknown_job_package", pkg.index)
    checks.add("job_package", col.reason(unknown, "job_package_missing"))
    return col.spread(pkg)


def _comparison(raw: pd.DataFrame, checks: _Checks) -> pd.DataFrame:
    person = _person(raw, checks)
    muni = _place(raw, checks)
    ref, ref_reason = _dates(raw, checks, "reference_date", required=True)
    checks.add("reference_date", ref_reason)
    outcome, reason = _vocab(checks.column("outcome"), "outcome", unknown="outcome_unknown")
    checks.add("outcome", reason)
    sex, _ = _sex(raw, person["sex"], checks)
    age = _age(raw, person["birth_date"], ref.where(ref_reason.isna()), checks)
    years = _years(raw, ref, checks)
    frame = pd.DataFrame(
        {
            "cpr": _cpr_number(person["cpr"]),
            "municipality": muni["municipality"],
            "municipality_code": muni["municipality_code"],
            "region": muni["region"],
            "reference_date": ref,
            "outcome": outcome.fillna("unknown"),
            "sex": sex,
            "birth_date": person["birth_date"].astype("datetime64[s]"),
            "age": age,
            "years_without_activation": years,
            "duration_band": duration_band(years),
        },
        index=raw.index,
    )
    return frame.join(_background(raw, checks)).join(_match(raw, checks))


def _ambassadors(raw: pd.DataFrame, checks: _Checks) -> pd.DataFrame:
    ident = checks.column("ambassador_id")
    checks.add("ambassador_id", _reason(ident.empty, "id_missing", raw.index))
    muni = _place(raw, checks)
    date, reason = _dates(raw, checks, "certified_date", required=True)
    checks.add("certified_date", reason)
    return pd.DataFrame(
        {
            "ambassador_id": ident.text(),
            "municipality": muni["municipality"],
            "region": muni["region"],
            "certified_date": date,
            "course": checks.column("course").text(),
        },
        index=raw.index,
    )


def _activities(raw: pd.DataFrame, checks: _Checks) -> pd.DataFrame:
    date, reason = _dates(raw, checks, "date", required=True)
    checks.add("date", reason)
    kind, reason = _vocab(
        checks.column("activity"),
        "activity",
        unknown="activity_unknown",
        missing="activity_missing",
    )
    checks.add("activity", reason)
    recipients, reason = _whole_numbers(
        checks.column("recipients"), low=0, high=10_000_000, code="recipients_invalid"
    )
    checks.add("recipients", reason)
    return pd.DataFrame(
        {
            "date": date,
            "kind": kind,
            "title": checks.column("title").text(),
            "place": checks.column("place").text(),
            "recipients": recipients.round().astype("Int64"),
        },
        index=raw.index,
    )


_CLEANERS = {
    "courses": _courses,
    "comparison": _comparison,
    "ambassadors": _ambassadors,
    "activities": _activities,
}


# ---------------------------------------------------------------------------------------
# Duplicates, pseudonymisation, accounting
# ---------------------------------------------------------------------------------------

_DUPLICATE_COLUMNS = ["source_file", "source_row", "kept_file", "kept_row", "kind", "record"]


def _duplicates(
    frame: pd.DataFrame, ok: pd.Series, key: list[str]
) -> tuple[pd.Series, pd.DataFrame, pd.Series]:
    """Exact duplicates (all values equal) keep their first row; conflicting ones are rejected.

    Only the rows where ``ok`` is true take part. Returns (drop mask of exact copies,
    duplicates log, conflict mask).
    """
    values = [c for c in frame.columns if c not in ("source_file", "source_row")]
    keyed = frame[key].notna().all(axis=1) & ok
    same_key = frame.loc[keyed, key].duplicated(keep=False).reindex(frame.index, fill_value=False)
    if not same_key.any():
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in _DUPLICATE_COLUMNS})
        false = pd.Series(False, index=frame.index)
        return false, empty, false
    group = frame[same_key]
    n_versions = group.drop_duplicates(values).groupby(key, dropna=False, observed=True).size()
    conflicted_keys = n_versions[n_versions > 1].index
    conflict = pd.Series(False, index=frame.index)
    key_index = pd.MultiIndex.from_frame(group[key]) if len(key) > 1 else pd.Index(group[key[0]])
    conflict[group.index] = key_index.isin(conflicted_keys)
    # equal values mean an equal key: exact copies and their first rows are all in `group`
    exact = pd.Series(False, index=frame.index)
    exact[group.index] = group.duplicated(values, keep="first") & ~conflict[group.index]
    first = group[~group.duplicated(values, keep="first")]
    kept = frame[exact].merge(
        first[[*values, "source_file", "source_row"]], on=values, suffixes=("", "_kept")
    )
    log = pd.DataFrame(
        {
            "source_file": kept["source_file"],
            "source_row": kept["source_row"],
            "kept_file": kept["source_file_kept"],
            "kept_row": kept["source_row_kept"],
            "kind": "exact_duplicate",
            "record": "",
        }
    )
    return exact, log, conflict


def _conflict_rejects(valid: pd.DataFrame, conflict: pd.Series) -> pd.DataFrame:
    rows = valid.loc[conflict, ["source_file", "source_row"]].copy()
    rows["column"] = ""
    rows["raw_value"] = ""
    rows["reason"] = "conflicting_duplicate"
    rows["message"] = REASONS["conflicting_duplicate"]
    return rows[_REJECT_COLUMNS]


def _mask_values(rejects: pd.DataFrame) -> pd.DataFrame:
    """No CPR number leaves cleaning: mask the cpr column and anything CPR-shaped."""
    out = rejects.copy()
    text = out["raw_value"].astype("string").fillna("")
    is_cpr = out["column"] == "cpr"
    masked = mask_cpr(text[is_cpr]) if is_cpr.any() else text[is_cpr]
    text[is_cpr] = masked.fillna("")
    cpr_like = r"(?<!\d)(\d{2})(\d{2})\d{2}-?\d{4}(?!\d)"
    text[~is_cpr] = text[~is_cpr].str.replace(cpr_like, r"\1\2XX-XXXX", regex=True)
    out["raw_value"] = text.astype(object)
    return out


@dataclass
class CleanResult:
    """What cleaning returns: clean tables, rejects, duplicates log and the accounting.

    Attributes
    ----------
    tables
        Clean table per kind ('courses', 'comparison', 'ambassadors', 'activities'),
        validated against :func:`vip2analysis.schema.clean_schemas`.
    rejects
        One line per problem: source_file, source_row, column, raw_value (CPR masked),
        reason (a code of :data:`REASONS`), message.
    duplicates
        Exact duplicates removed: source_file, source_row, kept_file, kept_row, kind.
    accounting
        Per input file: raw_rows = clean_rows + rejected_rows + duplicate_rows.
    extra_columns
        Unknown headers per file (kept aside by the reader, reported here).
    """

    tables: dict[str, pd.DataFrame]
    rejects: pd.DataFrame
    duplicates: pd.DataFrame
    accounting: pd.DataFrame
    extra_columns: dict[str, list[str]] = field(default_factory=dict)

    @property
    def courses(self) -> pd.DataFrame:
        return self.tables["courses"]

    def accounting_dict(self) -> dict[str, Any]:
        """The accounting as plain data (for JSON), with totals."""
        per_file = self.accounting.to_dict(orient="records")
        numbers = ["raw_rows", "clean_rows", "rejected_rows", "duplicate_rows"]
        total = {k: int(self.accounting[k].sum()) for k in numbers}
        reasons = self.rejects.drop_duplicates(["source_file", "source_row", "reason"])
        return {
            "files": [{k: (int(v) if k in numbers else v) for k, v in r.items()} for r in per_file],
            "total": {**total, "balanced": bool(self.accounting["balanced"].all())},
            "rejects_by_reason": {
                str(k): int(v) for k, v in reasons["reason"].value_counts().sort_index().items()
            },
            "extra_columns": self.extra_columns,
        }


def _clean_kind(
    tables: list[RawTable], kind: str
) -> tuple[pd.DataFrame, pd.Series, list[pd.DataFrame]]:
    """Row-level cleaning of all files of one kind.

    Returns the candidate rows (with cpr), the mask of those without a reject (filtered
    once, after the duplicates) and the reject tables.
    """
    frames, ok, rejects = [], [], []
    for raw in tables:
        data = raw.data
        checks = _Checks(data)
        blank_rejects = data.loc[checks.blank, ["source_file", "source_row"]].assign(
            column="", raw_value="", reason="blank_row", message=REASONS["blank_row"]
        )
        frame = _CLEANERS[kind](data, checks)  # blank rows too; checks leaves them out
        frame["source_file"] = data["source_file"].astype("string")
        frame["source_row"] = data["source_row"].astype("int64")
        frames.append(frame)
        ok.append(~checks.rejected())
        rejects += [_structural_rejects(raw), blank_rejects, checks.table()]
    return pd.concat(frames, ignore_index=True), pd.concat(ok, ignore_index=True), rejects


def _finish(valid: pd.DataFrame, kind: str, key: bytes) -> pd.DataFrame:
    from vip2analysis.schema import COMPARISON_COLUMNS, clean_schemas

    if "cpr" in valid:
        valid = valid.assign(person_id=pseudonymise(valid["cpr"], key=key)).drop(columns="cpr")
    order = {"courses": COURSE_COLUMNS, "comparison": COMPARISON_COLUMNS}.get(kind)
    out = valid[list(order)] if order else valid
    return clean_schemas()[kind].validate(_in_source_order(out))


def _in_source_order(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` sorted (stably) by source file and row; not re-sorted when it already is."""
    files = pd.factorize(frame["source_file"], sort=True)[0]
    rows = frame["source_row"].to_numpy()
    if not (np.diff(files) >= 0).all() or not (np.diff(rows)[np.diff(files) == 0] >= 0).all():
        frame = frame.sort_values(["source_file", "source_row"], kind="stable")
    return frame.reset_index(drop=True)


def _account(
    tables: list[RawTable], clean: dict, rejects: pd.DataFrame, dups: pd.DataFrame
) -> pd.DataFrame:
    rows = []
    for raw in tables:
        n_clean = (
            int((clean[raw.kind]["source_file"] == raw.file).sum()) if raw.kind in clean else 0
        )
        n_rej = rejects.loc[rejects["source_file"] == raw.file, "source_row"].nunique()
        n_dup = int((dups["source_file"] == raw.file).sum())
        rows.append(
            {
                "file": raw.file,
                "kind": raw.kind,
                "raw_rows": raw.n_rows,
                "clean_rows": n_clean,
                "rejected_rows": int(n_rej),
                "duplicate_rows": n_dup,
            }
        )
    acc = pd.DataFrame(
        rows, columns=["file", "kind", "raw_rows", "clean_rows", "rejected_rows", "duplicate_rows"]
    )
    acc["balanced"] = acc["raw_rows"] == acc[["clean_rows", "rejected_rows", "duplicate_rows"]].sum(
        axis=1
    )
    return acc


def clean_tables(tables: list[RawTable], *, key: bytes) -> CleanResult:
    """Clean raw tables of any kinds into validated, pseudonymised tables.

    Parameters
    ----------
    tables
        Raw tables from :func:`vip2analysis.read.read_file`; file names must be unique.
    key
        The pseudonymisation key (see :func:`vip2analysis.cpr.resolve_key`).

    Returns
    -------
    CleanResult
        Every raw row is in exactly one of: a clean table, ``rejects``, ``duplicates``.

    Examples
    --------
    >>> from vip2analysis.cpr import DEMO_KEY
    >>> from vip2analysis.paths import SYNTHETIC_RAW
    >>> from vip2analysis.read import read_file
    >>> res = clean_tables([read_file(SYNTHETIC_RAW / "gladsaxe.csv")], key=DEMO_KEY)
    >>> res.accounting[["raw_rows", "clean_rows", "rejected_rows", "duplicate_rows"]].iloc[0].tolist()
    [71, 68, 2, 1]
    >>> "cpr" in res.courses.columns
    False
    """
    names = [t.file for t in tables]
    if len(set(names)) != len(names):
        raise ValueError(f"file names must be unique, got {names}")
    clean, rejects, dup_logs = {}, [], []
    for kind in _CLEANERS:
        mine = [t for t in tables if t.kind == kind]
        if not mine:
            continue
        candidates, ok, kind_rejects = _clean_kind(mine, kind)
        from vip2analysis.schema import RECORD_KEY

        exact, log, conflict = _duplicates(candidates, ok, list(RECORD_KEY[kind]))
        rejects += [*kind_rejects, _conflict_rejects(candidates, conflict)]
        dup_logs.append(log)
        clean[kind] = _finish(candidates[ok & ~exact & ~conflict], kind, key)
    all_rejects = _mask_values(pd.concat(rejects, ignore_index=True))
    all_rejects = all_rejects.sort_values(["source_file", "source_row"], kind="stable").reset_index(
        drop=True
    )
    dups = (
        pd.concat(dup_logs, ignore_index=True)
        if dup_logs
        else pd.DataFrame(columns=_DUPLICATE_COLUMNS)
    )
    accounting = _account(tables, clean, all_rejects, dups)
    extra = {t.file: t.extra_columns for t in tables if t.extra_columns}
    return CleanResult(clean, all_rejects, dups, accounting, extra)
