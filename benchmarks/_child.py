"""What the benchmarks share: a measurement in a fresh Python process."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def run_child(code: str, *args: str) -> dict[str, Any]:
    """Run ``code`` in a fresh Python process from the repository root; its JSON output
    (the last line it prints). A failure stops the benchmark with the child's output."""
    res = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True
    )
    if res.returncode != 0:
        sys.exit(f"measurement failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def add_engine_options(parser: argparse.ArgumentParser, *, default: str, what: str) -> None:
    """``--engine local|dask`` (with ``dask``, also time ``what`` on a LocalCluster of
    ``--workers`` worker processes, one thread each) and ``--workers``."""
    parser.add_argument(
        "--engine",
        choices=("local", "dask"),
        default=default,
        help=f"dask: also time {what} on a Dask LocalCluster (one thread per worker)",
    )
    parser.add_argument("--workers", type=int, default=2, help="Dask workers (--engine dask)")
