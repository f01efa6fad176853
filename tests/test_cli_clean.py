"""`vip2 clean` as a real subprocess: outputs, accounting, exit codes, atomicity, privacy."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from vip2analysis.contract import CPR_LIKE


def _vip2(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "vip2analysis", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
    )


@pytest.fixture(scope="module")
def cleaned(synthetic_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("processed")
    res = _vip2("clean", "--raw", synthetic_dir, "--out", out)
    assert res.returncode == 0, res.stderr
    return out, res


def test_writes_every_output(cleaned):
    out, res = cleaned
    for name in (
        "courses.parquet",
        "register.parquet",
        "register_outcomes.parquet",
        "comparison_register.parquet",
        "ambassadors.parquet",
        "activities.parquet",
        "rejects.csv",
        "duplicates.csv",
        "accounting.json",
    ):
        assert (out / name).is_file(), name
    assert "Rejected rows by reason" in res.stdout and "total" in res.stdout
    acc = json.loads((out / "accounting.json").read_text())
    assert acc["synthetic"] is True and acc["total"]["balanced"] is True
    assert (
        acc["total"]["raw_rows"]
        == acc["total"]["clean_rows"]
        + acc["total"]["rejected_rows"]
        + acc["total"]["duplicate_rows"]
    )
    courses = pd.read_parquet(out / "courses.parquet")
    assert len(courses) == 411 and "cpr" not in courses.columns


def test_no_cpr_pattern_in_any_output(cleaned):
    out, _ = cleaned
    for path in out.iterdir():
        if path.suffix == ".parquet":
            text = pd.read_parquet(path).astype("string").to_csv(index=False)
        else:
            text = path.read_text(encoding="utf-8")
        assert not pd.Series([text]).str.contains(CPR_LIKE).iloc[0], path.name


def test_real_data_without_key_is_refused(synthetic_dir, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(synthetic_dir / "gladsaxe.csv", raw / "gladsaxe.csv")  # no SYNTHETIC.json
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("VIP2_")}
    res = _vip2("clean", "--raw", raw, "--out", tmp_path / "out", env=env)
    assert res.returncode == 2
    assert "No pseudonymisation key" in res.stderr and "--key-file" in res.stderr
    key = tmp_path / "k.key"
    key.write_text("a-real-secret-key-of-the-evaluator\n")
    ok = _vip2("clean", "--raw", raw, "--out", tmp_path / "out", "--key-file", key, env=env)
    assert ok.returncode == 0, ok.stderr


def test_copy_of_synthetic_folder_is_accepted_with_demo_key(synthetic_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(synthetic_dir, copy)
    assert _vip2("clean", "--raw", copy, "--out", tmp_path / "out").returncode == 0


def test_fatal_problems_exit_non_zero_and_keep_previous_output(cleaned, tmp_path):
    out, _ = cleaned
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    empty = tmp_path / "empty"
    empty.mkdir()
    res = _vip2("clean", "--raw", empty, "--out", out)
    assert res.returncode == 2 and "no input files" in res.stderr
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "SYNTHETIC.json").write_text('{"synthetic": true, "pseudonym_key": "vip2-demo-2026"}')
    (bad / "x.csv").write_text(
        "CPR;Kommune;Jobpakke;Startdato\n010180-1234;Aarhus;Lager;01-01-2008\n"
    )
    res = _vip2("clean", "--raw", bad, "--out", out)
    assert res.returncode == 2
    assert "x.csv" in res.stderr and "`end_date`" in res.stderr and "'Slutdato'" in res.stderr
    assert "Traceback" not in res.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    res = _vip2("clean", "--raw", tmp_path / "nope", "--out", out)
    assert res.returncode == 2 and "no such folder" in res.stderr
