"""Synthetic people and courses: background, CPR numbers, dates, the canonical truth table."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from vip2analysis.contract.bands import duration_band
from vip2analysis.contract.cpr import DEMO_KEY, age_at, pseudonymise
from vip2analysis.contract.periods import load_periods
from vip2analysis.contract.reference import (
    job_packages,
    match_country,
    match_municipality,
)
from vip2analysis.errors import DataError
from vip2analysis.synth.model import (
    ASSUMED_SHARES,
    CALIBRATION,
    MODEL,
    _drawn_outcomes,
    _eta,
    _method_outcomes,
    _no_participation_eta,
    _sigmoid,
    calibration_counts,
)
from vip2analysis.synth.render import _FORMATS

__all__ = [
    "COUNTRIES",
]


# the date of the bundled extract: the shipped periods' data date
DATA_CUTOFF: dt.date = max(p.data_date for p in load_periods())


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


def _start_dates(rng: np.random.Generator, n: int, start: dt.date, end: dt.date) -> np.ndarray:
    days = (end - start).days + 1
    offsets = np.sort(rng.integers(0, days, size=n))
    return np.datetime64(start, "D") + offsets.astype("timedelta64[D]")


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
    raise DataError("could not draw unique synthetic CPR numbers")


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


def _who_and_background(
    people: pd.DataFrame, cpr: pd.Series
) -> tuple[dict[str, pd.Series], dict[str, pd.Series]]:
    """The leading (person, place) and trailing (origin, duration) columns that the course
    and comparison truth tables share, in the order of the data contract."""
    muni = match_municipality(people["municipality"])
    country = match_country(people["alpha3"])
    years = people["years_without_activation"]
    head = {
        "person_id": pseudonymise(cpr, key=DEMO_KEY),
        "municipality": muni["municipality"],
        "municipality_code": muni["municipality_code"],
        "region": muni["region"],
    }
    tail = {
        "country_of_origin": country["country_of_origin"],
        "origin_group": country["origin_group"],
        "origin_region": country["origin_region"],
        "residence_basis": people["residence_basis"],
        "years_without_activation": years,
        "duration_band": duration_band(years),
    }
    return head, tail


def _canonical(people: pd.DataFrame, cpr: pd.Series) -> pd.DataFrame:
    """Columns of the clean course table (without source_file/source_row)."""
    head, tail = _who_and_background(people, cpr)
    out = pd.DataFrame(
        {
            **head,
            "job_package": people["job_package"],
            "job_package_group": people["job_package_group"],
            "start_date": people["start_date"],
            "end_date": people["end_date"],
            "status": people["status"],
            "outcome": people["outcome"],
            "sex": people["sex"],
            "birth_date": people["birth_date"],
            "age_at_start": age_at(people["birth_date"], people["start_date"]),
            **tail,
        },
        index=people.index,
    )
    return out.join(_match(people, people["municipality"]))


def _make_courses(rng: np.random.Generator, n_method: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All course cohorts: (internal frame with cpr and model inputs, canonical truth)."""

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


def _make_comparison(rng: np.random.Generator, n: int, taken: set[str]) -> pd.DataFrame:
    """Non-participants: same covariates, outcome at a reference date from the no-participation model."""

    method = load_periods()["method"]
    people = _draw_people(rng, n, comparison=True)
    people["years_without_activation"] = people["years_raw"]
    # follow-up starts on a matched date in the method period; the outcome is taken after
    # as long as a course lasts (the participants' outcome is taken at the course end)
    start = _start_dates(rng, n, method.start, method.end)
    length = rng.integers(90, 271, size=n).astype("timedelta64[D]")
    people["start_date"] = pd.Series(start).astype("datetime64[s]")
    people["reference_date"] = pd.Series(start + length).astype("datetime64[s]")
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
    head, tail = _who_and_background(people, people["cpr"])
    frame = pd.DataFrame(
        {
            **head,
            "start_date": people["start_date"],
            "reference_date": people["reference_date"],
            "outcome": people["outcome"],
            "sex": people["sex"],
            "birth_date": people["birth_date"],
            "age": age_at(people["birth_date"], people["reference_date"]),
            **tail,
        }
    )
    return frame.join(_match(people, pd.Series("Aarhus", index=people.index)))
