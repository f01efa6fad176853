"""``python -m vip2analysis`` and the ``vip2`` console script run the same command line."""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from typing import NoReturn

__all__ = ["run"]

_CLI_PACKAGES = ("typer", "rich", "click")


def run() -> None:
    """Start the command line; without the ``[cli]`` extra, say how to get it (exit 2)."""
    try:
        from vip2analysis.cli import main  # typer and rich come with the [cli] extra
    except ModuleNotFoundError as exc:
        if exc.name not in _CLI_PACKAGES:
            raise
        print(
            f"vip2: the command line needs the [cli] extra ({exc.name} is not installed): "
            "pip install 'vip2analysis[cli]'",
            file=sys.stderr,
        )
        raise SystemExit(2) from exc
    try:
        main()
    except SystemExit as done:
        _leave(done.code)
    _leave(0)


def _leave(code: object) -> NoReturn:
    """End the command's process with ``code`` once Python's own exit work is done.

    pyarrow's native thread pools can abort a process that has finished its work while
    the C++ runtime tears them down ("terminate called without an active exception",
    exit -6; apache/arrow#34314), which would turn a clean ``vip2`` run into a crash for
    scripts and CI. So the exit handlers run and the output is flushed here, and the
    process then ends without that teardown. What Python does at exit before that
    teardown is done first, in its order: wait for the running threads
    (``threading._shutdown``), then the exit handlers. Only the console command does this;
    ``vip2analysis.cli.app`` called from Python exits as usual.
    """
    if isinstance(code, str):  # SystemExit("message"): Python prints it and exits 1
        print(code, file=sys.stderr)
    status = code if isinstance(code, int) else (0 if code is None else 1)
    threading._shutdown()  # type: ignore[attr-defined]
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing to say
            stream.flush()
    os._exit(status)


if __name__ == "__main__":
    run()
