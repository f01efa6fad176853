"""One place for paths, seeds and marker names.

The project root is where ``pyproject.toml`` lives when run from a checkout;
``VIP2_ROOT`` overrides it. Everything else that is a fixed fact of the project and is
used in more than one room is named here once.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "DEFAULT_MIN_CELL",
    "DEFAULT_SEED",
    "OUTPUTS",
    "PACKAGE_DIR",
    "PROCESSED",
    "RAW",
    "ROOT",
    "SYNTHETIC_MARKER",
    "SYNTHETIC_RAW",
]

PACKAGE_DIR = Path(__file__).resolve().parent
"""The installed package; a pseudonymisation key file may never lie inside it."""


def _root() -> Path:
    env = os.environ.get("VIP2_ROOT")
    if env:
        return Path(env).resolve()
    here = PACKAGE_DIR.parent
    return here if (here / "pyproject.toml").is_file() else Path.cwd()


ROOT = _root()
RAW = ROOT / "data" / "raw"
SYNTHETIC_RAW = RAW / "synthetic"
PROCESSED = ROOT / "data" / "processed"
OUTPUTS = ROOT / "outputs"

DEFAULT_SEED = 20100615
"""Seed of the bundled synthetic data set (the last day of the VIP2 project)."""

SYNTHETIC_MARKER = "SYNTHETIC.json"
"""File by which a raw folder declares that it is synthetic and may use the demo key."""

DEFAULT_MIN_CELL = 5
"""Smallest number of persons a published cell may show (Statistics Denmark's rule)."""
