"""The DREAM register's layout as data: weekly and monthly column names, and the code table.

A DREAM extract has one row per person, weekly columns ``y_YYWW`` (two-digit ISO year and
ISO week; years below 90 are 20xx) holding a three-digit benefit code or blank, and monthly
columns ``branche_YYYY_MM`` (not blank = wage employment that month). In memory a week's
code is a small integer: 0 for blank, the code itself otherwise, :data:`MISSING_WEEK` for
a week the extract has no column for. What a code means comes from the shipped table
``data/dream_codes.csv`` (:func:`load_dream_codes`), never from code.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import numpy as np
import pandas as pd

__all__ = [
    "ACTIVATION",
    "CENSORED",
    "EDUCATION",
    "MISSING_WEEK",
    "PUBLIC_SUPPORT",
    "SELF_SUPPORT",
    "SUBSIDISED",
    "UNKNOWN",
    "DreamCodes",
    "Week",
    "WeeklyPanel",
    "iso_weeks",
    "load_dream_codes",
    "month_column",
    "parse_month_column",
    "parse_week_column",
    "week_column",
    "week_of",
    "week_thursday_months",
]

# Flags of a code (bits of DreamCodes.flags[code]).
SELF_SUPPORT = 1
PUBLIC_SUPPORT = 2
ACTIVATION = 4
CENSORED = 8
UNKNOWN = 16
SUBSIDISED = 32
EDUCATION = 64

MISSING_WEEK = 1000
"""In-memory code of a week inside the extract's span that has no column: unknown."""

WEEK_COLUMN = re.compile(r"^y_(\d{2})(\d{2})$")
MONTH_COLUMN = re.compile(r"^branche_(\d{4})_(\d{2})$")


@dataclass(frozen=True, order=True)
class Week:
    """An ISO week (year, week)."""

    year: int
    week: int

    @property
    def monday(self) -> dt.date:
        return dt.date.fromisocalendar(self.year, self.week, 1)

    @property
    def column(self) -> str:
        return week_column(self.year, self.week)

    def __add__(self, weeks: int) -> Week:
        year, week, _ = (self.monday + dt.timedelta(weeks=weeks)).isocalendar()
        return Week(year, week)

    def minus(self, other: Week) -> int:
        """Weeks from ``other`` to this week."""
        return (self.monday - other.monday).days // 7


def _weeks_in(year: int) -> int:
    return dt.date(year, 12, 28).isocalendar()[1]


def parse_week_column(name: str) -> Week:
    """The ISO week of a weekly column ``y_YYWW``.

    Raises
    ------
    ValueError
        The name is not ``y_`` and four digits, or the week does not exist in that ISO
        year (week 53 exists only in years that have one, e.g. 2004, 2009, 2015, 2020).

    Examples
    --------
    >>> parse_week_column("y_0953"), parse_week_column("y_9132").year
    (Week(year=2009, week=53), 1991)
    """
    m = WEEK_COLUMN.match(name)
    if not m:
        raise ValueError(f"{name!r} is not a weekly column y_YYWW")
    yy, ww = int(m.group(1)), int(m.group(2))
    year = 2000 + yy if yy < 90 else 1900 + yy
    if not 1 <= ww <= _weeks_in(year):
        raise ValueError(f"{name!r}: ISO year {year} has weeks 1-{_weeks_in(year)}, not week {ww}")
    return Week(year, ww)


def week_column(year: int, week: int) -> str:
    """``y_YYWW`` for an ISO week."""
    return f"y_{year % 100:02d}{week:02d}"


def parse_month_column(name: str) -> tuple[int, int]:
    """(year, month) of a monthly column ``branche_YYYY_MM``; ValueError when not one."""
    m = MONTH_COLUMN.match(name)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"{name!r} is not a monthly column branche_YYYY_MM")
    return int(m.group(1)), int(m.group(2))


def month_column(year: int, month: int) -> str:
    return f"branche_{year:04d}_{month:02d}"


def iso_weeks(first: Week, last: Week) -> list[Week]:
    """Every ISO week from ``first`` to ``last``, both included."""
    return [first + i for i in range(last.minus(first) + 1)]


def week_of(dates: pd.Series) -> pd.Series:
    """The Monday of the ISO week holding each date (NaT stays NaT)."""
    d = pd.to_datetime(dates)
    return (d - pd.to_timedelta(d.dt.day_of_week, unit="D")).dt.normalize()


def week_thursday_months(weeks: list[Week], months: list[tuple[int, int]]) -> np.ndarray:
    """For each week, the position in ``months`` of the month holding its Thursday, or -1
    when the extract has no ``branche_`` column for that month (no employment information).
    """
    where = {m: i for i, m in enumerate(months)}
    out = np.full(len(weeks), -1, dtype=np.int64)
    for i, w in enumerate(weeks):
        thursday = w.monday + dt.timedelta(days=3)
        out[i] = where.get((thursday.year, thursday.month), -1)
    return out


@dataclass(frozen=True)
class DreamCodes:
    """The code table: one row per known code, and a flag array indexed by code.

    ``flags[0]`` is the blank week (self-supported), ``flags[c]`` the flags of code ``c``
    (:data:`UNKNOWN` for a three-digit code the table does not know), and
    ``flags[MISSING_WEEK]`` is :data:`UNKNOWN`.
    """

    table: pd.DataFrame
    flags: np.ndarray
    version: str

    def known(self, codes: np.ndarray) -> np.ndarray:
        """True where a (non-blank) code is in the table."""
        return (self.flags[np.clip(codes, 0, MISSING_WEEK)] & UNKNOWN) == 0

    def label(self, code: int) -> str:
        row = self.table.loc[self.table["code"] == code, "label"]
        return str(row.iloc[0]) if len(row) else "ukendt kode"


_FLAG_COLUMNS = {
    "self_support": SELF_SUPPORT,
    "public_support": PUBLIC_SUPPORT,
    "activation": ACTIVATION,
    "censored": CENSORED,
    "subsidised_employment": SUBSIDISED,
    "education": EDUCATION,
}


@cache
def load_dream_codes() -> DreamCodes:
    """The shipped DREAM code table (``contract/data/dream_codes.csv``).

    Examples
    --------
    >>> codes = load_dream_codes()
    >>> bool(codes.flags[730] & PUBLIC_SUPPORT), bool(codes.flags[737] & ACTIVATION)
    (True, True)
    >>> bool(codes.flags[0] & SELF_SUPPORT), bool(codes.flags[400] & UNKNOWN)
    (True, True)
    """
    text = files("vip2analysis.contract").joinpath("data/dream_codes.csv").read_text("utf-8")
    version = text.splitlines()[0].lstrip("# ").strip()
    table = pd.read_csv(
        files("vip2analysis.contract").joinpath("data/dream_codes.csv"),
        comment="#",
        dtype={"code": "int64", "label": "str", "group": "str"},
    )
    flags = np.full(MISSING_WEEK + 1, UNKNOWN, dtype=np.uint8)
    flags[0] = SELF_SUPPORT
    listed = table["code"].to_numpy()
    flags[listed] = 0
    for col, bit in _FLAG_COLUMNS.items():
        flags[listed[table[col].to_numpy() == 1]] |= bit
    return DreamCodes(table=table, flags=flags, version=version)


@dataclass
class WeeklyPanel:
    """A clean DREAM extract in memory: persons, their weekly codes and monthly employment.

    Attributes
    ----------
    persons : DataFrame
        One row per person (``person_id``, ``sex``, ``birth_date``, and ``municipality``,
        ``origin_group``, ``origin_region`` where the extract carries them).
    codes : ndarray of int16, shape (persons, weeks)
        0 = blank, a code, or :data:`MISSING_WEEK`.
    weeks : list of Week
        The consecutive ISO weeks of ``codes``' columns.
    branche : ndarray of uint8, shape (persons, months)
        1 = wage employment that month.
    months : list of (year, month)
        The months of ``branche``' columns, in order.
    """

    persons: pd.DataFrame
    codes: np.ndarray
    weeks: list[Week]
    branche: np.ndarray
    months: list[tuple[int, int]]

    @property
    def info_month(self) -> np.ndarray:
        return week_thursday_months(self.weeks, self.months)

    def week_index(self, dates: pd.Series) -> np.ndarray:
        """Position in ``weeks`` of the ISO week holding each date (may lie outside); a
        missing date gives the smallest int64 (outside every extract)."""
        monday = week_of(dates)
        first = pd.Timestamp(self.weeks[0].monday)
        days = (monday - first).dt.days
        return (days // 7).fillna(np.iinfo(np.int64).min // 2).to_numpy(dtype=np.int64)

    def monday(self, index: np.ndarray) -> pd.Series:
        first = np.datetime64(self.weeks[0].monday, "D")
        return pd.Series(first + (np.asarray(index) * 7).astype("timedelta64[D]")).astype(
            "datetime64[s]"
        )
