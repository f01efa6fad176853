"""Small-cell suppression for everything published.

The rule is Statistics Denmark's (research service): no published cell may rest on fewer
than ``k`` persons (``k = 5`` by default). It covers counts, the counts behind rates, and
totals; where totals are shown, a suppressed cell must not be recoverable from them by
subtraction.

Three kinds of output are covered:

* rates tables (:func:`suppress_rates`): a row is hidden when its numerator, its
  complement ``n - events`` or its denominator is under ``k``;
* crosstabs and one-way tables with totals (:func:`protect_table`, :func:`protect_series`):
  primary suppression of small cells, then secondary suppression until no suppressed cell
  can be worked out from the published cells and totals;
* models (:func:`can_fit`): a model is not fitted on a subgroup with too few residual
  degrees of freedom or a too small cell.

Conventions
-----------
* A primary-suppressed cell is shown as ``"<5"`` (``f"<{k}"``), a secondary one as ``"x"``.
* Zero cells are not sensitive by default: a published 0 tells that nobody is in the cell,
  which reveals nothing about a person. Pass ``suppress_zeros=True`` to treat 0 like 1 to
  ``k - 1`` (for instance when a 0 would reveal that everyone in a row shares a trait).
* Secondary cells are chosen greedily: in a row or column with exactly one suppressed
  cell, the smallest non-zero published cell is suppressed as well (interior cells before
  totals; a total only when no interior cell can serve). The greedy pass is followed by an
  audit that solves, for every suppressed cell, the linear programmes for its smallest and
  largest value consistent with the published table (row and column equations, ``1 .. k-1``
  for a ``"<k"`` cell, at least 1 for an ``"x"`` cell). While some cell's interval is a
  single value, one more cell next to it is suppressed. The tables are small, so this is
  quick.
* Not covered: consistency *between* tables (a cell hidden here but derivable from another
  published table), and an adversary who reverses the greedy choice (``"x"`` marks the
  smallest cell left in its line). Both are the usual limits of per-table suppression.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from vip2analysis.errors import DataError, DisclosureError, MissingColumnError, ParameterError

__all__ = [
    "DEFAULT_K",
    "MIN_RESIDUAL_DF",
    "SECONDARY_MARKER",
    "TOTAL_LABEL",
    "Protected",
    "can_fit",
    "format_suppressed",
    "protect_series",
    "protect_table",
    "suppress_rates",
]

DEFAULT_K = 5
"""Smallest number of persons a published cell may rest on."""
MIN_RESIDUAL_DF = 10
"""Smallest number of residual degrees of freedom (``n - p``) a model is fitted with."""
SECONDARY_MARKER = "x"
"""How a secondary-suppressed cell is shown."""
TOTAL_LABEL = "I alt"
"""Label of the total row and column added by :func:`protect_table`."""

_RATE_VALUES = ("events", "rate", "conf_low", "conf_high")
_TOL = 1e-7


class Protected(NamedTuple):
    """A published table and where it was suppressed (unpacks as ``published, mask``)."""

    published: Any
    """The table to publish: counts, ``"<k"`` and ``"x"`` markers, object dtype."""
    mask: Any
    """True where a cell is suppressed; same shape and labels as ``published``."""


# --- argument checks --------------------------------------------------------------------


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ParameterError(f"`k` must be an integer of at least 2, but {k!r} was passed.")
    return int(k)


def _check_counts(values: Any, what: str) -> np.ndarray:
    """Non-negative whole numbers without missing values, as int64."""
    arr = np.asarray(values, dtype=float)
    bad = ~np.isfinite(arr) | (arr < 0) | (arr != np.round(arr))
    if bad.any():
        examples = arr[bad][:5].tolist()
        raise DataError(
            f"`{what}` must hold non-negative whole numbers without missing values; "
            f"found {int(bad.sum())} other value(s), e.g. {examples}."
        )
    return arr.astype(np.int64)


def _check_labels(index: pd.Index, total_label: Hashable, what: str) -> None:
    if isinstance(index, pd.MultiIndex):
        raise ParameterError(f"The {what} of the table must have one level, not a MultiIndex.")
    if total_label in index:
        raise ParameterError(
            f"The {what} already hold {total_label!r}; pass the table without totals "
            "or choose another `total_label`."
        )


# --- display --------------------------------------------------------------------------


def format_suppressed(value: Any, *, k: int = DEFAULT_K, secondary: bool = False) -> Any:
    """Show a suppressed (missing) value by its marker; return any other value unchanged.

    Parameters
    ----------
    value : scalar
        A cell of a suppressed table; missing means suppressed.
    k : int
        The threshold: a primary-suppressed cell is shown as ``f"<{k}"``.
    secondary : bool
        Show the cell as :data:`SECONDARY_MARKER` (``"x"``): it was suppressed to protect
        another cell and may well be ``k`` or more.

    Returns
    -------
    object
        ``"<k"`` or ``"x"`` for a missing value, else ``value`` itself.

    Examples
    --------
    >>> format_suppressed(pd.NA)
    '<5'
    >>> format_suppressed(float("nan"), k=3)
    '<3'
    >>> format_suppressed(None, secondary=True)
    'x'
    >>> format_suppressed(12)
    12
    """
    _check_k(k)
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return SECONDARY_MARKER if secondary else f"<{k}"
    return value


# --- rates tables ---------------------------------------------------------------------


def _partitions(table: pd.DataFrame, within: str | Sequence[str] | None) -> list[np.ndarray]:
    """Row positions of each group of rows that add up to a published total."""
    if within is None:
        return [np.arange(len(table))]
    cols = [within] if isinstance(within, str) else list(within)
    absent = [c for c in cols if c not in table.columns]
    if absent:
        raise MissingColumnError(f"`within` names columns that are not in the table: {absent}.")
    keys = table[cols].reset_index(drop=True)
    groups = keys.groupby(cols, dropna=False, sort=False).indices
    return [np.asarray(pos) for pos in groups.values()]


def _pick_row(candidates: np.ndarray, n: np.ndarray, prefer: np.ndarray | None = None) -> int:
    """The candidate with the smallest ``n`` (rows in ``prefer`` first; ties: first row)."""
    first = np.zeros(len(candidates)) if prefer is None else ~prefer[candidates]
    order = np.lexsort((candidates, n[candidates], first))
    return int(candidates[order[0]])


def _secondary_rows(
    parts: list[np.ndarray], n: np.ndarray, suppressed: np.ndarray, hide_n: np.ndarray
) -> None:
    """Grow ``suppressed`` and ``hide_n`` in place until no partition has exactly one."""
    changed = True
    while changed:
        changed = False
        for pos in parts:
            if len(pos) < 2:
                continue
            if suppressed[pos].sum() == 1:
                suppressed[_pick_row(pos[~suppressed[pos]], n)] = True
                changed = True
            if hide_n[pos].sum() == 1:
                pick = _pick_row(pos[~hide_n[pos]], n, prefer=suppressed)
                hide_n[pick] = suppressed[pick] = True
                changed = True


def suppress_rates(
    rates: pd.DataFrame,
    *,
    k: int = DEFAULT_K,
    within: str | Sequence[str] | None = "denominator_rule",
) -> pd.DataFrame:
    """Hide the rows of a rates table that rest on fewer than ``k`` persons.

    Primary rule: a row is suppressed when ``events < k``, ``n - events < k`` or
    ``n < k`` (a rate near 100% reveals the few without the event as surely as a rate
    near 0% reveals the few with it). Its ``events``, ``rate`` and interval become
    missing; ``n`` stays unless it is under ``k`` itself.

    Secondary rule: the rows sharing a value of ``within`` are taken to add up to a total
    published elsewhere (the headline figures), so a lone suppressed row could be recovered
    by subtraction. Where a group has exactly one suppressed row, the unsuppressed row with
    the smallest ``n`` is suppressed too; likewise where exactly one row has its ``n``
    hidden (a row with a hidden ``n`` is always suppressed, since ``events / rate`` would
    give ``n`` back).

    Parameters
    ----------
    rates : DataFrame
        Group columns, ``n``, ``events``, ``rate``, ``conf_low``, ``conf_high`` and
        usually ``denominator_rule`` (as made by ``estimate.rates``). A row already
        suppressed (missing ``events``) stays suppressed, so the function is idempotent.
    k : int
        The threshold.
    within : str, list of str or None
        Columns whose values split the table into groups of rows with a common total;
        None treats the whole table as one group.

    Returns
    -------
    DataFrame
        A copy with ``n`` and ``events`` as nullable integers, the suppressed values
        missing, and two more columns: ``suppressed`` (bool) and ``suppression``
        (``'primary'``, ``'secondary'`` or missing).

    Examples
    --------
    >>> rates = pd.DataFrame({"sex": ["F", "M", "X"], "n": [20, 10, 30],
    ...                       "events": [3, 5, 12], "rate": [0.15, 0.5, 0.4],
    ...                       "conf_low": [0.05, 0.24, 0.25], "conf_high": [0.36, 0.76, 0.57],
    ...                       "denominator_rule": "all courses"})
    >>> suppress_rates(rates)[["sex", "n", "events", "rate", "suppressed", "suppression"]]
      sex   n  events  rate  suppressed suppression
    0   F  20    <NA>   NaN        True     primary
    1   M  10    <NA>   NaN        True   secondary
    2   X  30      12   0.4       False        <NA>
    """
    k = _check_k(k)
    absent = [c for c in ("n", *_RATE_VALUES) if c not in rates.columns]
    if absent:
        raise MissingColumnError(f"The rates table lacks the column(s) {absent}.")
    n = rates["n"].to_numpy(dtype=float, na_value=np.nan)
    events = rates["events"].to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        primary = (events < k) | (n - events < k) | (n < k)
    already = np.isnan(events)
    suppressed = primary | already
    hide_n = np.isnan(n) | (n < k)
    suppressed |= hide_n
    _secondary_rows(_partitions(rates, within), n, suppressed, hide_n)

    # numpy's stubs reject a None scalar, but np.where accepts it (object result)
    reason = np.where(primary, "primary", np.where(suppressed, "secondary", None))  # type: ignore[call-overload]
    if "suppression" in rates.columns:
        earlier = rates["suppression"].astype(object).to_numpy()
        keep = already & ~primary & pd.notna(earlier)
        reason = np.where(keep, earlier, reason)
    out = rates.copy()
    out["n"] = pd.Series(n, index=out.index).mask(hide_n).astype("Int64")
    out["events"] = pd.Series(events, index=out.index).mask(suppressed).astype("Int64")
    for col in _RATE_VALUES[1:]:
        out[col] = out[col].astype(float).mask(suppressed)
    out["suppressed"] = suppressed
    out["suppression"] = pd.array(reason, dtype="string")
    return out


# --- tables with totals ---------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    """Every published cell of a table, flat, and the sums that tie them together."""

    values: np.ndarray  # int64, one per published cell, totals included
    is_total: np.ndarray  # bool
    # (parts, total) pairs: values[parts].sum() == values[total]
    lines: tuple[tuple[np.ndarray, int], ...]

    def cells_of(self, line: tuple[np.ndarray, int]) -> np.ndarray:
        return np.append(line[0], line[1])


def _layout_2d(counts: np.ndarray, margins: bool) -> _Layout:
    r, c = counts.shape
    if not margins:
        return _Layout(counts.ravel(), np.zeros(r * c, dtype=bool), ())
    full = np.zeros((r + 1, c + 1), dtype=np.int64)
    full[:r, :c] = counts
    full[:r, c] = counts.sum(axis=1)
    full[r, :c] = counts.sum(axis=0)
    full[r, c] = counts.sum()
    idx = np.arange((r + 1) * (c + 1)).reshape(r + 1, c + 1)
    is_total = np.zeros((r + 1, c + 1), dtype=bool)
    is_total[r, :] = is_total[:, c] = True
    lines = [(idx[i, :c], int(idx[i, c])) for i in range(r + 1)]
    lines += [(idx[:r, j], int(idx[r, j])) for j in range(c + 1)]
    return _Layout(full.ravel(), is_total.ravel(), tuple(lines))


def _layout_1d(counts: np.ndarray, total: bool) -> _Layout:
    n = len(counts)
    if not total:
        return _Layout(counts, np.zeros(n, dtype=bool), ())
    values = np.append(counts, counts.sum())
    is_total = np.append(np.zeros(n, dtype=bool), True)
    return _Layout(values, is_total, ((np.arange(n), n),))


def _smallest(layout: _Layout, mask: np.ndarray, cells: np.ndarray) -> list[int]:
    """Unsuppressed non-zero cells, interior before totals, smallest first."""
    cells = np.unique(cells)
    cells = cells[~mask[cells] & (layout.values[cells] > 0)]
    order = np.lexsort((cells, layout.values[cells], layout.is_total[cells]))
    return [int(i) for i in cells[order]]


def _close_lines(layout: _Layout, mask: np.ndarray) -> None:
    """Greedy pass, in place: no line keeps exactly one suppressed cell."""
    changed = True
    while changed:
        changed = False
        for line in layout.lines:
            cells = layout.cells_of(line)
            if mask[cells].sum() == 1:
                pick = _smallest(layout, mask, cells)
                if not pick:
                    raise DisclosureError("No cell is left to protect a suppressed cell with.")
                mask[pick[0]] = True
                changed = True


def _bounds(primary: np.ndarray, k: int, low: int) -> list[tuple[float, float | None]]:
    return [(low, k - 1) if p else (1, None) for p in primary]


def _interval(
    layout: _Layout, mask: np.ndarray, primary: np.ndarray, cell: int, *, k: int, low: int
) -> tuple[float, float]:
    """Smallest and largest value of ``cell`` consistent with what is published."""
    from scipy.optimize import linprog

    unknown = np.flatnonzero(mask)
    col = {int(u): j for j, u in enumerate(unknown)}
    rows, rhs = [], []
    sign: float  # +-1 below, then the direction of the linprog objective
    for parts, total in layout.lines:
        coef = np.zeros(len(unknown))
        known = 0
        for cell_, sign in [*((int(p), 1) for p in parts), (total, -1)]:
            if mask[cell_]:
                coef[col[cell_]] += sign
            else:
                known += sign * layout.values[cell_]
        if coef.any():
            rows.append(coef)
            rhs.append(-known)
    bounds = _bounds(primary[unknown], k, low)
    objective = np.zeros(len(unknown))
    objective[col[cell]] = 1.0
    ends = []
    for sign in (1.0, -1.0):
        res = linprog(
            sign * objective,
            A_eq=np.array(rows) if rows else None,
            b_eq=np.array(rhs) if rows else None,
            bounds=bounds,
            method="highs",
        )
        if res.status == 3:  # unbounded: nothing published limits the cell that way
            ends.append(sign * np.inf)
            continue
        if res.status != 0:
            raise DisclosureError(f"Audit of the suppression pattern failed: {res.message}")
        ends.append(sign * res.fun)
    return ends[0], ends[1]


def _exposed(
    layout: _Layout,
    mask: np.ndarray,
    primary: np.ndarray,
    cells: Iterable[int],
    *,
    k: int,
    low: int,
) -> int | None:
    """The first of ``cells`` whose value the published table pins down, if any."""
    for cell in cells:
        lo, hi = _interval(layout, mask, primary, cell, k=k, low=low)
        if hi - lo < _TOL:
            return int(cell)
    return None


def _repair(
    layout: _Layout, mask: np.ndarray, primary: np.ndarray, cell: int, *, k: int, low: int
) -> int | None:
    """One more cell to suppress so that ``cell`` is no longer pinned down (None: none left)."""
    near = [line for line in layout.lines if cell in layout.cells_of(line)]
    candidates = _smallest(layout, mask, np.concatenate([layout.cells_of(x) for x in near]))
    if not candidates:
        candidates = _smallest(layout, mask, np.arange(len(mask)))
    if not candidates:
        return None
    for pick in candidates:
        trial = mask.copy()
        trial[pick] = True
        _close_lines(layout, trial)
        if _exposed(layout, trial, primary, [cell], k=k, low=low) is None:
            return pick
    return candidates[0]


def _protect(layout: _Layout, *, k: int, suppress_zeros: bool) -> tuple[np.ndarray, np.ndarray]:
    """Primary and full suppression masks for a layout."""
    values = layout.values
    primary = (values < k) if suppress_zeros else ((values > 0) & (values < k))
    low = 0 if suppress_zeros else 1
    mask = primary.copy()
    if not layout.lines:
        return primary, mask
    while True:
        _close_lines(layout, mask)
        cell = _exposed(layout, mask, primary, np.flatnonzero(mask), k=k, low=low)
        if cell is None:
            return primary, mask
        pick = _repair(layout, mask, primary, cell, k=k, low=low)
        if pick is None:
            # Every cell that could be hidden is, and the "<k" markers alone still pin a
            # cell down (e.g. four 1s under a total below k): show the hidden cells as the
            # secondary marker, which says nothing about their size.
            return np.zeros_like(primary), mask
        mask[pick] = True


def _check_k_markers(k: int, suppress_zeros: bool) -> None:
    if k == 2 and not suppress_zeros:
        raise ParameterError(
            "With k=2 and published zeros the marker '<2' would reveal the value 1; "
            "pass suppress_zeros=True or a k of at least 3."
        )


def _published(values: np.ndarray, primary: np.ndarray, mask: np.ndarray, k: int) -> np.ndarray:
    out = np.array([int(v) for v in values], dtype=object)
    out[mask & ~primary] = SECONDARY_MARKER
    out[primary] = f"<{k}"
    return out


def protect_table(
    counts: pd.DataFrame,
    *,
    k: int = DEFAULT_K,
    margins: bool = True,
    suppress_zeros: bool = False,
    total_label: Hashable = TOTAL_LABEL,
) -> Protected:
    """Suppress the small cells of a two-way table of person counts, totals included.

    Primary suppression hides every cell (totals too) with 1 to ``k - 1`` persons (and 0
    with ``suppress_zeros=True``). Secondary suppression then hides further cells until no
    suppressed cell can be worked out from the published cells and totals: first greedily
    (every row and column, the total row and column included, holds none or at least two
    suppressed cells; the smallest non-zero interior cell is taken, a total only when no
    interior cell can serve), then by a linear-programming audit that adds cells until every
    suppressed cell has more than one possible value. See the module notes for the limits.

    Parameters
    ----------
    counts : DataFrame
        A crosstab of person counts without totals: non-negative whole numbers.
    k : int
        The threshold; ``"<k"`` marks a primary-suppressed cell.
    margins : bool
        Publish row and column totals (added here). Without them there is nothing to
        subtract from and only primary suppression is done.
    suppress_zeros : bool
        Treat 0 as sensitive too.
    total_label : hashable
        Label of the total row and column.

    Returns
    -------
    Protected
        ``published``: object DataFrame of ints and markers (``"<k"`` primary, ``"x"``
        secondary), with the totals when ``margins``; ``mask``: bool DataFrame, True where
        suppressed. The input is not changed.

    Examples
    --------
    >>> counts = pd.DataFrame({"Ja": [3, 20, 31], "Nej": [12, 25, 40]}, index=["A", "B", "C"])
    >>> published, mask = protect_table(counts)
    >>> published
           Ja Nej I alt
    A      <5   x    15
    B       x   x    45
    C      31  40    71
    I alt  54  77   131
    >>> int(mask.to_numpy().sum())
    4
    """
    k = _check_k(k)
    _check_k_markers(k, suppress_zeros)
    values = _check_counts(counts, "counts").reshape(counts.shape)
    index, columns = counts.index, counts.columns
    if margins:
        _check_labels(index, total_label, "row labels")
        _check_labels(columns, total_label, "column labels")
        index = pd.Index([*index, total_label], dtype=object, name=index.name)
        columns = pd.Index([*columns, total_label], dtype=object, name=columns.name)
    layout = _layout_2d(values, margins)
    primary, mask = _protect(layout, k=k, suppress_zeros=suppress_zeros)
    shape = (len(index), len(columns))
    published = pd.DataFrame(
        _published(layout.values, primary, mask, k).reshape(shape), index=index, columns=columns
    )
    return Protected(published, pd.DataFrame(mask.reshape(shape), index=index, columns=columns))


def protect_series(
    counts: pd.Series,
    *,
    k: int = DEFAULT_K,
    total: bool = True,
    suppress_zeros: bool = False,
    total_label: Hashable = TOTAL_LABEL,
) -> Protected:
    """Suppress the small cells of a one-way table of person counts and its total.

    The one-way case of :func:`protect_table`: cells (and the total) with 1 to ``k - 1``
    persons are hidden, then, with a total, further cells until none can be worked out
    by subtracting the others from the total.

    Parameters
    ----------
    counts : Series
        Person counts per category: non-negative whole numbers.
    k : int
        The threshold; ``"<k"`` marks a primary-suppressed cell.
    total : bool
        Publish the total (added here as the last row).
    suppress_zeros : bool
        Treat 0 as sensitive too.
    total_label : hashable
        Label of the total.

    Returns
    -------
    Protected
        ``published``: object Series of ints and markers; ``mask``: bool Series.

    Examples
    --------
    >>> counts = pd.Series({"Ordinær": 119, "Støttet": 3, "Uddannelse": 12, "Afbrudt": 40})
    >>> published, mask = protect_series(counts)
    >>> published.tolist()
    [119, '<5', 'x', 40, 174]
    """
    k = _check_k(k)
    _check_k_markers(k, suppress_zeros)
    values = _check_counts(counts, "counts")
    index = counts.index
    if total:
        _check_labels(index, total_label, "labels")
        index = pd.Index([*index, total_label], dtype=object, name=index.name)
    layout = _layout_1d(values, total)
    primary, mask = _protect(layout, k=k, suppress_zeros=suppress_zeros)
    published = pd.Series(
        _published(layout.values, primary, mask, k), index=index, name=counts.name
    )
    return Protected(published, pd.Series(mask, index=index, name=counts.name))


# --- models ---------------------------------------------------------------------------


def can_fit(
    n_obs: int,
    n_params: int,
    *,
    min_df: int = MIN_RESIDUAL_DF,
    cells: Iterable[int] = (),
    k: int = DEFAULT_K,
) -> bool:
    """Whether a model may be fitted on a (sub)group.

    The rule: at least ``min_df`` residual degrees of freedom (``n_obs - n_params >=
    min_df``, 10 by default) and every cell in ``cells`` (for a binary outcome: the
    events and non-events, per treatment arm or per level of a categorical regressor) at
    least ``k``. A model fitted on fewer is unstable, and its coefficients can come close to
    describing single persons. Regression coefficients from a model that passes may be
    published.

    Parameters
    ----------
    n_obs : int
        Number of observations (persons) in the subgroup.
    n_params : int
        Number of estimated parameters, intercept included.
    min_df : int
        Smallest number of residual degrees of freedom.
    cells : iterable of int
        Counts that must each reach ``k``.
    k : int
        The threshold for ``cells``.

    Returns
    -------
    bool

    Examples
    --------
    >>> can_fit(313, 8)
    True
    >>> can_fit(15, 8)
    False
    >>> can_fit(200, 5, cells=[119, 81, 3, 20])
    False
    """
    k = _check_k(k)
    cell_counts = _check_counts(list(cells), "cells")
    n_obs, n_params, min_df = (
        int(_check_counts([x], name)[0])
        for x, name in ((n_obs, "n_obs"), (n_params, "n_params"), (min_df, "min_df"))
    )
    return n_obs - n_params >= min_df and bool((cell_counts >= k).all())
