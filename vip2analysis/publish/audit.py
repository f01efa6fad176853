"""``vip2 audit outputs/<period>``: an independent adversary on what a period published.

Reads every published table of a period (``*/tables/*.csv``) together with its cell map
(``*/tables/*.cells.json``, written by :class:`~vip2analysis.publish.tables.Publisher`),
takes the numbers and markers as they stand in the CSV files, and solves, for every hidden
or implied cell, the smallest and largest value the published numbers allow
(:func:`~vip2analysis.publish.register.audit_cells`). A cell narrowed to an interval
narrower than ``k`` that reaches below ``k`` is a leak. A table with person counts and no
cell map cannot be audited and is reported too.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from vip2analysis.errors import DataError, DisclosureError
from vip2analysis.publish.register import CellKind, audit_cells

__all__ = [
    "COUNT_COLUMNS",
    "AuditReport",
    "audit_period",
]

COUNT_COLUMNS: frozenset[str] = frozenset(
    {"n", "events", "started", "rows", "clean_rows", "rejected_rows", "duplicate_rows"}
)
"""Column names that hold person (or record) counts in a published table."""


@dataclass
class AuditReport:
    """What the audit of one period found."""

    period_dir: Path
    tables: int = 0
    cells: int = 0
    leaks: list[str] = field(default_factory=list)
    unaudited: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.leaks and not self.unaudited

    def summary(self) -> str:
        head = (
            f"{self.period_dir}: {self.tables} tables, {self.cells} published cells audited; "
            f"{len(self.leaks)} leak(s), {len(self.unaudited)} table(s) without a cell map"
        )
        return "\n".join(
            [
                head,
                *(f"  leak: {x}" for x in self.leaks),
                *(f"  not audited: {x}" for x in self.unaudited),
            ]
        )


def audit_period(period_dir: str | os.PathLike[str]) -> AuditReport:
    """Audit every table under ``period_dir`` (one period's outputs); see the module notes."""
    period_dir = Path(period_dir)
    if not period_dir.is_dir():
        raise DataError(f"{period_dir}: no such outputs folder")
    report = AuditReport(period_dir)
    universes: dict[str, dict[str, Any]] = {}
    cells: dict[str, list[tuple[dict, CellKind, Any]]] = defaultdict(list)
    for csv_path in sorted(period_dir.glob("*/tables/*.csv")):
        report.tables += 1
        frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
        map_path = csv_path.with_suffix(".cells.json")
        rel = csv_path.relative_to(period_dir)
        if not map_path.is_file():
            if COUNT_COLUMNS & set(frame.columns):
                report.unaudited.append(str(rel))
            continue
        cell_map = json.loads(map_path.read_text(encoding="utf-8"))
        for block in cell_map["universes"]:
            name = block["universe"]
            known = universes.setdefault(name, {"k": block["k"], "domains": block["domains"]})
            if known["k"] != block["k"]:
                raise DisclosureError(f"{rel}: k={block['k']}, other tables k={known['k']}")
            for var, values in block["domains"].items():
                known["domains"].setdefault(var, values)
            for entry in block["shown"]:
                try:
                    value = frame.loc[entry["row"], entry["column"]]
                except KeyError:
                    raise DataError(
                        f"{rel}: row {entry['row']}, column {entry['column']!r} of the cell map "
                        "is not in the table"
                    ) from None
                cells[name].append((entry["key"], entry["kind"], value))
                report.cells += 1
            for entry in block["implied"]:
                cells[name].append((entry["key"], entry["kind"], None))
    for name, spec in universes.items():
        for key, _ in audit_cells(spec["domains"], cells[name], k=spec["k"]):
            where = ", ".join(f"{var} in {list(values)}" for var, values in key) or "everything"
            report.leaks.append(f"{name}: the cell [{where}] can be narrowed below {spec['k']}")
    return report
