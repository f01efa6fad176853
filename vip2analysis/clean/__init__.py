"""Cleaning raw tables into validated, pseudonymised tables, with rejects, duplicates and
accounting; the cleaning step as a whole (raw folder -> processed folder).
"""

from __future__ import annotations

from vip2analysis.clean.keys import resolve_key
from vip2analysis.clean.pipeline import run_clean, source_digest, write_result
from vip2analysis.clean.records import NOTES, REASONS
from vip2analysis.clean.tables import CleanResult, clean_tables
from vip2analysis.clean.values import TWO_DIGIT_PIVOT, parse_dates, parse_numbers

__all__ = [
    "NOTES",
    "REASONS",
    "TWO_DIGIT_PIVOT",
    "CleanResult",
    "clean_tables",
    "parse_dates",
    "parse_numbers",
    "resolve_key",
    "run_clean",
    "source_digest",
    "write_result",
]
