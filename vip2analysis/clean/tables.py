"""Cleaning: raw tables -> one validated, pseudonymised table per kind, with nothing lost.

Pure functions: :class:`~vip2analysis.io.read.RawTable` objects in, a :class:`CleanResult`
out; no file is read or written here. Every raw row ends up in exactly one place: the
clean table, the rejects table (file, row, column, raw value, reason code, sentence) or
the duplicates log. The CPR number is parsed, validated, turned into a keyed pseudonym
(``person_id``) and dropped: no clean table has a ``cpr`` column, and the rejects and
duplicates logs show CPR values masked (``3002XX-XXXX``). Ids pseudonymised before
(``ids="pseudonymised"``) are kept as they are, and a CPR among them is rejected.

Every value is mapped over the distinct values of its column, not row by row; only the
CPR number, nearly distinct per row, is parsed row by row in vectorised pyarrow kernels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from vip2analysis.clean.partitions import clean_kind_partitioned
from vip2analysis.clean.records import (
    _CLEANERS,
    NOTES,
    _empty_notes,
    _structural_rejects,
)
from vip2analysis.clean.rows import (
    _DUPLICATE_COLUMNS,
    _clean_rows,
    _conflict_rejects,
    _duplicates,
    _finish,
)
from vip2analysis.contract.cpr import mask_cpr
from vip2analysis.contract.schema import ID_MODES, RECORD_KEY, IdMode
from vip2analysis.contract.user_config import UserConfig
from vip2analysis.engine import Engine, LocalEngine, system_memory
from vip2analysis.errors import DataError, ParameterError
from vip2analysis.io.read import RawTable

__all__ = [
    "CleanResult",
    "clean_tables",
]


def _unnamed_notes(raw: RawTable) -> pd.DataFrame:
    """One note per column that holds values under an empty header (its rows stay)."""
    return pd.DataFrame(
        {
            "source_file": raw.file,
            "source_row": raw.header_row,
            "column": [f"(no header, column {p})" for p in raw.unnamed],
            "note": "unnamed_column",
            "message": [f"{NOTES['unnamed_column']}: {n} value(s)" for n in raw.unnamed.values()],
        }
    )


def _mask_values(rejects: pd.DataFrame) -> pd.DataFrame:
    """No CPR number leaves cleaning: mask the cpr column and anything CPR-shaped."""
    out = rejects.copy()
    text = out["raw_value"].astype("string").fillna("")
    is_cpr = out["column"].isin(["cpr", "pnr"])  # pnr: a DREAM extract's CPR column
    masked = mask_cpr(text[is_cpr]) if is_cpr.any() else text[is_cpr]
    text[is_cpr] = masked.fillna("")
    cpr_like = r"(?<!\d)(\d{2})(\d{2})\d{2}-?\d{4}(?!\d)"
    text[~is_cpr] = text[~is_cpr].str.replace(cpr_like, r"\1\2XX-XXXX", regex=True)
    out["raw_value"] = text.astype(object)
    return out


@dataclass
class CleanResult:
    """What cleaning returns: clean tables, rejects, duplicates log and the accounting.

    Attributes
    ----------
    tables
        Clean table per kind ('courses', 'ambassadors', 'activities'; 'register' with a DREAM extract),
        validated against :func:`vip2analysis.contract.schema.clean_schemas`.
    rejects
        One line per problem: source_file, source_row, column, raw_value (CPR masked),
        reason (a code of :data:`REASONS`), message.
    duplicates
        Exact duplicates removed: source_file, source_row, kept_file, kept_row, kind.
    accounting
        Per input file: raw_rows = clean_rows + rejected_rows + duplicate_rows.
    extra_columns
        Unknown headers per file (kept aside by the reader, reported here).
    notes
        Repairs and observations that reject nothing (e.g. a CPR's lost leading zero put
        back): source_file, source_row, column, note (a code of ``NOTES``), message.
    """

    tables: dict[str, pd.DataFrame]
    rejects: pd.DataFrame
    duplicates: pd.DataFrame
    accounting: pd.DataFrame
    extra_columns: dict[str, list[str]] = field(default_factory=dict)
    notes: pd.DataFrame = field(default_factory=_empty_notes)
    unnamed: dict[str, dict[int, int]] = field(default_factory=dict)
    ignored_files: list[tuple[str, str]] = field(default_factory=list)
    failed_files: list[tuple[str, str]] = field(default_factory=list)
    config: dict[str, str] = field(default_factory=dict)
    ids: IdMode = "cpr"
    options: dict[str, Any] = field(default_factory=dict)
    register: dict[str, Any] = field(default_factory=dict)
    """What cleaning a DREAM extract found: span, persons, unknown codes (empty without one)."""

    @property
    def courses(self) -> pd.DataFrame:
        return self.tables["courses"]

    def accounting_dict(self) -> dict[str, Any]:
        """The accounting as plain data (for JSON), with totals."""
        per_file = self.accounting.to_dict(orient="records")
        numbers = ["raw_rows", "clean_rows", "rejected_rows", "duplicate_rows"]
        total = {k: int(self.accounting[k].sum()) for k in numbers}
        reasons = self.rejects.drop_duplicates(["source_file", "source_row", "reason"])
        return {
            "files": [{k: (int(v) if k in numbers else v) for k, v in r.items()} for r in per_file],
            "total": {**total, "balanced": bool(self.accounting["balanced"].all())},
            "ids": self.ids,
            "options": self.options,
            "rejects_by_reason": {
                str(k): int(v) for k, v in reasons["reason"].value_counts().sort_index().items()
            },
            "extra_columns": self.extra_columns,
            "config": self.config,
            "ignored_files": [{"file": f, "why": w} for f, w in self.ignored_files],
            "failed_files": [{"file": f, "error": e} for f, e in self.failed_files],
            "unnamed_columns": {
                str(file): {str(p): int(n) for p, n in cols.items()}
                for file, cols in self.unnamed.items()
            },
            "notes_by_kind": {
                str(k): int(v) for k, v in self.notes["note"].value_counts().sort_index().items()
            },
            "register": self.register,
        }


def _clean_kind(
    tables: list[RawTable], kind: str, config: UserConfig, ids: IdMode
) -> tuple[pd.DataFrame, pd.Series, list[pd.DataFrame], list[pd.DataFrame]]:
    """Row-level cleaning of all files of one kind.

    Returns the candidate rows (with cpr), the mask of those without a reject (filtered
    once, after the duplicates), the reject tables and the notes.
    """
    frames, ok, rejects, notes = [], [], [], []
    for raw in tables:
        frame, fine, found, noted = _clean_rows(raw.data, kind, config, ids)
        frames.append(frame)
        ok.append(fine)
        rejects += [_structural_rejects(raw), *found]
        notes.append(noted)
    return pd.concat(frames, ignore_index=True), pd.concat(ok, ignore_index=True), rejects, notes


def _account(
    tables: list[RawTable], clean: dict, rejects: pd.DataFrame, dups: pd.DataFrame
) -> pd.DataFrame:
    rows = []
    for raw in tables:
        n_clean = (
            int((clean[raw.kind]["source_file"] == raw.file).sum()) if raw.kind in clean else 0
        )
        n_rej = rejects.loc[rejects["source_file"] == raw.file, "source_row"].nunique()
        n_dup = int((dups["source_file"] == raw.file).sum())
        rows.append(
            {
                "file": raw.file,
                "kind": raw.kind,
                "raw_rows": raw.n_rows,
                "clean_rows": n_clean,
                "rejected_rows": int(n_rej),
                "duplicate_rows": n_dup,
            }
        )
    acc = pd.DataFrame(
        rows, columns=["file", "kind", "raw_rows", "clean_rows", "rejected_rows", "duplicate_rows"]
    )
    acc["balanced"] = acc["raw_rows"] == acc[["clean_rows", "rejected_rows", "duplicate_rows"]].sum(
        axis=1
    )
    return acc


@system_memory()
def clean_tables(
    tables: list[RawTable],
    *,
    key: bytes | None,
    config: UserConfig | None = None,
    ids: IdMode = "cpr",
    engine: Engine | None = None,
    partition_rows: int | None = None,
) -> CleanResult:
    """Clean raw tables of any kinds into validated, pseudonymised tables.

    Parameters
    ----------
    tables
        Raw tables from :func:`vip2analysis.io.read.read_file`; file names must be unique.
    key
        The pseudonymisation key (see :func:`vip2analysis.clean.keys.resolve_key`); not
        used, and may be None, with ``ids="pseudonymised"``.
    config
        A user's configuration (:func:`~vip2analysis.contract.user_config.load_user_config`):
        more wordings, job packages and municipality spellings.
    ids
        ``"cpr"`` (default): the id column holds CPR numbers; they are validated, give
        birth date and sex, and are replaced by the keyed pseudonym. ``"pseudonymised"``:
        the ids were pseudonymised before (e.g. Statistics Denmark's project PNR); they
        are kept as ``person_id`` without validation or hashing, an id that could be a
        real CPR number is rejected (``id_looks_like_cpr``), and sex and birth date come
        from their own columns or stay missing.
    engine, partition_rows
        Where to clean: by default in this process, in one piece. With a Dask engine
        (:mod:`vip2analysis.engine`), or with ``partition_rows``, each file is cleaned in
        partitions of ``partition_rows`` rows (by default as many equal partitions as the
        engine has workers, see :func:`~vip2analysis.clean.partitions.partition_size`) on
        the engine's workers, duplicates found by a shuffle on the record key
        (:mod:`vip2analysis.clean.partitions`); the result is identical.

    Returns
    -------
    CleanResult
        Every raw row is in exactly one of: a clean table, ``rejects``, ``duplicates``.

    Examples
    --------
    >>> from vip2analysis.contract import DEMO_KEY
    >>> from vip2analysis.config import SYNTHETIC_RAW
    >>> from vip2analysis.io import read_file
    >>> res = clean_tables([read_file(SYNTHETIC_RAW / "gladsaxe.csv")], key=DEMO_KEY)
    >>> res.accounting[["raw_rows", "clean_rows", "rejected_rows", "duplicate_rows"]].iloc[0].tolist()
    [71, 68, 2, 1]
    >>> "cpr" in res.courses.columns
    False
    """
    if ids not in ID_MODES:
        raise ParameterError(f"`ids` must be one of {', '.join(ID_MODES)}, got {ids!r}")
    if key is None and ids == "cpr":
        raise ParameterError("CPR numbers need a key: pass `key=` (or use ids='pseudonymised')")
    names = [t.file for t in tables]
    if len(set(names)) != len(names):
        raise DataError(f"file names must be unique, got {names}")
    if partition_rows is not None and partition_rows < 1:
        raise ParameterError(f"`partition_rows` must be at least 1, got {partition_rows}")
    clean, rejects, dup_logs, notes = {}, [], [], []
    for kind in _CLEANERS:
        mine = [t for t in tables if t.kind == kind]
        if not mine:
            continue
        if partition_rows or (engine is not None and engine.ships):
            table, kind_rejects, log, kind_notes = clean_kind_partitioned(
                mine,
                kind,
                key=key,
                config=config or UserConfig(),
                ids=ids,
                engine=engine or LocalEngine(),
                partition_rows=partition_rows,
            )
            clean[kind] = table
            rejects += kind_rejects
            dup_logs.append(log)
            notes += kind_notes
            continue
        candidates, ok, kind_rejects, kind_notes = _clean_kind(
            mine, kind, config or UserConfig(), ids
        )
        notes += kind_notes

        exact, log, conflict = _duplicates(candidates, ok, list(RECORD_KEY[kind]))
        rejects += [*kind_rejects, _conflict_rejects(candidates, conflict, list(RECORD_KEY[kind]))]
        dup_logs.append(log)
        clean[kind] = _finish(candidates[ok & ~exact & ~conflict], kind, key, ids)
    return _assemble(tables, clean, rejects, dup_logs, notes, ids)


def _assemble(
    tables: list[RawTable],
    clean: dict[str, pd.DataFrame],
    rejects: list[pd.DataFrame],
    dup_logs: list[pd.DataFrame],
    notes: list[pd.DataFrame],
    ids: IdMode,
) -> CleanResult:
    """The result from the clean tables and the pieces of rejects, duplicates and notes
    (each in the order the rows were read): CPR masked, sorted by file and row, counted."""
    all_rejects = _mask_values(pd.concat(rejects, ignore_index=True))
    all_rejects = all_rejects.sort_values(["source_file", "source_row"], kind="stable").reset_index(
        drop=True
    )
    dups = (
        pd.concat(dup_logs, ignore_index=True)
        if dup_logs
        else pd.DataFrame(columns=_DUPLICATE_COLUMNS)
    )
    accounting = _account(tables, clean, all_rejects, dups)
    extra = {t.file: t.extra_columns for t in tables if t.extra_columns}
    notes = [*notes, *(_unnamed_notes(t) for t in tables if t.unnamed)]
    all_notes = (
        pd.concat(notes, ignore_index=True)
        .sort_values(["source_file", "source_row"], kind="stable")
        .reset_index(drop=True)
        if notes
        else _empty_notes()
    )
    unnamed = {t.file: t.unnamed for t in tables if t.unnamed}
    return CleanResult(clean, all_rejects, dups, accounting, extra, all_notes, unnamed, ids=ids)
