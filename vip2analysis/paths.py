"""Paths, defined once. The project root is where ``pyproject.toml`` lives when run from a
checkout; ``VIP2_ROOT`` overrides it."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["OUTPUTS", "PROCESSED", "RAW", "ROOT", "SYNTHETIC_RAW"]


def _root() -> Path:
    env = os.environ.get("VIP2_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve().parent.parent
    return here if (here / "pyproject.toml").is_file() else Path.cwd()


ROOT = _root()
RAW = ROOT / "data" / "raw"
SYNTHETIC_RAW = RAW / "synthetic"
PROCESSED = ROOT / "data" / "processed"
OUTPUTS = ROOT / "outputs"
