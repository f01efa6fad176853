"""The few calls a notebook makes to set itself up, so that every notebook starts the same way.

A notebook's settings cell is one call::

    nb = notebook.start(period=period, processed_dir=processed_dir,
                        output_dir=output_dir, lang=lang, min_cell=min_cell)

It loads the periods config and the processed data, selects the period's courses, opens
a :class:`~vip2analysis.publish.tables.Publisher` on ``output_dir``, applies the house
style and shows the period line (with the "syntetiske data" notice when the data are
synthetic, and the small-period notice when the period has fewer than ``min_cell``
courses).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from vip2analysis.config import OUTPUTS
from vip2analysis.contract.parameters import check_parameter
from vip2analysis.contract.periods import PeriodConfig, load_periods, select_period
from vip2analysis.errors import MissingDataError
from vip2analysis.io.processed import Processed, load_processed
from vip2analysis.publish.format import number
from vip2analysis.publish.labels import Lang, label
from vip2analysis.publish.period import PeriodTables, disclose_period
from vip2analysis.publish.present import model_note, result_html
from vip2analysis.publish.style import set_style
from vip2analysis.publish.tables import Publisher
from vip2analysis.register.pipeline import effect_inputs, register_options
from vip2analysis.stats.proportions import follow_up
from vip2analysis.stats.register import REGISTER_COLUMNS, with_register

__all__ = ["BREAKDOWNS", "Session", "lab_dir", "start"]


BREAKDOWNS: tuple[str, ...] = (
    "sex",
    "age_at_start",
    "origin_group",
    "origin_region",
    "duration_band",
    "residence_basis",
)
"""Person columns the notebooks break down or adjust by, and that a sender's files may
lack altogether (sex and age when ids were pseudonymised elsewhere without a sex or a
birth date column; origin or duration when a file has no such column)."""


def _render_results(lang: Lang) -> None:
    """Estimation results display as HTML in the session's language (their ``summary()``
    stays the plain-text view for a console)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - the core install has no IPython
        return
    shell = get_ipython()
    if shell is None:
        return
    html = shell.display_formatter.formatters["text/html"]
    for module, name in (
        ("vip2analysis.stats.adjusted", "AdjustedDifferences"),
        ("vip2analysis.stats.effects", "ParticipationEffect"),
    ):
        html.for_type_by_name(module, name, functools.partial(result_html, lang=lang))


def _show(text: str, metadata: dict[str, Any] | None = None) -> None:
    from IPython.display import Markdown, display  # present wherever a kernel runs

    display(Markdown(text), metadata=metadata)  # type: ignore[no-untyped-call]  # IPython is unannotated


@dataclass
class Session:
    """What a notebook works with after :func:`start`."""

    config: PeriodConfig
    data: Processed
    courses: pd.DataFrame
    pub: Publisher
    period: str
    lang: str
    min_cell: int
    show: bool = True

    @functools.cached_property
    def tables(self) -> PeriodTables:
        """Every course table of the period, disclosed together (computed once)."""
        return disclose_period(self.courses, k=self.min_cell)

    def use_register(self, outcomes: pd.DataFrame) -> None:
        """Measure the courses with these register outcomes (e.g. another gap ``k``): the
        period's tables are disclosed again with them."""
        self.courses = with_register(
            self.courses.drop(columns=[*REGISTER_COLUMNS, "register_employed"], errors="ignore"),
            outcomes,
        )
        self.__dict__.pop("tables", None)

    def register_inputs(self, gap: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The register outcomes of the courses and the comparison sample for a gap ``k``.

        With the gap ``vip2 clean`` used, the processed files as they are; with another gap
        (a sensitivity run), both are measured again from the register, and the period's
        courses and tables with them.
        """
        check_parameter("gap", gap)
        if self.data.folder is None or not self.data.has_register:
            raise MissingDataError("no register outcomes: clean a DREAM extract first")
        if gap == register_options(self.data.accounting)["gap"]:
            assert self.data.register_outcomes is not None
            assert self.data.comparison_register is not None
            return self.data.register_outcomes, self.data.comparison_register
        outcomes, comparisons = effect_inputs(self.data.folder, gap=gap)
        self.use_register(outcomes)
        return outcomes, comparisons

    @property
    def enough(self) -> bool:
        """True when the period has at least ``min_cell`` courses to show."""
        return len(self.courses) >= self.min_cell

    def intro(self) -> list[str]:
        """The Markdown paragraphs that open the notebook's output."""
        period = self.config[self.period]
        n = len(self.courses)
        # the period's own disclosed total, so the opening line shows what its tables show
        shown = (
            self.tables.register.shown_value(self.tables.register.key())
            if n >= self.min_cell
            else f"<{self.min_cell}"
        )
        lines = [
            label(
                self.lang,
                "notebook.period",
                period=period.label(self.lang),
                start=period.start,
                end=period.end,
                courses=shown,
            )
            + (f"  \n{label(self.lang, 'notebook.synthetic')}" if self.data.synthetic else "")
        ]
        if self.data.accounting.get("ids") == "pseudonymised":
            lines.append(label(self.lang, "notebook.pseudonymised"))
        if self.missing:
            lines.append(label(self.lang, "notebook.missing", columns=self._names(self.missing)))
        if not self.enough:
            lines.append(label(self.lang, "notebook.too_few", k=self.min_cell))
        elif self.few_ended:
            lines.append(label(self.lang, "notebook.few_ended", date=period.data_date))
        return lines

    @functools.cached_property
    def missing(self) -> tuple[str, ...]:
        """The :data:`BREAKDOWNS` with no value at all in the period's courses."""
        courses = self.courses
        if courses.empty:
            return ()
        return tuple(c for c in BREAKDOWNS if c not in courses or courses[c].isna().all())

    def usable(
        self,
        columns: Iterable[str],
        *frames: pd.DataFrame | None,
        use: Literal["figure", "model"] = "figure",
    ) -> list[str]:
        """``columns`` without those that hold no value (in the courses, and in each of
        ``frames``, e.g. the comparison group); the notebook says which were left out and
        that their figures cannot be made (``use="figure"``) or that the model goes
        without them (``use="model"``)."""
        columns = list(columns)
        dropped = [c for c in columns if c in self.missing]
        for frame in frames:
            if frame is not None and len(frame):
                dropped += [
                    c
                    for c in columns
                    if c not in dropped and (c not in frame or frame[c].isna().all())
                ]
        if dropped and self.show:
            _show(label(self.lang, f"notebook.missing_{use}", columns=self._names(dropped)))
        return [c for c in columns if c not in dropped]

    def _names(self, columns: Iterable[str]) -> str:
        return ", ".join(label(self.lang, f"var.{c}").lower() for c in columns)

    def text(self, key: str, **fields: Any) -> str:
        """The notebook text ``notebook.<key>`` in the session's language."""
        return label(self.lang, f"notebook.{key}", **fields)

    def say(self, key: str, **fields: Any) -> None:
        """Show the notebook text ``notebook.<key>`` of the label data, in the session's
        language (a notebook holds no prose of its own in code)."""
        if self.show:
            _show(label(self.lang, f"notebook.{key}", **fields))

    def note(self, message: Any) -> None:
        """Show a model's warning as a note, in the session's language (:func:`model_note`);
        the warning as the library gave it stays in the output's metadata (``vip2.warning``)
        of the executed notebook."""
        if self.show:
            text = model_note(str(message), "en" if self.lang == "en" else "da")
            _show(label(self.lang, "notebook.note", text=text), {"vip2": {"warning": str(message)}})

    def number(self, value: Any) -> str:
        """A count as this report writes it (thousands separator), or a mark as it is."""
        if pd.api.types.is_number(value) and not isinstance(value, bool):
            return number(float(value), self.lang)
        return str(value)

    @property
    def few_ended(self) -> bool:
        """Fewer than half of the period's courses had ended by its data date: the rates
        are provisional (said at the top of every report and on the index)."""
        running = self.courses.get("running")
        return running is not None and len(self.courses) > 0 and running.mean() > 0.5


def lab_dir(period: str, name: str, lang: str = "da") -> Path:
    """Where a run in the lab writes when no ``output_dir`` is given:
    ``outputs/lab/<period>/<notebook>`` (``outputs/lab/en/...`` in English), never a
    published folder.

    >>> lab_dir("extension2", "02_outcomes").relative_to(OUTPUTS).as_posix()
    'lab/extension2/02_outcomes'
    """
    return OUTPUTS / "lab" / ("en" if lang == "en" else "") / period / name


def start(
    *,
    period: str,
    processed_dir: str | os.PathLike[str],
    output_dir: str | os.PathLike[str] = "",
    name: str = "notebook",
    lang: str = "da",
    min_cell: int = 5,
    show: bool = True,
) -> Session:
    """Load what a notebook needs for ``period`` and show the period line.

    Parameters
    ----------
    period : str
        A period name of the periods config (``method``, ``extension1``, ...).
    processed_dir, output_dir : path
        Where ``vip2 clean`` wrote the processed data, and where this notebook writes.
        An empty ``output_dir`` (a person running the notebook) writes to
        :func:`lab_dir`, so that exploring never touches published outputs; ``vip2
        build`` passes the published folder.
    name : str
        The notebook's name (``"02_outcomes"``), for its lab folder.
    lang : {"da", "en"}
        Language of the period label.
    min_cell : int
        Smallest number of persons a published cell may show.
    show : bool
        Display the opening paragraphs (in a notebook); False returns silently.
    """
    check_parameter("lang", lang)
    check_parameter("min_cell", min_cell)
    config = load_periods()
    data_date = config[period].data_date  # an unknown period fails here, naming the known ones
    data = load_processed(processed_dir)
    if not str(output_dir):
        output_dir = lab_dir(period, name, lang)
    session = Session(
        config=config,
        data=data,
        courses=with_register(
            follow_up(select_period(data.courses, period=period, config=config), data_date),
            data.register_outcomes,
        ),
        pub=Publisher(
            Path(output_dir),
            synthetic=data.synthetic,
            lang="en" if lang == "en" else "da",
            min_cell=min_cell,
        ),
        period=period,
        lang=lang,
        min_cell=min_cell,
        show=show,
    )
    set_style()
    pd.set_option("display.max_columns", 20)
    _render_results(session.pub.lang)
    if show:
        for paragraph in session.intro():
            _show(paragraph)
    return session
