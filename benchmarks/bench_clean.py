"""Time cleaning a large synthetic course file against a bare ``pyarrow.csv.read_csv`` of it.

One run, on this machine and for each size in ``--sizes`` (method-period courses):

1. writes the large synthetic set (``vip2 synth --courses N``; below the large-layout
   threshold the same generator is called directly), unless it is already there;
2. times a bare ``pyarrow.csv.read_csv`` of the CSV (``;`` as delimiter, defaults
   otherwise), best of three;
3. times the end-to-end clean, ``vip2analysis.pipeline.run_clean`` (read, normalise,
   validate, pseudonymise, write parquet), best of three.

Every measurement runs in a fresh Python process, timed inside it around the call, so
imports are not counted but everything the call itself loads is; the process reports its
peak resident memory. For ``--rows`` a further run times the stages separately: reading,
cleaning (``clean_tables``) and writing. OpenBLAS/OpenMP thread variables are left as
they are set in the environment (they are recorded).

4. at ``--rows``, the same clean on a Dask LocalCluster of ``--workers`` worker processes
   (one thread each, started and with the library imported before the clock, as the
   local child has it imported), checked to write the same files.

5. the floor: what any clean of the file must do with this stack (read it with the
   package's reader, pseudonymise its distinct CPR numbers, write the clean table), timed
   in the stages run, as a multiple of the bare read; and, with the Dask engine, its
   ideal: reading and writing in the client, the cleaning split perfectly between the
   workers, nothing spent on moving rows or on the scheduler, as a multiple of the local
   stages.

Targets (at ``--rows``): the clean takes at most 10x the bare read and peaks under 4 GB;
rows per second stay about the same across sizes (cost grows linearly); the Dask engine
takes at most 0.65x the local engine's time. Data goes under
``--workdir`` (git-ignored), results to ``benchmarks/results/clean.json``.

Usage: ``.venv/bin/python benchmarks/bench_clean.py [--rows N] [--sizes A,B,C]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

from _child import add_engine_options, run_child

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "work"
RESULTS = ROOT / "benchmarks" / "results" / "clean.json"
CSV_NAME = "courses_large.csv"
SEED = 20100615
RATIO_TARGET = 10.0
DASK_RATIO_TARGET = 0.65
RSS_TARGET_GB = 4.0
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

# What a measuring child process runs; it prints one JSON line. Timed inside the child.
_BARE = """
import json, resource, sys, time
from pyarrow import csv
start = time.perf_counter()
table = csv.read_csv(sys.argv[1], parse_options=csv.ParseOptions(delimiter=";"))
seconds = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "rows": table.num_rows, "peak_rss": rss}))
"""
_CLEAN = """
import json, resource, sys, time
from vip2analysis.clean import run_clean
start = time.perf_counter()
result = run_clean(sys.argv[1], sys.argv[2])
seconds = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
rows = int(result.accounting["raw_rows"].sum())
print(json.dumps({"seconds": seconds, "rows": rows, "peak_rss": rss}))
"""
_CLEAN_DASK = """
import hashlib, json, resource, sys, time
from pathlib import Path
from vip2analysis.clean import run_clean
from vip2analysis.engine import DaskEngine
workers = int(sys.argv[3])
def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
def warm():  # a cluster that is up has imported the library (as the local process has)
    import vip2analysis.clean.partitions, vip2analysis.contract.schema
    vip2analysis.contract.schema.clean_schemas()
with DaskEngine(workers=workers) as engine:
    engine.client.wait_for_workers(workers)
    engine.client.run(warm)
    start = time.perf_counter()
    result = run_clean(sys.argv[1], sys.argv[2], engine=engine)
    seconds = time.perf_counter() - start
    workers_rss = sorted(engine.client.run(peak).values())
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
rows = int(result.accounting["raw_rows"].sum())
digest = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(sys.argv[2]).iterdir()) if p.is_file()}
print(json.dumps({"seconds": seconds, "rows": rows, "peak_rss": rss,
                  "workers_peak_rss": workers_rss, "digest": digest}))
"""
_DIGEST = """
import hashlib, json, sys
from pathlib import Path
print(json.dumps({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(sys.argv[1]).iterdir()) if p.is_file()}))
"""
_STAGES = """
import json, resource, sys, time
from pathlib import Path
from vip2analysis.clean import clean_tables, resolve_key, write_result
from vip2analysis.io import find_raw_files, is_synthetic, read_file
raw, out = Path(sys.argv[1]), Path(sys.argv[2])
times = {}
start = time.perf_counter()
tables = [read_file(p) for p in find_raw_files(raw)]
times["read"] = time.perf_counter() - start
start = time.perf_counter()
result = clean_tables(tables, key=resolve_key(allow_demo=is_synthetic(raw)))
times["clean_tables"] = time.perf_counter() - start
start = time.perf_counter()
write_result(result, out, raw_dir=raw)
times["write"] = time.perf_counter() - start
times["total"] = sum(times.values())
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
# two fixed costs inside clean_tables, timed again on their own (warm)
import numpy as np, pandas as pd
from vip2analysis.contract import clean_schemas, pseudonymise
courses = result.tables["courses"]
parts = {}
start = time.perf_counter()
clean_schemas()["courses"].validate(courses)
parts["validate_courses"] = time.perf_counter() - start
numbers = pd.Series(np.arange(len(courses), dtype="int64") + 10**9)
start = time.perf_counter()
pseudonymise(numbers, key=b"benchmark key, 24 b.")
parts["pseudonymise_distinct"] = time.perf_counter() - start
# the clean table alone written as parquet (no rejects, logs or accounting)
import pyarrow as pa, pyarrow.parquet as pq
table = pa.Table.from_pandas(courses, preserve_index=False)
start = time.perf_counter()
pq.write_table(table, out / "floor-courses.parquet")
parts["write_clean_table"] = time.perf_counter() - start
(out / "floor-courses.parquet").unlink()
print(json.dumps({"stages_s": times, "peak_rss": rss, "within_clean_tables_s": parts}))
"""


def _ensure_data(folder: Path, courses: int) -> Path:
    """The synthetic large set for ``courses`` in ``folder``, written if missing."""
    marker = folder / "SYNTHETIC.json"
    if (folder / CSV_NAME).is_file() and _marked(marker, courses):
        return folder
    print(f"writing the synthetic set with {courses:,} courses ...", flush=True)
    from vip2analysis.synth.write import LARGE_LAYOUT_THRESHOLD

    if courses > LARGE_LAYOUT_THRESHOLD:
        cmd = [sys.executable, "-m", "vip2analysis", "synth", "--out", str(folder)]
        subprocess.run([*cmd, "--courses", str(courses)], cwd=ROOT, check=True)
    else:  # the CLI writes the default multi-file layout below the threshold
        from vip2analysis.synth import write_large

        write_large(folder, seed=SEED, courses=courses)
    return folder


def _marked(marker: Path, courses: int) -> bool:
    if not marker.is_file():
        return False
    return json.loads(marker.read_text(encoding="utf-8")).get("method_courses") == courses


def _measure(folder: Path, out: Path, repeats: int, dask_workers: int | None) -> dict[str, Any]:
    """Bare read and clean of one size: every run, the best, and their ratio (and the
    same clean on a Dask LocalCluster of ``dask_workers``, checked to write the same files)."""
    csv_path = str(folder / CSV_NAME)
    bare = [run_child(_BARE, csv_path) for _ in range(3)]
    clean = [run_child(_CLEAN, str(folder), str(out)) for _ in range(repeats)]
    bare_s, clean_s = min(r["seconds"] for r in bare), min(r["seconds"] for r in clean)
    rows = clean[0]["rows"]
    engine: dict[str, Any] = {}
    if dask_workers:
        local_digest = run_child(_DIGEST, str(out))
        dask_out = out.with_name(out.name + "-dask")
        dask = [
            run_child(_CLEAN_DASK, str(folder), str(dask_out), str(dask_workers))
            for _ in range(repeats)
        ]
        if any(r["digest"] != local_digest for r in dask):
            sys.exit("the Dask engine wrote other files than the local engine")
        dask_s = min(r["seconds"] for r in dask)
        engine = {
            "dask_workers": dask_workers,
            "local_s": round(clean_s, 3),
            "dask_s": round(dask_s, 3),
            "dask_runs_s": [round(r["seconds"], 3) for r in dask],
            "ratio_dask_to_local": round(dask_s / clean_s, 3),
            "dask_worker_peak_rss_mb": round(max(max(r["workers_peak_rss"]) for r in dask) / 2**20),
            "dask_client_peak_rss_mb": round(max(r["peak_rss"] for r in dask) / 2**20),
            "dask_same_files_as_local": True,
        }
    return {
        "rows": rows,
        "file_mb": round((folder / CSV_NAME).stat().st_size / 2**20, 1),
        "bare_read_s": round(bare_s, 3),
        "bare_read_runs_s": [round(r["seconds"], 3) for r in bare],
        "bare_read_peak_rss_mb": round(max(r["peak_rss"] for r in bare) / 2**20),
        "clean_s": round(clean_s, 3),
        "clean_runs_s": [round(r["seconds"], 3) for r in clean],
        "ratio_clean_to_bare": round(clean_s / bare_s, 2),
        "clean_rows_per_s": round(rows / clean_s),
        "bare_rows_per_s": round(rows / bare_s),
        "clean_peak_rss_mb": round(max(r["peak_rss"] for r in clean) / 2**20),
        **engine,
    }


def _machine() -> dict[str, Any]:
    return {
        "nproc": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        **{name: version(name) for name in ("pandas", "pyarrow", "numpy", "pandera")},
        "thread_variables": {name: os.environ.get(name) for name in THREAD_VARIABLES},
        "note": "OpenBLAS/OpenMP thread variables are left as set (recorded above).",
    }


def _linear_fit(sizes: list[dict[str, Any]]) -> dict[str, float]:
    """clean_s = fixed + rows / marginal rate, least squares over the sizes."""
    import numpy as np

    rows = np.array([s["rows"] for s in sizes], dtype=float)
    seconds = np.array([s["clean_s"] for s in sizes])
    per_row, fixed = np.polyfit(rows, seconds, 1)
    return {"fixed_s": round(float(fixed), 3), "marginal_rows_per_s": round(1 / per_row)}


def _verdict(main: dict[str, Any], sizes: list[dict[str, Any]]) -> dict[str, Any]:
    speeds = [s["clean_rows_per_s"] for s in sizes]
    return {
        "ratio_target": RATIO_TARGET,
        "ratio": main["ratio_clean_to_bare"],
        "ratio_met": main["ratio_clean_to_bare"] <= RATIO_TARGET,
        "peak_rss_target_gb": RSS_TARGET_GB,
        "peak_rss_gb": round(main["clean_peak_rss_mb"] / 1024, 2),
        "peak_rss_met": main["clean_peak_rss_mb"] / 1024 < RSS_TARGET_GB,
        "rows_per_s_largest_over_smallest": round(speeds[-1] / speeds[0], 2),
        "linear_fit": _linear_fit(sizes) if len(sizes) > 1 else None,
        **(
            {
                "dask_ratio_target": DASK_RATIO_TARGET,
                "dask_ratio": main["ratio_dask_to_local"],
                "dask_ratio_met": main["ratio_dask_to_local"] <= DASK_RATIO_TARGET,
            }
            if "dask_s" in main
            else {}
        ),
    }


def _floor(stages: dict[str, float], parts: dict[str, float], main: dict[str, Any]) -> dict:
    """What any clean of this file must do with this stack, timed: read it with the
    package's reader, pseudonymise its distinct CPR numbers (keyed BLAKE2b, one
    ``hashlib`` call each) and write the clean table as parquet; as a multiple of the bare
    read, and what the 10x target leaves for everything else (checks, values, validation,
    duplicates, rejects)."""
    steps = {
        "read": stages["read"],
        "pseudonymise_distinct": parts["pseudonymise_distinct"],
        "write_clean_table": parts["write_clean_table"],
    }
    floor = sum(steps.values())
    out = {
        "steps_s": steps,
        "floor_s": round(floor, 3),
        "floor_ratio_to_bare": round(floor / main["bare_read_s"], 2),
        "left_for_the_rest_at_target_s": round(RATIO_TARGET * main["bare_read_s"] - floor, 3),
    }
    if "dask_s" in main:
        # the client reads, gathers and writes alone; at best the workers share the
        # cleaning perfectly, with nothing spent on moving rows or on the scheduler
        ideal = stages["read"] + stages["clean_tables"] / main["dask_workers"] + stages["write"]
        out["dask_ideal_s"] = round(ideal, 3)
        out["dask_ideal_ratio_to_local"] = round(ideal / stages["total"], 3)
    return out


def _summary(results: dict[str, Any]) -> str:
    lines = [
        f"{'courses':>10} {'rows':>10} {'bare s':>8} {'clean s':>8} {'ratio':>6} "
        f"{'clean rows/s':>13} {'peak MB':>8}"
    ]
    for s in results["sizes"]:
        lines.append(
            f"{s['courses']:>10,} {s['rows']:>10,} {s['bare_read_s']:>8.3f} "
            f"{s['clean_s']:>8.3f} {s['ratio_clean_to_bare']:>6.2f} "
            f"{s['clean_rows_per_s']:>13,} {s['clean_peak_rss_mb']:>8,}"
        )
    stages = ", ".join(f"{k} {v:.3f} s" for k, v in results["stages_s"].items())
    parts = ", ".join(f"{k} {v:.3f} s" for k, v in results["within_clean_tables_s"].items())
    v, fit = results["verdict"], results["verdict"]["linear_fit"] or {}
    lines += [
        f"stages at {results['rows_option']:,} courses: {stages}",
        f"within clean_tables (timed again, warm): {parts}",
        f"ratio {v['ratio']} (target <= {v['ratio_target']}: {'met' if v['ratio_met'] else 'NOT met'}); "
        f"peak {v['peak_rss_gb']} GB (target < {v['peak_rss_target_gb']}: "
        f"{'met' if v['peak_rss_met'] else 'NOT met'}); rows/s largest/smallest "
        f"{v['rows_per_s_largest_over_smallest']}; linear fit: {fit.get('fixed_s')} s fixed + "
        f"{fit.get('marginal_rows_per_s', 0):,} rows/s",
    ]
    floor = results["floor"]
    lines.append(
        f"floor (read, pseudonymise, write the clean table): {floor['floor_s']:.3f} s = "
        f"{floor['floor_ratio_to_bare']}x the bare read; the 10x target leaves "
        f"{floor['left_for_the_rest_at_target_s']:.3f} s for all the rest"
    )
    if "dask_ideal_s" in floor:
        lines.append(
            f"Dask at best (the cleaning shared perfectly, nothing else): "
            f"{floor['dask_ideal_s']:.3f} s = {floor['dask_ideal_ratio_to_local']}x the "
            "local stages"
        )
    if "dask_ratio" in v:
        main = next(s for s in results["sizes"] if s["courses"] == results["rows_option"])
        lines.append(
            f"Dask, {main['dask_workers']} workers: {main['dask_s']:.3f} s against local "
            f"{main['local_s']:.3f} s, ratio {v['dask_ratio']} (target <= "
            f"{v['dask_ratio_target']}: {'met' if v['dask_ratio_met'] else 'NOT met'}); same "
            f"files as the local engine; peak per worker {main['dask_worker_peak_rss_mb']:,} MB"
        )
    return "\n".join(lines)


def _sizes(text: str, rows: int) -> list[int]:
    return sorted({int(n) for n in text.split(",") if n.strip()} | {rows})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="courses of the main size")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="courses per size")
    parser.add_argument("--workdir", type=Path, default=WORK, help="where the data goes")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results JSON")
    add_engine_options(parser, default="dask", what="the main size")
    args = parser.parse_args(argv)
    args.workdir = args.workdir.resolve()
    sizes = []
    for courses in _sizes(args.sizes, args.rows):
        folder = _ensure_data(args.workdir / f"clean-{courses}", courses)
        repeats = 3
        print(f"measuring {courses:,} courses ...", flush=True)
        out = args.workdir / f"clean-{courses}-out"
        workers = args.workers if args.engine == "dask" and courses == args.rows else None
        sizes.append({"courses": courses, **_measure(folder, out, repeats, workers)})
    main_folder = args.workdir / f"clean-{args.rows}"
    stages = run_child(_STAGES, str(main_folder), str(args.workdir / f"clean-{args.rows}-out"))
    main_size = next(s for s in sizes if s["courses"] == args.rows)
    results = {
        "benchmark": "clean",
        "date": dt.date.today().isoformat(),
        "machine": _machine(),
        "rows_option": args.rows,
        "sizes": sizes,
        "stages_s": {k: round(v, 3) for k, v in stages["stages_s"].items()},
        "stages_peak_rss_mb": round(stages["peak_rss"] / 2**20),
        "within_clean_tables_s": {
            k: round(v, 3) for k, v in stages["within_clean_tables_s"].items()
        },
        "verdict": _verdict(main_size, sizes),
    }
    results["floor"] = _floor(results["stages_s"], results["within_clean_tables_s"], main_size)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(_summary(results))
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
