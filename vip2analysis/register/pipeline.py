"""After cleaning: the register outcomes of the courses and the comparison sample.

``vip2 clean`` calls :func:`measure_register` once ``register.parquet`` and
``courses.parquet`` are written. It reads only the processed folder, and writes
``register_outcomes.parquet`` (one row per clean course) and
``comparison_register.parquet`` (the risk-set sample), recording the gap, ``m`` and the
seed in ``accounting.json`` so that a rebuild repeats them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from vip2analysis.clean.pipeline import run_clean
from vip2analysis.clean.tables import CleanResult
from vip2analysis.config import DEFAULT_SEED
from vip2analysis.engine import Engine
from vip2analysis.io.processed import load_register, write_table
from vip2analysis.register.measures import DEFAULT_GAP
from vip2analysis.register.risk import DEFAULT_M, comparison_sample, course_outcomes

__all__ = [
    "clean_and_measure",
    "effect_inputs",
    "measure_register",
    "register_options",
]


def register_options(accounting: dict[str, Any]) -> dict[str, int]:
    """The gap, m and seed a processed folder's register outputs were made with."""
    reg = accounting.get("register", {}) or {}
    return {
        "gap": int(reg.get("gap", DEFAULT_GAP)),
        "m": int(reg.get("m", DEFAULT_M)),
        "seed": int(reg.get("seed", DEFAULT_SEED)),
    }


def measure_register(
    processed: str | os.PathLike[str],
    *,
    gap: int = DEFAULT_GAP,
    m: int = DEFAULT_M,
    seed: int = DEFAULT_SEED,
    engine: Engine | None = None,
) -> dict[str, Any] | None:
    """Write the register outcomes and the comparison sample into ``processed``; the
    measures run on ``engine`` (this process by default).

    Returns what was recorded in ``accounting.json`` (``register``), or None when the
    folder holds no register (no DREAM extract was cleaned).
    """
    folder = Path(processed)
    if not (folder / "register.parquet").is_file():
        return None
    panel = load_register(folder)
    courses = pd.read_parquet(folder / "courses.parquet")
    outcomes = course_outcomes(panel, courses, k=gap, engine=engine)
    sample = comparison_sample(panel, courses, m=m, seed=seed, k=gap, engine=engine)
    write_table(outcomes, folder / "register_outcomes.parquet")
    write_table(sample, folder / "comparison_register.parquet")
    path = folder / "accounting.json"
    accounting = json.loads(path.read_text(encoding="utf-8"))
    summary = {
        "gap": gap,
        "m": m,
        "seed": seed,
        "courses": len(outcomes),
        "courses_in_register": int(outcomes["in_register"].sum()),
        "comparison_rows": len(sample),
        "comparison_persons": int(sample["person_id"].nunique()),
        "start_weeks": int(sample["t0"].nunique()),
    }
    accounting["register"] = {**(accounting.get("register") or {}), **summary}
    tmp = path.with_name(".accounting.json.tmp")
    tmp.write_text(json.dumps(accounting, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return accounting["register"]


def effect_inputs(
    processed: str | os.PathLike[str], *, gap: int = DEFAULT_GAP
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The register outcomes of the courses and the comparison sample for a gap ``k``.

    With the gap ``vip2 clean`` used, the files it wrote; with another gap (a sensitivity
    run: 1 or 52 weeks), both are measured again from ``register.parquet`` with the same
    ``m`` and seed, so that only the gap differs.
    """
    folder = Path(processed)
    accounting = json.loads((folder / "accounting.json").read_text(encoding="utf-8"))
    options = register_options(accounting)
    if gap == options["gap"] and (folder / "register_outcomes.parquet").is_file():
        return (
            pd.read_parquet(folder / "register_outcomes.parquet"),
            pd.read_parquet(folder / "comparison_register.parquet"),
        )
    panel = load_register(folder)
    courses = pd.read_parquet(folder / "courses.parquet")
    return (
        course_outcomes(panel, courses, k=gap),
        comparison_sample(panel, courses, m=options["m"], seed=options["seed"], k=gap),
    )


def clean_and_measure(
    raw_dir: str | os.PathLike[str] | None,
    out_dir: str | os.PathLike[str],
    *,
    gap: int = DEFAULT_GAP,
    m: int = DEFAULT_M,
    seed: int = DEFAULT_SEED,
    engine: Engine | None = None,
    **options: Any,
) -> CleanResult:
    """What ``vip2 clean`` does: :func:`~vip2analysis.clean.pipeline.run_clean` (every
    ``options`` is passed on), then, when the raw files held a DREAM extract,
    :func:`measure_register`, both on ``engine``. The result's ``register`` says what was
    measured."""
    result = run_clean(raw_dir, out_dir, engine=engine, **options)
    measured = measure_register(out_dir, gap=gap, m=m, seed=seed, engine=engine)
    if measured:
        result.register = measured
    return result
