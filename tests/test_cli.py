"""The command line, run as a real subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys


def _vip2(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "vip2analysis", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
    )


def test_help_lists_commands():
    res = _vip2("--help")
    assert res.returncode == 0
    for cmd in ("periods", "synth"):
        assert cmd in res.stdout


def test_synth_check_accepts_committed_copy(synthetic_dir):
    res = _vip2("synth", "--check", synthetic_dir)
    assert res.returncode == 0, res.stderr
    assert "identical" in res.stdout


def test_synth_check_reports_a_changed_file(synthetic_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(synthetic_dir, copy)
    (copy / "gladsaxe.csv").write_bytes(b"changed")
    res = _vip2("synth", "--check", copy)
    assert res.returncode == 1
    assert "differs: gladsaxe.csv" in res.stderr


def test_synth_usage_errors_are_clear(tmp_path):
    res = _vip2("synth", "--check", tmp_path / "nope")
    assert res.returncode == 2 and "no such folder" in res.stderr
    res = _vip2("synth")
    assert res.returncode == 2 and "exactly one of --out DIR or --check DIR" in res.stderr
    assert "Traceback" not in res.stderr


def test_synth_writes_small_set(tmp_path):
    res = _vip2("synth", "--out", tmp_path / "s", "--courses", 40, "--comparison", 20)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "s" / "SYNTHETIC.json").is_file()
    assert "Synthetic data" in res.stdout


def test_build_help_lists_periods_notebooks_and_parameter_values(repo_root):
    res = subprocess.run(
        [sys.executable, "-m", "vip2analysis", "build", "--help"],
        capture_output=True,
        text=True,
        cwd=repo_root,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert res.returncode == 0, res.stderr
    text = " ".join(res.stdout.split())
    for period in ("method", "extension1", "extension2", "all"):
        assert period in text
    for notebook in ("01_data_quality", "04_effects", "05_dissemination"):
        assert notebook in text
    assert "lang: da or en" in text and "min_cell: a whole number of at least 2" in text
    assert (
        "effect_by: comma-separated, from sex, origin_group, origin_region, "
        "duration_band_register" in text
    )
    assert "output_dir" not in text.split("Parameters (--param NAME=VALUE):")[1]
