"""The synthetic VIP2 set: calibration, determinism, faults in place, true effects."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from vip2analysis.io import compare_folders
from vip2analysis.synth import MODEL, calibration_counts, make_synthetic, write_synthetic
from vip2analysis.synth.render import _FORMATS

EMPLOYED = {"ordinary_employment", "subsidised_employment"}


@pytest.fixture(scope="module")
def synth():
    return make_synthetic()


@pytest.fixture(scope="module")
def truth_json(synthetic_dir):
    return json.loads((synthetic_dir / "truth" / "truth.json").read_text(encoding="utf-8"))


def test_method_period_is_calibrated_exactly(synth):
    method = synth.truth[synth.truth["period"] == "method"]
    completed = method[method["status"] == "completed"]
    assert len(method) == 313
    assert (method["outcome"] == "ordinary_employment").sum() == 119
    assert round(100 * 119 / 313) == 38
    assert round(100 * completed["outcome"].isin(EMPLOYED).mean()) == 55
    # ordinary employment only after a completed course in this set
    assert method.loc[method["status"] != "completed", "outcome"].isin(EMPLOYED).sum() == 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_calibration_holds_for_any_seed(seed):
    method = make_synthetic(seed=seed, comparison=50).truth.query("period == 'method'")
    assert (method["outcome"] == "ordinary_employment").sum() == 119
    done = method[method["status"] == "completed"]
    assert round(100 * done["outcome"].isin(EMPLOYED).mean()) == 55


def test_truth_file_states_the_counts_chosen(synth, truth_json):
    counts = truth_json["calibration_counts_method_period"]
    assert counts == calibration_counts(313)
    method = synth.truth[synth.truth["period"] == "method"]
    assert counts["completed"] == (method["status"] == "completed").sum()
    assert counts["dropped_out"] == (method["status"] == "dropped_out").sum()
    assert counts["ongoing"] == (method["status"] == "ongoing").sum()
    assert counts["subsidised_employment"] == (method["outcome"] == "subsidised_employment").sum()
    assert counts["education"] == (method["outcome"] == "education").sum()
    assert set(truth_json["assumed_shares"]) >= {"female", "years_without_activation"}


def test_every_period_has_its_own_cohort(synth):
    assert set(synth.truth["period"]) == {"method", "extension1", "extension2"}


def test_participants_are_as_the_report_describes(synth):
    t = synth.truth
    assert (~t["work_ready"]).all()
    cat = t["match_system"] == "category"
    assert t.loc[cat, "match_code"].isin([4, 5]).all()
    assert t.loc[~cat, "match_code"].isin([2, 3]).all()
    assert (t["origin_group"] == "non_western").all()
    assert set(t["residence_basis"]) == {"refugee", "family_reunified"}
    assert 0.7 < (t["sex"] == "F").mean() < 0.86
    years = t["years_without_activation"]
    assert 2.5 < years.median() < 3.6 and years.max() > 10
    assert t["country_of_origin"].nunique() >= 10
    assert set(t["job_package_group"]) == {"original", "vip2"}


def test_dissemination_matches_report(synth):
    amb = synth.ambassadors
    assert len(amb) == 130
    assert (amb["certified_date"] < "2009-12-15").sum() == 70
    new = amb[amb["certified_date"] >= "2009-12-15"]
    assert sorted(new["certified_date"].dt.strftime("%d-%m-%Y").unique()) == [
        "15-04-2010",
        "15-06-2010",
        "26-01-2010",
    ]
    assert set(new["course"]) == {"Kolding", "Herning", "København"}
    assert amb["region"].nunique() == 5
    act = synth.activities
    news = act[act["kind"] == "newsletter"]
    assert len(news) == 14
    assert (news["date"] >= "2009-11-01").sum() == 5
    assert round(news["recipients"].iloc[-1], -2) == 2700
    dated = set(act["date"].dt.strftime("%Y-%m-%d"))
    assert {"2010-01-21", "2010-04-14", "2010-04-19", "2010-05-31", "2010-02-25"} <= dated


def test_committed_copy_equals_regeneration(synthetic_dir, tmp_path):
    write_synthetic(tmp_path / "a")
    assert compare_folders(synthetic_dir, tmp_path / "a") == []


def test_determinism_two_runs_same_bytes(tmp_path):
    write_synthetic(tmp_path / "a", seed=7, comparison=30)
    write_synthetic(tmp_path / "b", seed=7, comparison=30)
    assert compare_folders(tmp_path / "a", tmp_path / "b") == []
    write_synthetic(tmp_path / "c", seed=8, comparison=30)
    assert compare_folders(tmp_path / "a", tmp_path / "c") != []


def test_folder_declares_itself_synthetic(synthetic_dir):
    marker = json.loads((synthetic_dir / "SYNTHETIC.json").read_text(encoding="utf-8"))
    assert marker["synthetic"] is True and marker["pseudonym_key"] == "vip2-demo-2026"
    assert "synthetic" in (synthetic_dir / "README.md").read_text(encoding="utf-8").lower()


def _raw_rows(path) -> tuple[list[str], dict[int, list]]:
    """Header and rows by the row number a person sees (Excel row / text line)."""
    fmt = next(f for f in _FORMATS.values() if f.file == path.name)
    first = len(fmt.title_rows) + 1
    if path.suffix == ".xlsx":
        ws = load_workbook(path).active
        rows = {i: list(r) for i, r in enumerate(ws.iter_rows(values_only=True), start=1)}
    else:
        text = path.read_bytes().decode(fmt.encoding)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=fmt.delimiter)
        rows = dict(enumerate(reader, start=1))
    header = rows[first]
    return header, {n: r for n, r in rows.items() if n > first}


def _blank(row) -> bool:
    return all(v in (None, "") for v in row)


def test_every_fault_is_in_the_raw_files_at_its_place(synth, synthetic_dir):
    faults = pd.read_csv(synthetic_dir / "truth" / "faults.csv", keep_default_na=False)
    assert len(faults) == len(synth.faults) > 0
    assert set(faults["kind"]) == {
        "exact_duplicate",
        "conflicting_duplicate",
        "cpr_date",
        "date_unparseable",
        "end_before_start",
        "unknown_job_package",
        "sex_cpr_conflict",
        "blank_row",
        "municipality_variant",
        "sex_missing",
    }
    for file, group in faults.groupby("file"):
        fmt = next(f for f in _FORMATS.values() if f.file == file)
        header, rows = _raw_rows(synthetic_dir / file)
        col = {c: header.index(h) for c, h in fmt.headers.items()}
        for f in group.itertuples():
            row = rows[f.row]
            if f.kind == "blank_row":
                assert _blank(row), (file, f.row)
                continue
            if f.column:
                cell = row[col[f.column]]
                assert ("" if cell is None else str(cell)) == f.raw_value, (file, f.row, f.kind)
            key = (row[col["cpr"]], row[col["start_date"]])
            same = [
                n
                for n, r in rows.items()
                if not _blank(r) and (r[col["cpr"]], r[col["start_date"]]) == key
            ]
            if f.kind == "exact_duplicate":
                assert any(n < f.row and rows[n] == row for n in same), (file, f.row)
            elif f.kind == "conflicting_duplicate":
                assert any(rows[n] != row for n in same if n != f.row), (file, f.row)
            else:
                assert same == [f.row]


def test_faulty_extra_rows_are_not_courses_of_the_truth(synth):
    rejected = synth.faults[synth.faults["action"] != "repair"]
    truth_rows = set(zip(synth.truth["source_file"], synth.truth["source_row"], strict=True))
    assert not truth_rows & set(zip(rejected["file"], rejected["row"], strict=True))
    repaired = synth.faults[synth.faults["action"] == "repair"]
    assert set(zip(repaired["file"], repaired["row"], strict=True)) <= truth_rows


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_true_att_matches_the_generator_model(synth, truth_json):
    """Recompute the true ATT from the truth table and the model coefficients alone."""
    t = synth.truth[synth.truth["period"] == "method"]
    coef = truth_json["outcome_model"]["no_participation"]
    emp = truth_json["outcome_model"]["employment"]
    eta = (
        coef["intercept"]
        + coef["female"] * (t["sex"] == "F")
        + coef["log1p_years_without_activation"] * np.log1p(t["years_without_activation"])
        + coef["age_minus_40"] * (t["age_at_start"].astype(float) - 40)
        + t["origin_region"].map(emp["origin_region"])
        + t["municipality"].map(emp["municipality"])
    )
    effect = t["outcome"].isin(EMPLOYED).astype(float) - _sigmoid(eta)
    att = truth_json["true_att_employment_method_period"]
    assert att["overall"] == pytest.approx(effect.mean(), abs=1e-6)
    for col in ("sex", "duration_band"):
        by = effect.groupby(t[col].astype(str)).mean()
        for level, value in att[col].items():
            assert value["att"] == pytest.approx(by[level], abs=1e-6)
    assert truth_json["outcome_model"] == json.loads(json.dumps(MODEL))


def test_comparison_group_is_selected_on_observables(synth):
    comp, t = synth.comparison, synth.truth
    assert len(comp) == 3 * 313
    assert (comp["sex"] == "F").mean() < (t["sex"] == "F").mean() - 0.15
    assert comp["years_without_activation"].median() < t["years_without_activation"].median()
    assert not set(comp["person_id"]) & set(t["person_id"])
