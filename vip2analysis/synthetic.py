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
    if n_method == CALIBRATION["method_courses"]:
        _check_calibration(counts)  # other sizes get the nearest achievable shares
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
    from vip2analysis.reference import match_country

    region = match_country(pd.Series(codes))["origin_region"].to_numpy()
    muni_names = list(ASSUMED_SHARES["municipality"])
    muni_p = np.array(list(ASSUMED_SHARES["municipality"].values()))
    return pd.DataFrame(
        {
            "municipality": rng.choice(muni_names, size=n, p=muni_p / muni_p.sum()),
            "sex": np.where(rng.random(n) < female_share, "F", "M"),
            "age_years": age,
            "alpha3": country,
            "origin_region": pd.Series(country).map(dict(zip(codes, region, strict=True))),
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
    region = people["origin_region"]
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


# ---------------------------------------------------------------------------------------
# CPR numbers (synthetic: valid date and century digit, failing the old modulus-11 check)
# ---------------------------------------------------------------------------------------

_MOD11_WEIGHTS = np.array([4, 3, 2, 7, 6, 5, 4, 3, 2, 1])


def _make_cprs(rng: np.random.Generator, birth: pd.Series, sex: pd.Series) -> pd.Series:
    """Synthetic CPR numbers 'DDMMYYSSSS' for people born 1937-1999.

    Every number fails the modulus-11 check, which all numbers issued before 2007 pass,
    so none can be the number of a person who was an adult in 2007-2010.
    """
    n = len(birth)
    ddmmyy = birth.dt.strftime("%d%m%y").to_numpy(dtype=str)
    first = rng.integers(0, 4, size=n)  # 0-3: born 1900-1999 whatever the year
    middle = rng.integers(0, 100, size=n)
    last = rng.integers(0, 5, size=n) * 2 + (sex.to_numpy() == "M")
    serial = first * 1000 + middle * 10 + last
    digits = np.char.add(ddmmyy, np.char.zfill(serial.astype(str), 4))
    weighted = _digit_matrix(digits) @ _MOD11_WEIGHTS
    bump = (weighted % 11) == 0  # a valid mod-11 number: move the serial by 10
    serial = np.where(bump, serial + np.where(middle < 99, 10, -10), serial)
    return pd.Series(np.char.add(ddmmyy, np.char.zfill(serial.astype(str), 4)), index=birth.index)


def _digit_matrix(digits: np.ndarray) -> np.ndarray:
    """Rows of 10 digit strings -> (n, 10) integer matrix, vectorised."""
    raw = np.frombuffer(digits.astype("S10").tobytes(), dtype=np.uint8)
    return raw.reshape(-1, 10).astype(np.int64) - ord("0")


def _unique_cprs(rng: np.random.Generator, birth: pd.Series, sex: pd.Series) -> pd.Series:
    cpr = _make_cprs(rng, birth, sex)
    for _ in range(20):
        dup = cpr.duplicated()
        if not dup.any():
            return cpr
        cpr[dup] = _make_cprs(rng, birth[dup], sex[dup])
    raise RuntimeError("could not draw unique synthetic CPR numbers")


def _birth_dates(rng: np.random.Generator, ref: pd.Series, age: pd.Series) -> pd.Series:
    """Birth dates such that the completed age on ``ref`` is exactly ``age``."""
    anniversary = pd.to_datetime(
        pd.DataFrame(
            {
                "year": ref.dt.year - age,
                "month": ref.dt.month,
                # 29 February -> 28 February in a year that is not a leap year
                "day": np.where((ref.dt.month == 2) & (ref.dt.day == 29), 28, ref.dt.day),
            }
        )
    )
    back = pd.to_timedelta(rng.integers(0, 365, size=len(ref)), unit="D")
    return (anniversary - back).astype("datetime64[s]")


# ---------------------------------------------------------------------------------------
# Truth tables
# ---------------------------------------------------------------------------------------


def _cohorts(n_method: int) -> dict[str, int]:
    scale = n_method / CALIBRATION["method_courses"]
    ext = {k: max(1, round(v * scale)) for k, v in CALIBRATION["extension_courses"].items()}
    return {"method": n_method, **ext}


def _match(people: pd.DataFrame, municipality: pd.Series) -> pd.DataFrame:
    """Not work-ready: match category 4-5, or match group 2-3 where the sender uses groups."""
    uses_group = municipality.map(lambda m: _FORMATS[m].match_system == "group")
    category = np.where(people["match_draw"] < 0.4, 4, 5)
    group = np.where(people["match_draw"] < 0.45, 2, 3)
    return pd.DataFrame(
        {
            "match_system": np.where(uses_group, "group", "category"),
            "match_code": np.where(uses_group, group, category),
            "work_ready": False,
        },
        index=people.index,
    )


def _course_cohort(
    rng: np.random.Generator, n: int, period: Any, counts: dict | None
) -> pd.DataFrame:
    people = _draw_people(rng, n, comparison=False)
    people["start_date"] = pd.Series(_start_dates(rng, n, period.start, period.end)).astype(
        "datetime64[s]"
    )
    people["years_without_activation"] = people["years_raw"]
    eta = _eta(
        people, {**MODEL["employment"], "intercept": 0.0}, people["years_without_activation"]
    )
    status = _method_outcomes(people, eta, counts) if counts else _drawn_outcomes(people, eta, rng)
    people = people.join(status)
    people[["end_date", "status", "outcome"]] = _course_dates(rng, people)
    people["period"] = period.name
    return people


def _job_packages(rng: np.random.Generator, n: int) -> pd.DataFrame:
    from vip2analysis.reference import job_packages

    packages = job_packages()
    original = (packages["group"] == "original").to_numpy()
    weight = np.where(original, ASSUMED_SHARES["original_job_packages"] / original.sum(), 0.0)
    weight = np.where(
        ~original, (1 - ASSUMED_SHARES["original_job_packages"]) / (~original).sum(), weight
    )
    pick = rng.choice(len(packages), size=n, p=weight / weight.sum())
    return pd.DataFrame(
        {
            "job_package": packages["name"].to_numpy()[pick],
            "job_package_group": packages["group"].to_numpy()[pick],
        }
    )


def _canonical(people: pd.DataFrame, cpr: pd.Series) -> pd.DataFrame:
    """Columns of the clean course table (without source_file/source_row)."""
    from vip2analysis.cpr import DEMO_KEY, age_at, pseudonymise
    from vip2analysis.reference import match_country, match_municipality

    muni = match_municipality(people["municipality"])
    country = match_country(people["alpha3"])
    years = people["years_without_activation"]
    out = pd.DataFrame(
        {
            "person_id": pseudonymise(cpr, key=DEMO_KEY),
            "municipality": muni["municipality"],
            "municipality_code": muni["municipality_code"],
            "region": muni["region"],
            "job_package": people["job_package"],
            "job_package_group": people["job_package_group"],
            "start_date": people["start_date"],
            "end_date": people["end_date"],
            "status": people["status"],
            "outcome": people["outcome"],
            "sex": people["sex"],
            "birth_date": people["birth_date"],
            "age_at_start": age_at(people["birth_date"], people["start_date"]),
            "country_of_origin": country["country_of_origin"],
            "origin_group": country["origin_group"],
            "origin_region": country["origin_region"],
            "residence_basis": people["residence_basis"],
            "years_without_activation": years,
            "duration_band": duration_band(years),
        },
        index=people.index,
    )
    return out.join(_match(people, people["municipality"]))


def duration_band(years: pd.Series) -> pd.Series:
    """Band years without activation into '<1', '1-2', '2-5', '5+' (left-closed).

    Examples
    --------
    >>> duration_band(pd.Series([0.5, 1.0, 2.0, 4.99, 5.0, None])).tolist()
    ['<1', '1-2', '2-5', '2-5', '5+', nan]
    """
    from vip2analysis.schema import DURATION_BANDS

    bands = pd.cut(years, [0, 1, 2, 5, np.inf], right=False, labels=list(DURATION_BANDS))
    return bands.astype(pd.CategoricalDtype(list(DURATION_BANDS), ordered=True))


def _make_courses(rng: np.random.Generator, n_method: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All course cohorts: (internal frame with cpr and model inputs, canonical truth)."""
    from vip2analysis.periods import load_periods

    periods = load_periods()
    frames = []
    for name, n in _cohorts(n_method).items():
        counts = calibration_counts(n) if name == "method" else None
        frames.append(_course_cohort(rng, n, periods[name], counts))
    people = pd.concat(frames, ignore_index=True)
    people = people.join(_job_packages(rng, len(people)))
    people["birth_date"] = _birth_dates(rng, people["start_date"], people["age_years"])
    people["cpr"] = _unique_cprs(rng, people["birth_date"], people["sex"])
    return people, _canonical(people, people["cpr"])


def _no_participation_eta(people: pd.DataFrame, years: pd.Series) -> np.ndarray:
    return _eta(people, MODEL["no_participation"], years)


def _make_comparison(rng: np.random.Generator, n: int, taken: set[str]) -> pd.DataFrame:
    """Non-participants: same covariates, outcome at a reference date from the no-participation model."""
    from vip2analysis.periods import load_periods

    method = load_periods()["method"]
    people = _draw_people(rng, n, comparison=True)
    people["years_without_activation"] = people["years_raw"]
    people["reference_date"] = pd.Series(
        _start_dates(rng, n, method.start, method.end) + np.timedelta64(182, "D")
    ).astype("datetime64[s]")
    p0 = _sigmoid(_no_participation_eta(people, people["years_without_activation"]))
    employed = rng.random(n) < p0
    ordinary = rng.random(n) < 0.8
    other = np.where(rng.random(n) < 0.1, "education", "still_on_benefit")
    people["outcome"] = np.where(
        employed, np.where(ordinary, "ordinary_employment", "subsidised_employment"), other
    )
    people["birth_date"] = _birth_dates(rng, people["reference_date"], people["age_years"])
    cpr = _unique_cprs(rng, people["birth_date"], people["sex"])
    while cpr.isin(taken).any():
        clash = cpr.isin(taken)
        cpr[clash] = _make_cprs(rng, people.loc[clash, "birth_date"], people.loc[clash, "sex"])
    people["cpr"] = cpr
    people["p0"] = p0
    return people


def _comparison_truth(people: pd.DataFrame) -> pd.DataFrame:
    from vip2analysis.cpr import DEMO_KEY, age_at, pseudonymise
    from vip2analysis.reference import match_country, match_municipality

    muni = match_municipality(people["municipality"])
    country = match_country(people["alpha3"])
    years = people["years_without_activation"]
    frame = pd.DataFrame(
        {
            "person_id": pseudonymise(people["cpr"], key=DEMO_KEY),
            "municipality": muni["municipality"],
            "municipality_code": muni["municipality_code"],
            "region": muni["region"],
            "reference_date": people["reference_date"],
            "outcome": people["outcome"],
            "sex": people["sex"],
            "birth_date": people["birth_date"],
            "age": age_at(people["birth_date"], people["reference_date"]),
            "country_of_origin": country["country_of_origin"],
            "origin_group": country["origin_group"],
            "origin_region": country["origin_region"],
            "residence_basis": people["residence_basis"],
            "years_without_activation": years,
            "duration_band": duration_band(years),
        }
    )
    return frame.join(_match(people, pd.Series("Aarhus", index=people.index)))


def true_att(people: pd.DataFrame, truth: pd.DataFrame) -> dict[str, Any]:
    """The generator's true ATT on employment for the method cohort, overall and by group.

    ATT = mean over participants of (employed with the course) - (probability of employment
    without it, from the no-participation model). Groups: sex, origin_group, duration band.
    """
    from vip2analysis.schema import EMPLOYMENT_OUTCOMES

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


# ---------------------------------------------------------------------------------------
# Dissemination: ambassadors and activities
# ---------------------------------------------------------------------------------------

# Certification courses: (date, place, number certified, regions the participants came from).
AMBASSADOR_COURSES: tuple[tuple[str, str, int, tuple[str, ...]], ...] = (
    ("2008-05-20", "Metodekursus Aarhus", 14, ("Midtjylland", "Nordjylland")),
    ("2008-10-07", "Metodekursus Gladsaxe", 14, ("Hovedstaden",)),
    ("2009-03-11", "Metodekursus Slagelse", 14, ("Sjælland", "Hovedstaden")),
    ("2009-06-09", "Metodekursus Aabenraa", 14, ("Syddanmark",)),
    ("2009-10-27", "Metodekursus Fredensborg", 14, ("Hovedstaden", "Sjælland", "Nordjylland")),
    ("2010-01-26", "Kolding", 20, ("Syddanmark", "Sjælland")),
    ("2010-04-15", "Herning", 20, ("Midtjylland", "Nordjylland")),
    ("2010-06-15", "København", 20, ("Hovedstaden", "Sjælland")),
)

# (date, kind, title, place, recipients) - the dated events of the report. Dates the
# report does not give (network meeting, extended course, earlier newsletters) are assumed.
ACTIVITIES: tuple[tuple[str, str, str, str, int | None], ...] = (
    ("2008-03-14", "newsletter", "VIP2 Nyhedsbrev nr. 1", "", 1150),
    ("2008-06-13", "newsletter", "VIP2 Nyhedsbrev nr. 2", "", 1400),
    ("2008-09-12", "newsletter", "VIP2 Nyhedsbrev nr. 3", "", 1620),
    ("2008-12-12", "newsletter", "VIP2 Nyhedsbrev nr. 4", "", 1850),
    ("2009-02-13", "newsletter", "VIP2 Nyhedsbrev nr. 5", "", 2010),
    ("2009-04-17", "newsletter", "VIP2 Nyhedsbrev nr. 6", "", 2190),
    ("2009-06-12", "newsletter", "VIP2 Nyhedsbrev nr. 7", "", 2330),
    ("2009-08-14", "newsletter", "VIP2 Nyhedsbrev nr. 8", "", 2450),
    ("2009-10-09", "newsletter", "VIP2 Nyhedsbrev nr. 9", "", 2560),
    ("2009-11-20", "newsletter", "Jobpakker til hele landet", "", 2655),
    ("2009-12-18", "newsletter", "VIP2 skal lære hele landet om jobpakker", "", 2680),
    ("2010-01-21", "conference", "Konference for parterne bag de 12 jobpakker", "København", None),
    ("2010-01-26", "ambassador_course", "Kursus for nye jobpakkeambassadører", "Kolding", None),
    ("2010-02-19", "newsletter", "Jobpakker ikke kun gode til integration", "", 2700),
    ("2010-02-25", "media", "Indslag i TV2 om jobpakker", "", None),
    ("2010-03-10", "network_meeting", "Netværksmøde for jobpakkeambassadører", "Odense", None),
    ("2010-03-24", "extended_course", "Udvidet kursus for nuværende ambassadører", "Vejle", None),
    (
        "2010-04-14",
        "information_meeting",
        "Jobpakkens arbejdsmarkedspolitiske muligheder",
        "Herning",
        None,
    ),
    ("2010-04-15", "ambassador_course", "Kursus for nye jobpakkeambassadører", "Herning", None),
    (
        "2010-04-19",
        "information_meeting",
        "Jobpakkens arbejdsmarkedspolitiske muligheder",
        "København",
        None,
    ),
    ("2010-05-21", "newsletter", "Jobpakker ruller ud over landet", "", 2710),
    ("2010-05-31", "fair", "Integrationsbasaren", "Århus", None),
    ("2010-06-14", "newsletter", "Nu langt over 100 jobpakkeambassadører", "", 2715),
    ("2010-06-15", "ambassador_course", "Kursus for nye jobpakkeambassadører", "København", None),
)

ACTIVITY_WORDS = {
    "newsletter": "Nyhedsbrev",
    "conference": "Konference",
    "ambassador_course": "Ambassadørkursus",
    "media": "Medieomtale",
    "network_meeting": "Netværksmøde",
    "extended_course": "Udvidet ambassadørkursus",
    "information_meeting": "Informationsmøde",
    "fair": "Messe",
}


def _make_ambassadors(rng: np.random.Generator) -> pd.DataFrame:
    from vip2analysis.reference import municipalities

    munis = municipalities()
    rows = []
    for date, course, count, regions in AMBASSADOR_COURSES:
        pool = munis[munis["region"].isin(regions)].reset_index(drop=True)
        picks = rng.choice(len(pool), size=count, replace=True)
        for i in picks:
            rows.append((pool.at[i, "name"], pool.at[i, "region"], date, course))
    frame = pd.DataFrame(rows, columns=["municipality", "region", "certified_date", "course"])
    frame.insert(0, "ambassador_id", [f"A{i:03d}" for i in range(1, len(frame) + 1)])
    frame["certified_date"] = pd.to_datetime(frame["certified_date"]).astype("datetime64[s]")
    return frame


def _make_activities() -> pd.DataFrame:
    frame = pd.DataFrame(list(ACTIVITIES), columns=["date", "kind", "title", "place", "recipients"])
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[s]")
    frame["recipients"] = frame["recipients"].astype("Int64")
    return frame


# ---------------------------------------------------------------------------------------
# Raw rendering: five municipalities, five formats
# ---------------------------------------------------------------------------------------

_RAW_FIELDS = (
    "cpr",
    "municipality",
    "job_package",
    "start_date",
    "end_date",
    "status",
    "outcome",
    "sex",
    "country_of_origin",
    "residence_basis",
    "years_without_activation",
    "match",
)

_OUTCOME_WORDS = {
    "ordinary_employment": ("Ordinær beskæftigelse", "Ordinært job", "Job på ordinære vilkår"),
    "subsidised_employment": ("Løntilskud", "Job med løntilskud", "Fleksjob"),
    "education": ("Uddannelse", "Påbegyndt uddannelse"),
    "still_on_benefit": ("Fortsat på kontanthjælp", "Kontanthjælp", "Fortsat ledig"),
    "dropped_out": ("Afbrudt", "Ophørt"),
    "unknown": ("", "Ukendt"),
}
_STATUS_WORDS = {
    "completed": ("Afsluttet", "Gennemført"),
    "ongoing": ("I gang", "Igangværende"),
    "dropped_out": ("Afbrudt", "Frafaldet"),
}
_RESIDENCE_WORDS = {
    "refugee": ("Flygtning", "Asyl"),
    "family_reunified": ("Familiesammenført", "Familiesammenføring"),
    "other": ("Andet", "Andet"),
}


@dataclass(frozen=True)
class _Format:
    municipality: str
    file: str
    headers: dict[str, str]
    date_style: str  # dmy_dash | dmy_dot | iso | excel_date | excel_serial
    sex_words: tuple[str, str]  # (female, male)
    label: str  # how the sender writes its own municipality
    variant: str  # another spelling, injected as a repairable fault
    encoding: str = "utf-8"
    delimiter: str = ","
    decimal_comma: bool = False
    cpr_dash: bool = True
    years_as: str = "years"  # or last_activation
    match_system: str = "category"
    country_style: str = "da"  # da | en | upper
    word_variant: int = 0
    title_rows: tuple[str, ...] = ()
    trailing_blank_rows: int = 0
    extra_columns: dict[str, str] = field(default_factory=dict)
    faults: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return "xlsx" if self.file.endswith(".xlsx") else "csv"


def _headers(**over: str) -> dict[str, str]:
    base = {
        "cpr": "CPR-nr.",
        "municipality": "Kommune",
        "job_package": "Jobpakke",
        "start_date": "Startdato",
        "end_date": "Slutdato",
        "status": "Status",
        "outcome": "Afgangsårsag",
        "sex": "Køn",
        "country_of_origin": "Oprindelsesland",
        "residence_basis": "Opholdsgrundlag",
        "years_without_activation": "År uden aktivering",
        "match": "Matchkategori",
    }
    return {**base, **over}


_FORMATS: dict[str, _Format] = {
    "Aarhus": _Format(
        municipality="Aarhus",
        file="aarhus.xlsx",
        headers=_headers(),
        date_style="excel_date",
        sex_words=("Kvinde", "Mand"),
        label="Århus",
        variant="Jobcenter Århus",
        title_rows=("VIP2 - Jobcenter Århus: jobpakkeforløb", "Udtræk pr. 30.06.2010"),
        faults=(
            "exact_duplicate",
            "municipality_variant",
            "sex_missing",
            "blank_row",
            "conflicting_duplicate",
        ),
    ),
    "Gladsaxe": _Format(
        municipality="Gladsaxe",
        file="gladsaxe.csv",
        headers=_headers(cpr="Cpr nummer", municipality="Jobcenter", outcome="Afgang"),
        date_style="dmy_dash",
        sex_words=("K", "M"),
        label="Jobcenter Gladsaxe",
        variant="Gladsaxe Kommune",
        encoding="cp1252",
        delimiter=";",
        decimal_comma=True,
        word_variant=1,
        extra_columns={"Sagsbehandler": "initials"},
        faults=(
            "cpr_date",
            "date_unparseable",
            "municipality_variant",
            "sex_missing",
            "exact_duplicate",
        ),
    ),
    "Slagelse": _Format(
        municipality="Slagelse",
        file="slagelse.csv",
        headers=_headers(
            cpr="CPR",
            start_date="Start dato",
            end_date="Slut dato",
            outcome="Resultat",
            years_without_activation="Sidste aktivering",
        ),
        date_style="iso",
        sex_words=("Kvinde", "Mand"),
        label="Slagelse Kommune",
        variant="SLAGELSE",
        encoding="utf-8-sig",
        cpr_dash=False,
        years_as="last_activation",
        faults=(
            "end_before_start",
            "unknown_job_package",
            "sex_cpr_conflict",
            "municipality_variant",
            "blank_row",
        ),
    ),
    "Aabenraa": _Format(
        municipality="Aabenraa",
        file="aabenraa.xlsx",
        headers=_headers(
            cpr="CPR-nummer",
            job_package="Branche",
            country_of_origin="Herkomst",
            match="Matchgruppe",
        ),
        date_style="excel_serial",
        sex_words=("K", "M"),
        label="Aabenraa",
        variant="Åbenrå",
        match_system="group",
        country_style="en",
        word_variant=1,
        faults=("conflicting_duplicate", "cpr_date", "municipality_variant", "exact_duplicate"),
    ),
    "Fredensborg": _Format(
        municipality="Fredensborg",
        file="fredensborg.csv",
        headers=_headers(cpr="Cpr", outcome="Afgang"),
        date_style="dmy_dot",
        sex_words=("k", "m"),
        label="Fredensborg",
        variant="Fredensborg Kommune",
        country_style="upper",
        trailing_blank_rows=3,
        faults=("date_unparseable", "unknown_job_package", "sex_missing", "end_before_start"),
    ),
}
_LARGE_FORMAT = _Format(
    municipality="",
    file="courses_large.csv",
    headers=_headers(),
    date_style="dmy_dash",
    sex_words=("K", "M"),
    label="",
    variant="",
    delimiter=";",
    decimal_comma=True,
)
# Fault rate of the large file, per fault kind (about the rate of the default set).
LARGE_FAULT_RATE = 0.002


_EXCEL_EPOCH = np.datetime64("1899-12-30", "D")


def _format_dates(dates: pd.Series, style: str) -> pd.Series:
    """Dates as the sender writes them; NaT -> None. XLSX styles keep typed cell values."""
    missing = dates.isna()
    if style == "excel_date":
        out = pd.Series(list(dates.dt.to_pydatetime()), index=dates.index, dtype=object)
    elif style == "excel_serial":
        days = (dates.to_numpy().astype("datetime64[D]") - _EXCEL_EPOCH).astype("int64")
        out = pd.Series(days, index=dates.index, dtype=object)
    elif style == "dmy_dot":
        out = (
            dates.dt.day.astype("Int64").astype(str)
            + "."
            + dates.dt.month.astype("Int64").astype(str)
            + "."
            + dates.dt.year.astype("Int64").astype(str)
        ).astype(object)
    else:
        out = dates.dt.strftime({"dmy_dash": "%d-%m-%Y", "iso": "%Y-%m-%d"}[style]).astype(object)
    return out.where(~missing, None)


def _words(values: pd.Series, table: dict[str, tuple[str, ...]], pick: np.ndarray) -> pd.Series:
    out = np.empty(len(values), dtype=object)
    vals = values.to_numpy()
    for key, words in table.items():
        hit = vals == key
        out[hit] = np.array(words, dtype=object)[pick[hit] % len(words)]
    return pd.Series(out, index=values.index)


def _country_text(alpha3: pd.Series, style: str) -> pd.Series:
    import pycountry

    from vip2analysis.reference import country_name

    codes = alpha3.unique()
    if style == "en":
        names = {c: getattr(pycountry.countries.get(alpha_3=c), "common_name", None) for c in codes}
        names = {c: n or pycountry.countries.get(alpha_3=c).name for c, n in names.items()}
    else:
        names = {c: country_name(c) for c in codes}
        if style == "upper":
            names = {c: n.upper() for c, n in names.items()}
    return alpha3.map(names).astype(object)


def _years_text(people: pd.DataFrame, fmt: _Format) -> pd.Series:
    if fmt.years_as == "last_activation":
        last = people["start_date"] - pd.to_timedelta(people["last_activation_days"], unit="D")
        return _format_dates(last, fmt.date_style)
    years = people["years_raw"]
    if fmt.kind == "xlsx":
        return years.astype(object)
    text = years.map(lambda v: f"{v:.1f}")
    return text.str.replace(".", ",", regex=False) if fmt.decimal_comma else text


def _cpr_text(cpr: pd.Series, dash: bool) -> pd.Series:
    return (cpr.str[:6] + "-" + cpr.str[6:]) if dash else cpr.copy()


def _render(people: pd.DataFrame, fmt: _Format, rng: np.random.Generator) -> pd.DataFrame:
    """The raw rows of one sender, in canonical field order, before faults."""
    pick = rng.integers(0, 6, size=len(people))
    female, male = fmt.sex_words
    label = people["municipality"] if not fmt.label else pd.Series(fmt.label, index=people.index)
    if not fmt.label:
        label = label.map({m: f.label for m, f in _FORMATS.items()})
    match_code = people["match_code"].astype(int)
    frame = pd.DataFrame(
        {
            "cpr": _cpr_text(people["cpr"], fmt.cpr_dash),
            "municipality": label.astype(object),
            "job_package": people["job_package"].astype(object),
            "start_date": _format_dates(people["start_date"], fmt.date_style),
            "end_date": _format_dates(people["end_date"], fmt.date_style),
            "status": _words(people["status"], _STATUS_WORDS, pick + fmt.word_variant),
            "outcome": _words(people["outcome"], _OUTCOME_WORDS, pick),
            "sex": people["sex"].map({"F": female, "M": male}).astype(object),
            "country_of_origin": _country_text(people["alpha3"], fmt.country_style),
            "residence_basis": _words(
                people["residence_basis"], _RESIDENCE_WORDS, pick + fmt.word_variant
            ),
            "years_without_activation": _years_text(people, fmt),
            "match": match_code.astype(object)
            if fmt.kind == "xlsx"
            else match_code.astype(str).astype(object),
        },
        index=people.index,
    )
    ongoing = (people["status"] == "ongoing").to_numpy()
    frame.loc[ongoing, "outcome"] = ""
    for header in fmt.extra_columns:
        letters = np.array(list("ABDEFHJKLMNPRST"))
        frame[header] = pd.Series(
            np.char.add(letters[pick % 15], letters[(pick * 7 + 3) % 15]), index=people.index
        ).astype(object)
    return frame


# ---------------------------------------------------------------------------------------
# Fault injection
# ---------------------------------------------------------------------------------------

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
        changed = twin["outcome"].map(lambda w: "Afbrudt" if w != "Afbrudt" else "Uddannelse")
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


# ---------------------------------------------------------------------------------------
# Writers (deterministic bytes)
# ---------------------------------------------------------------------------------------

_FIXED_ZIP_TIME = (2010, 6, 30, 0, 0, 0)
_FIXED_XML_TIME = "2010-06-30T00:00:00Z"


def _csv_bytes(frame: pd.DataFrame, headers: list[str], fmt: _Format) -> bytes:
    import csv

    buffer = io.StringIO(newline="")
    writer = csv.writer(
        buffer, delimiter=fmt.delimiter, lineterminator="\r\n" if fmt.encoding == "cp1252" else "\n"
    )
    writer.writerow(headers)
    for row in frame.itertuples(index=False, name=None):
        if all(v is None or v == "" for v in row):
            writer.writerow([""] * len(headers) if fmt.trailing_blank_rows else [])
        else:
            writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue().encode(fmt.encoding)


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite an XLSX (zip) with fixed timestamps so that equal content gives equal bytes."""
    import re

    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in sorted(src.namelist()):
            content = src.read(name)
            if name == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:(created|modified)[^>]*>)[^<]*",
                    rb"\g<1>" + _FIXED_XML_TIME.encode(),
                    content,
                )
            info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, content)
    return out.getvalue()


def _xlsx_bytes(frame: pd.DataFrame, headers: list[str], fmt: _Format) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Forløb"
    wb.properties.creator = "vip2analysis synthetic data"
    for title in fmt.title_rows:
        ws.append([title])
    ws.append(headers)
    for row in frame.itertuples(index=False, name=None):
        ws.append([None if (isinstance(v, float) and math.isnan(v)) else v for v in row])
    if fmt.date_style == "excel_date":
        for col in ("start_date", "end_date"):
            letter = chr(ord("A") + list(frame.columns).index(col))
            for cell in ws[letter][len(fmt.title_rows) + 1 :]:
                if isinstance(cell.value, dt.datetime):
                    cell.number_format = "DD-MM-YYYY"
    buffer = io.BytesIO()
    wb.save(buffer)
    return _normalise_zip(buffer.getvalue())


def _first_data_row(fmt: _Format) -> int:
    return len(fmt.title_rows) + 2


def _file_bytes(rows: pd.DataFrame, fmt: _Format) -> bytes:
    visible = [c for c in rows.columns if not c.startswith("_")]
    headers = [fmt.headers.get(c, c) for c in visible]
    body = rows[visible]
    return _xlsx_bytes(body, headers, fmt) if fmt.kind == "xlsx" else _csv_bytes(body, headers, fmt)


def _fault_table(rows: pd.DataFrame, fmt: _Format) -> pd.DataFrame:
    hit = rows["_kind"] != ""
    faults = rows.loc[hit, ["_kind", "_action", "_reason", "_column", "_value"]]
    faults.columns = ["kind", "action", "reason", "column", "raw_value"]
    faults.insert(0, "row", (rows.index[hit] + _first_data_row(fmt)).astype(int))
    faults.insert(0, "file", fmt.file)
    faults["raw_value"] = faults["raw_value"].map(lambda v: "" if v is None else str(v))
    return faults.reset_index(drop=True)


# ---------------------------------------------------------------------------------------
# The whole set
# ---------------------------------------------------------------------------------------


def _apply_sender_conventions(people: pd.DataFrame) -> pd.DataFrame:
    """Where a sender records the date of last activation, the truth holds the derived years."""
    people = people.copy()
    days = np.round(people["years_raw"] * 365.25).astype(int)
    people["last_activation_days"] = days
    by_date = people["municipality"].map(lambda m: _FORMATS[m].years_as == "last_activation")
    derived = (days / 365.25).round(2)
    people["years_without_activation"] = people["years_raw"].where(~by_date, derived)
    return people


def _meta(
    seed: int, n_method: int, counts: dict[str, int], att: dict, faults: pd.DataFrame, n_raw: int
) -> dict:
    from vip2analysis.cpr import DEMO_KEY_ID

    by_kind = faults.groupby("kind").size().to_dict() if len(faults) else {}
    return {
        "synthetic": True,
        "description": "Synthetic VIP2 course data. NOT real persons. Generated by vip2analysis.",
        "generator": "vip2analysis.synthetic",
        "seed": seed,
        "pseudonym_key": DEMO_KEY_ID,
        "method_courses": n_method,
        "calibration_counts_method_period": counts,
        "published_targets": {
            "courses": 313,
            "ordinary_share_of_all": 0.38,
            "employment_share_of_completed": 0.55,
        },
        "calibration_assumptions": CALIBRATION,
        "assumed_shares": ASSUMED_SHARES,
        "country_mix": {k: v[0] for k, v in COUNTRIES.items()},
        "outcome_model": MODEL,
        "true_att_employment_method_period": att,
        "faults": {
            "rows_in_raw_files": n_raw,
            "count": len(faults),
            "by_kind": by_kind,
            "rate": round(len(faults) / max(n_raw, 1), 4),
        },
    }


def make_synthetic(
    *, seed: int = DEFAULT_SEED, courses: int = 313, comparison: int | None = None
) -> SynthResult:
    """Build the calibrated synthetic VIP2 set in memory (five municipality files).

    Parameters
    ----------
    seed
        Seed of the random generator; same seed and options -> same data.
    courses
        Courses in the method period (313 reproduces the report).
    comparison
        Size of the comparison group (default 3 x ``courses``).

    Examples
    --------
    >>> res = make_synthetic()
    >>> method = res.truth[res.truth["period"] == "method"]
    >>> len(method), int((method["outcome"] == "ordinary_employment").sum())
    (313, 119)
    """
    rng = np.random.default_rng(seed)
    people, truth = _make_courses(rng, courses)
    people = _apply_sender_conventions(people).join(truth[["match_system", "match_code"]])
    truth["years_without_activation"] = people["years_without_activation"]
    truth["duration_band"] = duration_band(people["years_without_activation"])
    truth["period"] = people["period"]
    comp_people = _make_comparison(
        rng, comparison if comparison is not None else 3 * courses, set(people["cpr"])
    )
    taken = set(people["cpr"]) | set(comp_people["cpr"])
    files: dict[str, bytes] = {}
    fault_tables, n_raw = [], 0
    source = pd.DataFrame(index=truth.index, columns=["source_file", "source_row"])
    for name, fmt in _FORMATS.items():
        mine = people[people["municipality"] == name].sort_values("start_date", kind="stable")
        rows = _with_faults(
            _render(mine, fmt, rng), fmt, rng, people, dict.fromkeys(fmt.faults, 1), taken
        )
        files[fmt.file] = _file_bytes(rows, fmt)
        fault_tables.append(_fault_table(rows, fmt))
        n_raw += len(rows)
        keep = rows[rows["_truth"] >= 0]
        source.loc[keep["_truth"].to_numpy(), "source_file"] = fmt.file
        source.loc[keep["_truth"].to_numpy(), "source_row"] = (
            keep.index.to_numpy() + _first_data_row(fmt)
        )
    truth["source_file"] = source["source_file"].astype(str)
    truth["source_row"] = source["source_row"].astype("int64")
    faults = pd.concat(fault_tables, ignore_index=True)
    counts = calibration_counts(courses)
    att = true_att(people, truth)
    ambassadors, activities = _make_ambassadors(rng), _make_activities()
    files.update(_dissemination_files(ambassadors, activities))
    files["comparison.csv"] = _comparison_csv(comp_people)
    meta = _meta(seed, courses, counts, att, faults, n_raw)
    return SynthResult(
        truth=truth.reset_index(drop=True),
        comparison=_comparison_truth(comp_people),
        ambassadors=ambassadors,
        activities=activities,
        faults=faults,
        raw_files=files,
        meta=meta,
    )


def _plain_csv(frame: pd.DataFrame, delimiter: str = ",") -> bytes:
    return frame.to_csv(index=False, sep=delimiter, lineterminator="\n").encode("utf-8")


def _dissemination_files(ambassadors: pd.DataFrame, activities: pd.DataFrame) -> dict[str, bytes]:
    amb = pd.DataFrame(
        {
            "Ambassadør-ID": ambassadors["ambassador_id"],
            "Kommune": ambassadors["municipality"],
            "Certificeringsdato": ambassadors["certified_date"].dt.strftime("%d-%m-%Y"),
            "Kursus": ambassadors["course"],
        }
    )
    act = pd.DataFrame(
        {
            "Dato": activities["date"].dt.strftime("%d-%m-%Y"),
            "Aktivitet": activities["kind"].map(ACTIVITY_WORDS),
            "Titel": activities["title"],
            "Sted": activities["place"],
            "Modtagere": activities["recipients"].astype("string").fillna(""),
        }
    )
    return {"ambassadorer.csv": _plain_csv(amb), "aktiviteter.csv": _plain_csv(act, ";")}


def _comparison_csv(people: pd.DataFrame) -> bytes:
    first_word = {k: v[0] for k, v in _OUTCOME_WORDS.items()}
    frame = pd.DataFrame(
        {
            "CPR": _cpr_text(people["cpr"], True),
            "Kommune": people["municipality"],
            "Køn": people["sex"].map({"F": "K", "M": "M"}),
            "Oprindelsesland": _country_text(people["alpha3"], "da"),
            "Opholdsgrundlag": people["residence_basis"].map(
                {k: v[0] for k, v in _RESIDENCE_WORDS.items()}
            ),
            "År uden aktivering": people["years_raw"].map(lambda v: f"{v:.1f}"),
            "Matchkategori": np.where(people["match_draw"] < 0.4, 4, 5),
            "Referencedato": people["reference_date"].dt.strftime("%Y-%m-%d"),
            "Status på referencedato": people["outcome"].map(first_word),
        }
    )
    return _plain_csv(frame)


def _truth_csv(frame: pd.DataFrame) -> bytes:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _readme(meta: dict) -> bytes:
    c = meta["calibration_counts_method_period"]
    s = meta["assumed_shares"]
    att = meta["true_att_employment_method_period"]
    lines = [
        "# Synthetic VIP2 data (NOT real persons)",
        "",
        "Every file in this folder is **synthetic**: generated by `vip2analysis.synthetic` from a",
        "seed. No person-level VIP2 data are public. CPR numbers are made up (valid birth date and",
        "century digit, but they fail the old modulus-11 check that every number issued before",
        "2007 passes). The folder's `SYNTHETIC.json` declares it synthetic and names the public",
        f"demo pseudonym key `{meta['pseudonym_key']}`, so `vip2 clean` accepts it without a key file.",
        "",
        "Regenerate (byte-identical):",
        "",
        "```",
        f"vip2 synth --out data/raw/synthetic --seed {meta['seed']}",
        "```",
        "",
        "## Calibration (method period, by construction)",
        "",
        f"- {c['courses']} courses; {c['ordinary_employment']} ordinary employment "
        f"({100 * c['ordinary_employment'] / c['courses']:.1f}% of all courses);",
        f"- {c['completed']} completed, {c['dropped_out']} dropped out, {c['ongoing']} ongoing;",
        f"- {c['employed_completed']} of the completed in employment "
        f"({100 * c['employed_completed'] / c['completed']:.1f}%): {c['ordinary_employment']} ordinary, "
        f"{c['subsidised_employment']} subsidised; {c['education']} education, "
        f"{c['still_on_benefit']} still on benefit, {c['unknown_completed']} unknown.",
        "- Courses also start in both extension periods; their outcomes are drawn from the model.",
        "- 130 ambassadors (70 before 15-12-2009, 60 at Kolding, Herning and København in 2010);",
        "  14 newsletters (5 from November 2009), about 2,700 recipients; the report's dated events.",
        "",
        "## Assumed shares (the report gives none)",
        "",
        f"- women {s['female']:.0%}; all non-Western refugees or family-reunified immigrants; all",
        "  not work-ready (match category 4-5, or match group 2-3 in Aabenraa's file);",
        f"- years without activation: {s['years_without_activation']}; age: {s['age_at_start']};",
        f"- job packages: {s['original_job_packages']:.0%} of courses in the 12 original sectors;",
        "- the report says most participants lacked work and education experience; the data",
        "  contract has no such field, so it is not generated.",
        "- country mix and every model coefficient: `truth/truth.json`.",
        "",
        "## Comparison group and the true effect",
        "",
        "`comparison.csv` holds non-participants (3 x the method courses by default) with the same",
        "covariates, drawn from a population with more men, younger, with shorter time without",
        "activation: selection on observables only. Their employment follows the no-participation",
        "model in `truth/truth.json`; the true ATT on employment in the method period is",
        f"{att['overall']:.4f} (by sex, background and duration band: `truth/truth.json`).",
        "",
        "## Injected faults",
        "",
        f"{meta['faults']['count']} faults in {meta['faults']['rows_in_raw_files']} raw course rows "
        f"({meta['faults']['rate']:.1%}); each listed with file, row, kind, action and reason in",
        "`truth/faults.csv`. Faults never change the published figures: extra rows are rejected by",
        "cleaning, repairable values are restored to the truth.",
        "",
        "## Files",
        "",
        "| file | sender format |",
        "|---|---|",
        "| aarhus.xlsx | XLSX, sheet Forløb, two title rows, Excel dates, 'Århus' |",
        "| gladsaxe.csv | ';' cp1252, dd-mm-yyyy, decimal commas, K/M, extra column |",
        "| slagelse.csv | ',' UTF-8 with BOM, ISO dates, Kvinde/Mand, CPR without dash, date of last activation |",
        "| aabenraa.xlsx | XLSX, headers Branche/Herkomst, match groups 1-3, Excel serial numbers, English country names |",
        "| fredensborg.csv | ',' UTF-8, d.m.yyyy, upper-case countries, trailing empty rows |",
        "| comparison.csv | register extract of non-participants |",
        "| ambassadorer.csv, aktiviteter.csv | dissemination records |",
        "| truth/ | the canonical truth tables, faults and calibration (for tests) |",
        "",
    ]
    return "\n".join(lines).encode("utf-8")


def _folder_files(res: SynthResult) -> dict[str, bytes]:
    files = dict(res.raw_files)
    files[SYNTHETIC_MARKER] = (
        json.dumps(
            {
                "synthetic": True,
                "pseudonym_key": res.meta["pseudonym_key"],
                "generator": "vip2analysis.synthetic",
                "seed": res.meta["seed"],
                "note": "Synthetic data, not real persons. Public demo pseudonym key only.",
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    ).encode("utf-8")
    files["README.md"] = _readme(res.meta)
    files["truth/courses.csv"] = _truth_csv(res.truth)
    files["truth/comparison.csv"] = _truth_csv(res.comparison)
    files["truth/ambassadors.csv"] = _truth_csv(res.ambassadors)
    files["truth/activities.csv"] = _truth_csv(res.activities)
    files["truth/faults.csv"] = _truth_csv(res.faults)
    files["truth/truth.json"] = (
        json.dumps(res.meta, indent=2, ensure_ascii=False, default=str) + "\n"
    ).encode()
    return files


def _write_files(files: dict[str, bytes], out: Path) -> None:
    """Write into a temporary sibling folder, then swap it into place."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        for name, data in sorted(files.items()):
            target = tmp / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        if out.exists():
            old = out.with_name(f".{out.name}-old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_synthetic(
    out: str | os.PathLike[str],
    *,
    seed: int = DEFAULT_SEED,
    courses: int = 313,
    comparison: int | None = None,
) -> dict[str, Any]:
    """Write the synthetic set to ``out`` (replacing it atomically); return its metadata.

    Above ``LARGE_LAYOUT_THRESHOLD`` courses, one large CSV is written instead (benchmarks).
    """
    if courses > LARGE_LAYOUT_THRESHOLD:
        from vip2analysis._synth_large import write_large

        return write_large(Path(out), seed=seed, courses=courses)
    res = make_synthetic(seed=seed, courses=courses, comparison=comparison)
    _write_files(_folder_files(res), Path(out))
    return res.meta


def _digest_tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def compare_folders(expected: str | os.PathLike[str], actual: str | os.PathLike[str]) -> list[str]:
    """Differences between two folders as sentences (empty when byte-identical)."""
    a, b = _digest_tree(Path(expected)), _digest_tree(Path(actual))
    problems = [f"missing: {name}" for name in sorted(a.keys() - b.keys())]
    problems += [f"unexpected: {name}" for name in sorted(b.keys() - a.keys())]
    problems += [f"differs: {name}" for name in sorted(a.keys() & b.keys()) if a[name] != b[name]]
    return problems
