"""One disclosure rule for every count a period publishes, chosen over all its tables at once.

Every published count, and every count behind a published rate, is a *cell*: the number of
records (courses, ambassadors, raw rows) that meet some conditions, ``variable -> allowed
values``. Two tables that show the same set of records show the same cell, so a cell is
either shown everywhere or hidden everywhere. Cells are tied together by sums: a cell
equals the sum of the cells that split it along one variable (women + men = all; events
+ non-events = n). A person who reads every table of a period knows the shown cells and
these sums, and nothing else.

The rule
--------
* A count cell with 1 to ``k - 1`` records is hidden; a 0 is shown (it reveals nothing
  about a person). An *outcome* cell (the events or non-events behind a rate) is hidden
  from 0 to ``k - 1``: a 0 would reveal the outcome of everyone in the group.
* A cell that is hidden is shown as ``"<k"`` when it is below ``k`` itself, else as
  ``"x"`` (hidden to protect another cell; it may be ``k`` or more).
* No cell that is not shown may be narrowed by the shown numbers and the markers to an
  interval narrower than ``k`` that reaches below ``k`` -- unless the markers alone say as
  much (a ``"<5"``, or a cell inside one, is never exposed by its own marker). The smallest
  and largest value each such cell can take are solved by linear programming over all the
  period's sums (:func:`exposed_cells`). While one is exposed, one more cell near it is
  hidden (secondary suppression: not a headline figure, close by, small, interior first);
  then every secondary cell the pattern does not need is shown again.
* The events of an empty group are nobody's outcome: a plain count (its 0 is shown).
* Nothing else is hidden: a cell with ``k`` or more records is shown unless a sum would
  otherwise reveal a hidden one.

:func:`audit_cells` is the same adversary run on what was actually written (values read
back from the published files); it knows no true value of any hidden cell.
"""

from __future__ import annotations

import functools
import itertools
import os
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from vip2analysis.errors import DataError, DisclosureError, ParameterError

__all__ = [
    "MISSING",
    "CellKind",
    "Key",
    "Register",
    "audit_cells",
    "exposed_cells",
    "make_key",
]

MISSING = "(mangler)"
"""The value a missing group value counts as (its own group, as in the tables)."""

CellKind = Literal["count", "outcome"]

Key = tuple[tuple[str, tuple[str, ...]], ...]
"""A cell: sorted ``(variable, allowed values)`` pairs; a variable not named is not limited."""

_TOL = 1e-6


def make_key(conditions: Mapping[str, Any], domains: Mapping[str, Sequence[str]]) -> Key:
    """The canonical key of ``conditions`` (a value or a collection of values per variable).

    A condition that allows every value of its variable's domain is dropped, so that
    "women, any duration" and "women" are the same cell.

    >>> make_key({"sex": "F", "band": ["<1", "1-2"]}, {"sex": ["F", "M"], "band": ["<1", "1-2"]})
    (('sex', ('F',)),)
    """
    out = []
    for var, allowed in conditions.items():
        if var not in domains:
            raise ParameterError(f"unknown variable {var!r}; known: {sorted(domains)}")
        values = (allowed,) if isinstance(allowed, str) else tuple(allowed)
        values = tuple(sorted({str(v) for v in values}))
        bad = set(values) - set(domains[var])
        if bad:
            raise ParameterError(f"{var}: values {sorted(bad)} are not in its domain")
        if set(values) != set(domains[var]):
            out.append((var, values))
    return tuple(sorted(out))


@dataclass
class _Cell:
    key: Key
    kind: CellKind
    value: int | None = None  # true value (planner) or published value (audit)
    shown: bool = False  # shown in some published table
    hidden: bool = False  # hidden (shown as a marker) in some published table
    marker: str | None = None  # "<k" or "x" when hidden
    protected: bool = False  # hide only when nothing else can serve (headline figures)


@dataclass
class Register:
    """The cells of one universe of records (e.g. a period's courses) and their sums.

    Parameters
    ----------
    domains
        Variable -> every value it takes (the values a split by it runs over).
    k
        Smallest number of records a shown cell may rest on.
    counts
        Key -> number of records, for the planner (None in an audit).
    """

    domains: dict[str, tuple[str, ...]]
    k: int
    cells: dict[Key, _Cell] = field(default_factory=dict)

    @classmethod
    def from_records(cls, records: pd.DataFrame, variables: Sequence[str], *, k: int) -> Register:
        """A register whose cell values are counted from ``records`` (one row per record)."""
        frame = records[list(variables)].astype(object).where(records[list(variables)].notna())
        frame = frame.fillna(MISSING).astype(str)
        domains = {v: tuple(sorted(frame[v].unique())) for v in variables}
        reg = cls(domains=domains, k=k)
        reg._frame = frame  # type: ignore[attr-defined]
        return reg

    # --- cells ----------------------------------------------------------------------

    def key(self, **conditions: Any) -> Key:
        return make_key(conditions, self.domains)

    def count(self, key: Key) -> int:
        frame: pd.DataFrame = self._frame  # type: ignore[attr-defined]
        mask = np.ones(len(frame), dtype=bool)
        for var, values in key:
            mask &= frame[var].isin(values).to_numpy()
        return int(mask.sum())

    def add(
        self, key: Key, *, kind: CellKind = "count", shown: bool = False, protected: bool = False
    ) -> Key:
        """Register ``key`` (shown in a table or only implied); an outcome kind wins."""
        cell = self.cells.get(key)
        if cell is None:
            value = self.count(key) if hasattr(self, "_frame") else None
            cell = self.cells[key] = _Cell(key, kind, value)
        if kind == "outcome":
            cell.kind = "outcome"
        cell.shown |= shown
        cell.protected |= protected
        return key

    def complement(self, var: str, values: Iterable[str]) -> tuple[str, ...]:
        keep = {str(v) for v in values}
        return tuple(v for v in self.domains[var] if v not in keep)

    def split(self, base: Mapping[str, Any], var: str, *, kind: CellKind = "count") -> list[Key]:
        """Register ``base`` split by every value of ``var`` (and ``base`` itself, implied)."""
        self.add(self.key(**base), kind=kind)
        return [self.add(self.key(**{**base, var: v}), kind=kind) for v in self.domains[var]]

    # --- the rule --------------------------------------------------------------------

    def sensitive(self, cell: _Cell) -> bool:
        v = cell.value
        if v is None:
            return False
        return v < self.k if cell.kind == "outcome" else 0 < v < self.k

    def plan(self) -> None:
        """Choose the hidden cells: primary, then secondary until no cell is exposed."""
        for cell in self.cells.values():
            if cell.shown and self.sensitive(cell):
                cell.hidden = True
        relations = _relations(self)
        # a shown n with a sensitive non-events (or events) part: hide the other part
        for parent, children in relations:
            if not self.cells[parent].shown or self.cells[parent].hidden:
                continue
            small = [c for c in children if self.sensitive(self.cells[c])]
            if small and not any(self.cells[c].hidden for c in small if self.cells[c].shown):
                for c in children:
                    if self.cells[c].shown and c not in small:
                        self.cells[c].hidden = True
        self._markers()
        for _ in range(10_000):
            bad = exposed_cells(self, relations, planner=True, first=True)
            if not bad:
                self._unhide(relations)
                return
            pick = self._repair(bad[0], relations)
            if pick is None:
                raise DisclosureError(
                    f"cell {dict(bad[0])} cannot be protected: every cell around it is hidden"
                )
            self.cells[pick].hidden = True
            self._markers()
        raise DisclosureError("secondary suppression did not settle")

    def _unhide(self, relations: list[tuple[Key, list[Key]]]) -> None:
        """Show again every secondary cell the pattern does not need (largest first): the
        greedy choice can hide a cell that later choices made unnecessary."""
        secondary = [
            key for key, cell in self.cells.items() if cell.hidden and not self.sensitive(cell)
        ]
        secondary.sort(
            key=lambda c: (-int(self.cells[c].protected), -(self.cells[c].value or 0), c)
        )
        for key in secondary:
            self.cells[key].hidden = False
            self._markers()
            if exposed_cells(self, relations, planner=True, first=True):
                self.cells[key].hidden = True
                self._markers()

    def _markers(self) -> None:
        for cell in self.cells.values():
            if cell.hidden:
                small = self.sensitive(cell)
                cell.marker = f"<{self.k}" if small and self.k > 2 else "x"

    def _repair(self, key: Key, relations: list[tuple[Key, list[Key]]]) -> Key | None:
        # the cells that share a sum with it, then those that share a sum with them, ...
        members_of: dict[Key, list[list[Key]]] = defaultdict(list)
        for parent, children in relations:
            for member in (parent, *children):
                members_of[member].append([parent, *children])
        layer, seen = {key}, {key}
        found: list[tuple[int, Key]] = []
        for depth in range(6):
            nxt = {m for cell in layer for rel in members_of[cell] for m in rel} - seen
            if not nxt:
                break
            seen |= nxt
            found += [
                (depth, c)
                for c in sorted(nxt)
                if self.cells[c].shown and not self.cells[c].hidden and self.cells[c].value
            ]
            if any(not self.cells[c].protected for _, c in found) and depth >= 1:
                break
            layer = nxt
        if not found:
            return None
        # least loss first: not a headline figure, close by, small, an interior cell
        found.sort(
            key=lambda dc: (
                self.cells[dc[1]].protected,
                dc[0],
                self.cells[dc[1]].value or 0,
                -len(dc[1]),
                dc[1],
            )
        )
        candidates = [c for _, c in found]
        for pick in candidates[:12]:
            self.cells[pick].hidden = True
            self._markers()
            still = exposed_cells(self, relations, planner=True, only=[key])
            self.cells[pick].hidden = False
            if not still:
                return pick
        return candidates[0]

    # --- publishing -------------------------------------------------------------------

    def shown_value(self, key: Key) -> int | str:
        """The number to publish for ``key``, or its marker."""
        cell = self.cells[key]
        if not cell.shown:
            raise DisclosureError(f"cell {dict(key)} is not registered as shown")
        if cell.hidden:
            return cell.marker or "x"
        assert cell.value is not None
        return cell.value

    def is_hidden(self, key: Key) -> bool:
        return self.cells[key].hidden


# --- sums ---------------------------------------------------------------------------------


def _relations(reg: Register) -> list[tuple[Key, list[Key]]]:
    """Every ``parent = sum(children)`` among the registered cells: children that differ
    from the parent in one variable only and whose values split the parent's exactly."""
    by_rest: dict[tuple[str, Key], list[Key]] = defaultdict(list)
    for key in reg.cells:
        for var, _ in key:
            rest = tuple(p for p in key if p[0] != var)
            by_rest[(var, rest)].append(key)
    out: list[tuple[Key, list[Key]]] = []
    seen: set[tuple[Key, tuple[Key, ...]]] = set()
    for parent in reg.cells:
        own = dict(parent)
        for var in reg.domains:
            rest = tuple(p for p in parent if p[0] != var)
            whole = set(own.get(var, reg.domains[var]))
            pool = sorted(
                c for c in by_rest.get((var, rest), []) if c != parent and set(dict(c)[var]) < whole
            )
            for cover in _exact_covers(pool, var, whole):
                sig = (parent, tuple(sorted(cover)))
                if sig not in seen:
                    seen.add(sig)
                    out.append((parent, sorted(cover)))
    return out


def _exact_covers(pool: list[Key], var: str, whole: set[str], limit: int = 64) -> list[list[Key]]:
    """Up to ``limit`` sets of keys in ``pool`` whose ``var`` values split ``whole`` exactly."""
    sets = [(key, frozenset(dict(key)[var])) for key in pool]
    found: list[list[Key]] = []

    def walk(left: frozenset[str], chosen: list[Key], start: int) -> None:
        if len(found) >= limit:
            return
        if not left:
            if len(chosen) > 1:
                found.append(list(chosen))
            return
        first = min(left)
        for i in range(start, len(sets)):
            key, values = sets[i]
            if first in values and values <= left:
                walk(left - values, [*chosen, key], 0)

    walk(frozenset(whole), [], 0)
    return found


# --- the adversary ------------------------------------------------------------------------


def _system(
    reg: Register, relations: list[tuple[Key, list[Key]]], unknown: list[Key]
) -> tuple[np.ndarray | None, np.ndarray | None, list[tuple[float, float | None]]]:
    """The sums as equations over ``unknown`` (every other cell at its shown value), and
    the bounds the markers give (``"<k"``: 0 or 1 to k-1; anything else: 0 and up)."""
    col = {key: j for j, key in enumerate(unknown)}
    rows, rhs = [], []
    for parent, children in relations:
        coef = np.zeros(len(unknown))
        known = 0.0
        for key, sign in [(parent, -1.0), *((c, 1.0) for c in children)]:
            if key in col:
                coef[col[key]] += sign
            else:
                known += sign * float(reg.cells[key].value or 0)
        if coef.any():
            rows.append(coef)
            rhs.append(-known)
    bounds: list[tuple[float, float | None]] = []
    for key in unknown:
        cell = reg.cells[key]
        if cell.hidden and cell.marker and cell.marker.startswith("<"):
            bounds.append((0.0 if cell.kind == "outcome" else 1.0, float(reg.k - 1)))
        else:
            bounds.append((0.0, None))
    return (np.array(rows) if rows else None), (np.array(rhs) if rows else None), bounds


@functools.cache
def _quiet_highs() -> None:
    """HiGHS prints a banner on the process's standard output (file descriptor 1) when
    its first model is made, whatever its options: make that first one here, with the
    descriptor sent to /dev/null, so that no notebook or report shows the banner."""
    import highspy

    sys.stdout.flush()
    saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(null)
        os.close(saved)


class _Ranges:
    """Smallest and largest value of each unknown of one system of sums.

    One HiGHS model per system, solved again for each objective (``x_j`` up or down):
    each solve starts from the last basis, so a planner that asks about every unknown
    pays for one model, not for one per question (scipy's ``linprog`` builds a new one
    each call). The answers are those of ``linprog(method="highs")``
    (``tests/test_disclosure.py``).
    """

    def __init__(self, system: tuple) -> None:
        import highspy
        from scipy.sparse import csc_matrix

        _quiet_highs()
        self._hs = highspy
        a_eq, b_eq, bounds = system
        n = len(bounds)
        lp = highspy.HighsLp()
        lp.num_col_ = n
        lp.col_cost_ = np.zeros(n)
        lp.col_lower_ = np.array([lo for lo, _ in bounds], dtype=float)
        lp.col_upper_ = np.array(
            [highspy.kHighsInf if hi is None else hi for _, hi in bounds], dtype=float
        )
        if a_eq is not None:
            matrix = csc_matrix(a_eq)
            lp.num_row_ = matrix.shape[0]
            lp.row_lower_ = np.asarray(b_eq, dtype=float)
            lp.row_upper_ = np.asarray(b_eq, dtype=float)
            lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
            lp.a_matrix_.start_ = matrix.indptr
            lp.a_matrix_.index_ = matrix.indices
            lp.a_matrix_.value_ = matrix.data
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        self.highs.passModel(lp)
        self._costed: int | None = None

    def _solve(self, j: int, *, largest: bool) -> float:
        hs, highs = self._hs, self.highs
        if self._costed != j:
            if self._costed is not None:
                highs.changeColCost(self._costed, 0.0)
            highs.changeColCost(j, 1.0)
            self._costed = j
        highs.changeObjectiveSense(hs.ObjSense.kMaximize if largest else hs.ObjSense.kMinimize)
        highs.run()
        status = highs.getModelStatus()
        if status == hs.HighsModelStatus.kOptimal:
            return float(highs.getInfo().objective_function_value)
        unbounded = (hs.HighsModelStatus.kUnbounded, hs.HighsModelStatus.kUnboundedOrInfeasible)
        if largest and status in unbounded:  # the smallest was found: feasible, unbounded
            return np.inf
        if status == hs.HighsModelStatus.kInfeasible:
            raise DisclosureError("the published numbers contradict each other (no solution)")
        raise DisclosureError(f"disclosure audit failed: {highs.modelStatusToString(status)}")

    def range(self, j: int, *, only_low: float | None = None) -> tuple[float, float]:
        """Smallest and largest value of unknown ``j``; the largest is skipped (inf) when
        the smallest is already ``only_low`` or more."""
        lo = self._solve(j, largest=False)
        if only_low is not None and lo >= only_low:
            return lo, np.inf
        return lo, self._solve(j, largest=True)


def exposed_cells(
    reg: Register,
    relations: list[tuple[Key, list[Key]]] | None = None,
    *,
    planner: bool = False,
    first: bool = False,
    only: Sequence[Key] | None = None,
) -> list[Key]:
    """Cells not shown that the shown numbers narrow too far (see the module notes).

    A cell is exposed when the published numbers and markers narrow it to an interval
    narrower than ``k`` that reaches below ``k`` (a 0 of a plain count excepted), *and*
    narrower than the markers alone would: a ``"<5"``, or a cell inside one, is never
    exposed by what the markers themselves say. The planner, which knows the true values,
    skips cells that cannot be exposed (a value of ``2k`` or more).
    """
    relations = _relations(reg) if relations is None else relations
    unknown = [key for key, c in reg.cells.items() if c.hidden or not c.shown]
    col = {key: j for j, key in enumerate(unknown)}
    system = _Ranges(_system(reg, relations, unknown)) if unknown else None
    prior: _Ranges | None = None  # the markers alone: every cell unknown
    everything = list(reg.cells)
    position = {key: j for j, key in enumerate(everything)}
    targets = list(only) if only is not None else unknown
    out = []
    for key in targets:
        cell = reg.cells[key]
        if planner and cell.value is not None and cell.value >= 2 * reg.k:
            continue
        assert system is not None  # a target is an unknown
        lo, hi = system.range(col[key], only_low=reg.k - _TOL)
        if lo >= reg.k - _TOL or hi - lo >= reg.k - _TOL:
            continue
        if cell.kind == "count" and hi < _TOL:
            continue  # a count pinned to 0: nobody is in it
        if prior is None:
            prior = _Ranges(_system(reg, relations, everything))
        lo0, hi0 = prior.range(position[key])
        if hi - lo < (hi0 - lo0) - _TOL:
            out.append(key)
            if first:
                return out
    return out


def _is_number(text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return value.is_integer()


def audit_cells(
    domains: Mapping[str, Sequence[str]],
    cells: Iterable[tuple[Mapping[str, Sequence[str]], CellKind, Any]],
    *,
    k: int,
) -> list[tuple[Key, tuple[float, float]]]:
    """Exposed cells of a universe as published: ``cells`` are (conditions, kind, value),
    value a number, a ``"<k"`` / ``"x"`` marker, or None for a cell only implied."""
    reg = Register(domains={v: tuple(d) for v, d in domains.items()}, k=k)
    for conditions, kind, value in cells:
        key = make_key(conditions, reg.domains)
        cell = reg.cells.get(key) or _Cell(key, kind)
        reg.cells[key] = cell
        if kind == "outcome":
            cell.kind = "outcome"
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        if isinstance(value, str) and not _is_number(value):
            if not (value == "x" or value.startswith("<")):
                raise DataError(f"cell {dict(key)}: {value!r} is neither a number nor a marker")
            if cell.shown and not cell.hidden:
                raise DataError(f"cell {dict(key)} is shown in one table and hidden in another")
            cell.hidden = cell.shown = True
            cell.marker = value
            continue
        number = int(float(value))
        if cell.hidden:
            raise DataError(f"cell {dict(key)} is shown in one table and hidden in another")
        if cell.shown and cell.value != number:
            raise DataError(
                f"cell {dict(key)} is {cell.value} in one table and {number} in another"
            )
        cell.shown, cell.value = True, number
    relations = _relations(reg)
    return [(key, (0.0, 0.0)) for key in exposed_cells(reg, relations)]


def product_keys(reg: Register, base: Mapping[str, Any], by: Sequence[str]) -> list[dict]:
    """Every combination of ``by`` values (domain order) merged into ``base``."""
    return [
        {**base, **dict(zip(by, combo, strict=True))}
        for combo in itertools.product(*(reg.domains[v] for v in by))
    ]
