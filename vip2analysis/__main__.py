"""``python -m vip2analysis`` and the ``vip2`` console script run the same command line."""

from __future__ import annotations

import sys

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
    main()


if __name__ == "__main__":
    run()
