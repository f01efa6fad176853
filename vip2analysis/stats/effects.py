"""The effect of participation on the participants (ATT) against a comparison group.

Selection on observables: IPW or AIPW on a stacked frame of participants and
non-participants, with balance, overlap and weight diagnostics.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
import statsmodels.api as sm

from vip2analysis.contract.schema import EMPLOYMENT_OUTCOMES
from vip2analysis.errors import DataError, ParameterError, check_one_of
from vip2analysis.stats.adjusted import _dummies
from vip2analysis.stats.proportions import derive_outcomes
from vip2analysis.stats.tidy import (
    INFERENCE,
    _is_categorical,
    _observed_levels,
    _tidy_frame,
    _tidy_row,
)

__all__ = [
    "ParticipationEffect",
    "TeMethod",
    "follow_up_summary",
    "participation_effect",
    "stack_comparison",
]


TeMethod = Literal["ipw", "aipw"]
"""Estimators of the effect of participation on the participants."""


_WEIGHT_SHARE_FLAG = 0.05  # a comparison person carrying more of the total weight is flagged


def stack_comparison(
    courses: pd.DataFrame,
    comparison: pd.DataFrame,
    *,
    age: str = "age_at_start",
    comparison_age: str = "age",
    treatment: str = "participant",
) -> pd.DataFrame:
    """Stack participants and non-participants into one table for :func:`participation_effect`.

    Only courses that have ended count: a running course (see
    :func:`~vip2analysis.stats.proportions.follow_up`) has no outcome yet and is left
    out, never counted as not employed. ``follow_up_days`` is the distance from start to
    the outcome: the course length for a participant, ``reference_date - start_date``
    for a comparison person (missing when the comparison table has no ``start_date``);
    :func:`follow_up_summary` compares the two.

    Parameters
    ----------
    courses : DataFrame
        Participants (one row per course).
    comparison : DataFrame
        Non-participants with the same covariates and an ``outcome`` at ``reference_date``,
        ideally with the ``start_date`` their follow-up is measured from.
    age : str
        Name of the age column in ``courses``, used in the result.
    comparison_age : str
        Name of the age column in ``comparison``; renamed to ``age``.
    treatment : str
        Name of the 0/1 column added (1 = participant).

    Returns
    -------
    DataFrame
        Both tables stacked, with ``treatment``, ``employed``, ``ordinary`` and
        ``follow_up_days`` columns.

    Examples
    --------
    >>> part = pd.DataFrame({"age_at_start": [30, 31], "status": ["completed", "ongoing"],
    ...                      "outcome": ["ordinary_employment", "unknown"]})
    >>> comp = pd.DataFrame({"age": [40], "outcome": ["still_on_benefit"]})
    >>> stack_comparison(part, comp)[["age_at_start", "participant", "employed"]]
       age_at_start  participant  employed
    0            30            1         1
    1            40            0         0
    """
    part = derive_outcomes(courses)
    part = part.loc[part["ended"].eq(1)].drop(columns=["ended", "completed"])
    part = part.assign(**{treatment: 1})
    if {"start_date", "end_date"} <= set(part.columns):
        part["follow_up_days"] = _days(part["end_date"], part["start_date"])
    comp = comparison.rename(columns={comparison_age: age}).assign(**{treatment: 0})
    comp["employed"] = comp["outcome"].isin(EMPLOYMENT_OUTCOMES).astype("int64")
    comp["ordinary"] = comp["outcome"].eq("ordinary_employment").fillna(False).astype("int64")
    if {"start_date", "reference_date"} <= set(comp.columns):
        comp["follow_up_days"] = _days(comp["reference_date"], comp["start_date"])
    return pd.concat([part, comp], ignore_index=True)


def _days(end: pd.Series, start: pd.Series) -> pd.Series:
    return (pd.to_datetime(end) - pd.to_datetime(start)).dt.days.astype("Float64")


def follow_up_summary(stacked: pd.DataFrame, *, treatment: str = "participant") -> pd.DataFrame:
    """Distance from start to outcome (days) for participants and comparison persons.

    The effect compares like with like only when both outcomes are taken at about the
    same distance from start; this table shows whether they are (quartiles, and how many
    persons have a distance at all).

    Examples
    --------
    >>> df = pd.DataFrame({"participant": [1, 1, 0, 0], "follow_up_days": [100, 200, 150, None]})
    >>> follow_up_summary(df)[["group", "n", "known", "median"]]
              group  n  known  median
    0  participants  2      2   150.0
    1    comparison  2      1   150.0
    """
    days = (
        stacked["follow_up_days"]
        if "follow_up_days" in stacked
        else pd.Series(np.nan, index=stacked.index)
    )
    rows = []
    for name, value in (("participants", 1), ("comparison", 0)):
        d = days[stacked[treatment].eq(value)].astype(float)
        q = d.quantile([0.25, 0.5, 0.75]) if d.notna().any() else pd.Series([np.nan] * 3)
        rows.append(
            {
                "group": name,
                "n": len(d),
                "known": int(d.notna().sum()),
                "p25": float(q.iloc[0]),
                "median": float(q.iloc[1]),
                "p75": float(q.iloc[2]),
            }
        )
    return pd.DataFrame(rows)


def _covariate_design(frame: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    """Raw design: numeric covariates as they are, categorical ones as dummies (first = ref)."""
    cols: dict[str, Any] = {}
    for c in covariates:
        s = frame[c]
        if _is_categorical(s):
            cols.update(_dummies(s, [(str(v), [v]) for v in _observed_levels(s)], c))
        else:
            cols[c] = s.to_numpy(float)
    X = pd.DataFrame(cols, index=frame.index)
    flat = X.columns[X.std().eq(0)]
    if len(flat):
        warnings.warn(
            f"participation_effect: covariate columns without variation are dropped: {list(flat)}",
            UserWarning,
            stacklevel=4,
        )
    return X.drop(columns=flat)


def _att_point(d: np.ndarray, r: np.ndarray, w: np.ndarray, S: np.ndarray) -> tuple:
    """Participants' mean of ``r`` minus the odds-weighted comparison mean, within ``S``."""
    sd, sc = S * d, S * (1 - d) * w
    if sd.sum() == 0 or sc.sum() == 0:
        return np.nan, np.nan
    c = (sc * r).sum() / sc.sum()
    return (sd * r).sum() / sd.sum() - c, c


def _att_se(
    Z: np.ndarray,
    d: np.ndarray,
    y: np.ndarray,
    e: np.ndarray,
    keep: np.ndarray,
    beta: np.ndarray | None,
    fits: list[tuple],
    cluster: np.ndarray | None = None,
) -> np.ndarray:
    """Sandwich SEs of the ATTs from the stacked estimating equations.

    Blocks: propensity logit scores (all rows); comparison-group OLS for the outcome
    (AIPW only, kept rows); per group, the weighted regression of ``r = y - Z beta`` on
    (participant, 1) with weights 1 for participants and e/(1-e) for the comparison.
    With ``cluster`` (an integer code per row) the rows' estimating functions are summed
    within clusters before the middle of the sandwich is formed.
    """
    n, k = Z.shape
    kb = k if beta is not None else 0
    p = k + kb + 2 * len(fits)
    A, Psi = np.zeros((p, p)), np.zeros((n, p))
    Psi[:, :k] = Z * (d - e)[:, None]
    A[:k, :k] = -(Z * (e * (1 - e))[:, None]).T @ Z / n
    r = y - (Z @ beta if beta is not None else 0.0)
    if beta is not None:
        kc = keep * (1 - d)
        Psi[:, k : 2 * k] = Z * (kc * r)[:, None]
        A[k : 2 * k, k : 2 * k] = -(Z * kc[:, None]).T @ Z / n
    w = e / (1 - e)
    z = np.column_stack([d, np.ones(n)])
    for j, (S, tau, c) in enumerate(fits):
        s = slice(k + kb + 2 * j, k + kb + 2 * j + 2)
        sv = S * (d + (1 - d) * w)
        Psi[:, s] = z * (sv * (r - tau * d - c))[:, None]
        A[s, s] = -(z * sv[:, None]).T @ z / n
        A[s, :k] = (z * (S * (1 - d) * w * (r - c))[:, None]).T @ Z / n
        if beta is not None:
            A[s, k : 2 * k] = -(z * sv[:, None]).T @ Z / n
    if cluster is not None:
        Psi = np.asarray(pd.DataFrame(Psi).groupby(cluster, sort=True).sum())
    a_inv = np.linalg.inv(A)
    V = a_inv @ (Psi.T @ Psi / n) @ a_inv.T / n
    return np.sqrt(np.diag(V)[k + kb :: 2])


def _balance(X: pd.DataFrame, d: np.ndarray, keep: np.ndarray, w: np.ndarray) -> pd.DataFrame:
    """Standardised mean differences before and after weighting.

    SMD = (m1 - m0) / sqrt((s1^2 + s0^2) / 2), with the unweighted standard deviations of
    the whole sample in the denominator both before and after (so only the means move).
    """
    t, c = d == 1, d == 0
    kt, kc = t & (keep == 1), c & (keep == 1)
    sd = np.sqrt((X[t].var() + X[c].var()) / 2).replace(0, np.nan)
    m1, m0 = X[t].mean(), X[c].mean()
    m1a = X[kt].mean()
    m0a = X[kc].mul(w[kc], axis=0).sum() / w[kc].sum()
    out = pd.DataFrame(
        {
            "mean_participants": m1,
            "mean_comparison": m0,
            "smd_before": (m1 - m0) / sd,
            "mean_participants_kept": m1a,
            "mean_comparison_weighted": m0a,
            "smd_after": (m1a - m0a) / sd,
        }
    )
    return out.rename_axis("covariate").reset_index()


def _overlap(e: np.ndarray, d: np.ndarray, keep: np.ndarray) -> pd.DataFrame:
    """Propensity score summaries by group, and how many rows trimming excluded."""
    rows = {}
    for name, m in (("participants", d == 1), ("comparison", d == 0)):
        q = np.quantile(e[m], [0, 0.05, 0.25, 0.5, 0.75, 0.95, 1])
        rows[name] = {
            "n": int(m.sum()),
            "excluded": int((m & (keep == 0)).sum()),
            "mean": e[m].mean(),
            **dict(zip(["min", "p05", "p25", "median", "p75", "p95", "max"], q, strict=True)),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("group")


def _weight_summary(d: np.ndarray, keep: np.ndarray, w: np.ndarray) -> dict[str, Any]:
    wc = w[(d == 0) & (keep == 1)]
    share = wc.max() / wc.sum()
    return {
        "comparison_n": len(wc),
        "effective_n": wc.sum() ** 2 / (wc**2).sum(),
        "max_weight_share": share,
        "flagged": bool(share > _WEIGHT_SHARE_FLAG),
        "rule": f"flagged when one comparison person carries more than "
        f"{_WEIGHT_SHARE_FLAG:.0%} of the total comparison weight",
    }


@dataclass
class ParticipationEffect:
    """Effect of participation on the participants (ATT), overall and by subgroup.

    Attributes
    ----------
    table : DataFrame
        The tidy rows (see :meth:`tidy`); the overall ATT first.
    balance : DataFrame
        Standardised mean differences of every covariate before and after weighting.
    overlap : DataFrame
        Propensity score summaries by group, with the rows excluded by trimming.
    weights : dict
        Comparison-group weights: effective n, largest share, whether flagged, the rule.
    trim_rule : str
        What trimming did.
    propensity_result, outcome_result : statsmodels results
        The propensity logit (on standardised covariates) and, for AIPW, the
        comparison-group outcome regression.
    """

    method: str
    outcome: str
    treatment: str
    covariates: list[str]
    table: pd.DataFrame
    balance: pd.DataFrame
    overlap: pd.DataFrame
    weights: dict[str, Any]
    trim_rule: str
    n_missing: int
    propensity_result: Any = field(repr=False)
    kept: pd.Index = field(repr=False, default_factory=pd.Index)
    """Index labels (of the data passed in) of the rows the estimates rest on: complete
    and not trimmed."""
    weight: pd.Series = field(repr=False, default_factory=lambda: pd.Series(dtype=float))
    """The weight of each kept row (index labels of the data): 1 for a participant, the
    odds e/(1-e) of its propensity score for a comparison person."""
    outcome_result: Any = field(repr=False, default=None)

    def tidy(self) -> pd.DataFrame:
        """One row per estimate: 'ATT' first, then 'ATT[column=level]'.

        Besides the tidy columns (``n`` is everyone the row rests on): ``n_treated``,
        ``n_comparison``, ``mean_treated`` (the participants' mean outcome) and
        ``mean_counterfactual`` (what the comparison group, weighted, says they would
        have had: ``mean_treated - estimate``).
        """
        return self.table.copy()

    def att(self) -> float:
        """The overall ATT."""
        return float(self.table["estimate"].iloc[0])

    def summary(self) -> str:
        """Text for a notebook: estimates, assumptions, balance and overlap."""
        est = self.tidy().set_index("term")
        shown = est[["estimate", "conf_low", "conf_high", "p_value", "n"]]
        smd = self.balance[["smd_before", "smd_after"]].abs().max()
        wt = self.weights
        return "\n".join(
            [
                f"Effect of {self.treatment} on {self.outcome} among participants (ATT), "
                f"{self.method.upper()}.",
                "Assumes no unmeasured differences between participants and comparison persons "
                f"beyond: {', '.join(self.covariates)}.",
                f"Inference: {INFERENCE['att_sandwich']}. Rows dropped for missing values: {self.n_missing}.",
                self.trim_rule,
                "",
                shown.to_string(float_format=lambda v: f"{v:.4g}"),
                "",
                f"Largest |SMD|: {smd['smd_before']:.3f} before, {smd['smd_after']:.3f} after "
                "weighting (target < 0.1).",
                f"Comparison weights: effective n {wt['effective_n']:.1f} of "
                f"{wt['comparison_n']}, largest share {wt['max_weight_share']:.1%}"
                + (" - FLAGGED" if wt["flagged"] else "")
                + ".",
                "",
                "Propensity scores:",
                self.overlap.to_string(float_format=lambda v: f"{v:.3f}"),
            ]
        )


def _trim(e: np.ndarray, d: np.ndarray, trim: float | None) -> tuple[np.ndarray, str]:
    if trim is None:
        return np.ones_like(e), "No trimming: propensity scores used as estimated."
    if not 0 < trim < 0.5:
        raise ParameterError(f"`trim` must be None or in (0, 0.5), but {trim!r} was passed.")
    keep = ((e >= trim) & (e <= 1 - trim)).astype(float)
    out_t, out_c = int(((keep == 0) & (d == 1)).sum()), int(((keep == 0) & (d == 0)).sum())
    rule = (
        f"Rows with an estimated propensity score outside [{trim:g}, {1 - trim:g}] are "
        f"excluded from estimation ({out_t} participants, {out_c} comparison persons); "
        "the propensity model is fitted on all rows."
    )
    if out_t:
        warnings.warn(
            "participation_effect: some participants are excluded by trimming (see "
            "`.trim_rule`); the ATT refers to the remaining participants.",
            UserWarning,
            stacklevel=4,
        )
    return keep, rule


@dataclass
class _TeModels:
    X: pd.DataFrame  # raw covariate design, for balance
    Z: np.ndarray  # constant + standardised covariates, for both models
    d: np.ndarray
    y: np.ndarray
    e: np.ndarray  # propensity score
    w: np.ndarray  # odds e / (1 - e): the weight of a comparison person
    keep: np.ndarray  # 1 if not trimmed
    r: np.ndarray  # outcome minus the comparison-group outcome model (AIPW) or outcome (IPW)
    beta: np.ndarray | None
    ps: Any
    om: Any
    rule: str


def _te_models(
    frame: pd.DataFrame,
    outcome: str,
    treatment: str,
    covariates: Sequence[str],
    *,
    method: str,
    trim: float | None,
) -> _TeModels:
    """Fit the propensity logit (all rows) and, for AIPW, the comparison-group OLS (kept rows).

    Covariates are standardised first; this changes no fitted value, only the scale of
    the coefficients, and keeps squared earnings and the like numerically tame.
    """
    d = frame[treatment].astype(float).to_numpy()
    if set(np.unique(d)) != {0.0, 1.0}:
        raise DataError(f"`{treatment}` must be 0/1 with both values present.")
    X = _covariate_design(frame, covariates)
    Z = pd.concat([pd.Series(1.0, index=X.index, name="const"), (X - X.mean()) / X.std()], axis=1)
    ps = sm.Logit(d, Z).fit(disp=0, maxiter=200)
    if not ps.mle_retvals.get("converged", True):
        warnings.warn(
            "participation_effect: the propensity logit did not converge; check "
            "overlap and separation.",
            UserWarning,
            stacklevel=3,
        )
    e = np.asarray(ps.predict())
    keep, rule = _trim(e, d, trim)
    y = frame[outcome].astype(float).to_numpy()
    ctrl = (keep == 1) & (d == 0)
    om = sm.OLS(y[ctrl], Z.to_numpy()[ctrl]).fit() if method == "aipw" else None
    beta = None if om is None else np.asarray(om.params)
    r = y - (Z.to_numpy() @ beta if beta is not None else 0.0)
    return _TeModels(X, Z.to_numpy(), d, y, e, e / (1 - e), keep, r, beta, ps, om, rule)


def _groups(frame: pd.DataFrame, keep: np.ndarray, by: Sequence[str]) -> list[tuple]:
    groups = [("ATT", keep)]
    for col in by:
        for lvl in _observed_levels(frame[col]):
            groups.append((f"ATT[{col}={lvl}]", keep * frame[col].eq(lvl).to_numpy(float)))
    return groups


def participation_effect(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    covariates: Sequence[str],
    method: TeMethod = "aipw",
    by: str | Sequence[str] | None = None,
    trim: float | None = 0.01,
    level: float = 0.95,
    cluster: str | None = None,
) -> ParticipationEffect:
    """Effect of participation on the participants (ATT), overall and by subgroup.

    Assumes selection on observables: given ``covariates``, participation is unrelated to
    the outcome a participant would have had without participating. The propensity score
    is a logit on the covariates (categorical ones dummy-coded). ``'ipw'`` compares the
    participants' mean with the comparison mean weighted by the odds e/(1-e) (normalised);
    ``'aipw'`` does the same with the residuals of a linear outcome regression fitted on
    the comparison group, and is consistent if either model is right. Subgroup ATTs use
    the same models, restricted to the subgroup. Standard errors come from the stacked
    estimating equations (propensity, outcome model, ATTs), so the estimation of the
    models is accounted for.

    Parameters
    ----------
    data : DataFrame
        Participants and comparison persons (see :func:`stack_comparison`).
    outcome : str
        Numeric outcome column (0/1 or continuous).
    treatment : str
        0/1 column, 1 for participants.
    covariates : sequence of str
        Columns for the propensity (and outcome) model; add squares as columns yourself.
    method : {'ipw', 'aipw'}
        Estimator.
    by : str or sequence of str, optional
        Subgroup columns; each gives one ATT per observed level, after the overall one.
    trim : float or None
        Exclude rows whose propensity score lies outside [trim, 1 - trim].
    level : float
        Confidence level.
    cluster : str, optional
        Column whose equal values are one cluster (e.g. ``person_id`` when a comparison
        person appears at several start weeks): standard errors robust to correlation
        within a cluster.

    Returns
    -------
    ParticipationEffect

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=400)
    >>> d = rng.binomial(1, 1 / (1 + np.exp(-x)))
    >>> df = pd.DataFrame({"x": x, "d": d, "y": x + 2 * d + rng.normal(size=400)})
    >>> res = participation_effect(df, outcome="y", treatment="d", covariates=["x"])
    >>> abs(res.att() - 2) < 0.3, list(res.tidy()["term"])
    (True, ['ATT'])
    """
    check_one_of("method", method, get_args(TeMethod))
    by_cols = [] if by is None else [by] if isinstance(by, str) else list(by)
    used = list(dict.fromkeys([outcome, treatment, *covariates, *by_cols]))
    frame = data[used + ([cluster] if cluster and cluster not in used else [])].dropna()
    m = _te_models(frame, outcome, treatment, covariates, method=method, trim=trim)
    groups = _groups(frame, m.keep, by_cols)
    fits = [(S, *_att_point(m.d, m.r, m.w, S)) for _, S in groups]
    ok = [i for i, f in enumerate(fits) if np.isfinite(f[1])]
    se = np.full(len(fits), np.nan)
    groups_of = pd.factorize(frame[cluster])[0] if cluster else None
    se[ok] = _att_se(m.Z, m.d, m.y, m.e, m.keep, m.beta, [fits[i] for i in ok], groups_of)
    rows = [
        _tidy_row(
            term,
            f[1],
            s,
            level=level,
            n=int(f[0].sum()),
            inference=INFERENCE["att_cluster" if cluster else "att_sandwich"],
        )
        for (term, _), f, s in zip(groups, fits, se, strict=True)
    ]
    for (term, _), f in zip(groups, fits, strict=True):
        if not np.isfinite(f[1]):
            warnings.warn(
                f"participation_effect: {term} has no participants or no comparison "
                "persons left; its estimate is missing.",
                UserWarning,
                stacklevel=2,
            )
    table = _tidy_frame(rows)
    d, y = m.d, m.y
    n_t = np.array([float((S * d).sum()) for _, S in groups])
    n_c = np.array([float((S * (1 - d)).sum()) for _, S in groups])
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_t = np.array([float((S * d * y).sum()) for _, S in groups]) / n_t
    table["n_treated"] = n_t.astype("int64")
    table["n_comparison"] = n_c.astype("int64")
    table["mean_treated"] = mean_t
    table["mean_counterfactual"] = mean_t - table["estimate"].to_numpy(dtype=float)
    weights = _weight_summary(m.d, m.keep, m.w)
    if weights["flagged"]:
        warnings.warn(
            f"participation_effect: extreme weights ({weights['rule']}).", UserWarning, stacklevel=2
        )
    return ParticipationEffect(
        method=method,
        outcome=outcome,
        treatment=treatment,
        covariates=list(covariates),
        table=table,
        balance=_balance(m.X, m.d, m.keep, m.w),
        overlap=_overlap(m.e, m.d, m.keep),
        weights=weights,
        trim_rule=m.rule,
        n_missing=len(data) - len(frame),
        propensity_result=m.ps,
        outcome_result=m.om,
        kept=frame.index[m.keep == 1],
        weight=pd.Series(np.where(m.d == 1, 1.0, m.w), index=frame.index)[m.keep == 1],
    )
