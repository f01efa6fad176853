"""Where the work runs: this process (the default) or Dask, with the same results.

Two engines offer the same three things:

- :meth:`Engine.map` runs one function over a list of partitions (each a tuple of
  arguments) and returns the results in the partitions' order. The local engine calls the
  function in this process, one partition after the other (today's code path); the Dask
  engine sends one task per partition to the workers. :meth:`Engine.submit` does the same
  but leaves the results where they are (on the workers, for Dask) as handles that later
  tasks take as arguments; :meth:`Engine.gather` fetches them.
- :meth:`Engine.each` runs one function per job and yields ``(position, result)`` as the
  jobs finish; a job that raised (or whose worker died for good) yields the exception.
  The local engine uses a process pool of ``workers`` processes; the Dask engine one task
  per job, never cached (``pure=False``), so at most one job per worker thread.
- :attr:`Engine.workers`, how many jobs can run at once.

Dask is imported only inside :class:`DaskEngine`; the core install works without it (the
Dask packages come with the extra ``vip2analysis[dask]``). A task whose worker dies is
run again on another worker by Dask; every task here reads its own input (a file and a
row range) or carries it, so a retry gives the same result.

>>> with LocalEngine() as engine:
...     engine.map(divmod, [(7, 2), (9, 4)])
[(3, 1), (2, 1)]
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Literal

import pandas as pd
import pyarrow as pa

from vip2analysis.errors import ParameterError, Vip2Error

__all__ = [
    "ENGINES",
    "DaskEngine",
    "Engine",
    "EngineError",
    "LocalEngine",
    "Packed",
    "make_engine",
    "pack",
    "system_memory",
    "unpack",
]

EngineName = Literal["local", "dask"]
ENGINES: tuple[EngineName, ...] = ("local", "dask")
CONNECT_TIMEOUT_S = 10.0
"""How long the Dask engine waits for a scheduler before it gives up (seconds)."""
DASK_EXTRA = "pip install 'vip2analysis[dask]'"
_TRIM = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
_LARGE_GRAPH = "distributed.admin.large-graph-warning-threshold"


_memory_lock = threading.Lock()
_memory_users: list[pa.MemoryPool] = []  # the pool to go back to, once per user inside


@contextlib.contextmanager
def system_memory() -> Iterator[None]:
    """Arrow allocates from the C library's ``malloc`` inside the block (a decorator too).

    Cleaning makes and drops many short-lived columns of a million rows; with Arrow's
    bundled allocator (mimalloc) every new one was paged in afresh, and the clean of
    the million-row benchmark file took 3.9-6.0 s against 3.6-3.9 s with the system
    allocator (``benchmarks/bench_clean.py``). The register measures gain nothing from
    it and keep the default. Buffers remember their pool, so arrays made inside stay
    valid outside; the default pool is put back when the last block running in this
    process ends. A pool chosen by the user (``ARROW_DEFAULT_MEMORY_POOL``) is left alone.
    """
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        yield
        return
    with _memory_lock:
        _memory_users.append(pa.default_memory_pool())
        pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        with _memory_lock:
            before = _memory_users.pop()
            if not _memory_users:
                pa.set_memory_pool(before)


class Packed:
    """A data frame as Arrow IPC bytes compressed with zstd, to move between processes.

    Dask moves a frame of 500,000 clean course rows (about 165 MB in memory) between a
    worker and the client at about 300 MB/s on this machine, 0.5-1 s; packed it is
    24 MB, packed in about 0.3 s on the worker and unpacked in about 0.2 s.
    """

    __slots__ = ("data", "dtypes")

    def __init__(self, data: pa.Buffer, dtypes: pd.Series) -> None:
        self.data = data
        self.dtypes = dtypes


def _packable(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` comes back from Arrow exactly: rows (an empty categorical comes
    back without its categories), a range index, text column names and no ``object``
    column (Arrow would give those another dtype)."""
    return (
        len(frame) > 0
        and isinstance(frame.index, pd.RangeIndex)
        and all(isinstance(c, str) for c in frame.columns)
        and frame.columns.is_unique
        and not any(pd.api.types.is_object_dtype(dtype) for dtype in frame.dtypes)
    )


def pack(frame: pd.DataFrame) -> Packed | pd.DataFrame:
    """``frame`` as :class:`Packed`, or the frame itself where Arrow would not give it
    back exactly (see :func:`unpack`)."""
    if not _packable(frame):
        return frame
    table = pa.Table.from_pandas(frame, preserve_index=None)
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression="zstd")
    with pa.ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    return Packed(sink.getvalue(), frame.dtypes)


def unpack(obj: Any) -> Any:
    """The frame behind a :class:`Packed` (same columns, dtypes, index and values);
    anything else as it is."""
    if not isinstance(obj, Packed):
        return obj
    frame = pa.ipc.open_stream(obj.data).read_all().to_pandas()
    if not frame.dtypes.equals(obj.dtypes):  # a case _packable lets through by mistake
        raise RuntimeError(f"a packed frame came back with other dtypes: {frame.dtypes}")
    return frame


class EngineError(Vip2Error, RuntimeError):
    """The engine cannot start: Dask is not installed, or the scheduler cannot be reached."""


class Engine:
    """What both engines offer; use one as a context manager (it closes what it started)."""

    name: EngineName = "local"
    ships: bool = False
    """Whether tasks run in other processes (Dask): then the library sends its work out
    in partitions or blocks, and large frames travel :func:`pack`-ed."""

    @property
    def workers(self) -> int:
        raise NotImplementedError

    def submit(self, fn: Callable[..., Any], partitions: Sequence[tuple[Any, ...]]) -> list[Any]:
        """Start ``fn`` on every partition; returns handles (results, or Dask futures that
        stay on the workers) that may be passed as arguments to a later :meth:`submit`."""
        raise NotImplementedError

    def gather(self, handles: Sequence[Any]) -> list[Any]:
        """The results behind ``handles``, in their order."""
        raise NotImplementedError

    def map(self, fn: Callable[..., Any], partitions: Sequence[tuple[Any, ...]]) -> list[Any]:
        """``fn`` over every partition, the results in the partitions' order."""
        return self.gather(self.submit(fn, partitions))

    def each(
        self, fn: Callable[..., Any], jobs: Sequence[tuple[Any, ...]]
    ) -> Iterator[tuple[int, Any]]:
        raise NotImplementedError

    def close(self) -> None:
        return None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalEngine(Engine):
    """Pandas and numpy in this process; the build's jobs in a pool of processes."""

    name: EngineName = "local"

    def __init__(self, workers: int | None = None) -> None:
        self._workers = max(1, workers or os.cpu_count() or 1)

    @property
    def workers(self) -> int:
        return self._workers

    def submit(self, fn: Callable[..., Any], partitions: Sequence[tuple[Any, ...]]) -> list[Any]:
        return [fn(*args) for args in partitions]

    def gather(self, handles: Sequence[Any]) -> list[Any]:
        return list(handles)

    def each(
        self, fn: Callable[..., Any], jobs: Sequence[tuple[Any, ...]]
    ) -> Iterator[tuple[int, Any]]:
        with ProcessPoolExecutor(max_workers=self._workers) as pool:
            futures = {pool.submit(fn, *args): i for i, args in enumerate(jobs)}
            for future in as_completed(futures):
                try:
                    yield futures[future], future.result()
                except Exception as exc:  # the worker process itself died
                    yield futures[future], exc


class DaskEngine(Engine):
    """Dask: the workers of the scheduler at ``scheduler`` (``tcp://host:port``), or a
    ``LocalCluster`` of ``workers`` processes with one thread each when none is given.

    Raises
    ------
    EngineError
        Dask is not installed, or no scheduler answers at ``scheduler`` within
        ``timeout`` seconds (the message names the address).
    """

    name: EngineName = "dask"
    ships = True

    def __init__(
        self,
        scheduler: str | None = None,
        *,
        workers: int | None = None,
        timeout: float = CONNECT_TIMEOUT_S,
    ) -> None:
        try:
            import dask
            from distributed import Client, LocalCluster
        except ModuleNotFoundError as exc:
            raise EngineError(
                f"the Dask engine needs the dask extra ({exc.name} is not installed): {DASK_EXTRA}"
            ) from None
        # pandas 3 text columns stay `str` (Dask would make them `string[pyarrow]`)
        dask.config.set({"dataframe.convert-string": False})
        logging.getLogger("asyncio").addFilter(_CLOSED_CLIENT_NOISE)
        self._config = dask.config
        self.scheduler = scheduler
        self._cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout=timeout, set_as_default=False)
            except (OSError, TimeoutError, ValueError) as exc:
                raise EngineError(
                    f"cannot reach the Dask scheduler at {scheduler} within {timeout:g} s "
                    f"({type(exc).__name__}); is `dask scheduler` running there, and is the "
                    "address (tcp://host:port) right?"
                ) from None
        else:
            # Dask starts its workers with MALLOC_TRIM_THRESHOLD_=65536, which makes the C
            # library hand freed memory back at once: cleaning, which makes and drops many
            # large columns, then pages them in again (a 509,000-row partition's first
            # round 1.0-1.1 s against 0.6-0.8 s without). The workers started here go
            # without it; their memory is bounded by the partition size (see the README
            # for workers started with `dask worker`).
            with dask.config.set({_TRIM: None}):
                self._cluster = LocalCluster(
                    n_workers=max(1, workers or os.cpu_count() or 1),
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    # the scheduler's HTTP routes start even without a dashboard: on a
                    # free port, so that a second cluster does not warn about 8787
                    scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                    preload=[__name__],  # each worker process runs dask_setup below
                    silence_logs=logging.ERROR,
                )
            self.client = Client(self._cluster, set_as_default=False)

    @property
    def workers(self) -> int:
        """Worker threads the scheduler has now (at least 1)."""
        return max(1, sum(self.client.nthreads().values()))

    def _submit(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        # Each task carries its input (a partition, a block, a job) on purpose: a task run
        # again after its worker died finds it with the scheduler. Dask warns about every
        # graph over 10 MB; here that is the design, so the warning is not shown.
        with self._config.set({_LARGE_GRAPH: "64GiB"}):
            return self.client.submit(fn, *args, pure=False)

    def submit(self, fn: Callable[..., Any], partitions: Sequence[tuple[Any, ...]]) -> list[Any]:
        return [self._submit(fn, args) for args in partitions]

    def gather(self, handles: Sequence[Any]) -> list[Any]:
        return list(self.client.gather(list(handles)))

    def each(
        self, fn: Callable[..., Any], jobs: Sequence[tuple[Any, ...]]
    ) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed as dask_completed

        futures = {self._submit(fn, args): i for i, args in enumerate(jobs)}
        for future in dask_completed(list(futures), loop=self.client.loop):
            try:
                yield futures[future], future.result()
            except Exception as exc:  # the job's workers died too often (KilledWorker)
                yield futures[future], exc
            future.release()

    def close(self) -> None:
        if self._cluster is not None:
            # A worker whose heartbeat is under way while the cluster closes logs the
            # broken connection as an ERROR with a traceback (dask/distributed#7105, seen
            # after one build in four here): noise once the work is done, and only on the
            # workers started here, which are closed next.
            with contextlib.suppress(Exception):
                self.client.run(_quiet_before_closing)
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


class _ClosedClientNoise(logging.Filter):
    """Drops asyncio's "Task exception was never retrieved" for Dask's ``AllExit``: a
    gather that was still waiting when the client closed (after Ctrl-C). The interrupt
    itself is what the user needs to see; these report nothing lost."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not (
            exc is not None
            and type(exc).__name__ == "AllExit"
            and type(exc).__module__.startswith("distributed")
        )


_CLOSED_CLIENT_NOISE = _ClosedClientNoise()


def dask_setup(worker: Any) -> None:
    """Dask runs this in each worker process of the LocalCluster a :class:`DaskEngine`
    starts (a preload): Ctrl-C is for the client to handle.

    A terminal's Ctrl-C reaches every process of the command. Left alone, each worker
    printed its own KeyboardInterrupt traceback (a hundred lines) while the client was
    still closing the cluster; now the client stops, closes the cluster and exits 130 as
    the local engine does.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _quiet_before_closing() -> None:
    """On a worker about to be closed: Dask's log shows nothing below CRITICAL."""
    logging.getLogger("distributed").setLevel(logging.CRITICAL)


def make_engine(
    name: str | None = None,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    timeout: float = CONNECT_TIMEOUT_S,
) -> Engine:
    """The engine a command line asked for: ``local`` or ``dask``; without a name, Dask
    when a scheduler address is given and the local engine otherwise.

    Raises
    ------
    ParameterError
        An unknown engine name, or a scheduler address given to the local engine.
    """
    if name is None:
        name = "dask" if scheduler else "local"
    if name not in ENGINES:
        raise ParameterError(f"--engine must be one of {', '.join(ENGINES)}, got {name!r}")
    if scheduler and name == "local":
        raise ParameterError("--scheduler needs the Dask engine: --engine dask, or no --engine")
    if name == "dask" or scheduler:
        return DaskEngine(scheduler, workers=workers, timeout=timeout)
    return LocalEngine(workers)
