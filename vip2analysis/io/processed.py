"""The processed folder: written atomically by the cleaning step, loaded by notebooks."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from vip2analysis.config import SYNTHETIC_MARKER
from vip2analysis.contract.cpr import DEMO_KEY_ID
from vip2analysis.contract.dream import (
    WeeklyPanel,
    month_column,
    parse_month_column,
    parse_week_column,
)
from vip2analysis.errors import MissingDataError

__all__ = [
    "OUTPUT_FILES",
    "Processed",
    "is_synthetic",
    "load_processed",
    "load_register",
    "panel_table",
    "write_processed",
    "write_table",
]


OUTPUT_FILES = (
    "courses.parquet",
    "ambassadors.parquet",
    "activities.parquet",
    "register.parquet",
    "register_outcomes.parquet",
    "comparison_register.parquet",
    "rejects.csv",
    "duplicates.csv",
    "notes.csv",
    "accounting.json",
)


_RETIRED_FILES = ("comparison.parquet",)
"""Outputs of earlier versions (the comparison file with ready-made outcomes, replaced by
the register's risk-set sample): removed from a processed folder when it is cleaned again."""


def is_synthetic(raw_dir: str | os.PathLike[str]) -> bool:
    """True when the folder declares itself the bundled synthetic set with the demo key."""
    marker = Path(raw_dir) / SYNTHETIC_MARKER
    if not marker.is_file():
        return False
    try:
        info = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return info.get("synthetic") is True and info.get("pseudonym_key") == DEMO_KEY_ID


def _csv(frame: pd.DataFrame) -> bytes:
    text: str = frame.to_csv(index=False, lineterminator="\n")  # no path: the text
    return text.encode("utf-8")


def write_processed(
    out_dir: str | os.PathLike[str],
    *,
    tables: Mapping[str, pd.DataFrame | pa.Table],
    rejects: pd.DataFrame,
    duplicates: pd.DataFrame,
    accounting: Mapping[str, Any],
    notes: pd.DataFrame | None = None,
) -> None:
    """Write clean tables, rejects, duplicates and accounting; replace atomically per file.

    A file of :data:`OUTPUT_FILES` that this call does not write is removed from
    ``out_dir`` (a stale output of an earlier run with other inputs).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".clean-", dir=out))
    try:
        for kind, table in tables.items():
            if isinstance(table, pa.Table):
                pq.write_table(table, tmp / f"{kind}.parquet")
            else:
                table.to_parquet(tmp / f"{kind}.parquet", index=False)
        (tmp / "rejects.csv").write_bytes(_csv(rejects))
        (tmp / "duplicates.csv").write_bytes(_csv(duplicates))
        if notes is not None:
            (tmp / "notes.csv").write_bytes(_csv(notes))
        (tmp / "accounting.json").write_text(
            json.dumps(accounting, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        written = {p.name for p in tmp.iterdir()}
        for name in (*OUTPUT_FILES, *_RETIRED_FILES):
            if name in written:
                os.replace(tmp / name, out / name)
            elif (out / name).exists():
                (out / name).unlink()  # stale output of an earlier run with other inputs
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@dataclass
class Processed:
    """The clean tables of ``data/processed/`` and what cleaning said about them."""

    courses: pd.DataFrame
    ambassadors: pd.DataFrame
    activities: pd.DataFrame
    rejects: pd.DataFrame
    duplicates: pd.DataFrame
    accounting: dict[str, Any]
    register_outcomes: pd.DataFrame | None = None
    """One row per course with its register measures (``vip2 clean`` with a DREAM extract)."""
    comparison_register: pd.DataFrame | None = None
    """The risk-set comparison sample from the register."""
    folder: Path | None = None

    @property
    def has_register(self) -> bool:
        return self.register_outcomes is not None and self.comparison_register is not None

    @property
    def synthetic(self) -> bool:
        return bool(self.accounting.get("synthetic"))


def load_processed(folder: str | os.PathLike[str]) -> Processed:
    """Read the outputs of ``vip2 clean`` from ``folder``.

    Raises
    ------
    MissingDataError
        Naming the missing file and the command that makes it.
    """
    folder = Path(folder)
    for name in ("courses.parquet", "accounting.json"):
        if not (folder / name).is_file():
            raise MissingDataError(
                f"{folder / name} is missing: run `vip2 clean --out {folder}` (or `make all`) first"
            )

    def parquet(name: str) -> pd.DataFrame | None:
        path = folder / f"{name}.parquet"
        return pd.read_parquet(path) if path.is_file() else None

    empty = pd.DataFrame()
    return Processed(
        courses=parquet("courses"),
        ambassadors=parquet("ambassadors") if parquet("ambassadors") is not None else empty,
        activities=parquet("activities") if parquet("activities") is not None else empty,
        rejects=pd.read_csv(folder / "rejects.csv", keep_default_na=False),
        duplicates=pd.read_csv(folder / "duplicates.csv", keep_default_na=False),
        accounting=json.loads((folder / "accounting.json").read_text(encoding="utf-8")),
        register_outcomes=parquet("register_outcomes"),
        comparison_register=parquet("comparison_register"),
        folder=folder,
    )


def write_table(table: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write one parquet table atomically (a temporary sibling, then a rename)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    os.close(fd)
    try:
        table.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def panel_table(panel: WeeklyPanel) -> pa.Table:
    """The wide form of a clean extract: the person columns, one int16 column per week
    (``y_YYWW``: 0 = blank, 1000 = no column in the raw extract) and one uint8 column per
    month (``branche_YYYY_MM``: 1 = wage employment). No CPR number: ``person_id`` only."""
    persons = panel.persons.drop(columns=["source_file", "source_row"], errors="ignore")
    arrays = [pa.array(persons[c]) for c in persons]
    names = list(persons.columns)
    codes = np.asfortranarray(panel.codes)
    for j, week in enumerate(panel.weeks):
        arrays.append(pa.array(codes[:, j]))
        names.append(week.column)
    branche = np.asfortranarray(panel.branche)
    for j, (year, month) in enumerate(panel.months):
        arrays.append(pa.array(branche[:, j]))
        names.append(month_column(year, month))
    return pa.Table.from_arrays(arrays, names=names)


def load_register(
    folder: str | os.PathLike[str], *, person_ids: pd.Series | None = None
) -> WeeklyPanel:
    """The clean extract (``register.parquet``) as a :class:`WeeklyPanel`; only the
    persons in ``person_ids`` when given.

    Raises
    ------
    MissingDataError
        When the folder holds no register (``vip2 clean`` found no DREAM extract).
    """
    path = Path(folder) / "register.parquet"
    if not path.is_file():
        raise MissingDataError(
            f"{path} is missing: put a DREAM extract (a file named dream*) in the raw folder "
            f"and run `vip2 clean --out {folder}`"
        )
    filters = None
    if person_ids is not None:
        filters = [("person_id", "in", list(pd.unique(person_ids.astype(str))))]
    table = pq.read_table(path, filters=filters)
    weeks = [c for c in table.column_names if c.startswith("y_")]
    months = [c for c in table.column_names if c.startswith("branche_")]
    other = [c for c in table.column_names if c not in weeks and c not in months]
    codes = np.empty((table.num_rows, len(weeks)), dtype=np.int16)
    for j, c in enumerate(weeks):
        codes[:, j] = table.column(c).to_numpy()
    branche = np.empty((table.num_rows, len(months)), dtype=np.uint8)
    for j, c in enumerate(months):
        branche[:, j] = table.column(c).to_numpy()
    return WeeklyPanel(
        persons=table.select(other).to_pandas(),
        codes=codes,
        weeks=[parse_week_column(c) for c in weeks],
        branche=branche,
        months=[parse_month_column(c) for c in months],
    )
