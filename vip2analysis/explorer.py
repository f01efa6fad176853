"""The evaluators' explorer (``notebooks/06_explorer.ipynb``): choose, see, under the rule.

An evaluator picks a period, an outcome (ordinary employment, any employment, completed
the course), a denominator (courses with a known outcome, or completed ones), one or two
columns to split by and ``min_cell``; the explorer shows the table and the figure through
the same publishing path as the reports: the period's tables and the explorer's are
disclosed together (:func:`~vip2analysis.publish.period.disclose_period` with
:class:`~vip2analysis.publish.period.Explore`), then labelled and formatted. The clean
course table can be browsed (itables, offline), inside the lab only: nothing here is
written to a published folder.

The logic is here and tested here; the notebook only calls :class:`Explorer`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from vip2analysis.contract.parameters import MIN_CELL_FLOOR, check_parameter
from vip2analysis.contract.periods import load_periods, select_period
from vip2analysis.errors import DisclosureError, Vip2Error
from vip2analysis.io.processed import Processed, load_processed
from vip2analysis.publish.labels import Lang, display_name, label
from vip2analysis.publish.period import EXPLORE_OUTCOMES, GROUPS, Explore, disclose_period
from vip2analysis.publish.plot_outcomes import rates_by_group
from vip2analysis.publish.present import people_table, table_caption, table_html
from vip2analysis.stats.proportions import follow_up

__all__ = [
    "BY_CHOICES",
    "Choice",
    "Explorer",
    "browse",
    "explore_figure",
    "explore_table",
]


BY_CHOICES: tuple[str, ...] = (*GROUPS, "origin_group", "job_package")
"""Columns an evaluator may split by."""

_COMBINED = "gruppe"


@dataclass(frozen=True)
class Choice:
    """What the evaluator chose."""

    period: str = "method"
    outcome: str = "employed"
    denominator: str = "all"
    by: tuple[str, ...] = ("sex",)
    min_cell: int = 5


def _period_courses(data: Processed, period: str) -> pd.DataFrame:
    config = load_periods()
    courses = select_period(data.courses, period=period, config=config)
    return follow_up(courses, config[period].data_date)


def explore_table(courses: pd.DataFrame, choice: Choice) -> pd.DataFrame:
    """The explorer's table for ``choice``, disclosed with the period's own tables.

    ``courses`` are the period's courses (with ``running``). Columns as the published
    rate tables: the ``by`` columns, ``n``, ``events``, ``rate``, ``conf_low``,
    ``conf_high``, ``denominator_rule``; hidden cells as their marks.
    """
    check_parameter("min_cell", choice.min_cell)
    unknown = [c for c in choice.by if c not in BY_CHOICES]
    if unknown:
        raise ValueError(f"cannot split by {unknown}; choose from {', '.join(BY_CHOICES)}")
    explore = Explore(tuple(choice.by), choice.outcome, choice.denominator)
    return disclose_period(courses, k=choice.min_cell, explore=explore).table("udforsk")


def explore_figure(
    table: pd.DataFrame,
    choice: Choice,
    *,
    ax: Any = None,
    lang: Lang = "da",
    synthetic: bool = False,
) -> Any:
    """The explorer's table as bars with intervals and the n of every bar; two columns
    are drawn as one combined label ("Kvinder, 5+ år")."""
    frame = table.copy()
    group = choice.by[0]
    if len(choice.by) == 2:
        first, second = choice.by
        frame[_COMBINED] = [
            f"{display_name(a, variable=first, lang=lang)}, {display_name(b, variable=second, lang=lang)}"
            for a, b in zip(frame[first], frame[second], strict=True)
        ]
        frame = frame.drop(columns=list(choice.by))
        group = _COMBINED
    title = label(lang, f"explore.title.{choice.outcome}")
    return rates_by_group(
        frame, group=group, ax=ax, lang=lang, synthetic=synthetic, k=None, title=title
    )


def browse(courses: pd.DataFrame) -> Any:
    """The clean course table to browse in the lab (itables, offline: no network). For the
    lab only: it shows person-level rows and is never written to a published folder."""
    import itables

    itables.init_notebook_mode(connected=False)
    return itables.show(courses, maxBytes=0, lengthMenu=[10, 25, 100])


class Explorer:
    """The widgets of the explorer, wired to :func:`explore_table` and
    :func:`explore_figure`; ``.widget`` is what the notebook displays. A choice that cannot
    be shown (a cell the rule cannot protect, a share completed among completed courses)
    is said in the output, not raised."""

    def __init__(
        self,
        processed_dir: str | os.PathLike[str],
        *,
        lang: Lang = "da",
        choice: Choice = Choice(),
        live: bool = True,
    ) -> None:
        import ipywidgets as w

        self.data = load_processed(Path(processed_dir))
        self.lang = lang
        self._courses: dict[str, pd.DataFrame] = {}
        self.table: pd.DataFrame | None = None  # what is shown now (disclosed)
        self.problem: str | None = None  # or why nothing can be
        periods = load_periods()
        options = {
            "period": [(periods[n].label(lang), n) for n in periods.names],
            "outcome": [(label(lang, f"explore.outcome.{o}"), o) for o in EXPLORE_OUTCOMES],
            "denominator": [
                (label(lang, f"explore.denominator.{d}"), d) for d in ("all", "completed")
            ],
            "by": [(label(lang, f"var.{c}"), c) for c in BY_CHOICES],
        }
        none = [(label(lang, "explore.none"), "")]
        self.controls = {
            "period": w.Dropdown(
                options=options["period"],
                value=choice.period,
                description=label(lang, "explore.period"),
            ),
            "outcome": w.Dropdown(
                options=options["outcome"],
                value=choice.outcome,
                description=label(lang, "explore.outcome"),
            ),
            "denominator": w.Dropdown(
                options=options["denominator"],
                value=choice.denominator,
                description=label(lang, "explore.denominator"),
            ),
            "by1": w.Dropdown(
                options=options["by"], value=choice.by[0], description=label(lang, "explore.by1")
            ),
            "by2": w.Dropdown(
                options=none + options["by"],
                value=choice.by[1] if len(choice.by) > 1 else "",
                description=label(lang, "explore.by2"),
            ),
            "min_cell": w.IntSlider(
                value=choice.min_cell, min=MIN_CELL_FLOOR, max=20, description="min_cell"
            ),
        }
        self.output = w.Output()
        if live:  # every change redraws; live=False leaves that to render()
            for control in self.controls.values():
                control.observe(self._changed, names="value")
        self.widget = w.VBox(
            [
                w.HBox(list(self.controls.values())[:3]),
                w.HBox(list(self.controls.values())[3:]),
                self.output,
            ]
        )
        self.render()

    @property
    def choice(self) -> Choice:
        c = {name: control.value for name, control in self.controls.items()}
        by = tuple(v for v in (c["by1"], c["by2"]) if v and v != "")
        return Choice(
            c["period"], c["outcome"], c["denominator"], tuple(dict.fromkeys(by)), c["min_cell"]
        )

    def courses(self, period: str) -> pd.DataFrame:
        """The period's clean courses (with ``running``)."""
        if period not in self._courses:
            self._courses[period] = _period_courses(self.data, period)
        return self._courses[period]

    def _changed(self, _change: Any) -> None:
        self.render()

    def render(self) -> None:
        """Recompute and show the table and the figure for the current choice."""
        import matplotlib.pyplot as plt
        from IPython.display import HTML, display

        choice = self.choice
        self.output.clear_output(wait=True)
        with self.output:
            try:
                table = explore_table(self.courses(choice.period), choice)
            except (ValueError, Vip2Error) as exc:  # a choice that cannot be: said, no traceback
                self.table, self.problem = None, str(exc)
                why = "unprotectable" if isinstance(exc, DisclosureError) else "invalid"
                text = label(self.lang, f"explore.{why}")
                display(HTML(f"<p><b>{label(self.lang, 'explore.cannot')}</b> {text}</p>"))
                return
            self.table, self.problem = table, None
            shown = people_table(table, lang=self.lang)
            caption = table_caption("udforsk", self.lang, synthetic=self.data.synthetic)
            marks = label(self.lang, "table.marks", k=choice.min_cell, k1=choice.min_cell - 1)
            display(HTML(table_html(shown, caption=caption, note=marks)))
            height = 0.45 * len(table) + 1.8
            _, ax = plt.subplots(figsize=(7, height))
            explore_figure(table, choice, ax=ax, lang=self.lang, synthetic=self.data.synthetic)
            plt.show()
