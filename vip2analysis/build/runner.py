"""The build: plan, run in parallel, stage, swap into place, index page and manifest.

Runs every notebook for every period through papermill (in a process pool), caches on
the notebook, its parameters, the processed data, the library and the lock file, keeps a
failing notebook from stopping the others, and writes everything atomically.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from vip2analysis.build.cache import input_digests, job_key
from vip2analysis.build.index import index_figures, write_index
from vip2analysis.build.jobs import Job, JobResult, plan_jobs, run_job
from vip2analysis.build.manifest import _outputs_digest, _read_manifest, _write_manifest
from vip2analysis.build.params import batch_notebooks
from vip2analysis.clean.pipeline import source_digest
from vip2analysis.contract.periods import load_periods
from vip2analysis.engine import Engine, LocalEngine
from vip2analysis.errors import BuildError, CleanError
from vip2analysis.publish.audit import AuditReport, audit_period
from vip2analysis.publish.labels import Lang
from vip2analysis.publish.present import data_dictionary
from vip2analysis.publish.report import write_report
from vip2analysis.publish.workbook import write_workbook
from vip2analysis.register import clean_and_measure, register_options

__all__ = [
    "BuildResult",
    "build",
]


_LOCK = ".build.lock"


@dataclass
class BuildResult:
    run_id: str
    jobs: list[JobResult]
    manifest: Path
    index: Path
    audits: dict[str, AuditReport] = field(default_factory=dict)
    rebuilt: dict[str, str] = field(default_factory=dict)  # job id -> why it was not fresh

    @property
    def failed(self) -> list[JobResult]:
        return [j for j in self.jobs if j.status == "failed"]

    @property
    def leaks(self) -> list[AuditReport]:
        return [a for a in self.audits.values() if not a.ok]


class _Lock:
    """An exclusive, non-blocking lock on ``<out>/.build.lock`` (released on exit)."""

    def __init__(self, out: Path) -> None:
        self.path = out / _LOCK
        self.fh: IO[str] | None = None

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
        assert self.fh is not None  # set by __enter__
        self.fh.close()


def _clean_from(raw: Path | None, processed: Path) -> Path | None:
    """The raw folder to re-clean from before building, or None to build on ``processed``.

    The build never replaces processed data with data from another source: it re-cleans
    only from the raw folder recorded in ``accounting.json``, and only when that folder's
    content changed. A different ``raw`` (or processed data that do not record their
    source) stops the build with a message naming both folders.
    """
    accounting = processed / "accounting.json"
    if not accounting.is_file():
        if raw is None:
            raise BuildError(
                f"{processed}: no processed data; run `vip2 clean --raw DIR --out {processed}` "
                "first, or pass --raw DIR to the build"
            )
        return raw
    recorded = json.loads(accounting.read_text(encoding="utf-8"))
    source = recorded.get("source_path")
    if source is None:
        if raw is None:
            return None
        raise BuildError(
            f"{processed} does not record which raw folder it was cleaned from; the build will "
            f"not replace it with {raw}. Run `vip2 clean --raw {raw} --out {processed}` to do "
            "that on purpose, or build without --raw to use the processed data as they are"
        )
    if raw is not None and raw.resolve() != Path(source):
        raise BuildError(
            f"{processed} was cleaned from {source} (recorded in accounting.json), not from "
            f"{raw.resolve()}; the build will not replace it with another source. Run "
            f"`vip2 clean --raw {raw} --out {processed}` to do that on purpose, or build with "
            f"--raw {source}"
        )
    folder = Path(source)
    if not folder.is_dir():  # raw data moved off this machine: build on what is there
        return None
    return folder if source_digest(folder) != recorded.get("source_digest") else None


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
    pending: list[Job], staging: Path, engine: Engine, kernel: str, progress: Progress
) -> dict[str, dict]:
    """Run the pending jobs on the engine (a process pool, or Dask workers), writing into
    ``staging``; a job whose worker died (for good, after Dask's retries) is a failed job."""
    results: dict[str, dict] = {}
    calls = []
    for job in pending:
        params = {**job.parameters, "output_dir": str(staging / job.period / job.name)}
        calls.append((str(job.notebook), params, str(staging / job.period / job.name), kernel))
        progress("queued", job, {})
    for i, outcome in engine.each(run_job, calls):
        job = pending[i]
        if isinstance(outcome, BaseException):
            outcome = {
                "status": "failed",
                "error": type(outcome).__name__,
                "message": str(outcome),
                "cell": None,
                "duration": 0.0,
            }
        results[job.id] = outcome
        progress("done", job, outcome)
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
    engine: Engine | None = None,
    force: bool = False,
    extra: dict[str, Any] | None = None,
    kernel: str = "python3",
    lock_file: Path | None = None,
    progress: Progress = _noop,
) -> BuildResult:
    """Run every (selected) notebook for every (selected) period; see the module docstring.

    An English build (``extra={"lang": "en"}``) is a report of its own, written beside the
    Danish one in ``<out>/en/`` (its own manifest, index and workbooks), never over it.

    The notebook jobs run on ``engine``: by default a pool of ``workers`` processes; a
    :class:`~vip2analysis.engine.DaskEngine` sends them to its Dask workers, one job per
    worker thread. Either way the cache, manifest, lock, staging and the swap into place
    stay in this one process, and the re-clean (when the raw folder changed) runs on the
    same engine.
    """
    lang: Lang = "en" if (extra or {}).get("lang") == "en" else "da"
    if lang == "en":
        out = out / "en"
    out.mkdir(parents=True, exist_ok=True)
    with _Lock(out):
        for leftover in out.glob(".staging-*"):  # from a build that was killed
            shutil.rmtree(leftover, ignore_errors=True)
        source = _clean_from(raw, processed)
        if source is not None:
            _clean_first(source, processed, progress, engine)
        config = load_periods()
        # absolute: a Dask worker may run in another folder (a shared filesystem, same paths)
        chosen = _choose(batch_notebooks(notebooks_dir.resolve()), notebooks, config.names, periods)
        jobs = plan_jobs(chosen[0], chosen[1], processed=processed, out=out, extra=extra)
        inputs = input_digests(processed, lock_file)
        old_manifest = _read_manifest(out)
        previous = {j["id"]: j for j in old_manifest.get("jobs", [])}
        keys = {job.id: job_key(job, inputs) for job in jobs}
        why = {
            j.id: "--force" if force else _stale_reason(j, keys[j.id], previous, out) for j in jobs
        }
        stale = [j for j in jobs if why[j.id]]
        for job in stale:
            progress("stale", job, {"reason": why[job.id]})
        pending = _longest_first(stale, previous)
        run_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
        staging = out.resolve() / f".staging-{run_id}"
        try:
            if engine is None:
                with LocalEngine(workers) as pool:
                    ran = _execute(pending, staging, pool, kernel, progress)
            else:
                ran = _execute(pending, staging, engine, kernel, progress)
            results = _collect(jobs, pending, ran, keys, previous, staging, out)
            for period in sorted({j.period for j in pending}):
                mine = [j for j in jobs if j.period == period]
                k = {j.parameters.get("min_cell", 5) for j in mine}
                _documents(
                    out / period,
                    config[period],
                    # named by its inputs: the same inputs give the same document
                    build_id=hashlib.sha256(
                        "".join(sorted(keys[j.id] for j in mine)).encode()
                    ).hexdigest()[:12],
                    k=k.pop() if len(k) == 1 else 5,
                    lang=lang,
                )
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        audits = {
            period: audit_period(out / period)
            for period in sorted({j.period for j in pending})
            if (out / period).is_dir()
        }
        manifest = _write_manifest(out, run_id, results, inputs, previous, audits)
        everything = _read_manifest(out)["jobs"]
        min_cells = {j["parameters"].get("min_cell", 5) for j in everything}
        index = write_index(
            out,
            everything,
            figures=index_figures(out, config),
            config=config,
            k=min_cells.pop() if len(min_cells) == 1 else 5,
            lang=lang,
        )
        # the data dictionary of the CSV files, beside the index
        (out / "README.md").write_text(data_dictionary(), encoding="utf-8")
        rebuilt = {j.id: why[j.id] for j in stale}
        return BuildResult(run_id, results, manifest, index, audits, rebuilt)


def _clean_first(raw: Path, processed: Path, progress: Progress, engine: Engine | None) -> None:
    """Re-clean ``raw`` into ``processed`` with the options the last clean recorded."""
    progress("clean", None, {"raw": str(raw)})  # type: ignore[arg-type]
    accounting = processed / "accounting.json"
    recorded = json.loads(accounting.read_text(encoding="utf-8")) if accounting.is_file() else {}
    options = recorded.get("options", {})
    config = recorded.get("config", {}).get("path")
    try:
        clean_and_measure(
            raw,
            processed,
            **register_options(recorded),
            ids="pseudonymised" if recorded.get("ids") == "pseudonymised" else "cpr",
            sheet=options.get("sheet"),
            exclude=tuple(options.get("exclude", ())),
            keep_going=bool(options.get("keep_going", False)),
            config=config if config and Path(config).is_file() else None,
            engine=engine,
        )
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


def _stale_reason(job: Job, key: str, previous: dict[str, dict], out: Path) -> str:
    """Why ``job`` must run ('' when its outputs are fresh): never built, failed last time,
    an input changed, or its published files are not those the manifest recorded (an
    exploratory run or a hand edit)."""
    old = previous.get(job.id)
    folder = out / job.period / job.name
    if not old:
        return "not built before"
    if old.get("status") not in ("ok", "skipped"):
        return "failed last time"
    if old.get("key") != key:
        return "an input changed (notebook, parameters, data, library or lock file)"
    if not folder.is_dir():
        return "its outputs are missing"
    recorded = old.get("outputs") or {}
    now = _outputs_digest(folder, out)
    changed = sorted(
        name for name in set(recorded) | set(now) if recorded.get(name) != now.get(name)
    )
    if changed:
        more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
        return f"its outputs changed since they were built ({changed[0]}{more})"
    return ""


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
            results.append(
                JobResult(
                    **base,
                    status="skipped",
                    duration=old.get("duration", 0.0),
                    executed=old.get("executed"),
                )
            )
            continue
        info = ran[job.id]
        executed: str | None
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


def _documents(period_dir: Path, period: Any, *, build_id: str, k: int, lang: Lang) -> None:
    """The period's workbook and Word report, from what its notebooks published."""
    if not period_dir.is_dir():
        return
    names = ("tabeller", "rapport") if lang == "da" else ("tables", "report")
    write_workbook(period_dir, period_dir / f"{names[0]}_{period_dir.name}.xlsx", k=k, lang=lang)
    write_report(
        period_dir,
        period_dir / f"{names[1]}_{period_dir.name}.docx",
        period=period,
        build_id=build_id,
        lang=lang,
        k=k,
    )
