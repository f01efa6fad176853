"""The I/O edge of cleaning: a folder of raw files in, ``data/processed/`` out.

``run_clean`` reads every data file of a folder, decides the pseudonymisation key, cleans
(:func:`vip2analysis.clean.clean_tables`) and writes the outputs atomically: everything
is written into a temporary folder first, so a failed run leaves the previous output intact.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from vip2analysis.clean import CleanResult, clean_tables
from vip2analysis.cpr import DEMO_KEY_ID, resolve_key
from vip2analysis.read import ReadError, find_raw_files, read_file

__all__ = ["OUTPUT_FILES", "CleanError", "is_synthetic", "run_clean", "write_outputs"]

OUTPUT_FILES = (
    "courses.parquet",
    "comparison.parquet",
    "ambassadors.parquet",
    "activities.parquet",
    "rejects.csv",
    "duplicates.csv",
    "accounting.json",
)
_MARKER = "SYNTHETIC.json"


class CleanError(Exception):
    """A fatal problem for the whole run (no input, unreadable file, no key)."""


def is_synthetic(raw_dir: str | os.PathLike[str]) -> bool:
    """True when the folder declares itself the bundled synthetic set with the demo key."""
    marker = Path(raw_dir) / _MARKER
    if not marker.is_file():
        return False
    try:
        info = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return info.get("synthetic") is True and info.get("pseudonym_key") == DEMO_KEY_ID


def _key(raw_dir: Path, key_file: Path | None, env: Mapping[str, str] | None) -> bytes:
    from vip2analysis.cpr import PseudonymKeyError

    try:
        return resolve_key(key_file=key_file, env=env, allow_demo=is_synthetic(raw_dir))
    except PseudonymKeyError as exc:
        raise CleanError(str(exc)) from exc


def _read_all(raw_dir: Path) -> list:
    if not raw_dir.is_dir():
        raise CleanError(f"{raw_dir}: no such folder of raw files")
    files = find_raw_files(raw_dir)
    if not files:
        raise CleanError(f"{raw_dir}: no input files (.csv, .txt, .xlsx) in the folder")
    tables = []
    for path in files:
        try:
            tables.append(read_file(path))
        except ReadError as exc:
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
    write_outputs(result, out_dir, synthetic=is_synthetic(raw_dir), source=str(raw_dir))
    return result


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def write_outputs(
    result: CleanResult, out_dir: str | os.PathLike[str], *, synthetic: bool, source: str
) -> None:
    """Write clean tables, rejects, duplicates and accounting; replace atomically per file."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".clean-", dir=out))
    try:
        for kind, table in result.tables.items():
            table.to_parquet(tmp / f"{kind}.parquet", index=False)
        (tmp / "rejects.csv").write_bytes(_csv(result.rejects))
        (tmp / "duplicates.csv").write_bytes(_csv(result.duplicates))
        accounting: dict[str, Any] = {"synthetic": synthetic, "source": Path(source).name}
        accounting.update(result.accounting_dict())
        (tmp / "accounting.json").write_text(
            json.dumps(accounting, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        written = {p.name for p in tmp.iterdir()}
        for name in OUTPUT_FILES:
            if name in written:
                os.replace(tmp / name, out / name)
            elif (out / name).exists():
                (out / name).unlink()  # stale output of an earlier run with other inputs
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
