"""Shared fixtures: paths of the repository and of the bundled synthetic data."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
SYNTHETIC = ROOT / "data" / "raw" / "synthetic"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def synthetic_dir() -> Path:
    return SYNTHETIC


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(scope="session")
def processed_dir(tmp_path_factory) -> Path:
    """The bundled synthetic set cleaned into a temporary folder (once per session)."""
    from vip2analysis.register import clean_and_measure

    out = tmp_path_factory.mktemp("processed")
    clean_and_measure(SYNTHETIC, out)
    return out
