"""The calibrated outcome model of the synthetic VIP2 set and its true effects.

The outcome model is a latent-index (threshold) model: a person's employment index is
``eta + e`` with ``e`` standard logistic and ``eta`` linear in sex, origin region,
log years without activation, age and municipality (coefficients in ``MODEL``). In the
method period the courses with the highest index are the employed ones, with the number
fixed by the calibration; this is a logit model whose intercept is set so that the
published counts hold exactly. Outside the method period outcomes are Bernoulli draws
from the same logit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vip2analysis.contract.schema import EMPLOYMENT_OUTCOMES
from vip2analysis.errors import DataError, ParameterError

__all__ = [
    "ASSUMED_SHARES",
    "CALIBRATION",
    "MODEL",
    "calibration_counts",
    "true_att",
]


# Published aggregates and the shares assumed where the report gives none.
CALIBRATION: dict[str, Any] = {
    "method_courses": 313,
    "ordinary_share_of_all": 0.38,
    "employment_share_of_completed": 0.55,
    "completed_share": 0.80,
    # every method course had ended by the extract (2010-06-30): a course lasts at most
    # 270 days and the last method course started 2009-06-30
    "ongoing_share": 0.0,
    "education_share_of_completed_not_employed": 0.16,
    "unknown_share_of_completed_not_employed": 0.04,
    "extension_courses": {"extension1": 41, "extension2": 57},
}


ASSUMED_SHARES: dict[str, Any] = {
    "female": 0.78,
    "refugee_vs_family_reunified": "by country, 0.57 refugees overall (expected)",
    "non_western": 1.0,
    "not_work_ready": 1.0,
    "years_without_activation": "log-normal, median 3.0 years, sigma 0.8, capped at 25",
    "age_at_start": "normal, mean 39, sd 8, truncated to 22-60",
    "original_job_packages": 0.65,
    "municipality": {
        "Aarhus": 0.30,
        "Gladsaxe": 0.18,
        "Slagelse": 0.18,
        "Aabenraa": 0.16,
        "Fredensborg": 0.18,
    },
    "comparison_female": 0.50,
    "comparison_years_median": 2.0,
    "comparison_age_mean": 36,
}


# Latent employment index: eta = intercept + sum(coefficient * covariate).
MODEL: dict[str, Any] = {
    "employment": {
        "female": -0.30,
        "log1p_years_without_activation": -0.55,
        "age_minus_40": -0.03,
        "origin_region": {
            "Mellemøsten og Nordafrika": 0.0,
            "Afrika syd for Sahara": -0.25,
            "Asien": 0.20,
            "Øvrige Europa": 0.30,
        },
        "municipality": {
            "Aarhus": 0.0,
            "Gladsaxe": 0.20,
            "Slagelse": -0.10,
            "Aabenraa": 0.30,
            "Fredensborg": 0.10,
        },
        "extension_intercept": 0.45,
    },
    "ordinary_vs_subsidised": {"log1p_years_without_activation": -0.6, "age_minus_40": -0.02},
    "dropout": {"log1p_years_without_activation": 0.3},
    "no_participation": {
        "intercept": -1.55,
        "female": -0.40,
        "log1p_years_without_activation": -0.55,
        "age_minus_40": -0.03,
        "origin_region": "as employment",
        "municipality": "as employment",
    },
    "selection": "comparison drawn from a population with more men, shorter time without "
    "activation and younger ages (ASSUMED_SHARES); the outcome model is the same for both, "
    "so selection is on observables only",
}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def calibration_counts(n_method: int = 313) -> dict[str, int]:
    """Exact outcome counts of the method cohort, chosen so the published rates hold.

    Examples
    --------
    >>> c = calibration_counts(313)
    >>> c["ordinary_employment"], c["completed"], c["employed_completed"]
    (119, 250, 138)
    """
    ordinary = round(CALIBRATION["ordinary_share_of_all"] * n_method)
    completed = round(CALIBRATION["completed_share"] * n_method)
    ongoing = round(CALIBRATION["ongoing_share"] * n_method)
    employed = round(CALIBRATION["employment_share_of_completed"] * completed)
    if employed < ordinary:
        raise ParameterError(f"cannot calibrate {n_method} courses: ordinary exceeds employment")
    rest = completed - employed
    education = round(CALIBRATION["education_share_of_completed_not_employed"] * rest)
    unknown = round(CALIBRATION["unknown_share_of_completed_not_employed"] * rest)
    counts = {
        "courses": n_method,
        "completed": completed,
        "ongoing": ongoing,
        "dropped_out": n_method - completed - ongoing,
        "employed_completed": employed,
        "ordinary_employment": ordinary,
        "subsidised_employment": employed - ordinary,
        "education": education,
        "unknown_completed": unknown,
        "still_on_benefit": rest - education - unknown,
    }
    if n_method == CALIBRATION["method_courses"]:
        _check_calibration(counts)  # other sizes get the nearest achievable shares
    return counts


def _check_calibration(c: dict[str, int]) -> None:
    pct_ordinary = round(100 * c["ordinary_employment"] / c["courses"])
    pct_employed = round(100 * c["employed_completed"] / c["completed"])
    target_o = round(100 * CALIBRATION["ordinary_share_of_all"])
    target_e = round(100 * CALIBRATION["employment_share_of_completed"])
    if (pct_ordinary, pct_employed) != (target_o, target_e) or c["dropped_out"] < 0:
        raise DataError(f"calibration failed for {c}: {pct_ordinary}% / {pct_employed}%")


def _eta(people: pd.DataFrame, coef: dict[str, Any], years: pd.Series) -> np.ndarray:
    emp = MODEL["employment"]
    region = people["origin_region"]
    eta = coef.get("intercept", 0.0) + coef["female"] * (people["sex"] == "F")
    eta = eta + coef["log1p_years_without_activation"] * np.log1p(years)
    eta = eta + coef["age_minus_40"] * (people["age_years"] - 40)
    eta = eta + region.map(emp["origin_region"]).astype(float)
    eta = eta + people["municipality"].map(emp["municipality"]).astype(float)
    return eta.to_numpy(dtype=float)


def _top_k(score: np.ndarray, mask: np.ndarray, k: int) -> np.ndarray:
    """Boolean array marking the k highest scores among ``mask`` (stable tie-break)."""
    idx = np.flatnonzero(mask)
    order = idx[np.argsort(-score[idx], kind="stable")]
    out = np.zeros(score.shape[0], dtype=bool)
    out[order[:k]] = True
    return out


def _method_outcomes(people: pd.DataFrame, eta: np.ndarray, counts: dict[str, int]) -> pd.DataFrame:
    """Status and outcome of the method cohort with the exact calibrated counts."""
    n = len(people)
    years = people["years_without_activation"].to_numpy()
    status = np.full(n, "completed", dtype=object)
    ongoing = np.zeros(n, dtype=bool)
    ongoing[n - counts["ongoing"] :] = True  # the latest starters are still on their course
    drop_score = MODEL["dropout"]["log1p_years_without_activation"] * np.log1p(years)
    dropped = _top_k(drop_score + people["noise3"].to_numpy(), ~ongoing, counts["dropped_out"])
    status[ongoing], status[dropped] = "ongoing", "dropped_out"
    completed = status == "completed"
    employed = _top_k(eta + people["noise"].to_numpy(), completed, counts["employed_completed"])
    ord_coef = MODEL["ordinary_vs_subsidised"]
    ord_score = ord_coef["log1p_years_without_activation"] * np.log1p(years) + ord_coef[
        "age_minus_40"
    ] * (people["age_years"].to_numpy() - 40)
    ordinary = _top_k(
        ord_score + people["noise2"].to_numpy(), employed, counts["ordinary_employment"]
    )
    rest = completed & ~employed
    young = -people["age_years"].to_numpy() + people["noise2"].to_numpy()
    education = _top_k(young, rest, counts["education"])
    unknown = _top_k(people["noise3"].to_numpy(), rest & ~education, counts["unknown_completed"])
    outcome = np.full(n, "still_on_benefit", dtype=object)
    outcome[employed & ~ordinary] = "subsidised_employment"
    outcome[ordinary] = "ordinary_employment"
    outcome[education] = "education"
    outcome[unknown | ongoing] = "unknown"
    outcome[dropped] = "dropped_out"
    return pd.DataFrame({"status": status, "outcome": outcome}, index=people.index)


def _drawn_outcomes(
    people: pd.DataFrame, eta: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """Status and outcome outside the method period: draws from the same logit."""
    n = len(people)
    p = _sigmoid(eta + MODEL["employment"]["extension_intercept"])
    employed = rng.random(n) < p
    ordinary = employed & (rng.random(n) < 0.86)
    dropped = rng.random(n) < 0.16
    outcome = np.where(ordinary, "ordinary_employment", "subsidised_employment")
    outcome = np.where(
        employed, outcome, np.where(rng.random(n) < 0.15, "education", "still_on_benefit")
    )
    outcome = np.where(dropped, "dropped_out", outcome)
    status = np.where(dropped, "dropped_out", "completed")
    return pd.DataFrame({"status": status, "outcome": outcome}, index=people.index)


def _no_participation_eta(people: pd.DataFrame, years: pd.Series) -> np.ndarray:
    return _eta(people, MODEL["no_participation"], years)


def true_att(people: pd.DataFrame, truth: pd.DataFrame) -> dict[str, Any]:
    """The generator's true ATT on employment for the method cohort, overall and by group.

    ATT = mean over participants of (employed with the course) - (probability of employment
    without it, from the no-participation model). Groups: sex, origin_group, duration band.
    """

    method = (people["period"] == "method").to_numpy()
    y1 = truth["outcome"].isin(EMPLOYMENT_OUTCOMES).to_numpy(dtype=float)
    p0 = _sigmoid(_no_participation_eta(people, people["years_without_activation"]))
    effect = pd.Series(y1 - p0)[method]
    frame = truth[method].assign(effect=effect)
    out: dict[str, Any] = {"overall": round(float(effect.mean()), 6), "n": int(method.sum())}
    for col in ("sex", "origin_group", "duration_band"):
        grouped = frame.groupby(col, observed=True)["effect"].agg(["mean", "size"])
        out[col] = {
            str(k): {"att": round(float(r["mean"]), 6), "n": int(r["size"])}
            for k, r in grouped.iterrows()
        }
    return out
