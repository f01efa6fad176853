"""Cleaning in partitions, on any engine, with the same result as cleaning in one piece.

Each file of a kind is cut into partitions of ``partition_rows`` raw rows, or, by
default, into equal partitions as many as the engine's workers (or a multiple of them),
each at most :data:`MAX_PARTITION_ROWS` and, where the file allows, at least
:data:`MIN_PARTITION_ROWS` rows (:func:`partition_size`). Three rounds of tasks run on
the engine (:mod:`vip2analysis.engine`):

1. per partition, the row-local work: values normalised, CPR numbers checked, rejects and
   notes found (``clean.rows._clean_rows``); the partition keeps its
   rows on its worker and sends back only a 64-bit hash of each valid row's record key;
2. the one global step, duplicates: only the rows whose key hash occurs more than once
   move (a shuffle by the record key into one bucket per worker); each bucket orders its
   rows by their place in the input (file, then row) and finds exact copies and conflicts
   exactly as the one-piece clean does;
3. per partition again, the kept rows are pseudonymised and validated.

On an engine whose tasks run in other processes (Dask), a partition's clean rows come
back packed (:func:`vip2analysis.engine.pack`: Arrow IPC, zstd), about a seventh of
their size in memory. The raw rows go as they are: on one machine packing them cost
more time in the client than it saved.

Every row keeps its file name and row number, and its position in the input orders
everything that comes back, so the clean tables, rejects, duplicates log, notes and
accounting are those of :func:`~vip2analysis.clean.tables.clean_tables` in one piece.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from vip2analysis.clean.records import _REJECT_COLUMNS, _structural_rejects
from vip2analysis.clean.rows import (
    _clean_rows,
    _conflict_rejects,
    _duplicates,
    _empty_duplicates,
    _finish,
    _in_source_order,
)
from vip2analysis.contract.schema import RECORD_KEY, IdMode
from vip2analysis.contract.user_config import UserConfig
from vip2analysis.engine import Engine, pack, system_memory, unpack
from vip2analysis.io.read import RawTable

__all__ = ["MAX_PARTITION_ROWS", "MIN_PARTITION_ROWS", "clean_kind_partitioned", "partition_size"]

MAX_PARTITION_ROWS = 1_000_000
"""The most raw rows of a default partition (a worker cleaning 509,000 course rows peaked
at 940 MB)."""
MIN_PARTITION_ROWS = 10_000
"""The fewest raw rows of a default partition of a file that has more (each partition
repeats some fixed work: below this it costs more than it spreads)."""


def partition_size(rows: int, workers: int, partition_rows: int | None = None) -> int:
    """Rows per partition for a file of ``rows`` raw rows.

    ``partition_rows`` when given. Otherwise equal partitions, as many as ``workers`` or a
    multiple of them, so that every worker gets the same share, each at most
    :data:`MAX_PARTITION_ROWS` rows, and fewer partitions where they would be smaller
    than :data:`MIN_PARTITION_ROWS` rows. Each partition repeats some fixed work, so
    fewer and larger partitions cost less in all (1,018,000 rows on 2 workers: 2
    partitions of 509,000 rows clean in 2.4 s, 11 of 100,000 rows in 3.1-3.9 s, one after
    the other in one process).

    >>> partition_size(1_018_000, 2), partition_size(5_000_000, 2), partition_size(71, 2)
    (509000, 833334, 71)
    """
    if partition_rows is not None:
        return partition_rows
    workers = max(1, workers)
    parts = workers * -(-rows // (workers * MAX_PARTITION_ROWS))
    parts = max(1, min(parts, rows // MIN_PARTITION_ROWS))
    return max(1, -(-rows // parts))


@dataclass
class _Part:
    """What round 1 leaves on a worker: one partition's candidate rows (indexed by their
    position in the kind's input), which have no reject, their key hashes, rejects, notes."""

    frame: pd.DataFrame
    ok: pd.Series
    hashes: pd.Series
    rejects: list[pd.DataFrame]
    notes: pd.DataFrame


@system_memory()
def _round1(data: pd.DataFrame, kind: str, config: UserConfig, ids: IdMode, start: int) -> _Part:
    data = data.set_axis(pd.RangeIndex(start, start + len(data)))
    frame, ok, rejects, notes = _clean_rows(data, kind, config, ids)
    key = list(RECORD_KEY[kind])
    keyed = frame[key].notna().all(axis=1) & ok
    hashes = pd.util.hash_pandas_object(frame.loc[keyed, key], index=False)
    return _Part(frame, ok, hashes, rejects, notes)


def _hashes(part: _Part) -> np.ndarray:
    return part.hashes.to_numpy()


def _rows_with(part: _Part, repeated: np.ndarray) -> pd.DataFrame:
    """The part's valid rows whose key hash is among ``repeated`` (possible duplicates)."""
    moving = part.hashes[np.isin(part.hashes.to_numpy(), repeated)]
    return part.frame.loc[moving.index].assign(_bucket=moving.to_numpy())


@system_memory()
def _bucket(rows: pd.DataFrame, kind: str) -> tuple[pd.Index, pd.DataFrame | None, pd.DataFrame]:
    """Exact copies (positions, and the log indexed by position; None when no two rows
    share a key) and conflict rejects among the rows of one bucket, in input order."""
    key = list(RECORD_KEY[kind])
    rows = rows.sort_index()
    if not rows[key].duplicated().any():  # only hashes collided (or an empty bucket)
        return rows.index[:0], None, pd.DataFrame(columns=_REJECT_COLUMNS)
    exact, log, conflict = _duplicates(rows, pd.Series(True, index=rows.index), key)
    log.index = rows.index[exact.to_numpy()]
    return rows.index[(exact | conflict).to_numpy()], log, _conflict_rejects(rows, conflict, key)


@system_memory()
def _round3(
    part: _Part, dropped: np.ndarray, kind: str, key: bytes | None, ids: IdMode, ships: bool
) -> tuple[Any, list[pd.DataFrame], pd.DataFrame]:
    keep = part.ok.to_numpy() & ~np.isin(part.frame.index.to_numpy(), dropped)
    clean = _finish(part.frame[keep], kind, key, ids)
    return (pack(clean) if ships else clean), part.rejects, part.notes


def clean_kind_partitioned(
    tables: list[RawTable],
    kind: str,
    *,
    key: bytes | None,
    config: UserConfig,
    ids: IdMode,
    engine: Engine,
    partition_rows: int | None = None,
) -> tuple[pd.DataFrame, list[pd.DataFrame], pd.DataFrame, list[pd.DataFrame]]:
    """Clean the files of one kind on ``engine``: (clean table, rejects, duplicates log,
    notes), each as the one-piece clean gives it. ``partition_rows``: see
    :func:`partition_size`."""
    calls, start = [], 0
    for raw in tables:
        data = raw.data  # columns the contract added later are filled by _clean_rows
        size = partition_size(len(data), engine.workers, partition_rows)
        for lo in range(0, max(len(data), 1), size):
            calls.append((data.iloc[lo : lo + size], kind, config, ids, start + lo))
        start += len(data)
    parts = engine.submit(_round1, calls)
    # the shuffle: only rows whose key hash is seen twice or more can be duplicates
    hashes = engine.gather(engine.submit(_hashes, [(p,) for p in parts]))
    seen, counts = np.unique(np.concatenate(hashes), return_counts=True)
    repeated = seen[counts > 1]
    exact_log: list[pd.DataFrame] = []
    conflicts: list[pd.DataFrame] = []
    dropped = np.zeros(0, dtype=np.int64)
    if len(repeated):
        moving = pd.concat(engine.gather(engine.submit(_rows_with, [(p, repeated) for p in parts])))
        n = max(1, engine.workers)
        bucket = (moving.pop("_bucket").to_numpy() % np.uint64(n)).astype(np.int64)
        found = engine.map(_bucket, [(moving[bucket == b], kind) for b in range(n)])
        dropped = np.sort(np.concatenate([f[0].to_numpy() for f in found]))
        exact_log = [f[1] for f in found if f[1] is not None]
        conflicts = [f[2] for f in found if len(f[2])]
    finished = engine.gather(
        engine.submit(_round3, [(p, dropped, kind, key, ids, engine.ships) for p in parts])
    )
    clean = _in_source_order(pd.concat([unpack(f[0]) for f in finished], ignore_index=True))
    rejects = [*(_structural_rejects(raw) for raw in tables)]
    for f in finished:
        rejects += f[1]
    rejects.append(
        pd.concat(conflicts, ignore_index=True)
        if conflicts
        else pd.DataFrame(columns=_REJECT_COLUMNS)
    )
    log = (
        pd.concat(exact_log).sort_index().reset_index(drop=True)
        if exact_log
        else _empty_duplicates()
    )
    return clean, rejects, log, [f[2] for f in finished]
