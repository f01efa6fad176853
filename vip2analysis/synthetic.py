"""The calibrated synthetic VIP2 data set and its messy raw rendering.

No person-level VIP2 data are public. This module builds, from a seed:

1. a canonical *truth* table of courses (the columns of the data contract), calibrated
   *by construction* to the report's published aggregates in the method period
   (313 courses, 119 in ordinary employment = 38%, 55% employment among completed ones);
2. a comparison group of non-participants with selection on observables and a known
   true participation effect (ATT);
3. dissemination records (130 ambassadors, the report's dated activities, 14 newsletters);
4. a rendering of the courses into raw files the way five municipalities would send them,
   with documented faults injected at a small rate, each listed with file and row.

Everything written says that it is synthetic and names the public demo pseudonym key.

The outcome model is a latent-index (threshold) model: a person's employment index is
``eta + e`` with ``e`` standard logistic and ``eta`` linear in sex, origin region,
log years without activation, age and municipality (coefficients in ``MODEL``). In the
method period the courses with the highest index are the employed ones, with the number
fixed by the calibration; this is a logit model whose intercept is set so that the
published counts hold exactly. Outside the method period outcomes are Bernoulli draws
from the same logit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import math
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CALIBRATION",
    "DEFAULT_SEED",
    "MODEL",
    "SYNTHETIC_MARKER",
    "SynthResult",
    "calibration_counts",
    "compare_folders",
    "make_synthetic",
    "write_synthetic",
]

DEFAULT_SEED = 20100615
SYNTHETIC_MARKER = "SYNTHETIC.json"
DATA_CUTOFF = dt.date(2010, 6, 30)
LARGE_LAYOUT_THRESHOLD = 50_000

# Published aggregates and the shares assumed where the report gives none.
CALIBRATION: dict[str, Any] = {
    "method_courses": 313,
    "ordinary_share_of_all": 0.38,
    "employment_share_of_completed": 0.55,
    "completed_share": 0.80,
    "ongoing_share": 0.03,
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

# Country of origin (ISO alpha-3) -> (share, probability of refugee vs family reunified).
COUNTRIES: dict[str, tuple[float, float]] = {
    "IRQ": (0.18, 0.75),
    "SOM": (0.15, 0.80),
    "LBN": (0.12, 0.70),
    "TUR": (0.08, 0.10),
    "AFG": (0.08, 0.85),
    "IRN": (0.07, 0.70),
    "BIH": (0.07, 0.80),
    "PAK": (0.05, 0.10),
    "LKA": (0.04, 0.60),
    "VNM": (0.04, 0.40),
    "SYR": (0.03, 0.70),
    "MAR": (0.03, 0.05),
    "ERI": (0.02, 0.85),
    "ETH": (0.02, 0.60),
    "PSE": (0.02, 0.75),
}

MUNICIPALITY_CODES = {
    "Aarhus": 751,
    "Gladsaxe": 159,
    "Slagelse": 330,
    "Aabenraa": 580,
    "Fredensborg": 190,
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

_ORIGIN_REGION = {
    "IRQ": "Mellemøsten og Nordafrika",
    "LBN": "Mellemøsten og Nordafrika",
    "IRN": "Mellemøsten og Nordafrika",
    "SYR": "Mellemøsten og Nordafrika",
    "MAR": "Mellemøsten og Nordafrika",
    "PSE": "Mellemøsten og Nordafrika",
    "SOM": "Afrika syd for Sahara",
    "ERI": "Afrika syd for Sahara",
    "ETH": "Afrika syd for Sahara",
    "AFG": "Asien",
    "PAK": "Asien",
    "LKA": "Asien",
    "VNM": "Asien",
    "TUR": "Øvrige Europa",
    "BIH": "Øvrige Europa",
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
        raise ValueError(f"cannot calibrate {n_method} courses: ordinary exceeds employment")
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
    _check_calibration(counts)
    return counts


def _check_calibration(c: dict[str, int]) -> None:
    pct_ordinary = round(100 * c["ordinary_employment"] / c["courses"])
    pct_employed = round(100 * c["employed_completed"] / c["completed"])
    target_o = round(100 * CALIBRATION["ordinary_share_of_all"])
    target_e = round(100 * CALIBRATION["employment_share_of_completed"])
    if (pct_ordinary, pct_employed) != (target_o, target_e) or c["dropped_out"] < 0:
        raise ValueError(f"calibration failed for {c}: {pct_ordinary}% / {pct_employed}%")


# ---------------------------------------------------------------------------------------
# People and courses
# ---------------------------------------------------------------------------------------


def _country_names() -> dict[str, str]:
    from vip2analysis.reference import country_name

    return {a3: country_name(a3) for a3 in COUNTRIES}


def _draw_people(rng: np.random.Generator, n: int, *, comparison: bool) -> pd.DataFrame:
    """Covariates of n people (participants, or the comparison population)."""
    codes = np.array(list(COUNTRIES))
    shares = np.array([COUNTRIES[c][0] for c in codes])
    country = rng.choice(codes, size=n, p=shares / shares.sum())
    p_refugee = np.array([COUNTRIES[c][1] for c in country])
    refugee = rng.random(n) < p_refugee
    female_share = ASSUMED_SHARES["comparison_female" if comparison else "female"]
    median_years = ASSUMED_SHARES["comparison_years_median"] if comparison else 3.0
    age_mean = ASSUMED_SHARES["comparison_age_mean"] if comparison else 39
    years = np.minimum(np.exp(np.log(median_years) + 0.8 * rng.standard_normal(n)), 25.0)
    age = np.clip(np.round(rng.normal(age_mean, 8, n)), 22, 60).astype(int)
    muni_names = list(ASSUMED_SHARES["municipality"])
    muni_p = np.array(list(ASSUMED_SHARES["municipality"].values()))
    return pd.DataFrame(
        {
            "municipality": rng.choice(muni_names, size=n, p=muni_p / muni_p.sum()),
            "sex": np.where(rng.random(n) < female_share, "F", "M"),
            "age_years": age,
            "alpha3": country,
            "residence_basis": np.where(refugee, "refugee", "family_reunified"),
            "years_raw": np.round(np.maximum(years, 0.1), 1),
            "match_draw": rng.random(n),
            "noise": rng.logistic(size=n),
            "noise2": rng.logistic(size=n),
            "noise3": rng.logistic(size=n),
        }
    )


def _eta(people: pd.DataFrame, coef: dict[str, Any], years: pd.Series) -> np.ndarray:
    emp = MODEL["employment"]
    region = people["alpha3"].map(_ORIGIN_REGION)
    eta = coef.get("intercept", 0.0) + coef["female"] * (people["sex"] == "F")
    eta = eta + coef["log1p_years_without_activation"] * np.log1p(years)
    eta = eta + coef["age_minus_40"] * (people["age_years"] - 40)
    eta = eta + region.map(emp["origin_region"]).astype(float)
    eta = eta + people["municipality"].map(emp["municipality"]).astype(float)
    return eta.to_numpy(dtype=float)


def _start_dates(rng: np.random.Generator, n: int, start: dt.date, end: dt.date) -> np.ndarray:
    days = (end - start).days + 1
    offsets = np.sort(rng.integers(0, days, size=n))
    return np.datetime64(start, "D") + offsets.astype("timedelta64[D]")


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
    ordinary = _top_k(ord_score + people["noise2"].to_numpy(), employed, counts["ordinary_employment"])
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


def _drawn_outcomes(people: pd.DataFrame, eta: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Status and outcome outside the method period: draws from the same logit."""
    n = len(people)
    p = _sigmoid(eta + MODEL["employment"]["extension_intercept"])
    employed = rng.random(n) < p
    ordinary = employed & (rng.random(n) < 0.86)
    dropped = rng.random(n) < 0.16
    outcome = np.where(ordinary, "ordinary_employment", "subsidised_employment")
    outcome = np.where(employed, outcome, np.where(rng.random(n) < 0.15, "education", "still_on_benefit"))
    outcome = np.where(dropped, "dropped_out", outcome)
    status = np.where(dropped, "dropped_out", "completed")
    return pd.DataFrame({"status": status, "outcome": outcome}, index=people.index)


def _course_dates(rng: np.random.Generator, frame: pd.DataFrame) -> pd.DataFrame:
    n = len(frame)
    long = rng.integers(90, 271, size=n)
    short = rng.integers(20, 121, size=n)
    length = np.where(frame["status"].to_numpy() == "dropped_out", short, long)
    end = frame["start_date"].to_numpy() + length.astype("timedelta64[D]")
    end = pd.Series(end, index=frame.index)
    not_ended = (frame["status"] == "ongoing") | (end > pd.Timestamp(DATA_CUTOFF))
    return pd.DataFrame(
        {
            "end_date": end.where(~not_ended),
            "status": frame["status"].where(~not_ended, "ongoing"),
            "outcome": frame["outcome"].where(~not_ended, "unknown"),
        }
    )


@dataclass
class SynthResult:
    """Everything `make_synthetic` builds: truth tables, raw renderings, dissemination."""

    truth: pd.DataFrame
    comparison: pd.DataFrame
    ambassadors: pd.DataFrame
    activities: pd.DataFrame
    faults: pd.DataFrame
    raw_files: dict[str, bytes]
    meta: dict[str, Any] = field(default_factory=dict)
