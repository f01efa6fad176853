"""The data contract as code: canonical columns, categories and header aliases.

Declared once here; ``read`` and ``clean`` check data against it, ``synthetic`` writes
data that follows it.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "COURSE_COLUMNS",
    "DURATION_BANDS",
    "MATCH_SYSTEMS",
    "OUTCOMES",
    "RESIDENCE_BASES",
    "SEXES",
    "STATUSES",
    "Outcome",
    "Status",
]

Status = Literal["completed", "ongoing", "dropped_out"]
Outcome = Literal[
    "ordinary_employment",
    "subsidised_employment",
    "education",
    "still_on_benefit",
    "dropped_out",
    "unknown",
]
STATUSES: tuple[str, ...] = ("completed", "ongoing", "dropped_out")
OUTCOMES: tuple[str, ...] = (
    "ordinary_employment",
    "subsidised_employment",
    "education",
    "still_on_benefit",
    "dropped_out",
    "unknown",
)
EMPLOYMENT_OUTCOMES: tuple[str, ...] = ("ordinary_employment", "subsidised_employment")
SEXES: tuple[str, ...] = ("F", "M")
RESIDENCE_BASES: tuple[str, ...] = ("refugee", "family_reunified", "other")
DURATION_BANDS: tuple[str, ...] = ("<1", "1-2", "2-5", "5+")
MATCH_SYSTEMS: tuple[str, ...] = ("category", "group")

# Columns of the clean course table, in order. `cpr` never appears past cleaning.
COURSE_COLUMNS: tuple[str, ...] = (
    "person_id",
    "municipality",
    "municipality_code",
    "region",
    "job_package",
    "job_package_group",
    "start_date",
    "end_date",
    "status",
    "outcome",
    "sex",
    "birth_date",
    "age_at_start",
    "country_of_origin",
    "origin_group",
    "origin_region",
    "residence_basis",
    "years_without_activation",
    "duration_band",
    "match_system",
    "match_code",
    "work_ready",
    "source_file",
    "source_row",
)
