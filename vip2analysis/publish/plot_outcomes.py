"""Figures of outcomes: distribution of outcomes, courses over time, rates by group."""

from __future__ import annotations

from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from vip2analysis.contract.schema import OUTCOMES
from vip2analysis.errors import DataError, check_one_of
from vip2analysis.publish.disclosure import (
    DEFAULT_K,
    SECONDARY_MARKER,
    TOTAL_LABEL,
    protect_series,
    protect_table,
    suppress_rates,
)
from vip2analysis.publish.format import number, percent
from vip2analysis.publish.labels import _CODE_ORDER, _MONTHS, LABELS, Lang, display_name, label
from vip2analysis.publish.style import (
    _DARK,
    _GREY,
    _OUTCOME_COLOURS,
    PALETTE,
    _bar_label,
    _check_columns,
    _drawing,
    _footnote,
    _header,
    _n_text,
    _percent_axis,
    _suppressed_bars,
    _total_text,
    figure_docs,
)
from vip2analysis.stats.proportions import denominator_code

__all__ = [
    "BarStat",
    "PeriodFreq",
    "outcome_distribution",
    "over_time",
    "periods_side_by_side",
    "rates_by_group",
]


PeriodFreq = Literal["MS", "QS", "YS"]
"""Bins of :func:`over_time`: months, quarters or years (pandas offset aliases)."""


BarStat = Literal["share", "count"]
"""Bar length in :func:`outcome_distribution`: share of all courses or number of courses."""


@figure_docs
def outcome_distribution(
    courses: pd.DataFrame | None = None,
    *,
    table: pd.DataFrame | None = None,
    stat: BarStat = "share",
    k: int | None = DEFAULT_K,
    ax: Axes | None = None,
    lang: Lang = "da",
    synthetic: bool = False,
    title: str | None = None,
) -> Axes:
    """Horizontal bars of the courses' outcomes, each labelled with its share and count.

    Outcomes are in the order of ``schema.OUTCOMES`` (all six, zeros included), unknown
    codes after them. Counts under ``k`` are suppressed with :func:`protect_series`
    (the total is shown, so a second cell is hidden where one alone could be worked out).
    Given a published ``table`` instead, the figure shows exactly what the table shows.

    Parameters
    ----------
    courses : DataFrame, optional
        Course records with an ``outcome`` column.
    table : DataFrame, optional
        A published outcome table instead (``outcome``, ``n``; a last row ``total``;
        hidden cells as their markers), e.g. the period table ``afgang``.
    stat : {'share', 'count'}
        Bar length: share of all courses or number of courses.
    k : int or None
        Suppression threshold; None draws every count (not for publication).
    {figure_params}
    title : str, optional
        Title; by default "Afgang fra jobpakkeforløb (n=...)".

    {returns_axes}

    Examples
    --------
    >>> courses = pd.DataFrame({"outcome": ["ordinary_employment"] * 12 + ["education"] * 8})
    >>> ax = outcome_distribution(courses, synthetic=True)
    >>> [t.get_text() for t in ax.get_yticklabels()][:2]
    ['Ordinær beskæftigelse', 'Støttet beskæftigelse']
    >>> plt.close(ax.figure)
    """
    check_one_of("stat", stat, get_args(BarStat))
    if (courses is None) == (table is None):
        raise DataError("pass either `courses` or a published `table`, not both or neither")
    if table is not None:
        counts, published, hidden, n_total = _from_published(table)
        total = n_total if not isinstance(n_total, str) else 0
        if isinstance(n_total, str):
            stat = "count"  # no share without a published total
    else:
        assert courses is not None
        _check_columns(courses, ["outcome"], "courses")
        codes = courses["outcome"].astype(object)
        extra = sorted({str(c) for c in codes.dropna()} - set(OUTCOMES))
        counts = codes.value_counts(dropna=True).reindex([*OUTCOMES, *extra], fill_value=0)
        total = int(counts.sum())
        if k is not None:
            published, hidden = protect_series(counts.astype("int64"), k=k)
            n_total, published = published.iloc[-1], published.drop(TOTAL_LABEL)
            hidden = hidden.drop(TOTAL_LABEL)
        else:
            n_total, published = total, counts
            hidden = pd.Series(False, index=counts.index)
    values = counts.where(~hidden, np.nan) / (total if stat == "share" else 1)
    with _drawing(ax, lang) as ax:
        xmax = float(np.nanmax(values.to_numpy(dtype=float), initial=0)) * 1.3 or 1.0
        y = np.arange(len(counts))
        colours = [_OUTCOME_COLOURS.get(c, _GREY) for c in counts.index]
        bars = ax.barh(y, values.fillna(xmax).to_numpy(), color=colours, height=0.7)
        markers = [str(v) for v in published]
        _suppressed_bars(ax, bars, hidden.tolist(), markers, lang, horizontal=True)
        for yi, count, value, hid in zip(y, counts, values, hidden, strict=True):
            if not hid:
                text = f"{percent(count / total, lang) if total else '–'} (n={number(count, lang)})"
                _bar_label(ax, text, (value, yi))
        ax.set_yticks(y, [display_name(c, variable="outcome", lang=lang) for c in counts.index])
        ax.invert_yaxis()
        ax.set_xlim(0, xmax)
        if stat == "share":
            _percent_axis(ax.xaxis, lang)
        ax.set_xlabel(
            label(lang, "axis.share_courses" if stat == "share" else "axis.count_courses")
        )
        _header(
            ax,
            title or f"{label(lang, 'title.outcomes')} ({_total_text(n_total, lang)})",
            [],
            lang=lang,
            synthetic=synthetic,
        )
    return ax


@figure_docs
def rates_by_group(
    rates: pd.DataFrame,
    *,
    group: str,
    k: int | None = DEFAULT_K,
    ax: Axes | None = None,
    lang: Lang = "da",
    synthetic: bool = False,
    title: str | None = None,
    causal: bool = False,
) -> Axes:
    """Horizontal bars of rates by group, with 95% intervals and the n of every bar.

    The table passes through :func:`suppress_rates` first (idempotent, so an already
    suppressed table is fine). A suppressed row is an empty dashed bar across the axis with
    the note "<5: undertrykt" (or "x: ..." for a secondary suppression); its tick label
    keeps the n when n itself is publishable.

    Parameters
    ----------
    rates : DataFrame
        One row per group: ``group``, ``n``, ``events``, ``rate``, ``conf_low``,
        ``conf_high`` and optionally ``denominator_rule``, ``suppressed``,
        ``suppression``, as made by ``stats.rates``. Rates are proportions (0-1).
    group : str
        The group column; its codes are shown by their display names.
    k : int or None
        Suppression threshold; None draws every row (not for publication).
    {figure_params}
    title : str, optional
        Title; by default "Andel fordelt på <group>".
    causal : bool
        False (the default) says on the figure that these are differences among
        participants, not effects.

    {returns_axes}

    Examples
    --------
    >>> rates = pd.DataFrame({"sex": ["F", "M"], "n": [212, 101], "events": [80, 39],
    ...                       "rate": [80 / 212, 39 / 101], "conf_low": [0.31, 0.29],
    ...                       "conf_high": [0.44, 0.49], "denominator_rule": "all courses"})
    >>> ax = rates_by_group(rates, group="sex")
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['Kvinder (n=212)', 'Mænd (n=101)']
    >>> plt.close(ax.figure)
    """
    _check_columns(rates, [group, "n", "events", "rate", "conf_low", "conf_high"], "rates")
    rates = _in_code_order(rates, group)
    marked = rates["rate"].map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    if marked.any() or _published_counts(rates):
        # a published table: draw exactly what it shows, markers included
        hidden = marked
        markers = [str(v) if h else "" for v, h in zip(rates["rate"], hidden, strict=True)]
        rates = rates.assign(
            **{c: rates[c].where(~hidden, np.nan) for c in ("rate", "conf_low", "conf_high")}
        )
    else:
        if k is not None:
            within = "denominator_rule" if "denominator_rule" in rates.columns else None
            rates = suppress_rates(rates, k=k, within=within)
        hidden = (
            rates["suppressed"].fillna(False).astype(bool).to_numpy()
            if "suppressed" in rates.columns
            else rates["rate"].isna().to_numpy()
        )
        secondary = (
            rates["suppression"].eq("secondary").fillna(False).to_numpy(dtype=bool)
            if "suppression" in rates.columns
            else np.zeros(len(rates), dtype=bool)
        )
        markers = [SECONDARY_MARKER if s else f"<{k}" for s in secondary]
    rate = rates["rate"].astype(float).to_numpy(dtype=float, na_value=np.nan)
    low = rates["conf_low"].astype(float).to_numpy(dtype=float, na_value=np.nan)
    high = rates["conf_high"].astype(float).to_numpy(dtype=float, na_value=np.nan)
    y = np.arange(len(rates))
    with _drawing(ax, lang) as ax:
        bars = ax.barh(y, np.where(hidden, 1.0, rate), color=PALETTE[0], height=0.65)
        _suppressed_bars(ax, bars, hidden.tolist(), markers, lang, horizontal=True)
        shown = ~hidden
        ax.errorbar(
            rate[shown],
            y[shown],
            xerr=np.vstack([rate[shown] - low[shown], high[shown] - rate[shown]]),
            fmt="none",
            ecolor=_DARK,
            elinewidth=1,
            capsize=3,
        )
        for yi, r, lo, hi in zip(y[shown], rate[shown], low[shown], high[shown], strict=True):
            inside = hi > 0.88  # no room right of the interval: inside the bar, left of it
            ax.annotate(
                percent(r, lang),
                (lo if inside else hi, yi),
                xytext=(-4 if inside else 4, 0),
                textcoords="offset points",
                va="center",
                ha="right" if inside else "left",
                fontsize=8,
                color="white" if inside else _DARK,
            )
        labels = [
            f"{display_name(g, variable=group, lang=lang)} "
            f"({_total_text(n, lang) if isinstance(n, str) else _n_text(n, lang, k)})"
            for g, n in zip(rates[group].astype(object), rates["n"].astype(object), strict=True)
        ]
        ax.set_yticks(y, labels)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        _percent_axis(ax.xaxis, lang)
        ax.set_xlabel(_share_label(rates, lang))
        ax.set_ylabel(display_name(group, variable="var", lang=lang))
        group_name = display_name(group, variable="var", lang=lang).lower()
        notes = [] if causal else [label(lang, "note.not_effects")]
        default = label(lang, "title.rates", group=group_name)
        _header(ax, title or default, notes, lang=lang, synthetic=synthetic)
        _footnote(ax, label(lang, "note.ci95"))
    return ax


def _published_counts(table: pd.DataFrame) -> bool:
    """Whether a table's count columns hold markers (it was published by a period plan)."""
    return any(
        table[c].map(lambda v: isinstance(v, str)).any() for c in ("n", "events") if c in table
    )


def _from_published(table: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series, Any]:
    """Counts (0 where hidden), published values, hidden mask and total of a published
    one-way table with columns ``outcome``, ``n`` and a last row ``total``."""
    _check_columns(table, ["outcome", "n"], "table")
    body = table.loc[table["outcome"].ne("total")]
    totals = table.loc[table["outcome"].eq("total"), "n"]
    published = pd.Series(body["n"].to_numpy(dtype=object), index=body["outcome"].astype(str))
    hidden = published.map(lambda v: isinstance(v, str))
    counts = published.where(~hidden, 0).astype("int64")
    return counts, published, hidden, (totals.iloc[0] if len(totals) else int(counts.sum()))


def _in_code_order(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """Rows in the contract's order of codes (outcomes, duration bands), others after.

    A categorical column or a column without a known order keeps the rows as given.
    """
    order = _CODE_ORDER.get(column)
    if order is None or isinstance(table[column].dtype, pd.CategoricalDtype):
        return table
    rank = table[column].map({code: i for i, code in enumerate(order)})
    return table.iloc[np.argsort(rank.fillna(len(order)).to_numpy(), kind="stable")]


def _share_label(rates: pd.DataFrame, lang: str) -> str:
    rules = rates["denominator_rule"].dropna().unique() if "denominator_rule" in rates else []
    if len(rules) == 1:
        key = f"denominator.{denominator_code(rules[0])}"
        return LABELS[lang].get(key, label(lang, "axis.share"))
    return label(lang, "axis.share")


@figure_docs
def over_time(
    courses: pd.DataFrame | None = None,
    *,
    table: pd.DataFrame | None = None,
    date_col: str = "start_date",
    freq: PeriodFreq = "QS",
    k: int | None = DEFAULT_K,
    ax: Axes | None = None,
    lang: Lang = "da",
    synthetic: bool = False,
    title: str | None = None,
) -> Axes:
    """Courses started per period, beside how many of them ended in employment.

    Courses are counted by the period they start in (cohorts); employment is ordinary or
    subsidised. The period-by-outcome table (employed / not employed) is protected with
    :func:`protect_table` first, since a period with, say, 20 starts and 18 in
    employment would reveal 2 persons; a hidden count is an empty dashed bar marked
    "<5" or "x".

    Parameters
    ----------
    courses : DataFrame, optional
        Course records with ``date_col`` and ``outcome``.
    table : DataFrame, optional
        A published table instead (``quarter`` like ``2008K1``, ``started``, ``events``
        = courses that ended in employment; hidden cells as markers), e.g. the period
        table ``forloeb_over_tid``: the figure then shows exactly what the table shows.
    date_col : str
        The date that places a course in a period.
    freq : {'MS', 'QS', 'YS'}
        Months, quarters or years.
    k : int or None
        Suppression threshold; None draws every count (not for publication).
    {figure_params}
    title : str, optional
        Title.

    {returns_axes}

    Examples
    --------
    >>> courses = pd.DataFrame({
    ...     "start_date": pd.to_datetime(["2007-04-10"] * 10 + ["2007-08-01"] * 12),
    ...     "outcome": ["ordinary_employment", "education"] * 11})
    >>> ax = over_time(courses)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['2007K2', '2007K3']
    >>> plt.close(ax.figure)
    """
    check_one_of("freq", freq, get_args(PeriodFreq))
    check_one_of("lang", lang, get_args(Lang))
    if (courses is None) == (table is None):
        raise DataError("pass either `courses` or a published `table`, not both or neither")
    if table is not None:
        _check_columns(table, ["quarter", "started", "events"], "table")
        ticks = [_quarter_label(q, lang) for q in table["quarter"]]
        started = pd.Series(table["started"].to_numpy(dtype=object))
        employed = pd.Series(table["events"].to_numpy(dtype=object))
        hid_started = started.map(lambda v: isinstance(v, str))
        hid_employed = employed.map(lambda v: isinstance(v, str))
        shown = [v for v in started if not isinstance(v, str)]
        top = max([float(v) for v in shown] or [1.0]) * 1.12
    else:
        assert courses is not None
        _check_columns(courses, [date_col, "outcome"], "courses")
        counts = _period_table(courses, date_col=date_col, freq=freq)
        ticks = [_period_label(p, lang) for p in counts.columns]
        top = max(float(counts.sum(axis=0).max()), 1.0) * 1.12
        if k is not None:
            published, hidden = protect_table(counts, k=k)
            started, employed = published.loc[TOTAL_LABEL], published.loc["employed"]
            hid_started, hid_employed = hidden.loc[TOTAL_LABEL], hidden.loc["employed"]
            started, employed = started.drop(TOTAL_LABEL), employed.drop(TOTAL_LABEL)
            hid_started = hid_started.drop(TOTAL_LABEL)
            hid_employed = hid_employed.drop(TOTAL_LABEL)
        else:
            started, employed = counts.sum(axis=0), counts.loc["employed"]
            hid_started = hid_employed = pd.Series(False, index=counts.columns)
    x = np.arange(len(ticks))
    width = 0.4
    with _drawing(ax, lang) as ax:
        series = [
            (started, hid_started, -width / 2, PALETTE[0], "legend.started"),
            (employed, hid_employed, width / 2, PALETTE[2], "legend.employed"),
        ]
        handles = []
        for values, hid, shift, colour, key in series:
            heights = [top if h else float(v) for v, h in zip(values, hid, strict=True)]
            bars = ax.bar(x + shift, heights, width, color=colour, label=label(lang, key))
            handles.append(Patch(color=colour, label=label(lang, key)))
            markers = [str(v) for v in values]
            _suppressed_bars(ax, bars, hid.tolist(), markers, lang, horizontal=False)
            shown = [
                number(float(v), lang) if not h else "" for v, h in zip(values, hid, strict=True)
            ]
            ax.bar_label(bars, shown, padding=2, fontsize=7.5, color=_DARK)
        many = len(x) > 10
        ax.set_xticks(
            x,
            ticks,
            rotation=45 if many else 0,
            ha="right" if many else "center",
            rotation_mode="anchor",
        )
        ax.set_xlim(-0.6, len(x) - 0.4)
        ax.set_ylim(0, top)
        ax.set_ylabel(label(lang, "axis.count_courses"))
        ax.legend(
            handles=handles, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2, borderaxespad=0.2
        )
        default = title or label(lang, "title.over_time")
        _header(
            ax,
            default,
            [label(lang, "note.cohort")],
            lang=lang,
            synthetic=synthetic,
            legend_above=True,
        )
        hidden_markers = sorted(
            {
                str(v)
                for v, h in zip([*started, *employed], [*hid_started, *hid_employed], strict=True)
                if h
            }
        )
        if hidden_markers:
            _footnote(ax, label(lang, "note.suppressed", marker=" / ".join(hidden_markers)))
    return ax


def _period_table(courses: pd.DataFrame, *, date_col: str, freq: str) -> pd.DataFrame:
    """Counts: rows ``employed`` / ``not_employed``, one column per period (gaps filled)."""
    alias = {"MS": "M", "QS": "Q", "YS": "Y"}[freq]
    dates = pd.to_datetime(courses[date_col])
    periods = dates.dt.to_period(alias)
    employed = courses["outcome"].isin(["ordinary_employment", "subsidised_employment"])
    frame = pd.DataFrame({"period": periods, "employed": employed}).dropna(subset=["period"])
    if frame.empty:
        raise DataError(f"`courses` has no dates in `{date_col}` to count by.")
    span = pd.period_range(frame["period"].min(), frame["period"].max(), freq=alias)
    table = (
        frame.assign(row=np.where(frame["employed"], "employed", "not_employed"))
        .groupby(["row", "period"], observed=True)
        .size()
        .unstack("period")
        .reindex(index=["employed", "not_employed"], columns=span, fill_value=0)
        .fillna(0)
        .astype("int64")
    )
    return table


def _quarter_label(text: str, lang: str) -> str:
    """``2008K1`` (as in the period tables) in the figure's language."""
    year, _, quarter = str(text).partition("K")
    if not (year.isdigit() and quarter.isdigit()):
        return str(text)
    return label(lang, "period.Q", year=int(year), quarter=int(quarter))


def _period_label(period: pd.Period, lang: str) -> str:
    if period.freqstr.startswith("Q"):
        return label(lang, "period.Q", year=period.year, quarter=period.quarter)
    if period.freqstr.startswith("M"):
        return f"{_MONTHS[lang][period.month - 1]} {period.year}"
    return str(period.year)


@figure_docs
def periods_side_by_side(
    headline: dict[str, dict[str, Any]],
    *,
    labels: dict[str, str],
    ax: Axes | None = None,
    lang: Lang = "da",
    synthetic: bool = False,
) -> Axes:
    """The headline shares of several periods side by side: ordinary employment among
    courses with a known outcome and employment among completed courses, each bar with
    its 95 % interval. Only published numbers: ``headline`` is period -> figure code ->
    ``(rate in percent, conf_low, conf_high)`` as published, or a disclosure mark (a
    hidden share is drawn as no bar, with its mark).

    Parameters
    ----------
    headline : dict
        ``{period: {"ordinary_all": (38.0, 32.8, 43.5), "employed_completed": ...}}``.
    labels : dict
        ``{period: label}`` in ``lang``.
    {figure_params}

    {returns_axes}
    """
    codes = ("ordinary_all", "employed_completed")
    periods = list(headline)
    width = 0.38
    with _drawing(ax, lang) as ax:
        x = np.arange(len(periods))
        for j, code in enumerate(codes):
            offset = (j - 0.5) * width
            for i, period in enumerate(periods):
                value = headline[period].get(code)
                if not isinstance(value, tuple):
                    mark = value if isinstance(value, str) else "–"
                    ax.annotate(mark, (x[i] + offset, 1), ha="center", fontsize=8, color=_GREY)
                    continue
                rate, low, high = value
                ax.bar(x[i] + offset, rate, width=width * 0.95, color=PALETTE[j])
                if low is not None and high is not None:
                    ax.errorbar(
                        x[i] + offset,
                        rate,
                        yerr=[[rate - low], [high - rate]],
                        color=_DARK,
                        capsize=3,
                        linewidth=1,
                    )
                ax.annotate(
                    percent(rate / 100, lang, 1),
                    (x[i] + offset, (high if high is not None else rate) + 1.5),
                    ha="center",
                    fontsize=7.5,
                )
        ax.set_xticks(x, [labels[p] for p in periods])
        ax.set_ylim(0, 100)
        ax.yaxis.set_major_formatter(lambda v, _: percent(v / 100, lang))
        handles = [
            Patch(color=PALETTE[j], label=label(lang, f"headline.{c}")) for j, c in enumerate(codes)
        ]
        ax.legend(handles=handles, loc="upper left", fontsize=8, frameon=False)
        _header(ax, label(lang, "title.periods"), [], lang=lang, synthetic=synthetic)
        _footnote(ax, label(lang, "note.ci95"))
    return ax
