"""Thin command line over the library: ``vip2 ...`` or ``python -m vip2analysis ...``.

Each subcommand checks its paths first. Every error the library raises on purpose is a
:class:`~vip2analysis.errors.Vip2Error`: :func:`main` prints its message on one line to
stderr and exits with status 2. Anything else is a bug and shows its traceback.

The rooms a subcommand needs are imported when it runs, so that ``vip2 --help`` and
``vip2 periods`` start without loading pandas' heavier neighbours, papermill or the
synthetic generator.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperCommand

from vip2analysis.config import DEFAULT_SEED
from vip2analysis.engine import make_engine
from vip2analysis.errors import Vip2Error

if TYPE_CHECKING:
    from rich.progress import TaskID

__all__ = [
    "app",
    "main",
]

app = typer.Typer(
    name="vip2",
    help="vip2analysis: reproducible evaluation of Danish job-package courses (VIP2).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 120)
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

    from vip2analysis.contract.periods import load_periods, periods_table

    if config is not None and not config.is_file():
        raise _fail(f"{config}: no such periods config file")
    cfg = load_periods(config)
    table = Table(title=f"Reporting periods ({cfg.source}; assigned by {cfg.assign_by})")
    frame = periods_table(cfg)
    for col in frame.columns:
        table.add_column(col)
    for row in frame.itertuples(index=False):
        table.add_row(*(str(v) for v in row))
    _out.print(table, width=120)


def main() -> None:
    """Entry point of the ``vip2`` console script: a Vip2Error is one line and exit 2."""
    try:
        app()
    except Vip2Error as exc:
        _err.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        sys.exit(2)


# The engine options of `vip2 clean` and `vip2 build` (see vip2analysis.engine)
_Engine = Annotated[
    str | None,
    typer.Option(
        help="Where to run: 'local' (this machine, the default) or 'dask' (a Dask "
        "LocalCluster, or the cluster at --scheduler)."
    ),
]
_Scheduler = Annotated[
    str | None,
    typer.Option(help="Address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786."),
]
_ConnectTimeout = Annotated[
    float, typer.Option(help="Seconds to wait for the Dask scheduler before giving up.")
]


@app.command()
def synth(
    out: Annotated[
        Path | None, typer.Option(help="Folder to write the synthetic set into.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = DEFAULT_SEED,
    courses: Annotated[
        int, typer.Option(help="Courses in the method period (313 = the report).")
    ] = 313,
    comparison: Annotated[
        int | None,
        typer.Option(
            help="Non-participants in the DREAM extract's pool (default 6,000; the first "
            "3 x courses are drawn before the course files)."
        ),
    ] = None,
    dream_persons: Annotated[
        int | None,
        typer.Option(
            help="Write only a large DREAM extract of this many persons (2000W01-2012W52, "
            "dream_large.csv.gz and dream_large.parquet) for benchmarks."
        ),
    ] = None,
    check: Annotated[
        Path | None,
        typer.Option(help="Regenerate into a temporary folder and require equality with this one."),
    ] = None,
) -> None:
    """Write the calibrated synthetic VIP2 data set (or --check a committed copy)."""
    import tempfile

    from vip2analysis.io.files import compare_folders
    from vip2analysis.synth.write import write_synthetic

    if (out is None) == (check is None):
        raise _fail("give exactly one of --out DIR or --check DIR")
    if courses < 20:
        raise _fail(f"--courses must be at least 20, got {courses}")
    if check is not None:
        if not check.is_dir():
            raise _fail(f"{check}: no such folder to check")
        with tempfile.TemporaryDirectory() as tmp:
            write_synthetic(
                Path(tmp) / "synthetic", seed=seed, courses=courses, comparison=comparison
            )
            problems = compare_folders(check, Path(tmp) / "synthetic")
        if problems:
            raise _fail(
                f"{check} differs from a fresh regeneration:\n  " + "\n  ".join(problems), 1
            )
        _out.print(f"{check}: identical to a fresh regeneration (seed {seed}).")
        return
    assert out is not None  # exactly one of out and check was given, and check is None
    if dream_persons is not None:
        from vip2analysis.synth.large_dream import write_large_dream

        if dream_persons < 1:
            raise _fail(f"--dream-persons must be at least 1, got {dream_persons}")
        info = write_large_dream(out, persons=dream_persons, seed=seed)
        _out.print(
            f"Wrote a synthetic DREAM extract to {out}: {info.get('persons'):,} persons x "
            f"{info.get('weeks')} weeks. [bold]Synthetic data, not real persons.[/]"
        )
        return
    meta = write_synthetic(out, seed=seed, courses=courses, comparison=comparison)
    faults = meta.get("faults", {})
    _out.print(
        f"Wrote synthetic data to {out}: {meta.get('method_courses')} method-period courses, "
        f"{faults.get('count', 0)} injected faults. [bold]Synthetic data, not real persons.[/]"
    )


@app.command()
def clean(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Raw files to clean (default: every data file in --raw)."),
    ] = None,
    raw: Annotated[Path, typer.Option(help="Folder of raw files.")] = Path("data/raw/synthetic"),
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("data/processed"),
    key_file: Annotated[
        Path | None, typer.Option(help="Pseudonymisation key file (outside the repository).")
    ] = None,
    sheet: Annotated[
        str | None,
        typer.Option(help="Sheet to read in every workbook (default: the first that fits)."),
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option(help="Leave out files matching this glob (repeatable).")
    ] = None,
    keep_going: Annotated[
        bool, typer.Option(help="Clean the readable files and list the others.")
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option(help="Your vip2.yaml (default: vip2.yaml in --raw, when there is one)."),
    ] = None,
    ids: Annotated[
        str,
        typer.Option(
            help="What the person id column holds: 'cpr' (validated, then hashed with the "
            "key) or 'pseudonymised' (ids pseudonymised before, e.g. Statistics Denmark's "
            "PNR: kept as they are, no key; CPR numbers among them are rejected)."
        ),
    ] = "cpr",
    gap: Annotated[
        int,
        typer.Option(
            help="DREAM: weeks off public support that break a spell (4 = about a month, "
            "as jobindsats.dk; 1 and 52 are the usual sensitivity runs)."
        ),
    ] = 4,
    comparisons: Annotated[
        int,
        typer.Option(help="DREAM: comparison persons drawn per participant at each start week."),
    ] = 5,
    seed: Annotated[int, typer.Option(help="DREAM: seed of the comparison draw.")] = DEFAULT_SEED,
    engine: _Engine = None,
    scheduler: _Scheduler = None,
    connect_timeout: _ConnectTimeout = 10.0,
    partition_rows: Annotated[
        int | None,
        typer.Option(
            help="Dask: raw rows per partition (default: equal shares, one or more per worker, "
            "at most 1,000,000 rows each)."
        ),
    ] = None,
) -> None:
    """Clean raw course, dissemination and DREAM register files into data/processed/.

    A file named dream* (CSV, CSV.gz, parquet or SAS sas7bdat) is a DREAM extract: it is
    cleaned like the course files (CPR checked and pseudonymised with the same key) and
    gives register.parquet, register_outcomes.parquet and comparison_register.parquet.
    """

    from vip2analysis.register import clean_and_measure

    if key_file is not None and not key_file.is_file():
        raise _fail(f"{key_file}: no such key file")
    if ids not in ("cpr", "pseudonymised"):
        raise _fail(f"--ids must be 'cpr' or 'pseudonymised', got {ids!r}")
    if gap < 1 or comparisons < 1:
        raise _fail(f"--gap and --comparisons must be at least 1, got {gap} and {comparisons}")
    if partition_rows is not None and partition_rows < 1:
        raise _fail(f"--partition-rows must be at least 1, got {partition_rows}")
    with make_engine(engine, scheduler=scheduler, timeout=connect_timeout) as runner:
        result = clean_and_measure(
            None if files else raw,
            out,
            gap=gap,
            m=comparisons,
            seed=seed,
            files=files or None,
            exclude=exclude or (),
            sheet=sheet,
            keep_going=keep_going,
            config=config,
            key_file=key_file,
            ids="pseudonymised" if ids == "pseudonymised" else "cpr",
            engine=runner,
            partition_rows=partition_rows if runner.name == "dask" else None,
        )
    register = result.register if "comparison_rows" in result.register else None
    _print_accounting(result, out)
    if register:
        _out.print(
            f"Register: {register['courses_in_register']} of {register['courses']} courses "
            f"found in the extract; {register['comparison_rows']} comparison rows "
            f"({register['comparison_persons']} persons) at {register['start_weeks']} start "
            f"weeks (gap {gap}, {comparisons} per participant, seed {seed})."
        )
    for name, why in result.ignored_files:
        _out.print(f"{name}: passed over ({why})")
    for name, error in result.failed_files:
        _err.print(f"[bold red]not read[/] {name}: {error}", soft_wrap=True)


def _print_accounting(result, out: Path) -> None:
    acc = result.accounting
    table = Table(title=f"Cleaning: raw rows = clean + rejected + duplicates (written to {out})")
    for col in (
        "file",
        "kind",
        "raw_rows",
        "clean_rows",
        "rejected_rows",
        "duplicate_rows",
        "balanced",
    ):
        table.add_column(col, justify="left" if col in ("file", "kind") else "right")
    for row in acc.itertuples(index=False):
        table.add_row(*(str(v) for v in row))
    table.add_row(
        "total",
        "",
        *(str(int(acc[c].sum())) for c in acc.columns[2:6]),
        str(bool(acc["balanced"].all())),
    )
    _out.print(table, width=120)
    summary = result.accounting_dict()
    if summary["rejects_by_reason"]:
        reasons = ", ".join(f"{k}: {v}" for k, v in summary["rejects_by_reason"].items())
        _out.print(f"Rejected rows by reason: {reasons} (details in {out / 'rejects.csv'})")
    for file, cols in summary["extra_columns"].items():
        _out.print(f"{file}: extra column(s) kept aside, not used: {', '.join(cols)}")
    unknown = summary.get("register", {}).get("unknown_codes", [])
    if unknown:
        listed = ", ".join(f"{u['code']} in {u['column']} ({u['weeks']})" for u in unknown[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        _out.print(
            f"DREAM codes not in the code table, their weeks treated as unknown: {listed}{more} "
            "(all in accounting.json, register.unknown_codes)"
        )


@app.command("audit")
def audit_cmd(
    period_dir: Annotated[
        list[Path], typer.Argument(help="A period's outputs folder, e.g. outputs/method.")
    ],
) -> None:
    """Audit what a period published: can any hidden cell be worked out from the tables?"""
    from vip2analysis.publish.audit import audit_period

    failed = False
    for folder in period_dir:
        report = audit_period(folder)
        (_out if report.ok else _err).print(report.summary())
        failed |= not report.ok
    if failed:
        raise typer.Exit(1)


def _build_choices() -> str:
    """What `vip2 build` can be given: periods, notebooks, parameters and their values.
    Worked out when help is asked for, so that the CLI starts without loading them."""
    from vip2analysis.build.params import batch_notebooks, notebook_parameters
    from vip2analysis.contract.parameters import ALLOWED, BUILD_SET
    from vip2analysis.contract.periods import load_periods

    config = load_periods()
    lines = ["Periods (--period): " + ", ".join(f"{p.name} ({p.label_en})" for p in config)]
    notebooks = batch_notebooks("notebooks") if Path("notebooks").is_dir() else []
    if notebooks:
        lines.append("Notebooks (--notebook): " + ", ".join(n.stem for n in notebooks))
        declared: dict[str, Any] = {}
        for nb in notebooks:
            declared.update(notebook_parameters(nb))
        params = [
            f"{name}: {ALLOWED.get(name, declared[name][0])}"
            for name in sorted(declared)
            if name not in BUILD_SET
        ]
        lines.append("Parameters (--param NAME=VALUE): " + "; ".join(params))
    return "\n\n".join(lines)


class _BuildCommand(TyperCommand):
    """`vip2 build` with its choices listed under its help."""

    @property
    def epilog(self) -> str:
        return _build_choices()

    @epilog.setter
    def epilog(self, value: str | None) -> None:  # click sets it; the property answers
        pass


@app.command("build", cls=_BuildCommand)
def build_cmd(
    period: Annotated[list[str] | None, typer.Option(help="Period to build (repeatable).")] = None,
    notebook: Annotated[
        list[str] | None, typer.Option(help="Notebook to build, e.g. 02_outcomes (repeatable).")
    ] = None,
    jobs: Annotated[int | None, typer.Option(help="Worker processes (default: cores).")] = None,
    force: Annotated[bool, typer.Option(help="Rebuild even when nothing changed.")] = False,
    processed: Annotated[Path, typer.Option(help="Processed-data folder.")] = Path(
        "data/processed"
    ),
    out: Annotated[Path, typer.Option(help="Outputs folder.")] = Path("outputs"),
    raw: Annotated[
        Path | None,
        typer.Option(
            help="Raw folder the processed data come from; re-cleaned first when its files "
            "changed (default: the folder recorded in accounting.json)."
        ),
    ] = None,
    notebooks_dir: Annotated[Path, typer.Option(help="Notebook templates.")] = Path("notebooks"),
    param: Annotated[
        list[str] | None, typer.Option(help="Extra notebook parameter NAME=VALUE (repeatable).")
    ] = None,
    engine: _Engine = None,
    scheduler: _Scheduler = None,
    connect_timeout: _ConnectTimeout = 10.0,
) -> None:
    """Run every notebook for every period through papermill (parallel, cached)."""
    from vip2analysis.build.runner import build

    if not notebooks_dir.is_dir():
        raise _fail(f"{notebooks_dir}: no such notebooks folder")
    if raw is not None and not raw.is_dir():
        raise _fail(f"{raw}: no such raw folder")
    if jobs is not None and jobs < 1:
        raise _fail(f"--jobs must be at least 1, got {jobs}")
    extra = _parse_params(param or [])
    with (
        make_engine(engine, scheduler=scheduler, workers=jobs) as runner,
        _BuildProgress() as progress,
    ):
        result = build(
            notebooks_dir=notebooks_dir,
            processed=processed,
            out=out,
            raw=raw,
            periods=period,
            notebooks=notebook,
            workers=jobs,
            engine=runner,
            force=force,
            extra=extra,
            lock_file=Path("requirements.lock"),
            progress=progress.update,
        )
    _print_build(result)
    if result.failed or result.leaks:
        raise typer.Exit(1)


def _parse_params(items: list[str]) -> dict:
    import ast

    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier():
            raise _fail(f"--param must look like NAME=VALUE, got {item!r}")
        try:
            out[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[name] = value
    return out


class _BuildProgress:
    """Live display: one line per job and an overall bar (rich)."""

    def __enter__(self):
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=_err,
            transient=False,
        )
        self.progress.__enter__()
        self.total = self.progress.add_task("[bold]all jobs", total=None, status="")
        self.tasks: dict[str, TaskID] = {}
        return self

    def update(self, event: str, job, info: dict) -> None:
        p = self.progress
        if event == "clean":
            p.console.print(
                f"cleaning {info['raw']} first (processed data missing, or raw files changed)"
            )
            return
        if event == "stale":
            if info["reason"] != "not built before":
                p.console.print(f"rebuilding {job.id}: {info['reason']}")
            return
        if event == "queued":
            self.tasks[job.id] = p.add_task(f"  {job.id}", total=1, status="queued")
            p.update(self.total, total=len(self.tasks))
            return
        status = info.get("status", "?")
        p.update(
            self.tasks[job.id], completed=1, status=f"{status} ({info.get('duration', 0):.1f} s)"
        )
        p.advance(self.total)

    def __exit__(self, *exc):
        self.progress.__exit__(*exc)


def _print_build(result) -> None:
    for report in result.audits.values():
        (_err if not report.ok else _out).print(report.summary())
    counts = {s: sum(j.status == s for j in result.jobs) for s in ("ok", "skipped", "failed")}
    _out.print(
        f"Build {result.run_id}: {counts['ok']} ran, {counts['skipped']} unchanged (skipped), "
        f"{counts['failed']} failed. Index: {result.index}  Manifest: {result.manifest}"
    )
    for job in result.failed:
        _err.print(
            f"[bold red]FAILED[/] {job.notebook} / {job.period}: cell {job.cell}: "
            f"{job.error}: {job.message}\n  executed notebook: {job.executed}",
            soft_wrap=True,
        )
