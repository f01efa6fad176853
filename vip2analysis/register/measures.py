"""Register measures per person and start week: duration on support and without activation
before the start, self-support and employment after it.

Definitions (DESIGN.md, "Register data"), for a start week t0 and a gap length k:

- ``weeks_without_activation``: walk back from t0-1. A passive public-support week adds 1
  and resets the gap; an activation week stops the walk; any other week adds 1 to the
  gap, and a gap of k weeks stops it; so does the start of the extract. Gap weeks never
  count. A week with an unknown code (or no column) neither counts nor breaks.
- ``weeks_public_support``: the same walk, but an activation week adds 1 instead of stopping.
- ``weeks_support_104``: public-support weeks among t0-104..t0-1 (a covariate).
- for N in ``horizons``: ``uncensored_weeks_N`` (weeks of t0+1..t0+N inside the extract,
  not censored by 997-999 and with a known code), ``selfsupport_share_N`` (self-supported
  among them), ``employment_share_N`` (ordinary employment among those of them whose
  month has a ``branche_`` column); a share with no week under it is missing.
- ``employed_week_52``: week t0+52 is ordinary employment (missing when that week is
  censored, unknown or without employment information).

The work is one compiled pass (numba) per block of persons; nothing loops over persons
or weeks in Python.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numba
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from vip2analysis.contract.bands import duration_band
from vip2analysis.contract.dream import (
    ACTIVATION,
    CENSORED,
    MISSING_WEEK,
    PUBLIC_SUPPORT,
    SELF_SUPPORT,
    UNKNOWN,
    WeeklyPanel,
    iso_weeks,
    load_dream_codes,
    parse_month_column,
    parse_week_column,
    week_thursday_months,
)
from vip2analysis.engine import Engine
from vip2analysis.errors import ParameterError

__all__ = [
    "DEFAULT_GAP",
    "HORIZONS",
    "WEEKS_PER_YEAR",
    "measure_codes",
    "measure_file",
    "measure_panel",
    "ordinary_employment",
]

DEFAULT_GAP = 4
"""Weeks off public support that break a spell (about one calendar month, as jobindsats.dk)."""

HORIZONS = (26, 52, 104)
WEEKS_PER_YEAR = 365.25 / 7


@numba.njit(cache=True, nogil=True)
def _walk(row: np.ndarray, flags: np.ndarray, t0: int, k: int, stop_at_activation: bool) -> int:
    count = 0
    gap = 0
    j = min(t0, row.shape[0]) - 1
    # weeks after the end of the extract are outside it: gap weeks
    gap = max(0, t0 - row.shape[0])
    if gap >= k:
        return 0
    while j >= 0:
        f = flags[row[j]]
        if f & UNKNOWN:
            j -= 1
            continue
        if f & PUBLIC_SUPPORT:
            if f & ACTIVATION and stop_at_activation:
                break
            count += 1
            gap = 0
        else:
            gap += 1
            if gap >= k:
                break
        j -= 1
    return count


@numba.njit(cache=True, nogil=True)
def _kernel(
    codes: np.ndarray,
    branche: np.ndarray,
    flags: np.ndarray,
    info_month: np.ndarray,
    rows: np.ndarray,
    t0s: np.ndarray,
    k: int,
    horizons: np.ndarray,
    ints: np.ndarray,
    shares: np.ndarray,
    employed52: np.ndarray,
) -> None:
    n_weeks = codes.shape[1]
    n_h = horizons.shape[0]
    for r in range(rows.shape[0]):
        row = codes[rows[r]]
        t0 = t0s[r]
        ints[r, 0] = _walk(row, flags, t0, k, False)
        ints[r, 1] = _walk(row, flags, t0, k, True)
        support = 0
        for j in range(max(0, t0 - 104), min(t0, n_weeks)):
            if flags[row[j]] & PUBLIC_SUPPORT and not flags[row[j]] & UNKNOWN:
                support += 1
        ints[r, 2] = support
        for h in range(n_h):
            n = horizons[h]
            unc = 0
            self_weeks = 0
            info = 0
            emp = 0
            for j in range(t0 + 1, t0 + n + 1):
                if j < 0 or j >= n_weeks:
                    continue
                c = row[j]
                f = flags[c]
                if f & CENSORED or f & UNKNOWN:
                    continue
                unc += 1
                if f & SELF_SUPPORT:
                    self_weeks += 1
                m = info_month[j]
                if m >= 0:
                    info += 1
                    if c == 0 and branche[rows[r], m] != 0:
                        emp += 1
            ints[r, 3 + h] = unc
            shares[r, 2 * h] = self_weeks / unc if unc > 0 else np.nan
            shares[r, 2 * h + 1] = emp / info if info > 0 else np.nan
        j = t0 + 52
        employed52[r] = np.nan
        if 0 <= j < n_weeks:
            c = row[j]
            f = flags[c]
            m = info_month[j]
            if not (f & CENSORED or f & UNKNOWN) and m >= 0:
                employed52[r] = 1.0 if (c == 0 and branche[rows[r], m] != 0) else 0.0


def measure_codes(
    codes: np.ndarray,
    branche: np.ndarray,
    info_month: np.ndarray,
    rows: np.ndarray,
    t0: np.ndarray,
    *,
    k: int = DEFAULT_GAP,
    horizons: Sequence[int] = HORIZONS,
    flags: np.ndarray | None = None,
) -> pd.DataFrame:
    """Every measure for the (person row, start week) pairs, over arrays of codes.

    Parameters
    ----------
    codes : int16 array (persons, weeks)
        0 = blank, else the code (see :mod:`vip2analysis.contract.dream`).
    branche : uint8 array (persons, months)
        1 = wage employment that month.
    info_month : int array (weeks,)
        For each week the column of ``branche`` holding its Thursday, -1 if none.
    rows, t0 : int arrays
        Person row and start-week position (may lie outside the extract) of each pair;
        a person may appear with several start weeks.
    k : int
        Weeks off public support that break a spell.
    horizons : sequence of int
        The N of the shares after t0.
    flags : array, optional
        Flags per code; the shipped table's by default.

    Returns
    -------
    DataFrame, one row per pair (see the module's definitions).

    Examples
    --------
    >>> codes = np.array([[730, 730, 0, 730, 737, 0, 0]], dtype=np.int16)
    >>> out = measure_codes(codes, np.ones((1, 1), np.uint8), np.zeros(7, np.int64),
    ...                     np.array([0]), np.array([4]), horizons=(2,))
    >>> out[["weeks_public_support", "weeks_without_activation", "employment_share_2"]]
       weeks_public_support  weeks_without_activation  employment_share_2
    0                     3                         3                 1.0
    """
    if k < 1:
        raise ParameterError(f"the gap k must be at least 1 week, got {k}")
    flags = load_dream_codes().flags if flags is None else flags
    hz = np.asarray(horizons, dtype=np.int64)
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    t0 = np.ascontiguousarray(t0, dtype=np.int64)
    codes = np.clip(codes, 0, MISSING_WEEK).astype(np.int16, copy=False)
    ints = np.zeros((len(rows), 3 + len(hz)), dtype=np.int64)
    shares = np.zeros((len(rows), 2 * len(hz)))
    employed52 = np.zeros(len(rows))
    _kernel(
        codes,
        branche,
        flags,
        np.asarray(info_month, dtype=np.int64),
        rows,
        t0,
        int(k),
        hz,
        ints,
        shares,
        employed52,
    )
    out = {
        "weeks_public_support": ints[:, 0],
        "weeks_without_activation": ints[:, 1],
        "years_without_activation_register": ints[:, 1] / WEEKS_PER_YEAR,
        "weeks_support_104": ints[:, 2],
    }
    for h, n in enumerate(hz):
        out[f"selfsupport_share_{n}"] = shares[:, 2 * h]
        out[f"employment_share_{n}"] = shares[:, 2 * h + 1]
        out[f"uncensored_weeks_{n}"] = ints[:, 3 + h]
    out["employed_week_52"] = employed52
    frame = pd.DataFrame(out)
    frame.insert(
        3,
        "duration_band_register",
        duration_band(frame["years_without_activation_register"]),
    )
    return frame


def measure_panel(
    panel: WeeklyPanel,
    rows: np.ndarray,
    t0: np.ndarray,
    *,
    k: int = DEFAULT_GAP,
    horizons: Sequence[int] = HORIZONS,
    engine: Engine | None = None,
    block_rows: int = 16_384,
) -> pd.DataFrame:
    """:func:`measure_codes` over a :class:`~vip2analysis.contract.dream.WeeklyPanel`.

    On a Dask ``engine`` the pairs go to the workers in blocks of ``block_rows`` pairs,
    each with the weekly codes of its own persons only (memory per worker grows with the
    block, not the panel); the result is identical.
    """
    if engine is None or not engine.ships:
        return measure_codes(
            panel.codes, panel.branche, panel.info_month, rows, t0, k=k, horizons=horizons
        )
    rows, t0 = np.asarray(rows, dtype=np.int64), np.asarray(t0, dtype=np.int64)
    calls = []
    for lo in range(0, max(len(rows), 1), block_rows):
        persons, inverse = np.unique(rows[lo : lo + block_rows], return_inverse=True)
        calls.append(
            (
                panel.codes[persons],
                panel.branche[persons],
                panel.info_month,
                inverse,
                t0[lo : lo + block_rows],
                k,
                tuple(horizons),
            )
        )
    return pd.concat(engine.map(_measure_block, calls), ignore_index=True)


def _measure_block(
    codes: np.ndarray,
    branche: np.ndarray,
    info_month: np.ndarray,
    rows: np.ndarray,
    t0: np.ndarray,
    k: int,
    horizons: tuple[int, ...],
) -> pd.DataFrame:
    return measure_codes(codes, branche, info_month, rows, t0, k=k, horizons=horizons)


def ordinary_employment(panel: WeeklyPanel, rows: np.ndarray, weeks: np.ndarray) -> np.ndarray:
    """1.0 where the person's week is ordinary employment, 0.0 where it is not, NaN where
    the week is outside the extract, censored, unknown or has no employment information.

    ``rows`` and ``weeks`` broadcast (e.g. rows[:, None] and t0[:, None] + offsets).
    """
    rows, weeks = np.broadcast_arrays(np.asarray(rows), np.asarray(weeks))
    flags = load_dream_codes().flags
    inside = (weeks >= 0) & (weeks < len(panel.weeks))
    w = np.where(inside, weeks, 0)
    code = panel.codes[rows, w]
    month = panel.info_month[w]
    f = flags[np.clip(code, 0, MISSING_WEEK)]
    known = inside & ((f & (CENSORED | UNKNOWN)) == 0) & (month >= 0)
    if panel.branche.shape[1] == 0:  # no month has employment information
        return np.full(known.shape, np.nan)
    job = (code == 0) & (panel.branche[rows, np.where(month >= 0, month, 0)] != 0)
    return np.where(known, job.astype(float), np.nan)


@dataclass(frozen=True)
class _Layout:
    """A wide extract's columns: each weekly column with its position in the span of
    weeks, the monthly columns in month order, the span's length and the week -> month map."""

    weeks: list[tuple[int, str]]
    months: list[str]
    n_weeks: int
    info: np.ndarray

    @property
    def columns(self) -> list[str]:
        return [c for _, c in self.weeks] + self.months


def _layout(pf: pq.ParquetFile) -> _Layout:
    names = pf.schema_arrow.names
    weeks = sorted((parse_week_column(c.lower()), c) for c in names if c.lower().startswith("y_"))
    months = sorted(
        (parse_month_column(c.lower()), c) for c in names if c.lower().startswith("branche_")
    )
    span = iso_weeks(weeks[0][0], weeks[-1][0])
    position = {w: i for i, w in enumerate(span)}
    return _Layout(
        [(position[w], c) for w, c in weeks],
        [c for _, c in months],
        len(span),
        week_thursday_months(span, [m for m, _ in months]),
    )


def _block_arrays(batch: pa.RecordBatch, layout: _Layout) -> tuple[np.ndarray, np.ndarray]:
    """The code matrix (1000 where the span has no column) and the employment flags."""
    n = batch.num_rows
    codes = np.full((n, layout.n_weeks), MISSING_WEEK, dtype=np.int16)
    for j, c in layout.weeks:
        col = batch.column(c)
        codes[:, j] = pc.fill_null(col, 0).to_numpy().astype(np.int16, copy=False)
    branche = np.zeros((n, len(layout.months)), dtype=np.uint8)
    for j, c in enumerate(layout.months):
        col = batch.column(c)
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            flag = pc.fill_null(pc.greater(pc.utf8_length(col), 0), False)
        else:
            flag = pc.fill_null(pc.not_equal(col, 0), False)
        branche[:, j] = flag.to_numpy(zero_copy_only=False)
    return codes, branche


def measure_file(
    path: str | os.PathLike[str],
    t0: np.ndarray,
    *,
    k: int = DEFAULT_GAP,
    horizons: Sequence[int] = HORIZONS,
    block_rows: int = 16_384,
    engine: Engine | None = None,
) -> pd.DataFrame:
    """Every measure for one start week per person of a wide parquet extract, block by block.

    ``path`` is a parquet file with weekly columns ``y_YYWW`` (codes as whole numbers,
    blank = missing or 0) and optional ``branche_YYYY_MM`` columns (not missing and not 0 =
    employed), such as ``register.parquet`` or a DREAM extract saved as parquet. ``t0``
    holds each row's start-week position (0 = the first weekly column). Memory grows with
    ``block_rows``, not with the number of persons.

    On a Dask ``engine`` each worker reads and measures whole row groups of the file
    (which must be reachable at ``path`` from every worker: a shared filesystem); memory
    per worker then grows with the file's row-group size (``register.parquet`` and the
    synthetic extracts are written in row groups of at most 50,000 persons). The result
    is identical to the local engine's.
    """
    pf = pq.ParquetFile(path)
    t0 = np.asarray(t0)
    groups = pf.metadata.num_row_groups
    if engine is not None and engine.ships and groups:
        sizes = [pf.metadata.row_group(i).num_rows for i in range(groups)]
        starts = np.r_[0, np.cumsum(sizes)].astype(np.int64)
        calls = [
            (str(path), i, t0[starts[i] : starts[i + 1]], k, tuple(horizons), block_rows)
            for i in range(groups)
        ]
        return pd.concat(engine.map(_measure_row_group, calls), ignore_index=True)
    layout = _layout(pf)
    batches = pf.iter_batches(batch_size=block_rows, columns=layout.columns)
    return _measure_batches(batches, layout, t0, k, tuple(horizons))


def _measure_row_group(
    path: str, group: int, t0: np.ndarray, k: int, horizons: tuple[int, ...], block_rows: int
) -> pd.DataFrame:
    """Every measure for the persons of one row group of a wide parquet extract."""
    pf = pq.ParquetFile(path)
    layout = _layout(pf)
    table = pf.read_row_group(group, columns=layout.columns)
    return _measure_batches(table.to_batches(max_chunksize=block_rows), layout, t0, k, horizons)


def _measure_batches(
    batches: Iterable[pa.RecordBatch],
    layout: _Layout,
    t0: np.ndarray,
    k: int,
    horizons: tuple[int, ...],
) -> pd.DataFrame:
    out, start = [], 0
    for batch in batches:
        n = batch.num_rows
        codes, branche = _block_arrays(batch, layout)
        out.append(
            measure_codes(
                codes,
                branche,
                layout.info,
                np.arange(n),
                t0[start : start + n],
                k=k,
                horizons=horizons,
            )
        )
        start += n
    return pd.concat(out, ignore_index=True)
