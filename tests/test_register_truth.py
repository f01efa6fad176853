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
