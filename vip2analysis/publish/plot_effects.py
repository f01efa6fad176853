"""Figures of estimates: forest plots, covariate balance and propensity overlap."""

from __future__ import annotations

from typing import Any, get_args

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from vip2analysis.errors import DataError, ParameterError, check_one_of
from vip2analysis.publish.format import localise, number
from vip2analysis.publish.labels import LABELS, Lang, label
from vip2analysis.publish.present import term_text
from vip2analysis.publish.style import (
    _GREY,
    PALETTE,
    _check_columns,
    _decimal_axis,
    _drawing,
    _footnote,
    _header,
    _n_text,
    _total_text,
    figure_docs,
)
from vip2analysis.stats.tidy import inference_code

__all__ = [
    "balance",
    "forest",
    "overlap",
]


@figure_docs
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
        term ``"sex[M]"`` is named against its ``reference`` level when the table has that
        column ("Mænd vs. kvinder"), else with its variable ("Køn: Mænd"); a subgroup
        ``"ATT[sex=F]"`` by its level ("Kvinder"). A model's n is said once, in the
        footnote; a published effect table's rows each show their own n.
    {figure_params}
    title : str, optional
        Title.
    causal : bool
        True for effects of participation estimated against a comparison group; False
        (the default) says on the figure that these are differences among participants.

    {returns_axes}

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
    published = "n_treated" in tidy.columns  # a published effect table (publish_effects)
    _check_columns(
        tidy,
        ["term", "estimate", "conf_low", "conf_high", "n_treated" if published else "n"],
        "tidy",
    )
    hidden = tidy["estimate"].map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    number_or_nan = {
        c: tidy[c].where(~hidden, np.nan).astype(float).to_numpy()
        for c in ("estimate", "conf_low", "conf_high")
    }
    est, low, high = (number_or_nan[c] for c in ("estimate", "conf_low", "conf_high"))
    y = np.arange(len(tidy))
    with _drawing(ax, lang) as ax:
        ax.axvline(0, color=_GREY, linewidth=0.8, zorder=0)
        for yi, marker in zip(y[hidden], tidy["estimate"][hidden], strict=True):
            ax.annotate(
                label(lang, "note.suppressed", marker=marker),
                (0, yi),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
                color=_GREY,
            )
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
        references = tidy["reference"] if "reference" in tidy else [None] * len(tidy)
        names = [term_text(str(t), lang, r) for t, r in zip(tidy["term"], references, strict=True)]
        if published:  # each row rests on its own participants and comparison persons
            labels = [
                f"{name} ({_total_text(nt, lang)} / {_total_text(nc, lang)})"
                for name, nt, nc in zip(names, tidy["n_treated"], tidy["n_comparison"], strict=True)
            ]
        else:  # one model: its n once, in the footnote
            labels = names
        ax.set_yticks(y, labels)
        ax.set_ylim(len(tidy) - 0.5, -0.5)
        reach = float(np.nanmax(np.abs(np.r_[low, high, 0.01]))) * 1.15
        ax.set_xlim(-reach, reach)
        _decimal_axis(ax.xaxis, lang, scale=100)
        ax.set_xlabel(label(lang, "axis.pp"))
        notes = [] if causal else [label(lang, "note.not_effects")]
        default = label(lang, "title.forest_causal" if causal else "title.forest")
        _header(ax, title or default, notes, lang=lang, synthetic=synthetic)
        note = _inference_note(tidy, lang)
        if published:
            note = f"{note}. {label(lang, 'note.n_pair')}"
        elif len(tidy):
            n = tidy["n"].iloc[0]
            note = (
                f"{note}. {_total_text(n, lang) if isinstance(n, str) else _n_text(n, lang, None)}"
            )
        _footnote(ax, note)
    return ax


def _inference_note(tidy: pd.DataFrame, lang: str) -> str:
    methods = tidy["inference"].dropna().unique() if "inference" in tidy.columns else []
    if len(methods) != 1:
        return label(lang, "note.ci95")
    method = LABELS[lang].get(f"inference.{inference_code(methods[0])}", str(methods[0]))
    return label(lang, "note.ci95_method", method=method)


@figure_docs
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
    {figure_params}
    title : str, optional
        Title.

    {returns_axes}

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
    marked = smd["smd_before"].map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    hidden = smd.loc[marked]  # a published table hides rows that rest on too few persons
    smd = smd.loc[~marked]
    before = smd["smd_before"].to_numpy(dtype=float)
    after = smd["smd_after"].to_numpy(dtype=float)
    y = np.arange(len(smd))
    with _drawing(ax, lang) as ax:
        if len(hidden):
            hidden_names = ", ".join(
                term_text(c, lang, per_unit=False) for c in hidden["covariate"]
            )
            marker = str(hidden["smd_before"].iloc[0])
            _footnote(ax, f"{label(lang, 'note.suppressed', marker=marker)}: {hidden_names}")
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
            label=label(lang, "legend.before"),
            zorder=2,
        )
        ax.scatter(after, y, s=36, color=PALETTE[0], label=label(lang, "legend.after"), zorder=3)
        names = [term_text(c, lang, per_unit=False) for c in smd["covariate"]]
        ax.set_yticks(y, names)
        ax.set_ylim(len(smd) - 0.5, -0.5)
        reach = max(float(np.nanmax(np.abs(np.r_[before, after]))), threshold) * 1.2
        ax.set_xlim(-reach, reach)
        _decimal_axis(ax.xaxis, lang)
        ax.set_xlabel(label(lang, "axis.smd"))
        ax.legend(
            loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2, borderaxespad=0.2, handletextpad=0.3
        )
        note = label(lang, "note.threshold", t=localise(f"{threshold:g}", lang))
        _header(
            ax,
            title or label(lang, "title.balance"),
            [note],
            lang=lang,
            synthetic=synthetic,
            legend_above=True,
        )
    return ax


@figure_docs
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
    {figure_params}
    title : str, optional
        Title.

    {returns_axes}

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
        raise ParameterError(
            f"`propensity` and `treated` must be equally long, not {score.size} and {group.size}."
        )
    if np.isnan(score).any() or (score < 0).any() or (score > 1).any():
        raise DataError("`propensity` must hold probabilities in [0, 1] without missing values.")
    group = group.astype(bool)
    check_one_of("lang", lang, get_args(Lang))
    names = {
        True: f"{label(lang, 'legend.participants')} (n={number(group.sum(), lang)})",
        False: f"{label(lang, 'legend.comparison')} (n={number((~group).sum(), lang)})",
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
        ax.set_xlabel(label(lang, "axis.propensity"))
        ax.set_ylabel(label(lang, "axis.density"))
        _decimal_axis(ax.xaxis, lang)
        _decimal_axis(ax.yaxis, lang)
        _header(
            ax,
            title or label(lang, "title.overlap"),
            [],
            lang=lang,
            synthetic=synthetic,
            legend_above=True,
        )
    return ax


@figure_docs
def lock_in(
    table: pd.DataFrame,
    *,
    ax: Axes | None = None,
    lang: Lang = "da",
    synthetic: bool = False,
    title: str | None = None,
) -> Axes:
    """Weekly share in ordinary employment around the start week: participants and the
    weighted comparison group, with 95% intervals; the course weeks show the lock-in.

    Parameters
    ----------
    table : DataFrame
        A published lock-in table (:func:`~vip2analysis.publish.period.publish_lock_in`):
        ``group``, ``week``, ``n``, ``rate``, ``conf_low``, ``conf_high``; a week the
        table hides (no rate) is a gap in the line.
    {figure_params}
    title : str, optional
        Title.

    {returns_axes}

    Examples
    --------
    >>> t = pd.DataFrame({"group": ["participants"] * 3 + ["comparison"] * 3,
    ...                   "week": [-1, 0, 1] * 2, "n": [50] * 6,
    ...                   "rate": [0.1, 0.0, 0.2, 0.1, 0.1, 0.15],
    ...                   "conf_low": [0.05] * 6, "conf_high": [0.3] * 6})
    >>> ax = lock_in(t)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['Deltagere (n=50)', 'Sammenligningsgruppe, vægtet (n=50)']
    >>> plt.close(ax.figure)
    """
    _check_columns(table, ["group", "week", "n", "rate", "conf_low", "conf_high"], "lock_in")
    with _drawing(ax, lang) as ax:
        for colour, group, key in (
            (PALETTE[0], "participants", "legend.participants"),
            (PALETTE[1], "comparison", "legend.comparison_weighted"),
        ):
            mine = table.loc[table["group"] == group]
            week = pd.to_numeric(mine["week"])
            counts = pd.to_numeric(mine["n"], errors="coerce")
            n = int(counts.max()) if counts.notna().any() else 0
            rate = pd.to_numeric(mine["rate"], errors="coerce")
            ax.plot(
                week,
                rate,
                color=colour,
                linewidth=1.6,
                label=f"{label(lang, key)} (n={number(n, lang)})",
            )
            ax.fill_between(
                week,
                pd.to_numeric(mine["conf_low"], errors="coerce"),
                pd.to_numeric(mine["conf_high"], errors="coerce"),
                color=colour,
                alpha=0.18,
                linewidth=0,
            )
        ax.axvline(0, color=_GREY, linewidth=1, linestyle="--")
        weeks = pd.to_numeric(table["week"])
        ax.set_xlim(weeks.min(), weeks.max())
        ax.set_xlabel(label(lang, "axis.weeks_from_start"))
        ax.set_ylabel(label(lang, "axis.share_ordinary_week"))
        ax.set_ylim(bottom=0)
        _decimal_axis(ax.yaxis, lang, scale=100)
        ax.legend(loc="upper left", frameon=False)
        _header(
            ax,
            title or label(lang, "title.lock_in"),
            [label(lang, "note.lock_in")],
            lang=lang,
            synthetic=synthetic,
        )
    return ax
