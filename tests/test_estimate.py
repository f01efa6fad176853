"""Tests for vip2analysis.estimate against independent references.

References used here: the closed-form Wilson interval; discrete changes and numerical
derivatives of the fitted logit's own predictions; statsmodels OLS (HC3), Logit
get_margeff and TreatmentEffect.ipw; the LaLonde NSW experiment (Dehejia-Wahba subset in
causaldata); seeded synthetic data with a known effect on the treated.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.special import expit
from statsmodels.tools.numdiff import approx_fprime

from vip2analysis.stats import (
    TIDY_COLUMNS,
    adjusted_differences,
    derive_outcomes,
    follow_up,
    headline,
    participation_effect,
    rates,
    reconcile,
    stack_comparison,
)
from vip2analysis.stats import adjusted as est_adjusted
from vip2analysis.stats import proportions as est_rates
from vip2analysis.stats.tidy import INFERENCE, inference_code

MUNICIPALITIES = ["Fredensborg", "Gladsaxe", "Slagelse", "Aabenraa", "Aarhus"]
BANDS = pd.CategoricalDtype(["<1", "1-2", "2-5", "5+"], ordered=True)
WEBB_LABEL = "wild cluster bootstrap (Webb, 5 clusters), p-value only"


@dataclass(frozen=True)
class Period:
    name: str
    start: dt.date
    end: dt.date
    data_date: dt.date = dt.date(2010, 6, 30)
    label_da: str = ""
    label_en: str = ""


PERIODS = {
    "method": Period("method", dt.date(2007, 4, 1), dt.date(2009, 6, 30)),
    "extension1": Period("extension1", dt.date(2009, 7, 1), dt.date(2009, 11, 30)),
    "extension2": Period("extension2", dt.date(2009, 12, 15), dt.date(2010, 6, 15)),
    "all": Period("all", dt.date(2007, 4, 1), dt.date(2010, 6, 15)),
}


def wilson_closed_form(x: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """(p + z^2/2n -/+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)."""
    p = x / n
    centre = p + z**2 / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return (centre - half) / (1 + z**2 / n), (centre + half) / (1 + z**2 / n)


# --- fixtures --------------------------------------------------------------------------------


def _people(rng: np.random.Generator, n: int) -> pd.DataFrame:
    western = rng.random(n) < 0.15
    return pd.DataFrame(
        {
            "person_id": [f"p{i:05d}" for i in range(n)],
            "municipality": rng.choice(MUNICIPALITIES, n),
            "sex": rng.choice(["F", "M"], n, p=[0.65, 0.35]),
            "origin_group": np.where(western, "western", "non_western"),
            "origin_region": np.where(
                western, "Europe", rng.choice(["Middle East", "Africa", "Asia"], n)
            ),
            "duration_band": pd.Categorical(rng.choice(BANDS.categories, n), dtype=BANDS),
            "age_at_start": pd.array(rng.integers(20, 60, n), dtype="Int64"),
        }
    )


def _method_outcomes(rng: np.random.Generator) -> pd.DataFrame:
    """313 courses, all ended: 240 completed (119 ordinary + 13 subsidised = 132 = 55%), 73 out."""
    completed = (
        ["ordinary_employment"] * 119
        + ["subsidised_employment"] * 13
        + ["education"] * 30
        + ["still_on_benefit"] * 78
    )
    frame = pd.DataFrame(
        {
            "status": ["completed"] * 240 + ["dropped_out"] * 73,
            "outcome": completed + ["dropped_out"] * 73,
        }
    )
    return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)


@pytest.fixture
def courses() -> pd.DataFrame:
    """313 method-period courses matching the report, plus 40 later courses."""
    rng = np.random.default_rng(313)
    method = pd.concat([_people(rng, 313), _method_outcomes(rng)], axis=1)
    days = rng.integers(0, (PERIODS["method"].end - PERIODS["method"].start).days + 1, 313)
    method["start_date"] = pd.Timestamp(PERIODS["method"].start) + pd.to_timedelta(days, "D")
    later = _people(rng, 40)
    later["status"], later["outcome"] = "completed", "ordinary_employment"
    later["start_date"] = pd.Timestamp("2009-07-01") + pd.to_timedelta(
        rng.integers(0, 300, 40), "D"
    )
    frame = pd.concat([method, later], ignore_index=True)
    frame["job_package_group"] = np.where(np.arange(len(frame)) % 3 == 0, "vip2", "original")
    frame["job_package"] = [
        f"{g}-{i % (17 if g == 'vip2' else 12)}" for i, g in enumerate(frame["job_package_group"])
    ]
    return frame


@pytest.fixture
def ambassadors() -> pd.DataFrame:
    """70 certified in the method period, then 20 + 20 + 20 at the three extension courses."""
    before = pd.DataFrame(
        {
            "certified_date": pd.to_datetime("2008-05-01")
            + pd.to_timedelta(np.arange(70) * 7, "D"),
            "course": "Metodekommune",
        }
    )
    new = pd.DataFrame(
        {
            "certified_date": pd.to_datetime(["2010-01-26", "2010-04-15", "2010-06-15"]).repeat(20),
            "course": np.repeat(["Kolding", "Herning", "København"], 20),
        }
    )
    frame = pd.concat([before, new], ignore_index=True)
    frame["ambassador_id"] = [f"a{i:03d}" for i in range(len(frame))]
    frame["municipality"] = "Aarhus"
    return frame


@pytest.fixture
def activities() -> pd.DataFrame:
    """14 newsletters; the report's "5 in the extension" run from November 2009 to June 2010.

    By date only three fall in extension2 (2009-12-15..2010-06-15): the November one is
    before it, the June one (dated 18 June) after it.
    """
    dates = [f"2008-{m:02d}-10" for m in (2, 4, 6, 8, 10, 12)] + [
        "2009-02-10",
        "2009-05-10",
        "2009-08-10",
        "2009-11-20",
        "2009-12-18",
        "2010-02-15",
        "2010-05-20",
        "2010-06-18",  # after extension2 ends on 2010-06-15
    ]
    news = pd.DataFrame(
        {
            "date": pd.to_datetime(dates),
            "kind": "newsletter",
            "title": "VIP2 nyt",
            "place": pd.NA,
            "recipients": pd.array(np.linspace(900, 2687, 14).round(), dtype="Int64"),
        }
    )
    other = pd.DataFrame(
        {
            "date": pd.to_datetime(["2010-01-21", "2010-04-14", "2010-04-19"]),
            "kind": ["conference", "information_meeting", "information_meeting"],
            "title": "møde",
            "place": ["København", "Herning", "København"],
            "recipients": pd.array([pd.NA] * 3, dtype="Int64"),
        }
    )
    return pd.concat([news, other], ignore_index=True)


@pytest.fixture
def job_packages() -> pd.DataFrame:
    names = [f"original-{i}" for i in range(12)] + [f"vip2-{i}" for i in range(17)]
    return pd.DataFrame({"name": names, "group": ["original"] * 12 + ["vip2"] * 17})


def simulated_participants(seed: int, n: int = 600, **effects: float) -> pd.DataFrame:
    """Participants whose employment follows a known logit in the usual terms."""
    rng = np.random.default_rng(seed)
    frame = _people(rng, n)
    eta = (
        -0.3
        + effects.get("sex", 0.4) * frame["sex"].eq("M")
        - 0.5 * frame["origin_group"].eq("western")
        - 0.4 * frame["duration_band"].cat.codes
        + 0.01 * (frame["age_at_start"].astype(float) - 40)
        + 0.2 * frame["municipality"].eq("Aarhus")
    )
    employed = rng.random(n) < expit(eta.to_numpy(float))
    frame["outcome"] = np.where(employed, "ordinary_employment", "still_on_benefit")
    frame["status"] = "completed"
    return frame


@pytest.fixture(scope="module")
def nsw() -> pd.DataFrame:
    from causaldata import nsw_mixtape

    data = nsw_mixtape.load_pandas().data.drop(columns="data_id").astype("float64")
    for c in ("age", "educ", "re74", "re75"):
        data[f"{c}_sq"] = data[c] ** 2  # float64 first: int8 age squared would overflow
    data["employed78"] = (data["re78"] > 0).astype("float64")
    return data


NSW_COVARIATES = ["age", "educ", "black", "hisp", "marr", "nodegree", "re74", "re75"]
NSW_COVARIATES_SQ = [*NSW_COVARIATES, "age_sq", "educ_sq", "re74_sq", "re75_sq"]


# --- outcomes, rates, headline ------------------------------------------------------------


def test_derive_outcomes_definitions():
    df = pd.DataFrame(
        {
            "outcome": ["ordinary_employment", "subsidised_employment", "education", None],
            "status": ["completed", "ongoing", "completed", "dropped_out"],
        }
    )
    out = derive_outcomes(df)
    assert out["ended"].tolist() == [1, 0, 1, 1]  # the ongoing course has no outcome yet
    assert out["employed"].tolist() == [1, 0, 0, 0]
    assert out["ordinary"].tolist() == [1, 0, 0, 0]
    assert out["completed"].tolist() == [1, 0, 1, 0]
    assert (out.dtypes[["employed", "ordinary", "completed", "ended"]] == "int64").all()
    assert "employed" not in df.columns  # input not mutated


def test_wilson_interval_matches_closed_form():
    low, high = wilson_closed_form(119, 313)
    assert (round(low, 4), round(high, 4)) == (0.3282, 0.4351)
    df = pd.DataFrame(
        {
            "g": "all",
            "outcome": ["ordinary_employment"] * 119 + ["education"] * 194,
            "status": "completed",
        }
    )
    row = rates(df, by="g", outcome="ordinary").iloc[0]
    assert row["conf_low"] == pytest.approx(low, abs=1e-12)
    assert row["conf_high"] == pytest.approx(high, abs=1e-12)
    for x, n in [(0, 10), (10, 10), (3, 7)]:  # edges too
        got = est_rates._wilson(x, n, 0.95)
        assert np.allclose([got[0], got[1]], wilson_closed_form(x, n), atol=1e-12)


def test_rates_groups_counts_and_order(courses):
    courses = courses.copy()
    courses["duration_band"] = courses["duration_band"].cat.add_categories(["unused"])
    table = rates(courses, by="duration_band", outcome="employed")
    assert list(table.columns) == [
        "duration_band",
        "n",
        "events",
        "rate",
        "conf_low",
        "conf_high",
        "denominator_rule",
    ]
    assert table["duration_band"].tolist() == ["<1", "1-2", "2-5", "5+"]  # order, observed only
    flags = derive_outcomes(courses)
    expected = flags.groupby("duration_band", observed=True)["employed"].agg(["size", "sum"])
    assert table["n"].tolist() == expected["size"].tolist()
    assert table["events"].tolist() == expected["sum"].tolist()
    assert (table["denominator_rule"] == "ended courses").all()


def test_rates_two_columns_and_completed_denominator(courses):
    table = rates(courses, by=["municipality", "sex"], denominator="completed")
    assert table["n"].sum() == courses["status"].eq("completed").sum()
    assert table[["municipality", "sex"]].apply(tuple, axis=1).is_monotonic_increasing
    assert (table["denominator_rule"] == "completed courses").all()
    assert table["rate"].between(table["conf_low"], table["conf_high"]).all()


def test_rates_rejects_bad_options(courses):
    msg = "The value for `denominator` must be one of ('all', 'completed'), but 'some' was passed."
    with pytest.raises(ValueError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        rates(courses, by="sex", denominator="some")
    with pytest.raises(ValueError, match="`outcome` must be one of"):
        rates(courses, by="sex", outcome="happy")
    with pytest.raises(ValueError, match="1 to 2 columns"):
        rates(courses, by=["sex", "municipality", "origin_group"])


def test_headline_on_the_method_period(courses):
    method = courses.loc[courses["start_date"] <= "2009-06-30"]
    table = headline(method).set_index("figure")
    assert table.loc["courses", "numerator"] == 313
    assert table.loc["running courses", "numerator"] == 0
    ordinary = table.loc["ordinary employment / ended courses"]
    assert (ordinary["numerator"], ordinary["denominator"]) == (119, 313)
    assert round(100 * ordinary["rate"]) == 38
    assert (round(ordinary["conf_low"], 4), round(ordinary["conf_high"], 4)) == (0.3282, 0.4351)
    employed = table.loc["employment / completed courses"]
    assert (employed["numerator"], employed["denominator"]) == (132, 240)
    assert round(100 * employed["rate"]) == 55
    assert employed["denominator_rule"] == "completed courses"


# --- reconcile ----------------------------------------------------------------------------


def test_reconcile_every_published_figure(courses, ambassadors, activities, job_packages):
    table = reconcile(
        courses,
        ambassadors=ambassadors,
        activities=activities,
        periods=PERIODS,
        job_packages=job_packages,
    ).set_index("figure")
    assert list(table.reset_index().columns) == [
        "figure",
        "published",
        "computed",
        "difference",
        "definition",
        "status",
        "note",
    ]
    assert len(table) == 13
    expected = {
        "courses in the method period": 313,
        "municipalities": 5,
        "ambassadors in all": 130,
        "ambassadors before the extension": 70,
        "new ambassadors in the extension": 60,
        "ambassador courses in the extension": 3,
        "newsletters in all": 14,
        "original job packages (sectors)": 12,
        "new job packages (sectors)": 17,
    }
    for figure, value in expected.items():
        assert table.loc[figure, "computed"] == value, figure
        assert table.loc[figure, "status"] == "match", figure
    assert table.loc["ordinary employment, % of all courses", "computed"] == pytest.approx(
        100 * 119 / 313
    )
    assert table.loc["employment, % of completed courses", "status"] == "match"
    assert table.loc["newsletter recipients (about)", "computed"] == 2687
    assert table.loc["newsletter recipients (about)", "status"] == "rounding"


def test_reconcile_extension_newsletters_by_the_period_definition(courses, ambassadors, activities):
    row = (
        reconcile(courses, ambassadors=ambassadors, activities=activities, periods=PERIODS)
        .set_index("figure")
        .loc["newsletters in the extension"]
    )
    assert row["computed"] == 3  # by date in extension2
    assert row["difference"] == -2
    assert row["status"] == "not reconcilable by its own definition"
    assert "2009-12-15..2010-06-15" in row["note"]
    assert "(2009-11-01..2010-06-30) there are 5" in row["note"]


def test_reconcile_reports_mismatches(courses, ambassadors, activities):
    fewer = courses.drop(index=courses.index[courses["outcome"].eq("ordinary_employment")][:10])
    table = reconcile(
        fewer, ambassadors=ambassadors.iloc[:-1], activities=activities, periods=PERIODS
    ).set_index("figure")
    assert table.loc["courses in the method period", "status"] == "mismatch"
    assert table.loc["ordinary employment, % of all courses", "status"] == "mismatch"
    assert table.loc["new ambassadors in the extension", "status"] == "mismatch"
    # without a reference list the sectors are counted among the courses and say so
    assert table.loc["new job packages (sectors)", "note"] == "no reference list given"


# --- adjusted differences among participants ------------------------------------------------


@pytest.fixture(scope="module")
def adjusted() -> est_adjusted.AdjustedDifferences:
    return adjusted_differences(simulated_participants(7), bootstrap_reps=0)


def _logit_predict(res, exog: pd.DataFrame) -> np.ndarray:
    return np.asarray(res.model.predict(res.params.to_numpy(), exog.to_numpy(float)))


def test_ame_discrete_changes_match_predictions(adjusted):
    res = adjusted.logit_result
    exog = res.model.data.orig_exog
    ame = adjusted.ame().set_index("term")["estimate"]
    bands = [c for c in exog.columns if c.startswith("duration_band[")]
    assert bands == ["duration_band[1-2]", "duration_band[2-5]", "duration_band[5+]"]
    for level in bands:  # every row moved to the reference band, then to the level
        x0 = exog.copy()
        x0[bands] = 0.0
        x1 = x0.copy()
        x1[level] = 1.0
        change = (_logit_predict(res, x1) - _logit_predict(res, x0)).mean()
        assert ame[level] == pytest.approx(change, abs=1e-6)
    for binary in ("sex[M]", "origin_group[western]"):
        x0, x1 = exog.assign(**{binary: 0.0}), exog.assign(**{binary: 1.0})
        change = (_logit_predict(res, x1) - _logit_predict(res, x0)).mean()
        assert ame[binary] == pytest.approx(change, abs=1e-6)


def test_ame_numeric_term_is_the_average_derivative(adjusted):
    res = adjusted.logit_result
    exog = res.model.data.orig_exog
    h = 1e-4
    up, down = (
        exog.assign(age_at_start=exog["age_at_start"] + h),
        exog.assign(age_at_start=exog["age_at_start"] - h),
    )
    derivative = ((_logit_predict(res, up) - _logit_predict(res, down)) / (2 * h)).mean()
    ame = adjusted.ame().set_index("term")
    assert ame.loc["age_at_start", "estimate"] == pytest.approx(derivative, abs=1e-6)


def test_ame_agrees_with_get_margeff_where_it_applies(adjusted):
    # get_margeff(dummy=True) moves one dummy at a time, which is the discrete change only
    # for two-level terms; numeric terms get the derivative in both.
    frame = adjusted.logit_result.get_margeff(at="overall", dummy=True).summary_frame()
    ame = adjusted.ame().set_index("term")
    for term in ("sex[M]", "origin_group[western]", "age_at_start"):
        assert ame.loc[term, "estimate"] == pytest.approx(frame.loc[term, "dy/dx"], abs=1e-6)
        assert ame.loc[term, "std_error"] == pytest.approx(frame.loc[term, "Std. Err."], rel=1e-4)


def test_ame_delta_method_se_against_numerical_gradient(adjusted):
    res = adjusted.logit_result
    exog = res.model.data.orig_exog.to_numpy(float)
    cols = list(res.model.data.orig_exog.columns)
    block = [cols.index(c) for c in cols if c.startswith("duration_band[")]
    j = cols.index("duration_band[5+]")

    def change(params):
        x0 = exog.copy()
        x0[:, block] = 0.0
        x1 = x0.copy()
        x1[:, j] = 1.0
        return (expit(x1 @ params) - expit(x0 @ params)).mean()

    grad = approx_fprime(res.params.to_numpy(), change, centered=True)
    se = math.sqrt(grad @ res.cov_params().to_numpy() @ grad)
    row = adjusted.ame().set_index("term").loc["duration_band[5+]"]
    assert row["std_error"] == pytest.approx(se, rel=1e-5)
    assert row["conf_low"] == pytest.approx(row["estimate"] - 1.959964 * se, rel=1e-5)


def test_lpm_matches_statsmodels_ols_hc3(adjusted):
    data = derive_outcomes(simulated_participants(7))
    design = pd.get_dummies(
        data[["sex", "origin_group", "duration_band", "municipality"]],
        drop_first=True,
        dtype=float,
    ).assign(age_at_start=data["age_at_start"].astype(float))
    ols = sm.OLS(data["employed"].astype(float), sm.add_constant(design)).fit(cov_type="HC3")
    lpm = adjusted.lpm().set_index("term")
    pairs = {
        "sex[M]": "sex_M",
        "origin_group[western]": "origin_group_western",
        "duration_band[5+]": "duration_band_5+",
        "age_at_start": "age_at_start",
    }
    for ours, theirs in pairs.items():
        assert lpm.loc[ours, "estimate"] == pytest.approx(ols.params[theirs], abs=1e-10)
        assert lpm.loc[ours, "std_error"] == pytest.approx(ols.bse[theirs], rel=1e-8)
        assert lpm.loc[ours, "p_value"] == pytest.approx(ols.pvalues[theirs], rel=1e-6)
    assert (lpm["inference"] == "HC3").all()


def test_tidy_columns_and_inference_labels(adjusted):
    table = adjusted.tidy()
    assert tuple(table.columns) == TIDY_COLUMNS
    assert set(table["inference"]) == {"delta method (logit AME)", "HC3"}  # bootstrap off
    assert (table["n"] == 600).all()
    assert adjusted.reference == {"sex": "F", "origin_group": "non_western", "duration_band": "<1"}
    text = adjusted.summary()
    assert "not causal effects" in text and "not run" in text
    assert "cluster-robust" in text


def test_wild_cluster_bootstrap_pvalues():
    data = simulated_participants(11, sex=2.5)
    kwargs = dict(terms=["sex", "age_at_start"], bootstrap_reps=999, seed=42)
    first = adjusted_differences(data, **kwargs).bootstrap().set_index("term")
    again = adjusted_differences(data, **kwargs).bootstrap().set_index("term")
    pd.testing.assert_frame_equal(first, again)  # deterministic with a seed
    assert (first["inference"] == WEBB_LABEL).all()
    assert first["p_value"].between(0, 1).all()
    assert first[["std_error", "conf_low", "conf_high"]].isna().all().all()
    assert first.loc["sex[M]", "p_value"] < 0.05  # a large true effect
    lpm = adjusted_differences(data, **{**kwargs, "bootstrap_reps": 0}).lpm().set_index("term")
    assert first["estimate"].to_numpy() == pytest.approx(lpm["estimate"].to_numpy())


def test_each_interval_sits_beside_the_p_value_of_its_own_procedure():
    """No row, and no line of the summary, pairs one procedure's interval with another's
    p-value: the bootstrap gives a p-value and no interval, and says so."""
    data = simulated_participants(11, sex=2.5)
    res = adjusted_differences(data, terms=["sex", "age_at_start"], bootstrap_reps=199, seed=1)
    table = res.tidy()
    for code, rows in table.groupby(table["inference"].map(inference_code)):
        has_ci = rows[["conf_low", "conf_high"]].notna().all(axis=1)
        assert has_ci.all() if code != "wild_bootstrap" else not has_ci.any(), code
        assert rows["p_value"].notna().all()
    assert (
        table.loc[table["inference"].map(inference_code).eq("wild_bootstrap"), "inference"]
        .str.endswith("p-value only")
        .all()
    )
    header = res.summary().splitlines()
    line = next(x for x in header if "logit AME" in x and "HC3" in x)
    order = ["logit AME", "p (delta)", "LPM", "p (HC3)", "wild cluster bootstrap (no interval)"]
    positions = [line.find(o) for o in order]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), line


def test_separation_all_ones_level_is_merged_with_warning():
    data = simulated_participants(3)
    top = data["duration_band"].eq("5+")
    data.loc[top, "outcome"] = "ordinary_employment"  # every 5+ course ends in a job
    with pytest.warns(UserWarning, match="duration_band.*too small or too uniform") as caught:
        res = adjusted_differences(data, bootstrap_reps=0)
    # the note says the level could not be estimated, never which outcome it had
    for w in caught:
        assert "all outcomes" not in str(w.message) and "n = " not in str(w.message)
    fallback = res.fallbacks.set_index("term").loc["duration_band"]
    assert fallback["level"] == "5+" and "2-5|5+" in fallback["action"]
    terms = res.tidy()["term"]
    assert "duration_band[2-5|5+]" in set(terms) and "duration_band[5+]" not in set(terms)
    assert np.isfinite(res.tidy()[["estimate", "std_error"]].to_numpy()).all()
    assert "2-5|5+" in res.summary()


def test_separation_in_a_two_level_term_drops_it_from_both_models():
    data = simulated_participants(4)
    data.loc[data["origin_group"].eq("western"), "outcome"] = "ordinary_employment"
    with pytest.warns(UserWarning, match="origin_group") as caught:
        res = adjusted_differences(data, bootstrap_reps=0)
    assert any("dropped from both models" in str(w.message) for w in caught)
    assert not res.tidy()["term"].str.startswith("origin_group").any()
    assert "origin_group" not in res.logit_result.model.exog_names
    assert np.isfinite(res.tidy()["estimate"]).all()


def test_sparse_unordered_levels_pool_into_other():
    data = simulated_participants(5)
    data.loc[data.index[:4], "origin_region"] = "Oceania"
    data.loc[data.index[4:9], "origin_region"] = "Americas"
    with pytest.warns(UserWarning, match="origin_region"):
        res = adjusted_differences(data, terms=["origin_region", "sex"], bootstrap_reps=0)
    pooled = res.fallbacks.loc[res.fallbacks["action"].eq("pooled into 'other'"), "level"]
    assert set(pooled) == {"Americas", "Oceania"}
    assert any(t.startswith("origin_region[") and "other" in t for t in res.tidy()["term"])


def test_adjusted_differences_rejects_bad_options():
    data = simulated_participants(1, n=100)
    with pytest.raises(ValueError, match="`denominator` must be one of"):
        adjusted_differences(data, denominator="finished", bootstrap_reps=0)
    with pytest.raises(ValueError, match="does not vary"):
        adjusted_differences(data.assign(outcome="education"), bootstrap_reps=0)


# --- effect of participation on the participants (ATT) ---------------------------------------


@pytest.mark.parametrize("method", ["ipw", "aipw"])
@pytest.mark.parametrize("covariates", [NSW_COVARIATES, NSW_COVARIATES_SQ], ids=["lin", "sq"])
def test_lalonde_experimental_effects_are_covered(nsw, method, covariates):
    treated, control = nsw["treat"].eq(1), nsw["treat"].eq(0)
    assert (treated.sum(), control.sum()) == (185, 260)
    earnings_gap = nsw.loc[treated, "re78"].mean() - nsw.loc[control, "re78"].mean()
    assert earnings_gap == pytest.approx(1794, abs=1)  # Dehejia & Wahba (1999)
    employment_gap = nsw.loc[treated, "employed78"].mean() - nsw.loc[control, "employed78"].mean()
    assert employment_gap == pytest.approx(0.757 - 0.646, abs=0.002)
    for outcome, truth in (("re78", 1794), ("employed78", employment_gap)):
        row = (
            participation_effect(
                nsw, outcome=outcome, treatment="treat", covariates=covariates, method=method
            )
            .tidy()
            .iloc[0]
        )
        assert row["conf_low"] < truth < row["conf_high"], (outcome, row.to_dict())


def test_ipw_att_matches_statsmodels_treatment_effect(nsw):
    from statsmodels.treatment.treatment_effects import TreatmentEffect

    ours = participation_effect(
        nsw,
        outcome="re78",
        treatment="treat",
        covariates=NSW_COVARIATES_SQ,
        method="ipw",
        trim=None,
    )
    exog = sm.add_constant(nsw[NSW_COVARIATES_SQ])
    exog[NSW_COVARIATES_SQ] = (exog[NSW_COVARIATES_SQ] - exog[NSW_COVARIATES_SQ].mean()) / exog[
        NSW_COVARIATES_SQ
    ].std()
    select = sm.Logit(nsw["treat"], exog).fit(disp=0)
    teff = TreatmentEffect(sm.OLS(nsw["re78"], exog), nsw["treat"], results_select=select)
    theirs = teff.ipw(effect_group=1).summary_frame().loc["ATE"]  # effect_group=1: on the treated
    row = ours.tidy().iloc[0]
    assert row["estimate"] == pytest.approx(theirs["coef"], rel=1e-7)
    assert row["std_error"] == pytest.approx(theirs["std err"], rel=1e-5)


def _aipw_att_moments(theta, Z, d, y, k):
    """Stacked moments of the AIPW ATT written out independently (gamma, beta, tau, c)."""
    gamma, beta, tau, c = theta[:k], theta[k : 2 * k], theta[2 * k], theta[2 * k + 1]
    e = expit(Z @ gamma)
    r = y - Z @ beta
    v = d + (1 - d) * e / (1 - e)
    u = v * (r - tau * d - c)
    return np.column_stack([Z * (d - e)[:, None], Z * ((1 - d) * r)[:, None], u * d, u])


def test_aipw_att_against_an_independent_sandwich(nsw):
    ours = participation_effect(
        nsw, outcome="re78", treatment="treat", covariates=NSW_COVARIATES, method="aipw", trim=None
    )
    X = nsw[NSW_COVARIATES]
    Z = sm.add_constant((X - X.mean()) / X.std()).to_numpy()
    d, y, k = nsw["treat"].to_numpy(), nsw["re78"].to_numpy(), Z.shape[1]
    gamma = sm.Logit(d, Z).fit(disp=0).params
    beta = np.linalg.lstsq(Z[d == 0], y[d == 0], rcond=None)[0]
    e = expit(Z @ gamma)
    r = y - Z @ beta
    w = (1 - d) * e / (1 - e)
    c = (w * r).sum() / w.sum()
    tau = r[d == 1].mean() - c
    theta = np.concatenate([gamma, beta, [tau, c]])
    moments = _aipw_att_moments(theta, Z, d, y, k)
    assert np.abs(moments.mean(axis=0)).max() < 1e-6  # theta solves the equations
    jac = approx_fprime(
        theta, lambda t: _aipw_att_moments(t, Z, d, y, k).mean(axis=0), centered=True
    )
    inv = np.linalg.inv(jac)
    cov = inv @ (moments.T @ moments / len(y)) @ inv.T / len(y)
    row = ours.tidy().iloc[0]
    assert row["estimate"] == pytest.approx(tau, rel=1e-8)
    assert row["std_error"] == pytest.approx(math.sqrt(cov[2 * k, 2 * k]), rel=1e-4)


def _selection_on_observables(seed: int, n: int = 3000) -> tuple[pd.DataFrame, dict]:
    """Known heterogeneous effect; participation depends on x and group only."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b"], n)
    x = rng.normal(size=n)
    d = rng.random(n) < expit(-0.5 + 0.8 * x + 0.6 * (group == "b"))
    effect = 1.0 + 0.5 * x + 1.0 * (group == "b")
    y = 2.0 + 1.5 * x - 0.7 * (group == "b") + effect * d + rng.normal(size=n)
    frame = pd.DataFrame({"x": x, "group": group, "d": d.astype(int), "y": y})
    truth = {"ATT": effect[d].mean()}
    for g in ("a", "b"):
        truth[f"ATT[group={g}]"] = effect[d & (group == g)].mean()
    return frame, truth


@pytest.mark.parametrize("method", ["ipw", "aipw"])
def test_known_att_is_covered_overall_and_by_subgroup(method):
    frame, truth = _selection_on_observables(2024)
    table = (
        participation_effect(
            frame, outcome="y", treatment="d", covariates=["x", "group"], method=method, by="group"
        )
        .tidy()
        .set_index("term")
    )
    assert list(table.index) == ["ATT", "ATT[group=a]", "ATT[group=b]"]
    for term, value in truth.items():
        assert table.loc[term, "conf_low"] < value < table.loc[term, "conf_high"], term
    assert table.loc["ATT", "n"] == len(frame)
    assert table.loc["ATT[group=a]", "n"] + table.loc["ATT[group=b]", "n"] == len(frame)


def test_the_synthetic_selection_biases_the_raw_difference():
    # sanity check of the DGP: the raw difference is biased, the ATT is not
    frame, truth = _selection_on_observables(2024)
    raw = frame.loc[frame["d"].eq(1), "y"].mean() - frame.loc[frame["d"].eq(0), "y"].mean()
    assert abs(raw - truth["ATT"]) > 0.5


def test_tidy_shape_and_diagnostics(nsw):
    one = participation_effect(nsw, outcome="re78", treatment="treat", covariates=NSW_COVARIATES)
    extra = ("n_treated", "n_comparison", "mean_treated", "mean_counterfactual")
    assert tuple(one.tidy().columns) == (*TIDY_COLUMNS, *extra)
    assert len(one.tidy()) == 1 and one.tidy()["term"].iloc[0] == "ATT"
    # the effect table carries its means and counts (NSW: 185 treated, 260 controls)
    row = one.tidy().iloc[0]
    assert (row["n_treated"], row["n_comparison"]) == (185, 260)
    assert row["mean_treated"] == pytest.approx(nsw.loc[nsw["treat"].eq(1), "re78"].mean())
    assert row["mean_treated"] - row["mean_counterfactual"] == pytest.approx(row["estimate"])
    assert one.att() == one.tidy()["estimate"].iloc[0]
    by = participation_effect(
        nsw, outcome="re78", treatment="treat", covariates=NSW_COVARIATES, by="black"
    )
    assert by.tidy()["term"].tolist() == ["ATT", "ATT[black=0.0]", "ATT[black=1.0]"]
    assert by.tidy()["estimate"].iloc[0] == pytest.approx(one.att())
    assert set(by.tidy()["inference"]) == {INFERENCE["att_sandwich"]}
    # balance: SMD with the pooled unweighted SD, before and after weighting
    bal = one.balance.set_index("covariate")
    t, c = nsw["treat"].eq(1), nsw["treat"].eq(0)
    sd = math.sqrt((nsw.loc[t, "re75"].var() + nsw.loc[c, "re75"].var()) / 2)
    smd = (nsw.loc[t, "re75"].mean() - nsw.loc[c, "re75"].mean()) / sd
    assert bal.loc["re75", "smd_before"] == pytest.approx(smd)
    assert list(bal.index) == NSW_COVARIATES
    assert bal["smd_after"].abs().max() < 0.1
    assert one.overlap.loc["participants", "n"] == 185
    assert one.overlap.loc["comparison", "excluded"] == 0
    assert "[0.01, 0.99]" in one.trim_rule
    assert not one.weights["flagged"]
    text = one.summary()
    assert "ATT" in text and "sandwich" in text and "SMD" in text


def test_participation_effect_rejects_bad_options(nsw):
    with pytest.raises(ValueError, match="`method` must be one of \\('ipw', 'aipw'\\)"):
        participation_effect(
            nsw, outcome="re78", treatment="treat", covariates=["age"], method="psm"
        )
    with pytest.raises(ValueError, match="must be 0/1"):
        participation_effect(
            nsw.assign(treat=1.0), outcome="re78", treatment="treat", covariates=["age"]
        )
    with pytest.raises(ValueError, match="`trim`"):
        participation_effect(nsw, outcome="re78", treatment="treat", covariates=["age"], trim=0.7)


def test_stack_comparison_feeds_participation_effect(courses):
    rng = np.random.default_rng(99)
    participants = courses.loc[courses["start_date"] <= "2009-06-30"]
    comparison = _people(rng, 800).rename(columns={"age_at_start": "age"})
    comparison["outcome"] = rng.choice(
        ["ordinary_employment", "still_on_benefit"], 800, p=[0.25, 0.75]
    )
    data = stack_comparison(participants, comparison)
    assert len(data) == 313 + 800
    assert data["participant"].sum() == 313
    assert data.loc[data["participant"].eq(1), "ordinary"].sum() == 119
    res = participation_effect(
        data,
        outcome="ordinary",
        treatment="participant",
        method="ipw",
        by="duration_band",
        covariates=["sex", "origin_group", "duration_band", "age_at_start"],
    )
    terms = res.tidy()["term"].tolist()
    assert terms[0] == "ATT" and terms[1:] == [f"ATT[duration_band={b}]" for b in BANDS.categories]
    assert "duration_band[5+]" in set(res.balance["covariate"])


def test_lalonde_cps_comparison_is_reported(nsw):
    """Non-experimental comparison (CPS-1): reported, not asserted tightly.

    Values when written: IPW 1823 [275, 3372], AIPW 1602 [78, 3127]; 9 participants and
    14,680 CPS persons outside [0.01, 0.99].
    """
    from causaldata import cps_mixtape

    cps = cps_mixtape.load_pandas().data.drop(columns="data_id").astype("float64")
    for c in ("age", "educ", "re74", "re75"):
        cps[f"{c}_sq"] = cps[c] ** 2
    cps["employed78"] = (cps["re78"] > 0).astype("float64")
    data = pd.concat([nsw.loc[nsw["treat"].eq(1)], cps], ignore_index=True)
    data["u74"], data["u75"] = data["re74"].eq(0).astype(float), data["re75"].eq(0).astype(float)
    rows = {}
    for method in ("ipw", "aipw"):
        with pytest.warns(UserWarning, match="participants are excluded by trimming"):
            res = participation_effect(
                data,
                outcome="re78",
                treatment="treat",
                method=method,
                covariates=[*NSW_COVARIATES_SQ, "u74", "u75"],
            )
        rows[method] = res.tidy().iloc[0]
        assert res.overlap.loc["comparison", "excluded"] > 10_000  # trimmed, and said so
        assert res.overlap.loc["participants", "excluded"] > 0  # the ATT is on the rest
    print(
        {
            m: (round(r["estimate"]), round(r["conf_low"]), round(r["conf_high"]))
            for m, r in rows.items()
        }
    )
    assert all(abs(r["estimate"] - 1794) < 2500 for r in rows.values())


def _with_running(courses: pd.DataFrame, n: int, seed: int = 5) -> pd.DataFrame:
    """``courses`` plus ``n`` courses still running (copies of random rows, outcome unknown)."""
    extra = courses.sample(n, random_state=seed).copy()
    extra["status"], extra["outcome"] = "ongoing", "unknown"
    if "end_date" in extra:
        extra["end_date"] = pd.NaT
    return pd.concat([courses, extra], ignore_index=True)


def test_running_courses_change_no_rate(courses):
    """Follow-up: a period with running courses gives the same rates as without them."""
    method = courses.loc[courses["start_date"] <= "2009-06-30"].reset_index(drop=True)
    more = _with_running(method, 60)
    for by, outcome, denominator in [
        ("sex", "employed", "all"),
        ("duration_band", "ordinary", "completed"),
        (["sex", "duration_band"], "employed", "all"),
    ]:
        pd.testing.assert_frame_equal(
            rates(more, by=by, outcome=outcome, denominator=denominator),
            rates(method, by=by, outcome=outcome, denominator=denominator),
        )
    a, b = headline(method).set_index("figure"), headline(more).set_index("figure")
    assert b.loc["running courses", "numerator"] == 60
    assert b.loc["courses", "numerator"] == 313 + 60
    rate_rows = ["ordinary employment / ended courses", "employment / completed courses"]
    pd.testing.assert_frame_equal(a.loc[rate_rows], b.loc[rate_rows])


def test_a_course_ending_after_the_data_date_is_running():
    df = pd.DataFrame(
        {
            "status": ["completed", "completed", "dropped_out"],
            "outcome": ["ordinary_employment"] * 2 + ["dropped_out"],
            "start_date": pd.to_datetime(["2010-01-01"] * 3),
            "end_date": pd.to_datetime(["2010-05-01", "2010-09-01", "2010-02-01"]),
        }
    )
    out = derive_outcomes(follow_up(df, "2010-06-30"))
    assert out["ended"].tolist() == [1, 0, 1]
    assert out["employed"].tolist() == [1, 0, 0]
