"""Adjusted differences among participants: logit average marginal effects, LPM, wild bootstrap.

This describes who did better among participants; it is not a causal effect and every
output says so.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, get_args

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.special import expit

from vip2analysis.errors import DataError, check_one_of
from vip2analysis.stats.proportions import DENOMINATOR_RULES, Denominator, Outcome, _analysis_frame
from vip2analysis.stats.tidy import (
    INFERENCE,
    Inference,
    _fmt_ci,
    _is_categorical,
    _observed_levels,
    _record,
    _tidy_frame,
    _tidy_row,
    inference_code,
)

__all__ = [
    "AdjustedDifferences",
    "adjusted_differences",
]


NOT_CAUSAL = (
    "Differences among participants, adjusted for the other terms; "
    "they describe who did better, they are not causal effects."
)


_SEPARATION_COEF = 10.0  # |logit coefficient| above this is flagged as (quasi-)separation


def _fallback(term: str, level: str, reason: str, action: str) -> dict[str, str]:
    return {"term": term, "level": level, "reason": reason, "action": action}


SPARSE = "too small or too uniform to estimate"
"""The one reason given for a sparse level: never its size, never which outcome it had."""


def _sparse_reason(y: pd.Series, mask: pd.Series, min_cell: int) -> str | None:
    """Why a level is too thin for a logit (fewer than ``min_cell`` persons, or everyone
    with the same outcome), or None if it is fine. The text says neither which nor how
    many: it may be published (notes, warnings) and must pass the disclosure rule."""
    n, events = int(mask.sum()), int(y[mask].sum())
    return SPARSE if n < min_cell or events in (0, n) else None


def _first_sparse(groups: list, x: pd.Series, y: pd.Series, min_cell: int) -> tuple | None:
    for i, (_, members) in enumerate(groups):
        reason = _sparse_reason(y, x.isin(members), min_cell)
        if reason:
            return i, reason
    return None


def _collapse(x: pd.Series, y: pd.Series, *, term: str, min_cell: int) -> tuple[list, list]:
    """Merge sparse levels until none is left; return groups ``[(label, members)]`` and records.

    Ordered categoricals merge a sparse level with its neighbour below (above, for the
    first level). Unordered terms pool all sparse levels into 'other' and then merge any
    group that is still sparse into the largest group.
    """
    ordered = isinstance(x.dtype, pd.CategoricalDtype) and x.cat.ordered
    groups = [(str(lvl), [lvl]) for lvl in _observed_levels(x)]
    records: list[dict] = []
    sparse = [g for g in groups if _sparse_reason(y, x.isin(g[1]), min_cell)]
    if not ordered and len(sparse) > 1:
        pooled = [m for _, ms in sparse for m in ms]
        records += [_fallback(term, label, "sparse", "pooled into 'other'") for label, _ in sparse]
        groups = [g for g in groups if g not in sparse] + [("other", pooled)]
    while len(groups) > 1 and (found := _first_sparse(groups, x, y, min_cell)):
        i, reason = found
        if ordered:
            j = i - 1 if i > 0 else 1
        else:
            sizes = [x.isin(ms).sum() if k != i else -1 for k, (_, ms) in enumerate(groups)]
            j = int(np.argmax(sizes))
        lo, hi = sorted((i, j))
        merged = (f"{groups[lo][0]}|{groups[hi][0]}", groups[lo][1] + groups[hi][1])
        action = f"merged with '{groups[j][0]}' into '{merged[0]}'"
        records.append(_fallback(term, groups[i][0], reason, action))
        groups[lo] = merged
        del groups[hi]
    return groups, records


def _dummies(x: pd.Series, groups: list, name: str) -> dict[str, np.ndarray]:
    """Dummy columns for every group but the first (the reference)."""
    return {f"{name}[{label}]": x.isin(ms).to_numpy(float) for label, ms in groups[1:]}


@dataclass
class _Design:
    X: pd.DataFrame
    term_columns: dict[str, list[str]]
    numeric: set[str]
    reference: dict[str, str]
    fallbacks: list[dict]


def _build_design(
    frame: pd.DataFrame, y: pd.Series, terms: Sequence[str], fe: str | None, min_cell: int
) -> _Design:
    cols: dict[str, Any] = {"const": np.ones(len(frame))}
    design = _Design(pd.DataFrame(), {}, set(), {}, [])
    dropped = "term dropped from both models"
    for term in [*terms, *([fe] if fe else [])]:
        s = frame[term]
        if not _is_categorical(s) and term != fe:
            if s.astype(float).std() > 0:
                cols[term] = s.to_numpy(float)
                design.term_columns[term] = [term]
                design.numeric.add(term)
            else:
                design.fallbacks.append(_fallback(term, "", "no variation", dropped))
            continue
        groups, records = _collapse(s, y, term=term, min_cell=min_cell)
        design.fallbacks.extend(records)
        if len(groups) < 2:
            level = groups[0][0] if groups else ""
            reason = "one level left after merging" if records else "only one level observed"
            design.fallbacks.append(_fallback(term, level, reason, dropped))
            continue
        dummies = _dummies(s, groups, term)
        cols.update(dummies)
        if term != fe:
            design.term_columns[term] = list(dummies)
            design.reference[term] = groups[0][0]
    design.X = pd.DataFrame(cols, index=frame.index)
    return design


def _fit_logit(y: pd.Series, design: _Design) -> Any:
    """Fit the logit; flag non-convergence or exploding coefficients instead of hiding them."""
    res = sm.Logit(y, design.X).fit(disp=0, maxiter=200)
    big = [c for c in design.X.columns[1:] if abs(res.params[c]) > _SEPARATION_COEF]
    if big or not res.mle_retvals.get("converged", True):
        cols = big or ["(model did not converge)"]
        reason = f"|logit coefficient| > {_SEPARATION_COEF:g} or no convergence"
        design.fallbacks += [
            _fallback(c, "", reason, "flagged: use the LPM rows for this term") for c in cols
        ]
        warnings.warn(
            f"adjusted_differences: possible separation in the logit for {cols}; "
            "the logit AMEs are unreliable there, the LPM rows are not affected.",
            UserWarning,
            stacklevel=3,
        )
    return res


def _ame(X: np.ndarray, b: np.ndarray, j: int, block: list[int], numeric: bool) -> tuple:
    """AME of column ``j`` and its gradient in the coefficients.

    Numeric columns: the average derivative b_j * p(1 - p). Dummy columns: the average
    discrete change from the reference level (all dummies of the term 0) to the level.
    """
    if numeric:
        p = expit(X @ b)
        f = p * (1 - p)
        grad = b[j] * ((f * (1 - 2 * p))[:, None] * X).mean(axis=0)
        grad[j] += f.mean()
        return b[j] * f.mean(), grad
    x0 = X.copy()
    x0[:, block] = 0.0
    x1 = x0.copy()
    x1[:, j] = 1.0
    p0, p1 = expit(x0 @ b), expit(x1 @ b)
    grad = ((p1 * (1 - p1))[:, None] * x1 - (p0 * (1 - p0))[:, None] * x0).mean(axis=0)
    return (p1 - p0).mean(), grad


def _ame_rows(res: Any, design: _Design, level: float) -> list[dict]:
    X = design.X.to_numpy(float)
    b, V = res.params.to_numpy(), res.cov_params().to_numpy()
    cols = list(design.X.columns)
    rows = []
    for term, names in design.term_columns.items():
        block = [cols.index(c) for c in names]
        for name, j in zip(names, block, strict=True):
            est, grad = _ame(X, b, j, block, term in design.numeric)
            se = float(np.sqrt(grad @ V @ grad))
            rows.append(
                _tidy_row(name, est, se, level=level, n=len(X), inference=INFERENCE["logit_ame"])
            )
    return rows


def _lpm_rows(res: Any, names: list[str], level: float) -> list[dict]:
    ci = res.conf_int(alpha=1 - level)
    n = int(res.nobs)
    return [
        _record(c, res.params[c], res.bse[c], *ci.loc[c], res.pvalues[c], n, INFERENCE["lpm_hc3"])
        for c in names
    ]


def _bootstrap_rows(lpm: Any, cluster: pd.Series, names: list[str], reps: int, seed: int) -> list:
    """Wild cluster bootstrap p-values (restricted, WCR11, Webb weights) per LPM term.

    The bootstrap gives p-values only; the interval columns stay empty, so that no row
    holds an interval and a p-value from two procedures. (wildboottest inverts no test
    for cluster bootstraps; a hand-written inversion is left for later.)
    """
    from wildboottest.wildboottest import wildboottest  # numba import: slow, only when needed

    codes, uniques = pd.factorize(cluster)
    if reps <= 0 or len(uniques) < 2:
        return []
    label = INFERENCE["wild_bootstrap"].format(clusters=len(uniques))
    model = sm.OLS(lpm.model.endog, lpm.model.data.orig_exog)
    rows = []
    for c in names:
        out = wildboottest(
            model,
            B=reps,
            cluster=codes,
            param=c,
            weights_type="webb",
            seed=seed,
            show=False,
            parallel=False,
        )
        p = float(np.asarray(out["p-value"].iloc[0]).squeeze())
        rows.append(_record(c, lpm.params[c], np.nan, np.nan, np.nan, p, int(lpm.nobs), label))
    return rows


@dataclass
class AdjustedDifferences:
    """Adjusted differences in an outcome among participants (not causal effects).

    Attributes
    ----------
    table : DataFrame
        The tidy rows (see :meth:`tidy`).
    reference : dict
        Reference level of each categorical term (after any collapsing).
    fallbacks : DataFrame
        What was done about sparse levels or separation: term, level, reason, action.
    logit_result, lpm_result : statsmodels results
        The raw logit and the linear probability model (HC3).
    """

    outcome: str
    denominator: str
    n: int
    table: pd.DataFrame
    reference: dict[str, str]
    fallbacks: pd.DataFrame
    fixed_effects: str | None
    n_clusters: int
    min_cell: int
    level: float
    logit_result: Any = field(repr=False)
    lpm_result: Any = field(repr=False)

    def tidy(self) -> pd.DataFrame:
        """All rows: logit AMEs, LPM (HC3) and wild cluster bootstrap p-values."""
        return self.table.copy()

    def _rows(self, code: Inference) -> pd.DataFrame:
        t = self.tidy()
        return t.loc[t["inference"].map(inference_code).eq(code)].reset_index(drop=True)

    def ame(self) -> pd.DataFrame:
        """Logit average marginal effects (discrete changes for categorical terms)."""
        return self._rows("logit_ame")

    def lpm(self) -> pd.DataFrame:
        """Linear probability model coefficients with HC3 errors."""
        return self._rows("lpm_hc3")

    def bootstrap(self) -> pd.DataFrame:
        """Wild cluster bootstrap p-values for the LPM coefficients."""
        return self._rows("wild_bootstrap")

    def summary(self) -> str:
        """Text for a notebook: the three kinds of row side by side, and what was done."""
        ame, lpm, boot = (x.set_index("term") for x in (self.ame(), self.lpm(), self.bootstrap()))
        ci, cols = f"[{self.level:.0%} CI]", ["estimate", "conf_low", "conf_high"]
        side = pd.DataFrame(index=lpm.index)
        # each interval beside the p-value of the same procedure, never another's
        side[f"logit AME {ci}, delta method"] = [_fmt_ci(*ame.loc[t, cols]) for t in side.index]
        side["p (delta)"] = ame["p_value"].reindex(side.index).map("{:.3f}".format)
        side[f"LPM {ci}, HC3"] = [_fmt_ci(*lpm.loc[t, cols]) for t in side.index]
        side["p (HC3)"] = lpm["p_value"].reindex(side.index).map("{:.3f}".format)
        boot_p = boot["p_value"].reindex(side.index)
        side["LPM p, wild cluster bootstrap (no interval)"] = boot_p.map("{:.3f}".format).where(
            boot_p.notna(), "not run"
        )
        lines = [
            f"Outcome: {self.outcome} ({DENOMINATOR_RULES[self.denominator]}), n = {self.n}.",
            NOT_CAUSAL,
            f"Fixed effects: {self.fixed_effects or 'none'}; {self.n_clusters} clusters, too few "
            "for cluster-robust errors: p-values from a wild cluster bootstrap (Webb weights).",
            "Reference levels: " + ", ".join(f"{k} = {v}" for k, v in self.reference.items()),
            "",
            side.to_string(),
        ]
        if len(self.fallbacks):
            lines += [
                "",
                f"Sparse levels (n < {self.min_cell} or no variation) and fallbacks:",
                self.fallbacks.to_string(index=False),
            ]
        return "\n".join(lines)


def adjusted_differences(
    courses: pd.DataFrame,
    *,
    outcome: Outcome = "employed",
    denominator: Denominator = "all",
    terms: Sequence[str] = ("sex", "origin_group", "duration_band", "age_at_start"),
    fixed_effects: str | None = "municipality",
    cluster: str = "municipality",
    min_cell: int = 10,
    bootstrap_reps: int = 9999,
    seed: int = 2010,
    level: float = 0.95,
) -> AdjustedDifferences:
    """Differences in an outcome between groups of participants, adjusted for each other.

    Fits a logit and a linear probability model (LPM) on the same design: the terms,
    dummy-coded against their first level for categorical terms, plus fixed effects.
    Reports logit average marginal effects (discrete change from the reference level for
    categorical terms, average derivative for numeric ones) with delta-method intervals,
    the LPM coefficients with HC3 errors, and wild cluster bootstrap p-values for the LPM
    (clusters = ``cluster``, Webb weights; cluster-robust errors are not reported because
    five municipalities are too few clusters).

    Sparse levels are handled before fitting, in the open: a level with fewer than
    ``min_cell`` courses or with all outcomes 0 or all 1 would make the logit separate.
    It is merged (ordered terms: with the neighbouring level; unordered terms: sparse
    levels pooled into 'other', then into the largest level), with a warning naming the
    term. A term left with one level is dropped from both models. Everything done is in
    ``.fallbacks``. These are differences among participants, not causal effects.

    Parameters
    ----------
    courses : DataFrame
        Course records (participants only).
    outcome : {'employed', 'ordinary', 'completed'}
        Outcome column made by :func:`derive_outcomes`.
    denominator : {'all', 'completed'}
        All courses, or completed courses only.
    terms : sequence of str
        Columns to compare by; numeric columns enter linearly.
    fixed_effects : str or None
        Column whose levels get their own intercept.
    cluster : str
        Column that defines the bootstrap clusters.
    min_cell : int
        A level with fewer courses than this is merged (see above).
    bootstrap_reps : int
        Bootstrap replications; 0 skips the bootstrap.
    seed : int
        Seed of the bootstrap weights.
    level : float
        Confidence level.

    Returns
    -------
    AdjustedDifferences

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"sex": rng.choice(["F", "M"], 200),
    ...                    "age_at_start": rng.integers(20, 60, 200),
    ...                    "municipality": rng.choice(list("ABCDE"), 200),
    ...                    "outcome": rng.choice(["ordinary_employment", "education"], 200),
    ...                    "status": "completed"})
    >>> res = adjusted_differences(df, terms=["sex", "age_at_start"], bootstrap_reps=0)
    >>> res.tidy()[["term", "inference"]].to_numpy().tolist()[:2]
    [['sex[M]', 'delta method (logit AME)'], ['age_at_start', 'delta method (logit AME)']]
    """
    check_one_of("outcome", outcome, get_args(Outcome))
    used = list(
        dict.fromkeys([outcome, *terms, *([fixed_effects] if fixed_effects else []), cluster])
    )
    frame = _analysis_frame(courses, denominator)[used].dropna()
    y = frame[outcome].astype(float)
    if y.nunique() < 2:
        raise DataError(f"The outcome `{outcome}` does not vary in the {len(y)} rows used.")
    design = _build_design(frame, y, terms, fixed_effects, min_cell)
    for rec in design.fallbacks:
        warnings.warn(
            f"adjusted_differences: term '{rec['term']}', level '{rec['level']}' "
            f"({rec['reason']}): {rec['action']}. See `.fallbacks`.",
            UserWarning,
            stacklevel=2,
        )
    logit = _fit_logit(y, design)
    lpm = sm.OLS(y, design.X).fit(cov_type="HC3")
    names = [c for cs in design.term_columns.values() for c in cs]
    boot = _bootstrap_rows(lpm, frame[cluster], names, bootstrap_reps, seed)
    table = _tidy_frame([*_ame_rows(logit, design, level), *_lpm_rows(lpm, names, level), *boot])
    return AdjustedDifferences(
        outcome=outcome,
        denominator=denominator,
        n=len(frame),
        table=table,
        reference=design.reference,
        fallbacks=pd.DataFrame(design.fallbacks, columns=["term", "level", "reason", "action"]),
        fixed_effects=fixed_effects,
        n_clusters=frame[cluster].nunique(),
        min_cell=min_cell,
        level=level,
        logit_result=logit,
        lpm_result=lpm,
    )
