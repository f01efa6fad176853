"""Every count table a period publishes about its courses, disclosed together.

:func:`disclose_period` registers the cells of all of a period's course tables (the
headline figures, the outcome distribution, employment by each group, ordinary
employment among completed courses, the sex x duration table, courses over time, the
missing values and the participants behind each effect) in one
:class:`~vip2analysis.publish.register.Register`, chooses the hidden cells for all of
them at once, and returns the published tables. Notebooks and figures take their numbers
from here, so a figure cannot show what a table hides, and no hidden cell can be worked
out from another table of the period. :meth:`PeriodTables.cell_map` says which cell each
published number is, for :func:`vip2analysis.publish.audit.audit_period`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from vip2analysis.contract.parameters import EFFECT_BY
from vip2analysis.contract.schema import DURATION_BANDS, EMPLOYMENT_OUTCOMES, OUTCOMES
from vip2analysis.errors import ParameterError
from vip2analysis.publish.register import MISSING, Key, Register
from vip2analysis.stats.proportions import DENOMINATOR_RULES, derive_outcomes, wilson_interval

__all__ = [
    "GROUPS",
    "PeriodTables",
    "course_records",
    "disclose_period",
]

GROUPS: tuple[str, ...] = (
    "sex",
    "origin_region",
    "duration_band",
    "residence_basis",
    "municipality",
    "job_package_group",
)
"""The columns employment is broken down by (one table each)."""

COMPLETED_BY: tuple[str, ...] = ("sex", "duration_band")
TWO_WAY: tuple[str, str] = ("sex", "duration_band")
_STATUS3 = ("completed", "dropped_out", "running")
_ENDED = ("completed", "dropped_out")
_MISSING_COLUMNS = ("sex", "country_of_origin", "residence_basis", "years_without_activation")
_ORDER = {"duration_band": DURATION_BANDS, "outcome": (*OUTCOMES, "running")}


def course_records(courses: pd.DataFrame, *, groups: Sequence[str] = GROUPS) -> pd.DataFrame:
    """One row per course with the variables the period's tables split by.

    ``status3`` is running / completed / dropped_out (running wins: see
    :func:`~vip2analysis.stats.proportions.follow_up`); ``start_quarter`` like 2008K1;
    ``missing.<column>`` yes / no.
    """
    flags = derive_outcomes(courses)
    status = np.where(flags["ended"].eq(0), "running", courses["status"].astype(object))
    out = pd.DataFrame(index=courses.index)
    for col in dict.fromkeys([*groups, *EFFECT_BY]):
        out[col] = courses[col].astype(object) if col in courses else MISSING
    out["status3"] = status
    out["outcome"] = courses["outcome"].astype(object).fillna("unknown")
    start = pd.to_datetime(courses["start_date"])
    out["start_quarter"] = [f"{d.year}K{d.quarter}" if pd.notna(d) else MISSING for d in start]
    for col in _MISSING_COLUMNS:
        if col in courses:
            out[f"missing.{col}"] = np.where(courses[col].isna(), "yes", "no")
    return out


def _levels(reg: Register, var: str) -> list[str]:
    order = _ORDER.get(var)
    values = list(reg.domains[var])
    rank = {v: i for i, v in enumerate(order)} if order else {}
    return sorted(values, key=lambda v: (v == MISSING, rank.get(v, len(rank)), v))


@dataclass
class _Row:
    """One published row: labels, the count cells by column, and (optionally) a rate of
    the ``events`` cell over the ``n`` cell."""

    labels: dict[str, Any]
    n: Key | None = None
    events: Key | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, Key] = field(default_factory=dict)


@dataclass
class PeriodTables:
    """A period's course tables after disclosure; see the module notes."""

    register: Register
    specs: dict[str, list[_Row]]
    rules: dict[str, str]
    level: float = 0.95

    @property
    def k(self) -> int:
        return self.register.k

    @property
    def names(self) -> list[str]:
        return list(self.specs)

    def table(self, name: str) -> pd.DataFrame:
        """The published table ``name``: labels, ``n``, and for a rate ``events``, ``rate``,
        ``conf_low``, ``conf_high`` and ``denominator_rule``; hidden cells as markers."""
        if name not in self.specs:
            raise ParameterError(f"no table {name!r}; the period has: {', '.join(self.specs)}")
        rows = []
        reg = self.register
        for row in self.specs[name]:
            out = dict(row.labels)
            for column, key in row.counts.items():
                out[column] = reg.shown_value(key)
            if row.n is not None:
                out["n"] = reg.shown_value(row.n)
            if row.events is not None:
                assert row.n is not None
                n, events = out["n"], reg.shown_value(row.events)
                out["events"] = events
                if isinstance(n, str) or isinstance(events, str):
                    marker = events if isinstance(events, str) else n
                    out.update(rate=marker, conf_low=marker, conf_high=marker)
                elif n == 0:
                    out.update(rate=np.nan, conf_low=np.nan, conf_high=np.nan)
                else:
                    low, high = wilson_interval(events, n, self.level)
                    out.update(rate=events / n, conf_low=float(low), conf_high=float(high))
                out["denominator_rule"] = self.rules.get(name, "")
            out.update(row.extra)
            rows.append(out)
        table = pd.DataFrame(rows)
        for column in ("n", "events", *{c for row in self.specs[name] for c in row.counts}):
            if column in table:  # counts stay whole numbers beside markers and blanks
                table[column] = pd.Series(
                    [_whole(v) for v in table[column].tolist()], index=table.index, dtype=object
                )
        return table

    def cell_map(self, name: str) -> dict[str, Any]:
        """Which cell each number of table ``name`` is (row, column -> conditions), every
        cell the period's tables imply, and the domains: what an auditor needs besides
        the published file (``*.cells.json`` beside the CSV)."""
        reg = self.register
        shown = []
        for i, row in enumerate(self.specs[name]):
            pairs = [*row.counts.items(), ("n", row.n), ("events", row.events)]
            for column, key in pairs:
                if key is not None:
                    shown.append(
                        {
                            "row": i,
                            "column": column,
                            "key": _key_json(key),
                            "kind": reg.cells[key].kind,
                        }
                    )
        implied = [
            {"key": _key_json(key), "kind": cell.kind}
            for key, cell in sorted(reg.cells.items())
            if not cell.shown
        ]
        block = {
            "universe": "courses",
            "k": reg.k,
            "domains": {v: list(d) for v, d in reg.domains.items()},
            "shown": shown,
            "implied": implied,
        }
        return {"universes": [block]}


def _whole(value: Any) -> Any:
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, float) and np.isnan(value):
        return None
    return int(value)


def _key_json(key: Key) -> dict[str, list[str]]:
    return {var: list(values) for var, values in key}


def disclose_period(
    courses: pd.DataFrame,
    *,
    k: int,
    groups: Sequence[str] = GROUPS,
    level: float = 0.95,
) -> PeriodTables:
    """Register, disclose and return every course table of a period (see module notes).

    ``courses`` are the period's courses with ``running`` from
    :func:`~vip2analysis.stats.proportions.follow_up` (without it, status ``ongoing``
    means running).
    """
    records = course_records(courses, groups=groups)
    variables = list(records.columns)
    reg = Register.from_records(records, variables, k=k)
    reg.domains["status3"] = _STATUS3
    reg.domains["outcome"] = tuple(sorted({*OUTCOMES, *reg.domains["outcome"]}))
    specs: dict[str, list[_Row]] = {}
    rules: dict[str, str] = {}
    emp = list(EMPLOYMENT_OUTCOMES)

    def rate_rows(base: dict, by: Sequence[str], event: list[str]) -> list[_Row]:
        rows = []
        levels = [_levels(reg, v) for v in by]
        combos = list(itertools.product(*levels)) if by else [()]
        for values in combos:
            where = {**base, **dict(zip(by, values, strict=True))}
            n = reg.add(reg.key(**where), shown=True)
            events = reg.add(reg.key(**where, outcome=event), kind="outcome", shown=True)
            reg.add(reg.key(**where, outcome=reg.complement("outcome", event)), kind="outcome")
            if reg.cells[n].value:
                rows.append(_Row(dict(zip(by, values, strict=True)), n, events))
        # the margins the rows add up to (implied; shown where another table shows them)
        for i in range(len(by)):
            rest = [v for j, v in enumerate(by) if j != i]
            for values in itertools.product(*(_levels(reg, v) for v in rest)):
                where = {**base, **dict(zip(rest, values, strict=True))}
                reg.add(reg.key(**where))
                reg.add(reg.key(**where, outcome=event), kind="outcome")
                reg.add(reg.key(**where, outcome=reg.complement("outcome", event)), kind="outcome")
        return rows

    # headline figures
    head = []
    for code, where in (
        ("courses", {}),
        ("running", {"status3": "running"}),
        ("ended", {"status3": _ENDED}),
    ):
        head.append(_Row({"figure": code}, reg.add(reg.key(**where), shown=True, protected=True)))
    for code, base, event, rule in (
        ("ordinary_all", {"status3": _ENDED}, ["ordinary_employment"], "all"),
        ("employed_completed", {"status3": "completed"}, emp, "completed"),
    ):
        rate_rows(base, [], event)
        n = reg.key(**base)
        events = reg.key(**base, outcome=event)
        reg.cells[n].protected = reg.cells[events].protected = True
        head.append(
            _Row(
                {"figure": code},
                n,
                events,
                {"denominator_rule": DENOMINATOR_RULES[rule]},
            )
        )
    specs["noegletal"] = head

    # outcome distribution, running courses apart
    dist = [_Row({"outcome": "running"}, reg.add(reg.key(status3="running"), shown=True))]
    for outcome in _levels(reg, "outcome"):
        key = reg.add(reg.key(status3=_ENDED, outcome=outcome), kind="outcome", shown=True)
        dist.append(_Row({"outcome": outcome}, key))
    dist.append(_Row({"outcome": "total"}, reg.add(reg.key(), shown=True)))
    specs["afgang"] = dist

    for col in groups:
        name = f"beskaeftigelse_{col}"
        specs[name] = rate_rows({"status3": _ENDED}, [col], emp)
        rules[name] = DENOMINATOR_RULES["all"]
    for col in COMPLETED_BY:
        name = f"ordinaer_afsluttede_{col}"
        specs[name] = rate_rows({"status3": "completed"}, [col], ["ordinary_employment"])
        rules[name] = DENOMINATOR_RULES["completed"]
    name = "beskaeftigelse_koen_x_varighed"
    specs[name] = rate_rows({"status3": _ENDED}, list(TWO_WAY), emp)
    rules[name] = DENOMINATOR_RULES["all"]
    for col in EFFECT_BY:
        name = f"deltagere_{col}"
        specs[name] = rate_rows({"status3": _ENDED}, [col], emp)
        rules[name] = DENOMINATOR_RULES["all"]

    # courses started per quarter, and how many of them ended in employment
    over = []
    for quarter in _levels(reg, "start_quarter"):
        started = reg.add(reg.key(start_quarter=quarter), shown=True)
        reg.add(reg.key(start_quarter=quarter, status3="running"))
        rate_rows({"start_quarter": quarter, "status3": _ENDED}, [], emp)
        n = reg.key(start_quarter=quarter, status3=_ENDED)
        events = reg.key(start_quarter=quarter, status3=_ENDED, outcome=emp)
        over.append(_Row({"quarter": quarter}, n, events, counts={"started": started}))
    specs["forloeb_over_tid"] = over

    # missing values
    missing = []
    for col in _MISSING_COLUMNS:
        var = f"missing.{col}"
        if var in reg.domains and "yes" in reg.domains[var]:
            missing.append(_Row({"column": col}, reg.add(reg.key(**{var: "yes"}), shown=True)))
        else:
            missing.append(_Row({"column": col}, None, None, {"n": 0}))
    specs["manglende_vaerdier"] = missing

    reg.plan()
    return PeriodTables(reg, specs, rules, level)
