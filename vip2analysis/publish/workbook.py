"""The period's workbook: every published table of the period in one XLSX, made for Excel.

A contents sheet links every table; each table has its own sheet with a short name (Excel
allows 31 characters), a title, a source line ("Kilde: ..., egne beregninger; syntetiske
data"), what the disclosure marks mean when the table holds any, a frozen header row with
filters, column widths, and real numbers with number formats: counts "#,##0", shares as
percentages "0.0%", differences in percentage points "0.0", p-values "0.000", dates as
dates. Excel shows them with the reader's decimal comma. A hidden cell keeps its mark
('<5', 'x') as text. Labels and headers come from the label data in one language; the
numbers are those of the CSV files, which the disclosure rule already made.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from vip2analysis.contract.labels import load_columns, load_report_text
from vip2analysis.io.files import save_office
from vip2analysis.publish.labels import Lang, label
from vip2analysis.publish.present import (
    cell_text,
    column_header,
    has_marks,
    table_source,
    table_title,
    term_text,
)
from vip2analysis.publish.tables import CONTENTS

__all__ = [
    "PeriodItem",
    "period_contents",
    "write_workbook",
]


_FORMATS = {
    "count": "#,##0",
    "days": "#,##0",
    "share": "0.0%",
    "pp": "0.0",
    "p_value": "0.000",
    "number": "0.00",
    "date": "yyyy-mm-dd",
}
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
_HEADER_ROW = 5  # title, source, marks, blank, header


@dataclass(frozen=True)
class PeriodItem:
    """One published table or figure of a period, in report order."""

    notebook: str  # "02_outcomes"
    kind: str  # "table" or "figure"
    name: str  # "noegletal"

    @property
    def path(self) -> Path:
        folder = "tables" if self.kind == "table" else "figures"
        suffix = ".csv" if self.kind == "table" else ".png"
        return Path(self.notebook) / folder / f"{self.name}{suffix}"


def period_contents(period_dir: str | os.PathLike[str]) -> list[PeriodItem]:
    """Every table and figure a period published, notebook by notebook, each notebook's in
    the order it published them (its ``contents.json``; without one, by name)."""
    period_dir = Path(period_dir)
    items: list[PeriodItem] = []
    for notebook in sorted(p for p in period_dir.iterdir() if p.is_dir() and p.name[:2].isdigit()):
        listing = notebook / CONTENTS
        if listing.is_file():
            entries = json.loads(listing.read_text(encoding="utf-8"))
        else:
            entries = [
                {"kind": "table", "name": p.stem} for p in sorted(notebook.glob("tables/*.csv"))
            ]
            entries += [
                {"kind": "figure", "name": p.stem} for p in sorted(notebook.glob("figures/*.png"))
            ]
        for entry in entries:
            item = PeriodItem(notebook.name, entry["kind"], entry["name"])
            if (period_dir / item.path).is_file():
                items.append(item)
    return items


def _value(raw: str, kind: str, lang: Lang, prefix: str) -> Any:
    """A CSV cell as the workbook stores it: a number, a date, a label, or a mark."""
    if kind in ("code", "text"):
        return cell_text(raw, kind, lang, prefix=prefix) if raw != "" else None
    if raw == "":
        return None
    if kind == "date":
        try:
            return dt.datetime.strptime(raw[:10], "%Y-%m-%d")
        except ValueError:
            return raw
    try:
        x = float(raw)
    except ValueError:
        return raw  # a disclosure mark: text
    if kind == "pp":
        return round(100 * x, 10)
    if kind in ("count", "days") and x.is_integer():
        return int(x)
    return x


def _sheet_name(number: int, title: str, used: set[str]) -> str:
    text = _SHEET_BAD.sub("", f"{number:02d} {title}")
    base = text if len(text) <= 31 else text[:31].rsplit(" ", 1)[0]  # whole words
    name, i = base, 1
    while name.lower() in used:
        i += 1
        name = f"{base[:28]}~{i}"
    used.add(name.lower())
    return name


def _write_table(ws: Any, frame: pd.DataFrame, item: PeriodItem, *, lang: Lang, k: int) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    columns = load_columns()
    synthetic = "data" in frame.columns
    refs = frame.get("reference", None)
    shown = [c for c in frame.columns if c not in ("data", "reference")]
    ws["A1"] = table_title(item.name, lang)
    ws["A1"].font = Font(bold=True, size=13)
    ws["A2"] = table_source(lang, synthetic=synthetic) + "."
    if has_marks(frame):
        ws["A3"] = label(lang, "table.marks", k=k, k1=k - 1)
    ws["A2"].font = ws["A3"].font = Font(italic=True, size=9)
    for j, name in enumerate(shown, start=1):
        cell = ws.cell(row=_HEADER_ROW, column=j, value=column_header(name, lang))
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="bottom")
    widths = [len(str(column_header(c, lang))) for c in shown]
    for i, row in enumerate(frame.itertuples(index=False), start=_HEADER_ROW + 1):
        record = dict(zip(frame.columns, row, strict=True))
        for j, name in enumerate(shown, start=1):
            spec = columns.get(name, {"kind": "text", "label": name})
            raw = str(record[name])
            if name == "term" and refs is not None:
                value: Any = term_text(raw, lang, record["reference"])
            else:
                value = _value(raw, spec["kind"], lang, spec["label"])
            cell = ws.cell(row=i, column=j, value=value)
            if isinstance(value, int | float | dt.datetime) and spec["kind"] in _FORMATS:
                cell.number_format = _FORMATS[spec["kind"]]
            elif isinstance(value, str) and spec["kind"] in _FORMATS:
                cell.alignment = Alignment(horizontal="right")  # a mark, beside numbers
            if isinstance(value, str):
                cell.data_type = "s"  # text, never a formula
            shown_len = len(value) if isinstance(value, str) else 10
            widths[j - 1] = max(widths[j - 1], shown_len)
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(max(width + 2, 8), 60)
    last = get_column_letter(max(len(shown), 1))
    ws.freeze_panes = f"A{_HEADER_ROW + 1}"
    ws.auto_filter.ref = f"A{_HEADER_ROW}:{last}{_HEADER_ROW + max(len(frame), 1)}"


def write_workbook(
    period_dir: str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    lang: Lang = "da",
    k: int = 5,
) -> Path | None:
    """Gather every table a period published into one XLSX made for Excel (see the module
    docstring); ``k`` is the disclosure threshold the marks note explains. Returns the
    path, or None when the period has no table. Same tables -> same bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.hyperlink import Hyperlink

    period_dir = Path(period_dir)
    tables = [i for i in period_contents(period_dir) if i.kind == "table"]
    if not tables:
        return None
    wb = Workbook()
    contents = wb.active
    contents.title = label(lang, "table.contents")
    contents["A1"] = f"{label(lang, 'table.contents')}: {period_dir.name}"
    contents["A1"].font = Font(bold=True, size=13)
    heads = [
        "Nr.",
        label(lang, "table.title"),
        label(lang, "table.notebook"),
        label(lang, "table.sheet"),
    ]
    for j, head in enumerate(heads, start=1):
        contents.cell(row=3, column=j, value=head).font = Font(bold=True)
    used: set[str] = {contents.title.lower()}
    for number, item in enumerate(tables, start=1):
        title = table_title(item.name, lang)
        sheet = _sheet_name(number, title, used)
        ws = wb.create_sheet(sheet)
        frame = pd.read_csv(period_dir / item.path, keep_default_na=False, dtype=str)
        _write_table(ws, frame, item, lang=lang, k=k)
        row = 3 + number
        contents.cell(row=row, column=1, value=number)
        link = contents.cell(row=row, column=2, value=title)
        link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{sheet}'!A1", display=title)
        link.font = Font(color="0563C1", underline="single")
        section = load_report_text()[lang]["sections"].get(item.notebook, item.notebook)
        contents.cell(row=row, column=3, value=f"{item.notebook[:2]} {section}")
        contents.cell(row=row, column=4, value=sheet)
    for col, width in zip("ABCD", (6, 60, 26, 34), strict=True):
        contents.column_dimensions[col].width = width
    contents.freeze_panes = "A4"
    return save_office(wb, path)
