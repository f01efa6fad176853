"""Figures of the dissemination work: ambassadors over time and by region."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import dates as mdates
from matplotlib import ticker
from matplotlib.axes import Axes

from vip2analysis.errors import DataError
from vip2analysis.publish.format import number
from vip2analysis.publish.labels import _MONTHS, _REGIONS, Lang, display_name, label
from vip2analysis.publish.plot_outcomes import _quarter_label
from vip2analysis.publish.style import (
    _DARK,
    PALETTE,
    _bar_label,
    _check_columns,
    _drawing,
    _header,
    _suppressed_bars,
    _total_text,
    figure_docs,
)

__all__ = [
    "ambassadors_by_quarter",
    "ambassadors_by_region",
    "ambassadors_over_time",
]


@figure_docs
def ambassadors_by_quarter(
    table: pd.DataFrame,
    *,
    ax: Axes | None = None,
    lang: Lang = "da",
    synthetic: bool = False,
    title: str | None = None,
) -> Axes:
    """Ambassadors certified per quarter, from a published table (``quarter``, ``n``, a last
    row ``total``; hidden counts as markers): the figure shows exactly what the table shows.

    Parameters
    ----------
    table : DataFrame
        E.g. the period table ``ambassadoerer_kvartal``.
    {figure_params}
    title : str, optional
        Title; by default with the total.

    {returns_axes}

    Examples
    --------
    >>> t = pd.DataFrame({"quarter": ["2009K2", "2010K1", "total"], "n": [70, "<5", "x"]})
    >>> ax = ambassadors_by_quarter(t)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['2009K2', '2010K1']
    >>> plt.close(ax.figure)
    """
    _check_columns(table, ["quarter", "n"], "table")
    body = table.loc[table["quarter"].ne("total")]
    total = table.loc[table["quarter"].eq("total"), "n"]
    values = body["n"].tolist()
    hidden = [isinstance(v, str) for v in values]
    shown = [float(v) for v, h in zip(values, hidden, strict=True) if not h]
    top = max(shown or [1.0]) * 1.15
    x = np.arange(len(values))
    with _drawing(ax, lang) as ax:
        heights = [top if h else float(v) for v, h in zip(values, hidden, strict=True)]
        bars = ax.bar(x, heights, 0.65, color=PALETTE[0])
        _suppressed_bars(ax, bars, hidden, [str(v) for v in values], lang, horizontal=False)
        ax.bar_label(
            bars,
            ["" if h else number(float(v), lang) for v, h in zip(values, hidden, strict=True)],
            padding=2,
            fontsize=8,
            color=_DARK,
        )
        ax.set_xticks(x, [_quarter_label(q, lang) for q in body["quarter"]])
        ax.set_ylim(0, top)
        ax.set_ylabel(label(lang, "axis.ambassadors"))
        n_total = total.iloc[0] if len(total) else int(sum(shown))
        default = f"{label(lang, 'title.ambassadors_quarter')} ({_total_text(n_total, lang)})"
        _header(ax, title or default, [], lang=lang, synthetic=synthetic)
    return ax


@figure_docs
def ambassadors_over_time(
    ambassadors: pd.DataFrame,
    *,
    date_col: str = "certified_date",
    ax: Axes | None = None,
    lang: Lang = "da",
    synthetic: bool = False,
    title: str | None = None,
) -> Axes:
    """Cumulative number of certified ambassadors, as a step line with the total marked.

    Ambassadors are job-centre staff whose names the report lists, so their counts are
    not suppressed.

    Parameters
    ----------
    ambassadors : DataFrame
        One row per ambassador with a certification date in ``date_col``.
    date_col : str
        The certification date column.
    {figure_params}
    title : str, optional
        Title.

    {returns_axes}

    Examples
    --------
    >>> amb = pd.DataFrame({"certified_date": pd.to_datetime(
    ...     ["2009-05-20"] * 70 + ["2010-01-26"] * 20 + ["2010-04-15"] * 20 + ["2010-06-15"] * 20)})
    >>> ax = ambassadors_over_time(amb)
    >>> [t.get_text() for t in ax.texts if "i alt" in t.get_text()]
    ['130 i alt']
    >>> plt.close(ax.figure)
    """
    _check_columns(ambassadors, [date_col], "ambassadors")
    dates = pd.to_datetime(ambassadors[date_col]).dropna()
    if dates.empty:
        raise DataError(f"`ambassadors` has no dates in `{date_col}`.")
    per_day = dates.dt.normalize().value_counts().sort_index()
    cumulative = per_day.cumsum()
    span = per_day.index[-1] - per_day.index[0]
    pad = max(span * 0.06, pd.Timedelta(days=30))
    x = [per_day.index[0] - pad, *per_day.index, per_day.index[-1] + pad]
    y = [0, *cumulative.to_numpy(), int(cumulative.iloc[-1])]
    total = int(cumulative.iloc[-1])
    with _drawing(ax, lang) as ax:
        ax.step(x, y, where="post", color=PALETTE[0], linewidth=2)
        ax.plot(per_day.index, cumulative.to_numpy(), "o", color=PALETTE[0], markersize=4)
        ax.annotate(
            label(lang, "note.total", n=number(total, lang)),
            (x[-1], total),
            xytext=(0, 6),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=9,
            fontweight="bold",
            color=_DARK,
        )
        ax.set_ylim(0, total * 1.15)
        ax.set_xlim(x[0], x[-1])
        ax.xaxis.set_major_locator(_month_locator(x[-1] - x[0]))
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: _date_label(v, lang)))
        ax.set_ylabel(label(lang, "axis.ambassadors_cum"))
        _header(ax, title or label(lang, "title.ambassadors"), [], lang=lang, synthetic=synthetic)
    return ax


def _month_locator(span: pd.Timedelta) -> mdates.MonthLocator:
    """Ticks chosen from the time span alone, so they do not move with the axes size."""
    months = span.days / 30.4
    step = next((s for s in (1, 2, 3, 4, 6) if months / s <= 7), 12)
    return mdates.MonthLocator(bymonth=range(1, 13, step) if step < 12 else (1,))


def _date_label(value: float, lang: str) -> str:
    date = mdates.num2date(value)
    return f"{_MONTHS[lang][date.month - 1]} {date.year}"


@figure_docs
def ambassadors_by_region(
    ambassadors: pd.DataFrame | None = None,
    *,
    table: pd.DataFrame | None = None,
    column: str = "region",
    ax: Axes | None = None,
    lang: Lang = "da",
    synthetic: bool = False,
    title: str | None = None,
) -> Axes:
    """Number of ambassadors per region, as horizontal bars with the count beside each.

    The five regions come in a fixed order (east to west and north, zeros shown); other
    values follow.

    Parameters
    ----------
    ambassadors : DataFrame, optional
        One row per ambassador with the region in ``column`` (every count drawn).
    table : DataFrame, optional
        A published table instead (``region``, ``n``, a last row ``total``; hidden counts
        as markers), e.g. ``ambassadoerer_region``: the figure shows what the table shows.
    column : str
        The region column.
    {figure_params}
    title : str, optional
        Title; by default with the total.

    {returns_axes}

    Examples
    --------
    >>> amb = pd.DataFrame({"region": ["Hovedstaden"] * 40 + ["Syddanmark"] * 30})
    >>> ax = ambassadors_by_region(amb, lang="en")
    >>> [t.get_text() for t in ax.get_yticklabels()][:3]
    ['Capital Region', 'Zealand', 'Southern Denmark']
    >>> plt.close(ax.figure)
    """
    if (ambassadors is None) == (table is None):
        raise DataError("pass either `ambassadors` or a published `table`, not both or neither")
    if table is not None:
        _check_columns(table, ["region", "n"], "table")
        body = table.loc[table["region"].ne("total")]
        published = pd.Series(body["n"].to_numpy(dtype=object), index=body["region"].astype(str))
        extra = sorted(set(published.index) - set(_REGIONS))
        published = published.reindex([r for r in [*_REGIONS, *extra] if r in published.index])
        totals = table.loc[table["region"].eq("total"), "n"]
        n_total = totals.iloc[0] if len(totals) else None
    else:
        assert ambassadors is not None
        _check_columns(ambassadors, [column], "ambassadors")
        values = ambassadors[column].astype(object)
        extra = sorted({str(v) for v in values.dropna()} - set(_REGIONS))
        published = values.value_counts().reindex([*_REGIONS, *extra], fill_value=0)
        published = published.astype(object)
        n_total = int(published.sum())
    hidden = [isinstance(v, str) for v in published]
    counts = [0.0 if h else float(v) for v, h in zip(published, hidden, strict=True)]
    top = max([*counts, 1.0]) * 1.2
    y = np.arange(len(published))
    with _drawing(ax, lang) as ax:
        heights = [top if h else c for c, h in zip(counts, hidden, strict=True)]
        bars = ax.barh(y, heights, color=PALETTE[0], height=0.65)
        _suppressed_bars(ax, bars, hidden, [str(v) for v in published], lang, horizontal=True)
        for yi, count, h in zip(y, counts, hidden, strict=True):
            if not h:
                _bar_label(ax, f"n={number(count, lang)}", (count, yi))
        ax.set_yticks(y, [display_name(r, variable="region", lang=lang) for r in published.index])
        ax.invert_yaxis()
        ax.set_xlim(0, top)
        ax.set_xlabel(label(lang, "axis.ambassadors"))
        default = (
            f"{label(lang, 'title.ambassadors_region')} ({_total_text(n_total, lang)})"
            if n_total is not None
            else label(lang, "title.ambassadors_region")
        )
        _header(ax, title or default, [], lang=lang, synthetic=synthetic)
    return ax
