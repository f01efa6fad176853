"""Reading DREAM extracts: CSV (``;`` or ``,``, plain or gzip), parquet and SAS (sas7bdat).

A file in a raw folder whose name starts with ``dream`` is a DREAM extract. The header is
checked before any data are read (a ``pnr`` column; weekly columns ``y_YYWW`` that are real
ISO weeks, each once; monthly columns ``branche_YYYY_MM``); the data then come in blocks
of persons as Arrow tables, so that a national extract never has to fit in memory as text.
Column names are matched in lower case (Statistics Denmark's SAS sets use upper case).
"""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from vip2analysis.contract.dream import Week, parse_month_column, parse_week_column
from vip2analysis.errors import RawFileError

__all__ = [
    "DREAM_PREFIX",
    "DREAM_SUFFIXES",
    "DreamFile",
    "is_dream_file",
    "open_dream",
]

DREAM_PREFIX = "dream"
DREAM_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".sas7bdat")
ID_COLUMN = "pnr"
SEX_COLUMN = "kon"
# optional person columns the extract may carry (lower case) -> canonical name
PERSON_COLUMNS = {
    "kon": "kon",
    "kom": "municipality",
    "kommune": "municipality",
    "bopael_kom": "municipality",
    "opr_land": "country",
    "oprindelsesland": "country",
    "ie_land": "country",
}
DEFAULT_BLOCK_ROWS = 65_536


def is_dream_file(path: str | os.PathLike[str]) -> bool:
    """True for a file named ``dream*`` with a suffix the reader takes."""
    name = Path(path).name.lower()
    return name.startswith(DREAM_PREFIX) and name.endswith(DREAM_SUFFIXES)


@dataclass
class DreamFile:
    """An opened DREAM extract: its checked header and a way to read it in blocks."""

    path: Path
    header: list[str]  # lower-case names in file order
    weeks: dict[str, Week]  # weekly column -> ISO week
    months: dict[str, tuple[int, int]]  # monthly column -> (year, month)
    person: dict[str, str]  # raw column -> canonical person column
    extra: list[str] = field(default_factory=list)  # columns kept aside (reported)
    delimiter: str | None = None
    encoding: str | None = None
    first_row: int = 2  # the row number (as the user sees it) of the first person

    @property
    def file(self) -> str:
        return self.path.name

    def blocks(self, rows: int = DEFAULT_BLOCK_ROWS) -> Iterator[pa.Table]:
        """The data in blocks of about ``rows`` persons; columns named as in ``header``."""
        name = self.path.name.lower()
        if name.endswith(".parquet"):
            pf = pq.ParquetFile(self.path)
            for batch in pf.iter_batches(batch_size=rows):
                yield _lower(pa.Table.from_batches([batch]))
        elif name.endswith(".sas7bdat"):
            import pyreadstat  # only a SAS user pays for it

            reader = pyreadstat.read_file_in_chunks(
                pyreadstat.read_sas7bdat, str(self.path), chunksize=rows
            )
            for frame, _ in reader:
                yield _lower(pa.Table.from_pandas(frame, preserve_index=False))
        else:
            yield from self._csv_blocks(rows)

    def _csv_blocks(self, rows: int) -> Iterator[pa.Table]:
        try:
            reader = pa_csv.open_csv(
                self.path,
                read_options=pa_csv.ReadOptions(
                    block_size=max(1 << 20, rows * 8 * max(1, len(self.header))),
                    encoding=self.encoding or "utf8",
                ),
                parse_options=pa_csv.ParseOptions(delimiter=self.delimiter or ","),
                convert_options=pa_csv.ConvertOptions(
                    column_types=dict.fromkeys(self._raw_header, pa.string()),
                    strings_can_be_null=True,
                    null_values=[""],
                ),
            )
            for batch in reader:
                yield _lower(pa.Table.from_batches([batch]))
        except pa.ArrowInvalid as exc:
            said = re.sub(r"\d{6}-?\d{4}", "XXXXXX-XXXX", str(exc))  # the row's pnr
            raise RawFileError(
                f"{self.file}: cannot be read as CSV (rule: every row has as many cells as "
                f"the header): {said}"
            ) from None

    _raw_header: list[str] = field(default_factory=list, repr=False)


def _lower(table: pa.Table) -> pa.Table:
    return table.rename_columns([c.strip().lower() for c in table.column_names])


def _csv_header(path: Path) -> tuple[list[str], str, str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            head = fh.read(1 << 20)
    except (OSError, EOFError) as exc:
        raise RawFileError(f"{path.name}: cannot be read: {exc}") from exc
    try:
        head.decode("utf-8")
        encoding = "utf8"
    except UnicodeDecodeError as exc:  # a character cut at the 1 MB boundary is not cp1252
        encoding = "cp1252" if exc.start < len(head) - 4 else "utf8"
    text = head.decode("utf-8" if encoding == "utf8" else "cp1252", errors="ignore")
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0].rstrip("\r")
    if not first.strip():
        raise RawFileError(f"{path.name}: the file is empty (no header row)")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return [c.strip().strip('"') for c in first.split(delimiter)], delimiter, encoding


def _header(path: Path) -> tuple[list[str], str | None, str | None]:
    name = path.name.lower()
    if path.stat().st_size == 0:
        raise RawFileError(f"{path.name}: the file is empty")
    if name.endswith(".parquet"):
        try:
            return list(pq.read_schema(path).names), None, None
        except (OSError, pa.ArrowException) as exc:
            raise RawFileError(f"{path.name}: not a readable parquet file: {exc}") from exc
    if name.endswith(".sas7bdat"):
        import pyreadstat

        try:
            _, meta = pyreadstat.read_sas7bdat(str(path), metadataonly=True)
        except pyreadstat.ReadstatError as exc:
            raise RawFileError(f"{path.name}: not a readable SAS data set: {exc}") from exc
        return list(meta.column_names), None, None
    return _csv_header(path)


def open_dream(path: str | os.PathLike[str]) -> DreamFile:
    """Open a DREAM extract and check its header.

    Raises
    ------
    RawFileError
        Naming the file, the column and the rule: an empty file, no ``pnr`` column, a
        column named twice, a weekly column that is no ISO week (``y_0954``), a malformed
        monthly column, or no weekly column at all.
    """
    path = Path(path)
    raw_header, delimiter, encoding = _header(path)
    header = [c.strip().lower() for c in raw_header]
    problems = []
    seen: set[str] = set()
    for c in header:
        if c in seen:
            problems.append(f"column {c!r} appears more than once (rule: each column once)")
        seen.add(c)
    if ID_COLUMN not in header:
        problems.append(
            f"no {ID_COLUMN!r} column (rule: a DREAM extract has one row per person, "
            "identified by pnr)"
        )
    weeks, months, person, extra = {}, {}, {}, []
    for c in header:
        if c.startswith("y_"):
            try:
                weeks[c] = parse_week_column(c)
            except ValueError as exc:
                problems.append(f"column {c!r}: {exc} (rule: y_YYWW, a real ISO week)")
        elif c.startswith("branche_"):
            try:
                months[c] = parse_month_column(c)
            except ValueError as exc:
                problems.append(f"column {c!r}: {exc}")
        elif c in PERSON_COLUMNS:
            person[c] = PERSON_COLUMNS[c]
        elif c != ID_COLUMN:
            extra.append(c)
    if not weeks and not problems:
        problems.append("no weekly column y_YYWW (rule: a DREAM extract has weekly codes)")
    if problems:
        raise RawFileError(f"{path.name}: " + "; ".join(problems))
    out = DreamFile(
        path=path,
        header=header,
        weeks=weeks,
        months=months,
        person=person,
        extra=extra,
        delimiter=delimiter,
        encoding=encoding,
        first_row=2 if delimiter is not None else 1,
    )
    out._raw_header = raw_header
    return out
