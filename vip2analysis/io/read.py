"""Raw files in: CSV (';' or ',' or tab; UTF-8, UTF-8 with BOM or cp1252) and XLSX.

The reader finds the header row (also below title rows), matches headers to canonical
columns through the aliases in :mod:`vip2analysis.contract.schema`, decides what the file holds
(courses, comparison group, ambassadors, activities) and keeps every raw row with the row
number a person sees in Excel or a text editor. It does not interpret values: that is
:mod:`vip2analysis.clean`'s job. Cells are kept as text (CSV) or as the typed cell value
(XLSX); a cell starting with ``=`` stays text and is never evaluated.

A CSV body is parsed by pyarrow, every cell as text; the csv module reads the lines up to
the header, the rows pyarrow finds ragged, and whole files pyarrow could split otherwise.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import itertools
import os
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pa_csv

from vip2analysis.contract.reference import normalise_key
from vip2analysis.contract.schema import ALIASES, FILE_KINDS, OPTIONAL, REQUIRED, SIGNATURE
from vip2analysis.contract.user_config import UserConfig
from vip2analysis.errors import RawFileError
from vip2analysis.io.dream import is_dream_file

__all__ = [
    "RawFolder",
    "RawTable",
    "find_raw_files",
    "read_file",
    "read_frame",
    "scan_raw_folder",
]

_HEADER_SCAN_ROWS = 30
_DELIMITERS = (";", ",", "\t")
_RAW_SUFFIXES = (".csv", ".xlsx", ".xlsm")


@dataclass
class RawTable:
    """The raw rows of one file, with canonical column names.

    Attributes
    ----------
    file
        File name as given to the reader (what a sender will recognise).
    kind
        What the file holds: 'courses', 'ambassadors' or 'activities'.
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
    unnamed: dict[int, int] = field(default_factory=dict)
    """Columns that hold values under an empty header: 1-based position -> number of values
    (not part of the contract, so not used, but reported)."""

    @property
    def n_rows(self) -> int:
        """Raw rows below the header, ragged ones included."""
        return len(self.data) + len(self.ragged)


@dataclass
class RawFolder:
    """The files of a raw folder: data files to read, and files passed over (and why)."""

    data: list[Path]
    ignored: list[tuple[str, str]]
    dream: list[Path] = field(default_factory=list)
    """DREAM extracts (files named ``dream*``: CSV, CSV.gz, parquet, sas7bdat)."""


def scan_raw_folder(folder: str | os.PathLike[str], *, exclude: Sequence[str] = ()) -> RawFolder:
    """Data files directly in ``folder`` (CSV, XLSX), and the files passed over.

    Passed over, each with its reason: Office lock files (``~$name.xlsx``, present while a
    workbook is open), hidden files, files matching an ``exclude`` glob, and files that
    are not CSV or XLSX (a ``noter.txt``, a PDF). Files named ``dream*`` are DREAM
    extracts (``dream``). Subfolders (such as the synthetic set's
    ``truth/``) are not looked into.
    """
    folder = Path(folder)
    data, ignored, dream = [], [], []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        name = path.name
        if name.startswith("~$"):
            ignored.append((name, "an Office lock file (the workbook is open somewhere)"))
        elif name.startswith("."):
            ignored.append((name, "a hidden file"))
        elif any(path.match(pattern) for pattern in exclude):
            ignored.append((name, "excluded (--exclude)"))
        elif is_dream_file(path):
            dream.append(path)
        elif path.suffix.lower() not in _RAW_SUFFIXES:
            ignored.append((name, "not a CSV or XLSX file"))
        else:
            data.append(path)
    return RawFolder(data, ignored, dream)


def find_raw_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Data files directly in ``folder`` (CSV, XLSX), sorted by name; see
    :func:`scan_raw_folder` for what is passed over."""
    return scan_raw_folder(folder).data


# ---------------------------------------------------------------------------------------
# Header matching
# ---------------------------------------------------------------------------------------


_EXTRA_ALIASES: ContextVar[tuple[tuple[str, str], ...]] = ContextVar("extra_aliases", default=())
"""(spelling, column) pairs a user config adds while one file is read (see read_file)."""


@functools.cache
def _alias_lookup(extra: tuple[tuple[str, str], ...] = ()) -> dict[str, str]:
    pairs = [(alias, col) for col, aliases in ALIASES.items() for alias in (col, *aliases)]
    pairs += list(extra)
    keys = normalise_key(pd.Series([a for a, _ in pairs], dtype="string"))
    return {k: col for k, (_, col) in zip(keys, pairs, strict=True) if not pd.isna(k)}


def _match_headers(cells: Sequence[object]) -> dict[int, str]:
    """Position -> canonical column for the header cells that match an alias."""
    lookup = _alias_lookup(_EXTRA_ALIASES.get())
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


def _header_row(rows: Sequence[Sequence[object]]) -> int | None:
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
        raise RawFileError(
            f"{file}: looks like a {kind} file but lacks required column(s):\n" + "\n".join(lines)
        )


# ---------------------------------------------------------------------------------------
# Bytes -> rows
# ---------------------------------------------------------------------------------------


def _decode(data: bytes, file: str) -> tuple[str, str]:
    if b"\x00" in data[:65536]:
        raise RawFileError(
            f"{file}: NUL bytes, so binary content or text saved as UTF-16; "
            "save it as CSV in UTF-8 or as XLSX"
        )
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise RawFileError(
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


def _from_csv(path: Path, data: bytes) -> tuple[Sequence[Sequence[object]], list[int], dict]:
    text, encoding = _decode(data, path.name)
    head = [ln for ln in text[:20000].splitlines()[:_HEADER_SCAN_ROWS] if ln.strip()]
    if not head:
        raise RawFileError(f"{path.name}: the file is empty")
    delimiter = _sniff_delimiter(head)
    rows, lines = _csv_rows(text, delimiter)
    return rows, lines, {"encoding": encoding, "delimiter": delimiter}


def _from_xlsx(
    path: Path, data: bytes, sheet: str | None = None
) -> tuple[Sequence[Sequence[object]], list[int], dict]:
    """The rows of the data sheet: ``sheet`` when named, else the first sheet whose header
    the contract recognises (a sheet named "Forløb..." first, then in workbook order).

    Raises a RawFileError that names every sheet tried, and why, when none will do.
    """
    from openpyxl import load_workbook

    try:
        # data_only=False: a formula stays its text ("=A1+1"); nothing is evaluated
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for broken files
        raise RawFileError(f"{path.name}: not a readable XLSX workbook ({exc})") from exc
    try:
        if sheet is not None:
            if sheet not in wb.sheetnames:
                raise RawFileError(
                    f"{path.name}: no sheet named {sheet!r}; its sheets are "
                    + ", ".join(repr(n) for n in wb.sheetnames)
                )
            order = [sheet]
        else:
            keys = normalise_key(pd.Series(wb.sheetnames, dtype="string")).fillna("")
            first = [n for n, k in zip(wb.sheetnames, keys, strict=True) if k.startswith("forl")]
            order = [*first, *(n for n in wb.sheetnames if n not in first)]
        tried = []
        for name in order:
            rows = [list(r) for r in wb[name].iter_rows(values_only=True)]
            problem = _sheet_problem(path.name, rows)
            if problem is None or sheet is not None:
                return rows, list(range(1, len(rows) + 1)), {"sheet": name}
            tried.append(f"{name!r} ({problem})")
    finally:
        wb.close()
    raise RawFileError(
        f"{path.name}: no sheet holds a table the contract recognises; tried "
        + "; ".join(tried)
        + ". Name the sheet with --sheet (or `sheet=` in read_file)"
    )


def _sheet_problem(file: str, rows: Sequence[Sequence[object]]) -> str | None:
    """Why a sheet is not the data sheet (no header, unknown kind), or None if it is."""
    h = _header_row(rows)
    if h is None:
        return f"no header row in the first {_HEADER_SCAN_ROWS} rows"
    try:
        _layout(file, rows[h])
    except RawFileError as exc:
        return str(exc).partition(": ")[2]
    return None


def _blank(row: Sequence[object]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


_Cell = TypeVar("_Cell")


def _trim(row: list[_Cell], width: int) -> Sequence[_Cell | None] | None:
    """Row cut to the header width, or None when cells beyond it hold data (ragged)."""
    if len(row) == width:
        return row
    if len(row) > width:
        return row[:width] if _blank(row[width:]) else None
    if _blank(row):
        return [None] * width
    return row + [None] * (width - len(row)) if len(row) == 0 else None


def read_file(
    path: str | os.PathLike[str], *, sheet: str | None = None, config: UserConfig | None = None
) -> RawTable:
    """Read one raw file into a :class:`RawTable` (no value is interpreted).

    ``sheet`` names the sheet of a workbook to read (else the one ``config`` names for the
    file, else the first sheet whose header the reader recognises, one named "Forløb..."
    first), so a summary sheet in front of the data is passed over. ``config`` (a
    :class:`~vip2analysis.contract.user_config.UserConfig`) adds header spellings.

    Raises
    ------
    RawFileError
        Unreadable, empty, binary, no recognisable header, or a missing required column:
        the message names the file and, for a missing column, the headers it accepts.

    Examples
    --------
    >>> from vip2analysis.config import SYNTHETIC_RAW
    >>> raw = read_file(SYNTHETIC_RAW / "gladsaxe.csv")
    >>> raw.kind, raw.encoding, raw.delimiter, raw.extra_columns
    ('courses', 'cp1252', ';', ['Sagsbehandler'])
    >>> int(raw.data["source_row"].iloc[0])
    2
    """
    path = Path(path)
    config = config or UserConfig()
    token = _EXTRA_ALIASES.set(config.aliases)
    try:
        return _read(path, sheet or config.sheet_for(path.name))
    finally:
        _EXTRA_ALIASES.reset(token)


def _read(path: Path, sheet: str | None) -> RawTable:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RawFileError(f"{path.name}: cannot read the file ({exc.strerror})") from exc
    if not data or data.isspace():  # as `not data.strip()`, without copying the file
        raise RawFileError(f"{path.name}: the file is empty")
    if data[:4] == b"PK\x03\x04":
        return _table(path.name, *_from_xlsx(path, data, sheet))
    try:
        return _fast_csv(path.name, data) or _table(path.name, *_from_csv(path, data))
    except csv.Error as exc:  # e.g. a quote left open takes in the rest of the file
        raise RawFileError(
            f"{path.name}: not a readable CSV file ({exc}); a quote left open?"
        ) from exc


def read_frame(frame: pd.DataFrame, *, name: str, config: UserConfig | None = None) -> RawTable:
    """Turn a DataFrame already in memory into the :class:`RawTable` a file would give.

    Its column names are the header row (matched through the same aliases), its rows the
    body, numbered from 2 as in a sheet whose first row is the header; optional columns
    may be missing. Cell values are kept as they are: an integer CPR column gets its lost
    leading zeros back in cleaning, as a number cell from Excel does.

    Examples
    --------
    >>> df = pd.DataFrame({"CPR": [101801234], "Kommune": ["Aarhus"], "Jobpakke": ["Bager"],
    ...                    "Startdato": ["01-05-2008"], "Slutdato": [None],
    ...                    "Status": ["I gang"], "Afgang": [None]})
    >>> raw = read_frame(df, name="export.xlsx")
    >>> raw.kind, int(raw.data["source_row"].iloc[0]), raw.data["sex"].isna().all()
    ('courses', 2, np.True_)
    """
    if not isinstance(frame, pd.DataFrame):
        raise RawFileError(
            f"{name}: read_frame needs a pandas DataFrame, not {type(frame).__name__}"
        )
    header = [None if isinstance(c, float) and np.isnan(c) else c for c in frame.columns]
    body = frame.astype(object).where(frame.notna(), None).to_numpy().tolist()
    rows = [header, *body]
    token = _EXTRA_ALIASES.set((config or UserConfig()).aliases)
    try:
        return _table(name, rows, list(range(1, len(rows) + 1)), {"frame": True})
    finally:
        _EXTRA_ALIASES.reset(token)


@dataclass
class _Layout:
    """What the header row says: its cells, the file kind and where each column sits."""

    header: Sequence[object]
    kind: str
    keep: dict[int, str]
    extra: list[str]

    def positions(self) -> list[int]:
        """Header positions whose values the table keeps (canonical and extra columns)."""
        extra = [p for p, c in enumerate(self.header) if str(c) in self.extra]
        return sorted(set(self.keep) | set(extra))

    def unnamed(self) -> list[int]:
        """Header positions with an empty header cell."""
        return [p for p, c in enumerate(self.header) if c is None or not str(c).strip()]


def _layout(file: str, header: Sequence[object]) -> _Layout:
    """The layout the header row gives; raises when its columns do not make a known kind."""
    matched = _match_headers(header)
    kind = _kind_of(set(matched.values()))
    if kind is None:
        found = ", ".join(repr(str(c)) for c in header if c not in (None, ""))
        raise RawFileError(f"{file}: cannot tell what the file holds from its headers ({found})")
    _check_required(file, kind, set(matched.values()))
    known = set(REQUIRED[kind]) | set(OPTIONAL[kind])
    keep = {pos: col for pos, col in matched.items() if col in known}
    extra = [str(c) for p, c in enumerate(header) if p not in keep and c not in (None, "")]
    return _Layout(header, kind, keep, extra)


def _table(file: str, rows: Sequence[Sequence[object]], lines: list[int], info: dict) -> RawTable:
    h = _header_row(rows)
    if h is None:
        raise RawFileError(
            f"{file}: no header row found in the first {_HEADER_SCAN_ROWS} rows "
            "(need at least 3 recognised column names, e.g. 'CPR', 'Kommune', 'Startdato')"
        )
    layout = _layout(file, rows[h])
    width = len(layout.header)
    body, ragged = [], []
    for row, line in zip(rows[h + 1 :], lines[h + 1 :], strict=True):
        trimmed = _trim(list(row), width)
        if trimmed is None:
            ragged.append({"source_row": line, "cells": len(row), "expected": width})
        else:
            body.append((line, trimmed))
    cells = {p: pd.Series([r[p] for _, r in body], dtype=object) for p in layout.positions()}
    source_rows = np.array([line for line, _ in body], dtype=np.int64)
    unnamed = {p + 1: sum(not _blank([r[p]]) for _, r in body) for p in layout.unnamed()}
    info["unnamed"] = {p: n for p, n in unnamed.items() if n}
    return _assemble(file, layout, cells, source_rows, ragged, lines[h], info)


def _assemble(
    file: str,
    layout: _Layout,
    cells: dict[int, pd.Series],
    source_rows: np.ndarray,
    ragged: list[dict],
    header_line: int,
    info: dict,
    absent: Callable[[int], pd.Series] | None = None,
) -> RawTable:
    """The RawTable from the body's cells (header position -> column of raw values).

    A column the file lacks is ``absent(number of rows)``; by default all None.
    """
    kind, header = layout.kind, layout.header
    data = pd.DataFrame({col: cells[p] for p, col in layout.keep.items()})
    for col in set(REQUIRED[kind]) | set(OPTIONAL[kind]):
        if col not in data:
            n = len(source_rows)
            data[col] = pd.Series([None] * n, dtype=object) if absent is None else absent(n)
    data["source_file"] = file
    data["source_row"] = source_rows
    extra_pos = [p for p, c in enumerate(header) if str(c) in layout.extra]
    extras = pd.DataFrame({str(header[p]): cells[p] for p in extra_pos})
    return RawTable(
        file=file,
        kind=kind,
        data=data,
        ragged=pd.DataFrame(ragged, columns=["source_row", "cells", "expected"]),
        extra_columns=layout.extra,
        extras=extras,
        headers={col: str(header[p]) for p, col in layout.keep.items()},
        encoding=info.get("encoding"),
        delimiter=info.get("delimiter"),
        header_row=header_line,
        unnamed=dict(info.get("unnamed", {})),
    )


# ---------------------------------------------------------------------------------------
# The fast CSV path: pyarrow parses the body, the csv module only the first lines
# ---------------------------------------------------------------------------------------
#
# The result is the csv-module path's, except that an empty line gives a row of empty
# strings rather than of None, and a column the file lacks is <NA> text rather than None.
# Rows with another number of cells than the header are parsed again by the csv module,
# one at a time. Wherever pyarrow could split or number rows differently (a value holding
# a line break, a header not within the first _HEAD_BYTES), the fast path returns None and
# the caller takes the csv-module path.

_HEAD_BYTES = 200_000  # >= 20,000 characters for the sniff, and the header rows
_BOM = b"\xef\xbb\xbf"
_RAW_TEXT = pd.StringDtype("pyarrow")


def _fast_csv(file: str, data: bytes) -> RawTable | None:
    """The RawTable of a CSV file read by pyarrow, or None for the csv-module path."""
    if b"\x00" in data[:65536]:
        return None
    bom = data.startswith(_BOM)
    try:
        return _arrow_csv(file, data, len(_BOM) if bom else 0, "utf-8-sig" if bom else "utf-8")
    except (pa.ArrowInvalid, UnicodeDecodeError):
        if bom:
            return None
    text, encoding = _decode(data, file)
    if encoding != "cp1252":
        return None
    try:
        return _arrow_csv(file, text.encode("utf-8"), 0, encoding)
    except pa.ArrowInvalid:
        return None


def _arrow_csv(file: str, buf: bytes, start: int, encoding: str) -> RawTable | None:
    """Read UTF-8 ``buf`` from byte ``start``; raises for text that is not UTF-8."""
    whole = len(buf) - start <= _HEAD_BYTES
    head = codecs.getincrementaldecoder("utf-8")().decode(buf[start : start + _HEAD_BYTES], whole)
    sniff = [ln for ln in head[:20000].splitlines()[:_HEADER_SCAN_ROWS] if ln.strip()]
    if not sniff:
        return None
    delimiter = _sniff_delimiter(sniff)
    rows, lines = _csv_rows(head if whole else head[: head.rfind("\n") + 1], delimiter)
    h = _header_row(rows)
    if h is None or h + 1 >= len(rows):
        return None
    layout = _layout(file, rows[h])
    skipped = "".join(itertools.islice(io.StringIO(head, newline=""), lines[h + 1] - 1))
    body = _arrow_body(buf, start + len(skipped.encode("utf-8")), len(layout.header), delimiter)
    if body is None:
        return None
    table, numbers, ragged = body
    cells = {p: pd.Series(table.column(p), dtype=_RAW_TEXT) for p in layout.positions()}
    source_rows = numbers + (lines[h + 1] - 1)  # record k of the body is on its k-th line
    for row in ragged:
        row["source_row"] += lines[h + 1] - 1
    unnamed = {
        p + 1: int(pc.sum(pc.not_equal(pc.utf8_trim_whitespace(table.column(p)), "")).as_py() or 0)
        for p in layout.unnamed()
    }
    info = {
        "encoding": encoding,
        "delimiter": delimiter,
        "unnamed": {p: n for p, n in unnamed.items() if n},
    }
    return _assemble(file, layout, cells, source_rows, ragged, lines[h], info, _missing_text)


def _missing_text(n: int) -> pd.Series:
    return pd.Series(pd.NA, index=pd.RangeIndex(n), dtype=_RAW_TEXT)


def _arrow_body(
    buf: bytes, start: int, width: int, delimiter: str
) -> tuple[pa.Table, np.ndarray, list[dict]] | None:
    """The rows from byte ``start``: (text cells, 1-based record numbers, ragged rows).

    None where a record spans lines (its numbers would not be line numbers).
    """
    quoted = buf.find(b'"', start) >= 0
    table, invalid = _arrow_parse(buf, start, width, delimiter, quoted=quoted, threads=True)
    if invalid:  # only a single-threaded parse numbers the rows it hands back
        table, invalid = _arrow_parse(buf, start, width, delimiter, quoted=quoted, threads=False)
    if quoted and table.num_rows + len(invalid) != _line_count(buf, start):
        return None  # a quoted value holds a line break
    return _with_invalid_rows(table, [(row.number, row.text) for row in invalid], delimiter)


def _arrow_parse(
    buf: bytes, start: int, width: int, delimiter: str, *, quoted: bool, threads: bool
) -> tuple[pa.Table, list]:
    """pyarrow's parse into ``width`` text columns, and the rows with another cell count."""
    names = [f"c{i}" for i in range(width)]
    invalid: list = []

    def skip(row: pa_csv.InvalidRow) -> str:
        invalid.append(row)
        return "skip"

    table = pa_csv.read_csv(
        pa.BufferReader(pa.py_buffer(buf).slice(start)),
        read_options=pa_csv.ReadOptions(column_names=names, use_threads=threads),
        parse_options=pa_csv.ParseOptions(
            delimiter=delimiter,
            ignore_empty_lines=False,
            newlines_in_values=quoted,
            invalid_row_handler=skip,
        ),
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.large_string()), strings_can_be_null=False
        ),
    )
    return table, invalid


def _line_count(buf: bytes, start: int) -> int:
    """Lines from byte ``start``, ended by \\n, \\r or \\r\\n as for the csv module."""
    ends = buf.count(b"\n", start) + buf.count(b"\r", start) - buf.count(b"\r\n", start)
    return ends + (not buf.endswith((b"\n", b"\r")))


def _with_invalid_rows(
    table: pa.Table, invalid: list[tuple[int, str]], delimiter: str
) -> tuple[pa.Table, np.ndarray, list[dict]]:
    """Put back the rows pyarrow left out that the csv-module path keeps (as :func:`_trim`).

    ``invalid`` holds (record number, line text) of each row pyarrow left out.
    """
    width = table.num_columns
    valid = np.ones(table.num_rows + len(invalid), dtype=bool)
    valid[[number - 1 for number, _ in invalid]] = False
    numbers = np.flatnonzero(valid) + 1
    kept, kept_numbers, ragged = [], [], []
    for number, text in invalid:
        cells = next(csv.reader([text], delimiter=delimiter), [])
        trimmed = _trim(cells, width)
        if trimmed is None:
            ragged.append({"source_row": number, "cells": len(cells), "expected": width})
        else:
            kept.append(trimmed)
            kept_numbers.append(number)
    if kept:
        columns = [pa.array([r[i] for r in kept], pa.large_string()) for i in range(width)]
        table = pa.concat_tables([table, pa.table(columns, names=table.column_names)])
        numbers = np.concatenate([numbers, kept_numbers])
        order = np.argsort(numbers, kind="stable")
        table, numbers = table.take(order), numbers[order]
    return table, numbers, ragged
