"""Published tables and the per-period workbook: every table a notebook shows goes through here."""

from __future__ import annotations

import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from vip2analysis.errors import DataError
from vip2analysis.io.files import normalise_zip
from vip2analysis.publish.style import save_figure

__all__ = [
    "Publisher",
    "write_workbook",
]


_SAFE = re.compile(r"[^a-z0-9_]+")


@dataclass
class Publisher:
    """Writes one notebook's tables and figures under ``output_dir`` deterministically.

    Parameters
    ----------
    output_dir
        The notebook's output folder for one period, e.g. ``outputs/method/02_outcomes``.
    synthetic
        Whether the data are the bundled synthetic set (figures and tables say so).
    """

    output_dir: Path
    synthetic: bool
    written: list[Path] = field(default_factory=list)

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

    def figure(self, fig: Any, name: str) -> list[Path]:
        """Write ``fig`` as ``figures/<name>.png`` and ``.svg`` (plots.save_figure)."""

        paths = save_figure(fig, self.output_dir / "figures" / self._name(name))
        self.written.extend(paths)
        return paths


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(6)
        elif out[col].dtype == object:  # numbers beside disclosure markers: kept as objects
            values = [round(v, 6) if isinstance(v, float) else v for v in out[col]]
            out[col] = pd.Series(values, index=out.index, dtype=object)
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


def write_workbook(period_dir: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path | None:
    """Gather every ``*/tables/*.csv`` under ``period_dir`` into one XLSX, a sheet per table.

    Sheet names are ``<notebook number>_<table>`` cut to Excel's 31 characters. Returns the
    path, or None when there is no table.
    """
    from openpyxl import Workbook

    period_dir = Path(period_dir)
    csvs = sorted(period_dir.glob("*/tables/*.csv"))
    if not csvs:
        return None
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for csv_path in csvs:
        notebook = csv_path.parent.parent.name.split("_")[0]
        title = f"{notebook}_{csv_path.stem}"[:31]
        while title in used:
            title = title[:28] + f"_{len(used) % 100:02d}"
        used.add(title)
        ws = wb.create_sheet(title)
        frame = pd.read_csv(csv_path, keep_default_na=False, dtype=str)
        ws.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            ws.append([_cell(v) for v in row])
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"  # text, never a formula

    buffer = io.BytesIO()
    wb.save(buffer)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(normalise_zip(buffer.getvalue()))
    return path


def _cell(value: str) -> Any:
    """Numbers as numbers in the workbook, everything else as text (never a formula)."""
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() and "." not in value else number
