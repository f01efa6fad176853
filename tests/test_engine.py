"""Engines: the local default and Dask (a LocalCluster, and a real `dask scheduler` with
`dask worker` subprocesses on the loopback interface) give byte-identical results."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from vip2analysis.clean import clean_tables
from vip2analysis.contract import DEMO_KEY
from vip2analysis.engine import DaskEngine, EngineError, LocalEngine, make_engine
from vip2analysis.errors import ParameterError
from vip2analysis.io import find_raw_files, load_register, read_file
from vip2analysis.register import clean_and_measure
from vip2analysis.register.measures import measure_file, measure_panel

RESULT_PARTS = ("rejects", "duplicates", "accounting", "notes")


def _vip2(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vip2analysis", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _assert_same_result(a, b) -> None:
    assert a.tables.keys() == b.tables.keys()
    for kind in a.tables:
        pd.testing.assert_frame_equal(a.tables[kind], b.tables[kind], check_exact=True)
    for part in RESULT_PARTS:
        pd.testing.assert_frame_equal(getattr(a, part), getattr(b, part), check_exact=True)


@pytest.fixture(scope="module")
def raw_tables(synthetic_dir):
    return [read_file(p) for p in find_raw_files(synthetic_dir)]


@pytest.fixture(scope="module")
def one_piece(raw_tables):
    return clean_tables(raw_tables, key=DEMO_KEY)


def test_make_engine_names_what_it_cannot_do():
    with pytest.raises(ParameterError, match="--engine must be one of local, dask"):
        make_engine("spark")
    with pytest.raises(ParameterError, match="--scheduler needs the Dask engine"):
        make_engine("local", scheduler="tcp://127.0.0.1:8786")
    assert isinstance(make_engine(), LocalEngine)


def test_the_local_engine_keeps_order_and_reports_a_failing_job():
    engine = LocalEngine(2)
    assert engine.map(divmod, [(7, 2), (9, 4), (1, 1)]) == [(3, 1), (2, 1), (1, 0)]
    outcomes = dict(engine.each(divmod, [(7, 2), (1, 0)]))
    assert outcomes[0] == (3, 1) and isinstance(outcomes[1], ZeroDivisionError)


def test_the_dask_engine_keeps_order_and_reports_a_failing_job(local_cluster):
    assert local_cluster.workers == 2
    assert local_cluster.map(divmod, [(7, 2), (9, 4), (1, 1)]) == [(3, 1), (2, 1), (1, 0)]
    outcomes = dict(local_cluster.each(divmod, [(7, 2), (1, 0)]))
    assert outcomes[0] == (3, 1) and isinstance(outcomes[1], ZeroDivisionError)


@pytest.mark.parametrize("rows", [13, 100_000])
def test_cleaning_in_partitions_equals_cleaning_in_one_piece(raw_tables, one_piece, rows):
    """Small partitions (duplicate pairs split across partitions and files) and one per
    file give the one-piece result exactly."""
    _assert_same_result(one_piece, clean_tables(raw_tables, key=DEMO_KEY, partition_rows=rows))


def test_partitions_must_hold_a_row(raw_tables):
    with pytest.raises(ParameterError, match="partition_rows"):
        clean_tables(raw_tables, key=DEMO_KEY, partition_rows=0)


@pytest.mark.parametrize("partition_rows", [40, None])
def test_the_dask_engine_on_a_local_cluster_cleans_exactly_as_the_local_one(
    raw_tables, one_piece, local_cluster, partition_rows
):
    # None: the default partitions (here one per file), their clean rows packed
    result = clean_tables(
        raw_tables, key=DEMO_KEY, engine=local_cluster, partition_rows=partition_rows
    )
    _assert_same_result(one_piece, result)
    # the dtypes are the local ones (Dask's convert-string would make text string[pyarrow])
    assert dict(result.courses.dtypes) == dict(one_piece.courses.dtypes)


def test_clean_and_register_on_a_local_cluster_write_the_same_bytes(
    synthetic_dir, processed_dir, local_cluster, tmp_path, digests
):
    """The whole `vip2 clean` (course files, DREAM extract, register outcomes, comparison
    sample) on a LocalCluster of 2 processes writes exactly the local engine's files."""
    out = tmp_path / "processed"
    clean_and_measure(synthetic_dir, out, engine=local_cluster, partition_rows=50)
    assert digests(out) == digests(processed_dir)


@pytest.fixture(scope="module")
def grouped_register(processed_dir, tmp_path_factory):
    """register.parquet rewritten in row groups of 700 persons (ten groups)."""
    path = tmp_path_factory.mktemp("register") / "register.parquet"
    pq.write_table(pq.read_table(processed_dir / "register.parquet"), path, row_group_size=700)
    return path


def test_register_measures_per_row_group_on_dask_equal_the_local_ones(
    grouped_register, local_cluster
):
    n = pq.ParquetFile(grouped_register).metadata.num_rows
    assert pq.ParquetFile(grouped_register).metadata.num_row_groups > 2
    t0 = np.random.default_rng(1).integers(-20, 700, size=n)
    local = measure_file(grouped_register, t0, block_rows=256)
    spread = measure_file(grouped_register, t0, block_rows=256, engine=local_cluster)
    pd.testing.assert_frame_equal(local, spread, check_exact=True)


def test_register_measures_per_block_of_persons_on_dask_equal_the_local_ones(
    processed_dir, local_cluster
):
    panel = load_register(processed_dir)
    rng = np.random.default_rng(2)
    rows = rng.integers(0, len(panel.persons), size=3000)  # persons repeat, in any order
    t0 = rng.integers(0, len(panel.weeks), size=3000)
    local = measure_panel(panel, rows, t0)
    spread = measure_panel(panel, rows, t0, engine=local_cluster, block_rows=500)
    pd.testing.assert_frame_equal(local, spread, check_exact=True)


@pytest.mark.slow
def test_vip2_clean_on_a_loopback_scheduler_writes_the_same_bytes(
    synthetic_dir, processed_dir, loopback, tmp_path, digests
):
    """`vip2 clean --engine dask --scheduler ADDRESS` with a real `dask scheduler` and two
    `dask worker` subprocesses writes exactly what the local engine writes."""
    out = tmp_path / "processed"
    res = _vip2(
        "clean",
        "--raw",
        str(synthetic_dir),
        "--out",
        str(out),
        "--engine",
        "dask",
        "--scheduler",
        loopback.address,
        "--partition-rows",
        "30",
    )
    assert res.returncode == 0, res.stderr
    assert digests(out) == digests(processed_dir)


@pytest.mark.slow
def test_a_worker_killed_mid_clean_loses_and_duplicates_no_row(
    synthetic_dir, processed_dir, fresh_loopback, tmp_path, digests
):
    """One of two `dask worker` subprocesses is killed while the clean's partitions run
    (four raw rows each, over a hundred tasks): its tasks and the partitions it held are run
    again on the other worker, and the files written are the local engine's."""
    out = tmp_path / "processed"
    done: dict = {}
    with DaskEngine(fresh_loopback.address) as engine:
        thread = threading.Thread(
            target=lambda: done.update(
                result=clean_and_measure(synthetic_dir, out, engine=engine, partition_rows=4)
            )
        )
        thread.start()
        deadline = time.time() + 60
        while time.time() < deadline and not any(
            "_round1" in str(key) for key in engine.client.who_has()
        ):
            time.sleep(0.02)
        time.sleep(0.3)
        assert thread.is_alive(), "the clean ended before a worker could be killed"
        fresh_loopback.kill(0)
        thread.join(timeout=300)
        assert len(engine.client.scheduler_info()["workers"]) == 1
    assert "result" in done
    assert digests(out) == digests(processed_dir)


def test_an_unreachable_scheduler_is_one_clear_line_within_the_timeout(tmp_path, synthetic_dir):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    start = time.monotonic()
    res = _vip2(
        "clean",
        "--raw",
        str(synthetic_dir),
        "--out",
        str(tmp_path / "out"),
        "--scheduler",
        address,
        "--connect-timeout",
        "2",
        timeout=60,
    )
    assert res.returncode == 2
    assert address in res.stderr and "within 2 s" in res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert time.monotonic() - start < 30
    assert not (tmp_path / "out").exists()
    with pytest.raises(EngineError, match=address):
        DaskEngine(address, timeout=1)


def test_system_memory_switches_arrows_pool_inside_and_restores_it(monkeypatch):
    import pyarrow as pa

    from vip2analysis.engine import system_memory

    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    before = pa.default_memory_pool().backend_name
    assert before != "system"  # the wheels' default is mimalloc
    with system_memory():
        assert pa.default_memory_pool().backend_name == "system"
        with system_memory():  # nested (run_clean calls clean_tables): still system
            made = pa.array(["a", "bb", None] * 1000)
        assert pa.default_memory_pool().backend_name == "system"
    assert pa.default_memory_pool().backend_name == before
    assert made.to_pylist()[:3] == ["a", "bb", None]  # the buffers outlive the block

    @system_memory()
    def boom():
        raise ValueError("x")

    with pytest.raises(ValueError):
        boom()
    assert pa.default_memory_pool().backend_name == before
    # a pool the user chose is left alone
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", before)
    with system_memory():
        assert pa.default_memory_pool().backend_name == before


def test_packed_frames_come_back_exactly_and_what_would_not_is_left_as_it_is():
    from vip2analysis.engine import Packed, pack, unpack

    band = pd.CategoricalDtype(pd.Index(["<1", "1-2", "2-5"], dtype="str"), ordered=True)
    frame = pd.DataFrame(
        {
            "text": pd.Series(["a", None, "c"], dtype="string"),
            "str": pd.Series(["x", np.nan, "z"], dtype="str"),
            "when": pd.to_datetime(["2008-01-02", None, "2009-03-04"]).astype("datetime64[s]"),
            "count": pd.array([1, None, 3], dtype="Int64"),
            "share": pd.array([0.5, None, 1.0], dtype="Float64"),
            "flag": pd.array([True, None, False], dtype="boolean"),
            "band": pd.Series(["2-5", None, "<1"], dtype=band),
            "row": np.arange(3, dtype="int64"),
        },
        index=pd.RangeIndex(7, 10),
    )
    packed = pack(frame)
    assert isinstance(packed, Packed)
    back = unpack(packed)
    pd.testing.assert_frame_equal(back, frame, check_exact=True)
    assert back.dtypes.equals(frame.dtypes) and back.index.equals(frame.index)
    assert back["band"].cat.categories.dtype == frame["band"].cat.categories.dtype
    # an empty frame (its categories), an object column or another index: not packed
    for other in (frame.iloc[:0], frame.assign(obj=[1, "b", None]), frame.set_axis([3, 1, 2])):
        assert pack(other) is other and unpack(other) is other


def test_default_partitions_are_equal_shares_of_the_workers_within_the_bounds():
    from vip2analysis.clean.partitions import (
        MAX_PARTITION_ROWS,
        MIN_PARTITION_ROWS,
        partition_size,
    )

    for rows in (0, 1, 9_999, 10_000, 45_000, 1_018_000, 2_000_001, 7_654_321):
        for workers in (1, 2, 3, 8, 32):
            size = partition_size(rows, workers)
            parts = -(-rows // size) if rows else 1
            assert 1 <= size <= max(MAX_PARTITION_ROWS, 1)
            assert parts * size >= rows and (parts - 1) * size < max(rows, 1)
            if rows >= MIN_PARTITION_ROWS * workers:  # enough rows: a share for every worker
                assert parts % workers == 0
            if rows >= MIN_PARTITION_ROWS:
                assert size >= MIN_PARTITION_ROWS // 2
    assert partition_size(1_018_000, 2, partition_rows=30) == 30


def test_tasks_carrying_large_inputs_do_not_warn_about_large_graphs(local_cluster):
    import warnings

    big = np.zeros(3_000_000)  # 24 MB: over Dask's 10 MB warning threshold
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert local_cluster.map(np.sum, [(big,)]) == [0.0]
        assert [r for _, r in local_cluster.each(np.sum, [(big,)])] == [0.0]
    assert not [w for w in seen if "large graph" in str(w.message)]


def test_closing_its_own_cluster_quiets_the_workers_log_first():
    # dask/distributed#7105: a heartbeat racing the close logs an ERROR traceback on a
    # worker after the work is done; the engine's own workers are told to keep quiet first
    import logging

    engine = DaskEngine(workers=1)
    levels: list[int] = []
    close_client = engine.client.close

    def look_then_close(*args, **kwargs):
        levels.extend(
            engine.client.run(
                lambda: logging.getLogger("distributed.worker").getEffectiveLevel()
            ).values()
        )
        return close_client(*args, **kwargs)

    before = engine.client.run(lambda: logging.getLogger("distributed.worker").getEffectiveLevel())
    engine.client.close = look_then_close
    try:
        engine.close()
    finally:
        del engine.client.close  # the client's own method again (its __del__ calls it)
    assert max(before.values()) <= logging.ERROR  # while it works, its errors are shown
    assert levels == [logging.CRITICAL]


def test_a_second_cluster_starts_without_a_port_warning():
    # the scheduler's HTTP server took Dask's port 8787 and warned when it was taken
    import socket
    import warnings

    taken = socket.socket()
    try:
        taken.bind(("127.0.0.1", 8787))
        taken.listen()
    except OSError:
        pass  # already taken by something else: as good for this test
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            with DaskEngine(workers=1) as engine:
                assert engine.map(int, [("7",)]) == [7]
    finally:
        taken.close()
    assert not [w for w in seen if "already in use" in str(w.message)]


_INTERRUPTED = """
import sys, time
from pathlib import Path
from vip2analysis.engine import DaskEngine

def nap(marker):
    Path(marker).touch()
    time.sleep(120)

if __name__ == "__main__":
    try:
        with DaskEngine(workers=2) as engine:
            engine.gather(engine.submit(nap, [(sys.argv[1] + "/a",), (sys.argv[1] + "/b",)]))
    except KeyboardInterrupt:
        sys.exit(130)
"""


def test_ctrl_c_stops_a_dask_run_without_tracebacks_or_leftover_processes(tmp_path):
    # a terminal's Ctrl-C goes to the whole process group: client and worker processes
    import os
    import signal

    script = tmp_path / "interrupted.py"
    script.write_text(_INTERRUPTED, encoding="utf-8")
    run = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not ((tmp_path / "a").exists() and (tmp_path / "b").exists()):
            assert run.poll() is None, run.stderr.read() if run.stderr else ""
            assert time.monotonic() < deadline, "the tasks did not start"
            time.sleep(0.2)
        os.killpg(run.pid, signal.SIGINT)
        _, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    assert run.returncode == 130
    assert "Traceback" not in err, err
    time.sleep(1)
    assert _alive_in_group(run.pid) == []  # no worker process left running


def _alive_in_group(group: int) -> list[str]:
    """The processes of a process group that still run (not the exited ones that wait to
    be reaped), as their command lines (Linux: from /proc)."""
    from pathlib import Path

    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group and fields[0] != "Z":
                alive.append((stat.parent / "cmdline").read_text().replace("\0", " "))
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
    return alive
