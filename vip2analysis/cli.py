"""Thin command line over the library: ``vip2 ...`` or ``python -m vip2analysis ...``.

Each subcommand checks its paths first, writes errors to stderr and exits non-zero.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

__all__ = ["app", "main"]

app = typer.Typer(
    name="vip2",
    help="vip2analysis: reproducible evaluation of Danish job-package courses (VIP2).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_out = Console(highlight=False, width=None if sys.stdout.isatty() else 140)
_err = Console(stderr=True, highlight=False)


@app.callback()
def _root() -> None:
    """vip2analysis: reproducible evaluation of Danish job-package courses (VIP2)."""


def _fail(message: str, code: int = 2) -> typer.Exit:
    _err.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    return typer.Exit(code)


@app.command()
def periods(
    config: Annotated[
        Path | None, typer.Option(help="Periods YAML file (default: the shipped config).")
    ] = None,
) -> None:
    """Print the reporting periods as a table."""
    from vip2analysis.periods import PeriodConfigError, load_periods, periods_table

    if config is not None and not config.is_file():
        raise _fail(f"{config}: no such periods config file")
    try:
        cfg = load_periods(config)
    except PeriodConfigError as exc:
        raise _fail(str(exc)) from exc
    table = Table(title=f"Reporting periods ({cfg.source}; assigned by {cfg.assign_by})")
    frame = periods_table(cfg)
    for col in frame.columns:
        table.add_column(col)
    for row in frame.itertuples(index=False):
        table.add_row(*(str(v) for v in row))
    _out.print(table)


def main() -> None:
    """Entry point of the ``vip2`` console script."""
    app()
