"""Batch build: every notebook x every period through papermill, in parallel, cached.

A *job* is one notebook template run for one period. Jobs run in worker processes; each
writes into a staging folder, and only when the whole run is over are the finished job
folders moved into ``outputs/<period>/<notebook>/`` and the manifest replaced, so an
interrupted build leaves the previous outputs and manifest as they were. A job is skipped
when nothing it depends on changed (template, parameters, processed data, library source,
lock file). A lock file stops two builds from writing one outputs folder at once.

Speed: jobs are handed out longest first (by their durations in the previous manifest), so
that no long job starts last and runs alone; a kernel is killed as soon as its notebook is
saved instead of being asked to shut down. The headline figures on the index page are kept
in the manifest under a digest of the inputs, so a build where nothing changed neither loads
the processed data nor imports the estimation library.
"""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "BuildError",
    "BuildResult",
    "Job",
    "ParameterError",
    "build",
    "notebook_parameters",
    "plan_jobs",
]

_LOCK = ".build.lock"
_MANIFEST = "manifest.json"
_SCALARS = {"str": str, "int": int, "float": float, "bool": bool}


class BuildError(Exception):
    """A problem that stops the whole build (locked outputs, no notebooks, bad config, raw
    data that cannot be cleaned)."""


class ParameterError(BuildError):
    """A parameter a notebook does not declare, or of the wrong type."""


# ---------------------------------------------------------------------------------------
# Parameters: read from the notebook's `parameters` cell, checked before any kernel starts
# ---------------------------------------------------------------------------------------


def _parameters_source(notebook: Path) -> str:
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ParameterError(
            f"{notebook.name}: needs exactly one cell tagged `parameters`, found {len(cells)}"
        )
    source = cells[0]["source"]
    return "".join(source) if isinstance(source, list) else source


def notebook_parameters(notebook: str | os.PathLike[str]) -> dict[str, tuple[str, Any]]:
    """Name -> (type name, default) of the typed literals in the ``parameters`` cell.

    Every statement must be ``name: type = literal`` with type str, int, float or bool.
    """
    notebook = Path(notebook)
    tree = ast.parse(_parameters_source(notebook))
    out: dict[str, tuple[str, Any]] = {}
    for node in tree.body:
        ok = isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
        kind = getattr(getattr(node, "annotation", None), "id", None)
        if not ok or kind not in _SCALARS or node.value is None:
            raise ParameterError(
                f"{notebook.name}: parameters cell line {node.lineno}: write `name: type = literal` "
                f"with type one of {tuple(_SCALARS)}"
            )
        out[node.target.id] = (kind, ast.literal_eval(node.value))
    return out


def check_parameters(notebook: Path, params: dict[str, Any]) -> None:
    """Raise ParameterError naming notebook, parameter and what it accepts."""
    declared = notebook_parameters(notebook)
    for name, value in params.items():
        if name not in declared:
            raise ParameterError(
                f"{notebook.name}: unknown parameter `{name}`; it accepts: {', '.join(sorted(declared))}"
            )
        kind = declared[name][0]
        expected = _SCALARS[kind]
        good = isinstance(value, expected) and not (kind != "bool" and isinstance(value, bool))
        if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
            good = True
        if not good:
            raise ParameterError(
                f"{notebook.name}: parameter `{name}` must be {kind}, got {type(value).__name__} {value!r}"
            )


# ---------------------------------------------------------------------------------------
# Jobs and their cache keys
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One notebook for one period."""

    notebook: Path
    period: str
    parameters: dict[str, Any]

    @property
    def name(self) -> str:
        return self.notebook.stem

    @property
    def id(self) -> str:
        return f"{self.period}/{self.name}"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _tree_digest(paths: Iterable[Path], root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(str(p.relative_to(root)).encode())
        h.update(_sha256(p).encode())
    return h.hexdigest()


def _library_files() -> list[Path]:
    pkg = Path(__file__).resolve().parent
    return [
        p for p in pkg.rglob("*") if p.is_file() and p.suffix in (".py", ".yaml", ".csv", ".md")
    ]


def input_digests(processed: Path, lock_file: Path | None) -> dict[str, str]:
    """sha256 of everything a job depends on besides its template and parameters."""
    pkg = Path(__file__).resolve().parent
    digests = {
        f"processed/{p.name}": _sha256(p)
        for p in sorted(processed.glob("*"))
        if p.is_file() and not p.name.startswith(".")
    }
    digests["library"] = _tree_digest(_library_files(), pkg)
    if lock_file is not None and lock_file.is_file():
        digests["requirements.lock"] = _sha256(lock_file)
    return digests


def job_key(job: Job, inputs: dict[str, str]) -> str:
    """Digest of what a job's outputs depend on. ``output_dir`` is left out: the notebook
    always runs with a staging folder in its place, so where the outputs folder lives (or
    was copied to) changes nothing."""
    parameters = {k: v for k, v in job.parameters.items() if k != "output_dir"}
    payload = {"template": _sha256(job.notebook), "parameters": parameters, "inputs": inputs}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def plan_jobs(
    notebooks: list[Path],
    periods: list[str],
    *,
    processed: Path,
    out: Path,
    extra: dict[str, Any] | None = None,
) -> list[Job]:
    """Jobs for every notebook x period, parameters checked against each notebook."""
    jobs = []
    for period in periods:
        for nb in notebooks:
            params = {
                "period": period,
                "processed_dir": str(processed.resolve()),
                "output_dir": str((out / period / nb.stem).resolve()),
                **(extra or {}),
            }
            declared = notebook_parameters(nb)
            params = {k: v for k, v in params.items() if k in declared or k in (extra or {})}
            check_parameters(nb, params)
            # effective values: the notebook's defaults, overridden; so passing a default
            # explicitly is no change (and does not invalidate the cache)
            effective = {name: default for name, (_, default) in declared.items()} | params
            jobs.append(Job(nb, period, effective))
    return jobs


# ---------------------------------------------------------------------------------------
# Running one job (in a worker process)
# ---------------------------------------------------------------------------------------


def _strip_timings(nb_path: Path) -> None:
    """Drop papermill's run timestamps so the executed notebook depends on inputs only."""
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    nb.get("metadata", {}).get("papermill", {}).pop("start_time", None)
    nb.get("metadata", {}).get("papermill", {}).pop("end_time", None)
    nb.get("metadata", {}).get("papermill", {}).pop("duration", None)
    for cell in nb.get("cells", []):
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell["id"] = "injected-parameters"  # papermill draws a random id
        for key in ("start_time", "end_time", "duration"):
            cell.get("metadata", {}).get("papermill", {}).pop(key, None)
        cell.get("metadata", {}).pop("execution", None)
    nb_path.write_text(
        json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
    )


def _html(nb_path: Path, html_path: Path) -> None:
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    body, _ = exporter.from_notebook_node(nbformat.read(nb_path, as_version=4))
    html_path.write_text(body, encoding="utf-8")


def run_job(template: str, params: dict[str, Any], staging: str, kernel: str) -> dict[str, Any]:
    """Execute one notebook with papermill into ``staging``; never raises for a failing cell."""
    import papermill as pm

    staging_dir = Path(staging)
    staging_dir.mkdir(parents=True, exist_ok=True)
    nb_out = staging_dir / Path(template).name
    start = time.perf_counter()
    result: dict[str, Any] = {"status": "ok"}
    try:
        pm.execute_notebook(
            template,
            str(nb_out),
            parameters=params,
            kernel_name=kernel,
            progress_bar=False,
            log_output=False,
            shutdown_kernel="immediate",  # the notebook is saved; waiting costs ~0.6 s per job
            cwd=str(Path(template).parent),
        )
    except pm.PapermillExecutionError as exc:
        result = {
            "status": "failed",
            "cell": exc.exec_count,
            "error": exc.ename,
            "message": str(exc.evalue)[:500],
        }
    except Exception as exc:  # kernel died, bad notebook file, ...
        result = {
            "status": "failed",
            "cell": None,
            "error": type(exc).__name__,
            "message": str(exc)[:500],
        }
    if nb_out.is_file():
        _strip_timings(nb_out)
        if result["status"] == "ok":
            _html(nb_out, staging_dir / f"{Path(template).stem}.html")
    result["duration"] = round(time.perf_counter() - start, 2)
    result["executed"] = str(nb_out)
    return result


# ---------------------------------------------------------------------------------------
# The build
# ---------------------------------------------------------------------------------------


@dataclass
class JobResult:
    id: str
    notebook: str
    period: str
    status: str  # ok | failed | skipped
    duration: float = 0.0
    key: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    cell: int | None = None
    error: str | None = None
    message: str | None = None
    executed: str | None = None


@dataclass
class BuildResult:
    run_id: str
    jobs: list[JobResult]
    manifest: Path
    index: Path

    @property
    def failed(self) -> list[JobResult]:
        return [j for j in self.jobs if j.status == "failed"]


class _Lock:
    """An exclusive, non-blocking lock on ``<out>/.build.lock`` (released on exit)."""

    def __init__(self, out: Path) -> None:
        self.path = out / _LOCK
        self.fh = None

    def __enter__(self) -> _Lock:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = self.path.open("a+")
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.seek(0)
            holder = self.fh.read().strip() or "another process"
            self.fh.close()
            raise BuildError(
                f"{self.path.parent}: another build is writing to this outputs folder ({holder}); "
                "wait for it to finish or use another --out"
            ) from None
        self.fh.seek(0)
        self.fh.truncate()
        self.fh.write(f"pid {os.getpid()}")
        self.fh.flush()
        return self

    def __exit__(self, *exc: object) -> None:
        self.fh.close()


def _git_state(root: Path) -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            res = subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return res.stdout.strip() if res.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    names = (
        "vip2analysis",
        "pandas",
        "numpy",
        "statsmodels",
        "matplotlib",
        "seaborn",
        "papermill",
        "nbconvert",
        "pyarrow",
        "pandera",
    )
    out = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def _read_manifest(out: Path) -> dict[str, Any]:
    path = out / _MANIFEST
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return {}


def _outputs_digest(folder: Path, root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): _sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def _needs_clean(raw: Path, processed: Path) -> bool:
    marker = processed / "accounting.json"
    if not marker.is_file():
        return True
    newest_raw = max((p.stat().st_mtime for p in raw.rglob("*") if p.is_file()), default=0)
    return newest_raw > marker.stat().st_mtime


def _swap_in(staging: Path, target: Path) -> None:
    """Replace ``target`` by ``staging`` (two renames; the old copy is removed after)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)


Progress = Callable[[str, Job, dict[str, Any]], None]


def _execute(
    pending: list[Job], staging: Path, workers: int, kernel: str, progress: Progress
) -> dict[str, dict]:
    results: dict[str, dict] = {}
    with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {}
        for job in pending:
            params = {**job.parameters, "output_dir": str(staging / job.period / job.name)}
            futures[
                pool.submit(
                    run_job, str(job.notebook), params, str(staging / job.period / job.name), kernel
                )
            ] = job
            progress("queued", job, {})
        for future in as_completed(futures):
            job = futures[future]
            try:
                results[job.id] = future.result()
            except Exception as exc:  # the worker itself died
                results[job.id] = {
                    "status": "failed",
                    "error": type(exc).__name__,
                    "message": str(exc),
                    "cell": None,
                    "duration": 0.0,
                }
            progress("done", job, results[job.id])
    return results


def _noop(event: str, job: Job, info: dict[str, Any]) -> None:
    return None


def build(
    *,
    notebooks_dir: Path,
    processed: Path,
    out: Path,
    raw: Path | None = None,
    periods: list[str] | None = None,
    notebooks: list[str] | None = None,
    workers: int | None = None,
    force: bool = False,
    extra: dict[str, Any] | None = None,
    kernel: str = "python3",
    lock_file: Path | None = None,
    progress: Progress = _noop,
) -> BuildResult:
    """Run every (selected) notebook for every (selected) period; see the module docstring."""
    from vip2analysis.periods import load_periods

    out.mkdir(parents=True, exist_ok=True)
    with _Lock(out):
        for leftover in out.glob(".staging-*"):  # from a build that was killed
            shutil.rmtree(leftover, ignore_errors=True)
        if raw is not None and _needs_clean(raw, processed):
            _clean_first(raw, processed, progress)
        config = load_periods()
        chosen = _choose(
            sorted(notebooks_dir.glob("[0-9]*.ipynb")), notebooks, config.names, periods
        )
        jobs = plan_jobs(chosen[0], chosen[1], processed=processed, out=out, extra=extra)
        inputs = input_digests(processed, lock_file)
        old_manifest = _read_manifest(out)
        previous = {j["id"]: j for j in old_manifest.get("jobs", [])}
        keys = {job.id: job_key(job, inputs) for job in jobs}
        stale = [j for j in jobs if force or not _fresh(j, keys[j.id], previous, out)]
        pending = _longest_first(stale, previous)
        run_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
        staging = out.resolve() / f".staging-{run_id}"
        try:
            ran = _execute(pending, staging, workers or os.cpu_count() or 1, kernel, progress)
            results = _collect(jobs, pending, ran, keys, previous, staging, out)
            for period in sorted({j.period for j in pending}):
                _workbook(out / period)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        figures = _index_figures(processed, config, inputs, old_manifest)
        manifest = _write_manifest(out, run_id, results, inputs, previous, figures)
        from vip2analysis._index import write_index

        index = write_index(out, results, figures=figures, config=config)
        return BuildResult(run_id, results, manifest, index)


def _clean_first(raw: Path, processed: Path, progress: Progress) -> None:
    from vip2analysis.pipeline import CleanError, run_clean

    progress("clean", None, {"raw": str(raw)})  # type: ignore[arg-type]
    try:
        run_clean(raw, processed)
    except CleanError as exc:
        raise BuildError(str(exc)) from exc


def _choose(
    available: list[Path], wanted: list[str] | None, names: list[str], periods: list[str] | None
):
    if not available:
        raise BuildError("no notebooks (files like 01_name.ipynb) in the notebooks folder")
    if wanted:
        by_name = {p.stem: p for p in available} | {p.name: p for p in available}
        unknown = [
            w
            for w in wanted
            if w not in by_name and not any(p.stem.startswith(w) for p in available)
        ]
        if unknown:
            raise BuildError(
                f"unknown notebook(s) {unknown}; available: {[p.stem for p in available]}"
            )
        available = [
            p
            for p in available
            if any(p.stem == w or p.name == w or p.stem.startswith(w) for w in wanted)
        ]
    chosen_periods = periods or names
    bad = [p for p in chosen_periods if p not in names]
    if bad:
        raise BuildError(f"unknown period(s) {bad}; the config has {names}")
    return available, chosen_periods


def _longest_first(jobs: list[Job], previous: dict[str, dict]) -> list[Job]:
    """Jobs that took longest last time go first, so that no long job starts last and runs
    alone at the end (jobs never run before keep their order, after the known ones)."""
    return sorted(jobs, key=lambda job: -previous.get(job.id, {}).get("duration", 0.0))


def _fresh(job: Job, key: str, previous: dict[str, dict], out: Path) -> bool:
    old = previous.get(job.id)
    return (
        bool(old)
        and old.get("key") == key
        and old.get("status") in ("ok", "skipped")
        and (out / job.period / job.name).is_dir()
    )


def _collect(jobs, pending, ran, keys, previous, staging: Path, out: Path) -> list[JobResult]:
    results = []
    pending_ids = {j.id for j in pending}
    for job in jobs:
        base = {
            "id": job.id,
            "notebook": job.name,
            "period": job.period,
            "key": keys[job.id],
            "parameters": job.parameters,
        }
        if job.id not in pending_ids:
            old = previous[job.id]
            results.append(JobResult(**base, status="skipped", duration=old.get("duration", 0.0)))
            continue
        info = ran[job.id]
        if info["status"] == "ok":
            _swap_in(staging / job.period / job.name, out / job.period / job.name)
            executed = str(out / job.period / job.name / job.notebook.name)
        else:
            executed = _keep_failed(staging / job.period / job.name / job.notebook.name, out, job)
        fields = {k: info.get(k) for k in ("cell", "error", "message")}
        results.append(
            JobResult(
                **base,
                status=info["status"],
                duration=info.get("duration", 0.0),
                executed=executed,
                **fields,
            )
        )
    return results


def _keep_failed(nb: Path, out: Path, job: Job) -> str | None:
    if not nb.is_file():
        return None
    target = out / "failed" / f"{job.period}__{job.notebook.name}"
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(nb, target)
    return str(target)


def _workbook(period_dir: Path) -> None:
    from vip2analysis.report import write_workbook

    if period_dir.is_dir():
        write_workbook(period_dir, period_dir / f"tabeller_{period_dir.name}.xlsx")


def _index_figures(
    processed: Path, config: Any, inputs: dict[str, str], old_manifest: dict[str, Any]
) -> dict[str, Any]:
    """The index page's figures; reused from the manifest while no input changed, because
    computing them loads the processed data and the estimation library (seconds)."""
    key = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()
    cached = old_manifest.get("index", {})
    if cached.get("key") == key:
        return cached
    from vip2analysis._index import index_figures

    return {"key": key, **index_figures(processed, config)}


def _write_manifest(
    out: Path,
    run_id: str,
    results: list[JobResult],
    inputs: dict[str, str],
    previous: dict,
    figures: dict[str, Any],
) -> Path:
    """Replace the manifest; jobs outside this run keep their previous entries."""
    planned = {r.id for r in results}
    jobs = [entry for job_id, entry in previous.items() if job_id not in planned]
    for r in results:
        entry = asdict(r)
        folder = out / r.period / r.notebook
        entry["outputs"] = (
            _outputs_digest(folder, out) if r.status != "failed" and folder.is_dir() else {}
        )
        jobs.append(entry)
    root = Path(__file__).resolve().parent.parent
    manifest = {
        "run_id": run_id,
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git": _git_state(root),
        "versions": _versions(),
        "inputs": inputs,
        "workbooks": {
            str(p.relative_to(out)): _sha256(p) for p in sorted(out.glob("*/tabeller_*.xlsx"))
        },
        "jobs": sorted(jobs, key=lambda j: (j["period"], j["notebook"])),
        "index": figures,
    }
    path = out / _MANIFEST
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    os.replace(tmp, path)
    return path
