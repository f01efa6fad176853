"""Register outcomes of the courses and the risk-set comparison sample, in calendar time.

For every week t0 in which some participant starts a course, the eligible comparisons are
the persons in the extract who live in one of the project's municipalities (where the
extract says), are on passive public support in week t0 and do not start a course in week
t0. Up to ``m`` per participant are drawn, deterministically from the seed and the week
(a draw at one t0 does not depend on any other). A person may serve at several t0, and may
start a course later: the effect is that of starting now versus not now.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from vip2analysis.contract.cpr import age_at
from vip2analysis.contract.dream import (
    ACTIVATION,
    MISSING_WEEK,
    PUBLIC_SUPPORT,
    UNKNOWN,
    WeeklyPanel,
    load_dream_codes,
    week_of,
)
from vip2analysis.engine import Engine
from vip2analysis.errors import ParameterError
from vip2analysis.register.measures import DEFAULT_GAP, measure_panel, ordinary_employment

__all__ = [
    "COVARIATES",
    "DEFAULT_M",
    "PROJECT_MUNICIPALITIES",
    "comparison_sample",
    "course_outcomes",
    "passive_at",
]

DEFAULT_M = 5
PROJECT_MUNICIPALITIES = ("Aabenraa", "Aarhus", "Fredensborg", "Gladsaxe", "Slagelse")
COVARIATES = (
    "sex",
    "age",
    "origin_group",
    "origin_region",
    "municipality",
    "weeks_without_activation",
    "weeks_support_104",
    "half_year",
)
"""The covariates measured at t0 from the register (origin and municipality only where the
extract carries them)."""


def passive_at(panel: WeeklyPanel, week: int) -> np.ndarray:
    """True for the persons on passive public support (support, not activation) in ``week``."""
    if not 0 <= week < len(panel.weeks):
        return np.zeros(len(panel.persons), dtype=bool)
    flags = load_dream_codes().flags[np.clip(panel.codes[:, week], 0, MISSING_WEEK)]
    return (flags & PUBLIC_SUPPORT != 0) & (flags & (ACTIVATION | UNKNOWN) == 0)


def _covariates(panel: WeeklyPanel, rows: np.ndarray, t0: np.ndarray) -> pd.DataFrame:
    persons = panel.persons.iloc[rows].reset_index(drop=True)
    monday = panel.monday(t0)
    out = pd.DataFrame(
        {
            "person_id": persons["person_id"].astype("string"),
            "t0": monday,
            "sex": persons["sex"].astype("string"),
            "age": age_at(persons["birth_date"], monday).astype("Float64"),
        }
    )
    for col in ("origin_group", "origin_region", "municipality"):
        out[col] = persons[col].astype("string") if col in persons else pd.NA
    half = np.where(monday.dt.month <= 6, "H1", "H2")
    out["half_year"] = monday.dt.year.astype(str) + half
    return out


def _rows_of(panel: WeeklyPanel, person_id: pd.Series) -> np.ndarray:
    """Row of each person id in the panel, -1 where the extract has no such person."""
    index = pd.Index(panel.persons["person_id"].astype("string"))
    return index.get_indexer(person_id.astype("string"))


def course_outcomes(
    panel: WeeklyPanel,
    courses: pd.DataFrame,
    *,
    k: int = DEFAULT_GAP,
    engine: Engine | None = None,
) -> pd.DataFrame:
    """One row per course: ``person_id``, ``start_date``, ``t0`` (the Monday of the start
    week), ``in_register``, the covariates at t0 and every measure (missing for a person
    the extract does not hold), plus the register's ordinary employment 13 weeks after the
    course's end (``employed_13_after_end``; missing while a course runs). The measures
    run on ``engine`` (see :func:`~vip2analysis.register.measures.measure_panel`)."""
    rows = _rows_of(panel, courses["person_id"])
    t0 = panel.week_index(courses["start_date"])
    found = rows >= 0
    base = pd.DataFrame(
        {
            "person_id": courses["person_id"].astype("string").to_numpy(),
            "start_date": pd.to_datetime(courses["start_date"]).to_numpy(),
            "t0": week_of(courses["start_date"]).astype("datetime64[s]").to_numpy(),
            "in_register": found,
        }
    )
    measured = measure_panel(panel, rows[found], t0[found], k=k, engine=engine)
    covs = _covariates(panel, rows[found], t0[found]).drop(columns=["person_id", "t0"])
    filled = pd.concat([covs, measured], axis=1)
    filled.index = np.flatnonzero(found)
    out = pd.concat([base, filled.reindex(range(len(base)))], axis=1)
    end = panel.week_index(courses["end_date"]) if "end_date" in courses else None
    if end is not None:
        has_end = found & pd.notna(courses["end_date"]).to_numpy()
        after = np.full(len(base), np.nan)
        after[has_end] = ordinary_employment(panel, rows[has_end], end[has_end] + 13)
        out["employed_13_after_end"] = after
    return out


def comparison_sample(
    panel: WeeklyPanel,
    courses: pd.DataFrame,
    *,
    m: int = DEFAULT_M,
    seed: int,
    k: int = DEFAULT_GAP,
    municipalities: Sequence[str] = PROJECT_MUNICIPALITIES,
    engine: Engine | None = None,
) -> pd.DataFrame:
    """The risk-set comparison sample: up to ``m`` eligible persons per participant at
    every start week, with the covariates at t0 and every measure.

    ``courses`` needs ``person_id`` and ``start_date``. Rows are ordered by t0, then by
    the person's row in the extract; ``t0`` is the Monday of the start week. The measures
    run on ``engine`` (see :func:`~vip2analysis.register.measures.measure_panel`).
    """
    if m < 1:
        raise ParameterError(f"m (comparisons per participant) must be at least 1, got {m}")
    t0_all = panel.week_index(courses["start_date"])
    starters = pd.DataFrame({"row": _rows_of(panel, courses["person_id"]), "t0": t0_all})
    per_week = starters.groupby("t0").agg(n=("row", "size"), rows=("row", list))
    lives = np.ones(len(panel.persons), dtype=bool)
    if "municipality" in panel.persons:
        lives = panel.persons["municipality"].isin(list(municipalities)).to_numpy()
    rows_out, t0_out = [], []
    for week, rec in per_week.iterrows():
        t = int(week)
        if not 0 <= t < len(panel.weeks):  # a start outside the extract: no one to compare
            continue
        eligible = lives & passive_at(panel, t)
        starting = np.asarray([r for r in rec["rows"] if r >= 0], dtype=np.int64)
        eligible[starting] = False
        pool = np.flatnonzero(eligible)
        take = min(m * int(rec["n"]), len(pool))
        week_id = panel.weeks[t]
        rng = np.random.default_rng([seed, week_id.year * 100 + week_id.week])
        chosen = np.sort(rng.choice(pool, size=take, replace=False)) if take else pool[:0]
        rows_out.append(chosen)
        t0_out.append(np.full(take, t, dtype=np.int64))
    rows = np.concatenate(rows_out) if rows_out else np.zeros(0, np.int64)
    t0 = np.concatenate(t0_out) if t0_out else np.zeros(0, np.int64)
    measured = measure_panel(panel, rows, t0, k=k, engine=engine)
    return pd.concat([_covariates(panel, rows, t0), measured], axis=1)
