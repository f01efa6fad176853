"""The build manifest: what was built from what, with versions, git state and output hashes."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from dataclasses import asdict
from pathlib import Path
from typing import Any

from vip2analysis.build.jobs import JobResult
from vip2analysis.config import PACKAGE_DIR
from vip2analysis.io.files import sha256_file

__all__ = ["previous_audits"]


_MANIFEST = "manifest.json"


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
    return {
        str(p.relative_to(root)): sha256_file(p) for p in sorted(folder.rglob("*")) if p.is_file()
    }


def previous_audits(out: Path) -> dict[str, Any]:
    """The audits recorded by the last build (periods this build did not touch keep theirs)."""
    return dict(_read_manifest(out).get("audits", {}))


def _write_manifest(
    out: Path,
    run_id: str,
    results: list[JobResult],
    inputs: dict[str, str],
    previous: dict,
    audits: dict[str, Any],
) -> Path:
    """Replace the manifest: every job of the last state. Jobs outside this run keep their
    previous entries; a job that failed keeps the record of the good outputs still in
    place (``stale``: True), so that the index can link them and mark them."""
    planned = {r.id for r in results}
    jobs = [entry for job_id, entry in previous.items() if job_id not in planned]
    for r in results:
        entry = asdict(r)
        folder = out / r.period / r.notebook
        if r.status != "failed":
            entry["outputs"] = _outputs_digest(folder, out) if folder.is_dir() else {}
        else:
            old = previous.get(r.id, {})
            entry["outputs"] = old.get("outputs", {}) if folder.is_dir() else {}
            entry["stale"] = folder.is_dir()
        jobs.append(entry)
    audit = {
        period: {"cells": a.cells, "leaks": a.leaks, "unaudited": a.unaudited}
        for period, a in audits.items()
    }
    manifest = {
        "run_id": run_id,
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git": _git_state(PACKAGE_DIR.parent),
        "versions": _versions(),
        "inputs": inputs,
        "workbooks": {
            str(p.relative_to(out)): sha256_file(p)
            for p in sorted([*out.glob("*/tabeller_*.xlsx"), *out.glob("*/tables_*.xlsx")])
        },
        "reports": {
            str(p.relative_to(out)): sha256_file(p)
            for p in sorted([*out.glob("*/rapport_*.docx"), *out.glob("*/report_*.docx")])
        },
        "jobs": sorted(jobs, key=lambda j: (j["period"], j["notebook"])),
        "audits": {**previous_audits(out), **audit},
    }
    path = out / _MANIFEST
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    os.replace(tmp, path)
    return path
