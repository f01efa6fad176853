"""Large synthetic course file for benchmarks: one CSV, written chunk by chunk.

Memory stays bounded by the chunk size. Each chunk is a calibrated method-period cohort
(the same shares as the default set) rendered in one sender format, with faults injected
at ``LARGE_FAULT_RATE`` per fault kind.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vip2analysis.config import SYNTHETIC_MARKER
from vip2analysis.contract.cpr import DEMO_KEY_ID
from vip2analysis.contract.periods import load_periods
from vip2analysis.synth.faults import LARGE_FAULT_RATE, _fault_table, _with_faults
from vip2analysis.synth.model import calibration_counts
from vip2analysis.synth.people import _birth_dates, _course_cohort, _job_packages, _make_cprs
from vip2analysis.synth.render import _LARGE_FORMAT, _file_bytes, _render

__all__ = [
    "write_large",
]

CHUNK = 100_000
_KINDS = (
    "exact_duplicate",
    "conflicting_duplicate",
    "cpr_date",
    "date_unparseable",
    "end_before_start",
    "unknown_job_package",
    "sex_cpr_conflict",
    "blank_row",
    "sex_missing",
)


def _chunk_rows(rng: np.random.Generator, n: int, taken: set[str]) -> pd.DataFrame:
    people = _course_cohort(rng, n, load_periods()["method"], calibration_counts(n))
    people = people.join(_job_packages(rng, n))
    people["birth_date"] = _birth_dates(rng, people["start_date"], people["age_years"])
    people["cpr"] = _make_cprs(rng, people["birth_date"], people["sex"])
    people["last_activation_days"] = np.round(people["years_raw"] * 365.25).astype(int)
    people["match_code"] = np.where(people["match_draw"] < 0.4, 4, 5)
    fmt = _LARGE_FORMAT
    plan = {kind: max(1, round(LARGE_FAULT_RATE * n)) for kind in _KINDS}
    return _with_faults(_render(people, fmt, rng), fmt, rng, people, plan, taken)


def write_large(out: Path, *, seed: int, courses: int) -> dict[str, Any]:
    """Write ``courses_large.csv``, ``truth/faults.csv`` and a synthetic marker into ``out``.

    The faults go into ``truth/`` as in the default set, so ``out`` holds one raw file.
    """

    (out / "truth").mkdir(parents=True, exist_ok=True)
    fmt = _LARGE_FORMAT
    rng = np.random.default_rng(seed)
    path, fault_path = out / fmt.file, out / "truth" / "faults.csv"
    written, n_faults = 0, 0
    with path.open("wb") as fh, fault_path.open("wb") as fault_fh:
        for start in range(0, courses, CHUNK):
            rows = _chunk_rows(rng, min(CHUNK, courses - start), set())
            data = _file_bytes(rows, fmt)
            fh.write(data if start == 0 else data.split(b"\n", 1)[1])
            faults = _fault_table(rows, fmt)
            faults["row"] += written
            fault_fh.write(faults.to_csv(index=False, header=start == 0).encode())
            written += len(rows)
            n_faults += len(faults)
    meta = {
        "synthetic": True,
        "pseudonym_key": DEMO_KEY_ID,
        "generator": "vip2analysis.synth (large layout)",
        "seed": seed,
        "method_courses": courses,
        "rows": written,
        "faults": {"count": n_faults, "rate_per_kind": LARGE_FAULT_RATE},
        "note": "Synthetic data, not real persons. Public demo pseudonym key only.",
    }
    (out / SYNTHETIC_MARKER).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta
