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

import pandas as pd

from vip2analysis.config import SYNTHETIC_MARKER
from vip2analysis.contract.cpr import DEMO_KEY_ID
from vip2analysis.errors import MissingDataError

__all__ = [
    "OUTPUT_FILES",
    "Processed",
    "is_synthetic",
    "load_processed",
    "write_processed",
]


OUTPUT_FILES = (
    "courses.parquet",
    "comparison.parquet",
    "ambassadors.parquet",
    "activities.parquet",
    "rejects.csv",
    "duplicates.csv",
    "notes.csv",
    "accounting.json",
)


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
    tables: Mapping[str, pd.DataFrame],
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
            table.to_parquet(tmp / f"{kind}.parquet", index=False)
        (tmp / "rejects.csv").write_bytes(_csv(rejects))
        (tmp / "duplicates.csv").write_bytes(_csv(duplicates))
        if notes is not None:
            (tmp / "notes.csv").write_bytes(_csv(notes))
        (tmp / "accounting.json").write_text(
            json.dumps(accounting, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        written = {p.name for p in tmp.iterdir()}
        for name in OUTPUT_FILES:
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
    comparison: pd.DataFrame | None
    ambassadors: pd.DataFrame
    activities: pd.DataFrame
    rejects: pd.DataFrame
    duplicates: pd.DataFrame
    accounting: dict[str, Any]

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
        comparison=parquet("comparison"),
        ambassadors=parquet("ambassadors") if parquet("ambassadors") is not None else empty,
        activities=parquet("activities") if parquet("activities") is not None else empty,
        rejects=pd.read_csv(folder / "rejects.csv", keep_default_na=False),
        duplicates=pd.read_csv(folder / "duplicates.csv", keep_default_na=False),
        accounting=json.loads((folder / "accounting.json").read_text(encoding="utf-8")),
    )
