"""Per-kind record cleaners: raw columns -> clean columns plus one reject reason per row."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from vip2analysis.clean.values import (
    _Column,
    _column,
    _first,
    _parse_dates,
    _reason,
    _text,
    _text_numbers,
    _vocab,
    _whole_numbers,
)
from vip2analysis.contract.bands import duration_band
from vip2analysis.contract.cpr import age_at, parse_cpr
from vip2analysis.contract.reference import (
    match_country,
    match_job_package,
    match_municipality,
    normalise_key,
)
from vip2analysis.contract.schema import (
    ACTIVATION_DATE_RANGE,
    AGE_RANGE,
    ALIASES,
    BIRTH_DATE_RANGE,
    COURSE_DATE_RANGE,
    MAX_YEARS_WITHOUT_ACTIVATION,
    IdMode,
)
from vip2analysis.contract.user_config import UserConfig
from vip2analysis.io.read import RawTable

__all__ = [
    "NOTES",
    "REASONS",
]

NOTES: dict[str, str] = {
    "cpr_leading_zero": (
        "the CPR number was stored as a number (Excel) and had lost its leading zero; "
        "the zero was put back"
    ),
    "unnamed_column": "a column without a header holds values; they are not used",
}
"""Repairs and observations that reject nothing: code -> message (``notes.csv``)."""

_NOTE_COLUMNS = ["source_file", "source_row", "column", "note", "message"]


# Reason code -> the sentence a sender reads in the rejects table.
REASONS: dict[str, str] = {
    "blank_row": "the row is empty",
    "totals_row": "a totals row ('I alt', 'Total', ...), not a record",
    "repeated_header": "the header row repeated inside the data, not a record",
    "ragged_row": "the row has a different number of cells than the header",
    "cpr_missing": "no CPR number",
    "cpr_format": "the CPR number is not 10 digits (DDMMYY-SSSS)",
    "cpr_date": "the CPR number's first six digits are not a real date",
    "age_out_of_range": "the age from the birth date is not 0-120 at the start",
    "birth_date_cpr_conflict": "the recorded birth date disagrees with the CPR number's",
    "id_looks_like_cpr": (
        "with --ids pseudonymised the id must not be a CPR number (10 digits that begin "
        "with a real date), so that none passes unhashed; CPR numbers need --ids cpr"
    ),
    "id_format": "the id holds a space or is longer than 64 characters",
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


# Columns whose values are mostly distinct: handled row by row (vectorised), not by value.
_PER_ROW = frozenset({"cpr"})


@dataclass
class _Checks:
    """Reason codes per column for one table; a row with any reason is rejected.

    Rows that are not records -- blank rows, totals rows ("I alt"), the header repeated
    inside the data -- get no reasons here: each is rejected once, with its own reason
    (:attr:`whole_rows`). The raw columns are read once, as :class:`_Column` objects.
    """

    raw: pd.DataFrame
    config: UserConfig = field(default_factory=UserConfig)
    ids: IdMode = "cpr"
    found: list[pd.DataFrame] = field(default_factory=list)
    columns: dict[str, _Column] = field(default_factory=dict)
    noted: list[pd.DataFrame] = field(default_factory=list)

    def note(self, column: str, hit: np.ndarray, code: str) -> None:
        """Record a repair (or observation) on the rows ``hit``; nothing is rejected."""
        hit = np.asarray(hit, dtype=bool) & ~self.skipped
        if hit.any():
            rows = self.raw.loc[hit, ["source_file", "source_row"]].copy()
            rows["column"], rows["note"], rows["message"] = column, code, NOTES[code]
            self.noted.append(rows[_NOTE_COLUMNS])

    def notes(self) -> pd.DataFrame:
        return pd.concat(self.noted) if self.noted else _empty_notes()

    def column(self, name: str) -> _Column:
        if name not in self.columns:
            self.columns[name] = _column(self.raw[name], per_row=name in _PER_ROW)
        return self.columns[name]

    @functools.cached_property
    def blank(self) -> np.ndarray:
        return np.logical_and.reduce([self.column(c).empty for c in self._names])

    @property
    def _names(self) -> list[str]:
        return [c for c in self.raw.columns if c not in ("source_file", "source_row")]

    @functools.cached_property
    def whole_rows(self) -> dict[str, np.ndarray]:
        """Rows that are not records, by reason: blank, totals, a repeated header.

        A totals row has a cell that is a totals word ("I alt", "Total", "Sum", ...); a
        repeated header has at least three cells that are headers of their own columns.
        Only texts without digits are looked at, so a file of records costs little.
        """
        n = len(self.raw)
        totals, headers = np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64)
        aliases = _header_keys()
        for name in self._names:
            col = self.column(name)
            texts = col.texts
            # headers and totals words are short and hold no digit (a CPR holds ten)
            words = (texts.str.len() <= 40) & ~texts.str.contains(r"\d", regex=True)
            words = words.fillna(False).to_numpy(dtype=bool)
            if not words.any():
                continue
            keys = normalise_key(texts[words])
            is_total, is_header = np.zeros(len(texts) + 1, dtype=bool), np.zeros(len(texts) + 1)
            is_total[:-1][words] = keys.isin(_TOTAL_WORDS).fillna(False).to_numpy(dtype=bool)
            is_header[:-1][words] = keys.isin(aliases.get(name, ())).fillna(False).to_numpy()
            if is_total.any():
                totals |= is_total[col.codes]  # code -1 (empty) reads the last, False
            if is_header.any():
                headers += is_header[col.codes].astype(np.int64)
        header = (headers >= 3) & ~self.blank
        return {
            "blank_row": self.blank,
            "repeated_header": header,
            "totals_row": totals & ~header & ~self.blank,
        }

    @functools.cached_property
    def skipped(self) -> np.ndarray:
        return np.logical_or.reduce(list(self.whole_rows.values()))

    def add(self, column: str, reason: pd.Series, raw_values: pd.Series | None = None) -> None:
        hit = reason.notna().to_numpy() & ~self.skipped
        if not hit.any():
            return
        shown = self.raw[column] if raw_values is None else raw_values
        rows = self.raw.loc[hit, ["source_file", "source_row"]].copy()
        rows["column"] = column
        rows["raw_value"] = _text(shown[hit]).fillna("").astype(object)
        rows["reason"] = reason[hit].astype(object)
        self.found.append(rows)

    def rejected(self) -> pd.Series:
        bad = pd.Series(self.skipped, index=self.raw.index)
        for f in self.found:
            bad[f.index] = True
        return bad

    def table(self) -> pd.DataFrame:
        if not self.found:
            return _empty_rejects()
        out = pd.concat(self.found)
        out["message"] = out["reason"].map(REASONS)
        return out[_REJECT_COLUMNS]


_TOTAL_WORDS = frozenset({"i alt", "ialt", "total", "totalt", "sum", "samlet", "i alt i alt"})
"""Cells (as matching keys) that mark a totals row."""


@functools.cache
def _header_keys() -> dict[str, frozenset[str]]:
    """Column -> the matching keys of its name and aliases (to spot a repeated header)."""
    return {
        col: frozenset(normalise_key(pd.Series([col, *aliases])).dropna())
        for col, aliases in ALIASES.items()
    }


def _empty_notes() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in _NOTE_COLUMNS})


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


def _person(raw: pd.DataFrame, checks: _Checks) -> pd.DataFrame:
    """The person id -> ``cpr`` (the id to key on), birth date and sex; reasons into ``checks``.

    With CPR numbers: a CPR that was a *number* cell (XLSX, or an integer column of a
    DataFrame) and has 9 digits lost its leading zero to the spreadsheet: the zero is put
    back and the repair noted. A 9-character *text* stays invalid (``cpr_format``). A
    birth date column, when there is one, must agree with the CPR number's.

    With ids pseudonymised elsewhere (``checks.ids``), see :func:`_own_id`.
    """
    if checks.ids == "pseudonymised":
        return _own_id(raw, checks)
    texts = checks.column("cpr").text()
    lost = _lost_zero(raw["cpr"], texts)
    if lost.any():
        texts = texts.mask(lost, "0" + texts)
        checks.note("cpr", lost, "cpr_leading_zero")
    parsed = parse_cpr(texts)
    checks.add("cpr", parsed["reason"], raw_values=raw["cpr"])
    recorded, reason = _dates(raw, checks, "birth_date", valid=BIRTH_DATE_RANGE)
    conflict = recorded.notna() & parsed["birth_date"].notna()
    conflict &= recorded != parsed["birth_date"]
    checks.add(
        "birth_date", _first(reason, _reason(conflict, "birth_date_cpr_conflict", raw.index))
    )
    return parsed


def _lost_zero(values: pd.Series, texts: pd.Series) -> np.ndarray:
    """Number cells with 9 digits: a 10-digit id whose leading zero a spreadsheet dropped."""
    nine = texts.str.fullmatch(r"\d{9}").fillna(False).to_numpy(dtype=bool)
    return _number_cells(values) & nine if nine.any() else nine


def _own_id(raw: pd.DataFrame, checks: _Checks) -> pd.DataFrame:
    """Ids already pseudonymised (``--ids pseudonymised``): kept as they are, not hashed.

    An id that could be a real CPR number -- 10 digits (a dash after the sixth allowed, a
    lost leading zero put back) whose first six are a real date -- is rejected, so that no
    CPR passes unhashed. Birth date and sex come only from their own columns; without
    them they stay missing.
    """
    texts = checks.column("cpr").text()
    as_cpr = texts.mask(_lost_zero(raw["cpr"], texts), "0" + texts)
    looks_like_cpr = parse_cpr(as_cpr)["reason"].isna()
    bad_format = texts.str.contains(r"\s", regex=True) | (texts.str.len() > 64)
    reason = _first(
        _reason(texts.isna(), "id_missing", raw.index),
        _reason(looks_like_cpr, "id_looks_like_cpr", raw.index),
        _reason(bad_format, "id_format", raw.index),
    )
    checks.add("cpr", reason, raw_values=raw["cpr"])
    birth, reason = _dates(raw, checks, "birth_date", valid=BIRTH_DATE_RANGE)
    checks.add("birth_date", reason)
    return pd.DataFrame(
        {
            "cpr": texts,
            "birth_date": birth.astype("datetime64[ns]"),
            "sex": pd.Series(pd.NA, index=raw.index, dtype="string"),
        }
    )


def _number_cells(values: pd.Series) -> np.ndarray:
    """True where a raw cell is a whole number (not text, not a bool)."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.StringDtype):
        return np.zeros(len(values), dtype=bool)
    if pd.api.types.is_integer_dtype(dtype):
        return values.notna().to_numpy(dtype=bool)
    if pd.api.types.is_float_dtype(dtype):
        v = values.to_numpy(dtype=float, na_value=np.nan)
        return np.isfinite(v) & (v % 1 == 0)
    return np.fromiter(
        (
            (isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_))
            or (isinstance(v, float | np.floating) and np.isfinite(v) and float(v).is_integer())
            for v in values.to_numpy(dtype=object)
        ),
        dtype=bool,
        count=len(values),
    )


def _sex(raw: pd.DataFrame, cpr_sex: pd.Series, checks: _Checks) -> tuple[pd.Series, pd.Series]:
    """Recorded sex, or the CPR's when missing; a conflict is a reject, not a choice."""
    col = checks.column("sex")
    codes, unknown = _vocab(col, "sex", unknown="sex_unknown", extra=checks.config.vocabulary)
    conflict = codes.notna() & cpr_sex.notna() & (codes != cpr_sex)
    checks.add("sex", _first(unknown, _reason(conflict, "sex_cpr_conflict", raw.index)))
    from_cpr = col.empty & cpr_sex.notna()
    return codes.fillna(cpr_sex), from_cpr


def _age(raw: pd.DataFrame, birth: pd.Series, on: pd.Series, checks: _Checks) -> pd.Series:
    """Age in whole years at ``on`` from the birth date (the CPR number's, or the birth date
    column's with pseudonymised ids); outside ``AGE_RANGE``: a reject."""
    age = age_at(birth, on)
    low, high = AGE_RANGE
    reason = _reason((age < low) | (age > high), "age_out_of_range", raw.index)
    column = "birth_date" if checks.ids == "pseudonymised" else "cpr"
    checks.add(column, reason, raw_values=raw[column])
    return age


def _looked_up(
    checks: _Checks,
    column: str,
    lookup: Callable[[pd.Series], pd.DataFrame],
    *,
    unknown: str,
    missing: str,
) -> pd.DataFrame:
    """Match a column against a reference list (over its distinct values); a value the list
    does not know is rejected as ``unknown``, an empty one as ``missing``."""
    col = checks.column(column)
    found = lookup(col.texts)
    checks.add(column, col.reason(_reason(found[column].isna(), unknown, found.index), missing))
    return col.spread(found)


def _place(raw: pd.DataFrame, checks: _Checks) -> pd.DataFrame:
    return _looked_up(
        checks,
        "municipality",
        functools.partial(match_municipality, extra=checks.config.municipalities),
        unknown="municipality_unknown",
        missing="municipality_missing",
    )


def _background(raw: pd.DataFrame, checks: _Checks) -> pd.DataFrame:
    col = checks.column("country_of_origin")
    country = match_country(col.texts)
    unknown = _reason(country["country_of_origin"].isna(), "country_unknown", country.index)
    checks.add("country_of_origin", col.reason(unknown))
    residence, reason = _vocab(
        checks.column("residence_basis"),
        "residence_basis",
        unknown="residence_unknown",
        extra=checks.config.vocabulary,
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


def _person_columns(
    raw: pd.DataFrame,
    checks: _Checks,
    who: tuple[pd.DataFrame, pd.DataFrame],
    when: tuple[pd.Series, pd.Series],
) -> dict[str, pd.Series]:
    """The columns of a course record: who (person, place), the outcome,
    and the age and years without activation on the date ``when`` (dates, reasons)."""
    person, muni = who
    on, on_reason = when
    outcome, reason = _vocab(
        checks.column("outcome"),
        "outcome",
        unknown="outcome_unknown",
        extra=checks.config.vocabulary,
    )
    checks.add("outcome", reason)
    sex, _ = _sex(raw, person["sex"], checks)
    age = _age(raw, person["birth_date"], on.where(on_reason.isna()), checks)
    years = _years(raw, on, checks)
    return {
        "cpr": person["cpr"] if checks.ids == "pseudonymised" else _cpr_number(person["cpr"]),
        "municipality": muni["municipality"],
        "municipality_code": muni["municipality_code"],
        "region": muni["region"],
        "outcome": outcome.fillna("unknown"),  # an empty outcome is unknown
        "sex": sex,
        "birth_date": person["birth_date"].astype("datetime64[s]"),
        "age": age,
        "years_without_activation": years,
        "duration_band": duration_band(years),
    }


def _courses(raw: pd.DataFrame, checks: _Checks) -> pd.DataFrame:
    who = _person(raw, checks), _place(raw, checks)
    pkg = _job_package(checks)
    start, start_reason = _dates(raw, checks, "start_date", required=True)
    end, end_reason = _dates(raw, checks, "end_date")
    checks.add("start_date", start_reason)
    checks.add("end_date", _first(end_reason, _reason(end < start, "end_before_start", raw.index)))
    status, reason = _vocab(
        checks.column("status"),
        "status",
        unknown="status_unknown",
        missing="status_missing",
        extra=checks.config.vocabulary,
    )
    checks.add("status", reason)
    columns = _person_columns(raw, checks, who, (start, start_reason))
    columns["age_at_start"] = columns.pop("age")
    frame = pd.DataFrame(
        {
            **columns,
            "job_package": pkg["job_package"],
            "job_package_group": pkg["job_package_group"],
            "start_date": start,
            "end_date": end,
            "status": status,
        },
        index=raw.index,
    )
    return frame.join(_background(raw, checks)).join(_match(raw, checks))


def _job_package(checks: _Checks) -> pd.DataFrame:
    return _looked_up(
        checks,
        "job_package",
        functools.partial(match_job_package, extra=checks.config.job_packages),
        unknown="unknown_job_package",
        missing="job_package_missing",
    )


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
        extra=checks.config.vocabulary,
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
    "ambassadors": _ambassadors,
    "activities": _activities,
}
