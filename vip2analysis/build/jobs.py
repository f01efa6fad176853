"""Jobs: one notebook for one period, planned, then executed by papermill into staging."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vip2analysis.build.params import check_extra, check_parameters, notebook_parameters
from vip2analysis.errors import ParameterError

__all__ = [
    "LAB_ONLY",
    "Job",
    "JobResult",
    "plan_jobs",
    "run_job",
]


LAB_ONLY = "lab-only"
"""Tag of notebook cells meant for the lab only (how to run it): not in the published HTML."""


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


def plan_jobs(
    notebooks: list[Path],
    periods: list[str],
    *,
    processed: Path,
    out: Path,
    extra: dict[str, Any] | None = None,
) -> list[Job]:
    """Jobs for every notebook x period, parameters checked against each notebook before
    any kernel starts.

    ``extra`` may not set what the build sets itself; each of its names must be declared by
    at least one of ``notebooks`` and goes to the notebooks that declare it (so that
    ``bootstrap_reps`` reaches the effects notebook only).
    """
    extra = extra or {}
    check_extra(extra)
    declared_by = {nb: notebook_parameters(nb) for nb in notebooks}
    for name in extra:
        if not any(name in declared for declared in declared_by.values()):
            accepted = sorted({p for declared in declared_by.values() for p in declared})
            raise ParameterError(
                f"unknown parameter `{name}`: no notebook of this build declares it; "
                f"they accept: {', '.join(accepted)}"
            )
    jobs = []
    for period in periods:
        for nb in notebooks:
            declared = declared_by[nb]
            params = {
                "period": period,
                "processed_dir": str(processed.resolve()),
                "output_dir": str((out / period / nb.stem).resolve()),
                **extra,
            }
            params = {k: v for k, v in params.items() if k in declared}
            check_parameters(nb, params)
            # effective values: the notebook's defaults, overridden; so passing a default
            # explicitly is no change (and does not invalidate the cache)
            effective = {name: default for name, (_, default) in declared.items()} | params
            jobs.append(Job(nb, period, effective))
    return jobs


def _strip_timings(nb_path: Path, lang: str = "da") -> None:
    """Drop papermill's run timestamps so the executed notebook depends on inputs only; in
    an English report, put each text cell's English (its ``vip2.en`` metadata) in place."""
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    if lang == "en":
        for cell in nb.get("cells", []):
            english = cell.get("metadata", {}).get("vip2", {}).get("en")
            if cell.get("cell_type") == "markdown" and english:
                cell["source"] = english
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
    from nbconvert.preprocessors import TagRemovePreprocessor

    # cells tagged "lab-only" (how to run the notebook in JupyterLab) are for the lab
    exporter = HTMLExporter(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags={LAB_ONLY}, enabled=True), enabled=True
    )
    body, _ = exporter.from_notebook_node(nbformat.read(nb_path, as_version=4))
    html_path.write_text(body, encoding="utf-8")


def run_job(template: str, params: dict[str, Any], staging: str, kernel: str) -> dict[str, Any]:
    """Execute one notebook with papermill into ``staging``; never raises for a failing cell.

    ``staging`` is emptied first: a job run again (its Dask worker died) starts clean.
    """
    import papermill as pm

    staging_dir = Path(staging)
    shutil.rmtree(staging_dir, ignore_errors=True)
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
            # the kernel's own start-up warnings (e.g. "running over TCP") would print once
            # per job on the build console; errors still show
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
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
        _strip_timings(nb_out, str(params.get("lang", "da")))
        if result["status"] == "ok":
            _html(nb_out, staging_dir / f"{Path(template).stem}.html")
    result["duration"] = round(time.perf_counter() - start, 2)
    result["executed"] = str(nb_out)
    return result


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
