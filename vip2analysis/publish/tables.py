"""Published tables and the per-period workbook: every table a notebook shows goes through here."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from vip2analysis.errors import DataError
from vip2analysis.publish.labels import Lang, label
from vip2analysis.publish.present import (
    has_marks,
    model_table,
    people_table,
    table_caption,
    table_html,
    table_note,
)
from vip2analysis.publish.style import save_figure

__all__ = [
    "CONTENTS",
    "Publisher",
]


_SAFE = re.compile(r"[^a-z0-9_]+")

CONTENTS = "contents.json"
"""A notebook's published tables and figures, in order (``[{"kind", "name"}, ...]``)."""


@dataclass
class Publisher:
    """Writes one notebook's tables and figures under ``output_dir`` deterministically.

    Parameters
    ----------
    output_dir
        The notebook's output folder for one period, e.g. ``outputs/method/02_outcomes``.
    synthetic
        Whether the data are the bundled synthetic set (figures and tables say so).
    lang, min_cell
        The language tables are shown in (:meth:`show`), and the disclosure threshold
        their caption explains.
    """

    output_dir: Path
    synthetic: bool
    written: list[Path] = field(default_factory=list)
    lang: Lang = "da"
    min_cell: int = 5
    contents: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.output_dir = Path(self.output_dir)

    def _name(self, name: str) -> str:
        safe = _SAFE.sub("_", name.lower()).strip("_")
        if not safe:
            raise DataError(f"table or figure name {name!r} has no usable characters")
        return safe

    def table(
        self,
        frame: pd.DataFrame,
        name: str,
        *,
        cells: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        """Write ``frame`` as ``tables/<name>.csv``, as it stands: count tables come
        disclosed from ``publish.period`` (see :meth:`disclosed`).

        ``cells`` is the table's cell map (see ``publish.period``), written beside it as
        ``<name>.cells.json`` for ``vip2 audit``. Returns the published table.
        """

        out = frame.copy()
        if self.synthetic:
            out["data"] = "syntetiske data"
        path = self.output_dir / "tables" / f"{self._name(name)}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_csv_bytes(out))
        self.written.append(path)
        self._log("table", path.stem)
        if cells is not None:
            map_path = path.with_suffix(".cells.json")
            map_path.write_text(
                json.dumps(cells, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
            )
            self.written.append(map_path)
        return out

    def disclosed(self, tables: Any, name: str) -> pd.DataFrame:
        """Write the period table ``name`` of ``tables`` (a
        :class:`~vip2analysis.publish.period.PeriodTables`) as ``tables/<name>.csv``, with
        its cell map beside it (``<name>.cells.json``) for ``vip2 audit``."""
        return self.table(tables.table(name), name, cells=tables.cell_map(name))

    def html(self, frame: pd.DataFrame, name: str, *, model: bool = False) -> str:
        """A published table as people read it (:func:`~vip2analysis.publish.present.people_table`,
        or :func:`~vip2analysis.publish.present.model_table` with ``model``), as HTML with
        its caption: title, source ("syntetiske data" when they are) and, when it holds
        any, what the disclosure marks mean."""
        shown = model_table(frame, lang=self.lang) if model else people_table(frame, lang=self.lang)
        marked = has_marks(frame)
        caption = table_caption(self._name(name), self.lang, synthetic=self.synthetic)
        k = self.min_cell
        notes = [table_note(frame, self.lang) if not model else ""]
        notes.append(label(self.lang, "table.marks", k=k, k1=k - 1) if marked else "")
        return table_html(shown, caption=caption, note=" ".join(n for n in notes if n))

    def show(self, frame: pd.DataFrame, name: str, *, model: bool = False) -> None:
        """Display a published table in the notebook as people read it (see :meth:`html`)."""
        from IPython.display import HTML, display  # present wherever a kernel runs

        display(HTML(self.html(frame, name, model=model)))

    def figure(self, fig: Any, name: str) -> list[Path]:
        """Write ``fig`` as ``figures/<name>.png`` and ``.svg`` (plots.save_figure)."""

        paths = save_figure(fig, self.output_dir / "figures" / self._name(name))
        self.written.extend(paths)
        self._log("figure", self._name(name))
        return paths

    def _log(self, kind: str, name: str) -> None:
        """Keep ``contents.json``: the tables and figures in the order the notebook
        published them (the workbook and the Word report follow it)."""
        item = {"kind": kind, "name": name}
        if item in self.contents:
            return
        self.contents.append(item)
        path = self.output_dir / CONTENTS
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.contents, indent=1) + "\n", encoding="utf-8")
        if path not in self.written:
            self.written.append(path)


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(6)
        elif out[col].dtype == object:  # numbers beside disclosure markers: kept as objects
            values = [round(v, 6) if isinstance(v, float) else v for v in out[col]]
            out[col] = pd.Series(values, index=out.index, dtype=object)
    # with a byte-order mark, so that Excel opens the file with the right letters
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")
