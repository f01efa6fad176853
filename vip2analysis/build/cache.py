"""What a job depends on, hashed: the cache key that decides whether a job is rebuilt."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from vip2analysis.build.jobs import Job
from vip2analysis.config import PACKAGE_DIR
from vip2analysis.io.files import sha256_file, tree_digest

__all__: list[str] = []


def _library_files() -> list[Path]:
    return [
        p
        for p in PACKAGE_DIR.rglob("*")
        if p.is_file() and p.suffix in (".py", ".yaml", ".csv", ".md")
    ]


def input_digests(processed: Path, lock_file: Path | None) -> dict[str, str]:
    """sha256 of everything a job depends on besides its template and parameters."""
    digests = {
        f"processed/{p.name}": sha256_file(p)
        for p in sorted(processed.glob("*"))
        if p.is_file() and not p.name.startswith(".")
    }
    digests["library"] = tree_digest(_library_files(), PACKAGE_DIR)
    if lock_file is not None and lock_file.is_file():
        digests["requirements.lock"] = sha256_file(lock_file)
    return digests


def job_key(job: Job, inputs: dict[str, str]) -> str:
    """Digest of what a job's outputs depend on. ``output_dir`` is left out: the notebook
    always runs with a staging folder in its place, so where the outputs folder lives (or
    was copied to) changes nothing."""
    parameters = {k: v for k, v in job.parameters.items() if k != "output_dir"}
    payload = {"template": sha256_file(job.notebook), "parameters": parameters, "inputs": inputs}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
