"""Value cleaners: dates, numbers and vocabulary words, each mapped over distinct values."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import yaml

from vip2analysis.contract.reference import normalise_key
from vip2analysis.contract.schema import COURSE_DATE_RANGE
from vip2analysis.contract.text import is_arrow_text, stripped

__all__ = [
    "TWO_DIGIT_PIVOT",
    "parse_dates",
    "parse_numbers",
]


_EXCEL_EPOCH = pd.Timestamp("1899-12-30")


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


_MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        [
            ("januar", "jan"),
            ("februar", "feb"),
            ("marts", "mar"),
            ("april", "apr"),
            ("maj",),
            ("juni", "jun"),
            ("juli", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("oktober", "okt"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
"""Danish month names, long and abbreviated (``3. marts 2008``, ``3. mar. 2008``)."""

_NAMED = (
    r"^(\d{1,2})\.?\s*("
    + "|".join(sorted(_MONTHS, key=len, reverse=True))
    + r")\.?\s+(\d{4}|\d{2})$"
)
_DMY2 = r"^(\d{1,2})[-./](\d{1,2})[-./](\d{2})$"
TWO_DIGIT_PIVOT = 30
"""A two-digit year 00-30 is 2000-2030, 31-99 is 1931-1999 (``03.03.08`` is 2008)."""


def _full_year(year: pd.Series) -> pd.Series:
    """Four-digit years; two-digit ones by :data:`TWO_DIGIT_PIVOT`."""
    short = year.str.len() == 2
    number = year.astype("Float64")
    century = (number <= TWO_DIGIT_PIVOT).map({True: 2000, False: 1900}).astype("Float64")
    return number.where(~short.fillna(False), number + century)


def _dates_from_text(text: pd.Series) -> pd.Series:
    """Distinct text dates -> Timestamps (NaT where not a real date in a known style)."""
    dmy = text.str.extract(_DMY)
    ymd = text.str.extract(_YMD)
    dmy2 = text.str.extract(_DMY2)
    named = text.str.lower().str.extract(_NAMED)
    named_month = named[1].map(_MONTHS, na_action="ignore").astype("Float64")
    parts = pd.DataFrame(
        {
            "year": dmy[2]
            .astype("Float64")
            .fillna(ymd[0].astype("Float64"))
            .fillna(_full_year(dmy2[2]))
            .fillna(_full_year(named[2])),
            "month": dmy[1]
            .astype("Float64")
            .fillna(ymd[1].astype("Float64"))
            .fillna(dmy2[1].astype("Float64"))
            .fillna(named_month),
            "day": dmy[0]
            .astype("Float64")
            .fillna(ymd[2].astype("Float64"))
            .fillna(dmy2[0].astype("Float64"))
            .fillna(named[0].astype("Float64")),
        }
    )
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

    Accepted: ``dd-mm-yyyy``, ``d.m.yyyy``, ``dd/mm/yyyy`` (``-``, ``.`` or ``/``),
    ``yyyy-mm-dd``, Danish month names long or abbreviated (``3. marts 2008``,
    ``3. mar. 2008``, ``3 marts 2008``), two-digit years in either style (``03.03.08``;
    00-30 are 2000-2030, 31-99 are 1931-1999: :data:`TWO_DIGIT_PIVOT`), Excel date cells
    and Excel serial numbers (5 digits). A real date outside ``valid`` is
    ``date_out_of_range``; anything else that is not a real date is ``date_unparseable``.

    Examples
    --------
    >>> d, r = parse_dates(pd.Series(["05-04-2007", "5.4.2007", "2007-04-05", 39177,
    ...                               "5. april 2007", "5. apr. 07", "05.04.07",
    ...                               "29-02-2007", None]), required=True)
    >>> d.dt.strftime("%Y-%m-%d").tolist()[:7]
    ['2007-04-05', '2007-04-05', '2007-04-05', '2007-04-05', '2007-04-05', '2007-04-05', '2007-04-05']
    >>> r.tolist()[7:]
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
def _vocabulary(extra: tuple[tuple[str, str, str], ...] = ()) -> dict[str, dict[str, str]]:
    """Field -> matching key -> code, from the shipped vocabulary and the ``extra``
    (field, wording, code) triples of a user config."""
    ref = resources.files("vip2analysis.contract") / "data" / "vocabulary.yaml"
    raw = yaml.safe_load(ref.read_text(encoding="utf-8"))
    out: dict[str, dict[str, str]] = {}
    for field_name, mapping in raw.items():
        words = [(w, code) for code, ws in mapping.items() for w in (code, *ws)]
        words += [(w, code) for f, w, code in extra if f == field_name]
        keys = normalise_key(pd.Series([str(w) for w, _ in words], dtype="string"))
        out[field_name] = {k: code for k, (_, code) in zip(keys, words, strict=True)}
    return out


def _vocab(
    col: _Column,
    field_name: str,
    *,
    unknown: str,
    missing: str | None = None,
    extra: tuple[tuple[str, str, str], ...] = (),
) -> tuple[pd.Series, pd.Series]:
    """Map wordings through the vocabulary (shipped, plus a user config's ``extra``):
    (codes, reasons ``unknown``/``missing``)."""
    codes = normalise_key(col.texts).map(_vocabulary(extra)[field_name]).astype("string")
    return col.spread(codes), col.reason(_reason(codes.isna(), unknown, codes.index), missing)
