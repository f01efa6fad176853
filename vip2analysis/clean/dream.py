"""Cleaning DREAM extracts: the same rules as every other file, for a weekly register.

Each person row's CPR number (``pnr``) is validated and replaced by the same keyed
pseudonym as in the course files, so the register links to the courses by ``person_id``;
invalid rows are rejected with file, row and reason; exact duplicate persons are collapsed
and conflicting ones rejected; every raw row is accounted for. Weekly codes become small
integers (0 = blank). A code that is not three digits rejects its row (the first such
cell is named); a three-digit code the shipped table does not know is kept, counted by
column and code, and its week is treated as unknown by the measures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from vip2analysis.clean.records import _REJECT_COLUMNS, REASONS
from vip2analysis.clean.rows import _conflict_rejects, _duplicates
from vip2analysis.contract.cpr import mask_cpr, parse_cpr, pseudonymise
from vip2analysis.contract.dream import (
    MISSING_WEEK,
    Week,
    WeeklyPanel,
    iso_weeks,
    load_dream_codes,
)
from vip2analysis.contract.reference import match_country, match_municipality
from vip2analysis.contract.schema import IdMode
from vip2analysis.engine import Engine
from vip2analysis.errors import RawFileError
from vip2analysis.io.dream import ID_COLUMN, DreamFile

__all__ = [
    "DREAM_REASONS",
    "DreamResult",
    "clean_dream",
]

DREAM_REASONS: dict[str, str] = {
    "dream_code_format": "a weekly code that is not three digits (100-999) or blank",
    "dream_sex_unknown": "a kon value that is not K/M/Kvinde/Mand/1/2",
    "conflicting_duplicate_person": (
        "the same person more than once in the extract with different values"
    ),
}

_SEX = {"k": "F", "kvinde": "F", "2": "F", "f": "F", "m": "M", "mand": "M", "1": "M"}
_HISTORY = "y_*/branche_*"  # the weekly history, as one column in duplicate checks


@dataclass
class DreamResult:
    """A cleaned DREAM extract and what cleaning said about it."""

    panel: WeeklyPanel
    rejects: pd.DataFrame
    duplicates: pd.DataFrame
    accounting: pd.DataFrame  # one row per file: raw = clean + rejected + duplicates
    unknown_codes: pd.DataFrame  # file, column, code, weeks
    extra_columns: dict[str, list[str]] = field(default_factory=dict)
    code_table: str = ""

    def summary(self) -> dict[str, Any]:
        """For ``accounting.json``: the register's span, persons and unknown codes."""
        weeks = self.panel.weeks
        return {
            "code_table": self.code_table,
            "persons": len(self.panel.persons),
            "first_week": weeks[0].column if weeks else None,
            "last_week": weeks[-1].column if weeks else None,
            "weeks": len(weeks),
            "months_with_branche": len(self.panel.months),
            "missing_week_columns": int(
                (self.panel.codes[:1] == MISSING_WEEK).sum() if len(self.panel.codes) else 0
            ),
            "unknown_code_weeks": int(self.unknown_codes["weeks"].sum()),
            "unknown_codes": self.unknown_codes.to_dict(orient="records"),
        }


@dataclass
class _Block:
    persons: pd.DataFrame  # raw person columns (text) + source_row
    codes: np.ndarray
    branche: np.ndarray
    bad: pd.DataFrame  # source_row, column, raw_value, extra_cells


def _as_codes(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(codes int16 with 0 for blank, bad-cell mask) of one weekly column."""
    t = column.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        text = pc.utf8_trim_whitespace(column)
        blank = pc.or_kleene(pc.is_null(text), pc.equal(text, ""))
        ok = pc.and_(pc.equal(pc.utf8_length(text), 3), pc.utf8_is_digit(text))
        ok = pc.fill_null(ok, False)
        values = pc.cast(pc.if_else(ok, text, pa.scalar(None, pa.string())), pa.int16())
        codes = pc.fill_null(values, 0).to_numpy().astype(np.int16)
        bad = ~(ok.to_numpy(zero_copy_only=False) | pc.fill_null(blank, True).to_numpy(False))
        low = ok.to_numpy(zero_copy_only=False) & (codes < 100)  # '000'-'099': no code
        codes[low] = 0
        return codes, bad | low
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_null(t):
        values = column.to_numpy(zero_copy_only=False).astype(float)
        present = ~np.isnan(values)
        ok = present & (values == np.floor(values)) & (values >= 100) & (values <= 999)
        return np.where(ok, values, 0).astype(np.int16), present & ~ok
    raise RawFileError(f"weekly column of type {t}: codes must be text or whole numbers")


def _as_flag(column: pa.ChunkedArray) -> np.ndarray:
    """1 where a monthly ``branche_`` cell is not blank."""
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        text = pc.utf8_trim_whitespace(column)
        filled = pc.fill_null(pc.greater(pc.utf8_length(text), 0), False)
        return filled.to_numpy(zero_copy_only=False).astype(np.uint8)
    # a number: missing or 0 is blank (as measure_file reads it)
    values = pd.to_numeric(pd.Series(column.to_numpy(zero_copy_only=False)), errors="coerce")
    return (values.notna() & values.ne(0)).to_numpy().astype(np.uint8)


def _text(column: pa.ChunkedArray, *, cpr: bool = False) -> pd.Series:
    """Text of a person column; numbers (SAS, parquet) as whole-number text. A CPR number
    stored as a number has lost a leading zero when it has 9 digits: it is put back (the
    rule for number cells in course files)."""
    if pa.types.is_floating(column.type) or pa.types.is_integer(column.type):
        values = pd.Series(column.to_pandas())
        whole = values.dropna() == values.dropna().round()
        if bool(whole.all()):
            text = values.astype("Int64").astype("string")
            if cpr:
                text = text.mask(text.str.len() == 9, "0" + text)
            return text
    return column.cast(pa.string()).to_pandas(types_mapper=pd.ArrowDtype).astype("string")


def _read_block(
    raw: DreamFile,
    table: pa.Table,
    start: int,
    position: dict[str, int],
    n_weeks: int,
    months: dict[tuple[int, int], int],
) -> _Block:
    n = table.num_rows
    codes = np.full((n, n_weeks), MISSING_WEEK, dtype=np.int16)
    bad_cells = np.zeros((n, n_weeks), dtype=bool)
    for col, _ in raw.weeks.items():
        c, b = _as_codes(table.column(col))
        codes[:, position[col]] = c
        bad_cells[:, position[col]] = b
    branche = np.zeros((n, len(months)), dtype=np.uint8)
    for col, ym in raw.months.items():
        branche[:, months[ym]] |= _as_flag(table.column(col))
    rows = np.arange(start, start + n) + raw.first_row
    persons = pd.DataFrame({"source_row": rows})
    persons["pnr_raw"] = _text(table.column(ID_COLUMN), cpr=True).to_numpy()
    for col, canon in raw.person.items():
        persons[canon] = _text(table.column(col)).to_numpy()
    bad_rows = np.flatnonzero(bad_cells.any(axis=1))
    by_position = {p: c for c, p in position.items()}
    first = bad_cells[bad_rows].argmax(axis=1)
    bad = pd.DataFrame(
        {
            "source_row": rows[bad_rows],
            "column": [by_position[int(p)] for p in first],
            "raw_value": [
                str(table.column(by_position[int(p)])[int(r)].as_py())
                for r, p in zip(bad_rows, first, strict=True)
            ],
            "extra_cells": bad_cells[bad_rows].sum(axis=1) - 1,
        }
    )
    return _Block(persons, codes, branche, bad)


def _convert(
    raw: DreamFile,
    table: pa.Table,
    start: int,
    position: dict[str, int],
    weeks: list[Week],
    months: dict[tuple[int, int], int],
    flags: np.ndarray,
) -> tuple[_Block, pd.DataFrame | None, Counter[tuple[str, str, int]]]:
    """One block of persons: codes and flags as arrays, the rows whose codes are not
    three digits (as rejects), and the unknown codes counted by file, column and code.
    Each row's outcome depends on that row alone, so blocks of any size give the same."""
    block = _read_block(raw, table, start, position, len(weeks), months)
    block.persons["source_file"] = raw.file
    bad = None
    if len(block.bad):
        more = block.bad["extra_cells"].map(
            lambda n: f" ({n} more such cell(s) in the row)" if n else ""
        )
        bad = pd.DataFrame(
            {
                "source_file": raw.file,
                "source_row": block.bad["source_row"],
                "column": block.bad["column"],
                "raw_value": block.bad["raw_value"],
                "reason": "dream_code_format",
                "message": DREAM_REASONS["dream_code_format"] + more,
            }
        )
    found: Counter[tuple[str, str, int]] = Counter()
    odd = (block.codes > 0) & (block.codes < MISSING_WEEK)
    odd &= (flags[np.clip(block.codes, 0, MISSING_WEEK)] & 16) != 0
    if odd.any():
        r, c = np.nonzero(odd)
        for (col, code), n in Counter(
            zip(c.tolist(), block.codes[r, c].tolist(), strict=True)
        ).items():
            found[(raw.file, weeks[col].column, int(code))] += n
    return block, bad, found


def _span(files: Sequence[DreamFile]) -> tuple[list[Week], dict[str, int]]:
    all_weeks = sorted({w for f in files for w in f.weeks.values()})
    weeks = iso_weeks(all_weeks[0], all_weeks[-1])
    return weeks, {w.column: i for i, w in enumerate(weeks)}


def _reject(
    rows: pd.Series, file: str, reason: str, column: str, raw: Any, extra: str = ""
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_file": file,
            "source_row": rows.to_numpy(),
            "column": column,
            "raw_value": raw,
            "reason": reason,
            "message": (REASONS.get(reason) or DREAM_REASONS[reason]) + extra,
        },
        columns=_REJECT_COLUMNS,
    )


def clean_dream(
    files: Sequence[DreamFile],
    *,
    key: bytes | None,
    ids: IdMode = "cpr",
    block_rows: int = 65_536,
    engine: Engine | None = None,
) -> DreamResult:
    """Clean one or more DREAM extracts into one :class:`WeeklyPanel`.

    The file is read here, block by block; on a Dask ``engine`` each block's codes are
    converted and checked on a worker while the next block is read (the CPR numbers are
    checked and pseudonymised once all blocks are in, as duplicates need every person).

    Weeks span from the earliest to the latest weekly column of all files; a week a file
    has no column for is unknown (:data:`~vip2analysis.contract.dream.MISSING_WEEK`).
    ``source_row`` is the line of a CSV file (header = 1) and the record number of a
    parquet or SAS file.
    """
    codes_table = load_dream_codes()
    weeks, position = _span(files)
    months_sorted = sorted({m for f in files for m in f.months.values()})
    months = {m: i for i, m in enumerate(months_sorted)}
    persons, code_blocks, branche_blocks, rejects = [], [], [], []
    unknown: Counter[tuple[str, str, int]] = Counter()
    counts: dict[str, int] = {}
    converted: list[Any] = []  # results, or Dask futures of them
    runner = engine if engine is not None and engine.ships else None
    for raw in files:
        start = 0
        for table in raw.blocks(block_rows):
            call = (raw, table, start, position, weeks, months, codes_table.flags)
            # on Dask a worker converts the block while this process reads the next
            converted += runner.submit(_convert, [call]) if runner else [_convert(*call)]
            start += table.num_rows
        counts[raw.file] = start
    for block, bad, found in runner.gather(converted) if runner else converted:
        persons.append(block.persons)
        code_blocks.append(block.codes)
        branche_blocks.append(block.branche)
        if bad is not None:
            rejects.append(bad)
        unknown.update(found)
    if not persons or sum(counts.values()) == 0:
        raise RawFileError(
            ", ".join(f.file for f in files) + ": no person rows (the file has a header only)"
        )
    frame = pd.concat(persons, ignore_index=True)
    codes = np.concatenate(code_blocks)
    branche = np.concatenate(branche_blocks)
    del code_blocks, branche_blocks
    return _finish(
        files,
        frame,
        codes,
        branche,
        rejects,
        unknown,
        counts,
        weeks,
        months_sorted,
        key=key,
        ids=ids,
        version=codes_table.version,
    )


def _history_hash(codes: np.ndarray, branche: np.ndarray) -> pd.Series:
    h = pd.util.hash_pandas_object(pd.DataFrame(codes), index=False).to_numpy()
    if branche.shape[1]:
        h = h ^ (pd.util.hash_pandas_object(pd.DataFrame(branche), index=False).to_numpy() * 31)
    return pd.Series(h.astype(np.uint64).astype(str))


def _finish(
    files: Sequence[DreamFile],
    frame: pd.DataFrame,
    codes: np.ndarray,
    branche: np.ndarray,
    rejects: list[pd.DataFrame],
    unknown: Counter,
    counts: dict[str, int],
    weeks: list[Week],
    months: list[tuple[int, int]],
    *,
    key: bytes | None,
    ids: IdMode,
    version: str,
) -> DreamResult:
    text = frame["pnr_raw"].str.strip()
    if ids == "pseudonymised":
        looks = parse_cpr(text)["reason"].isna()
        missing = text.isna() | text.eq("")
        reason = pd.Series(pd.NA, index=frame.index, dtype="string")
        reason[missing] = "id_missing"
        reason[looks] = "id_looks_like_cpr"
        birth = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[s]")
        cpr_sex = pd.Series(pd.NA, index=frame.index, dtype="string")
        ident = text
    else:
        parsed = parse_cpr(text)
        reason, birth, cpr_sex, ident = (
            parsed["reason"],
            parsed["birth_date"],
            parsed["sex"],
            parsed["cpr"],
        )
    for file in counts:
        mine = frame["source_file"].eq(file)
        bad_id = mine & reason.notna()
        for why in reason[bad_id].unique():
            sel = bad_id & reason.eq(why)
            shown = mask_cpr(frame.loc[sel, "pnr_raw"].astype("string")).fillna("")
            many = shown.str.count(r"\d") > 4  # a malformed number mask_cpr cannot place
            shown = shown.mask(many, shown.str.replace(r"\d", "X", regex=True))
            rejects.append(_reject(frame.loc[sel, "source_row"], file, str(why), "pnr", shown))
    sex = cpr_sex.copy()
    if "kon" in frame:
        kon = frame["kon"].str.strip().str.lower()
        given = kon.map(_SEX).astype("string")
        unknown_sex = kon.notna() & kon.ne("") & given.isna()
        conflict = given.notna() & cpr_sex.notna() & given.ne(cpr_sex)
        for mask, why in ((unknown_sex, "dream_sex_unknown"), (conflict, "sex_cpr_conflict")):
            for file in counts:
                sel = mask & frame["source_file"].eq(file)
                if sel.any():
                    rejects.append(
                        _reject(
                            frame.loc[sel, "source_row"], file, why, "kon", frame.loc[sel, "kon"]
                        )
                    )
        sex = given.fillna(cpr_sex)
    where = pd.MultiIndex.from_arrays([frame["source_file"], frame["source_row"]])
    hit = [
        pd.MultiIndex.from_arrays([r["source_file"], r["source_row"]]) for r in rejects if len(r)
    ]
    ok = pd.Series(
        ~where.isin(hit[0].append(hit[1:])) if hit else np.ones(len(frame), bool),
        index=frame.index,
    )
    check = pd.DataFrame(
        {
            "cpr": ident,
            "kon": frame.get("kon", pd.NA),
            **{c: frame[c] for c in ("municipality", "country") if c in frame},
            _HISTORY: _history_hash(codes, branche),
            "source_file": frame["source_file"].astype("string"),
            "source_row": frame["source_row"],
        }
    )
    exact, dup_log, conflict = _duplicates(check, ok, ["cpr"])
    conflict_rejects = _conflict_rejects(check, conflict, ["cpr"])
    if len(conflict_rejects):
        conflict_rejects["reason"] = "conflicting_duplicate_person"
        conflict_rejects["message"] = DREAM_REASONS[
            "conflicting_duplicate_person"
        ] + conflict_rejects["message"].str.extract(r"(;.*)$", expand=False).fillna("")
        conflict_rejects["column"] = "pnr"
    rejects.append(conflict_rejects)
    keep = (ok & ~exact & ~conflict).to_numpy()
    kept = frame.loc[keep]
    person_id = (
        ident[keep].astype("string")
        if ids == "pseudonymised"
        else pseudonymise(ident[keep], key=key)  # type: ignore[arg-type]
    )
    persons = pd.DataFrame(
        {
            "person_id": person_id.to_numpy(),
            "sex": sex[keep].to_numpy(),
            "birth_date": pd.Series(birth[keep].to_numpy()).astype("datetime64[s]"),
        }
    )
    persons["sex"] = persons["sex"].astype("string")
    if "municipality" in kept:
        m = match_municipality(kept["municipality"].reset_index(drop=True))
        persons["municipality"] = m["municipality"]
    if "country" in kept:
        c = match_country(kept["country"].reset_index(drop=True))
        persons["origin_group"] = c["origin_group"]
        persons["origin_region"] = c["origin_region"]
    persons["source_file"] = kept["source_file"].astype("string").to_numpy()
    persons["source_row"] = kept["source_row"].to_numpy()
    panel = WeeklyPanel(persons, codes[keep], weeks, branche[keep], months)
    all_rejects = (
        pd.concat([r for r in rejects if len(r)], ignore_index=True)
        if any(len(r) for r in rejects)
        else pd.DataFrame(columns=_REJECT_COLUMNS)
    )
    acc = []
    for file, n in counts.items():
        n_rej = all_rejects.loc[all_rejects["source_file"] == file, "source_row"].nunique()
        n_dup = int((dup_log["source_file"] == file).sum())
        n_clean = int((persons["source_file"] == file).sum())
        acc.append(
            {
                "file": file,
                "kind": "register",
                "raw_rows": n,
                "clean_rows": n_clean,
                "rejected_rows": int(n_rej),
                "duplicate_rows": n_dup,
                "balanced": n == n_clean + n_rej + n_dup,
            }
        )
    unknown_table = pd.DataFrame(
        [
            {"file": f, "column": c, "code": k, "weeks": n}
            for (f, c, k), n in sorted(unknown.items())
        ],
        columns=["file", "column", "code", "weeks"],
    )
    return DreamResult(
        panel=panel,
        rejects=all_rejects,
        duplicates=dup_log.assign(kind="exact_duplicate_person") if len(dup_log) else dup_log,
        accounting=pd.DataFrame(acc),
        unknown_codes=unknown_table,
        extra_columns={f.file: f.extra for f in files if f.extra},
        code_table=version,
    )
