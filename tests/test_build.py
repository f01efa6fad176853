"""`vip2 build`: parameters, end-to-end on real notebooks, cache, determinism, failures,
locking and a build killed half way."""

from __future__ import annotations

import ast
import json
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from openpyxl import load_workbook

from vip2analysis.build import build, notebook_parameters, plan_jobs
from vip2analysis.build.params import batch_notebooks
from vip2analysis.build.runner import _Lock, _longest_first
from vip2analysis.contract import CPR_LIKE
from vip2analysis.errors import BuildError, ParameterError

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PERSON_COUNTS = {"n", "events", "rows", "clean_rows", "rejected_rows", "duplicate_rows", "missing"}


def _templates() -> list[Path]:
    return batch_notebooks(NOTEBOOKS)


def test_five_numbered_notebooks_are_committed():
    names = [p.stem for p in _templates()]
    assert names == [
        "01_data_quality",
        "02_outcomes",
        "03_employment_by_group",
        "04_effects",
        "05_dissemination",
    ]


@pytest.mark.parametrize("path", _templates(), ids=lambda p: p.stem)
def test_notebook_hygiene(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code), "outputs committed"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    for cell in code:
        tree = ast.parse(cell.source)
        defs = [
            n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef | ast.Lambda)
        ]
        assert not defs, f"{path.name}: logic belongs in the package"
    params = notebook_parameters(path)
    assert {k: v[0] for k, v in params.items() if k in ("period", "min_cell")} == {
        "period": "str",
        "min_cell": "int",
    }
    assert {"processed_dir", "output_dir", "lang"} <= set(params)


def test_nbstripout_verify_passes():
    res = subprocess.run(
        [sys.executable, "-m", "nbstripout", "--verify", *map(str, _templates())],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_unknown_parameter_names_notebook_and_accepted(tmp_path):
    with pytest.raises(ParameterError) as err:
        plan_jobs(
            _templates()[:1], ["method"], processed=tmp_path, out=tmp_path, extra={"colour": "red"}
        )
    msg = str(err.value)
    assert "no notebook of this build declares it" in msg and "`colour`" in msg
    assert "min_cell" in msg


def test_wrong_type_names_parameter_and_type(tmp_path):
    with pytest.raises(
        ParameterError, match=r"02_outcomes.ipynb: parameter `min_cell` must be int, got str '5'"
    ):
        plan_jobs(
            _templates()[1:2], ["method"], processed=tmp_path, out=tmp_path, extra={"min_cell": "5"}
        )


def test_jobs_that_took_longest_last_time_go_first(tmp_path):
    jobs = plan_jobs(_templates()[:3], ["method"], processed=tmp_path, out=tmp_path)
    previous = {
        "method/01_data_quality": {"duration": 2.0},
        "method/02_outcomes": {"duration": 9.0},
    }
    assert [j.name for j in _longest_first(jobs, previous)] == [
        "02_outcomes",
        "01_data_quality",
        "03_employment_by_group",
    ]


def test_a_held_lock_stops_a_second_build(tmp_path, processed_dir):
    out = tmp_path / "out"
    with _Lock(out), pytest.raises(BuildError, match="another build is writing"):
        build(notebooks_dir=NOTEBOOKS, processed=processed_dir, out=out, periods=["method"])


@pytest.fixture(scope="module")
def built(tmp_path_factory, processed_dir):
    out = tmp_path_factory.mktemp("outputs")
    result = build(
        notebooks_dir=NOTEBOOKS,
        processed=processed_dir,
        out=out,
        periods=["method", "extension2"],
        workers=2,
    )
    return out, result


@pytest.mark.slow
def test_end_to_end_every_notebook_two_periods(built):
    out, result = built
    assert [j.status for j in result.jobs] == ["ok"] * 10, [
        (j.id, j.error, j.message) for j in result.jobs
    ]
    for job in result.jobs:
        folder = out / job.period / job.notebook
        assert (folder / f"{job.notebook}.html").is_file() and (
            folder / f"{job.notebook}.ipynb"
        ).is_file()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "Syntetiske data" in index and "313" in index and "38,0 %" in index and "55,2 %" in index
    assert (out / "index_perioder.png").is_file() and "index_perioder.png" in index
    manifest = json.loads((out / "manifest.json").read_text())
    assert {"run_id", "git", "versions", "inputs", "jobs"} <= set(manifest)
    assert all(j["outputs"] for j in manifest["jobs"])
    wb = load_workbook(out / "method" / "tabeller_method.xlsx", read_only=True)
    assert wb.sheetnames[0] == "Indhold" and any("Nøgletal" in n for n in wb.sheetnames)
    assert all(len(name) <= 31 for name in wb.sheetnames)
    assert len(list((out / "method" / "03_employment_by_group" / "figures").glob("*.png"))) >= 6


@pytest.mark.slow
def test_no_published_cell_below_threshold(built):
    out, _ = built
    for csv in out.rglob("tables/*.csv"):
        table = pd.read_csv(csv, dtype=str, keep_default_na=False)
        for col in PERSON_COUNTS & set(table.columns):
            for value in table[col]:
                if value in ("", "x", "<5") or not re.fullmatch(r"\d+", value):
                    continue
                assert int(value) == 0 or int(value) >= 5, f"{csv.relative_to(out)}: {col}={value}"


@pytest.mark.slow
def test_no_cpr_pattern_anywhere_under_outputs(built):
    out, _ = built
    pattern = re.compile(CPR_LIKE)
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".csv", ".html", ".ipynb", ".svg", ".json"):
            assert not pattern.search(path.read_text(encoding="utf-8", errors="replace")), path


@pytest.mark.slow
def test_cache_then_one_period_rebuilt_then_determinism(
    built, processed_dir, digests, local_cluster
):
    """Cached, then a changed parameter, then a forced rebuild on Dask workers (a
    LocalCluster of 2 processes): every published file equals the local build's, byte for
    byte (notebook jobs on Dask, workbook and report in this process)."""
    out, _ = built
    again = build(
        notebooks_dir=NOTEBOOKS, processed=processed_dir, out=out, periods=["method", "extension2"]
    )
    assert {j.status for j in again.jobs} == {"skipped"}
    before = digests(out)
    changed = build(
        notebooks_dir=NOTEBOOKS,
        processed=processed_dir,
        out=out,
        periods=["method", "extension2"],
        notebooks=["02_outcomes"],
        extra={"lang": "da"},
        workers=2,
    )
    assert {j.status for j in changed.jobs} == {"skipped"}  # same value: nothing changed
    forced = build(
        notebooks_dir=NOTEBOOKS,
        processed=processed_dir,
        out=out,
        periods=["method", "extension2"],
        engine=local_cluster,
        force=True,
    )
    assert {j.status for j in forced.jobs} == {"ok"}
    after = digests(out)
    published = [
        k
        for k in before
        if k.endswith((".csv", ".png", ".svg", ".html", ".xlsx", ".docx")) and k != "index.html"
    ]
    assert published and all(before[k] == after[k] for k in published), [
        k for k in published if before[k] != after[k]
    ]


@pytest.mark.slow
def test_every_built_period_passes_the_disclosure_audit(built):
    out, result = built
    assert set(result.audits) == {"method", "extension2"}
    for period, report in result.audits.items():
        assert report.ok, report.summary()
        assert report.cells > 100 and not report.unaudited, period
    res = subprocess.run(
        [sys.executable, "-m", "vip2analysis", "audit", out / "method", out / "extension2"],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    assert "0 leak(s), 0 table(s) without a cell map" in res.stdout


@pytest.mark.slow
def test_the_method_period_shows_313_119_and_38_percent_in_its_own_tables(built):
    out, _ = built
    head = pd.read_csv(out / "method" / "02_outcomes" / "tables" / "noegletal.csv")
    head = head.set_index("figure")
    assert head.loc["courses", "n"] == "313" or int(head.loc["courses", "n"]) == 313
    row = head.loc["ordinary_all"]
    assert (int(row["events"]), int(row["n"])) == (119, 313)
    assert round(100 * float(row["rate"])) == 38
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "38,0 %" in index and "55,2 %" in index and "&#x27;x&#x27;" in index
    # extension2: 36 of 57 courses still running, said next to the figures, no change shown
    assert "Under halvdelen af forløbene (21 af 57)" in index


def _copy_built(built, tmp_path: Path) -> Path:
    src, _ = built
    out = tmp_path / "out"
    shutil.copytree(src, out)
    return out


@pytest.mark.slow
def test_hand_edited_outputs_are_rebuilt_and_the_build_says_why(built, processed_dir, tmp_path):
    out = _copy_built(built, tmp_path)
    table = out / "method" / "03_employment_by_group" / "tables" / "beskaeftigelse_sex.csv"
    original = table.read_bytes()
    table.write_bytes(original.replace(b"250", b"251"))  # an exploratory run, a hand edit
    (out / "extension2" / "02_outcomes" / "figures" / "afgang.png").unlink()
    res = build(
        notebooks_dir=NOTEBOOKS, processed=processed_dir, out=out, periods=["method", "extension2"]
    )
    status = {j.id: j.status for j in res.jobs}
    assert status["method/03_employment_by_group"] == "ok"
    assert status["extension2/02_outcomes"] == "ok"
    assert sum(s == "skipped" for s in status.values()) == 8
    assert "outputs changed since they were built" in res.rebuilt["method/03_employment_by_group"]
    assert "beskaeftigelse_sex.csv" in res.rebuilt["method/03_employment_by_group"]
    assert table.read_bytes() == original


@pytest.mark.slow
def test_a_partial_build_keeps_every_other_job_on_the_index(built, processed_dir, tmp_path):
    out = _copy_built(built, tmp_path)
    res = build(
        notebooks_dir=NOTEBOOKS,
        processed=processed_dir,
        out=out,
        periods=["method"],
        notebooks=["03_employment_by_group"],
        force=True,
    )
    assert [j.id for j in res.jobs] == ["method/03_employment_by_group"]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.count("rapport</a>") == 10  # every job of the last state keeps its links
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["jobs"]) == 10 and set(manifest["audits"]) == {"method", "extension2"}


@pytest.mark.slow
def test_a_failed_job_keeps_its_last_good_outputs_and_is_marked_stale(
    built, processed_dir, tmp_path
):
    out = _copy_built(built, tmp_path)
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    nb = nbformat.read(NOTEBOOKS / "05_dissemination.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("raise ValueError('deliberately broken')"))
    nbformat.write(nb, nbdir / "05_dissemination.ipynb")
    before = (out / "method" / "05_dissemination" / "05_dissemination.html").read_bytes()
    res = build(notebooks_dir=nbdir, processed=processed_dir, out=out, periods=["method"])
    assert [j.status for j in res.jobs] == ["failed"]
    assert (out / "method" / "05_dissemination" / "05_dissemination.html").read_bytes() == before
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "FEJLET – viser sidste gode version" in index
    assert index.count("rapport</a>") == 10  # the stale job still links its last good report
    entry = next(
        j
        for j in json.loads((out / "manifest.json").read_text())["jobs"]
        if j["id"] == "method/05_dissemination"
    )
    assert entry["stale"] and entry["outputs"]


@pytest.mark.slow
def test_changing_one_periods_parameters_rebuilds_only_that_period(tmp_path, processed_dir):
    out = tmp_path / "out"
    kwargs = {
        "notebooks_dir": NOTEBOOKS,
        "processed": processed_dir,
        "out": out,
        "notebooks": ["05_dissemination"],
    }
    build(periods=["method", "extension2"], workers=2, **kwargs)
    build(periods=["method"], extra={"min_cell": 6}, **kwargs)
    res = build(periods=["method", "extension2"], workers=2, **kwargs)
    status = {j.id: j.status for j in res.jobs}
    assert status == {"method/05_dissemination": "ok", "extension2/05_dissemination": "skipped"}


def _broken_copy(tmp_path: Path) -> Path:
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    shutil.copy(NOTEBOOKS / "05_dissemination.ipynb", nbdir)
    nb = nbformat.read(NOTEBOOKS / "05_dissemination.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("raise ValueError('deliberately broken')"))
    nbformat.write(nb, nbdir / "06_broken.ipynb")
    return nbdir


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["local", "dask"])
def test_a_failing_notebook_is_isolated_and_reported(tmp_path, processed_dir, engine):
    """On either engine (Dask: a LocalCluster the command starts), a failing notebook is
    one failed job, reported with its cell and error; the other job is built."""
    nbdir = _broken_copy(tmp_path)
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "vip2analysis",
            "build",
            "--notebooks-dir",
            nbdir,
            "--processed",
            processed_dir,
            "--out",
            tmp_path / "out",
            "--period",
            "method",
            "--engine",
            engine,
        ],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 1
    assert "1 failed" in res.stdout and "1 ran" in res.stdout
    assert (
        "FAILED 06_broken / method" in res.stderr
        and "ValueError: deliberately broken" in res.stderr
    )
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    failed = next(j for j in manifest["jobs"] if j["status"] == "failed")
    assert failed["cell"] is not None and Path(failed["executed"]).is_file()
    assert (tmp_path / "out" / "method" / "05_dissemination" / "05_dissemination.html").is_file()


def _wait_until_unlocked(out: Path, timeout: float = 10.0) -> None:
    deadline = time.time() + timeout
    while True:
        try:
            with _Lock(out):
                return
        except BuildError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.slow
def test_killed_build_leaves_previous_outputs_and_manifest_intact(
    built, processed_dir, tmp_path, digests
):
    src, _ = built
    out = tmp_path / "out"
    shutil.copytree(src, out)
    before = digests(out)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vip2analysis",
            "build",
            "--processed",
            processed_dir,
            "--out",
            out,
            "--period",
            "method",
            "--period",
            "extension2",
            "--force",
            "--jobs",
            "2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 60
    while not list(out.glob(".staging-*/*/*/*.ipynb")) and time.time() < deadline:
        time.sleep(0.2)
    import os

    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    _wait_until_unlocked(out)  # the killed workers may take a moment to be gone
    assert digests(out) == before
    res = build(
        notebooks_dir=NOTEBOOKS, processed=processed_dir, out=out, periods=["method", "extension2"]
    )
    assert {j.status for j in res.jobs} == {"skipped"}
    assert not list(out.glob(".staging-*"))


@pytest.mark.slow
def test_no_report_prints_warnings_or_text_streams(built):
    """A warning printed by a kernel (English, with local paths) would reach the reader's
    HTML, and its timing would make the HTML differ between builds."""
    out, _ = built
    for path in sorted(out.glob("*/*/*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        streams = [o for c in cells for o in c.get("outputs", []) if o["output_type"] == "stream"]
        assert streams == [], f"{path.relative_to(out)}: {streams[:1]}"


@pytest.mark.slow
def test_no_english_reaches_the_danish_reports_of_any_period(built):
    """Periods with few courses bring the models' notes (merged levels, left-out terms):
    they too are in Danish."""
    from test_reports import FORBIDDEN_IN_DANISH, _shown_text

    out, _ = built
    for path in sorted(out.glob("*/*/*.ipynb")):
        text = _shown_text(path)
        found = [w for w in FORBIDDEN_IN_DANISH if re.search(rf"(?<![\w_]){re.escape(w)}", text)]
        found += [w for w in ("adjusted_differences", "participation_effect", "See `") if w in text]
        assert found == [], f"{path.relative_to(out)}: {found}"


@pytest.mark.slow
def test_vip2_build_on_a_loopback_scheduler_gives_the_local_outputs(
    built, processed_dir, loopback, tmp_path, digests
):
    """`vip2 build --scheduler ADDRESS`: a real `dask scheduler` and two `dask worker`
    subprocesses run the job; its files equal the local build's byte for byte (the
    executed notebook's output_dir parameter names its own outputs folder)."""
    src, _ = built
    out = tmp_path / "out"
    job = "method/01_data_quality"
    res = subprocess.run(
        [
            *(sys.executable, "-m", "vip2analysis", "build", "--processed", str(processed_dir)),
            *("--out", str(out), "--period", "method", "--notebook", "01_data_quality"),
            *("--scheduler", loopback.address),
        ],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    _same_job_outputs(out, src, job, digests)


def _same_job_outputs(out: Path, src: Path, job: str, digests) -> None:
    """The job's files under ``out`` equal those under ``src``; its executed notebook once
    the folder it was run into (``<out>/.staging-<run id>``, a parameter) is named alike."""
    name = f"{job.split('/')[1]}.ipynb"
    ours, theirs = digests(out / job), digests(src / job)
    assert ours.pop(name) and theirs.pop(name) and ours == theirs, job

    def text(folder: Path) -> str:
        raw = (folder / job / name).read_text(encoding="utf-8").replace(str(folder), "OUT")
        return re.sub(r"\.staging-[0-9TZ]+-[0-9a-f]+", ".staging-RUN", raw)

    assert text(out) == text(src), job


@pytest.mark.slow
def test_a_worker_killed_mid_build_is_retried_and_the_outputs_are_the_same(
    built, processed_dir, tmp_path, digests, fresh_loopback
):
    """One of two `dask worker` subprocesses is killed (its process group, SIGKILL) while
    it runs a notebook; Dask runs the job again on the other worker, and every job's files
    equal the local build's."""
    import threading

    from vip2analysis.engine import DaskEngine

    src, _ = built
    out = tmp_path / "out"
    jobs = ["01_data_quality", "05_dissemination"]
    done: dict = {}
    with DaskEngine(fresh_loopback.address) as engine:
        thread = threading.Thread(
            target=lambda: done.update(
                result=build(
                    notebooks_dir=NOTEBOOKS,
                    processed=processed_dir,
                    out=out,
                    periods=["method"],
                    notebooks=jobs,
                    engine=engine,
                )
            )
        )
        thread.start()
        deadline = time.time() + 60
        while len(list(out.glob(".staging-*/*/*/*.ipynb"))) < 2 and time.time() < deadline:
            time.sleep(0.05)
        busy = [a for a, tasks in engine.client.processing().items() if tasks]
        assert thread.is_alive() and len(busy) == 2, "both workers should be running a job"
        fresh_loopback.kill(0)
        thread.join(timeout=300)
    result = done["result"]
    assert [j.status for j in result.jobs] == ["ok", "ok"], [j.message for j in result.jobs]
    for job in jobs:
        _same_job_outputs(out, src, f"method/{job}", digests)
