"""Row-level cleaning, duplicates and the last step of a kind, shared by the clean in one
piece (:mod:`vip2analysis.clean.tables`) and in partitions
(:mod:`vip2analysis.clean.partitions`), so that both give the same rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vip2analysis.clean.records import _CLEANERS, _REJECT_COLUMNS, REASONS, _Checks
from vip2analysis.contract.cpr import pseudonymise
from vip2analysis.contract.schema import COURSE_COLUMNS, OPTIONAL, IdMode, clean_schemas
from vip2analysis.contract.user_config import UserConfig

__all__: list[str] = []  # private helpers of the cleaning room


_DUPLICATE_COLUMNS = ["source_file", "source_row", "kept_file", "kept_row", "kind", "record"]


def _empty_duplicates() -> pd.DataFrame:
    """The duplicates log of a kind without duplicates."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in _DUPLICATE_COLUMNS})


def _duplicates(
    frame: pd.DataFrame, ok: pd.Series, key: list[str]
) -> tuple[pd.Series, pd.DataFrame, pd.Series]:
    """Exact duplicates (all values equal) keep their first row; conflicting ones are rejected.

    Only the rows where ``ok`` is true take part. Returns (drop mask of exact copies,
    duplicates log, conflict mask).
    """
    values = [c for c in frame.columns if c not in ("source_file", "source_row")]
    keyed = frame[key].notna().all(axis=1) & ok
    same_key = frame.loc[keyed, key].duplicated(keep=False).reindex(frame.index, fill_value=False)
    if not same_key.any():
        false = pd.Series(False, index=frame.index)
        return false, _empty_duplicates(), false
    group = frame[same_key]
    n_versions = group.drop_duplicates(values).groupby(key, dropna=False, observed=True).size()
    conflicted_keys = n_versions[n_versions > 1].index
    conflict = pd.Series(False, index=frame.index)
    key_index = pd.MultiIndex.from_frame(group[key]) if len(key) > 1 else pd.Index(group[key[0]])
    conflict[group.index] = key_index.isin(conflicted_keys)
    # equal values mean an equal key: exact copies and their first rows are all in `group`
    exact = pd.Series(False, index=frame.index)
    exact[group.index] = group.duplicated(values, keep="first") & ~conflict[group.index]
    first = group[~group.duplicated(values, keep="first")]
    kept = frame[exact].merge(
        first[[*values, "source_file", "source_row"]], on=values, suffixes=("", "_kept")
    )
    log = pd.DataFrame(
        {
            "source_file": kept["source_file"],
            "source_row": kept["source_row"],
            "kept_file": kept["source_file_kept"],
            "kept_row": kept["source_row_kept"],
            "kind": "exact_duplicate",
            "record": "",
        }
    )
    return exact, log, conflict


def _conflict_rejects(valid: pd.DataFrame, conflict: pd.Series, key: list[str]) -> pd.DataFrame:
    """One reject per conflicting row, naming its counterpart (file and row) and the
    columns whose values differ (the key, and so the CPR, is never shown).

    The counterpart of a row is the first other row with its key. Vectorised: a large
    file can hold thousands of conflicts.
    """
    rows = valid.loc[conflict]
    if rows.empty:
        return pd.DataFrame(columns=_REJECT_COLUMNS)
    values = [c for c in valid.columns if c not in ("source_file", "source_row", *key)]
    group = rows.groupby(key, dropna=False, sort=False).ngroup().to_numpy()
    order = np.argsort(group, kind="stable")
    sizes = np.bincount(group)
    starts = np.repeat(np.r_[0, np.cumsum(sizes)[:-1]], sizes)
    positions = np.arange(len(order))
    me = order
    other = order[np.where(positions == starts, starts + 1, starts)]
    cells = rows[values].to_numpy(dtype=object)
    empty = object()  # one stand-in for every missing value, so that missing == missing
    cells[pd.isna(cells)] = empty
    a, b = cells[me], cells[other]
    differ = np.array(
        [
            [x is not y and bool(x != y) for x, y in zip(ra, rb, strict=True)]
            for ra, rb in zip(a, b, strict=True)
        ],
        dtype=bool,
    ).reshape(a.shape)
    names = np.array(values, dtype=object)
    columns = [", ".join(names[mask]) for mask in differ]
    where = (
        rows["source_file"].to_numpy(dtype=object)[other]
        + " row "
        + rows["source_row"].to_numpy().astype(str)[other]
    )
    out = pd.DataFrame(
        {
            "source_file": rows["source_file"].to_numpy(dtype=object)[me],
            "source_row": rows["source_row"].to_numpy()[me],
            "column": columns,
            "raw_value": where,
            "reason": "conflicting_duplicate",
            "message": [
                f"{REASONS['conflicting_duplicate']}: {w} differs in {c or 'no column'}"
                for w, c in zip(where, columns, strict=True)
            ],
        }
    )
    return out[_REJECT_COLUMNS]


def _clean_rows(
    data: pd.DataFrame, kind: str, config: UserConfig, ids: IdMode
) -> tuple[pd.DataFrame, pd.Series, list[pd.DataFrame], pd.DataFrame]:
    """Row-level cleaning of rows of one kind (a whole file, or any slice of one).

    Returns the candidate rows (with cpr, on ``data``'s index), the mask of those without
    a reject, the reject tables (rows that are not records, then the checks' reasons) and
    the notes. Every row's outcome depends on that row alone, so slices give the rows of
    the whole.
    """
    absent = [c for c in OPTIONAL[kind] if c not in data]
    if absent:  # a RawTable made by hand, or before a column was added to the contract
        data = data.assign(**dict.fromkeys(absent, None))
    checks = _Checks(data, config, ids)
    whole_rows = [
        data.loc[mask, ["source_file", "source_row"]].assign(
            column="", raw_value="", reason=reason, message=REASONS[reason]
        )
        for reason, mask in checks.whole_rows.items()
        if mask.any()
    ]
    frame = _CLEANERS[kind](data, checks)  # blank rows too; checks leaves them out
    frame["source_file"] = data["source_file"].astype("string")
    frame["source_row"] = data["source_row"].astype("int64")
    return frame, ~checks.rejected(), [*whole_rows, checks.table()], checks.notes()


def _finish(valid: pd.DataFrame, kind: str, key: bytes | None, ids: IdMode) -> pd.DataFrame:
    if "cpr" in valid:
        if ids == "pseudonymised":
            person_id = valid["cpr"].astype("string")  # the sender's pseudonym, kept
        else:
            assert key is not None  # checked by clean_tables
            person_id = pseudonymise(valid["cpr"], key=key)
        valid = valid.assign(person_id=person_id).drop(columns="cpr")
    order = {"courses": COURSE_COLUMNS}.get(kind)
    out = valid[list(order)] if order else valid
    return clean_schemas(ids)[kind].validate(_in_source_order(out))


def _in_source_order(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` sorted (stably) by source file and row; not re-sorted when it already is."""
    files = pd.factorize(frame["source_file"], sort=True)[0]
    rows = frame["source_row"].to_numpy()
    if not (np.diff(files) >= 0).all() or not (np.diff(rows)[np.diff(files) == 0] >= 0).all():
        frame = frame.sort_values(["source_file", "source_row"], kind="stable")
    return frame.reset_index(drop=True)
