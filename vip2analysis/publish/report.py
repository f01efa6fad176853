"""The period's Word report, ``outputs/<period>/rapport_<period>.docx``: what an evaluator
hands to a client.

Built by ``vip2 build`` after a period's notebooks, from what the period published and
nothing else, so that it shows exactly the disclosed tables and figures:

- a title page with the period, the data date, the data source ("syntetiske data" when
  they are) and the build id;
- the headline figures (the period's ``noegletal``);
- every published table and figure in notebook order, numbered ("Tabel 3", "Figur 5")
  with a caption, tables as people read them (:mod:`vip2analysis.publish.present`);
- a methods appendix (``contract/data/report.yaml``): rates and their denominators, the
  estimators and their assumptions, few-cluster inference, disclosure control.

Deterministic: fixed core properties and no timestamps, and the zip written with fixed
times (:func:`~vip2analysis.io.files.normalise_zip`): same inputs, same bytes.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pandas as pd

from vip2analysis.contract.labels import load_report_text
from vip2analysis.io.files import save_office
from vip2analysis.publish.labels import Lang, label
from vip2analysis.publish.present import (
    has_marks,
    looks_numeric,
    model_table,
    people_table,
    table_note,
    table_title,
)
from vip2analysis.publish.workbook import PeriodItem, period_contents

__all__ = [
    "LONG_TABLE_ROWS",
    "MODEL_TABLES",
    "write_report",
]


MODEL_TABLES = frozenset({"justerede_forskelle"})
LONG_TABLE_ROWS = 60
"""A table with more rows (the lock-in profile, week by week) is not printed in the report:
its caption says where it is (the workbook and the CSV), and its figure follows."""
"""Published tables that are a model's tidy rows: shown in the regression-table layout."""

_FIXED_TIME = dt.datetime(2000, 1, 1)
_FIGURE_WIDTH_CM = 15.5
_TEXT_WIDTH_CM = 17.0  # A4 with 2 cm margins


def _caption(doc: Any, text: str) -> None:
    para = doc.add_paragraph(text, style="Caption")
    para.paragraph_format.keep_with_next = True


def _table(doc: Any, frame: pd.DataFrame) -> None:
    """A people's table (all text) as a Word table: header row bold, numbers right."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    table = doc.add_table(rows=1, cols=len(frame.columns))
    table.style = "Light List Accent 1"
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    table.autofit = False
    for cell, name in zip(table.rows[0].cells, frame.columns, strict=True):
        cell.text = str(name)
    numeric = [looks_numeric(frame[c]) for c in frame.columns]
    for values in frame.itertuples(index=False):
        cells = table.add_row().cells
        for cell, value, right in zip(cells, values, numeric, strict=True):
            cell.text = str(value)
            if right:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    widths = _widths(frame)
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width  # the grid, which LibreOffice reads
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width
            for para in cell.paragraphs:
                for run in para.runs:
                    run.font.size = Pt(8.5)


def _widths(frame: pd.DataFrame) -> list[Any]:
    """Column widths: every column as wide as its longest header word and its short values
    need, the rest of the text width to the columns of longer text (which wrap)."""
    from docx.shared import Cm

    per_char, pad = 0.19, 0.4  # cm at 8.5 pt
    least, want = [], []
    for name in frame.columns:
        word = max((len(w) for w in str(name).split()), default=4)
        value = max((len(str(v)) for v in frame[name]), default=0)
        least.append(per_char * max(word, min(value, 12), 3) + pad)
        want.append(per_char * max(word, min(value, 70), 3) + pad)
    if sum(want) <= _TEXT_WIDTH_CM:
        return [Cm(w) for w in want]
    if sum(least) >= _TEXT_WIDTH_CM:  # a wide table: every column narrower, alike
        return [Cm(m * _TEXT_WIDTH_CM / sum(least)) for m in least]
    spare = max(_TEXT_WIDTH_CM - sum(least), 0.0)
    extra = [w - m for w, m in zip(want, least, strict=True)]
    total = sum(extra) or 1.0
    return [Cm(m + spare * e / total) for m, e in zip(least, extra, strict=True)]


def _shown(period_dir: Path, item: PeriodItem, lang: Lang) -> tuple[pd.DataFrame, str, bool]:
    """A published table as people read it, its note, and whether it holds marks."""
    frame = pd.read_csv(period_dir / item.path, keep_default_na=False, dtype=str)
    if item.name in MODEL_TABLES:
        return model_table(frame, lang=lang), "", has_marks(frame)
    return people_table(frame, lang=lang), table_note(frame, lang), has_marks(frame)


def write_report(
    period_dir: str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    period: Any,
    build_id: str,
    lang: Lang = "da",
    k: int = 5,
) -> Path | None:
    """Write the period's Word report (see the module docstring); None when the period
    published nothing.

    ``period`` is the period's entry of the periods config (label, start, end,
    data_date); ``build_id`` names the build from its inputs (the same inputs give the same
    id, so that the document stays byte-identical); ``k`` is the disclosure threshold the
    appendix and the notes explain.
    """
    from docx import Document
    from docx.enum.text import WD_BREAK
    from docx.shared import Cm, Pt

    period_dir = Path(period_dir)
    items = period_contents(period_dir)
    if not items:
        return None
    text = load_report_text()[lang]
    synthetic = any(
        "data" in pd.read_csv(period_dir / i.path, nrows=0).columns
        for i in items
        if i.kind == "table"
    )
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)  # A4
    section.left_margin = section.right_margin = Cm(2.0)
    section.top_margin = section.bottom_margin = Cm(2.0)
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(10.5)

    # title page
    doc.add_heading(text["title"], level=0)
    doc.add_paragraph(
        text["subtitle"].format(period=period.label(lang), start=period.start, end=period.end)
    ).runs[0].bold = True
    doc.add_paragraph(text["data_date"].format(date=period.data_date))
    source = doc.add_paragraph(text["source_synthetic" if synthetic else "source"])
    if synthetic:
        source.runs[0].bold = True
    doc.add_paragraph(text["build"].format(run_id=build_id))
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    n_table = n_figure = 0
    headline = next((i for i in items if i.kind == "table" and i.name == "noegletal"), None)
    if headline is not None:
        doc.add_heading(text["headline"], level=1)
        doc.add_paragraph(text["headline_text"])
        n_table += 1
        _caption(doc, f"{text['table'].format(n=n_table)}. {table_title('noegletal', lang)}")
        frame, _, _ = _shown(period_dir, headline, lang)
        _table(doc, frame)

    current = None
    for item in items:
        if item == headline:
            continue
        if item.notebook != current:
            current = item.notebook
            doc.add_heading(text["sections"].get(current, current), level=1)
        title = table_title(item.name, lang)
        if item.kind == "table":
            n_table += 1
            _caption(doc, f"{text['table'].format(n=n_table)}. {title}")
            frame, note, marked = _shown(period_dir, item, lang)
            if len(frame) > LONG_TABLE_ROWS:
                doc.add_paragraph(text["long_table"].format(rows=len(frame)))
                continue
            _table(doc, frame)
            marks = label(lang, "table.marks", k=k, k1=k - 1) if marked else ""
            if note or marks:
                doc.add_paragraph(" ".join(x for x in (note, marks) if x)).runs[0].font.size = Pt(8)
        else:
            n_figure += 1
            doc.add_picture(str(period_dir / item.path), width=Cm(_FIGURE_WIDTH_CM))
            _caption(doc, f"{text['figure'].format(n=n_figure)}. {title}")

    doc.add_page_break()
    doc.add_heading(text["methods"], level=1)
    for part in text["appendix"]:
        doc.add_heading(part["heading"], level=2)
        doc.add_paragraph(part["text"].format(k=k, k1=k - 1))

    props = doc.core_properties
    props.title = f"{text['title']} – {period.label(lang)}"
    props.author = props.last_modified_by = "vip2analysis"
    props.created = props.modified = props.last_printed = _FIXED_TIME
    props.revision = 1
    props.identifier = build_id
    props.language = lang
    return save_office(doc, path)
