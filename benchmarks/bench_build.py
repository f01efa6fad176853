"""Time ``vip2 build`` against the plain papermill loop an evaluator would script.

One run times, on this machine:

1. a full ``python -m vip2analysis build --force`` of every notebook x period (default
   ``--jobs``);
2. a no-op rebuild right after it (nothing changed; best of three, wall time of the whole
   command as a user sees it);
3. the same full build with ``--engine dask`` (a LocalCluster of one worker process per
   core, one thread each; its start-up is timed too);
4. a sequential loop of separate ``papermill -k python3 --cwd notebooks ...`` commands over
   the same notebooks and parameters.

Targets: the full build takes at most half the sequential loop; the no-op rebuild takes
under 1.5 s; the Dask build takes at most 1.1x the local one. Everything is written under ``benchmarks/work/`` (git-ignored); the results go
to ``benchmarks/results/build.json``.

Besides wall time, each phase records the CPU seconds its commands used and the CPU seconds
the rest of the machine used meanwhile (from ``/proc/stat``): on a shared machine, a ratio
measured while others were busy in only one phase is not a fair comparison.

Usage: ``.venv/bin/python benchmarks/bench_build.py``
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PROCESSED = ROOT / "data" / "processed"
RAW = ROOT / "data" / "raw" / "synthetic"
WORK = ROOT / "benchmarks" / "work"
RESULTS = ROOT / "benchmarks" / "results" / "build.json"
RATIO_TARGET = 0.5
NOOP_TARGET_S = 1.5
DASK_RATIO_TARGET = 1.1


class _Phase:
    """Wall time, CPU seconds of our child processes, and CPU seconds of everything else
    on the machine, between ``with`` and the end of the block."""

    def __enter__(self) -> _Phase:
        self._wall, self._cpu, self._busy = time.perf_counter(), _children_cpu(), _machine_busy()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = _children_cpu() - self._cpu
        busy = _machine_busy()
        self.others = None if busy is None else max(0.0, busy - self._busy - self.cpu)

    def report(self) -> dict[str, float | None]:
        others = None if self.others is None else round(self.others, 1)
        return {"wall_s": round(self.wall, 2), "cpu_s": round(self.cpu, 1), "others_cpu_s": others}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _machine_busy() -> float | None:
    """CPU seconds spent by the whole machine since boot (Linux), None elsewhere."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _run(cmd: list[str]) -> float:
    """Run ``cmd`` from the repository root; return its wall time; stop on failure."""
    start = time.perf_counter()
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if res.returncode != 0:
        sys.exit(f"failed ({res.returncode}): {' '.join(cmd)}\n{res.stdout}\n{res.stderr}")
    return elapsed


def _ensure_processed() -> None:
    """Clean the bundled data first when it is missing or older than the raw files, so
    that no timed build spends time cleaning."""
    marker = PROCESSED / "accounting.json"
    newest_raw = max((p.stat().st_mtime for p in RAW.rglob("*") if p.is_file()), default=0)
    if not marker.is_file() or newest_raw > marker.stat().st_mtime:
        print("cleaning data/processed first ...")
        _run([sys.executable, "-m", "vip2analysis", "clean"])


def _periods() -> list[str]:
    from vip2analysis.contract import load_periods

    return load_periods().names


def _build(out: Path, *, force: bool, engine: tuple[str, ...] = ()) -> float:
    cmd = [sys.executable, "-m", "vip2analysis", "build", "--out", str(out), *engine]
    return _run([*cmd, "--force"] if force else cmd)


def _sequential(seq: Path, periods: list[str], notebooks: list[Path]) -> None:
    papermill = str(Path(sys.executable).parent / "papermill")
    for period in periods:
        (seq / period).mkdir(parents=True, exist_ok=True)  # papermill does not create it
        for nb in notebooks:
            _run(
                [
                    papermill,
                    "-k",
                    "python3",
                    "--cwd",
                    "notebooks",
                    f"notebooks/{nb.name}",
                    str(seq / period / nb.name),
                    "-p",
                    "period",
                    period,
                    "-p",
                    "processed_dir",
                    str(PROCESSED),
                    "-p",
                    "output_dir",
                    str(seq / period / nb.stem),
                ]
            )


def _published(folder: Path) -> dict[str, str]:
    """sha256 of every table and figure under ``folder`` (keyed by relative path)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.parent.name in ("tables", "figures") and p.is_file()
    }


def _job_durations(out: Path) -> dict[str, float]:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {job["id"]: job["duration"] for job in manifest["jobs"]}


def _summary(result: dict) -> str:
    t = result["times_s"]
    others = {name: phase["others_cpu_s"] for name, phase in result["phases"].items()}
    lines = [
        f"{result['jobs']} jobs on {result['nproc']} cores (load before: {result['loadavg_before']})",
        f"CPU seconds used by other processes meanwhile: {others}",
        f"sequential papermill loop : {t['sequential']:8.1f} s",
        f"vip2 build --force        : {t['build']:8.1f} s   ratio {result['ratio']:.2f} "
        f"(target <= {RATIO_TARGET}: {'met' if result['targets']['ratio']['met'] else 'NOT met'})",
        f"no-op rebuild (best of {len(t['noop_runs'])}) : {t['noop']:8.2f} s   "
        f"(target < {NOOP_TARGET_S} s: {'met' if result['targets']['noop']['met'] else 'NOT met'})",
        f"tables and figures equal to the papermill loop's: {result['same_as_sequential']}",
        f"vip2 build --engine dask  : {t['dask_build']:8.1f} s   ratio to the local build "
        f"{result['ratio_dask_to_local']:.2f} (target <= {DASK_RATIO_TARGET}: "
        f"{'met' if result['targets']['dask_ratio']['met'] else 'NOT met'}); same tables and "
        f"figures: {result['dask_same_as_local']}",
    ]
    return "\n".join(lines)


def _measure(periods: list[str], notebooks: list[Path], noop_repeats: int) -> dict:
    """Run the three phases in order; return their measurements and the per-job durations."""
    out, seq = WORK / "outputs", WORK / "seq"
    shutil.rmtree(seq, ignore_errors=True)
    print(f"full build of {len(notebooks)} notebooks x {len(periods)} periods ...")
    with _Phase() as build:
        _build(out, force=True)
    durations = _job_durations(out)
    print("no-op rebuilds ...")
    with _Phase() as noop:
        noop_runs = [_build(out, force=False) for _ in range(noop_repeats)]
    print("the same build on a Dask LocalCluster (2 worker processes, 1 thread each) ...")
    dask_out = WORK / "outputs-dask"
    with _Phase() as dask:
        _build(dask_out, force=True, engine=("--engine", "dask"))
    print("sequential papermill loop ...")
    with _Phase() as sequential:
        _sequential(seq, periods, notebooks)
    return {
        "phases": {"build": build, "noop": noop, "dask": dask, "sequential": sequential},
        "noop_runs": noop_runs,
        "durations": durations,
        "same": _published(out) == _published(seq),
        "dask_same": _published(out) == _published(dask_out),
    }


def _result(measured: dict, jobs: int, loadavg: list[float]) -> dict:
    phases = measured["phases"]
    ratio = phases["build"].wall / phases["sequential"].wall
    dask_ratio = phases["dask"].wall / phases["build"].wall
    noop_s = min(measured["noop_runs"])
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "nproc": os.cpu_count(),
        "loadavg_before": loadavg,
        "versions": {
            "python": platform.python_version(),
            "papermill": version("papermill"),
            "nbclient": version("nbclient"),
        },
        "jobs": jobs,
        "times_s": {
            "sequential": round(phases["sequential"].wall, 2),
            "build": round(phases["build"].wall, 2),
            "dask_build": round(phases["dask"].wall, 2),
            "noop": round(noop_s, 3),
            "noop_runs": [round(x, 3) for x in measured["noop_runs"]],
        },
        "ratio": round(ratio, 3),
        "phases": {name: phase.report() for name, phase in phases.items()},
        "job_durations_s": measured["durations"],
        "same_as_sequential": measured["same"],
        "dask_same_as_local": measured["dask_same"],
        "ratio_dask_to_local": round(dask_ratio, 3),
        "targets": {
            "dask_ratio": {
                "target": DASK_RATIO_TARGET,
                "value": round(dask_ratio, 3),
                "met": dask_ratio <= DASK_RATIO_TARGET,
            },
            "ratio": {
                "target": RATIO_TARGET,
                "value": round(ratio, 3),
                "met": ratio <= RATIO_TARGET,
            },
            "noop": {
                "target_s": NOOP_TARGET_S,
                "value": round(noop_s, 3),
                "met": noop_s < NOOP_TARGET_S,
            },
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noop-repeats", type=int, default=3, help="no-op rebuilds to time")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write JSON")
    args = parser.parse_args(argv)

    _ensure_processed()
    periods = _periods()
    notebooks = sorted(NOTEBOOKS.glob("[0-9]*.ipynb"))
    loadavg = [round(x, 2) for x in os.getloadavg()]
    measured = _measure(periods, notebooks, args.noop_repeats)
    result = _result(measured, len(notebooks) * len(periods), loadavg)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(_summary(result))
    print(f"written to {args.results}")


if __name__ == "__main__":
    main()
