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


@pytest.fixture(scope="session")
def local_cluster():
    """A Dask engine on a LocalCluster of 2 worker processes (processes=True, so anything
    that cannot be pickled fails), started once per session when a test asks for it."""
    from vip2analysis.engine import DaskEngine

    with DaskEngine(workers=2) as engine:
        yield engine


class Loopback:
    """A real `dask scheduler` and `dask worker` subprocesses on 127.0.0.1."""

    def __init__(self, folder: Path, workers: int = 2) -> None:
        import json
        import subprocess
        import sys
        import time

        dask = Path(sys.executable).parent / "dask"
        file = folder / "scheduler.json"
        self.logs = folder
        self.scheduler = subprocess.Popen(
            [str(dask), "scheduler", "--host", "127.0.0.1", "--port", "0", *self._file(file)],
            stdout=subprocess.DEVNULL,
            stderr=(folder / "scheduler.log").open("w"),
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while not file.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.address = json.loads(file.read_text())["address"]
        self.workers = [
            subprocess.Popen(
                [str(dask), "worker", *self._file(file), "--nthreads", "1", "--name", f"w{i}"],
                stdout=subprocess.DEVNULL,
                stderr=(folder / f"worker{i}.log").open("w"),
                start_new_session=True,  # its own process group: killed with its children
                cwd=folder,
            )
            for i in range(workers)
        ]
        from distributed import Client

        with Client(self.address, timeout=30) as client:
            client.wait_for_workers(workers, timeout=60)

    @staticmethod
    def _file(file: Path) -> list[str]:
        return ["--scheduler-file", str(file), "--no-dashboard", "--host", "127.0.0.1"]

    def kill(self, i: int) -> None:
        import os
        import signal

        os.killpg(self.workers[i].pid, signal.SIGKILL)
        self.workers[i].wait()

    def close(self) -> None:
        import os
        import signal

        for proc in [*self.workers, self.scheduler]:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in [*self.workers, self.scheduler]:
            try:
                proc.wait(timeout=20)
            except Exception:
                os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def loopback(tmp_path_factory):
    """A scheduler and two worker subprocesses on the loopback interface (session-wide)."""
    cluster = Loopback(tmp_path_factory.mktemp("loopback"))
    yield cluster
    cluster.close()


@pytest.fixture
def fresh_loopback(tmp_path_factory):
    """A scheduler and two worker subprocesses of the test's own (for killing one)."""
    cluster = Loopback(tmp_path_factory.mktemp("loopback"))
    yield cluster
    cluster.close()


def _digests(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (hidden files and folders left out)."""
    import hashlib

    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    }


@pytest.fixture(scope="session")
def digests():
    """sha256 of every file under a folder, by relative path (hidden ones left out)."""
    return _digests
