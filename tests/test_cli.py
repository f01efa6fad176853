"""The command line, run as a real subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest


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


_CONSOLE = """
import atexit, sys, threading, time
from vip2analysis.__main__ import run

def late():
    time.sleep(0.3)
    print("thread finished", flush=True)

atexit.register(lambda: print("exit handler ran"))
threading.Thread(target=late).start()
sys.argv = ["vip2", *sys.argv[1:]]
run()
"""


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [(["--help"], 0, "Usage"), (["clean", "--raw", "/no/such/folder"], 2, "error")],
)
def test_the_console_command_ends_with_its_code_after_pythons_exit_work(args, code, says):
    # the console command ends the process itself (see vip2analysis.__main__._leave):
    # running threads are waited for, exit handlers run, output is flushed, the code kept
    done = subprocess.run(
        [sys.executable, "-c", _CONSOLE, *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == code, done.stderr
    assert says in done.stdout + done.stderr
    assert done.stdout.index("thread finished") < done.stdout.index("exit handler ran")
