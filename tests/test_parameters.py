"""Notebook parameters are checked before any kernel starts: names, types, values, ranges,
and the parameters the build sets itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from vip2analysis import notebook
from vip2analysis.build import plan_jobs
from vip2analysis.build import runner as build_runner
from vip2analysis.build.params import batch_notebooks
from vip2analysis.contract.parameters import BUILD_SET, check_parameter, parse_effect_by
from vip2analysis.errors import ParameterError

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
TEMPLATES = batch_notebooks(NOTEBOOKS)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"lang": "de"}, r"parameter `lang` = 'de' must be one of da, en"),
        ({"min_cell": 0}, r"parameter `min_cell` = 0 must be a whole number of at least 2"),
        ({"min_cell": 1}, r"`min_cell` = 1 must be a whole number of at least 2"),
        ({"bootstrap_reps": -5}, r"`bootstrap_reps` = -5 must be a whole number from 0"),
        ({"effect_by": "sex,colour"}, r"`effect_by` = 'sex,colour'.*allowed: sex, origin_group"),
    ],
)
def test_bad_values_are_refused_when_planning(tmp_path, extra, message):
    with pytest.raises(ParameterError, match=message):
        plan_jobs(TEMPLATES, ["method"], processed=tmp_path, out=tmp_path, extra=extra)


@pytest.mark.parametrize("name", sorted(BUILD_SET))
def test_parameters_the_build_sets_are_refused_with_the_flag_to_use(tmp_path, name):
    with pytest.raises(ParameterError) as err:
        plan_jobs(TEMPLATES, ["method"], processed=tmp_path, out=tmp_path, extra={name: "x"})
    assert f"--param {name}=... is set by the build itself; use {BUILD_SET[name]}" in str(err.value)


def test_good_values_pass():
    for name, value in [("lang", "en"), ("min_cell", 2), ("min_cell", 11), ("bootstrap_reps", 0)]:
        check_parameter(name, value)
    assert parse_effect_by("") == ()
    assert parse_effect_by("origin_group") == ("origin_group",)


def test_no_kernel_starts_for_a_refused_parameter(tmp_path, processed_dir, monkeypatch):
    def no_kernels(*args, **kwargs):
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(build_runner, "_execute", no_kernels)
    for extra in ({"lang": "de"}, {"min_cell": 0}, {"period": "extension2"}):
        with pytest.raises(ParameterError):
            build_runner.build(
                notebooks_dir=NOTEBOOKS, processed=processed_dir, out=tmp_path / "o", extra=extra
            )
    assert not (tmp_path / "o" / "index.html").exists()


def test_cli_names_the_flag_and_exits_2(tmp_path, processed_dir):
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "vip2analysis",
            "build",
            "--processed",
            str(processed_dir),
            "--out",
            str(tmp_path / "o"),
            "--notebooks-dir",
            str(NOTEBOOKS),
            "--param",
            "output_dir=/tmp/elsewhere",
        ],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2
    assert "use --out instead" in res.stderr
    assert "queued" not in res.stderr


def test_notebook_start_checks_the_same_rules(processed_dir, tmp_path):
    with pytest.raises(ParameterError, match="`lang` = 'de'"):
        notebook.start(
            period="method", processed_dir=processed_dir, output_dir=tmp_path, lang="de", show=False
        )
    with pytest.raises(ParameterError, match="`min_cell` = 0"):
        notebook.start(
            period="method",
            processed_dir=processed_dir,
            output_dir=tmp_path,
            min_cell=0,
            show=False,
        )
