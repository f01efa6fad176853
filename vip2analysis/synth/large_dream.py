"""A large synthetic DREAM extract for benchmarks: parquet and ';'-separated CSV.gz, by chunk.

Every person gets a weekly history from 2000 week 1 to 2012 week 52 from the no-course
model of :mod:`vip2analysis.synth.dream` (``_Chain``: passive benefit 730, activation 731,
ordinary employment as a blank week with the month's ``branche_`` flag, short gaps off
benefit as blank weeks without a job, emigration 997 from a person-level week on), with a
spell under way when the extract starts, as the register pool of the default set.
Covariates come from the comparison population of :mod:`vip2analysis.synth.people`; a
tenth lives outside the project's municipalities.

Persons are generated ``CHUNK`` at a time, each chunk from its own generator
``np.random.default_rng([seed, chunk])``, so memory is bounded by the chunk and the files
are byte-identical for a seed. CPR numbers are synthetic (they fail the modulus-11 check)
and unique within a chunk, but not across chunks: a large extract may hold a number twice.
That is harmless for timing the measures and is not a clean extract's property.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from vip2analysis.config import SYNTHETIC_MARKER
from vip2analysis.contract.cpr import DEMO_KEY_ID
from vip2analysis.contract.dream import Week, iso_weeks, month_column
from vip2analysis.synth.dream import (
    DREAM_MODEL,
    EMIGRATED,
    FIRST_WEEK,
    LAST_WEEK,
    WEEKS_PER_YEAR,
    _Chain,
    _eta,
)
from vip2analysis.synth.people import _birth_dates, _draw_people, _unique_cprs
from vip2analysis.synth.write import _OUTSIDE

__all__ = [
    "CHUNK",
    "CSV_NAME",
    "PARQUET_NAME",
    "write_large_dream",
]

CHUNK = 50_000
PARQUET_NAME = "dream_large.parquet"
CSV_NAME = "dream_large.csv.gz"
MONTHS = [(year, month) for year in range(2008, 2013) for month in range(1, 13)]
REFERENCE_DATE = dt.date(2010, 1, 1)  # the age drawn is the age on this date
GZIP_LEVEL = 6


def _layout() -> tuple[list[Week], np.ndarray, pa.Schema]:
    """The weeks, each week's position in ``MONTHS`` (its Thursday's month, -1 before
    2008) and the files' schema (pnr, kon, kom, weekly int16, monthly uint8)."""
    weeks = iso_weeks(FIRST_WEEK, LAST_WEEK)
    where = {m: i for i, m in enumerate(MONTHS)}
    month_of = np.full(len(weeks), -1, dtype=np.int64)
    for i, w in enumerate(weeks):
        thursday = w.monday + dt.timedelta(days=3)
        month_of[i] = where.get((thursday.year, thursday.month), -1)
    fields = [pa.field(name, pa.string()) for name in ("pnr", "kon", "kom")]
    fields += [pa.field(w.column, pa.int16()) for w in weeks]
    fields += [pa.field(month_column(y, m), pa.uint8()) for y, m in MONTHS]
    return weeks, month_of, pa.schema(fields)


def _people(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """pnr, kon, kom and the model's covariates of n persons."""
    people = _draw_people(rng, n, comparison=True)
    outside = rng.random(n) < DREAM_MODEL["pool"]["outside_project_municipalities"]
    people["municipality"] = people["municipality"].where(
        ~outside, pd.Series(rng.choice(_OUTSIDE, size=n))
    )
    ref = pd.Series(pd.Timestamp(REFERENCE_DATE), index=people.index).astype("datetime64[s]")
    birth = _birth_dates(rng, ref, people["age_years"])
    people["pnr"] = _unique_cprs(rng, birth, people["sex"])
    return people


def _histories(
    rng: np.random.Generator, people: pd.DataFrame, month_of: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Codes (weeks, persons; 0 = blank) and employment months (months, persons)."""
    n, n_weeks = len(people), len(month_of)
    pool = DREAM_MODEL["pool"]
    chain = _Chain(rng, _eta(people))
    chain.d = np.round(
        np.exp(np.log(pool["initial_duration_median_years"]) + 0.8 * rng.standard_normal(n))
        * WEEKS_PER_YEAR
    )
    emigrate = np.minimum(
        rng.geometric(DREAM_MODEL["emigration_hazard"], size=n), 10 * n_weeks
    ).astype(np.int64)
    codes = np.empty((n_weeks, n), dtype=np.int16)
    branche = np.zeros((len(MONTHS), n), dtype=bool)
    everyone = np.ones(n, dtype=bool)
    for w in range(n_weeks):
        code, job = chain.step(everyone)
        gone = w >= emigrate
        code[gone] = 997
        chain.state[gone] = EMIGRATED
        codes[w] = code
        if month_of[w] >= 0:
            branche[month_of[w]] |= job & ~gone
    return codes, branche


def _chunk(
    seed: int, index: int, n: int, month_of: np.ndarray, schema: pa.Schema
) -> pa.RecordBatch:
    rng = np.random.default_rng([seed, index])
    people = _people(rng, n)
    codes, branche = _histories(rng, people, month_of)
    arrays: list[pa.Array] = [
        pa.array(people["pnr"].to_numpy(dtype=str), pa.string()),
        pa.array(np.where(people["sex"].to_numpy() == "F", "K", "M"), pa.string()),
        pa.array(people["municipality"].to_numpy(dtype=str), pa.string()),
    ]
    arrays += [pa.array(week, pa.int16(), mask=week == 0) for week in codes]
    arrays += [pa.array(month.astype(np.uint8), pa.uint8(), mask=~month) for month in branche]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def write_large_dream(out: Path, *, persons: int, seed: int) -> dict[str, Any]:
    """Write ``dream_large.parquet``, ``dream_large.csv.gz`` and a synthetic marker into ``out``.

    Both files hold the same ``persons`` rows and columns: ``pnr``, ``kon`` (K/M), ``kom``
    (municipality name), the weekly columns ``y_0001`` .. ``y_1252`` and the monthly
    columns ``branche_2008_01`` .. ``branche_2012_12``. In parquet a weekly column is
    int16 (null = blank) and a monthly one uint8 (1 = employed, null = not); in the CSV
    (';'-separated, UTF-8, gzip without a time stamp) a blank is an empty cell. CPR
    numbers are unique within a chunk of ``CHUNK`` persons, not across chunks.

    Returns the marker's content: persons, weeks, months, seed and the files' sizes.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    weeks, month_of, schema = _layout()
    parquet_path, csv_path = out / PARQUET_NAME, out / CSV_NAME
    options = pacsv.WriteOptions(delimiter=";", quoting_style="none", quoting_header="none")
    with (
        pq.ParquetWriter(parquet_path, schema) as parquet,
        csv_path.open("wb") as raw,
        gzip.GzipFile(
            filename=CSV_NAME.removesuffix(".gz"),
            mode="wb",
            compresslevel=GZIP_LEVEL,
            fileobj=raw,
            mtime=0,
        ) as gz,
        pacsv.CSVWriter(gz, schema, write_options=options) as csv,
    ):
        for index, start in enumerate(range(0, persons, CHUNK)):
            batch = _chunk(seed, index, min(CHUNK, persons - start), month_of, schema)
            parquet.write_batch(batch)
            csv.write_batch(batch)
            del batch
    meta: dict[str, Any] = {
        "synthetic": True,
        "pseudonym_key": DEMO_KEY_ID,
        "generator": "vip2analysis.synth.large_dream (DREAM no-course model)",
        "seed": seed,
        "persons": persons,
        "chunk": CHUNK,
        "weeks": len(weeks),
        "first_week": weeks[0].column,
        "last_week": weeks[-1].column,
        "months": len(MONTHS),
        "files": {
            PARQUET_NAME: parquet_path.stat().st_size,
            CSV_NAME: csv_path.stat().st_size,
        },
        "note": "Synthetic data, not real persons. CPR numbers fail the modulus-11 check "
        "and are unique within a chunk only.",
    }
    (out / SYNTHETIC_MARKER).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta
