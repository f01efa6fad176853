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

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Literal

from vip2analysis.errors import ParameterError, Vip2Error

__all__ = [
    "ENGINES",
    "DaskEngine",
    "Engine",
    "EngineError",
    "LocalEngine",
    "make_engine",
]

EngineName = Literal["local", "dask"]
ENGINES: tuple[EngineName, ...] = ("local", "dask")
CONNECT_TIMEOUT_S = 10.0
"""How long the Dask engine waits for a scheduler before it gives up (seconds)."""
DASK_EXTRA = "pip install 'vip2analysis[dask]'"


class EngineError(Vip2Error, RuntimeError):
    """The engine cannot start: Dask is not installed, or the scheduler cannot be reached."""


class Engine:
    """What both engines offer; use one as a context manager (it closes what it started)."""

    name: EngineName = "local"

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
            self._cluster = LocalCluster(
                n_workers=max(1, workers or os.cpu_count() or 1),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            self.client = Client(self._cluster, set_as_default=False)

    @property
    def workers(self) -> int:
        """Worker threads the scheduler has now (at least 1)."""
        return max(1, sum(self.client.nthreads().values()))

    def submit(self, fn: Callable[..., Any], partitions: Sequence[tuple[Any, ...]]) -> list[Any]:
        return [self.client.submit(fn, *args, pure=False) for args in partitions]

    def gather(self, handles: Sequence[Any]) -> list[Any]:
        return list(self.client.gather(list(handles)))

    def each(
        self, fn: Callable[..., Any], jobs: Sequence[tuple[Any, ...]]
    ) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed as dask_completed

        futures = {self.client.submit(fn, *args, pure=False): i for i, args in enumerate(jobs)}
        for future in dask_completed(list(futures), loop=self.client.loop):
            try:
                yield futures[future], future.result()
            except Exception as exc:  # the job's workers died too often (KilledWorker)
                yield futures[future], exc
            future.release()

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


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
