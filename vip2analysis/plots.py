"""House style for figures: one palette, Danish or English labels, axes in and axes out.

Every plot helper takes its data first and everything else keyword-only, draws on ``ax``
(a new figure when None) and returns the axes. None of them shows or saves anything:
:func:`save_figure` is the one place that writes figures, and it writes them
byte-for-byte reproducibly.

The conventions every figure follows:

* one colour-blind-safe palette (:data:`PALETTE`, Okabe & Ito) and one set of font sizes
  (:data:`STYLE`), applied while a helper draws;
* titles, axis labels and category names in Danish by default, English with
  ``lang="en"``, all from one dictionary (:data:`LABELS`);
* the number of persons behind every bar, 95% intervals as error bars;
* ``"Syntetiske data"`` on the figure when ``synthetic=True``; ``"Forskelle mellem
  deltagere, ikke effekter"`` on comparisons among participants (``causal=False``);
* counts and rates pass through :mod:`vip2analysis.disclosure` first (``k=5`` by
  default); a suppressed value is drawn as an empty, dashed bar marked ``"<5"`` or ``"x"``.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, get_args

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from cycler import cycler
from matplotlib import dates as mdates
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from vip2analysis._validation import check_one_of
from vip2analysis.disclosure import (
    DEFAULT_K,
    SECONDARY_MARKER,
    TOTAL_LABEL,
    protect_series,
    protect_table,
    suppress_rates,
)
from vip2analysis.schema import DURATION_BANDS, OUTCOMES, SEXES

__all__ = [
    "LABELS",
    "PALETTE",
    "STYLE",
    "BarStat",
    "ImageFormat",
    "Lang",
    "PeriodFreq",
    "ambassadors_by_region",
    "ambassadors_over_time",
    "balance",
    "display_name",
    "forest",
    "house_style",
    "outcome_distribution",
    "over_time",
    "overlap",
    "rates_by_group",
    "save_figure",
    "set_style",
]

Lang = Literal["da", "en"]
"""Language of titles, axis labels and category names."""
PeriodFreq = Literal["MS", "QS", "YS"]
"""Bins of :func:`over_time`: months, quarters or years (pandas offset aliases)."""
ImageFormat = Literal["png", "svg", "pdf"]
"""Formats :func:`save_figure` writes."""
BarStat = Literal["share", "count"]
"""Bar length in :func:`outcome_distribution`: share of all courses or number of courses."""

# --- palette and style ------------------------------------------------------------------

PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
)
"""The one palette: Okabe & Ito (2008), safe for the common forms of colour blindness."""
_GREY = "#8C8C8C"
_DARK = "#333333"
_OUTCOME_COLOURS = dict(
    zip(OUTCOMES, (PALETTE[0], PALETTE[5], PALETTE[2], PALETTE[1], PALETTE[3], _GREY), strict=True)
)

STYLE: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 9,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9,
    "axes.labelcolor": _DARK,
    "axes.edgecolor": _DARK,
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": cycler(color=PALETTE),
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "xtick.color": _DARK,
    "ytick.color": _DARK,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "figure.figsize": (6.3, 3.9),  # 16 x 10 cm: full text width of an A4 report
    "figure.dpi": 100,
    "figure.constrained_layout.use": True,
    "savefig.dpi": 200,
}
"""rcParams of the house style; font sizes are for print at :data:`STYLE` figure size."""

# --- labels -----------------------------------------------------------------------------

_MONTHS = {
    "da": ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}

LABELS: dict[str, dict[str, str]] = {
    "da": {
        # titles
        "title.outcomes": "Afgang fra jobpakkeforløb",
        "title.rates": "Andel fordelt på {group}",
        "title.forest": "Justerede forskelle",
        "title.forest_causal": "Effekt af deltagelse",
        "title.balance": "Balance før og efter vægtning",
        "title.overlap": "Overlap mellem deltagere og sammenligningsgruppe",
        "title.over_time": "Forløb og beskæftigelse over tid",
        "title.ambassadors": "Certificerede jobpakkeambassadører",
        "title.ambassadors_region": "Jobpakkeambassadører fordelt på region",
        # notes
        "note.synthetic": "Syntetiske data",
        "note.not_effects": "Forskelle mellem deltagere, ikke effekter",
        "note.ci95": "95 %-konfidensintervaller",
        "note.ci95_method": "95 %-konfidensintervaller: {method}",
        "note.suppressed": "{marker}: undertrykt",
        "note.cohort": "Efter startperiode; beskæftigelse er ordinær eller støttet",
        "note.total": "{n} i alt",
        "note.threshold": "Grænse ±{t}",
        # axes and legends
        "axis.share_courses": "Andel af forløb",
        "axis.count_courses": "Antal forløb",
        "axis.share": "Andel",
        "axis.pp": "Forskel i procentpoint",
        "axis.smd": "Standardiseret middelforskel",
        "axis.propensity": "Sandsynlighed for deltagelse (propensity score)",
        "axis.density": "Tæthed",
        "axis.ambassadors": "Antal ambassadører",
        "axis.ambassadors_cum": "Antal certificerede (kumuleret)",
        "legend.before": "Før vægtning",
        "legend.after": "Efter vægtning",
        "legend.participants": "Deltagere",
        "legend.comparison": "Sammenligningsgruppe",
        "legend.started": "Startede forløb",
        "legend.employed": "Endte i beskæftigelse",
        "legend.course": "Kursus",
        "period.Q": "{year}K{quarter}",
        "missing": "Uoplyst",
        # denominators (values of `denominator_rule` from estimate.rates)
        "denominator.all courses": "Andel af alle forløb",
        "denominator.completed courses": "Andel af afsluttede forløb",
        # inference methods (values of `inference` in estimate's tidy tables)
        "inference.delta method (logit AME)": "deltametoden",
        "inference.HC3": "robuste standardfejl (HC3)",
        "inference.M-estimation sandwich (stacked estimating equations)": "sandwich-estimator",
        # variable names
        "var.sex": "Køn",
        "var.outcome": "Afgang",
        "var.status": "Status",
        "var.municipality": "Kommune",
        "var.region": "Region",
        "var.job_package": "Jobpakke",
        "var.job_package_group": "Jobpakkegruppe",
        "var.origin_group": "Herkomst",
        "var.origin_region": "Oprindelsesregion",
        "var.residence_basis": "Opholdsgrundlag",
        "var.duration_band": "År uden aktivering",
        "var.years_without_activation": "År uden aktivering",
        "var.age_at_start": "Alder ved start",
        "var.match_code": "Match",
        "var.work_ready": "Arbejdsmarkedsparat",
        # categories
        "sex.F": "Kvinder",
        "sex.K": "Kvinder",
        "sex.M": "Mænd",
        "outcome.ordinary_employment": "Ordinær beskæftigelse",
        "outcome.subsidised_employment": "Støttet beskæftigelse",
        "outcome.education": "Uddannelse",
        "outcome.still_on_benefit": "Fortsat på ydelse",
        "outcome.dropped_out": "Afbrudt",
        "outcome.unknown": "Ukendt",
        "status.completed": "Afsluttet",
        "status.ongoing": "I gang",
        "status.dropped_out": "Afbrudt",
        "duration_band.<1": "<1 år",
        "duration_band.1-2": "1-2 år",
        "duration_band.2-5": "2-5 år",
        "duration_band.5+": "5+ år",
        "origin_group.western": "Vestlige lande",
        "origin_group.non_western": "Ikke-vestlige lande",
        "residence_basis.refugee": "Flygtning",
        "residence_basis.family_reunified": "Familiesammenført",
        "residence_basis.other": "Andet",
        "work_ready.True": "Arbejdsmarkedsparat",
        "work_ready.False": "Ikke arbejdsmarkedsparat",
    },
    "en": {
        "title.outcomes": "Outcomes of job-package courses",
        "title.rates": "Share by {group}",
        "title.forest": "Adjusted differences",
        "title.forest_causal": "Effect of participation",
        "title.balance": "Balance before and after weighting",
        "title.overlap": "Overlap of participants and comparison group",
        "title.over_time": "Courses and employment over time",
        "title.ambassadors": "Certified job-package ambassadors",
        "title.ambassadors_region": "Job-package ambassadors by region",
        "note.synthetic": "Synthetic data",
        "note.not_effects": "Differences among participants, not effects",
        "note.ci95": "95% confidence intervals",
        "note.ci95_method": "95% confidence intervals: {method}",
        "note.suppressed": "{marker}: suppressed",
        "note.cohort": "By start period; employment is ordinary or subsidised",
        "note.total": "{n} in all",
        "note.threshold": "Threshold ±{t}",
        "axis.share_courses": "Share of courses",
        "axis.count_courses": "Number of courses",
        "axis.share": "Share",
        "axis.pp": "Difference in percentage points",
        "axis.smd": "Standardised mean difference",
        "axis.propensity": "Probability of participation (propensity score)",
        "axis.density": "Density",
        "axis.ambassadors": "Number of ambassadors",
        "axis.ambassadors_cum": "Number certified (cumulative)",
        "legend.before": "Before weighting",
        "legend.after": "After weighting",
        "legend.participants": "Participants",
        "legend.comparison": "Comparison group",
        "legend.started": "Courses started",
        "legend.employed": "Ended in employment",
        "legend.course": "Course",
        "period.Q": "{year}Q{quarter}",
        "missing": "Not stated",
        "denominator.all courses": "Share of all courses",
        "denominator.completed courses": "Share of completed courses",
        "inference.delta method (logit AME)": "delta method",
        "inference.HC3": "robust standard errors (HC3)",
        "inference.M-estimation sandwich (stacked estimating equations)": "sandwich estimator",
        "var.sex": "Sex",
        "var.outcome": "Outcome",
        "var.status": "Status",
        "var.municipality": "Municipality",
        "var.region": "Region",
        "var.job_package": "Job package",
        "var.job_package_group": "Job package group",
        "var.origin_group": "Origin",
        "var.origin_region": "Region of origin",
        "var.residence_basis": "Residence basis",
        "var.duration_band": "Years without activation",
        "var.years_without_activation": "Years without activation",
        "var.age_at_start": "Age at start",
        "var.match_code": "Match",
        "var.work_ready": "Work-ready",
        "sex.F": "Women",
        "sex.K": "Women",
        "sex.M": "Men",
        "outcome.ordinary_employment": "Ordinary employment",
        "outcome.subsidised_employment": "Subsidised employment",
        "outcome.education": "Education",
        "outcome.still_on_benefit": "Still on benefit",
        "outcome.dropped_out": "Dropped out",
        "outcome.unknown": "Unknown",
        "status.completed": "Completed",
        "status.ongoing": "Ongoing",
        "status.dropped_out": "Dropped out",
        "duration_band.<1": "<1 year",
        "duration_band.1-2": "1-2 years",
        "duration_band.2-5": "2-5 years",
        "duration_band.5+": "5+ years",
        "origin_group.western": "Western countries",
        "origin_group.non_western": "Non-Western countries",
        "residence_basis.refugee": "Refugee",
        "residence_basis.family_reunified": "Family reunified",
        "residence_basis.other": "Other",
        "work_ready.True": "Work-ready",
        "work_ready.False": "Not work-ready",
        "region.Hovedstaden": "Capital Region",
        "region.Sjælland": "Zealand",
        "region.Syddanmark": "Southern Denmark",
        "region.Midtjylland": "Central Denmark",
        "region.Nordjylland": "North Denmark",
    },
}
"""Every text on a figure, by language; keys ``"<variable>.<code>"`` name categories."""

_CODE_ORDER = {"outcome": OUTCOMES, "duration_band": DURATION_BANDS, "sex": SEXES}
_REGIONS = ("Hovedstaden", "Sjælland", "Syddanmark", "Midtjylland", "Nordjylland")
_SUPPRESSED_BAR = {"fill": False, "edgecolor": _GREY, "linestyle": (0, (3, 2)), "linewidth": 0.9}


def _t(lang: str, key: str, **fields: Any) -> str:
    text = LABELS[lang][key]
    return text.format(**fields) if fields else text


def display_name(value: Any, *, variable: str, lang: Lang = "da") -> str:
    """The label of one category (or a variable's name with ``variable="var"``).

    Parameters
    ----------
    value : scalar
        A code as stored in the data, e.g. ``"F"`` or ``"ordinary_employment"``.
    variable : str
        The column it comes from, e.g. ``"sex"``; ``"var"`` looks up a column name.
    lang : {'da', 'en'}
        Language.

    Returns
    -------
    str
        The label from :data:`LABELS`, or the value itself when there is none;
        ``"Uoplyst"`` (``"Not stated"``) for a missing value.

    Examples
    --------
    >>> display_name("F", variable="sex")
    'Kvinder'
    >>> display_name("ordinary_employment", variable="outcome", lang="en")
    'Ordinary employment'
    >>> display_name("sex", variable="var")
    'Køn'
    >>> display_name("Gladsaxe", variable="municipality")
    'Gladsaxe'
    """
    check_one_of("lang", lang, get_args(Lang))
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return _t(lang, "missing")
    return LABELS[lang].get(f"{variable}.{value}", str(value))


# --- number formats -------------------------------------------------------------------


def _localise(text: str, lang: str) -> str:
    """Swap separators for Danish (1.234,5) and use a true minus sign."""
    if lang == "da":
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    return text.replace("-", "\u2212")


def _num(x: float, lang: str, decimals: int = 0) -> str:
    """A number as it is written in the language: 1.234,5 in Danish, 1,234.5 in English."""
    return _localise(f"{x:,.{decimals}f}", lang)


def _pct(share: float, lang: str, decimals: int = 0) -> str:
    return _num(100 * share, lang, decimals) + (" %" if lang == "da" else "%")


def _n_text(n: Any, lang: str, k: int | None) -> str:
    if pd.isna(n):
        return f"n<{k}" if k else "n=?"
    return f"n={_num(float(n), lang)}"


def _percent_axis(axis: Any, lang: str) -> None:
    axis.set_major_formatter(ticker.FuncFormatter(lambda x, _: _pct(x, lang)))


def _decimal_axis(axis: Any, lang: str, *, scale: float = 1.0) -> None:
    """Tick labels with at most two decimals, trailing zeros dropped, in the language."""

    def fmt(x: float, _: Any) -> str:
        text = f"{x * scale:.2f}".rstrip("0").rstrip(".")
        return _localise("0" if text in ("-0", "") else text, lang)

    axis.set_major_formatter(ticker.FuncFormatter(fmt))


# --- style ------------------------------------------------------------------------------


def house_style() -> contextlib.AbstractContextManager:
    """A context in which matplotlib uses the house style (:data:`STYLE`).

    The plot helpers draw inside it already; use it around ``plt.subplots`` so that a
    figure made for them gets the house size and tick fonts too.

    Returns
    -------
    context manager

    Examples
    --------
    >>> with house_style():
    ...     fig, ax = plt.subplots()
    >>> ax.xaxis.get_ticklabels()[0].get_fontsize()
    8.5
    >>> plt.close(fig)
    """
    return mpl.rc_context(STYLE)


def set_style() -> None:
    """Apply the house style (:data:`STYLE`) to matplotlib for the rest of the session.

    For a notebook: call it once at the top.

    Examples
    --------
    >>> with mpl.rc_context():
    ...     set_style()
    ...     mpl.rcParams["font.size"]
    9.0
    """
    mpl.rcParams.update(STYLE)


@contextlib.contextmanager
def _drawing(ax: Axes | None, lang: str) -> Iterator[Axes]:
    """Check ``lang``, enter the house style and give the axes to draw on."""
    check_one_of("lang", lang, get_args(Lang))
    with house_style():
        if ax is None:
            _, ax = plt.subplots()
        yield ax


def _header(
    ax: Axes,
    title: str | None,
    notes: Iterable[str],
    *,
    lang: str,
    synthetic: bool,
    legend_above: bool = False,
) -> None:
    """Title above a subtitle line of notes; the synthetic mark ends the notes.

    With ``legend_above`` both move up to leave a row for a legend on top of the axes.
    """
    parts = [note for note in notes if note]
    if synthetic:
        parts.append(_t(lang, "note.synthetic"))
    subtitle = " · ".join(parts)
    base = 20 if legend_above else 6
    ax.set_title(title or "", loc="left", pad=base + (14 if subtitle else 0))
    if subtitle:
        ax.annotate(
            subtitle,
            xy=(0, 1),
            xycoords="axes fraction",
            xytext=(0, base),
            textcoords="offset points",
            ha="left",
            va="bottom",
            fontsize=8,
            color=_DARK,
            annotation_clip=False,
        )


def _footnote(ax: Axes, text: str) -> None:
    """A small note under the x-axis label, left-aligned with the axes.

    It is placed relative to the label as last drawn, so the layout takes a draw or two
    to settle; :func:`save_figure` draws until it has.
    """
    ax.annotate(
        text,
        xy=(0, 0),
        xycoords=("axes fraction", ax.xaxis.label),
        xytext=(0, -4),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize=7.5,
        color=_DARK,
        annotation_clip=False,
    )


def _check_columns(data: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    absent = [c for c in columns if c not in data.columns]
    if absent:
        raise KeyError(f"`{what}` lacks the column(s) {absent}; it has {list(data.columns)}.")


def _total_text(total: Any, lang: str) -> str:
    """``n=313``, or ``n<5`` when the total itself is suppressed."""
    if isinstance(total, str):
        return f"n{total}" if total.startswith("<") else f"n={total}"
    return f"n={_num(total, lang)}"


def _suppressed_bars(
    ax: Axes,
    bars: Any,
    mask: Sequence[bool],
    markers: Sequence[str],
    lang: str,
    *,
    horizontal: bool,
) -> None:
    """Outline-only dashed bars for suppressed values, each with its marker note."""
    for patch, hidden, marker in zip(bars.patches, mask, markers, strict=True):
        if not hidden:
            continue
        patch.set(**_SUPPRESSED_BAR)
        x, y = patch.get_x(), patch.get_y()
        w, h = patch.get_width(), patch.get_height()
        note = _t(lang, "note.suppressed", marker=marker)
        if horizontal:
            ax.annotate(
                note,
                (x, y + h / 2),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                ha="left",
                fontsize=8,
                color=_DARK,
            )
        else:
            ax.annotate(
                marker,
                (x + w / 2, y),
                xytext=(0, 3),
                textcoords="offset points",
                va="bottom",
                ha="center",
                fontsize=7.5,
                color=_DARK,
            )


# --- plots of courses -----------------------------------------------------------------


def outcome_distribution(
    courses: pd.DataFrame,
    *,
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

    Parameters
    ----------
    courses : DataFrame
        Course records with an ``outcome`` column.
    stat : {'share', 'count'}
        Bar length: share of all courses or number of courses.
    k : int or None
        Suppression threshold; None draws every count (not for publication).
    ax : Axes, optional
        Axes to draw on; a new figure when None.
    lang : {'da', 'en'}
        Language of all text.
    synthetic : bool
        Mark the figure "Syntetiske data".
    title : str, optional
        Title; by default "Afgang fra jobpakkeforløb (n=...)".

    Returns
    -------
    Axes

    Examples
    --------
    >>> courses = pd.DataFrame({"outcome": ["ordinary_employment"] * 12 + ["education"] * 8})
    >>> ax = outcome_distribution(courses, synthetic=True)
    >>> [t.get_text() for t in ax.get_yticklabels()][:2]
    ['Ordinær beskæftigelse', 'Støttet beskæftigelse']
    >>> plt.close(ax.figure)
    """
    check_one_of("stat", stat, get_args(BarStat))
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
                label = f"{_pct(count / total, lang) if total else '–'} (n={_num(count, lang)})"
                ax.annotate(
                    label,
                    (value, yi),
                    xytext=(4, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=8,
                    color=_DARK,
                )
        ax.set_yticks(y, [display_name(c, variable="outcome", lang=lang) for c in counts.index])
        ax.invert_yaxis()
        ax.set_xlim(0, xmax)
        if stat == "share":
            _percent_axis(ax.xaxis, lang)
        ax.set_xlabel(_t(lang, "axis.share_courses" if stat == "share" else "axis.count_courses"))
        _header(
            ax,
            title or f"{_t(lang, 'title.outcomes')} ({_total_text(n_total, lang)})",
            [],
            lang=lang,
            synthetic=synthetic,
        )
    return ax


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
        ``suppression``, as made by ``estimate.rates``. Rates are proportions (0-1).
    group : str
        The group column; its codes are shown by their display names.
    k : int or None
        Suppression threshold; None draws every row (not for publication).
    ax : Axes, optional
        Axes to draw on; a new figure when None.
    lang : {'da', 'en'}
        Language of all text.
    synthetic : bool
        Mark the figure "Syntetiske data".
    title : str, optional
        Title; by default "Andel fordelt på <group>".
    causal : bool
        False (the default) says on the figure that these are differences among
        participants, not effects.

    Returns
    -------
    Axes

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
    rate = rates["rate"].to_numpy(dtype=float, na_value=np.nan)
    low = rates["conf_low"].to_numpy(dtype=float, na_value=np.nan)
    high = rates["conf_high"].to_numpy(dtype=float, na_value=np.nan)
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
                _pct(r, lang),
                (lo if inside else hi, yi),
                xytext=(-4 if inside else 4, 0),
                textcoords="offset points",
                va="center",
                ha="right" if inside else "left",
                fontsize=8,
                color="white" if inside else _DARK,
            )
        labels = [
            f"{display_name(g, variable=group, lang=lang)} ({_n_text(n, lang, k)})"
            for g, n in zip(rates[group].astype(object), rates["n"].astype(object), strict=True)
        ]
        ax.set_yticks(y, labels)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        _percent_axis(ax.xaxis, lang)
        ax.set_xlabel(_share_label(rates, lang))
        ax.set_ylabel(display_name(group, variable="var", lang=lang))
        group_name = display_name(group, variable="var", lang=lang).lower()
        notes = [] if causal else [_t(lang, "note.not_effects")]
        default = _t(lang, "title.rates", group=group_name)
        _header(ax, title or default, notes, lang=lang, synthetic=synthetic)
        _footnote(ax, _t(lang, "note.ci95"))
    return ax


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
        return LABELS[lang].get(f"denominator.{rules[0]}", _t(lang, "axis.share"))
    return _t(lang, "axis.share")


def over_time(
    courses: pd.DataFrame,
    *,
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
    courses : DataFrame
        Course records with ``date_col`` and ``outcome``.
    date_col : str
        The date that places a course in a period.
    freq : {'MS', 'QS', 'YS'}
        Months, quarters or years.
    k : int or None
        Suppression threshold; None draws every count (not for publication).
    ax : Axes, optional
        Axes to draw on; a new figure when None.
    lang : {'da', 'en'}
        Language of all text.
    synthetic : bool
        Mark the figure "Syntetiske data".
    title : str, optional
        Title.

    Returns
    -------
    Axes

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
    _check_columns(courses, [date_col, "outcome"], "courses")
    table = _period_table(courses, date_col=date_col, freq=freq)
    if k is not None:
        published, hidden = protect_table(table, k=k)
        started, employed = published.loc[TOTAL_LABEL], published.loc["employed"]
        hid_started, hid_employed = hidden.loc[TOTAL_LABEL], hidden.loc["employed"]
        started, employed = started.drop(TOTAL_LABEL), employed.drop(TOTAL_LABEL)
        hid_started, hid_employed = hid_started.drop(TOTAL_LABEL), hid_employed.drop(TOTAL_LABEL)
    else:
        started, employed = table.sum(axis=0), table.loc["employed"]
        hid_started = hid_employed = pd.Series(False, index=table.columns)
    x = np.arange(table.shape[1])
    width = 0.4
    with _drawing(ax, lang) as ax:
        top = max(float(table.sum(axis=0).max()), 1.0) * 1.12
        series = [
            (started, hid_started, -width / 2, PALETTE[0], "legend.started"),
            (employed, hid_employed, width / 2, PALETTE[2], "legend.employed"),
        ]
        handles = []
        for values, hid, shift, colour, key in series:
            heights = [top if h else float(v) for v, h in zip(values, hid, strict=True)]
            bars = ax.bar(x + shift, heights, width, color=colour, label=_t(lang, key))
            handles.append(Patch(color=colour, label=_t(lang, key)))
            markers = [str(v) for v in values]
            _suppressed_bars(ax, bars, hid.tolist(), markers, lang, horizontal=False)
            shown = [
                _num(float(v), lang) if not h else "" for v, h in zip(values, hid, strict=True)
            ]
            ax.bar_label(bars, shown, padding=2, fontsize=7.5, color=_DARK)
        many = len(x) > 10
        ax.set_xticks(
            x,
            [_period_label(p, lang) for p in table.columns],
            rotation=45 if many else 0,
            ha="right" if many else "center",
            rotation_mode="anchor",
        )
        ax.set_xlim(-0.6, len(x) - 0.4)
        ax.set_ylim(0, top)
        ax.set_ylabel(_t(lang, "axis.count_courses"))
        ax.legend(
            handles=handles, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2, borderaxespad=0.2
        )
        default = title or _t(lang, "title.over_time")
        _header(
            ax,
            default,
            [_t(lang, "note.cohort")],
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
            _footnote(ax, _t(lang, "note.suppressed", marker=" / ".join(hidden_markers)))
    return ax


def _period_table(courses: pd.DataFrame, *, date_col: str, freq: str) -> pd.DataFrame:
    """Counts: rows ``employed`` / ``not_employed``, one column per period (gaps filled)."""
    alias = {"MS": "M", "QS": "Q", "YS": "Y"}[freq]
    dates = pd.to_datetime(courses[date_col])
    periods = dates.dt.to_period(alias)
    employed = courses["outcome"].isin(["ordinary_employment", "subsidised_employment"])
    frame = pd.DataFrame({"period": periods, "employed": employed}).dropna(subset=["period"])
    if frame.empty:
        raise ValueError(f"`courses` has no dates in `{date_col}` to count by.")
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


def _period_label(period: pd.Period, lang: str) -> str:
    if period.freqstr.startswith("Q"):
        return _t(lang, "period.Q", year=period.year, quarter=period.quarter)
    if period.freqstr.startswith("M"):
        return f"{_MONTHS[lang][period.month - 1]} {period.year}"
    return str(period.year)


# --- plots of estimates ---------------------------------------------------------------


def forest(
    tidy: pd.DataFrame,
    *,
    ax: Axes | None = None,
    lang: Lang = "da",
    synthetic: bool = False,
    title: str | None = None,
    causal: bool = False,
) -> Axes:
    """Point estimates with 95% intervals, in percentage points, with a zero line.

    Parameters
    ----------
    tidy : DataFrame
        ``term``, ``estimate``, ``conf_low``, ``conf_high``, ``n`` and optionally
        ``inference``, as from a result's ``.tidy()``; estimates are differences in
        proportions (0.05 = 5 percentage points). One row per point, top to bottom. A
        term ``"sex[M]"`` is shown as the level's label ("Mænd"), any other term by the
        variable's label.
    ax : Axes, optional
        Axes to draw on; a new figure when None.
    lang : {'da', 'en'}
        Language of all text.
    synthetic : bool
        Mark the figure "Syntetiske data".
    title : str, optional
        Title.
    causal : bool
        True for effects of participation estimated against a comparison group; False
        (the default) says on the figure that these are differences among participants.

    Returns
    -------
    Axes

    Examples
    --------
    >>> tidy = pd.DataFrame({"term": ["sex[M]", "origin_group[western]"],
    ...                      "estimate": [0.05, -0.02], "conf_low": [-0.03, -0.12],
    ...                      "conf_high": [0.13, 0.08], "n": [313, 313], "inference": "HC3"})
    >>> ax = forest(tidy)
    >>> ax.get_xlabel()
    'Forskel i procentpoint'
    >>> plt.close(ax.figure)
    """
    _check_columns(tidy, ["term", "estimate", "conf_low", "conf_high", "n"], "tidy")
    est = tidy["estimate"].to_numpy(dtype=float)
    low = tidy["conf_low"].to_numpy(dtype=float)
    high = tidy["conf_high"].to_numpy(dtype=float)
    y = np.arange(len(tidy))
    with _drawing(ax, lang) as ax:
        ax.axvline(0, color=_GREY, linewidth=0.8, zorder=0)
        ax.errorbar(
            est,
            y,
            xerr=np.vstack([est - low, high - est]),
            fmt="o",
            color=PALETTE[0],
            ecolor=PALETTE[0],
            elinewidth=1.2,
            capsize=3,
            markersize=5,
        )
        labels = [
            f"{_term_label(term, lang)} ({_n_text(n, lang, None)})"
            for term, n in zip(tidy["term"], tidy["n"], strict=True)
        ]
        ax.set_yticks(y, labels)
        ax.set_ylim(len(tidy) - 0.5, -0.5)
        reach = float(np.nanmax(np.abs(np.r_[low, high, 0.01]))) * 1.15
        ax.set_xlim(-reach, reach)
        _decimal_axis(ax.xaxis, lang, scale=100)
        ax.set_xlabel(_t(lang, "axis.pp"))
        notes = [] if causal else [_t(lang, "note.not_effects")]
        default = _t(lang, "title.forest_causal" if causal else "title.forest")
        _header(ax, title or default, notes, lang=lang, synthetic=synthetic)
        _footnote(ax, _inference_note(tidy, lang))
    return ax


def _term_label(term: str, lang: str) -> str:
    """``"sex[M]"`` (estimate's dummy names) -> "Mænd"; ``"age_at_start"`` -> its label."""
    dummy = re.fullmatch(r"(?P<var>[^\[]+)\[(?P<level>.*)\]", str(term))
    subgroup = dummy and re.fullmatch(r"(?P<var>[^=]+)=(?P<level>.*)", dummy["level"])
    if subgroup:  # estimate.participation_effect's "ATT[sex=F]"
        return display_name(subgroup["level"], variable=subgroup["var"], lang=lang)
    if dummy:
        return display_name(dummy["level"], variable=dummy["var"], lang=lang)
    if term == "ATT":
        return "Alle deltagere (ATT)" if lang == "da" else "All participants (ATT)"
    return display_name(term, variable="var", lang=lang)


def _covariate_label(term: str, lang: str) -> str:
    """``"sex[M]"`` -> "Køn: Mænd"; a plain covariate -> its label."""
    dummy = re.fullmatch(r"(?P<var>[^\[]+)\[(?P<level>.*)\]", str(term))
    if not dummy:
        return display_name(term, variable="var", lang=lang)
    variable = display_name(dummy["var"], variable="var", lang=lang)
    return f"{variable}: {display_name(dummy['level'], variable=dummy['var'], lang=lang)}"


def _inference_note(tidy: pd.DataFrame, lang: str) -> str:
    methods = tidy["inference"].dropna().unique() if "inference" in tidy.columns else []
    if len(methods) != 1:
        return _t(lang, "note.ci95")
    method = LABELS[lang].get(f"inference.{methods[0]}", str(methods[0]))
    return _t(lang, "note.ci95_method", method=method)


def balance(
    smd: pd.DataFrame,
    *,
    threshold: float = 0.1,
    ax: Axes | None = None,
    lang: Lang = "da",
    synthetic: bool = False,
    title: str | None = None,
) -> Axes:
    """Love plot: standardised mean differences before and after weighting.

    Open circles before, filled circles after, joined by a thin line; dashed lines at
    ``±threshold`` (0.1, the usual balance target).

    Parameters
    ----------
    smd : DataFrame
        ``covariate``, ``smd_before``, ``smd_after``; one row per covariate, top to
        bottom.
    threshold : float
        Where the dashed lines go.
    ax : Axes, optional
        Axes to draw on; a new figure when None.
    lang : {'da', 'en'}
        Language of all text.
    synthetic : bool
        Mark the figure "Syntetiske data".
    title : str, optional
        Title.

    Returns
    -------
    Axes

    Examples
    --------
    >>> smd = pd.DataFrame({"covariate": ["age_at_start", "sex"],
    ...                     "smd_before": [0.35, -0.2], "smd_after": [0.04, 0.01]})
    >>> ax = balance(smd, lang="en")
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['Before weighting', 'After weighting']
    >>> plt.close(ax.figure)
    """
    _check_columns(smd, ["covariate", "smd_before", "smd_after"], "smd")
    before = smd["smd_before"].to_numpy(dtype=float)
    after = smd["smd_after"].to_numpy(dtype=float)
    y = np.arange(len(smd))
    with _drawing(ax, lang) as ax:
        ax.axvline(0, color=_GREY, linewidth=0.8, zorder=0)
        for x in (-threshold, threshold):
            ax.axvline(x, color=_GREY, linewidth=0.8, linestyle=(0, (4, 3)), zorder=0)
        ax.hlines(y, before, after, color=_GREY, linewidth=0.8, zorder=1)
        ax.scatter(
            before,
            y,
            s=36,
            facecolors="white",
            edgecolors=PALETTE[1],
            linewidths=1.5,
            label=_t(lang, "legend.before"),
            zorder=2,
        )
        ax.scatter(after, y, s=36, color=PALETTE[0], label=_t(lang, "legend.after"), zorder=3)
        names = [_covariate_label(c, lang) for c in smd["covariate"]]
        ax.set_yticks(y, names)
        ax.set_ylim(len(smd) - 0.5, -0.5)
        reach = max(float(np.nanmax(np.abs(np.r_[before, after]))), threshold) * 1.2
        ax.set_xlim(-reach, reach)
        _decimal_axis(ax.xaxis, lang)
        ax.set_xlabel(_t(lang, "axis.smd"))
        ax.legend(
            loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2, borderaxespad=0.2, handletextpad=0.3
        )
        note = _t(lang, "note.threshold", t=_localise(f"{threshold:g}", lang))
        _header(
            ax,
            title or _t(lang, "title.balance"),
            [note],
            lang=lang,
            synthetic=synthetic,
            legend_above=True,
        )
    return ax


def overlap(
    propensity: Any,
    treated: Any,
    *,
    ax: Axes | None = None,
    lang: Lang = "da",
    synthetic: bool = False,
    title: str | None = None,
) -> Axes:
    """Densities of the propensity score among participants and the comparison group.

    Smoothed densities (seaborn ``kdeplot``, cut at 0 and 1) rather than histograms: the
    bins of a histogram in the tails would show counts of fewer than five persons.

    Parameters
    ----------
    propensity : array-like of float
        Estimated probability of participation, one per person, in [0, 1].
    treated : array-like of bool
        True (1) for participants, False (0) for the comparison group.
    ax : Axes, optional
        Axes to draw on; a new figure when None.
    lang : {'da', 'en'}
        Language of all text.
    synthetic : bool
        Mark the figure "Syntetiske data".
    title : str, optional
        Title.

    Returns
    -------
    Axes

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> ax = overlap(rng.beta(3, 2, 200), np.arange(200) < 80)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['Deltagere (n=80)', 'Sammenligningsgruppe (n=120)']
    >>> plt.close(ax.figure)
    """
    score = np.asarray(propensity, dtype=float).ravel()
    group = np.asarray(treated).ravel()
    if score.shape != group.shape:
        raise ValueError(
            f"`propensity` and `treated` must be equally long, not {score.size} and {group.size}."
        )
    if np.isnan(score).any() or (score < 0).any() or (score > 1).any():
        raise ValueError("`propensity` must hold probabilities in [0, 1] without missing values.")
    group = group.astype(bool)
    check_one_of("lang", lang, get_args(Lang))
    names = {
        True: f"{_t(lang, 'legend.participants')} (n={_num(group.sum(), lang)})",
        False: f"{_t(lang, 'legend.comparison')} (n={_num((~group).sum(), lang)})",
    }
    with _drawing(ax, lang) as ax:
        frame = pd.DataFrame({"score": score, "group": [names[g] for g in group]})
        sns.kdeplot(
            data=frame,
            x="score",
            hue="group",
            hue_order=[names[True], names[False]],
            palette=[PALETTE[0], PALETTE[1]],
            common_norm=False,
            fill=True,
            alpha=0.25,
            linewidth=1.5,
            clip=(0, 1),
            warn_singular=False,
            ax=ax,
        )
        if ax.get_legend() is not None:
            sns.move_legend(
                ax,
                "lower left",
                bbox_to_anchor=(0, 1.0),
                ncols=2,
                title=None,
                borderaxespad=0.2,
                frameon=False,
            )
        ax.set_xlim(0, 1)
        ax.set_xlabel(_t(lang, "axis.propensity"))
        ax.set_ylabel(_t(lang, "axis.density"))
        _decimal_axis(ax.xaxis, lang)
        _decimal_axis(ax.yaxis, lang)
        _header(
            ax,
            title or _t(lang, "title.overlap"),
            [],
            lang=lang,
            synthetic=synthetic,
            legend_above=True,
        )
    return ax


# --- dissemination ---------------------------------------------------------------------


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
    ax : Axes, optional
        Axes to draw on; a new figure when None.
    lang : {'da', 'en'}
        Language of all text.
    synthetic : bool
        Mark the figure "Syntetiske data".
    title : str, optional
        Title.

    Returns
    -------
    Axes

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
        raise ValueError(f"`ambassadors` has no dates in `{date_col}`.")
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
            _t(lang, "note.total", n=_num(total, lang)),
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
        ax.set_ylabel(_t(lang, "axis.ambassadors_cum"))
        _header(ax, title or _t(lang, "title.ambassadors"), [], lang=lang, synthetic=synthetic)
    return ax


def _month_locator(span: pd.Timedelta) -> mdates.MonthLocator:
    """Ticks chosen from the time span alone, so they do not move with the axes size."""
    months = span.days / 30.4
    step = next((s for s in (1, 2, 3, 4, 6) if months / s <= 7), 12)
    return mdates.MonthLocator(bymonth=range(1, 13, step) if step < 12 else (1,))


def _date_label(value: float, lang: str) -> str:
    date = mdates.num2date(value)
    return f"{_MONTHS[lang][date.month - 1]} {date.year}"


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
    ax : Axes, optional
        Axes to draw on; a new figure when None.
    lang : {'da', 'en'}
        Language of all text.
    synthetic : bool
        Mark the figure "Syntetiske data".
    title : str, optional
        Title; by default with the total.

    Returns
    -------
    Axes

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
            ax.annotate(
                f"n={_num(count, lang)}",
                (count, yi),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
                color=_DARK,
            )
        ax.set_yticks(y, [display_name(r, variable="region", lang=lang) for r in counts.index])
        ax.invert_yaxis()
        ax.set_xlim(0, max(int(counts.max()), 1) * 1.2)
        ax.set_xlabel(_t(lang, "axis.ambassadors"))
        default = f"{_t(lang, 'title.ambassadors_region')} (n={_num(int(counts.sum()), lang)})"
        _header(ax, title or default, [], lang=lang, synthetic=synthetic)
    return ax


# --- writing ----------------------------------------------------------------------------


@contextlib.contextmanager
def _frozen_layout(fig: Figure) -> Iterator[None]:
    """Lay the figure out once and keep the axes where they are while it is saved.

    A layout engine recomputes the axes positions on every draw, and the results wobble in
    the last bits with the previous draw (and with the format's resolution). SVG clip-path
    ids hash those positions, so the same figure could give different bytes. Here the
    layout is computed once, rounded to 1e-6 of the figure, and the engine is paused for
    the saves; it is restored afterwards.
    """
    engine = fig.get_layout_engine()
    if engine is None:
        yield
        return
    bounds: list[tuple[float, ...]] = []
    for _ in range(5):  # draw until the rounded layout repeats itself
        fig.draw_without_rendering()
        latest = [tuple(np.round(ax.get_position(original=True).bounds, 6)) for ax in fig.axes]
        if latest == bounds:
            break
        bounds = latest
    in_layout = {ax: ax.get_in_layout() for ax in fig.axes}
    for ax, box in zip(fig.axes, bounds, strict=True):
        ax.set_position(box)
    fig.set_layout_engine("none")
    try:
        yield
    finally:
        fig.set_layout_engine(engine)
        for ax, flag in in_layout.items():
            ax.set_in_layout(flag)


_METADATA: dict[str, dict[str, None]] = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"Creator": None, "Producer": None, "CreationDate": None},
}


def save_figure(
    fig: Figure,
    path_stem: str | os.PathLike[str],
    *,
    formats: Sequence[ImageFormat] = ("png", "svg"),
    dpi: int = 200,
) -> list[Path]:
    """Write a figure in each format, reproducibly: the same figure gives the same bytes.

    The files carry no software version or date (PNG ``Software``, SVG ``Date`` and
    ``Creator``, PDF ``Creator``, ``Producer`` and ``CreationDate`` are dropped), SVG
    element ids are salted with the file name instead of a random value, and the layout is
    computed once and held while all formats are written. Each file is written to a
    temporary name beside it and then moved into place, so a reader never sees half a
    file.

    Parameters
    ----------
    fig : Figure
        The figure.
    path_stem : path
        Where to write, without extension: ``outputs/figures/fig1`` gives
        ``fig1.png`` and ``fig1.svg``. Missing folders are made.
    formats : sequence of {'png', 'svg', 'pdf'}
        Formats to write.
    dpi : int
        Resolution of raster formats.

    Returns
    -------
    list of Path
        The files written, in the order of ``formats``.

    Examples
    --------
    >>> import tempfile
    >>> fig, ax = plt.subplots()
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = save_figure(fig, Path(tmp) / "figur")
    ...     [p.name for p in paths]
    ['figur.png', 'figur.svg']
    >>> plt.close(fig)
    """
    for fmt in formats:
        check_one_of("formats", fmt, get_args(ImageFormat))
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    with mpl.rc_context({"svg.hashsalt": stem.name}), _frozen_layout(fig):
        for fmt in formats:
            target = stem.with_name(f"{stem.name}.{fmt}")
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            try:
                with open(tmp, "wb") as handle:
                    fig.savefig(
                        handle,
                        format=fmt,
                        dpi=dpi,
                        metadata=_METADATA[fmt],
                        bbox_inches="tight",
                        pad_inches=0.08,
                    )
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
            written.append(target)
    return written
