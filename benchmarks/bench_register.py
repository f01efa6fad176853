"""Time the register measures on a large synthetic DREAM extract against a bare parquet read.

One run, on this machine, for ``--persons`` persons (default 1,000,000):

1. writes the large synthetic extract (``vip2analysis.synth.large_dream``: parquet and
   CSV.gz, weeks 2000W01-2012W52, ``branche_`` months 2008-2012), unless ``--keep DIR``
   already holds one of that size (without ``--keep`` it goes to a temporary folder);
2. times a bare ``pyarrow.parquet.read_table`` of ``dream_large.parquet``;
3. times ``vip2analysis.register.measure_file`` over the same file with one start week per
   person (drawn from the seed, between week 104 and the 105th week from the end) and
   ``--block-rows`` persons per block (default: ``measure_file``'s own default).

Every measurement runs in a fresh Python process, timed inside it around the call, so
imports are not counted; the numba kernel is compiled (or loaded from its disk cache) on a
tiny array before the clock starts. Each process reports its own peak resident memory.
Timings are the median of ``--repeats`` runs (default 3).

4. with ``--engine dask``, times the same ``measure_file`` call on a Dask LocalCluster of
   ``--workers`` worker processes (one thread each; default 2), one task per row group of
   the file, after the kernel is compiled on every worker; each worker reports its peak
   resident memory.

Targets: the measures take at most 3x the bare read and peak under 4096 MB; on Dask at
most 0.65x the local engine's wall time, under 2048 MB per worker. Results go to
``benchmarks/results/register.json``.

Usage: ``.venv/bin/python benchmarks/bench_register.py [--persons N] [--block-rows B]
[--keep DIR] [--engine dask [--workers W]]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

from _child import add_engine_options, run_child

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "register.json"
SEED = 20100615
TARGETS = {"ratio_to_bare_read": 3.0, "peak_rss_mb": 4096}
DASK_TARGETS = {"ratio_dask_to_local": 0.65, "dask_worker_peak_rss_mb": 2048}
THREAD_VARIABLES = (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "OMP_THREAD_LIMIT",
)

# What a measuring child process runs; it prints one JSON line. Timed inside the child.
_BARE = """
import json, resource, sys, time
import pyarrow.parquet as pq
start, cpu = time.perf_counter(), time.process_time()
table = pq.read_table(sys.argv[1])
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "cpu": cpu, "rows": table.num_rows, "peak_rss": rss}))
"""
# What both measuring children share: the inputs and a warm-up that compiles the kernel
# (or loads it from numba's cache) with the same argument types.
_SETUP = """
import inspect, json, resource, sys, time
import numpy as np
import pyarrow.parquet as pq
from vip2analysis.register import measure_codes, measure_file
path, seed = sys.argv[1], int(sys.argv[2])
# "default": measure_file's own block size
default = inspect.signature(measure_file).parameters["block_rows"].default
block_rows = default if sys.argv[3] == "default" else int(sys.argv[3])
meta = pq.ParquetFile(path).metadata
persons = meta.num_rows
weeks = sum(name.startswith("y_") for name in meta.schema.names)
t0 = np.random.default_rng([seed, 1]).integers(104, weeks - 105, size=persons, endpoint=True)

def warm():
    tiny = np.array([[730, 0, 731, 730, 0, 997]], dtype=np.int16)
    measure_codes(tiny, np.ones((1, 1), np.uint8), np.zeros(6, np.int64), np.array([0]),
                  np.array([3]), horizons=(2,))
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

def checked(frame):
    return {
        "weeks_public_support_mean": float(frame["weeks_public_support"].mean()),
        "employment_share_52_mean": float(frame["employment_share_52"].mean()),
    }
"""
_MEASURES = (
    _SETUP
    + """
warm_rss = warm()
start, cpu = time.perf_counter(), time.process_time()
frame = measure_file(path, t0, block_rows=block_rows)
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "cpu": cpu, "rows": len(frame), "peak_rss": rss,
                  "peak_rss_before_call": warm_rss, "block_rows": block_rows,
                  "check": checked(frame)}))
"""
)
_DASK = (
    _SETUP
    + """
from vip2analysis.engine import DaskEngine
workers = int(sys.argv[4])

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

def cpu_seconds():
    return time.process_time()

with DaskEngine(workers=workers) as engine:
    engine.client.wait_for_workers(workers)
    warm_rss = engine.client.run(warm)  # compile the kernel on every worker first
    workers_cpu = engine.client.run(cpu_seconds)
    start, cpu = time.perf_counter(), time.process_time()
    frame = measure_file(path, t0, block_rows=block_rows, engine=engine)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    workers_cpu = {w: c - workers_cpu[w] for w, c in engine.client.run(cpu_seconds).items()}
    workers_rss = engine.client.run(peak)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "cpu": cpu, "rows": len(frame), "peak_rss": rss,
                  "workers_cpu": sum(workers_cpu.values()),
                  "workers_peak_rss": sorted(workers_rss.values()),
                  "workers_rss_before_call": sorted(warm_rss.values()),
                  "row_groups": meta.num_row_groups, "block_rows": block_rows,
                  "check": checked(frame)}))
"""
)


def _ensure_data(folder: Path, persons: int) -> tuple[dict[str, Any], float | None]:
    """The extract's marker in ``folder`` (written if missing or of another size) and the
    seconds it took to write it (None when reused)."""
    from vip2analysis.synth.large_dream import CSV_NAME, PARQUET_NAME

    marker = folder / "SYNTHETIC.json"
    if marker.is_file() and (folder / PARQUET_NAME).is_file() and (folder / CSV_NAME).is_file():
        meta = json.loads(marker.read_text(encoding="utf-8"))
        if meta.get("persons") == persons and meta.get("seed") == SEED:
            print(f"reusing the extract in {folder}", flush=True)
            return meta, None
    from vip2analysis.synth.large_dream import write_large_dream

    print(f"writing the synthetic DREAM extract with {persons:,} persons ...", flush=True)
    start = time.perf_counter()
    meta = write_large_dream(folder, persons=persons, seed=SEED)
    return meta, time.perf_counter() - start


def _machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        **{name: version(name) for name in ("pandas", "pyarrow", "numpy", "numba")},
        "thread_variables": {name: os.environ.get(name) for name in THREAD_VARIABLES},
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
    }


def _measure(
    path: Path, block_rows: int | None, repeats: int, dask_workers: int | None
) -> dict[str, Any]:
    bare, measures, dask = [], [], []
    block = "default" if block_rows is None else str(block_rows)
    for i in range(repeats):
        print(f"  run {i + 1}/{repeats}: bare read ...", end="", flush=True)
        bare.append(run_child(_BARE, str(path)))
        print(f" {bare[-1]['seconds']:.2f} s; measures ...", end="", flush=True)
        measures.append(run_child(_MEASURES, str(path), str(SEED), block))
        print(f" {measures[-1]['seconds']:.2f} s", end="", flush=True)
        if dask_workers:
            print(f"; Dask, {dask_workers} workers ...", end="", flush=True)
            dask.append(run_child(_DASK, str(path), str(SEED), block, str(dask_workers)))
            print(f" {dask[-1]['seconds']:.2f} s", end="", flush=True)
        print(flush=True)
    bare_s = statistics.median(r["seconds"] for r in bare)
    measures_s = statistics.median(r["seconds"] for r in measures)
    engine: dict[str, Any] = {}
    if dask:
        dask_s = statistics.median(r["seconds"] for r in dask)
        if dask[0]["check"] != measures[0]["check"]:
            sys.exit(f"Dask and local measures differ: {dask[0]['check']} {measures[0]['check']}")
        engine = {
            "engine": "dask",
            "dask_workers": dask_workers,
            "local_s": round(measures_s, 3),
            "dask_s": round(dask_s, 3),
            "dask_runs_s": [round(r["seconds"], 3) for r in dask],
            "dask_cpu_s": round(statistics.median(r["cpu"] + r["workers_cpu"] for r in dask), 3),
            "dask_client_cpu_s": round(statistics.median(r["cpu"] for r in dask), 3),
            "ratio_dask_to_local": round(dask_s / measures_s, 3),
            "dask_worker_peak_rss_mb": round(max(max(r["workers_peak_rss"]) for r in dask) / 2**20),
            "dask_worker_rss_before_call_mb": round(
                max(max(r["workers_rss_before_call"]) for r in dask) / 2**20
            ),
            "dask_client_peak_rss_mb": round(max(r["peak_rss"] for r in dask) / 2**20),
            "dask_tasks": dask[0]["row_groups"],
        }
    return {
        "bare_read_s": round(bare_s, 3),
        "bare_read_runs_s": [round(r["seconds"], 3) for r in bare],
        "bare_read_cpu_s": round(statistics.median(r["cpu"] for r in bare), 3),
        "bare_read_peak_rss_mb": round(max(r["peak_rss"] for r in bare) / 2**20),
        "measures_s": round(measures_s, 3),
        "measures_runs_s": [round(r["seconds"], 3) for r in measures],
        "measures_cpu_s": round(statistics.median(r["cpu"] for r in measures), 3),
        "ratio_to_bare_read": round(measures_s / bare_s, 2),
        "peak_rss_mb": round(max(r["peak_rss"] for r in measures) / 2**20),
        "peak_rss_before_call_mb": round(max(r["peak_rss_before_call"] for r in measures) / 2**20),
        "measured_rows": measures[0]["rows"],
        "block_rows": measures[0]["block_rows"],
        "check": measures[0]["check"],
        **engine,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000, help="persons in the extract")
    parser.add_argument(
        "--block-rows", type=int, help="persons per block (default: measure_file's default)"
    )
    parser.add_argument("--keep", type=Path, help="folder to keep (and reuse) the extract in")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results JSON")
    add_engine_options(parser, default="local", what="measure_file")
    args = parser.parse_args(argv)
    command = shlex.join([Path(sys.executable).name, *sys.argv])
    with tempfile.TemporaryDirectory(prefix="bench_register_") as scratch:
        folder = args.keep.resolve() if args.keep else Path(scratch)
        meta, write_s = _ensure_data(folder, args.persons)
        path = folder / "dream_large.parquet"
        block = "measure_file's default" if args.block_rows is None else f"{args.block_rows:,}"
        print(f"measuring {args.persons:,} persons, {block} per block ...", flush=True)
        dask_workers = args.workers if args.engine == "dask" else None
        timings = _measure(path, args.block_rows, args.repeats, dask_workers)
    if timings["measured_rows"] != args.persons:
        sys.exit(f"measure_file returned {timings['measured_rows']} rows, not {args.persons}")
    met = {
        "ratio_to_bare_read": timings["ratio_to_bare_read"] <= TARGETS["ratio_to_bare_read"],
        "peak_rss_mb": timings["peak_rss_mb"] < TARGETS["peak_rss_mb"],
    }
    if args.engine == "dask":
        met["ratio_dask_to_local"] = (
            timings["ratio_dask_to_local"] <= DASK_TARGETS["ratio_dask_to_local"]
        )
        met["dask_worker_peak_rss_mb"] = (
            timings["dask_worker_peak_rss_mb"] < DASK_TARGETS["dask_worker_peak_rss_mb"]
        )
    results = {
        "benchmark": "register",
        "date": dt.date.today().isoformat(),
        "command": command,
        "machine": _machine(),
        "persons": args.persons,
        "weeks": meta["weeks"],
        "months": meta["months"],
        "repeats": args.repeats,
        "files_mb": {name: round(size / 2**20, 1) for name, size in meta["files"].items()},
        "write_extract_s": None if write_s is None else round(write_s, 1),
        "block_rows_option": args.block_rows,
        **{k: v for k, v in timings.items() if k != "measured_rows"},
        "targets": {**TARGETS, **(DASK_TARGETS if args.engine == "dask" else {})},
        "met": met,
        "note": "Each timing is the median of fresh-process runs, timed around the call "
        "(wall clock; *_cpu_s is the process's CPU time over all its threads, less "
        "sensitive to other load, see machine.load_average_1_5_15 at the end of the run); "
        "the numba kernel is warmed on a tiny array first. Peak RSS is the measures "
        "process's own maximum resident set (imports and warm-up included). On Dask, "
        "dask_cpu_s is the CPU time of the client and the workers during the call: the "
        "local engine already keeps both cores busy part of the time (pyarrow decodes "
        "the parquet columns in threads), so two workers can at best bring the wall time "
        "to about (local CPU seconds) / 2.",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(
        f"persons {args.persons:,}, weeks {meta['weeks']}, block {timings['block_rows']:,}: "
        f"bare read {timings['bare_read_s']:.2f} s, measures {timings['measures_s']:.2f} s, "
        f"ratio {timings['ratio_to_bare_read']} (target <= {TARGETS['ratio_to_bare_read']}: "
        f"{'met' if met['ratio_to_bare_read'] else 'NOT met'}); peak RSS "
        f"{timings['peak_rss_mb']:,} MB (target < {TARGETS['peak_rss_mb']}: "
        f"{'met' if met['peak_rss_mb'] else 'NOT met'})"
    )
    if args.engine == "dask":
        print(
            f"Dask, {args.workers} workers: {timings['dask_s']:.2f} s against local "
            f"{timings['local_s']:.2f} s, ratio {timings['ratio_dask_to_local']} (target <= "
            f"{DASK_TARGETS['ratio_dask_to_local']}: "
            f"{'met' if met['ratio_dask_to_local'] else 'NOT met'}); peak RSS per worker "
            f"{timings['dask_worker_peak_rss_mb']:,} MB (target < "
            f"{DASK_TARGETS['dask_worker_peak_rss_mb']}: "
            f"{'met' if met['dask_worker_peak_rss_mb'] else 'NOT met'})"
        )
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
