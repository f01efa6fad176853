"""Rates with Wilson intervals over all or completed courses, and the headline figures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from vip2analysis.contract.schema import EMPLOYMENT_OUTCOMES
from vip2analysis.errors import ParameterError, check_one_of

__all__ = [
    "COUNT_FIGURES",
    "DENOMINATOR_RULES",
    "HEADLINE_FIGURES",
    "Denominator",
    "Outcome",
    "denominator_code",
    "derive_outcomes",
    "follow_up",
    "headline",
    "headline_rows",
    "rates",
    "wilson_interval",
]


Denominator = Literal["all", "completed"]
"""Which courses a rate is taken over: all courses or completed courses only."""


Outcome = Literal["employed", "ordinary", "completed"]
"""The 0/1 outcome columns made by :func:`derive_outcomes`."""


DENOMINATOR_RULES: dict[str, str] = {
    "all": "ended courses",
    "completed": "completed courses",
    "register_known": "courses known in both sources",
}
"""Denominator code -> the text of the ``denominator_rule`` column (one place). Either way
only courses that had ended by the data date count: a running course has no outcome yet."""

HEADLINE_FIGURES: dict[str, str] = {
    "courses": "courses",
    "running": "running courses",
    "ended": "ended courses",
    "ordinary_all": "ordinary employment / ended courses",
    "employed_completed": "employment / completed courses",
}
"""Headline code -> the text of the ``figure`` column of :func:`headline` (one place)."""

COUNT_FIGURES: tuple[str, ...] = ("courses", "running", "ended")
"""The headline codes that are counts of courses (no rate)."""


def denominator_code(rule: str) -> str | None:
    """The denominator code of a ``denominator_rule`` text, or None for an unknown text.

    >>> denominator_code("completed courses")
    'completed'
    """
    return next((code for code, text in DENOMINATOR_RULES.items() if text == rule), None)


def headline_rows(table: pd.DataFrame) -> pd.DataFrame:
    """A :func:`headline` table indexed by the headline codes of :data:`HEADLINE_FIGURES`.

    >>> df = pd.DataFrame({"outcome": ["ordinary_employment"], "status": ["completed"]})
    >>> headline_rows(headline(df)).loc["ordinary_all", "numerator"]
    np.int64(1)
    """
    codes = {text: code for code, text in HEADLINE_FIGURES.items()}
    return table.set_index(table["figure"].map(codes).rename("code"))


def follow_up(courses: pd.DataFrame, data_date: Any) -> pd.DataFrame:
    """Add the bool column ``running``: the course had not ended by ``data_date``.

    A course is running when its status is ``'ongoing'``, when it has no end date, or
    when it ended after the data date (a later extract read as of an earlier date). Its
    outcome is not known yet: it is reported as running, never as not employed.

    Examples
    --------
    >>> df = pd.DataFrame({"status": ["completed", "ongoing", "completed"],
    ...                    "end_date": pd.to_datetime(["2010-01-01", None, "2010-08-01"])})
    >>> follow_up(df, "2010-06-30")["running"].tolist()
    [False, True, True]
    """
    out = courses.copy()
    running = out["status"].eq("ongoing").fillna(False).to_numpy(dtype=bool).copy()
    if "end_date" in out.columns:
        end = pd.to_datetime(out["end_date"])
        running |= (end.isna() | (end > pd.Timestamp(data_date))).to_numpy(dtype=bool)
    out["running"] = running
    return out


def derive_outcomes(courses: pd.DataFrame) -> pd.DataFrame:
    """Add the 0/1 outcome columns ``employed``, ``ordinary``, ``completed`` and ``ended``.

    This is the one place that defines them: employment is ordinary or subsidised
    employment, ordinary employment is unsubsidised, a course is completed when its
    ``status`` is ``'completed'``. A course has ended (its outcome is known) unless it
    is running: the ``running`` column of :func:`follow_up` when present, else a status
    of ``'ongoing'``. A running course is never completed and never employed; rates
    leave it out. A missing outcome of an ended course counts as 0.

    Parameters
    ----------
    courses : DataFrame
        Course records with the columns ``outcome`` and ``status``.

    Returns
    -------
    DataFrame
        A copy of ``courses`` with three int columns added (or replaced).

    Examples
    --------
    >>> df = pd.DataFrame({"outcome": ["ordinary_employment", "subsidised_employment",
    ...                                "education"], "status": ["completed", "completed",
    ...                                "dropped_out"]})
    >>> derive_outcomes(df)[["employed", "ordinary", "completed", "ended"]].to_numpy().tolist()
    [[1, 1, 1, 1], [1, 0, 1, 1], [0, 0, 0, 1]]
    """
    out = courses.copy()
    if "running" in out.columns:
        running = out["running"].astype(bool)
    else:
        running = out["status"].eq("ongoing").fillna(False).astype(bool)
    ended = ~running
    out["ended"] = ended.astype("int64")
    out["employed"] = (out["outcome"].isin(EMPLOYMENT_OUTCOMES) & ended).astype("int64")
    ordinary = out["outcome"].eq("ordinary_employment").fillna(False)
    out["ordinary"] = (ordinary & ended).astype("int64")
    completed = out["status"].eq("completed").fillna(False)
    out["completed"] = (completed & ended).astype("int64")
    return out


def _wilson(events: Any, n: Any, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval; NaN where ``n`` is 0."""
    events = np.asarray(events, dtype=float)
    n = np.asarray(n, dtype=float)
    low = np.full(n.shape, np.nan)
    high = np.full(n.shape, np.nan)
    ok = n > 0
    if ok.any():
        low[ok], high[ok] = proportion_confint(events[ok], n[ok], alpha=1 - level, method="wilson")
    return low, high


def wilson_interval(events: Any, n: Any, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of ``events`` out of ``n`` (arrays or numbers); NaN where n is 0.

    >>> [round(float(x), 4) for x in wilson_interval(119, 313)]
    [0.3282, 0.4351]
    """
    return _wilson(events, n, level)


def _analysis_frame(data: pd.DataFrame, denominator: str) -> pd.DataFrame:
    """Derived outcomes of the ended courses, restricted to completed ones if the
    denominator says so."""
    check_one_of("denominator", denominator, get_args(Denominator))
    frame = derive_outcomes(data)
    frame = frame.loc[frame["ended"].eq(1)]
    if denominator == "completed":
        frame = frame.loc[frame["completed"].eq(1)]
    return frame


def _as_columns(by: str | Sequence[str], *, max_len: int) -> list[str]:
    cols = [by] if isinstance(by, str) else list(by)
    if not 1 <= len(cols) <= max_len:
        raise ParameterError(f"`by` must name 1 to {max_len} columns, but {cols!r} was passed.")
    return cols


def rates(
    data: pd.DataFrame,
    *,
    by: str | Sequence[str],
    outcome: Outcome = "employed",
    denominator: Denominator = "all",
    level: float = 0.95,
) -> pd.DataFrame:
    """Rates of a 0/1 outcome by one or two grouping columns, with Wilson intervals.

    Parameters
    ----------
    data : DataFrame
        Course records (see :func:`derive_outcomes` for the columns needed).
    by : str or list of str
        One or two grouping columns. Only observed combinations are returned, sorted
        (categorical columns in category order); a missing group value is kept as its
        own group, last.
    outcome : {'employed', 'ordinary', 'completed'}
        The outcome column made by :func:`derive_outcomes`.
    denominator : {'all', 'completed'}
        Take the rate over all ended courses or over completed courses only. Running
        courses (see :func:`follow_up`) are left out either way.
    level : float
        Confidence level of the Wilson score interval.

    Returns
    -------
    DataFrame
        The group columns, ``n``, ``events``, ``rate``, ``conf_low``, ``conf_high``,
        ``denominator_rule``.

    Examples
    --------
    >>> df = pd.DataFrame({"sex": ["F", "F", "M", "M"],
    ...                    "outcome": ["ordinary_employment", "education"] * 2,
    ...                    "status": ["completed"] * 4})
    >>> rates(df, by="sex", outcome="ordinary")[["sex", "n", "events", "rate"]]
      sex  n  events  rate
    0   F  2       1   0.5
    1   M  2       1   0.5
    """
    cols = _as_columns(by, max_len=2)
    check_one_of("outcome", outcome, get_args(Outcome))
    frame = _analysis_frame(data, denominator)
    table = (
        frame.groupby(cols, observed=True, dropna=False, sort=True)[outcome]
        .agg(n="size", events="sum")
        .reset_index()
    )
    table["rate"] = table["events"] / table["n"]
    table["conf_low"], table["conf_high"] = _wilson(table["events"], table["n"], level)
    table["denominator_rule"] = DENOMINATOR_RULES[denominator]
    return table


def headline(courses: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """The report's headline figures, each with its own denominator.

    Rows: the number of courses, of running courses and of ended courses; ordinary
    employment over ended courses (the report's 38% when, as in the method period,
    every course has ended); employment over completed courses (the report's 55%).

    Parameters
    ----------
    courses : DataFrame
        Course records, already restricted to the period wanted.
    level : float
        Confidence level of the Wilson score interval.

    Returns
    -------
    DataFrame
        Columns ``figure``, ``numerator``, ``denominator``, ``rate``, ``conf_low``,
        ``conf_high``, ``denominator_rule``.

    Examples
    --------
    >>> df = pd.DataFrame({"outcome": ["ordinary_employment", "subsidised_employment",
    ...                                "still_on_benefit", "dropped_out"],
    ...                    "status": ["completed", "completed", "completed", "dropped_out"]})
    >>> headline(df)[["figure", "numerator", "denominator"]]
                                    figure  numerator  denominator
    0                              courses          4            4
    1                      running courses          0            4
    2                        ended courses          4            4
    3  ordinary employment / ended courses          1            4
    4       employment / completed courses          2            3
    """
    frame = derive_outcomes(courses)
    ended = frame.loc[frame["ended"].eq(1)]
    done = frame.loc[frame["completed"].eq(1)]
    figure, rule = HEADLINE_FIGURES, DENOMINATOR_RULES
    n = len(frame)
    rows = [
        (figure["courses"], n, n, "all courses"),
        (figure["running"], n - len(ended), n, "all courses"),
        (figure["ended"], len(ended), n, "all courses"),
        (figure["ordinary_all"], ended["ordinary"].sum(), len(ended), rule["all"]),
        (figure["employed_completed"], done["employed"].sum(), len(done), rule["completed"]),
    ]
    table = pd.DataFrame(rows, columns=["figure", "numerator", "denominator", "denominator_rule"])
    table[["numerator", "denominator"]] = table[["numerator", "denominator"]].astype("int64")
    table["rate"] = table["numerator"] / table["denominator"]
    table["conf_low"], table["conf_high"] = _wilson(table["numerator"], table["denominator"], level)
    table.loc[: len(COUNT_FIGURES) - 1, ["rate", "conf_low", "conf_high"]] = np.nan
    columns = ["figure", "numerator", "denominator", "rate", "conf_low", "conf_high"]
    return table[[*columns, "denominator_rule"]]
