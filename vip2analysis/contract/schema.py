"""The data contract as code: canonical columns, categories and header aliases.

Declared once here; ``read`` and ``clean`` check data against it, ``synthetic`` writes
data that follows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from pandera.pandas import DataFrameSchema

__all__ = [
    "ACTIVATION_DATE_RANGE",
    "AGE_RANGE",
    "ALIASES",
    "BIRTH_DATE_RANGE",
    "COURSE_COLUMNS",
    "COURSE_DATE_RANGE",
    "DURATION_BANDS",
    "EMPLOYMENT_OUTCOMES",
    "FILE_KINDS",
    "ID_MODES",
    "MATCH_SYSTEMS",
    "MAX_YEARS_WITHOUT_ACTIVATION",
    "OPTIONAL",
    "OUTCOMES",
    "RECORD_KEY",
    "REQUIRED",
    "RESIDENCE_BASES",
    "SEXES",
    "SIGNATURE",
    "STATUSES",
    "IdMode",
    "Outcome",
    "Status",
    "clean_schemas",
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
STATUSES: tuple[str, ...] = get_args(Status)
OUTCOMES: tuple[str, ...] = get_args(Outcome)
EMPLOYMENT_OUTCOMES: tuple[str, ...] = ("ordinary_employment", "subsidised_employment")
SEXES: tuple[str, ...] = ("F", "M")
RESIDENCE_BASES: tuple[str, ...] = ("refugee", "family_reunified", "other")
DURATION_BANDS: tuple[str, ...] = ("<1", "1-2", "2-5", "5+")
MATCH_SYSTEMS: tuple[str, ...] = ("category", "group")

IdMode = Literal["cpr", "pseudonymised"]
ID_MODES: tuple[str, ...] = get_args(IdMode)
"""What the person id column holds: CPR numbers (validated, then replaced by the keyed
pseudonym), or ids already pseudonymised elsewhere (e.g. Statistics Denmark's project
PNR), kept as they are; sex and birth date then come only from their own columns."""

# The columns every clean person-level table ends with: background, duration, match, origin.
_PERSON_TAIL: tuple[str, ...] = (
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
    *_PERSON_TAIL,
)

# What a file holds, decided from its headers.
FileKind = Literal["courses", "ambassadors", "activities"]
FILE_KINDS: tuple[str, ...] = ("courses", "ambassadors", "activities")

# Raw header aliases per canonical column. Matching is case-, accent- and
# punctuation-insensitive (``reference.normalise_key``), so "CPR-nr." == "cpr nr".
ALIASES: dict[str, tuple[str, ...]] = {
    "cpr": (
        "CPR",
        "CPR-nr.",
        "CPR nr",
        "Cpr nummer",
        "CPR-nummer",
        "Personnummer",
        "PNR",
        "Person-ID",
        "Pseudonym",
    ),
    "birth_date": ("Fødselsdato", "Foedselsdato", "Fødselsdag", "Født"),
    "municipality": ("Kommune", "Jobcenter", "Bopælskommune", "Kommunenavn"),
    "job_package": ("Jobpakke", "Branche", "Jobpakkens branche", "Jobpakke branche"),
    "start_date": ("Startdato", "Start dato", "Start", "Forløbsstart", "Startdato forløb"),
    "end_date": ("Slutdato", "Slut dato", "Slut", "Forløbsslut", "Afslutningsdato"),
    "status": ("Status", "Forløbsstatus"),
    "outcome": (
        "Afgang",
        "Resultat",
        "Afgangsårsag",
        "Afgangsaarsag",
        "Udfald",
        "Status på referencedato",
        "Status ved referencedato",
    ),
    "sex": ("Køn", "Koen", "Kon"),
    "country_of_origin": ("Oprindelsesland", "Herkomst", "Land", "Herkomstland"),
    "residence_basis": ("Opholdsgrundlag", "Opholdsgrund"),
    "years_without_activation": ("År uden aktivering", "Aar uden aktivering", "År passiv"),
    "last_activation": ("Sidste aktivering", "Dato for sidste aktivering", "Seneste aktivering"),
    "match_category": ("Matchkategori", "Match kategori", "Match"),
    "match_group": ("Matchgruppe", "Match gruppe", "Målgruppe match"),
    "ambassador_id": ("Ambassadør-ID", "Ambassadør ID", "Ambassadørnummer", "Ambassadør"),
    "certified_date": ("Certificeringsdato", "Certificeret", "Certificeret dato"),
    "course": ("Kursus", "Certificeringskursus"),
    "date": ("Dato", "Aktivitetsdato"),
    "activity": ("Aktivitet", "Aktivitetstype", "Type"),
    "title": ("Titel", "Emne", "Overskrift"),
    "place": ("Sted", "Lokation"),
    "recipients": ("Modtagere", "Antal modtagere"),
}

# Per file kind: columns that must be there, and columns that may be.
REQUIRED: dict[str, tuple[str, ...]] = {
    "courses": (
        "cpr",
        "municipality",
        "job_package",
        "start_date",
        "end_date",
        "status",
        "outcome",
    ),
    "ambassadors": ("ambassador_id", "municipality", "certified_date"),
    "activities": ("date", "activity"),
}
_PERSON_OPTIONAL: tuple[str, ...] = (
    "sex",
    "birth_date",
    "country_of_origin",
    "residence_basis",
    "years_without_activation",
    "last_activation",
    "match_category",
    "match_group",
)
OPTIONAL: dict[str, tuple[str, ...]] = {
    "courses": _PERSON_OPTIONAL,
    "ambassadors": ("course",),
    "activities": ("title", "place", "recipients"),
}
# Headers that tell one kind from another when several could fit.
SIGNATURE: dict[str, tuple[str, ...]] = {
    "courses": ("cpr", "job_package"),
    "ambassadors": ("ambassador_id", "certified_date"),
    "activities": ("date", "activity"),
}

# Plausible ranges: a date outside is rejected as out of range, not silently kept.
COURSE_DATE_RANGE = ("1990-01-01", "2035-12-31")
ACTIVATION_DATE_RANGE = ("1960-01-01", "2035-12-31")
MAX_YEARS_WITHOUT_ACTIVATION = 60.0
BIRTH_DATE_RANGE = ("1890-01-01", "2035-12-31")
AGE_RANGE = (0, 120)  # age at the course start / reference date, from the CPR


# ---------------------------------------------------------------------------------------
# pandera models of the clean tables (checked by `clean` before anything is written)
# ---------------------------------------------------------------------------------------


def clean_schemas(ids: IdMode = "cpr") -> dict[str, DataFrameSchema]:
    """pandera DataFrameSchemas of the clean tables, keyed by file kind.

    With ``ids="pseudonymised"`` the person id is the sender's own (any text without
    spaces, at most 64 characters), and sex, birth date and age may be missing.
    """
    import pandera.pandas as pa

    own_ids = ids == "pseudonymised"
    person_id = r"^\S{1,64}$" if own_ids else r"^[0-9a-f]{32}$"

    def text(nullable: bool = False, isin: tuple[str, ...] | None = None) -> pa.Column:
        checks = [pa.Check.isin(list(isin))] if isin else []
        return pa.Column("string", checks, nullable=nullable)

    date = lambda nullable=False: pa.Column("datetime64[s]", nullable=nullable)  # noqa: E731
    band = pa.Column(pa.Category, pa.Check.isin(list(DURATION_BANDS)), nullable=True)
    person = {
        "person_id": pa.Column("string", pa.Check.str_matches(person_id)),
        "municipality": text(),
        "municipality_code": pa.Column("Int64", pa.Check.in_range(101, 860)),
        "region": text(),
        "outcome": text(isin=OUTCOMES),
        "sex": text(nullable=own_ids, isin=SEXES),
        "birth_date": date(own_ids),
        "country_of_origin": text(nullable=True),
        "origin_group": text(nullable=True, isin=("western", "non_western")),
        "origin_region": text(nullable=True),
        "residence_basis": text(nullable=True, isin=RESIDENCE_BASES),
        "years_without_activation": pa.Column(
            "Float64", pa.Check.in_range(0, MAX_YEARS_WITHOUT_ACTIVATION), nullable=True
        ),
        "duration_band": band,
        "match_system": text(nullable=True, isin=MATCH_SYSTEMS),
        "match_code": pa.Column("Int64", pa.Check.in_range(1, 5), nullable=True),
        "work_ready": pa.Column("boolean", nullable=True),
        "source_file": text(),
        "source_row": pa.Column("int64", pa.Check.ge(1)),
    }
    end_after_start = pa.Check(
        lambda df: df["end_date"].isna() | (df["end_date"] >= df["start_date"]),
        name="end_date >= start_date",
    )
    courses = pa.DataFrameSchema(
        {
            **person,
            "job_package": text(),
            "job_package_group": text(isin=("original", "vip2")),
            "start_date": date(),
            "end_date": date(nullable=True),
            "status": text(isin=STATUSES),
            "age_at_start": pa.Column("Int64", pa.Check.in_range(*AGE_RANGE), nullable=own_ids),
        },
        checks=[end_after_start],
        strict=True,
        ordered=False,
        unique=["person_id", "start_date"],
    )
    ambassadors = pa.DataFrameSchema(
        {
            "ambassador_id": pa.Column("string", unique=True),
            "municipality": text(),
            "region": text(),
            "certified_date": date(),
            "course": text(nullable=True),
            "source_file": text(),
            "source_row": pa.Column("int64", pa.Check.ge(1)),
        },
        strict=True,
    )
    activities = pa.DataFrameSchema(
        {
            "date": date(),
            "kind": text(),
            "title": text(nullable=True),
            "place": text(nullable=True),
            "recipients": pa.Column("Int64", pa.Check.ge(0), nullable=True),
            "source_file": text(),
            "source_row": pa.Column("int64", pa.Check.ge(1)),
        },
        strict=True,
    )
    return {
        "courses": courses,
        "ambassadors": ambassadors,
        "activities": activities,
    }


# Key that identifies one record of each kind (for duplicate detection).
RECORD_KEY: dict[str, tuple[str, ...]] = {
    "courses": ("cpr", "start_date"),
    "ambassadors": ("ambassador_id",),
    "activities": ("date", "kind", "title"),
}
