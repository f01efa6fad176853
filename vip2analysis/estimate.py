"""The statistical core: rates with intervals, adjusted differences, participation effects.

Every function is pure: DataFrames in, DataFrames or small result objects out, no I/O.
Result objects keep the raw statsmodels results and offer ``.tidy()`` (a DataFrame with
the columns of :data:`TIDY_COLUMNS`) and ``.summary()`` (text for a notebook).

Two kinds of comparison are kept apart on purpose:

* :func:`adjusted_differences` compares groups *among participants*. It describes who
  did better; it is not a causal effect and every output says so.
* :func:`participation_effect` needs a comparison group of non-participants and
  estimates the effect of participation on the participants (ATT) under selection on
  observables.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, Protocol, get_args

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from scipy.special import expit
from statsmodels.stats.proportion import proportion_confint

from vip2analysis._validation import check_one_of
from vip2analysis.schema import EMPLOYMENT_OUTCOMES

__all__ = [
    "TIDY_COLUMNS",
    "AdjustedDifferences",
    "Denominator",
    "Outcome",
    "ParticipationEffect",
    "TeMethod",
    "adjusted_differences",
    "derive_outcomes",
    "headline",
    "participation_effect",
    "rates",
    "reconcile",
    "stack_comparison",
]

Denominator = Literal["all", "completed"]
"""Which courses a rate is taken over: all courses or completed courses only."""
Outcome = Literal["employed", "ordinary", "completed"]
"""The 0/1 outcome columns made by :func:`derive_outcomes`."""
TeMethod = Literal["ipw", "aipw"]
"""Estimators of the effect of participation on the participants."""
Status = Literal["match", "rounding", "not reconcilable by its own definition", "mismatch"]

TIDY_COLUMNS: tuple[str, ...] = (
    "term",
    "estimate",
    "std_error",
    "conf_low",
    "conf_high",
    "p_value",
    "n",
    "inference",
)

DENOMINATOR_RULES: dict[str, str] = {"all": "all courses", "completed": "completed courses"}
INFERENCE_AME = "delta method (logit AME)"
INFERENCE_HC3 = "HC3"
INFERENCE_ATT = "M-estimation sandwich (stacked estimating equations)"
NOT_CAUSAL = (
    "Differences among participants, adjusted for the other terms; "
    "they describe who did better, they are not causal effects."
)
_SEPARATION_COEF = 10.0  # |logit coefficient| above this is flagged as (quasi-)separation


class _PeriodLike(Protocol):
    name: str
    start: dt.date
    end: dt.date


# --- outcomes and rates ------------------------------------------------------------------


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
        raise ValueError(f"`by` must name 1 to {max_len} columns, but {cols!r} was passed.")
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
    rows = [
        ("courses", len(frame), len(frame), "all courses"),
        ("ordinary employment / all courses", frame["ordinary"].sum(), len(frame), "all courses"),
        ("employment / completed courses", done["employed"].sum(), len(done), "completed courses"),
    ]
    table = pd.DataFrame(rows, columns=["figure", "numerator", "denominator", "denominator_rule"])
    table[["numerator", "denominator"]] = table[["numerator", "denominator"]].astype("int64")
    table["rate"] = table["numerator"] / table["denominator"]
    table["conf_low"], table["conf_high"] = _wilson(table["numerator"], table["denominator"], level)
    table.loc[0, ["rate", "conf_low", "conf_high"]] = np.nan
    columns = ["figure", "numerator", "denominator", "rate", "conf_low", "conf_high"]
    return table[[*columns, "denominator_rule"]]


# --- reconciliation with the published report ----------------------------------------------

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


def _course_figures(courses: pd.DataFrame, method: _PeriodLike) -> list[_Figure]:
    frame = courses.loc[_in_period(courses["start_date"], method)]
    rate = headline(frame).set_index("figure")["rate"] * 100
    span = f"courses starting {method.start}..{method.end} (period '{method.name}')"
    ordinary, employed = rate.iloc[1], rate.iloc[2]
    towns = frame["municipality"].nunique()
    return [
        _Figure("courses in the method period", 313, len(frame), span),
        _Figure(
            "ordinary employment, % of all courses",
            38,
            ordinary,
            f"ordinary_employment / all {span}",
            "percent",
        ),
        _Figure(
            "employment, % of completed courses",
            55,
            employed,
            f"(ordinary + subsidised employment) / completed {span}",
            "percent",
        ),
        _Figure("municipalities", 5, towns, f"distinct municipalities among {span}"),
    ]


def _ambassador_figures(ambassadors: pd.DataFrame, periods: Mapping[str, Any]) -> list[_Figure]:
    ext, whole = periods["extension2"], periods["all"]
    date = pd.to_datetime(ambassadors["certified_date"])
    new = ambassadors.loc[_in_period(date, ext)]
    n_all, n_before = _in_period(date, whole).sum(), date.lt(pd.Timestamp(ext.start)).sum()
    n_courses = len(new[["course", "certified_date"]].drop_duplicates())
    return [
        _Figure(
            "ambassadors in all", 130, n_all, f"ambassadors certified {whole.start}..{whole.end}"
        ),
        _Figure(
            "ambassadors before the extension",
            70,
            n_before,
            f"ambassadors certified before {ext.start}",
        ),
        _Figure(
            "new ambassadors in the extension",
            60,
            len(new),
            f"ambassadors certified {ext.start}..{ext.end}",
        ),
        _Figure(
            "ambassador courses in the extension",
            3,
            n_courses,
            f"distinct certification courses (place, date) {ext.start}..{ext.end}",
        ),
    ]


def _newsletter_figures(activities: pd.DataFrame, periods: Mapping[str, Any]) -> list[_Figure]:
    ext = periods["extension2"]
    news = activities.loc[activities["kind"].eq("newsletter")]
    date = pd.to_datetime(news["date"])
    sent = news.loc[date.le(pd.Timestamp(_REPORT_DATE))].sort_values("date", kind="stable")
    latest = sent["recipients"].iloc[-1] if len(sent) else np.nan
    n_ext = _in_period(date, ext).sum()
    first, last = _REPORT_EXTENSION_NEWSLETTERS[0], _REPORT_EXTENSION_NEWSLETTERS[-1]
    listed = pd.Period(first, "M").start_time, pd.Period(last, "M").end_time
    n_listed = date.between(*listed).sum()
    note = (
        f"Computed by the period definition: {n_ext} dated {ext.start}..{ext.end} "
        f"('{ext.name}'). The report lists 5 in the extension, from {first} to {last}, "
        f"which runs past both ends of '{ext.name}'; over those months "
        f"({listed[0].date()}..{listed[1].date()}) there are {n_listed}."
    )
    return [
        _Figure(
            "newsletters in all",
            14,
            len(sent),
            f"newsletters dated up to the report's date, {_REPORT_DATE}",
        ),
        _Figure(
            "newsletters in the extension",
            5,
            n_ext,
            f"newsletters dated {ext.start}..{ext.end} (period '{ext.name}')",
            alternative=n_listed,
            note=note,
        ),
        _Figure(
            "newsletter recipients (about)",
            2700,
            float(latest) if pd.notna(latest) else np.nan,
            f"recipients of the latest newsletter up to {_REPORT_DATE}",
            "about",
        ),
    ]


def _sector_figures(courses: pd.DataFrame, job_packages: pd.DataFrame | None) -> list[_Figure]:
    if job_packages is None:
        ref = courses[["job_package", "job_package_group"]].set_axis(["name", "group"], axis=1)
        source, note = "job packages seen in the courses", "no reference list given"
    else:
        ref, source, note = job_packages, "job packages in the reference list", ""
    count = ref.drop_duplicates("name").groupby("group")["name"].size()
    return [
        _Figure(
            "original job packages (sectors)",
            12,
            count.get("original", 0),
            f"{source}, group 'original'",
            note=note,
        ),
        _Figure(
            "new job packages (sectors)",
            17,
            count.get("vip2", 0),
            f"{source}, group 'vip2'",
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
        *_course_figures(courses, periods["method"]),
        *_ambassador_figures(ambassadors, periods),
        *_newsletter_figures(activities, periods),
        *_sector_figures(courses, job_packages),
    ]
    table = pd.DataFrame(rows)
    table["computed"] = table["computed"].astype("float64")
    table["published"] = table["published"].astype("float64")
    table["difference"] = table["computed"] - table["published"]
    table["status"] = table.apply(_status, axis=1)
    columns = ["figure", "published", "computed", "difference", "definition", "status", "note"]
    return table[columns]


# --- shared helpers for estimators -------------------------------------------------------


def _z(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 2))


def _tidy_row(term: str, est: float, se: float, *, level: float, n: int, inference: str) -> dict:
    """One tidy row with a normal interval and two-sided p-value."""
    half = _z(level) * se
    p = 2 * stats.norm.sf(abs(est / se)) if se > 0 else np.nan
    return _record(term, est, se, est - half, est + half, p, n, inference)


def _record(*values: Any) -> dict[str, Any]:
    return dict(zip(TIDY_COLUMNS, values, strict=True))


def _tidy_frame(rows: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=list(TIDY_COLUMNS))
    table["n"] = table["n"].astype("int64")
    return table


def _is_categorical(s: pd.Series) -> bool:
    return pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s)


def _observed_levels(s: pd.Series) -> list:
    """Observed levels, in category order for categoricals, sorted otherwise."""
    present = s.dropna().unique()
    if isinstance(s.dtype, pd.CategoricalDtype):
        seen = set(present)
        return [c for c in s.cat.categories if c in seen]
    return sorted(present.tolist())


# --- adjusted differences among participants -------------------------------------------


def _fallback(term: str, level: str, reason: str, action: str) -> dict[str, str]:
    return {"term": term, "level": level, "reason": reason, "action": action}


def _sparse_reason(y: pd.Series, mask: pd.Series, min_cell: int) -> str | None:
    """Why a level is too thin for a logit, or None if it is fine."""
    n, events = int(mask.sum()), int(y[mask].sum())
    reasons = [f"n = {n} < {min_cell}"] if n < min_cell else []
    if events in (0, n):
        reasons.append(f"all outcomes {int(events == n)}")
    return ", ".join(reasons) or None


def _first_sparse(groups: list, x: pd.Series, y: pd.Series, min_cell: int) -> tuple | None:
    for i, (_, members) in enumerate(groups):
        reason = _sparse_reason(y, x.isin(members), min_cell)
        if reason:
            return i, reason
    return None


def _collapse(x: pd.Series, y: pd.Series, *, term: str, min_cell: int) -> tuple[list, list]:
    """Merge sparse levels until none is left; return groups ``[(label, members)]`` and records.

    Ordered categoricals merge a sparse level with its neighbour below (above, for the
    first level). Unordered terms pool all sparse levels into 'other' and then merge any
    group that is still sparse into the largest group.
    """
    ordered = isinstance(x.dtype, pd.CategoricalDtype) and x.cat.ordered
    groups = [(str(lvl), [lvl]) for lvl in _observed_levels(x)]
    records: list[dict] = []
    sparse = [g for g in groups if _sparse_reason(y, x.isin(g[1]), min_cell)]
    if not ordered and len(sparse) > 1:
        pooled = [m for _, ms in sparse for m in ms]
        records += [_fallback(term, label, "sparse", "pooled into 'other'") for label, _ in sparse]
        groups = [g for g in groups if g not in sparse] + [("other", pooled)]
    while len(groups) > 1 and (found := _first_sparse(groups, x, y, min_cell)):
        i, reason = found
        if ordered:
            j = i - 1 if i > 0 else 1
        else:
            sizes = [x.isin(ms).sum() if k != i else -1 for k, (_, ms) in enumerate(groups)]
            j = int(np.argmax(sizes))
        lo, hi = sorted((i, j))
        merged = (f"{groups[lo][0]}|{groups[hi][0]}", groups[lo][1] + groups[hi][1])
        action = f"merged with '{groups[j][0]}' into '{merged[0]}'"
        records.append(_fallback(term, groups[i][0], reason, action))
        groups[lo] = merged
        del groups[hi]
    return groups, records


def _dummies(x: pd.Series, groups: list, name: str) -> dict[str, np.ndarray]:
    """Dummy columns for every group but the first (the reference)."""
    return {f"{name}[{label}]": x.isin(ms).to_numpy(float) for label, ms in groups[1:]}


@dataclass
class _Design:
    X: pd.DataFrame
    term_columns: dict[str, list[str]]
    numeric: set[str]
    reference: dict[str, str]
    fallbacks: list[dict]


def _build_design(
    frame: pd.DataFrame, y: pd.Series, terms: Sequence[str], fe: str | None, min_cell: int
) -> _Design:
    cols: dict[str, Any] = {"const": np.ones(len(frame))}
    design = _Design(pd.DataFrame(), {}, set(), {}, [])
    dropped = "term dropped from both models"
    for term in [*terms, *([fe] if fe else [])]:
        s = frame[term]
        if not _is_categorical(s) and term != fe:
            if s.astype(float).std() > 0:
                cols[term] = s.to_numpy(float)
                design.term_columns[term] = [term]
                design.numeric.add(term)
            else:
                design.fallbacks.append(_fallback(term, "", "no variation", dropped))
            continue
        groups, records = _collapse(s, y, term=term, min_cell=min_cell)
        design.fallbacks.extend(records)
        if len(groups) < 2:
            level = groups[0][0] if groups else ""
            reason = "one level left after merging" if records else "only one level observed"
            design.fallbacks.append(_fallback(term, level, reason, dropped))
            continue
        dummies = _dummies(s, groups, term)
        cols.update(dummies)
        if term != fe:
            design.term_columns[term] = list(dummies)
            design.reference[term] = groups[0][0]
    design.X = pd.DataFrame(cols, index=frame.index)
    return design


def _fit_logit(y: pd.Series, design: _Design) -> Any:
    """Fit the logit; flag non-convergence or exploding coefficients instead of hiding them."""
    res = sm.Logit(y, design.X).fit(disp=0, maxiter=200)
    big = [c for c in design.X.columns[1:] if abs(res.params[c]) > _SEPARATION_COEF]
    if big or not res.mle_retvals.get("converged", True):
        cols = big or ["(model did not converge)"]
        reason = f"|logit coefficient| > {_SEPARATION_COEF:g} or no convergence"
        design.fallbacks += [
            _fallback(c, "", reason, "flagged: use the LPM rows for this term") for c in cols
        ]
        warnings.warn(
            f"adjusted_differences: possible separation in the logit for {cols}; "
            "the logit AMEs are unreliable there, the LPM rows are not affected.",
            UserWarning,
            stacklevel=3,
        )
    return res


def _ame(X: np.ndarray, b: np.ndarray, j: int, block: list[int], numeric: bool) -> tuple:
    """AME of column ``j`` and its gradient in the coefficients.

    Numeric columns: the average derivative b_j * p(1 - p). Dummy columns: the average
    discrete change from the reference level (all dummies of the term 0) to the level.
    """
    if numeric:
        p = expit(X @ b)
        f = p * (1 - p)
        grad = b[j] * ((f * (1 - 2 * p))[:, None] * X).mean(axis=0)
        grad[j] += f.mean()
        return b[j] * f.mean(), grad
    x0 = X.copy()
    x0[:, block] = 0.0
    x1 = x0.copy()
    x1[:, j] = 1.0
    p0, p1 = expit(x0 @ b), expit(x1 @ b)
    grad = ((p1 * (1 - p1))[:, None] * x1 - (p0 * (1 - p0))[:, None] * x0).mean(axis=0)
    return (p1 - p0).mean(), grad


def _ame_rows(res: Any, design: _Design, level: float) -> list[dict]:
    X = design.X.to_numpy(float)
    b, V = res.params.to_numpy(), res.cov_params().to_numpy()
    cols = list(design.X.columns)
    rows = []
    for term, names in design.term_columns.items():
        block = [cols.index(c) for c in names]
        for name, j in zip(names, block, strict=True):
            est, grad = _ame(X, b, j, block, term in design.numeric)
            se = float(np.sqrt(grad @ V @ grad))
            rows.append(_tidy_row(name, est, se, level=level, n=len(X), inference=INFERENCE_AME))
    return rows


def _lpm_rows(res: Any, names: list[str], level: float) -> list[dict]:
    ci = res.conf_int(alpha=1 - level)
    n = int(res.nobs)
    return [
        _record(c, res.params[c], res.bse[c], *ci.loc[c], res.pvalues[c], n, INFERENCE_HC3)
        for c in names
    ]


def _bootstrap_rows(lpm: Any, cluster: pd.Series, names: list[str], reps: int, seed: int) -> list:
    """Wild cluster bootstrap p-values (restricted, WCR11, Webb weights) per LPM term.

    The bootstrap gives p-values only; the interval columns stay empty.
    """
    from wildboottest.wildboottest import wildboottest  # numba import: slow, only when needed

    codes, uniques = pd.factorize(cluster)
    if reps <= 0 or len(uniques) < 2:
        return []
    label = f"wild cluster bootstrap (Webb, {len(uniques)} clusters)"
    model = sm.OLS(lpm.model.endog, lpm.model.data.orig_exog)
    rows = []
    for c in names:
        out = wildboottest(
            model,
            B=reps,
            cluster=codes,
            param=c,
            weights_type="webb",
            seed=seed,
            show=False,
            parallel=False,
        )
        p = float(np.asarray(out["p-value"].iloc[0]).squeeze())
        rows.append(_record(c, lpm.params[c], np.nan, np.nan, np.nan, p, int(lpm.nobs), label))
    return rows


def _fmt_ci(est: float, low: float, high: float) -> str:
    return f"{est:+.3f} [{low:+.3f}, {high:+.3f}]" if pd.notna(est) else ""


@dataclass
class AdjustedDifferences:
    """Adjusted differences in an outcome among participants (not causal effects).

    Attributes
    ----------
    table : DataFrame
        The tidy rows (see :meth:`tidy`).
    reference : dict
        Reference level of each categorical term (after any collapsing).
    fallbacks : DataFrame
        What was done about sparse levels or separation: term, level, reason, action.
    logit_result, lpm_result : statsmodels results
        The raw logit and the linear probability model (HC3).
    """

    outcome: str
    denominator: str
    n: int
    table: pd.DataFrame
    reference: dict[str, str]
    fallbacks: pd.DataFrame
    fixed_effects: str | None
    n_clusters: int
    min_cell: int
    level: float
    logit_result: Any = field(repr=False)
    lpm_result: Any = field(repr=False)

    def tidy(self) -> pd.DataFrame:
        """All rows: logit AMEs, LPM (HC3) and wild cluster bootstrap p-values."""
        return self.table.copy()

    def _rows(self, prefix: str) -> pd.DataFrame:
        t = self.tidy()
        return t.loc[t["inference"].str.startswith(prefix)].reset_index(drop=True)

    def ame(self) -> pd.DataFrame:
        """Logit average marginal effects (discrete changes for categorical terms)."""
        return self._rows(INFERENCE_AME)

    def lpm(self) -> pd.DataFrame:
        """Linear probability model coefficients with HC3 errors."""
        return self._rows(INFERENCE_HC3)

    def bootstrap(self) -> pd.DataFrame:
        """Wild cluster bootstrap p-values for the LPM coefficients."""
        return self._rows("wild cluster bootstrap")

    def summary(self) -> str:
        """Text for a notebook: the three kinds of row side by side, and what was done."""
        ame, lpm, boot = (x.set_index("term") for x in (self.ame(), self.lpm(), self.bootstrap()))
        ci, cols = f"[{self.level:.0%} CI]", ["estimate", "conf_low", "conf_high"]
        side = pd.DataFrame(index=lpm.index)
        side[f"logit AME {ci}"] = [_fmt_ci(*ame.loc[t, cols]) for t in side.index]
        side[f"LPM (HC3) {ci}"] = [_fmt_ci(*lpm.loc[t, cols]) for t in side.index]
        boot_p = boot["p_value"].reindex(side.index)
        side["wild bootstrap p"] = boot_p.map("{:.3f}".format).where(boot_p.notna(), "not run")
        lines = [
            f"Outcome: {self.outcome} ({DENOMINATOR_RULES[self.denominator]}), n = {self.n}.",
            NOT_CAUSAL,
            f"Fixed effects: {self.fixed_effects or 'none'}; {self.n_clusters} clusters, too few "
            "for cluster-robust errors: p-values from a wild cluster bootstrap (Webb weights).",
            "Reference levels: " + ", ".join(f"{k} = {v}" for k, v in self.reference.items()),
            "",
            side.to_string(),
        ]
        if len(self.fallbacks):
            lines += [
                "",
                f"Sparse levels (n < {self.min_cell} or no variation) and fallbacks:",
                self.fallbacks.to_string(index=False),
            ]
        return "\n".join(lines)


def adjusted_differences(
    courses: pd.DataFrame,
    *,
    outcome: Outcome = "employed",
    denominator: Denominator = "all",
    terms: Sequence[str] = ("sex", "origin_group", "duration_band", "age_at_start"),
    fixed_effects: str | None = "municipality",
    cluster: str = "municipality",
    min_cell: int = 10,
    bootstrap_reps: int = 9999,
    seed: int = 2010,
    level: float = 0.95,
) -> AdjustedDifferences:
    """Differences in an outcome between groups of participants, adjusted for each other.

    Fits a logit and a linear probability model (LPM) on the same design: the terms,
    dummy-coded against their first level for categorical terms, plus fixed effects.
    Reports logit average marginal effects (discrete change from the reference level for
    categorical terms, average derivative for numeric ones) with delta-method intervals,
    the LPM coefficients with HC3 errors, and wild cluster bootstrap p-values for the LPM
    (clusters = ``cluster``, Webb weights; cluster-robust errors are not reported because
    five municipalities are too few clusters).

    Sparse levels are handled before fitting, in the open: a level with fewer than
    ``min_cell`` courses or with all outcomes 0 or all 1 would make the logit separate.
    It is merged (ordered terms: with the neighbouring level; unordered terms: sparse
    levels pooled into 'other', then into the largest level), with a warning naming the
    term. A term left with one level is dropped from both models. Everything done is in
    ``.fallbacks``. These are differences among participants, not causal effects.

    Parameters
    ----------
    courses : DataFrame
        Course records (participants only).
    outcome : {'employed', 'ordinary', 'completed'}
        Outcome column made by :func:`derive_outcomes`.
    denominator : {'all', 'completed'}
        All courses, or completed courses only.
    terms : sequence of str
        Columns to compare by; numeric columns enter linearly.
    fixed_effects : str or None
        Column whose levels get their own intercept.
    cluster : str
        Column that defines the bootstrap clusters.
    min_cell : int
        A level with fewer courses than this is merged (see above).
    bootstrap_reps : int
        Bootstrap replications; 0 skips the bootstrap.
    seed : int
        Seed of the bootstrap weights.
    level : float
        Confidence level.

    Returns
    -------
    AdjustedDifferences

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"sex": rng.choice(["F", "M"], 200),
    ...                    "age_at_start": rng.integers(20, 60, 200),
    ...                    "municipality": rng.choice(list("ABCDE"), 200),
    ...                    "outcome": rng.choice(["ordinary_employment", "education"], 200),
    ...                    "status": "completed"})
    >>> res = adjusted_differences(df, terms=["sex", "age_at_start"], bootstrap_reps=0)
    >>> res.tidy()[["term", "inference"]].to_numpy().tolist()[:2]
    [['sex[M]', 'delta method (logit AME)'], ['age_at_start', 'delta method (logit AME)']]
    """
    check_one_of("outcome", outcome, get_args(Outcome))
    used = list(
        dict.fromkeys([outcome, *terms, *([fixed_effects] if fixed_effects else []), cluster])
    )
    frame = _analysis_frame(courses, denominator)[used].dropna()
    y = frame[outcome].astype(float)
    if y.nunique() < 2:
        raise ValueError(f"The outcome `{outcome}` does not vary in the {len(y)} rows used.")
    design = _build_design(frame, y, terms, fixed_effects, min_cell)
    for rec in design.fallbacks:
        warnings.warn(
            f"adjusted_differences: term '{rec['term']}', level '{rec['level']}' "
            f"({rec['reason']}): {rec['action']}. See `.fallbacks`.",
            UserWarning,
            stacklevel=2,
        )
    logit = _fit_logit(y, design)
    lpm = sm.OLS(y, design.X).fit(cov_type="HC3")
    names = [c for cs in design.term_columns.values() for c in cs]
    boot = _bootstrap_rows(lpm, frame[cluster], names, bootstrap_reps, seed)
    table = _tidy_frame([*_ame_rows(logit, design, level), *_lpm_rows(lpm, names, level), *boot])
    return AdjustedDifferences(
        outcome=outcome,
        denominator=denominator,
        n=len(frame),
        table=table,
        reference=design.reference,
        fallbacks=pd.DataFrame(design.fallbacks, columns=["term", "level", "reason", "action"]),
        fixed_effects=fixed_effects,
        n_clusters=frame[cluster].nunique(),
        min_cell=min_cell,
        level=level,
        logit_result=logit,
        lpm_result=lpm,
    )


# --- effect of participation on the participants (ATT) ---------------------------------------

_WEIGHT_SHARE_FLAG = 0.05  # a comparison person carrying more of the total weight is flagged


def stack_comparison(
    courses: pd.DataFrame,
    comparison: pd.DataFrame,
    *,
    age: str = "age_at_start",
    comparison_age: str = "age",
    treatment: str = "participant",
) -> pd.DataFrame:
    """Stack participants and non-participants into one table for :func:`participation_effect`.

    Parameters
    ----------
    courses : DataFrame
        Participants (one row per course).
    comparison : DataFrame
        Non-participants with the same covariates and an ``outcome`` at a reference date.
    age : str
        Name of the age column in ``courses``, used in the result.
    comparison_age : str
        Name of the age column in ``comparison``; renamed to ``age``.
    treatment : str
        Name of the 0/1 column added (1 = participant).

    Returns
    -------
    DataFrame
        Both tables stacked, with ``treatment``, ``employed`` and ``ordinary`` columns.

    Examples
    --------
    >>> part = pd.DataFrame({"age_at_start": [30], "outcome": ["ordinary_employment"]})
    >>> comp = pd.DataFrame({"age": [40], "outcome": ["still_on_benefit"]})
    >>> stack_comparison(part, comp)[["age_at_start", "participant", "employed"]]
       age_at_start  participant  employed
    0            30            1         1
    1            40            0         0
    """
    part = courses.assign(**{treatment: 1})
    comp = comparison.rename(columns={comparison_age: age}).assign(**{treatment: 0})
    both = pd.concat([part, comp], ignore_index=True)
    both["employed"] = both["outcome"].isin(EMPLOYMENT_OUTCOMES).astype("int64")
    both["ordinary"] = both["outcome"].eq("ordinary_employment").fillna(False).astype("int64")
    return both


def _covariate_design(frame: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    """Raw design: numeric covariates as they are, categorical ones as dummies (first = ref)."""
    cols: dict[str, Any] = {}
    for c in covariates:
        s = frame[c]
        if _is_categorical(s):
            cols.update(_dummies(s, [(str(v), [v]) for v in _observed_levels(s)], c))
        else:
            cols[c] = s.to_numpy(float)
    X = pd.DataFrame(cols, index=frame.index)
    flat = X.columns[X.std().eq(0)]
    if len(flat):
        warnings.warn(
            f"participation_effect: covariate columns without variation are dropped: {list(flat)}",
            UserWarning,
            stacklevel=4,
        )
    return X.drop(columns=flat)


def _att_point(d: np.ndarray, r: np.ndarray, w: np.ndarray, S: np.ndarray) -> tuple:
    """Participants' mean of ``r`` minus the odds-weighted comparison mean, within ``S``."""
    sd, sc = S * d, S * (1 - d) * w
    if sd.sum() == 0 or sc.sum() == 0:
        return np.nan, np.nan
    c = (sc * r).sum() / sc.sum()
    return (sd * r).sum() / sd.sum() - c, c


def _att_se(
    Z: np.ndarray,
    d: np.ndarray,
    y: np.ndarray,
    e: np.ndarray,
    keep: np.ndarray,
    beta: np.ndarray | None,
    fits: list[tuple],
) -> np.ndarray:
    """Sandwich SEs of the ATTs from the stacked estimating equations.

    Blocks: propensity logit scores (all rows); comparison-group OLS for the outcome
    (AIPW only, kept rows); per group, the weighted regression of ``r = y - Z beta`` on
    (participant, 1) with weights 1 for participants and e/(1-e) for the comparison.
    """
    n, k = Z.shape
    kb = k if beta is not None else 0
    p = k + kb + 2 * len(fits)
    A, Psi = np.zeros((p, p)), np.zeros((n, p))
    Psi[:, :k] = Z * (d - e)[:, None]
    A[:k, :k] = -(Z * (e * (1 - e))[:, None]).T @ Z / n
    r = y - (Z @ beta if beta is not None else 0.0)
    if beta is not None:
        kc = keep * (1 - d)
        Psi[:, k : 2 * k] = Z * (kc * r)[:, None]
        A[k : 2 * k, k : 2 * k] = -(Z * kc[:, None]).T @ Z / n
    w = e / (1 - e)
    z = np.column_stack([d, np.ones(n)])
    for j, (S, tau, c) in enumerate(fits):
        s = slice(k + kb + 2 * j, k + kb + 2 * j + 2)
        sv = S * (d + (1 - d) * w)
        Psi[:, s] = z * (sv * (r - tau * d - c))[:, None]
        A[s, s] = -(z * sv[:, None]).T @ z / n
        A[s, :k] = (z * (S * (1 - d) * w * (r - c))[:, None]).T @ Z / n
        if beta is not None:
            A[s, k : 2 * k] = -(z * sv[:, None]).T @ Z / n
    a_inv = np.linalg.inv(A)
    V = a_inv @ (Psi.T @ Psi / n) @ a_inv.T / n
    return np.sqrt(np.diag(V)[k + kb :: 2])


def _balance(X: pd.DataFrame, d: np.ndarray, keep: np.ndarray, w: np.ndarray) -> pd.DataFrame:
    """Standardised mean differences before and after weighting.

    SMD = (m1 - m0) / sqrt((s1^2 + s0^2) / 2), with the unweighted standard deviations of
    the whole sample in the denominator both before and after (so only the means move).
    """
    t, c = d == 1, d == 0
    kt, kc = t & (keep == 1), c & (keep == 1)
    sd = np.sqrt((X[t].var() + X[c].var()) / 2).replace(0, np.nan)
    m1, m0 = X[t].mean(), X[c].mean()
    m1a = X[kt].mean()
    m0a = X[kc].mul(w[kc], axis=0).sum() / w[kc].sum()
    out = pd.DataFrame(
        {
            "mean_participants": m1,
            "mean_comparison": m0,
            "smd_before": (m1 - m0) / sd,
            "mean_participants_kept": m1a,
            "mean_comparison_weighted": m0a,
            "smd_after": (m1a - m0a) / sd,
        }
    )
    return out.rename_axis("covariate").reset_index()


def _overlap(e: np.ndarray, d: np.ndarray, keep: np.ndarray) -> pd.DataFrame:
    """Propensity score summaries by group, and how many rows trimming excluded."""
    rows = {}
    for name, m in (("participants", d == 1), ("comparison", d == 0)):
        q = np.quantile(e[m], [0, 0.05, 0.25, 0.5, 0.75, 0.95, 1])
        rows[name] = {
            "n": int(m.sum()),
            "excluded": int((m & (keep == 0)).sum()),
            "mean": e[m].mean(),
            **dict(zip(["min", "p05", "p25", "median", "p75", "p95", "max"], q, strict=True)),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("group")


def _weight_summary(d: np.ndarray, keep: np.ndarray, w: np.ndarray) -> dict[str, Any]:
    wc = w[(d == 0) & (keep == 1)]
    share = wc.max() / wc.sum()
    return {
        "comparison_n": len(wc),
        "effective_n": wc.sum() ** 2 / (wc**2).sum(),
        "max_weight_share": share,
        "flagged": bool(share > _WEIGHT_SHARE_FLAG),
        "rule": f"flagged when one comparison person carries more than "
        f"{_WEIGHT_SHARE_FLAG:.0%} of the total comparison weight",
    }


@dataclass
class ParticipationEffect:
    """Effect of participation on the participants (ATT), overall and by subgroup.

    Attributes
    ----------
    table : DataFrame
        The tidy rows (see :meth:`tidy`); the overall ATT first.
    balance : DataFrame
        Standardised mean differences of every covariate before and after weighting.
    overlap : DataFrame
        Propensity score summaries by group, with the rows excluded by trimming.
    weights : dict
        Comparison-group weights: effective n, largest share, whether flagged, the rule.
    trim_rule : str
        What trimming did.
    propensity_result, outcome_result : statsmodels results
        The propensity logit (on standardised covariates) and, for AIPW, the
        comparison-group outcome regression.
    """

    method: str
    outcome: str
    treatment: str
    covariates: list[str]
    table: pd.DataFrame
    balance: pd.DataFrame
    overlap: pd.DataFrame
    weights: dict[str, Any]
    trim_rule: str
    n_missing: int
    propensity_result: Any = field(repr=False)
    outcome_result: Any = field(repr=False, default=None)

    def tidy(self) -> pd.DataFrame:
        """One row per estimate: 'ATT' first, then 'ATT[column=level]'."""
        return self.table.copy()

    def att(self) -> float:
        """The overall ATT."""
        return float(self.table["estimate"].iloc[0])

    def summary(self) -> str:
        """Text for a notebook: estimates, assumptions, balance and overlap."""
        est = self.tidy().set_index("term")
        shown = est[["estimate", "conf_low", "conf_high", "p_value", "n"]]
        smd = self.balance[["smd_before", "smd_after"]].abs().max()
        wt = self.weights
        return "\n".join(
            [
                f"Effect of {self.treatment} on {self.outcome} among participants (ATT), "
                f"{self.method.upper()}.",
                "Assumes no unmeasured differences between participants and comparison persons "
                f"beyond: {', '.join(self.covariates)}.",
                f"Inference: {INFERENCE_ATT}. Rows dropped for missing values: {self.n_missing}.",
                self.trim_rule,
                "",
                shown.to_string(float_format=lambda v: f"{v:.4g}"),
                "",
                f"Largest |SMD|: {smd['smd_before']:.3f} before, {smd['smd_after']:.3f} after "
                "weighting (target < 0.1).",
                f"Comparison weights: effective n {wt['effective_n']:.1f} of "
                f"{wt['comparison_n']}, largest share {wt['max_weight_share']:.1%}"
                + (" - FLAGGED" if wt["flagged"] else "")
                + ".",
                "",
                "Propensity scores:",
                self.overlap.to_string(float_format=lambda v: f"{v:.3f}"),
            ]
        )


def _trim(e: np.ndarray, d: np.ndarray, trim: float | None) -> tuple[np.ndarray, str]:
    if trim is None:
        return np.ones_like(e), "No trimming: propensity scores used as estimated."
    if not 0 < trim < 0.5:
        raise ValueError(f"`trim` must be None or in (0, 0.5), but {trim!r} was passed.")
    keep = ((e >= trim) & (e <= 1 - trim)).astype(float)
    out_t, out_c = int(((keep == 0) & (d == 1)).sum()), int(((keep == 0) & (d == 0)).sum())
    rule = (
        f"Rows with an estimated propensity score outside [{trim:g}, {1 - trim:g}] are "
        f"excluded from estimation ({out_t} participants, {out_c} comparison persons); "
        "the propensity model is fitted on all rows."
    )
    if out_t:
        warnings.warn(
            f"participation_effect: {out_t} participants excluded by trimming; the "
            "ATT refers to the remaining participants.",
            UserWarning,
            stacklevel=4,
        )
    return keep, rule


@dataclass
class _TeModels:
    X: pd.DataFrame  # raw covariate design, for balance
    Z: np.ndarray  # constant + standardised covariates, for both models
    d: np.ndarray
    y: np.ndarray
    e: np.ndarray  # propensity score
    w: np.ndarray  # odds e / (1 - e): the weight of a comparison person
    keep: np.ndarray  # 1 if not trimmed
    r: np.ndarray  # outcome minus the comparison-group outcome model (AIPW) or outcome (IPW)
    beta: np.ndarray | None
    ps: Any
    om: Any
    rule: str


def _te_models(
    frame: pd.DataFrame,
    outcome: str,
    treatment: str,
    covariates: Sequence[str],
    *,
    method: str,
    trim: float | None,
) -> _TeModels:
    """Fit the propensity logit (all rows) and, for AIPW, the comparison-group OLS (kept rows).

    Covariates are standardised first; this changes no fitted value, only the scale of
    the coefficients, and keeps squared earnings and the like numerically tame.
    """
    d = frame[treatment].astype(float).to_numpy()
    if set(np.unique(d)) != {0.0, 1.0}:
        raise ValueError(f"`{treatment}` must be 0/1 with both values present.")
    X = _covariate_design(frame, covariates)
    Z = pd.concat([pd.Series(1.0, index=X.index, name="const"), (X - X.mean()) / X.std()], axis=1)
    ps = sm.Logit(d, Z).fit(disp=0, maxiter=200)
    if not ps.mle_retvals.get("converged", True):
        warnings.warn(
            "participation_effect: the propensity logit did not converge; check "
            "overlap and separation.",
            UserWarning,
            stacklevel=3,
        )
    e = np.asarray(ps.predict())
    keep, rule = _trim(e, d, trim)
    y = frame[outcome].astype(float).to_numpy()
    ctrl = (keep == 1) & (d == 0)
    om = sm.OLS(y[ctrl], Z.to_numpy()[ctrl]).fit() if method == "aipw" else None
    beta = None if om is None else np.asarray(om.params)
    r = y - (Z.to_numpy() @ beta if beta is not None else 0.0)
    return _TeModels(X, Z.to_numpy(), d, y, e, e / (1 - e), keep, r, beta, ps, om, rule)


def _groups(frame: pd.DataFrame, keep: np.ndarray, by: Sequence[str]) -> list[tuple]:
    groups = [("ATT", keep)]
    for col in by:
        for lvl in _observed_levels(frame[col]):
            groups.append((f"ATT[{col}={lvl}]", keep * frame[col].eq(lvl).to_numpy(float)))
    return groups


def participation_effect(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    covariates: Sequence[str],
    method: TeMethod = "aipw",
    by: str | Sequence[str] | None = None,
    trim: float | None = 0.01,
    level: float = 0.95,
) -> ParticipationEffect:
    """Effect of participation on the participants (ATT), overall and by subgroup.

    Assumes selection on observables: given ``covariates``, participation is unrelated to
    the outcome a participant would have had without participating. The propensity score
    is a logit on the covariates (categorical ones dummy-coded). ``'ipw'`` compares the
    participants' mean with the comparison mean weighted by the odds e/(1-e) (normalised);
    ``'aipw'`` does the same with the residuals of a linear outcome regression fitted on
    the comparison group, and is consistent if either model is right. Subgroup ATTs use
    the same models, restricted to the subgroup. Standard errors come from the stacked
    estimating equations (propensity, outcome model, ATTs), so the estimation of the
    models is accounted for.

    Parameters
    ----------
    data : DataFrame
        Participants and comparison persons (see :func:`stack_comparison`).
    outcome : str
        Numeric outcome column (0/1 or continuous).
    treatment : str
        0/1 column, 1 for participants.
    covariates : sequence of str
        Columns for the propensity (and outcome) model; add squares as columns yourself.
    method : {'ipw', 'aipw'}
        Estimator.
    by : str or sequence of str, optional
        Subgroup columns; each gives one ATT per observed level, after the overall one.
    trim : float or None
        Exclude rows whose propensity score lies outside [trim, 1 - trim].
    level : float
        Confidence level.

    Returns
    -------
    ParticipationEffect

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=400)
    >>> d = rng.binomial(1, 1 / (1 + np.exp(-x)))
    >>> df = pd.DataFrame({"x": x, "d": d, "y": x + 2 * d + rng.normal(size=400)})
    >>> res = participation_effect(df, outcome="y", treatment="d", covariates=["x"])
    >>> abs(res.att() - 2) < 0.3, list(res.tidy()["term"])
    (True, ['ATT'])
    """
    check_one_of("method", method, get_args(TeMethod))
    by_cols = [] if by is None else [by] if isinstance(by, str) else list(by)
    used = list(dict.fromkeys([outcome, treatment, *covariates, *by_cols]))
    frame = data[used].dropna()
    m = _te_models(frame, outcome, treatment, covariates, method=method, trim=trim)
    groups = _groups(frame, m.keep, by_cols)
    fits = [(S, *_att_point(m.d, m.r, m.w, S)) for _, S in groups]
    ok = [i for i, f in enumerate(fits) if np.isfinite(f[1])]
    se = np.full(len(fits), np.nan)
    se[ok] = _att_se(m.Z, m.d, m.y, m.e, m.keep, m.beta, [fits[i] for i in ok])
    rows = [
        _tidy_row(term, f[1], s, level=level, n=int(f[0].sum()), inference=INFERENCE_ATT)
        for (term, _), f, s in zip(groups, fits, se, strict=True)
    ]
    for (term, _), f in zip(groups, fits, strict=True):
        if not np.isfinite(f[1]):
            warnings.warn(
                f"participation_effect: {term} has no participants or no comparison "
                "persons left; its estimate is missing.",
                UserWarning,
                stacklevel=2,
            )
    weights = _weight_summary(m.d, m.keep, m.w)
    if weights["flagged"]:
        warnings.warn(
            f"participation_effect: extreme weights ({weights['rule']}).", UserWarning, stacklevel=2
        )
    return ParticipationEffect(
        method=method,
        outcome=outcome,
        treatment=treatment,
        covariates=list(covariates),
        table=_tidy_frame(rows),
        balance=_balance(m.X, m.d, m.keep, m.w),
        overlap=_overlap(m.e, m.d, m.keep),
        weights=weights,
        trim_rule=m.rule,
        n_missing=len(data) - len(frame),
        propensity_result=m.ps,
        outcome_result=m.om,
    )
