"""Cleaning: raw tables -> one validated, pseudonymised table per kind, with nothing lost.

Pure functions: :class:`~vip2analysis.read.RawTable` objects in, a :class:`CleanResult`
out; no file is read or written here. Every raw row ends up in exactly one place: the
clean table, the rejects table (file, row, column, raw value, reason code, sentence) or
the duplicates log. The CPR number is parsed, validated, turned into a keyed pseudonym
(``person_id``) and dropped: no clean table has a ``cpr`` column, and the rejects and
duplicates logs show CPR values masked (``3002XX-XXXX``).

Every value is mapped over the distinct values of its column, not row by row.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import yaml

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


def _text(values: pd.Series) -> pd.Series:
    """Raw cells as stripped text (<NA> for empty); numbers without a spurious '.0'."""

    def one(v: Any) -> Any:
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

    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
    mapped = np.array([one(u) for u in uniques] + [pd.NA], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype="string")


def _reason(mask: Any, code: str, index: pd.Index) -> pd.Series:
    out = pd.Series(pd.NA, index=index, dtype="string")
    return out.mask(pd.Series(mask, index=index).fillna(False).astype(bool), code)


def _first(*reasons: pd.Series) -> pd.Series:
    out = reasons[0]
    for r in reasons[1:]:
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
    is_date = values.map(lambda v: isinstance(v, pd.Timestamp) or hasattr(v, "isoformat"))
    text = _text(values.where(~is_date, None))
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    parsed = _dates_from_text(pd.Series(uniques, dtype="string")).astype("datetime64[s]")
    lookup = np.append(parsed.to_numpy(), np.datetime64("NaT", "s"))  # code -1 -> NaT
    dates = pd.Series(lookup[codes], index=values.index, dtype="datetime64[s]")
    if is_date.any():
        dates[is_date] = pd.to_datetime(values[is_date].tolist()).astype("datetime64[s]")
    low, high = (pd.Timestamp(x) for x in valid)
    missing = text.isna() & ~is_date
    reason = _first(
        _reason(missing if required else False, "date_missing", values.index),
        _reason(~missing & dates.isna(), "date_unparseable", values.index),
        _reason((dates < low) | (dates > high), "date_out_of_range", values.index),
    )
    return dates, reason


def parse_numbers(values: pd.Series, *, low: float, high: float) -> tuple[pd.Series, pd.Series]:
    """Decimal numbers with ',' or '.' as decimal mark; reason ``invalid`` outside [low, high].

    Examples
    --------
    >>> n, r = parse_numbers(pd.Series(["3,5", 2, "x", None, "-1"]), low=0, high=60)
    >>> n.tolist()[:2], r.tolist()
    ([3.5, 2.0], [<NA>, <NA>, 'invalid', <NA>, 'invalid'])
    """
    text = _text(values)
    normal = text.str.replace(r"\s", "", regex=True).str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(normal.where(normal.str.fullmatch(r"-?\d+(\.\d+)?")), errors="coerce")
    numbers = numbers.astype("Float64")
    bad = text.notna() & (numbers.isna() | (numbers < low) | (numbers > high))
    return numbers.where(~bad), _reason(bad, "invalid", values.index)


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


def _vocab(values: pd.Series, field_name: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Map wordings through the shipped vocabulary: (codes, text, unknown mask)."""
    text = _text(values)
    codes = normalise_key(text).map(_vocabulary()[field_name]).astype("string")
    return codes, text, text.notna() & codes.isna()


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


@dataclass
class _Checks:
    """Reason codes per column for one table; a row with any reason is rejected."""

    raw: pd.DataFrame
    found: list[pd.DataFrame] = field(default_factory=list)

    def add(self, column: str, reason: pd.Series, raw_values: pd.Series | None = None) -> None:
        hit = reason.notna()
        if not hit.any():
            return
        shown = self.raw[column] if raw_values is None else raw_values
        rows = self.raw.loc[hit, ["source_file", "source_row"]].copy()
        rows["column"] = column
        rows["raw_value"] = _text(shown[hit]).fillna("").astype(object)
        rows["reason"] = reason[hit].astype(object)
        self.found.append(rows)

    def rejected(self) -> pd.Series:
        bad = pd.Series(False, index=self.raw.index)
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


def _blank_rows(data: pd.DataFrame) -> pd.Series:
    value_cols = [c for c in data.columns if c not in ("source_file", "source_row")]
    return _text_frame(data[value_cols]).isna().all(axis=1)


def _text_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({c: _text(frame[c]) for c in frame.columns}, index=frame.index)


# ---------------------------------------------------------------------------------------
# Field groups shared by course and comparison files
# ---------------------------------------------------------------------------------------


def _person(raw: pd.DataFrame, checks: _Checks) -> pd.DataFrame:
    """CPR -> normalised number, birth date and sex; reasons into ``checks``."""
    parsed = parse_cpr(_text(raw["cpr"]))
    checks.add("cpr", parsed["reason"], raw_values=raw["cpr"])
    return parsed


def _sex(raw: pd.DataFrame, cpr_sex: pd.Series, checks: _Checks) -> tuple[pd.Series, pd.Series]:
    """Recorded sex, or the CPR's when missing; a conflict is a reject, not a choice."""
    codes, text, unknown = _vocab(raw["sex"], "sex")
    conflict = codes.notna() & cpr_sex.notna() & (codes != cpr_sex)
    checks.add(
        "sex",
        _first(
            _reason(unknown, "sex_unknown", raw.index),
            _reason(conflict, "sex_cpr_conflict", raw.index),
        ),
    )
    from_cpr = text.isna() & cpr_sex.notna()
    return codes.fillna(cpr_sex), from_cpr


def _place(raw: pd.DataFrame, checks: _Checks) -> pd.DataFrame:
    muni = match_municipality(_text(raw["municipality"]))
    text = _text(raw["municipality"])
    checks.add(
        "municipality",
        _first(
            _reason(text.isna(), "municipality_missing", raw.index),
            _reason(text.notna() & muni["municipality"].isna(), "municipality_unknown", raw.index),
        ),
    )
    return muni


def _background(raw: pd.DataFrame, checks: _Checks) -> pd.DataFrame:
    text = _text(raw["country_of_origin"])
    country = match_country(text)
    checks.add(
        "country_of_origin",
        _reason(text.notna() & country["country_of_origin"].isna(), "country_unknown", raw.index),
    )
    residence, _, unknown = _vocab(raw["residence_basis"], "residence_basis")
    checks.add("residence_basis", _reason(unknown, "residence_unknown", raw.index))
    return country.assign(residence_basis=residence)


def _match(raw: pd.DataFrame, checks: _Checks) -> pd.DataFrame:
    """Match category 1-5 or match group 1-3 (both systems), ``work_ready`` derived."""
    cat, cat_bad = parse_numbers(raw["match_category"], low=1, high=5)
    grp, grp_bad = parse_numbers(raw["match_group"], low=1, high=3)
    whole = lambda s: s.isna() | (s == s.round())  # noqa: E731
    checks.add("match_category", _reason(cat_bad.notna() | ~whole(cat), "match_invalid", raw.index))
    checks.add("match_group", _reason(grp_bad.notna() | ~whole(grp), "match_invalid", raw.index))
    system = pd.Series(pd.NA, index=raw.index, dtype="string")
    system = system.mask(grp.notna(), "group").mask(cat.notna(), "category")
    code = cat.fillna(grp).round().astype("Int64")
    ready = (system == "category") & (code <= 3) | (system == "group") & (code == 1)
    return pd.DataFrame(
        {"match_system": system, "match_code": code, "work_ready": ready.astype("boolean")}
    ).assign(work_ready=lambda d: d["work_ready"].mask(code.isna()))


def _years(raw: pd.DataFrame, ref_date: pd.Series, checks: _Checks) -> pd.Series:
    """Years without activation: the recorded number, else from the date of last activation.

    From a date: ``round(days / 365.25, 2)`` up to the course start (or reference date).
    """
    years, bad = parse_numbers(
        raw["years_without_activation"], low=0, high=MAX_YEARS_WITHOUT_ACTIVATION
    )
    checks.add("years_without_activation", _reason(bad.notna(), "years_invalid", raw.index))
    last, reason = parse_dates(raw["last_activation"], required=False, valid=ACTIVATION_DATE_RANGE)
    after = last.notna() & ref_date.notna() & (last > ref_date)
    checks.add(
        "last_activation", _first(reason, _reason(after, "activation_after_start", raw.index))
    )
    derived = ((ref_date - last).dt.days / 365.25).round(2).astype("Float64")
    return years.fillna(derived)


# ---------------------------------------------------------------------------------------
# One cleaner per file kind: raw frame -> (candidate clean frame with `cpr`, checks)
# ---------------------------------------------------------------------------------------


def _courses(raw: pd.DataFrame, checks: _Checks) -> pd.DataFrame:
    person = _person(raw, checks)
    muni = _place(raw, checks)
    pkg_text = _text(raw["job_package"])
    pkg = match_job_package(pkg_text)
    checks.add(
        "job_package",
        _first(
            _reason(pkg_text.isna(), "job_package_missing", raw.index),
            _reason(pkg_text.notna() & pkg["job_package"].isna(), "unknown_job_package", raw.index),
        ),
    )
    start, start_reason = parse_dates(raw["start_date"], required=True)
    end, end_reason = parse_dates(raw["end_date"], required=False)
    checks.add("start_date", start_reason)
    checks.add("end_date", _first(end_reason, _reason(end < start, "end_before_start", raw.index)))
    status, status_text, status_unknown = _vocab(raw["status"], "status")
    checks.add(
        "status",
        _first(
            _reason(status_text.isna(), "status_missing", raw.index),
            _reason(status_unknown, "status_unknown", raw.index),
        ),
    )
    outcome, _, outcome_unknown = _vocab(raw["outcome"], "outcome")
    checks.add("outcome", _reason(outcome_unknown, "outcome_unknown", raw.index))
    sex, _ = _sex(raw, person["sex"], checks)
    years = _years(raw, start, checks)
    frame = pd.DataFrame(
        {
            "cpr": person["cpr"],
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
            "age_at_start": age_at(person["birth_date"], start),
            "years_without_activation": years,
            "duration_band": duration_band(years),
        },
        index=raw.index,
    )
    return frame.join(_background(raw, checks)).join(_match(raw, checks))


def _comparison(raw: pd.DataFrame, checks: _Checks) -> pd.DataFrame:
    person = _person(raw, checks)
    muni = _place(raw, checks)
    ref, ref_reason = parse_dates(raw["reference_date"], required=True)
    checks.add("reference_date", ref_reason)
    outcome, _, outcome_unknown = _vocab(raw["outcome"], "outcome")
    checks.add("outcome", _reason(outcome_unknown, "outcome_unknown", raw.index))
    sex, _ = _sex(raw, person["sex"], checks)
    years = _years(raw, ref, checks)
    frame = pd.DataFrame(
        {
            "cpr": person["cpr"],
            "municipality": muni["municipality"],
            "municipality_code": muni["municipality_code"],
            "region": muni["region"],
            "reference_date": ref,
            "outcome": outcome.fillna("unknown"),
            "sex": sex,
            "birth_date": person["birth_date"].astype("datetime64[s]"),
            "age": age_at(person["birth_date"], ref),
            "years_without_activation": years,
            "duration_band": duration_band(years),
        },
        index=raw.index,
    )
    return frame.join(_background(raw, checks)).join(_match(raw, checks))


def _ambassadors(raw: pd.DataFrame, checks: _Checks) -> pd.DataFrame:
    ident = _text(raw["ambassador_id"])
    checks.add("ambassador_id", _reason(ident.isna(), "id_missing", raw.index))
    muni = _place(raw, checks)
    date, reason = parse_dates(raw["certified_date"], required=True)
    checks.add("certified_date", reason)
    return pd.DataFrame(
        {
            "ambassador_id": ident,
            "municipality": muni["municipality"],
            "region": muni["region"],
            "certified_date": date,
            "course": _text(raw["course"]),
        },
        index=raw.index,
    )


def _activities(raw: pd.DataFrame, checks: _Checks) -> pd.DataFrame:
    date, reason = parse_dates(raw["date"], required=True)
    checks.add("date", reason)
    kind, kind_text, unknown = _vocab(raw["activity"], "activity")
    checks.add(
        "activity",
        _first(
            _reason(kind_text.isna(), "activity_missing", raw.index),
            _reason(unknown, "activity_unknown", raw.index),
        ),
    )
    recipients, bad = parse_numbers(raw["recipients"], low=0, high=10_000_000)
    not_whole = recipients.notna() & (recipients != recipients.round())
    checks.add("recipients", _reason(bad.notna() | not_whole, "recipients_invalid", raw.index))
    return pd.DataFrame(
        {
            "date": date,
            "kind": kind,
            "title": _text(raw["title"]),
            "place": _text(raw["place"]),
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


def _duplicates(valid: pd.DataFrame, key: list[str]) -> tuple[pd.Series, pd.DataFrame, pd.Series]:
    """Exact duplicates (all values equal) keep their first row; conflicting ones are rejected.

    Returns (drop mask of exact copies, duplicates log, conflict mask).
    """
    values = [c for c in valid.columns if c not in ("source_file", "source_row")]
    keyed = valid[key].notna().all(axis=1)
    same_key = valid.duplicated(key, keep=False) & keyed
    if not same_key.any():
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in _DUPLICATE_COLUMNS})
        false = pd.Series(False, index=valid.index)
        return false, empty, false
    group = valid[same_key]
    n_versions = group.drop_duplicates(values).groupby(key, dropna=False, observed=True).size()
    conflicted_keys = n_versions[n_versions > 1].index
    conflict = pd.Series(False, index=valid.index)
    key_index = pd.MultiIndex.from_frame(group[key]) if len(key) > 1 else pd.Index(group[key[0]])
    conflict[group.index] = key_index.isin(conflicted_keys)
    exact = valid.duplicated(values, keep="first") & ~conflict & keyed
    first = valid[~valid.duplicated(values, keep="first")]
    kept = valid[exact].merge(
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


def _clean_kind(tables: list[RawTable], kind: str) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Row-level cleaning of all files of one kind: (valid rows with cpr, reject tables)."""
    valid, rejects = [], []
    for raw in tables:
        data = raw.data
        blank = _blank_rows(data)
        blank_rejects = data.loc[blank, ["source_file", "source_row"]].assign(
            column="", raw_value="", reason="blank_row", message=REASONS["blank_row"]
        )
        rows = data[~blank]
        checks = _Checks(rows)
        frame = _CLEANERS[kind](rows, checks)
        frame["source_file"] = rows["source_file"].astype("string")
        frame["source_row"] = rows["source_row"].astype("int64")
        valid.append(frame[~checks.rejected()])
        rejects += [_structural_rejects(raw), blank_rejects, checks.table()]
    return pd.concat(valid, ignore_index=True), rejects


def _finish(valid: pd.DataFrame, kind: str, key: bytes) -> pd.DataFrame:
    from vip2analysis.schema import COMPARISON_COLUMNS, clean_schemas

    if "cpr" in valid:
        valid = valid.assign(person_id=pseudonymise(valid["cpr"], key=key)).drop(columns="cpr")
    order = {"courses": COURSE_COLUMNS, "comparison": COMPARISON_COLUMNS}.get(kind)
    out = valid[list(order)] if order else valid
    out = out.sort_values(["source_file", "source_row"], kind="stable").reset_index(drop=True)
    return clean_schemas()[kind].validate(out)


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
        valid, kind_rejects = _clean_kind(mine, kind)
        from vip2analysis.schema import RECORD_KEY

        exact, log, conflict = _duplicates(valid, list(RECORD_KEY[kind]))
        rejects += [*kind_rejects, _conflict_rejects(valid, conflict)]
        dup_logs.append(log)
        clean[kind] = _finish(valid[~exact & ~conflict], kind, key)
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
