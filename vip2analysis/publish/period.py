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
from vip2analysis.errors import ParameterError, check_one_of
from vip2analysis.publish.labels import _REGIONS
from vip2analysis.publish.present import EFFECT_ESTIMATES, with_reference
from vip2analysis.publish.register import MISSING, CellKind, Key, Register
from vip2analysis.stats.proportions import DENOMINATOR_RULES, derive_outcomes, wilson_interval

__all__ = [
    "EXPLORE_OUTCOMES",
    "GROUPS",
    "Explore",
    "PeriodTables",
    "course_records",
    "disclose_accounting",
    "disclose_ambassadors",
    "disclose_comparison",
    "disclose_period",
    "disclose_reasons",
    "publish_balance",
    "publish_effects",
    "publish_follow_up",
    "publish_lock_in",
    "publish_model_table",
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
_MISSING_COLUMNS = (
    "job_package",
    "sex",
    "birth_date",
    "country_of_origin",
    "origin_region",
    "residence_basis",
    "years_without_activation",
    "duration_band",
    "match_code",
    "work_ready",
)
_ORDER = {
    "duration_band": DURATION_BANDS,
    "duration_band_register": DURATION_BANDS,
    "outcome": (*OUTCOMES, "running"),
}


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
    if "register_employed" in courses:  # the register's outcome (stats.with_register)
        out["register_employed"] = courses["register_employed"].astype(object).fillna("unknown")
        job = courses["employed_13_after_end"]
        out["register_job_13"] = np.where(job.isna(), "unknown", np.where(job > 0, "yes", "no"))
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
    universe: str = "courses"

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
        entries = []
        for i, row in enumerate(self.specs[name]):
            pairs = [*row.counts.items(), ("n", row.n), ("events", row.events)]
            entries += [(i, column, key) for column, key in pairs if key is not None]
        return {"universes": [self.map_block(entries)]}

    def map_block(self, entries: Sequence[tuple[int, str, Key]]) -> dict[str, Any]:
        """The cell map of this universe for cells shown at ``(row, column)`` of a table."""
        reg = self.register
        shown = [
            {"row": row, "column": column, "key": _key_json(key), "kind": reg.cells[key].kind}
            for row, column, key in entries
        ]
        implied = [
            {"key": _key_json(key), "kind": cell.kind}
            for key, cell in sorted(reg.cells.items())
            if not cell.shown
        ]
        return {
            "universe": self.universe,
            "k": reg.k,
            "domains": {v: list(d) for v, d in reg.domains.items()},
            "shown": shown,
            "implied": implied,
        }

    def row_cells(self, name: str, labels: dict[str, Any]) -> tuple[Key, Key] | None:
        """The (n, events) cells of the row of table ``name`` with these labels, if any."""
        for row in self.specs[name]:
            if all(row.labels.get(k) == v for k, v in labels.items()) and row.n is not None:
                assert row.events is not None
                return row.n, row.events
        return None


def publish_effects(
    tidy: pd.DataFrame, treated: PeriodTables, comparison: PeriodTables
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """An effect table a period may publish, and its cell map.

    One row per term of a participation effect's tidy table: the participants (n, how
    many employed, their mean), the comparison persons (n, how many employed), the
    counterfactual mean, the difference with its interval and p-value (one procedure:
    see ``inference``). A row is published only when its participants' cells are shown in
    the period's tables (``effekt_deltagere``) and its comparison cells in
    ``effekt_sammenligning``, and the estimation rests on exactly those persons;
    otherwise its estimates are hidden, with the marker of the hidden cell.
    """
    rows: list[dict[str, Any]] = []
    entries_t: list[tuple[int, str, Key]] = []
    entries_c: list[tuple[int, str, Key]] = []
    for i, rec in enumerate(tidy.to_dict("records")):
        out: dict[str, Any] = {"term": rec["term"]}
        t = treated.row_cells("effekt_deltagere", {"term": rec["term"]})
        c = comparison.row_cells("effekt_sammenligning", {"term": rec["term"]})
        markers = []
        for side, cells, plan, n_est in (
            ("treated", t, treated, rec.get("n_treated")),
            ("comparison", c, comparison, rec.get("n_comparison")),
        ):
            if cells is None:
                out[f"n_{side}"] = out[f"employed_{side}"] = "x"
                markers.append("x")
                continue
            n, events = (plan.register.shown_value(key) for key in cells)
            out[f"n_{side}"], out[f"employed_{side}"] = n, events
            (entries_t if side == "treated" else entries_c).extend(
                [(i, f"n_{side}", cells[0]), (i, f"employed_{side}", cells[1])]
            )
            markers += [v for v in (n, events) if isinstance(v, str)]
            if not markers and n != n_est:
                markers.append("x")  # the model rests on other persons than the table
        hidden = markers[0] if markers else None
        for col in EFFECT_ESTIMATES:
            out[col] = hidden if hidden else rec.get(col)
        out["inference"] = rec.get("inference")
        rows.append(out)
    cell_map = {"universes": [treated.map_block(entries_t), comparison.map_block(entries_c)]}
    return pd.DataFrame(rows), cell_map


def publish_model_table(
    tidy: pd.DataFrame, tables: PeriodTables, reference: dict[str, str] | None = None
) -> tuple[pd.DataFrame, dict]:
    """A model's tidy table as a period may publish it, and its cell map: its ``n`` is the
    period's ended courses (shown in ``noegletal``); a model that rests on other courses
    shows ``n`` as ``"x"``. With the model's ``reference`` levels (``{"sex": "F"}``) each
    categorical term's row names its reference level (column ``reference``), so that
    "sex[M]" reads "Mænd vs. kvinder"."""
    cells = tables.row_cells("noegletal", {"figure": "ordinary_all"})
    assert cells is not None  # every period table has its headline
    ended = cells[0]
    value = tables.register.shown_value(ended)
    out = tidy.copy()
    out["n"] = [value if n == tables.register.cells[ended].value else "x" for n in tidy["n"]]
    if reference:
        out = with_reference(out, reference)
    entries = [(i, "n", ended) for i, n in enumerate(out["n"]) if n == value]
    return out, {"universes": [tables.map_block(entries)]}


def publish_follow_up(
    summary: pd.DataFrame, tables: PeriodTables, comparison: PeriodTables
) -> tuple[pd.DataFrame, dict]:
    """:func:`~vip2analysis.stats.effects.follow_up_summary` as a period may publish it:
    quartiles of days from start to outcome, and the n of each group (the participants
    with an ended course, the comparison persons), with its cell map."""
    ended = tables.row_cells("noegletal", {"figure": "ordinary_all"})
    everyone = comparison.row_cells("effekt_sammenligning", {"term": "ATT"})
    assert ended is not None and everyone is not None
    out = summary[["group", "p25", "median", "p75"]].copy()
    out.insert(
        1,
        "n",
        [tables.register.shown_value(ended[0]), comparison.register.shown_value(everyone[0])],
    )
    maps = [tables.map_block([(0, "n", ended[0])]), comparison.map_block([(1, "n", everyone[0])])]
    return out, {"universes": maps}


def publish_lock_in(
    profile: pd.DataFrame, *, k: int, level: float = 0.95
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The lock-in profile (:func:`~vip2analysis.register.lock_in`) as a period may publish
    it, and its cell map.

    Per group and week: the persons with employment information (``n``), how many were in
    ordinary employment (``events``) and the share with a Wilson interval. Each group is
    its own universe of person-weeks, disclosed under the period's rule (a week whose
    employed or not employed number lies below ``k`` is hidden, and so is what would give
    it away). The comparison group's share is the weighted one (interval on Kish's
    effective number), shown only where its counts are. The figure draws this table.
    """
    parts, blocks, offset = [], [], 0
    for group in ("participants", "comparison"):
        mine = profile.loc[profile["group"] == group].sort_values("week")
        weeks = mine["week"].astype(int).to_numpy()
        employed = mine["employed"].astype(int).to_numpy()
        not_employed = mine["n"].astype(int).to_numpy() - employed
        records = pd.DataFrame(
            {
                "week": np.repeat(
                    np.concatenate([weeks, weeks]).astype(str), np.r_[employed, not_employed]
                ),
                "employed": np.repeat(["yes", "no"], [employed.sum(), not_employed.sum()]),
            }
        )
        reg = Register.from_records(records, ["week", "employed"], k=k)
        reg.domains["employed"] = ("no", "yes")
        reg.domains["week"] = tuple(sorted({*reg.domains["week"], *weeks.astype(str)}))
        rows = []
        for w in weeks:
            base = {"week": str(w), "employed": ("no", "yes")}
            for row in _rate_rows(reg, base, [], ["yes"], var="employed", non_event=["no"]):
                rows.append(_Row({"group": group, "week": int(w)}, row.n, row.events))
        reg.plan()
        tables = PeriodTables(reg, {"indlaasning": rows}, {}, level, universe=f"lock_in_{group}")
        table = tables.table("indlaasning").drop(columns="denominator_rule")
        if group == "comparison":
            shown = pd.to_numeric(table["rate"], errors="coerce").notna().to_numpy()
            n_eff = mine["n_effective"].to_numpy(float)
            rate = mine["rate"].to_numpy(float)
            low, high = wilson_interval(np.round(rate * n_eff), np.maximum(n_eff, 1), level)
            for column, values in (("rate", rate), ("conf_low", low), ("conf_high", high)):
                table[column] = table[column].where(~shown, pd.Series(values, index=table.index))
        map_block = tables.cell_map("indlaasning")["universes"][0]
        for entry in map_block["shown"]:
            entry["row"] += offset
        blocks.append(map_block)
        parts.append(table)
        offset += len(table)
    return pd.concat(parts, ignore_index=True), {"universes": blocks}


def publish_balance(
    balance: pd.DataFrame, *, n_treated: int, n_comparison: int, k: int
) -> pd.DataFrame:
    """The balance table a period may publish: standardised mean differences only.

    The groups' means are left out (a mean of a 0/1 covariate times n is a count). The
    differences of a 0/1 covariate (``column[level]``) held by, or missing in, fewer than
    ``k`` participants or comparison persons are hidden as ``"<k"``: they rest on too few.
    """
    rows = []
    for rec in balance.to_dict("records"):
        out = {
            "covariate": rec["covariate"],
            "smd_before": rec["smd_before"],
            "smd_after": rec["smd_after"],
        }
        if str(rec["covariate"]).endswith("]"):
            counts = [
                round(rec["mean_participants"] * n_treated),
                round(rec["mean_comparison"] * n_comparison),
            ]
            sizes = [n_treated, n_comparison]
            if any(c < k or n - c < k for c, n in zip(counts, sizes, strict=True)):
                out["smd_before"] = out["smd_after"] = f"<{k}"
        rows.append(out)
    return pd.DataFrame(rows)


def _kind(reg: Register, where: dict) -> CellKind:
    """The kind of the events and non-events of a group: outcome cells (a 0 is sensitive),
    unless the group is empty, when they are no one's outcome."""
    return "outcome" if reg.count(reg.key(**where)) else "count"


def _rate_rows(
    reg: Register,
    base: dict,
    by: Sequence[str],
    event: Sequence[str],
    *,
    var: str = "outcome",
    non_event: Sequence[str] | None = None,
) -> list[_Row]:
    """Rows of a rate of ``var in event`` among ``base`` by ``by``: n, events and the
    (implied) non-events of every combination, and the margins they add up to.
    ``non_event`` names the other values of ``var`` within ``base`` when ``base`` itself
    restricts ``var`` (a share of completed among ended courses)."""
    event = list(event)
    others = list(non_event) if non_event is not None else reg.complement(var, event)
    rows = []
    levels = [_levels(reg, v) for v in by]
    combos = list(itertools.product(*levels)) if by else [()]
    for values in combos:
        where = {**base, **dict(zip(by, values, strict=True))}
        n = reg.add(reg.key(**where), shown=True)
        # an empty group is shown as 0 (a table that left it out would say the same)
        kind = _kind(reg, where)
        events = reg.add(reg.key(**{**where, var: event}), kind=kind, shown=True)
        reg.add(reg.key(**{**where, var: others}), kind=kind)
        rows.append(_Row(dict(zip(by, values, strict=True)), n, events))
    # the margins the rows add up to (implied; shown where another table shows them)
    for i in range(len(by)):
        rest = [v for j, v in enumerate(by) if j != i]
        for values in itertools.product(*(_levels(reg, v) for v in rest)):
            where = {**base, **dict(zip(rest, values, strict=True))}
            reg.add(reg.key(**where))
            kind = _kind(reg, where)
            reg.add(reg.key(**{**where, var: event}), kind=kind)
            reg.add(reg.key(**{**where, var: others}), kind=kind)
    return rows


def _effect_rows(
    reg: Register,
    base: dict,
    by: Sequence[str],
    event: Sequence[str],
    *,
    var: str,
    non_event: Sequence[str] | None = None,
) -> list[_Row]:
    """The rows behind an effect table: everyone in ``base``, then each level of each
    column of ``by`` (labels ``term`` as in the tidy effect tables)."""
    rows = []
    for row in _rate_rows(reg, base, [], event, var=var, non_event=non_event):
        rows.append(_Row({"term": "ATT"}, row.n, row.events))
    for col in by:
        for row in _rate_rows(reg, base, [col], event, var=var, non_event=non_event):
            level = row.labels[col]
            rows.append(_Row({"term": f"ATT[{col}={level}]"}, row.n, row.events))
    return rows


def _whole(value: Any) -> Any:
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, float) and np.isnan(value):
        return None
    return int(value)


def _key_json(key: Key) -> dict[str, list[str]]:
    return {var: list(values) for var, values in key}


@dataclass(frozen=True)
class Explore:
    """An explorer's table (:mod:`vip2analysis.explorer`): the share with ``outcome`` among
    the ``denominator``'s courses, by one or two columns ``by``; named ``udforsk``."""

    by: tuple[str, ...]
    outcome: str = "employed"
    denominator: str = "all"

    def __post_init__(self) -> None:
        if not 1 <= len(self.by) <= 2 or len(set(self.by)) != len(self.by):
            raise ParameterError(f"explore by one or two different columns, got {self.by}")
        check_one_of("outcome", self.outcome, tuple(EXPLORE_OUTCOMES))
        check_one_of("denominator", self.denominator, ("all", "completed"))
        if self.outcome == "completed" and self.denominator != "all":
            raise ParameterError("the share completed is taken over all ended courses")


EXPLORE_OUTCOMES: dict[str, tuple[str, tuple[str, ...]]] = {
    "ordinary": ("outcome", ("ordinary_employment",)),
    "employed": ("outcome", tuple(EMPLOYMENT_OUTCOMES)),
    "completed": ("status3", ("completed",)),
}
"""An explorer's outcome -> (variable, the values that are the event)."""


def _reconciliation(reg: Register, specs: dict[str, list[_Row]], rules: dict[str, str]) -> None:
    """The course file against the register: the reported duration band by the register's
    (``afstemning_varighed``, courses per pair), the share whose bands agree by reported
    band (``afstemning_enighed``: the cross-table's diagonal cells), and for reported
    ordinary employment and for every other outcome the share in ordinary employment in the register 13 weeks after the course's end
    (``afstemning_beskaeftigelse``). Disagreement is a finding, not an error."""
    pairs = []
    for a in _levels(reg, "duration_band"):
        for b in _levels(reg, "duration_band_register"):
            # the register's band is the courses' attribute: a 0 says something about all
            # the courses of a reported band, so it is an outcome cell
            where = {"duration_band": a, "duration_band_register": b}
            key = reg.add(reg.key(**where), kind=_kind(reg, {"duration_band": a}), shown=True)
            pairs.append(_Row({"duration_band": a, "duration_band_register": b}, key))
    specs["afstemning_varighed"] = pairs
    # agreement per reported band: the diagonal cell of the cross-table over the courses
    # of that band with a register band (the same cells, so hidden alike)
    measured = tuple(b for b in _levels(reg, "duration_band_register") if b != MISSING)
    agree = []
    for a in _levels(reg, "duration_band"):
        if a == MISSING:  # no reported band: nothing to agree with
            continue
        n = reg.add(reg.key(duration_band=a, duration_band_register=measured), shown=True)
        events = reg.key(duration_band=a, duration_band_register=a)
        agree.append(_Row({"duration_band": a}, n, events))
    specs["afstemning_enighed"] = agree
    rules["afstemning_enighed"] = DENOMINATOR_RULES["register_known"]
    # reported ordinary employment against every other reported outcome (finer rows would
    # rest on a handful of courses and cost the outcome table its cells)
    ordinary = ("ordinary_employment",)
    other = tuple(o for o in reg.domains["outcome"] if o not in ordinary)
    job = []
    for code, outcomes in (("ordinary_employment", ordinary), ("not_ordinary", other)):
        base = {"status3": _ENDED, "register_job_13": ("no", "yes"), "outcome": outcomes}
        for row in _rate_rows(reg, base, [], ["yes"], var="register_job_13", non_event=["no"]):
            job.append(_Row({"outcome": code}, row.n, row.events))
    specs["afstemning_beskaeftigelse"] = job
    rules["afstemning_beskaeftigelse"] = DENOMINATOR_RULES["register_known"]


def disclose_period(
    courses: pd.DataFrame,
    *,
    k: int,
    groups: Sequence[str] = GROUPS,
    effect_by: Sequence[str] = EFFECT_BY,
    level: float = 0.95,
    explore: Explore | None = None,
) -> PeriodTables:
    """Register, disclose and return every course table of a period (see module notes).

    ``courses`` are the period's courses with ``running`` from
    :func:`~vip2analysis.stats.proportions.follow_up` (without it, status ``ongoing``
    means running). With ``explore``, an explorer's table ``udforsk`` is disclosed
    together with the period's own tables, under the same rule.
    """
    extra = [c for c in (explore.by if explore else ()) if c not in (*groups, *effect_by)]
    records = course_records(courses, groups=[*groups, *effect_by, *extra])
    variables = list(records.columns)
    reg = Register.from_records(records, variables, k=k)
    reg.domains["status3"] = _STATUS3
    for var in ("register_employed", "register_job_13"):  # every level, even if none has it
        if var in reg.domains:
            reg.domains[var] = ("no", "unknown", "yes")
    if "register_employed" in reg.domains:
        measured = reg.domains["duration_band_register"]
        reg.domains["duration_band_register"] = tuple(sorted({*measured, *DURATION_BANDS}))
    reg.domains["outcome"] = tuple(sorted({*OUTCOMES, *reg.domains["outcome"]}))
    specs: dict[str, list[_Row]] = {}
    rules: dict[str, str] = {}
    emp = list(EMPLOYMENT_OUTCOMES)

    def rate_rows(base: dict, by: Sequence[str], event: list[str]) -> list[_Row]:
        return _rate_rows(reg, base, by, event)

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
    if "register_employed" in reg.domains:  # participants with a register outcome
        specs["effekt_deltagere"] = _effect_rows(
            reg,
            {"register_employed": ("no", "yes")},
            effect_by,
            ["yes"],
            var="register_employed",
            non_event=["no"],
        )
    else:
        specs["effekt_deltagere"] = _effect_rows(
            reg, {"status3": _ENDED}, effect_by, emp, var="outcome"
        )
    rules["effekt_deltagere"] = DENOMINATOR_RULES["all"]

    measured = records["duration_band_register"]
    if "register_employed" in reg.domains and (measured.notna() & measured.ne(MISSING)).any():
        _reconciliation(reg, specs, rules)  # only when some course is in the register

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

    if explore is not None:
        var, values = EXPLORE_OUTCOMES[explore.outcome]
        among = {"status3": _ENDED if explore.denominator == "all" else "completed"}
        others = ["dropped_out"] if var == "status3" else None
        specs["udforsk"] = _rate_rows(
            reg, among, list(explore.by), list(values), var=var, non_event=others
        )
        rules["udforsk"] = DENOMINATOR_RULES[explore.denominator]

    reg.plan()
    return PeriodTables(reg, specs, rules, level)


# --- other universes: raw rows, reject reasons, ambassadors ---------------------------------


def _count_tables(
    records: pd.DataFrame,
    tables: dict[str, tuple[str, str | None]],
    *,
    universe: str,
    k: int,
    domains: dict[str, Sequence[str]] | None = None,
) -> PeriodTables:
    """Count tables over one universe of records: ``name -> (row variable, column variable
    or None)``; each row gets its count per column value (or ``n``) and a total, and the
    table a last ``total`` row."""
    reg = Register.from_records(records, list(records.columns), k=k)
    for var, values in (domains or {}).items():
        reg.domains[var] = tuple(sorted({*reg.domains[var], *values} - {MISSING}))
    specs: dict[str, list[_Row]] = {}
    for name, (row_var, col_var) in tables.items():
        rows = []
        for value in [*_levels(reg, row_var), None]:
            where = {} if value is None else {row_var: value}
            counts = {}
            if col_var is not None:
                for col in _levels(reg, col_var):
                    counts[col] = reg.add(reg.key(**where, **{col_var: col}), shown=True)
            counts["n" if col_var is None else "total"] = reg.add(reg.key(**where), shown=True)
            rows.append(_Row({row_var: "total" if value is None else value}, counts=counts))
        specs[name] = rows
    reg.plan()
    return PeriodTables(reg, specs, {}, universe=universe)


def disclose_accounting(files: pd.DataFrame, *, k: int) -> PeriodTables:
    """The cleaning's accounting (``file``, ``clean_rows``, ``rejected_rows``,
    ``duplicate_rows``) as the table ``regnskab``: rows per file and fate, disclosed."""
    fates = {"clean_rows": "clean", "rejected_rows": "rejected", "duplicate_rows": "duplicate"}
    parts = [
        pd.DataFrame({"file": [row["file"]] * int(row[col]), "fate": fate})
        for _, row in files.iterrows()
        for col, fate in fates.items()
    ]
    records = (
        pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({"file": [], "fate": []})
    )
    return _count_tables(
        records,
        {"regnskab": ("file", "fate")},
        universe="raw_rows",
        k=k,
        domains={"fate": list(fates.values()), "file": list(files["file"])},
    )


def disclose_reasons(rejects: pd.DataFrame, *, k: int) -> PeriodTables:
    """Rejected rows by reason (a row counts once per reason) as the table
    ``afviste_efter_aarsag``, disclosed."""
    reasons = rejects.drop_duplicates(["source_file", "source_row", "reason"])
    return _count_tables(
        reasons[["reason"]].astype(str),
        {"afviste_efter_aarsag": ("reason", None)},
        universe="reject_reasons",
        k=k,
    )


def disclose_ambassadors(
    ambassadors: pd.DataFrame,
    *,
    start: Any,
    end: Any,
    k: int,
    regions: Sequence[str] = _REGIONS,
) -> PeriodTables:
    """Ambassadors certified by the period's end: by region (``ambassadoerer_region``), by
    quarter of certification (``ambassadoerer_kvartal``), and certified within the period
    or before it (``ambassadoerer_periode``), all disclosed together."""
    dates = pd.to_datetime(ambassadors["certified_date"])
    until = ambassadors.loc[dates <= pd.Timestamp(end)]
    dates = pd.to_datetime(until["certified_date"])
    records = pd.DataFrame(
        {
            "region": until["region"].astype(object).to_numpy(),
            "quarter": [f"{d.year}K{d.quarter}" for d in dates],
            "when": np.where(dates >= pd.Timestamp(start), "in_period", "before"),
        }
    )
    return _count_tables(
        records,
        {
            "ambassadoerer_region": ("region", None),
            "ambassadoerer_kvartal": ("quarter", None),
            "ambassadoerer_periode": ("when", None),
        },
        universe="ambassadors",
        k=k,
        domains={"region": list(regions), "when": ["before", "in_period"]},
    )


def disclose_comparison(
    comparison: pd.DataFrame, *, by: Sequence[str] = EFFECT_BY, k: int
) -> PeriodTables:
    """The comparison persons behind an effect table (``effekt_sammenligning``: n and the
    employed among them, overall and by each column of ``by``), disclosed together.
    ``employed`` is 0/1 (a register sample: some ordinary employment in the window)."""
    records = pd.DataFrame(index=comparison.index)
    for col in by:
        records[col] = comparison[col].astype(object)
    records["employed"] = np.where(comparison["employed"].astype(int).eq(1), "yes", "no")
    reg = Register.from_records(records, list(records.columns), k=k)
    reg.domains["employed"] = ("no", "yes")
    specs = {"effekt_sammenligning": _effect_rows(reg, {}, by, ["yes"], var="employed")}
    reg.plan()
    return PeriodTables(reg, specs, {}, universe="comparison")
