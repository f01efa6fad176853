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
    "DENOMINATOR_RULES",
    "HEADLINE_FIGURES",
    "Denominator",
    "Outcome",
    "denominator_code",
    "derive_outcomes",
    "headline",
    "headline_rows",
    "rates",
]


Denominator = Literal["all", "completed"]
"""Which courses a rate is taken over: all courses or completed courses only."""


Outcome = Literal["employed", "ordinary", "completed"]
"""The 0/1 outcome columns made by :func:`derive_outcomes`."""


DENOMINATOR_RULES: dict[str, str] = {"all": "all courses", "completed": "completed courses"}
"""Denominator code -> the text of the ``denominator_rule`` column (one place)."""

HEADLINE_FIGURES: dict[str, str] = {
    "courses": "courses",
    "ordinary_all": "ordinary employment / all courses",
    "employed_completed": "employment / completed courses",
}
"""Headline code -> the text of the ``figure`` column of :func:`headline` (one place)."""


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


def derive_outcomes(courses: pd.DataFrame) -> pd.DataFrame:
    """Add the 0/1 outcome columns ``employed``, ``ordinary`` and ``completed``.

    This is the one place that defines them: employment is ordinary or subsidised
    employment, ordinary employment is unsubsidised, a course is completed when its
    ``status`` is ``'completed'``. A missing outcome counts as 0.

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
    >>> derive_outcomes(df)[["employed", "ordinary", "completed"]].to_numpy().tolist()
    [[1, 1, 1], [1, 0, 1], [0, 0, 0]]
    """
    out = courses.copy()
    out["employed"] = out["outcome"].isin(EMPLOYMENT_OUTCOMES).astype("int64")
    out["ordinary"] = out["outcome"].eq("ordinary_employment").fillna(False).astype("int64")
    out["completed"] = out["status"].eq("completed").fillna(False).astype("int64")
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


def _analysis_frame(data: pd.DataFrame, denominator: str) -> pd.DataFrame:
    """Derived outcomes, restricted to completed courses if the denominator says so."""
    check_one_of("denominator", denominator, get_args(Denominator))
    frame = derive_outcomes(data)
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
        Take the rate over all courses or over completed courses only.
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
    """The report's three headline figures, each with its own denominator.

    Rows: the number of courses; ordinary employment over all courses (the report's
    38%); employment over completed courses (the report's 55%).

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
    0                            courses          4            4
    1  ordinary employment / all courses          1            4
    2     employment / completed courses          2            3
    """
    frame = derive_outcomes(courses)
    done = frame.loc[frame["completed"].eq(1)]
    figure, rule = HEADLINE_FIGURES, DENOMINATOR_RULES
    rows = [
        (figure["courses"], len(frame), len(frame), rule["all"]),
        (figure["ordinary_all"], frame["ordinary"].sum(), len(frame), rule["all"]),
        (figure["employed_completed"], done["employed"].sum(), len(done), rule["completed"]),
    ]
    table = pd.DataFrame(rows, columns=["figure", "numerator", "denominator", "denominator_rule"])
    table[["numerator", "denominator"]] = table[["numerator", "denominator"]].astype("int64")
    table["rate"] = table["numerator"] / table["denominator"]
    table["conf_low"], table["conf_high"] = _wilson(table["numerator"], table["denominator"], level)
    table.loc[0, ["rate", "conf_low", "conf_high"]] = np.nan
    columns = ["figure", "numerator", "denominator", "rate", "conf_low", "conf_high"]
    return table[[*columns, "denominator_rule"]]
