"""The register's effect against the synthetic truth, and the register against the courses.

The synthetic DREAM histories come from a model with a known true ATT on
``employment_share_52`` (``truth/truth.json``, ``register``). The estimator the effect
notebook uses (risk-set sample, AIPW, errors clustered by person) must cover it overall
and by sex; the register must hold every clean course's person, and agree with the course
files where the report's figures need it.
"""

from __future__ import annotations

import json

import pytest

from vip2analysis.contract.periods import load_periods, select_period
from vip2analysis.io import load_processed
from vip2analysis.stats import participation_effect, register_sample

COVARIATES = (
    "sex",
    "age",
    "origin_region",
    "municipality",
    "weeks_without_activation",
    "weeks_support_104",
    "half_year",
)


@pytest.fixture(scope="module")
def truth(synthetic_dir):
    return json.loads((synthetic_dir / "truth" / "truth.json").read_text())["register"]


@pytest.fixture(scope="module")
def method_effect(processed_dir):
    data = load_processed(processed_dir)
    courses = select_period(data.courses, period="method", config=load_periods())
    sample = register_sample(courses, data.register_outcomes, data.comparison_register)
    effect = participation_effect(
        sample,
        outcome="employment_share_52",
        treatment="participant",
        covariates=COVARIATES,
        method="aipw",
        by=["sex", "duration_band_register"],
        cluster="person_id",
    )
    return effect.tidy().set_index("term")


def test_every_clean_course_is_found_in_the_register(processed_dir):
    data = load_processed(processed_dir)
    outcomes = data.register_outcomes
    assert len(outcomes) == len(data.courses)
    assert outcomes["in_register"].all()
    assert data.accounting["register"]["courses_in_register"] == len(data.courses)
    acc = {f["file"]: f for f in data.accounting["files"]}
    extract = acc["dream_extract.csv.gz"]
    assert (
        extract["raw_rows"]
        == extract["clean_rows"] + extract["rejected_rows"] + extract["duplicate_rows"]
    )


def test_the_report_figures_still_come_from_the_course_files(processed_dir):
    data = load_processed(processed_dir)
    method = select_period(data.courses, period="method", config=load_periods())
    assert len(method) == 313
    assert int((method["outcome"] == "ordinary_employment").sum()) == 119


def test_the_att_interval_covers_the_true_effect_overall_and_by_sex(method_effect, truth):
    true = truth["true_att"]["method"]
    rows = {"ATT": true["overall"]}
    rows |= {f"ATT[sex={k}]": v["att"] for k, v in true["sex"].items()}
    for term, value in rows.items():
        row = method_effect.loc[term]
        assert row["conf_low"] <= value <= row["conf_high"], (term, value, row.to_dict())


def test_the_estimate_uses_every_method_participant(method_effect, truth):
    assert method_effect.loc["ATT", "n_treated"] == truth["true_att"]["method"]["n"] == 313
    assert method_effect.loc["ATT", "inference"].endswith("clustered by person")


def test_register_and_course_file_disagree_in_the_documented_share(processed_dir, truth):
    data = load_processed(processed_dir)
    merged = data.courses.merge(data.register_outcomes, on=["person_id", "start_date"])
    agree = (
        merged["duration_band"].astype(str) == merged["duration_band_register"].astype(str)
    ).mean()
    # the generator's share, measured on its own durations; the register measure adds the
    # extract's start and gap weeks, so allow a few points
    assert abs(agree - truth["register_band_agrees_with_reported"]) < 0.08
    ordinary = merged.loc[merged["outcome"] == "ordinary_employment", "employed_13_after_end"]
    assert 0.75 < ordinary.mean() < 0.95  # mostly a job 13 weeks after, not always
    benefit = merged.loc[merged["outcome"] == "still_on_benefit", "employed_13_after_end"]
    assert 0.02 < benefit.mean() < 0.35  # some have a job the caseworker did not record


def test_the_readmes_dream_snippet_runs(repo_root, synthetic_dir, tmp_path, monkeypatch):
    """The README's DREAM section, rerun on the synthetic course files and extract (without
    the synthetic marker, so a key file is needed as with real data)."""
    import re
    import shutil

    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    block = re.search(
        r"```python\n(import vip2analysis as v2\n\nresult = v2.clean_and.*?)```", readme, re.S
    )
    assert block, "the README shows how a researcher cleans a DREAM extract"
    raw = tmp_path / "raw"
    raw.mkdir()
    for path in synthetic_dir.iterdir():
        if path.is_file() and path.suffix in (".csv", ".xlsx", ".gz"):
            shutil.copy(path, raw / path.name)
    key = tmp_path / "vip2.key"
    key.write_text("a key that is long enough\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(
        compile(block.group(1).replace("/secure/place/vip2.key", str(key)), "README", "exec"), scope
    )
    assert scope["outcomes"]["in_register"].all()
    assert len(scope["k52"]) == len(scope["data"].courses)
    # a longer gap never shortens a spell
    assert (
        scope["k52"]["weeks_public_support"].to_numpy()
        >= scope["outcomes"]["weeks_public_support"].to_numpy()
    ).all()


def test_clustered_errors_reduce_to_the_row_sandwich_and_survive_duplication():
    """Independent checks of the person-clustered sandwich: with one row per cluster it is
    the row-level sandwich; when every row appears twice in its own cluster (a comparison
    person drawn at two start weeks with the same data), the estimate and its standard
    error equal those of the data without the copies."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(3)
    n = 600
    x = rng.normal(size=n)
    d = rng.binomial(1, 1 / (1 + np.exp(0.5 - x)))
    y = 0.3 * x + 0.2 * d + rng.normal(scale=0.5, size=n)
    frame = pd.DataFrame({"x": x, "d": d, "y": y, "id": np.arange(n)})
    kw = {"outcome": "y", "treatment": "d", "covariates": ["x"], "trim": None}
    plain = participation_effect(frame, **kw).tidy()
    own = participation_effect(frame, cluster="id", **kw).tidy()
    assert np.allclose(own["std_error"], plain["std_error"], rtol=1e-10)
    twice = pd.concat([frame, frame], ignore_index=True)
    doubled = participation_effect(twice, cluster="id", **kw).tidy()
    assert np.allclose(doubled["estimate"], plain["estimate"], rtol=1e-10)
    assert np.allclose(doubled["std_error"], plain["std_error"], rtol=1e-8)
    naive = participation_effect(twice, **kw).tidy()  # copies taken as independent
    assert (naive["std_error"] < 0.75 * plain["std_error"]).all()


def test_the_lock_in_profile_counts_by_hand():
    """Two participants and two weighted comparison persons, weeks t0-1..t0+2."""
    import numpy as np
    import pandas as pd

    from vip2analysis.contract.dream import Week, WeeklyPanel, iso_weeks
    from vip2analysis.register import lock_in

    weeks = iso_weeks(Week(2010, 1), Week(2010, 8))  # Jan-Feb 2010, one branche month each
    codes = np.array(
        [
            [730, 730, 737, 737, 0, 0, 0, 0],  # participant: course, then a job
            [730, 730, 737, 730, 730, 730, 730, 730],
            [730, 730, 730, 0, 0, 0, 0, 0],  # comparison, weight 3: a job from week 4
            [0, 730, 730, 730, 730, 730, 730, 730],  # comparison, weight 1
        ],
        dtype=np.int16,
    )
    branche = np.array([[0, 1], [0, 0], [1, 1], [1, 0]], dtype=np.uint8)
    persons = pd.DataFrame({"person_id": ["a", "b", "c", "d"]})
    panel = WeeklyPanel(persons, codes, weeks, branche, [(2010, 1), (2010, 2)])
    t0 = pd.Timestamp(weeks[2].monday)
    sample = pd.DataFrame(
        {"person_id": ["a", "b", "c", "d"], "t0": [t0] * 4, "participant": [1, 1, 0, 0]}
    )
    weight = pd.Series([1.0, 1.0, 3.0, 1.0])
    out = lock_in(panel, sample, weight=weight, before=2, after=3).set_index(["group", "week"])
    # week t0+2 is 2010W05 (Thursday 4 February): February has employment information
    assert out.loc[("participants", 2), "employed"] == 1  # a's job; b on benefit
    assert out.loc[("participants", 2), "rate"] == 0.5
    assert out.loc[("comparison", 2), "rate"] == 0.75  # c (weight 3) employed, d not
    assert out.loc[("comparison", -2), "rate"] == 0.25  # week 1: d blank with a job in January
    assert np.isclose(out.loc[("comparison", 2), "n_effective"], 16 / 10)
