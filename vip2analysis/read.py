"""Raw files in: CSV (';' or ',' or tab; UTF-8, UTF-8 with BOM or cp1252) and XLSX.

The reader finds the header row (also below title rows), matches headers to canonical
columns through the aliases in :mod:`vip2analysis.schema`, decides what the file holds
(courses, comparison group, ambassadors, activities) and keeps every raw row with the row
number a person sees in Excel or a text editor. It does not interpret values: that is
:mod:`vip2analysis.clean`'s job. Cells are kept as text (CSV) or as the typed cell value
(XLSX); a cell starting with ``=`` stays text and is never evaluated.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from vip2analysis.reference import normalise_key
from vip2analysis.schema import ALIASES, FILE_KINDS, OPTIONAL, REQUIRED, SIGNATURE

__all__ = ["RawTable", "ReadError", "find_raw_files", "read_file"]

_HEADER_SCAN_ROWS = 30
_DELIMITERS = (";", ",", "\t")
_RAW_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")


class ReadError(Exception):
    """A file that cannot be read at all (fatal for that file); the message names it."""


@dataclass
class RawTable:
    """The raw rows of one file, with canonical column names.

    Attributes
    ----------
    file
        File name as given to the reader (what a sender will recognise).
    kind
        What the file holds: 'courses', 'comparison', 'ambassadors' or 'activities'.
    data
        One row per raw row below the header: canonical columns, raw values, plus
        ``source_file`` and ``source_row`` (1-based line / Excel row number).
    ragged
        Rows whose number of cells differs from the header's: ``source_row``, ``text``.
    extra_columns
        Headers that match no canonical column (kept aside in ``extras``, reported).
    headers
        Canonical column -> the raw header it came from.
    """

    file: str
    kind: str
    data: pd.DataFrame
    ragged: pd.DataFrame
    extra_columns: list[str]
    extras: pd.DataFrame
    headers: dict[str, str]
    encoding: str | None = None
    delimiter: str | None = None
    header_row: int = 1
    notes: list[str] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        """Raw rows below the header, ragged ones included."""
        return len(self.data) + len(self.ragged)


def find_raw_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Data files directly in ``folder`` (CSV, TXT, XLSX), sorted by name.

    Subfolders (such as the synthetic set's ``truth/``) and documentation are ignored.
    """
    folder = Path(folder)
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in _RAW_SUFFIXES)


# ---------------------------------------------------------------------------------------
# Header matching
# ---------------------------------------------------------------------------------------


def _alias_lookup() -> dict[str, str]:
    pairs = [(alias, col) for col, aliases in ALIASES.items() for alias in (col, *aliases)]
    keys = normalise_key(pd.Series([a for a, _ in pairs], dtype="string"))
    return {k: col for k, (_, col) in zip(keys, pairs, strict=True) if not pd.isna(k)}


def _match_headers(cells: list[object]) -> dict[int, str]:
    """Position -> canonical column for the header cells that match an alias."""
    lookup = _alias_lookup()
    texts = pd.Series(["" if c is None else str(c) for c in cells], dtype="string")
    keys = normalise_key(texts)
    out: dict[int, str] = {}
    for pos, key in enumerate(keys):
        col = None if pd.isna(key) else lookup.get(key)
        if col is not None and col not in out.values():
            out[pos] = col
    return out


def _kind_of(columns: set[str]) -> str | None:
    scores = {k: sum(c in columns for c in SIGNATURE[k]) for k in FILE_KINDS}
    best = max(scores, key=lambda k: (scores[k], -FILE_KINDS.index(k)))
    return best if scores[best] == len(SIGNATURE[best]) else None


def _header_row(rows: list[list[object]]) -> int | None:
    """Index of the first row (within the scan) that looks like a header."""
    for i, row in enumerate(rows[:_HEADER_SCAN_ROWS]):
        if len(_match_headers(row)) >= 3:
            return i
    return None


def _accepted(col: str) -> str:
    return ", ".join(repr(a) for a in ALIASES[col])


def _check_required(file: str, kind: str, present: set[str]) -> None:
    missing = [c for c in REQUIRED[kind] if c not in present]
    if missing:
        lines = [f"  - `{c}`: accepted headers {_accepted(c)}" for c in missing]
        raise ReadError(
            f"{file}: looks like a {kind} file but lacks required column(s):\n" + "\n".join(lines)
        )


# ---------------------------------------------------------------------------------------
# Bytes -> rows
# ---------------------------------------------------------------------------------------


def _decode(data: bytes, file: str) -> tuple[str, str]:
    if b"\x00" in data[:65536]:
        raise ReadError(f"{file}: binary content (NUL bytes); not a CSV or text file")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise ReadError(
            f"{file}: text is neither UTF-8 nor cp1252 (byte {exc.start}); save it as UTF-8"
        ) from exc


def _sniff_delimiter(lines: list[str]) -> str:
    counts = {d: sum(line.count(d) for line in lines) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_rows(text: str, delimiter: str) -> tuple[list[list[str]], list[int]]:
    """All records and the physical line each starts on (1-based)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, lines, start = [], [], 1
    for row in reader:
        rows.append(row)
        lines.append(start)
        start = reader.line_num + 1
    return rows, lines


def _from_csv(path: Path, data: bytes) -> tuple[list[list[object]], list[int], dict]:
    text, encoding = _decode(data, path.name)
    head = [ln for ln in text[:20000].splitlines()[:_HEADER_SCAN_ROWS] if ln.strip()]
    if not head:
        raise ReadError(f"{path.name}: the file is empty")
    delimiter = _sniff_delimiter(head)
    rows, lines = _csv_rows(text, delimiter)
    return rows, lines, {"encoding": encoding, "delimiter": delimiter}


def _from_xlsx(path: Path, data: bytes) -> tuple[list[list[object]], list[int], dict]:
    from openpyxl import load_workbook

    try:
        # data_only=False: a formula stays its text ("=A1+1"); nothing is evaluated
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for broken files
        raise ReadError(f"{path.name}: not a readable XLSX workbook ({exc})") from exc
    names = {normalise_key(pd.Series([n], dtype="string")).iloc[0]: n for n in wb.sheetnames}
    sheet = next((names[k] for k in names if isinstance(k, str) and k.startswith("forl")), None)
    ws = wb[sheet or wb.sheetnames[0]]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    wb.close()
    return rows, list(range(1, len(rows) + 1)), {"sheet": ws.title}


def _blank(row: list[object]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def _trim(row: list[object], width: int) -> list[object] | None:
    """Row cut to the header width, or None when cells beyond it hold data (ragged)."""
    if len(row) == width:
        return row
    if len(row) > width:
        return row[:width] if _blank(row[width:]) else None
    if _blank(row):
        return [None] * width
    return row + [None] * (width - len(row)) if len(row) == 0 else None


def read_file(path: str | os.PathLike[str]) -> RawTable:
    """Read one raw file into a :class:`RawTable` (no value is interpreted).

    Raises
    ------
    ReadError
        Unreadable, empty, binary, no recognisable header, or a missing required column:
        the message names the file and, for a missing column, the headers it accepts.

    Examples
    --------
    >>> from vip2analysis.paths import SYNTHETIC_RAW
    >>> raw = read_file(SYNTHETIC_RAW / "gladsaxe.csv")
    >>> raw.kind, raw.encoding, raw.delimiter, raw.extra_columns
    ('courses', 'cp1252', ';', ['Sagsbehandler'])
    >>> int(raw.data["source_row"].iloc[0])
    2
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReadError(f"{path.name}: cannot read the file ({exc.strerror})") from exc
    if not data.strip():
        raise ReadError(f"{path.name}: the file is empty")
    is_zip = data[:4] == b"PK\x03\x04"
    rows, lines, info = (_from_xlsx if is_zip else _from_csv)(path, data)
    return _table(path.name, rows, lines, info)


def _table(file: str, rows: list[list[object]], lines: list[int], info: dict) -> RawTable:
    h = _header_row(rows)
    if h is None:
        raise ReadError(
            f"{file}: no header row found in the first {_HEADER_SCAN_ROWS} rows "
            "(need at least 3 recognised column names, e.g. 'CPR', 'Kommune', 'Startdato')"
        )
    header = rows[h]
    matched = _match_headers(header)
    kind = _kind_of(set(matched.values()))
    if kind is None:
        found = ", ".join(repr(str(c)) for c in header if c not in (None, ""))
        raise ReadError(f"{file}: cannot tell what the file holds from its headers ({found})")
    _check_required(file, kind, set(matched.values()))
    known = set(REQUIRED[kind]) | set(OPTIONAL[kind])
    keep = {pos: col for pos, col in matched.items() if col in known}
    extra = [str(c) for p, c in enumerate(header) if p not in keep and c not in (None, "")]
    width = len(header)
    body, ragged = [], []
    for row, line in zip(rows[h + 1 :], lines[h + 1 :], strict=True):
        trimmed = _trim(list(row), width)
        if trimmed is None:
            ragged.append({"source_row": line, "cells": len(row), "expected": width})
        else:
            body.append((line, trimmed))
    return _assemble(file, kind, header, keep, extra, body, ragged, lines[h], info)


def _assemble(file, kind, header, keep, extra, body, ragged, header_line, info) -> RawTable:
    matrix = [r for _, r in body]
    cols = {col: [r[p] for r in matrix] for p, col in keep.items()}
    data = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in cols.items()})
    for col in set(REQUIRED[kind]) | set(OPTIONAL[kind]):
        if col not in data:
            data[col] = pd.Series([None] * len(matrix), dtype=object)
    data["source_file"] = file
    data["source_row"] = np.array([line for line, _ in body], dtype=np.int64)
    extra_pos = [p for p, c in enumerate(header) if str(c) in extra]
    extras = pd.DataFrame({str(header[p]): [r[p] for r in matrix] for p in extra_pos})
    return RawTable(
        file=file,
        kind=kind,
        data=data,
        ragged=pd.DataFrame(ragged, columns=["source_row", "cells", "expected"]),
        extra_columns=extra,
        extras=extras,
        headers={col: str(header[p]) for p, col in keep.items()},
        encoding=info.get("encoding"),
        delimiter=info.get("delimiter"),
        header_row=header_line,
    )
