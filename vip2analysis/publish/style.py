"""House style for figures: one palette, Danish or English labels, axes in and axes out.

Every plot helper takes its data first and everything else keyword-only, draws on ``ax``
(a new figure when None) and returns the axes. None of them shows or saves anything:
:func:`save_figure` is the one place that writes figures, and it writes them
byte-for-byte reproducibly.

The conventions every figure follows:

* one colour-blind-safe palette (:data:`PALETTE`, Okabe & Ito) and one set of font sizes
  (:data:`STYLE`), applied while a helper draws;
* titles, axis labels and category names in Danish by default, English with
  ``lang="en"``, all from one label file (``contract/labels.yaml``);
* the number of persons behind every bar, 95% intervals as error bars;
* ``"Syntetiske data"`` on the figure when ``synthetic=True``; ``"Forskelle mellem
  deltagere, ikke effekter"`` on comparisons among participants (``causal=False``);
* counts and rates pass through :mod:`vip2analysis.publish.disclosure` first (``k=5`` by
  default); a suppressed value is drawn as an empty, dashed bar marked ``"<5"`` or ``"x"``.
"""

from __future__ import annotations

import contextlib
import os
import textwrap
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, get_args

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from vip2analysis.contract.schema import OUTCOMES
from vip2analysis.errors import MissingColumnError, check_one_of
from vip2analysis.publish.format import localise, number, percent
from vip2analysis.publish.labels import Lang, label

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

_F = TypeVar("_F", bound=Callable[..., Any])

__all__ = [
    "PALETTE",
    "STYLE",
    "ImageFormat",
    "figure_docs",
    "house_style",
    "save_figure",
    "set_style",
]


ImageFormat = Literal["png", "svg", "pdf"]
"""Formats :func:`save_figure` writes."""


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


STYLE: dict[RcKeyType, Any] = {
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


_SUPPRESSED_BAR = {"fill": False, "edgecolor": _GREY, "linestyle": (0, (3, 2)), "linewidth": 0.9}


def _n_text(n: Any, lang: str, k: int | None) -> str:
    if pd.isna(n):
        return f"n<{k}" if k else "n=?"
    return f"n={number(float(n), lang)}"


def _percent_axis(axis: Any, lang: str) -> None:
    axis.set_major_formatter(ticker.FuncFormatter(lambda x, _: percent(x, lang)))


def _decimal_axis(axis: Any, lang: str, *, scale: float = 1.0) -> None:
    """Tick labels with at most two decimals, trailing zeros dropped, in the language."""

    def fmt(x: float, _: Any) -> str:
        text = f"{x * scale:.2f}".rstrip("0").rstrip(".")
        return localise("0" if text in ("-0", "") else text, lang)

    axis.set_major_formatter(ticker.FuncFormatter(fmt))


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
        parts.append(label(lang, "note.synthetic"))
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


_FOOTNOTE_WIDTH = 75
"""Characters per line of a figure's footnote."""


def _footnote(ax: Axes, text: str) -> None:
    """A small note under the x-axis label, left-aligned with the axes.

    It is placed relative to the label as last drawn, so the layout takes a draw or two
    to settle; :func:`save_figure` draws until it has.
    """
    # wrapped: a long note (hidden covariates, say) must not widen the figure until the
    # axes collapse
    text = "\n".join(textwrap.fill(line, _FOOTNOTE_WIDTH) for line in text.split("\n"))
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
        raise MissingColumnError(
            f"`{what}` lacks the column(s) {absent}; it has {list(data.columns)}."
        )


def _total_text(total: Any, lang: str) -> str:
    """``n=313``, or ``n<5`` when the total itself is suppressed."""
    if isinstance(total, str):
        return f"n{total}" if total.startswith("<") else f"n={total}"
    return f"n={number(total, lang)}"


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
        note = label(lang, "note.suppressed", marker=marker)
        if horizontal:
            _bar_label(ax, note, (x, y + h / 2))
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
    bounds: list[tuple[float, float, float, float]] = []  # (x0, y0, width, height)
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


_DOC_PARTS = {
    "figure_params": """ax : Axes, optional
    Axes to draw on; a new figure when None.
lang : {'da', 'en'}
    Language of all text.
synthetic : bool
    Mark the figure "Syntetiske data".""",
    "returns_axes": """Returns
-------
Axes""",
}


def figure_docs(func: _F) -> _F:
    """Fill the shared parts (``{figure_params}``, ``{returns_axes}``) of a plot helper's
    numpydoc docstring, so that every figure function documents them in the same words."""
    doc = func.__doc__ or ""
    for name, text in _DOC_PARTS.items():
        doc = doc.replace("{" + name + "}", textwrap.indent(text, "    ").lstrip())
    func.__doc__ = doc
    return func


def _bar_label(ax: Axes, text: str, xy: tuple[Any, Any]) -> None:
    """Write ``text`` just right of the end of a horizontal bar (its n, share or marker)."""
    ax.annotate(
        text,
        xy,
        xytext=(4, 0),
        textcoords="offset points",
        va="center",
        ha="left",
        fontsize=8,
        color=_DARK,
    )
