"""Reconciliation of the cleaned data with the figures the VIP2 report published."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple, Protocol

import numpy as np
import pandas as pd

from vip2analysis.contract.labels import load_labels
from vip2analysis.stats.proportions import headline, headline_rows

__all__ = [
    "reconcile",
]


Status = Literal["match", "rounding", "not reconcilable by its own definition", "mismatch"]


class _PeriodLike(Protocol):
    name: str
    start: dt.date
    end: dt.date


_REPORT_EXTENSION_NEWSLETTERS = ("2009-11", "2009-12", "2010-02", "2010-05", "2010-06")
"""Months of the five newsletters the report lists under the project extension."""


_REPORT_DATE = dt.date(2010, 9, 15)
"""The report's date: its "14 newsletters" counts everything sent up to then."""


def _in_period(dates: pd.Series, period: _PeriodLike) -> pd.Series:
    """True where a date falls in the period (both ends inclusive, whole days)."""
    d = pd.to_datetime(dates)
    start = pd.Timestamp(period.start)
    return d.ge(start) & d.lt(pd.Timestamp(period.end) + pd.Timedelta(days=1))


class _Figure(NamedTuple):
    figure: str
    published: float
    computed: float
    definition: str
    kind: Literal["count", "percent", "about"] = "count"
    alternative: float | None = None
    note: str = ""


def _text(lang: str, key: str, **fields: Any) -> str:
    """The prose of a definition or a note, from the label data (``reconcile.*``)."""
    return load_labels()[lang][f"reconcile.{key}"].format(**fields)


def _course_figures(courses: pd.DataFrame, method: _PeriodLike, lang: str) -> list[_Figure]:
    frame = courses.loc[_in_period(courses["start_date"], method)]
    rate = headline_rows(headline(frame))["rate"] * 100
    span = _text(lang, "def.span", start=method.start, end=method.end, name=method.name)
    ordinary, employed = rate["ordinary_all"], rate["employed_completed"]
    towns = frame["municipality"].nunique()
    return [
        _Figure(
            "courses in the method period", 313, len(frame), _text(lang, "def.courses", span=span)
        ),
        _Figure(
            "ordinary employment, % of all courses",
            38,
            ordinary,
            _text(lang, "def.ordinary", span=span),
            "percent",
        ),
        _Figure(
            "employment, % of completed courses",
            55,
            employed,
            _text(lang, "def.employed", span=span),
            "percent",
        ),
        _Figure("municipalities", 5, towns, _text(lang, "def.municipalities", span=span)),
    ]


def _ambassador_figures(
    ambassadors: pd.DataFrame, periods: Mapping[str, Any], lang: str
) -> list[_Figure]:
    ext, whole = periods["extension2"], periods["all"]
    date = pd.to_datetime(ambassadors["certified_date"])
    new = ambassadors.loc[_in_period(date, ext)]
    n_all, n_before = _in_period(date, whole).sum(), date.lt(pd.Timestamp(ext.start)).sum()
    n_courses = len(new[["course", "certified_date"]].drop_duplicates())
    return [
        _Figure(
            "ambassadors in all",
            130,
            n_all,
            _text(lang, "def.certified", start=whole.start, end=whole.end),
        ),
        _Figure(
            "ambassadors before the extension",
            70,
            n_before,
            _text(lang, "def.certified_before", date=ext.start),
        ),
        _Figure(
            "new ambassadors in the extension",
            60,
            len(new),
            _text(lang, "def.certified", start=ext.start, end=ext.end),
        ),
        _Figure(
            "ambassador courses in the extension",
            3,
            n_courses,
            _text(lang, "def.ambassador_courses", start=ext.start, end=ext.end),
        ),
    ]


def _newsletter_figures(
    activities: pd.DataFrame, periods: Mapping[str, Any], lang: str
) -> list[_Figure]:
    ext = periods["extension2"]
    news = activities.loc[activities["kind"].eq("newsletter")]
    date = pd.to_datetime(news["date"])
    sent = news.loc[date.le(pd.Timestamp(_REPORT_DATE))].sort_values("date", kind="stable")
    latest = sent["recipients"].iloc[-1] if len(sent) else np.nan
    n_ext = _in_period(date, ext).sum()
    first, last = _REPORT_EXTENSION_NEWSLETTERS[0], _REPORT_EXTENSION_NEWSLETTERS[-1]
    listed = pd.Period(first, "M").start_time, pd.Period(last, "M").end_time
    n_listed = date.between(*listed).sum()
    note = _text(
        lang,
        "note.newsletters",
        n=n_ext,
        start=ext.start,
        end=ext.end,
        name=ext.name,
        first=first,
        last=last,
        listed_start=listed[0].date(),
        listed_end=listed[1].date(),
        n_listed=n_listed,
    )
    return [
        _Figure(
            "newsletters in all",
            14,
            len(sent),
            _text(lang, "def.newsletters_all", date=_REPORT_DATE),
        ),
        _Figure(
            "newsletters in the extension",
            5,
            n_ext,
            _text(lang, "def.newsletters_period", start=ext.start, end=ext.end, name=ext.name),
            alternative=n_listed,
            note=note,
        ),
        _Figure(
            "newsletter recipients (about)",
            2700,
            float(latest) if pd.notna(latest) else np.nan,
            _text(lang, "def.recipients", date=_REPORT_DATE),
            "about",
        ),
    ]


def _sector_figures(
    courses: pd.DataFrame, job_packages: pd.DataFrame | None, lang: str
) -> list[_Figure]:
    if job_packages is None:
        ref = courses[["job_package", "job_package_group"]].set_axis(["name", "group"], axis=1)
        source, note = "def.packages_seen", _text(lang, "note.no_list")
    else:
        ref, source, note = job_packages, "def.packages_list", ""
    count = ref.drop_duplicates("name").groupby("group")["name"].size()
    return [
        _Figure(
            "original job packages (sectors)",
            12,
            count.get("original", 0),
            _text(lang, source, group="original"),
            note=note,
        ),
        _Figure(
            "new job packages (sectors)",
            17,
            count.get("vip2", 0),
            _text(lang, source, group="vip2"),
            note=note,
        ),
    ]


def _status(row: pd.Series) -> Status:
    published, computed = row["published"], row["computed"]
    if pd.isna(computed):
        return "mismatch"
    if row["kind"] == "percent":
        if math.floor(computed + 0.5) == published:
            return "match"
        return "rounding" if abs(computed - published) < 1 else "mismatch"
    if computed == published:
        return "match"
    if row["kind"] == "about" and round(computed, -2) == published:
        return "rounding"
    if pd.notna(row["alternative"]) and row["alternative"] == published:
        return "not reconcilable by its own definition"
    return "mismatch"


def reconcile(
    courses: pd.DataFrame,
    *,
    ambassadors: pd.DataFrame,
    activities: pd.DataFrame,
    periods: Mapping[str, Any],
    job_packages: pd.DataFrame | None = None,
    lang: str = "en",
) -> pd.DataFrame:
    """Recompute every figure the report publishes and say whether it matches.

    Parameters
    ----------
    courses : DataFrame
        All course records; the course figures use those starting in ``periods['method']``.
    ambassadors : DataFrame
        ``ambassador_id``, ``municipality``, ``certified_date``, ``course``.
    activities : DataFrame
        ``date``, ``kind``, ``recipients`` (for newsletters), ...
    periods : mapping
        Name -> period with ``name``, ``start``, ``end``; needs ``method``,
        ``extension2`` and ``all``.
    job_packages : DataFrame, optional
        Reference list of job packages (``name``, ``group``); without it the sectors are
        counted among the courses.
    lang : {'en', 'da'}
        Language of the ``definition`` and ``note`` prose (the label data's
        ``reconcile.*``); ``figure`` and ``status`` are codes in every language.

    Returns
    -------
    DataFrame
        ``figure``, ``published``, ``computed``, ``difference``, ``definition``,
        ``status``, ``note``. Percentages are in percent and compared at the report's
        precision (whole percent). ``status`` is 'match' (equal at the report's
        precision), 'rounding' (the report's figure is approximate, or a percentage is
        within one point), 'not reconcilable by its own definition' (the report's own
        listing contradicts its period, see ``note``) or 'mismatch'.

    Examples
    --------
    >>> from types import SimpleNamespace as P
    >>> periods = {"method": P(name="method", start=dt.date(2007, 4, 1),
    ...                        end=dt.date(2009, 6, 30)),
    ...            "extension2": P(name="extension2", start=dt.date(2009, 12, 15),
    ...                            end=dt.date(2010, 6, 15)),
    ...            "all": P(name="all", start=dt.date(2007, 4, 1), end=dt.date(2010, 6, 15))}
    >>> courses = pd.DataFrame({"start_date": pd.to_datetime(["2008-01-01"]),
    ...     "outcome": ["ordinary_employment"], "status": ["completed"],
    ...     "municipality": ["Aarhus"], "job_package": ["Rengøring"],
    ...     "job_package_group": ["original"]})
    >>> amb = pd.DataFrame({"certified_date": pd.to_datetime(["2010-01-26"]),
    ...                     "course": ["Kolding"]})
    >>> act = pd.DataFrame({"date": pd.to_datetime(["2009-11-15", "2010-02-01"]),
    ...                     "kind": ["newsletter"] * 2, "recipients": [2600, 2700]})
    >>> reconcile(courses, ambassadors=amb, activities=act, periods=periods).shape
    (13, 7)
    """
    rows = [
        *_course_figures(courses, periods["method"], lang),
        *_ambassador_figures(ambassadors, periods, lang),
        *_newsletter_figures(activities, periods, lang),
        *_sector_figures(courses, job_packages, lang),
    ]
    table = pd.DataFrame(rows)
    table["computed"] = table["computed"].astype("float64")
    table["published"] = table["published"].astype("float64")
    table["difference"] = table["computed"] - table["published"]
    table["status"] = table.apply(_status, axis=1)
    columns = ["figure", "published", "computed", "difference", "definition", "status", "note"]
    return table[columns]
