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
from vip2analysis.publish.style import (
    _DARK,
    PALETTE,
    _bar_label,
    _check_columns,
    _drawing,
    _header,
    figure_docs,
)

__all__ = [
    "ambassadors_by_region",
    "ambassadors_over_time",
]


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
    ambassadors: pd.DataFrame,
    *,
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
    ambassadors : DataFrame
        One row per ambassador with the region in ``column``.
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
    _check_columns(ambassadors, [column], "ambassadors")
    values = ambassadors[column].astype(object)
    extra = sorted({str(v) for v in values.dropna()} - set(_REGIONS))
    counts = values.value_counts().reindex([*_REGIONS, *extra], fill_value=0)
    y = np.arange(len(counts))
    with _drawing(ax, lang) as ax:
        ax.barh(y, counts.to_numpy(), color=PALETTE[0], height=0.65)
        for yi, count in zip(y, counts, strict=True):
            _bar_label(ax, f"n={number(count, lang)}", (count, yi))
        ax.set_yticks(y, [display_name(r, variable="region", lang=lang) for r in counts.index])
        ax.invert_yaxis()
        ax.set_xlim(0, max(int(counts.max()), 1) * 1.2)
        ax.set_xlabel(label(lang, "axis.ambassadors"))
        default = f"{label(lang, 'title.ambassadors_region')} (n={number(int(counts.sum()), lang)})"
        _header(ax, title or default, [], lang=lang, synthetic=synthetic)
    return ax
