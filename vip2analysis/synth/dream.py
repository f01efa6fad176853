"""Synthetic DREAM histories with known parameters, and the true effect on the register.

Every course participant and a pool of non-participants gets a weekly history from
2000 week 1 to 2012 week 52 (``DREAM_MODEL``):

- before the start week t0 a participant has been on passive cash benefit (730) for the
  register duration since the last activation (731), with short gaps off benefit (1-2
  weeks, blank, no job) that do not break a spell of k = 4 weeks;
- from t0 the course weeks are company internship (737); after the course, the state the
  course file reports, mostly: ordinary employment (blank code plus ``branche_``), wage
  subsidy (735), education (651) or back on benefit (730), with documented disagreement;
- without a course, a passive person finds ordinary work with a weekly hazard
  ``sigmoid(intercept + eta(X) + duration * log1p(years))``, loses it with a weekly
  hazard, and is activated now and then (which resets the duration);
- emigration (997) censors a history from a person-level week on.

The pool lives mostly in the five municipalities, with more men, younger and with shorter
durations than the participants: selection on observables. The true ATT on
``employment_share_52`` (participants' realised share minus the expected share without
the course, by Monte Carlo over the same no-course model) is written to the truth.

Only the contract and io rooms are used; the share computed here is the generator's own,
an independent reference for the library's measures.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
from typing import Any

import numpy as np
import pandas as pd

from vip2analysis.contract.bands import duration_band
from vip2analysis.contract.dream import Week, iso_weeks, month_column, week_of
from vip2analysis.synth.model import MODEL, _sigmoid

__all__ = [
    "DREAM_MODEL",
    "make_dream",
]

FIRST_WEEK = Week(2000, 1)
LAST_WEEK = Week(2012, 52)
BRANCHE_FROM = (2008, 1)  # the income register's employment months start in 2008
WEEKS_PER_YEAR = 365.25 / 7

# state codes of the simulation
PASSIVE, ACTIVATION, EMPLOYED, EMIGRATED, EDUCATION, SUBSIDISED, COURSE = range(7)
_CODE = np.array([730, 731, 0, 997, 651, 735, 737], dtype=np.int16)  # by state

DREAM_MODEL: dict[str, Any] = {
    "weeks": f"{FIRST_WEEK.column}-{LAST_WEEK.column}; branche_ months from 2008-01",
    "job_hazard": {
        "intercept": -4.4,
        "coefficients": "MODEL['no_participation'] (female, log1p years, age - 40, origin "
        "region, municipality) without its intercept; years = register duration",
    },
    "job_loss_hazard": 0.006,
    "activation_hazard": 0.004,
    "activation_weeks": 10,
    "gap_week_rate": 0.02,
    "emigration_hazard": 0.0002,
    "course_end_state": {
        "ordinary_employment": {"employed": 0.88, "passive": 0.12},
        "subsidised_employment": {"subsidised_26_weeks": 1.0},
        "education": {"education_52_weeks": 1.0},
        "still_on_benefit": {"passive": 0.92, "employed": 0.08},
        "dropped_out": {"passive": 0.95, "employed": 0.05},
        "unknown": {"passive": 0.8, "employed": 0.2},
    },
    "after_subsidy_employed": 0.5,
    "register_duration_disagrees": 0.2,
    "register_duration_when_disagreeing": "the reported years times U(0.15, 0.6): an "
    "activation the caseworker did not record",
    "pool": {
        "persons": 6000,
        "outside_project_municipalities": 0.1,
        "initial_duration_median_years": 2.0,
    },
    "monte_carlo_draws": 400,
}


def _eta(frame: pd.DataFrame) -> np.ndarray:
    coef = MODEL["no_participation"]
    emp = MODEL["employment"]
    eta = coef["female"] * (frame["sex"] == "F").to_numpy()
    eta = eta + coef["age_minus_40"] * (frame["age_years"].to_numpy() - 40)
    eta = eta + frame["origin_region"].map(emp["origin_region"]).fillna(0).to_numpy(float)
    eta = eta + frame["municipality"].map(emp["municipality"]).fillna(0).to_numpy(float)
    return eta + DREAM_MODEL["job_hazard"]["intercept"]


def _hazard(eta: np.ndarray, d: np.ndarray) -> np.ndarray:
    b = MODEL["no_participation"]["log1p_years_without_activation"]
    return _sigmoid(eta + b * np.log1p(d / WEEKS_PER_YEAR))


class _Chain:
    """The weekly no-course model, vectorised over persons (one step per week)."""

    def __init__(self, rng: np.random.Generator, eta: np.ndarray) -> None:
        self.rng, self.eta = rng, eta
        n = len(eta)
        self.state = np.full(n, PASSIVE, dtype=np.int8)
        self.d = np.zeros(n)  # passive weeks since the last activation / job
        self.rem = np.zeros(n, dtype=np.int64)  # weeks left in a timed state

    def step(self, active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Advance the active persons one week; return (code, employed) of that week."""
        m = DREAM_MODEL
        n = len(self.state)
        u = self.rng.random(n)
        gap = self.rng.random(n) < m["gap_week_rate"]
        s, d = self.state, self.d
        passive = active & (s == PASSIVE)
        h = _hazard(self.eta, d)
        to_job = passive & (u < h)
        to_act = passive & ~to_job & (u < h + m["activation_hazard"])
        stay = passive & ~to_job & ~to_act
        job = active & (s == EMPLOYED)
        lose = job & (u < m["job_loss_hazard"])
        timed = active & np.isin(s, (ACTIVATION, EDUCATION, SUBSIDISED, COURSE))
        self.rem[timed] -= 1
        ends = timed & (self.rem <= 0)
        sub_end = ends & (s == SUBSIDISED)
        sub_job = sub_end & (self.rng.random(n) < m["after_subsidy_employed"])
        # this week's code is the state entered at its start
        s[to_job] = EMPLOYED
        s[to_act] = ACTIVATION
        self.rem[to_act] = m["activation_weeks"]
        s[lose] = PASSIVE
        d[lose | to_act | to_job] = 0
        s[ends] = PASSIVE
        s[sub_job] = EMPLOYED
        d[ends] = 0
        code = np.where(stay & gap, 0, _CODE[s]).astype(np.int16)
        d[stay & ~gap] += 1
        return code, active & (s == EMPLOYED)


def _weeks() -> list[Week]:
    return iso_weeks(FIRST_WEEK, LAST_WEEK)


def _week_index(dates: pd.Series, first: Week = FIRST_WEEK) -> np.ndarray:
    monday = week_of(dates)
    return ((monday - pd.Timestamp(first.monday)).dt.days // 7).to_numpy(dtype=np.int64)


def _thursday_month(weeks: list[Week]) -> np.ndarray:
    out = np.empty(len(weeks), dtype=np.int64)
    for i, w in enumerate(weeks):
        t = w.monday + dt.timedelta(days=3)
        out[i] = t.year * 12 + t.month - 1
    return out


def _backward_history(
    rng: np.random.Generator, codes: np.ndarray, rows: np.ndarray, t0: np.ndarray, d: np.ndarray
) -> None:
    """Fill weeks before t0: d passive weeks (with short gaps), an activation, and older
    passive benefit with an activation every few years; nothing before the extract."""
    m = DREAM_MODEL
    for r, t, weeks in zip(rows, t0, d.astype(np.int64), strict=True):
        j, passive = t - 1, 0
        while j >= 0 and passive < weeks:
            if rng.random() < m["gap_week_rate"]:
                codes[r, j] = 0
            else:
                codes[r, j] = 730
                passive += 1
            j -= 1
        stop = max(j - m["activation_weeks"], -1)
        codes[r, stop + 1 : j + 1] = 731
        j = stop
        while j >= 0:
            run = int(rng.integers(80, 260))
            lo = max(j - run, -1)
            codes[r, lo + 1 : j + 1] = 730
            j = lo
            lo = max(j - m["activation_weeks"], -1)
            codes[r, lo + 1 : j + 1] = 731
            j = lo


def _forward(
    rng: np.random.Generator,
    chain: _Chain,
    codes: np.ndarray,
    employed: np.ndarray,
    rows: np.ndarray,
    start: np.ndarray,
    emigrate: np.ndarray,
) -> None:
    """Run ``chain`` for each person from its start week to the end of the extract."""
    n_weeks = codes.shape[1]
    for w in range(int(start.min()) if len(start) else n_weeks, n_weeks):
        active = start <= w
        code, job = chain.step(active)
        gone = active & (w >= emigrate)
        code = np.where(gone, 997, code)
        chain.state[gone] = EMIGRATED
        codes[rows[active], w] = code[active]
        employed[rows[active], w] = job[active] & ~gone[active]


def _expected_share(
    rng: np.random.Generator,
    eta: np.ndarray,
    d0: np.ndarray,
    t0: np.ndarray,
    ok: np.ndarray,
    draws: int,
) -> np.ndarray:
    """E[employed weeks / known weeks] over t0+1..t0+52 without the course (Monte Carlo)."""
    n = len(eta)
    chain = _Chain(rng, np.repeat(eta, draws))
    chain.d = np.repeat(d0.astype(float), draws)
    total = np.zeros(n * draws)
    okr = np.repeat(ok, draws, axis=0)
    everyone = np.ones(n * draws, dtype=bool)
    chain.step(everyone)  # week t0 itself
    for j in range(52):
        _, job = chain.step(everyone)
        total += job * okr[:, j]
    per = total.reshape(n, draws).mean(axis=1)
    return per / np.maximum(ok.sum(axis=1), 1)


def make_dream(
    seed: int,
    people: pd.DataFrame,
    pool: pd.DataFrame,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The extract (one row per person, raw text cells) and the register truth.

    ``people`` are the course participants (cpr, sex, age_years, origin_region,
    municipality, country, start_date, end_date, outcome, years_without_activation,
    period, origin_group); ``pool`` the non-participants (cpr, sex, age_years,
    origin_region, municipality, country, years).
    """
    rng = np.random.default_rng([seed, 12])
    weeks = _weeks()
    n_weeks = len(weeks)
    n_p, n_q = len(people), len(pool)
    n = n_p + n_q
    codes = np.full((n, n_weeks), 730, dtype=np.int16)
    employed = np.zeros((n, n_weeks), dtype=bool)
    emigrate = np.minimum(
        rng.geometric(DREAM_MODEL["emigration_hazard"], size=n), 10 * n_weeks
    ).astype(np.int64)

    # participants: register duration, history before t0, the course, what follows
    reported = people["years_without_activation"].to_numpy(float)
    disagree = rng.random(n_p) < DREAM_MODEL["register_duration_disagrees"]
    register_years = np.where(disagree, reported * rng.uniform(0.15, 0.6, n_p), reported)
    d0 = np.round(register_years * WEEKS_PER_YEAR)
    t0 = _week_index(people["start_date"])
    rows_p = np.arange(n_p)
    _backward_history(rng, codes, rows_p, t0, d0)
    emigrate[:n_p] += t0 + 1  # a participant is in Denmark when the course starts
    end = people["end_date"]
    length = np.where(
        end.notna(),
        np.ceil((pd.to_datetime(end) - pd.to_datetime(people["start_date"])).dt.days / 7),
        26,
    ).astype(np.int64)
    length = np.maximum(length, 1)
    post = t0 + length
    eta_p = _eta(people)
    chain = _Chain(rng, eta_p)
    outcome = people["outcome"].to_numpy(dtype=object)
    u = rng.random(n_p)
    emp_share = {k: v.get("employed", 0.0) for k, v in DREAM_MODEL["course_end_state"].items()}
    starts_employed = u < pd.Series(outcome).map(emp_share).fillna(0).to_numpy()
    chain.state[:] = PASSIVE
    chain.state[starts_employed] = EMPLOYED
    chain.state[outcome == "subsidised_employment"] = SUBSIDISED
    chain.rem[outcome == "subsidised_employment"] = 26
    chain.state[outcome == "education"] = EDUCATION
    chain.rem[outcome == "education"] = 52
    for i in range(n_p):
        codes[i, t0[i] : min(post[i], n_weeks)] = 737
    _forward(rng, chain, codes, employed, rows_p, post, emigrate[:n_p])
    for i in range(n_p):  # emigration inside the course
        if emigrate[i] < post[i]:
            codes[i, emigrate[i] :] = 997
            employed[i, emigrate[i] :] = False

    # the pool: a spell under way when the extract starts, then the no-course model
    q = DREAM_MODEL["pool"]
    chain_q = _Chain(rng, _eta(pool))
    chain_q.d = np.round(
        np.exp(np.log(q["initial_duration_median_years"]) + 0.8 * rng.standard_normal(n_q))
        * WEEKS_PER_YEAR
    )
    rows_q = np.arange(n_p, n)
    _forward(rng, chain_q, codes, employed, rows_q, np.zeros(n_q, np.int64), emigrate[n_p:])

    # employment months from the weekly jobs (the month of each week's Thursday)
    month_of = _thursday_month(weeks)
    first_month = BRANCHE_FROM[0] * 12 + BRANCHE_FROM[1] - 1
    last_month = int(month_of.max())
    months = np.arange(first_month, last_month + 1)
    branche = np.zeros((n, len(months)), dtype=bool)
    inside = month_of >= first_month
    for week in np.flatnonzero(inside):
        branche[:, month_of[week] - first_month] |= employed[:, week]

    # the truth: realised share with the course minus the expected share without it
    ok = np.zeros((n_p, 52), dtype=bool)
    job1 = np.zeros((n_p, 52), dtype=bool)
    for j in range(52):
        w = t0 + 1 + j
        within = w < n_weeks
        wc = np.minimum(w, n_weeks - 1)
        known = within & (month_of[wc] >= first_month) & (codes[rows_p, wc] != 997)
        ok[:, j] = known
        job1[:, j] = known & employed[rows_p, wc]
    y1 = job1.sum(axis=1) / np.maximum(ok.sum(axis=1), 1)
    y0 = _expected_share(rng, eta_p, d0, t0, ok, DREAM_MODEL["monte_carlo_draws"])
    effect = pd.DataFrame(
        {
            "period": people["period"].to_numpy(),
            "sex": people["sex"].to_numpy(),
            "origin_group": people["origin_group"].to_numpy(),
            "origin_region": people["origin_region"].to_numpy(),
            "duration_band": duration_band(pd.Series(register_years)).to_numpy(),
            "y1": y1,
            "y0": y0,
            "known": ok.any(axis=1),
        }
    )
    effect = effect[effect["known"]]
    effect["effect"] = effect["y1"] - effect["y0"]
    truth = {
        "model": DREAM_MODEL,
        "outcome": "employment_share_52",
        "true_att": _att_table(effect),
        "register_band_agrees_with_reported": round(
            float(
                (
                    duration_band(pd.Series(register_years)) == duration_band(pd.Series(reported))
                ).mean()
            ),
            4,
        ),
        "register_duration_disagrees": int(disagree.sum()),
        "participants": n_p,
        "pool": n_q,
    }
    frame = _extract_frame(people, pool, codes, branche, weeks, months)
    return frame, truth


def _att_table(effect: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {}
    periods = ["method", "extension1", "extension2"]
    for period in [*periods, "all"]:
        mine = effect if period == "all" else effect[effect["period"] == period]
        if mine.empty:
            continue
        entry: dict[str, Any] = {"overall": round(float(mine["effect"].mean()), 6), "n": len(mine)}
        for col in ("sex", "origin_group", "origin_region", "duration_band"):
            g = mine.groupby(col, observed=True)["effect"].agg(["mean", "size"])
            entry[col] = {
                str(k): {"att": round(float(r["mean"]), 6), "n": int(r["size"])}
                for k, r in g.iterrows()
            }
        out[period] = entry
    return out


def _extract_frame(
    people: pd.DataFrame,
    pool: pd.DataFrame,
    codes: np.ndarray,
    branche: np.ndarray,
    weeks: list[Week],
    months: np.ndarray,
) -> pd.DataFrame:
    persons = pd.concat(
        [
            people[["cpr", "sex", "municipality", "country"]],
            pool[["cpr", "sex", "municipality", "country"]],
        ],
        ignore_index=True,
    )
    text = np.where(codes == 0, "", codes.astype(str))
    cols: dict[str, Any] = {
        "pnr": persons["cpr"].to_numpy(),
        "kon": np.where(persons["sex"] == "F", "K", "M"),
        "kom": persons["municipality"].to_numpy(),
        "opr_land": persons["country"].to_numpy(),
    }
    for j, w in enumerate(weeks):
        cols[w.column] = text[:, j]
    for j, m in enumerate(months):
        cols[month_column(int(m) // 12, int(m) % 12 + 1)] = np.where(branche[:, j], "1", "")
    return pd.DataFrame(cols)


def dream_csv_gz(frame: pd.DataFrame) -> bytes:
    """The extract as ';'-separated UTF-8 CSV, gzip-compressed reproducibly (no time stamp)."""
    buf = io.StringIO()
    frame.to_csv(buf, index=False, sep=";", lineterminator="\n")
    return gzip.compress(buf.getvalue().encode("utf-8"), compresslevel=6, mtime=0)
