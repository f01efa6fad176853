"""The cleaning step as a whole: raw folder -> processed folder, with the key resolved."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from vip2analysis.clean.dream import DreamResult, clean_dream
from vip2analysis.clean.keys import resolve_key
from vip2analysis.clean.tables import CleanResult, _mask_values, clean_tables
from vip2analysis.contract.schema import IdMode
from vip2analysis.contract.user_config import CONFIG_NAME, UserConfig, load_user_config
from vip2analysis.engine import Engine, system_memory
from vip2analysis.errors import CleanError, KeyMissingError, RawFileError
from vip2analysis.io.dream import DreamFile, is_dream_file, open_dream
from vip2analysis.io.files import tree_digest
from vip2analysis.io.processed import is_synthetic, panel_table, write_processed
from vip2analysis.io.read import RawTable, read_file, scan_raw_folder

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


@dataclass
class _Inputs:
    tables: list[RawTable]
    ignored: list[tuple[str, str]]
    failed: list[tuple[str, str]]
    files: list[Path]
    dream: list[DreamFile]


def _read_all(
    raw_dir: Path | None,
    files: Sequence[Path] | None,
    *,
    exclude: Sequence[str],
    sheet: str | None,
    keep_going: bool,
    config: UserConfig,
) -> _Inputs:
    """Read every input file; collect every fatal file problem before failing."""
    if files:
        missing = [str(p) for p in files if not Path(p).is_file()]
        if missing:
            raise CleanError(f"no such file(s): {', '.join(missing)}")
        given = [Path(p) for p in files]
        paths = [p for p in given if not is_dream_file(p)]
        dream_paths, ignored = [p for p in given if is_dream_file(p)], []
    else:
        if raw_dir is None or not raw_dir.is_dir():
            raise CleanError(f"{raw_dir}: no such folder of raw files")
        folder = scan_raw_folder(raw_dir, exclude=exclude)
        paths, ignored, dream_paths = folder.data, folder.ignored, folder.dream
    if not paths:
        raise CleanError(f"{raw_dir}: no input files (.csv, .xlsx) in the folder")
    tables, failed, dream = [], [], []
    for path in dream_paths:
        try:
            dream.append(open_dream(path))
        except RawFileError as exc:
            failed.append((path.name, str(exc)))
    for path in paths:
        try:
            chosen = sheet if path.suffix.lower() != ".csv" else None
            tables.append(read_file(path, sheet=chosen, config=config))
        except RawFileError as exc:
            failed.append((path.name, str(exc)))
    if failed and not keep_going:
        listed = "\n".join(f"  - {message}" for _, message in failed)
        raise CleanError(
            f"{len(failed)} of {len(paths)} file(s) cannot be read; nothing was written:\n"
            f"{listed}\nFix them, pass --exclude GLOB to leave them out, or --keep-going to "
            "clean the others"
        )
    if not tables:
        raise CleanError("no file could be read: " + "; ".join(m for _, m in failed))
    return _Inputs(tables, ignored, failed, [*paths, *dream_paths], dream)


@system_memory()
def run_clean(
    raw_dir: str | os.PathLike[str] | None,
    out_dir: str | os.PathLike[str],
    *,
    files: Sequence[str | os.PathLike[str]] | None = None,
    exclude: Sequence[str] = (),
    sheet: str | None = None,
    keep_going: bool = False,
    config: str | os.PathLike[str] | UserConfig | None = None,
    key_file: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    ids: IdMode = "cpr",
    engine: Engine | None = None,
    partition_rows: int | None = None,
) -> CleanResult:
    """Clean every data file in ``raw_dir`` (or the explicit ``files``) into ``out_dir``.

    Lock files, hidden files, files matching an ``exclude`` glob and files that are not
    CSV/XLSX are passed over and listed in ``accounting.json`` (``ignored_files``). Every
    file that cannot be read is reported at once; the run then stops without writing
    anything, unless ``keep_going``, which cleans the others and lists the bad ones
    (``failed_files``). ``sheet`` names the sheet to read in every workbook. ``config`` is
    a ``vip2.yaml`` (path or loaded); by default ``vip2.yaml`` in ``raw_dir`` when there is
    one. Its sha256 is recorded in ``accounting.json``. ``ids="pseudonymised"`` keeps ids
    pseudonymised before as they are (no key is needed; see
    :func:`~vip2analysis.clean.tables.clean_tables`). ``engine`` and ``partition_rows``
    choose where the course files are cleaned (see ``clean_tables``); the files written
    are the same on every engine.

    Raises
    ------
    CleanError
        No input files, unreadable files (all of them named), a missing required column,
        or no key.
    """
    folder = Path(raw_dir) if raw_dir is not None else None
    paths = [Path(p) for p in files] if files else None
    if config is None and folder is not None and (folder / CONFIG_NAME).is_file():
        config = folder / CONFIG_NAME
    user = config if isinstance(config, UserConfig) else load_user_config(config)
    inputs = _read_all(
        folder, paths, exclude=exclude, sheet=sheet, keep_going=keep_going, config=user
    )
    key = None
    if ids == "cpr":  # pseudonyms made elsewhere are not hashed again: no key
        key_dir = folder if folder is not None else inputs.files[0].parent
        key = _key(key_dir, Path(key_file) if key_file else None, env)
    result = clean_tables(
        inputs.tables,
        key=key,
        config=user,
        ids=ids,
        engine=engine,
        partition_rows=partition_rows,
    )
    if inputs.dream:
        try:
            dream = clean_dream(
                inputs.dream,
                key=key,
                ids=ids,
                engine=engine,
                **({"block_rows": partition_rows} if partition_rows else {}),
            )
            _add_register(result, dream)
        except RawFileError as exc:
            raise CleanError(str(exc)) from exc
    result.config = {"path": user.source, "sha256": user.digest} if user.source else {}
    result.ignored_files = [i for i in inputs.ignored if i[0] != CONFIG_NAME or not user.source]
    result.failed_files = inputs.failed
    # what a re-clean by the build must repeat (the config is found again in raw_dir)
    result.options = {"sheet": sheet, "exclude": list(exclude), "keep_going": keep_going}
    write_result(result, out_dir, raw_dir=folder, files=inputs.files if paths else None)
    return result


def _add_register(result: CleanResult, register: DreamResult) -> None:
    """Put a cleaned DREAM extract into the cleaning result: its wide table, its rejects,
    duplicates and accounting rows, and its summary (span, unknown codes)."""
    result.tables["register"] = panel_table(register.panel)
    result.rejects = _mask_values(pd.concat([result.rejects, register.rejects], ignore_index=True))
    if len(register.duplicates):
        result.duplicates = pd.concat([result.duplicates, register.duplicates], ignore_index=True)
    result.accounting = pd.concat([result.accounting, register.accounting], ignore_index=True)
    result.extra_columns.update(register.extra_columns)
    result.register = register.summary()


def write_result(
    result: CleanResult,
    out_dir: str | os.PathLike[str],
    *,
    raw_dir: str | os.PathLike[str] | None,
    files: Sequence[Path] | None = None,
) -> None:
    """Write a cleaning result into ``out_dir``, recording which raw folder it came from.

    ``accounting.json`` records the raw folder (``source_path``) and a digest of its files
    (``source_digest``), so that the build re-cleans only from that same folder, and only
    when its content changed (:func:`source_digest`).
    """
    accounting: dict[str, Any]
    if files is None:
        if raw_dir is None:
            raise CleanError("write_result needs the raw folder or the list of files")
        raw = Path(raw_dir)
        accounting = {
            "synthetic": is_synthetic(raw),
            "source": raw.name,
            "source_path": str(raw.resolve()),
            "source_digest": source_digest(raw),
        }
    else:  # explicit files: the build never re-cleans them from a folder behind the user
        accounting = {
            "synthetic": all(is_synthetic(p.parent) for p in files),
            "source": "files",
            "source_files": [str(p.resolve()) for p in files],
            "source_digest": tree_digest(list(files), Path("/")),
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
