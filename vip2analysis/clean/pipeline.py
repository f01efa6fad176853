"""The cleaning step as a whole: raw folder -> processed folder, with the key resolved."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vip2analysis.clean.keys import resolve_key
from vip2analysis.clean.tables import CleanResult, clean_tables
from vip2analysis.errors import CleanError, KeyMissingError, RawFileError
from vip2analysis.io.files import tree_digest
from vip2analysis.io.processed import is_synthetic, write_processed
from vip2analysis.io.read import RawTable, find_raw_files, read_file

__all__ = [
    "run_clean",
    "source_digest",
    "write_result",
]


def _key(raw_dir: Path, key_file: Path | None, env: Mapping[str, str] | None) -> bytes:
    try:
        return resolve_key(key_file=key_file, env=env, allow_demo=is_synthetic(raw_dir))
    except KeyMissingError as exc:
        raise CleanError(str(exc)) from exc


def _read_all(raw_dir: Path) -> list[RawTable]:
    if not raw_dir.is_dir():
        raise CleanError(f"{raw_dir}: no such folder of raw files")
    files = find_raw_files(raw_dir)
    if not files:
        raise CleanError(f"{raw_dir}: no input files (.csv, .txt, .xlsx) in the folder")
    tables = []
    for path in files:
        try:
            tables.append(read_file(path))
        except RawFileError as exc:
            raise CleanError(str(exc)) from exc
    return tables


def run_clean(
    raw_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    key_file: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> CleanResult:
    """Clean every data file in ``raw_dir`` and write the outputs into ``out_dir``.

    Raises
    ------
    CleanError
        No input files, an unreadable file, a missing required column, or no key.
    """
    raw_dir = Path(raw_dir)
    tables = _read_all(raw_dir)
    key = _key(raw_dir, Path(key_file) if key_file else None, env)
    result = clean_tables(tables, key=key)
    write_result(result, out_dir, raw_dir=raw_dir)
    return result


def write_result(
    result: CleanResult, out_dir: str | os.PathLike[str], *, raw_dir: str | os.PathLike[str]
) -> None:
    """Write a cleaning result into ``out_dir``, recording which raw folder it came from.

    ``accounting.json`` records the raw folder (``source_path``) and a digest of its files
    (``source_digest``), so that the build re-cleans only from that same folder, and only
    when its content changed (:func:`source_digest`).
    """
    raw = Path(raw_dir)
    accounting: dict[str, Any] = {
        "synthetic": is_synthetic(raw),
        "source": raw.name,
        "source_path": str(raw.resolve()),
        "source_digest": source_digest(raw),
    }
    accounting.update(result.accounting_dict())
    write_processed(
        out_dir,
        tables=result.tables,
        rejects=result.rejects,
        duplicates=result.duplicates,
        accounting=accounting,
        notes=result.notes,
    )


def source_digest(raw_dir: str | os.PathLike[str]) -> str:
    """One sha256 over the names and contents of every file in a raw folder."""
    raw = Path(raw_dir)
    return tree_digest([p for p in raw.rglob("*") if p.is_file()], raw)
