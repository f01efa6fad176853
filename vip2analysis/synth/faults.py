"""Documented faults injected into the rendered files, each listed with file and row."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from vip2analysis.synth.people import _make_cprs
from vip2analysis.synth.render import (
    _OUTCOME_WORDS,
    _cpr_text,
    _first_data_row,
    _Format,
    _format_dates,
)

__all__ = [
    "LARGE_FAULT_RATE",
]


# Fault rate of the large file, per fault kind (about the rate of the default set).
LARGE_FAULT_RATE = 0.002


# kind -> (action, reason code, column)
FAULT_KINDS: dict[str, tuple[str, str, str]] = {
    "exact_duplicate": ("duplicate", "exact_duplicate", ""),
    "conflicting_duplicate": ("reject", "conflicting_duplicate", ""),
    "cpr_date": ("reject", "cpr_date", "cpr"),
    "date_unparseable": ("reject", "date_unparseable", "start_date"),
    "end_before_start": ("reject", "end_before_start", "end_date"),
    "unknown_job_package": ("reject", "unknown_job_package", "job_package"),
    "sex_cpr_conflict": ("reject", "sex_cpr_conflict", "sex"),
    "blank_row": ("reject", "blank_row", ""),
    "municipality_variant": ("repair", "municipality_variant", "municipality"),
    "sex_missing": ("repair", "sex_from_cpr", "sex"),
}


_UNKNOWN_PACKAGE = "Rumfart og astronautik"


_BAD_DATE = {"excel_date": "31.02.2008", "excel_serial": "2008-13-01", "iso": "2008-13-01"}


@dataclass
class _Rows:
    """Rendered rows of one file with their bookkeeping columns (_pos, _truth, fault)."""

    frame: pd.DataFrame
    fmt: _Format
    taken: set[str]

    def add(
        self, rows: pd.DataFrame, pos: np.ndarray, kind: str, value: pd.Series | None = None
    ) -> None:
        action, reason, column = FAULT_KINDS[kind]
        extra = rows.assign(
            _pos=pos, _truth=-1, _kind=kind, _action=action, _reason=reason, _column=column
        )
        if value is not None:
            extra["_value"] = value.to_numpy()
        self.frame = pd.concat([self.frame, extra], ignore_index=True)


def _phantoms(rows: _Rows, rng: np.random.Generator, k: int, people: pd.DataFrame) -> pd.DataFrame:
    """k extra courses: copies of random rows with a new synthetic CPR (another person)."""
    truth_rows = rows.frame[(rows.frame["_truth"] >= 0) & (rows.frame["_kind"] == "")]
    take = rng.choice(len(truth_rows), size=k, replace=len(truth_rows) < k)
    src = truth_rows.iloc[take].copy()
    person = people.loc[src["_truth"].to_numpy()]
    cpr = _make_cprs(rng, person["birth_date"], person["sex"])
    while cpr.isin(rows.taken).any() or cpr.duplicated().any():
        cpr = _make_cprs(rng, person["birth_date"], person["sex"])
    rows.taken.update(cpr)
    src["cpr"] = _cpr_text(cpr, rows.fmt.cpr_dash).to_numpy()
    src["_truth"] = -1
    src["_value"] = None
    return src.reset_index(drop=True)


def _random_pos(rng: np.random.Generator, n_truth: int, k: int) -> np.ndarray:
    return rng.integers(0, max(n_truth, 1), size=k) + rng.uniform(0.1, 0.9, size=k)


def _inject(rows: _Rows, kind: str, k: int, rng: np.random.Generator, people: pd.DataFrame) -> None:
    frame, fmt = rows.frame, rows.fmt
    n = int((frame["_truth"] >= 0).sum())
    clean = np.flatnonzero((frame["_truth"] >= 0).to_numpy() & (frame["_kind"] == "").to_numpy())
    if kind in ("municipality_variant", "sex_missing"):
        idx = rng.choice(clean, size=k, replace=False)
        action, reason, column = FAULT_KINDS[kind]
        new = fmt.variant if kind == "municipality_variant" else None
        frame.loc[idx, column] = new
        frame.loc[idx, ["_kind", "_action", "_reason", "_column"]] = [kind, action, reason, column]
        frame.loc[idx, "_value"] = new
        return
    if kind == "exact_duplicate":
        idx = rng.choice(clean, size=k, replace=False)
        src = frame.loc[idx].copy()
        rows.add(src.drop(columns=["_pos"]), src["_pos"].to_numpy() + 0.95, kind)
        return
    if kind == "blank_row":
        blank = pd.DataFrame({c: [None] * k for c in frame.columns if not c.startswith("_")})
        rows.add(blank, _random_pos(rng, n, k), kind)
        return
    extra = _phantoms(rows, rng, k, people)
    _corrupt(extra, kind, fmt, rng)
    action, reason, column = FAULT_KINDS[kind]
    value = extra[column] if column else None
    if kind == "conflicting_duplicate":
        twin = extra.copy()
        # another outcome after cleaning, not only another word for the same one
        dropped = set(_OUTCOME_WORDS["dropped_out"])
        changed = twin["outcome"].map(lambda w: "Uddannelse" if w in dropped else "Afbrudt")
        twin["outcome"] = changed
        rows.add(twin, _random_pos(rng, n, k), kind)
    rows.add(extra, _random_pos(rng, n, k), kind, value)


def _corrupt(extra: pd.DataFrame, kind: str, fmt: _Format, rng: np.random.Generator) -> None:
    if kind == "cpr_date":
        extra["cpr"] = "3002" + extra["cpr"].str[4:]  # 30 February
    elif kind == "date_unparseable":
        extra["start_date"] = _BAD_DATE.get(fmt.date_style, "31-13-2008")
    elif kind == "end_before_start":
        start = extra["start_date"]
        if fmt.date_style not in ("excel_date", "excel_serial"):
            start = pd.Series(_parse_rendered_dates(start, fmt.date_style), index=extra.index)
        shifted = (
            pd.to_datetime(start) - pd.Timedelta(days=30)
            if fmt.date_style != "excel_serial"
            else None
        )
        if fmt.date_style == "excel_serial":
            extra["end_date"] = extra["start_date"].astype(int) - 30
        else:
            extra["end_date"] = _format_dates(shifted, fmt.date_style).to_numpy()
    elif kind == "unknown_job_package":
        extra["job_package"] = _UNKNOWN_PACKAGE
    elif kind == "sex_cpr_conflict":
        female, male = fmt.sex_words
        extra["sex"] = extra["sex"].map({female: male, male: female})


def _parse_rendered_dates(values: pd.Series, style: str) -> pd.Series:
    fmt = {"dmy_dash": "%d-%m-%Y", "iso": "%Y-%m-%d", "dmy_dot": "%d.%m.%Y"}[style]
    return pd.to_datetime(values, format=fmt)


def _with_faults(
    rendered: pd.DataFrame,
    fmt: _Format,
    rng: np.random.Generator,
    people: pd.DataFrame,
    plan: dict[str, int],
    taken: set[str],
) -> pd.DataFrame:
    """Rows of one file in file order with columns _truth (truth index or -1) and fault info."""
    base = rendered.assign(
        _pos=np.arange(len(rendered), dtype=float),
        _truth=rendered.index.to_numpy(),
        _kind="",
        _action="",
        _reason="",
        _column="",
        _value=None,
    ).reset_index(drop=True)
    rows = _Rows(base, fmt, taken)
    for kind, k in plan.items():
        if k:
            _inject(rows, kind, k, rng, people)
    frame = rows.frame
    if fmt.trailing_blank_rows:
        blank = pd.DataFrame({c: [None] * fmt.trailing_blank_rows for c in rendered.columns})
        rows.add(
            blank, len(rendered) + 1 + np.arange(fmt.trailing_blank_rows, dtype=float), "blank_row"
        )
        frame = rows.frame
    return frame.sort_values("_pos", kind="stable").reset_index(drop=True)


def _fault_table(rows: pd.DataFrame, fmt: _Format) -> pd.DataFrame:
    hit = rows["_kind"] != ""
    faults = rows.loc[hit, ["_kind", "_action", "_reason", "_column", "_value"]]
    faults.columns = ["kind", "action", "reason", "column", "raw_value"]
    faults.insert(0, "row", (rows.index[hit] + _first_data_row(fmt)).astype(int))
    faults.insert(0, "file", fmt.file)
    faults["raw_value"] = faults["raw_value"].map(lambda v: "" if v is None else str(v))
    return faults.reset_index(drop=True)
