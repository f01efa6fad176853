"""The package installs into someone else's environment: core only, no Jupyter, no plotting.

A fresh virtual environment gets ``pip install <project>`` without extras (constrained to
requirements.lock, so the versions are the tested ones). A non-editable install proves that
the package data (``vip2analysis/contract/data/*``) ships, and the researcher path runs on
the bundled synthetic data with nothing but the core dependencies.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

SCRIPT = textwrap.dedent(
    """
    import importlib.util
    import sys
    from pathlib import Path

    import vip2analysis
    from vip2analysis import clean_tables, find_raw_files, rates, read_file, resolve_key

    venv = Path(sys.argv[1]).resolve()
    home = Path(vip2analysis.__file__).resolve()
    assert venv in home.parents, f"vip2analysis imported from {home}, not from {venv}"
    assert callable(clean_tables) and callable(read_file) and callable(rates)

    absent = ["matplotlib", "papermill", "jupyterlab", "typer", "IPython", "dask", "distributed"]
    present = [m for m in absent if importlib.util.find_spec(m) is not None]
    assert not present, f"the core install pulled in {present}"

    folder = Path(sys.argv[2])
    tables = [read_file(p) for p in find_raw_files(folder)]
    key = resolve_key(allow_demo=True)
    result = clean_tables(tables, key=key)
    assert len(result.courses) > 0, "no clean course rows"
    unbalanced = result.accounting[~result.accounting["balanced"]]
    assert unbalanced.empty, f"accounting does not balance:\\n{unbalanced}"

    from vip2analysis.engine import DaskEngine, EngineError
    try:  # the Dask engine is an extra: asking for it says how to get it
        DaskEngine()
    except EngineError as exc:
        assert "pip install 'vip2analysis[dask]'" in str(exc), str(exc)
    else:
        raise AssertionError("the Dask engine started without the dask extra")
    print(f"ok: {len(tables)} files, {len(result.courses)} course rows")
    """
)


def _run(args, **kwargs) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)
    except subprocess.CalledProcessError as exc:
        pytest.fail(
            f"{' '.join(map(str, args))} failed ({exc.returncode})\n"
            f"--- stdout ---\n{exc.stdout}\n--- stderr ---\n{exc.stderr}"
        )


@pytest.mark.slow
def test_core_install_without_extras_runs_the_researcher_path(repo_root, synthetic_dir, tmp_path):
    started = time.perf_counter()
    # Install from a copy of what a source distribution holds, so the build's scratch
    # folders (build/, *.egg-info) land in tmp_path, not in the working tree.
    project = tmp_path / "project"
    project.mkdir()
    for name in ["pyproject.toml", "README.md"]:
        shutil.copy2(repo_root / name, project / name)
    shutil.copytree(
        repo_root / "vip2analysis",
        project / "vip2analysis",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    lock = repo_root / "requirements.lock"
    _run(
        [str(python), "-m", "pip", "install", "--quiet", "-c", str(lock), str(project)],
        env=env,
        timeout=1800,
    )
    installed = time.perf_counter()

    script = tmp_path / "researcher.py"
    script.write_text(SCRIPT)
    done = _run(
        [str(python), str(script), str(venv), str(synthetic_dir)],
        env=env,
        cwd=tmp_path,  # not the repository, so the installed copy is the one imported
        timeout=600,
    )
    assert done.stdout.startswith("ok:"), f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    # the vip2 command is installed with the core but needs the [cli] extra: it says so
    cli = subprocess.run(
        [str(venv / "bin" / "vip2"), "--help"], env=env, capture_output=True, text=True
    )
    assert cli.returncode == 2, cli.stderr
    assert "pip install 'vip2analysis[cli]'" in cli.stderr and "Traceback" not in cli.stderr
    print(
        f"venv + install {installed - started:.1f} s, "
        f"researcher path {time.perf_counter() - installed:.1f} s"
    )
