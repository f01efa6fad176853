"""Rendering the truth table the way five municipalities would send it: formats, words, bytes."""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from vip2analysis.contract.reference import country_name
from vip2analysis.contract.schema import REQUIRED
from vip2analysis.io.files import normalise_zip

__all__: list[str] = []


# The fields a sender writes: the contract's required course columns, then the optional
# ones this generator renders ("match" is rendered as a match category or group).
_RAW_FIELDS = (
    *REQUIRED["courses"],
    "sex",
    "country_of_origin",
    "residence_basis",
    "years_without_activation",
    "match",
)


_OUTCOME_WORDS = {
    "ordinary_employment": ("Ordinær beskæftigelse", "Ordinært job", "Job på ordinære vilkår"),
    "subsidised_employment": ("Løntilskud", "Job med løntilskud", "Fleksjob"),
    "education": ("Uddannelse", "Påbegyndt uddannelse"),
    "still_on_benefit": ("Fortsat på kontanthjælp", "Kontanthjælp", "Fortsat ledig"),
    "dropped_out": ("Afbrudt", "Ophørt"),
    "unknown": ("", "Ukendt"),
}


_STATUS_WORDS = {
    "completed": ("Afsluttet", "Gennemført"),
    "ongoing": ("I gang", "Igangværende"),
    "dropped_out": ("Afbrudt", "Frafaldet"),
}


_RESIDENCE_WORDS = {
    "refugee": ("Flygtning", "Asyl"),
    "family_reunified": ("Familiesammenført", "Familiesammenføring"),
    "other": ("Andet", "Andet"),
}


@dataclass(frozen=True)
class _Format:
    municipality: str
    file: str
    headers: dict[str, str]
    date_style: str  # dmy_dash | dmy_dot | iso | excel_date | excel_serial
    sex_words: tuple[str, str]  # (female, male)
    label: str  # how the sender writes its own municipality
    variant: str  # another spelling, injected as a repairable fault
    encoding: str = "utf-8"
    delimiter: str = ","
    decimal_comma: bool = False
    cpr_dash: bool = True
    years_as: str = "years"  # or last_activation
    match_system: str = "category"
    country_style: str = "da"  # da | en | upper
    word_variant: int = 0
    title_rows: tuple[str, ...] = ()
    trailing_blank_rows: int = 0
    extra_columns: dict[str, str] = field(default_factory=dict)
    faults: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return "xlsx" if self.file.endswith(".xlsx") else "csv"


def _headers(**over: str) -> dict[str, str]:
    base = {
        "cpr": "CPR-nr.",
        "municipality": "Kommune",
        "job_package": "Jobpakke",
        "start_date": "Startdato",
        "end_date": "Slutdato",
        "status": "Status",
        "outcome": "Afgangsårsag",
        "sex": "Køn",
        "country_of_origin": "Oprindelsesland",
        "residence_basis": "Opholdsgrundlag",
        "years_without_activation": "År uden aktivering",
        "match": "Matchkategori",
    }
    return {**base, **over}


_FORMATS: dict[str, _Format] = {
    "Aarhus": _Format(
        municipality="Aarhus",
        file="aarhus.xlsx",
        headers=_headers(),
        date_style="excel_date",
        sex_words=("Kvinde", "Mand"),
        label="Århus",
        variant="Jobcenter Århus",
        title_rows=("VIP2 - Jobcenter Århus: jobpakkeforløb", "Udtræk pr. 30.06.2010"),
        faults=(
            "exact_duplicate",
            "municipality_variant",
            "sex_missing",
            "blank_row",
            "conflicting_duplicate",
        ),
    ),
    "Gladsaxe": _Format(
        municipality="Gladsaxe",
        file="gladsaxe.csv",
        headers=_headers(cpr="Cpr nummer", municipality="Jobcenter", outcome="Afgang"),
        date_style="dmy_dash",
        sex_words=("K", "M"),
        label="Jobcenter Gladsaxe",
        variant="Gladsaxe Kommune",
        encoding="cp1252",
        delimiter=";",
        decimal_comma=True,
        word_variant=1,
        extra_columns={"Sagsbehandler": "initials"},
        faults=(
            "cpr_date",
            "date_unparseable",
            "municipality_variant",
            "sex_missing",
            "exact_duplicate",
        ),
    ),
    "Slagelse": _Format(
        municipality="Slagelse",
        file="slagelse.csv",
        headers=_headers(
            cpr="CPR",
            start_date="Start dato",
            end_date="Slut dato",
            outcome="Resultat",
            years_without_activation="Sidste aktivering",
        ),
        date_style="iso",
        sex_words=("Kvinde", "Mand"),
        label="Slagelse Kommune",
        variant="SLAGELSE",
        encoding="utf-8-sig",
        cpr_dash=False,
        years_as="last_activation",
        faults=(
            "end_before_start",
            "unknown_job_package",
            "sex_cpr_conflict",
            "municipality_variant",
            "blank_row",
        ),
    ),
    "Aabenraa": _Format(
        municipality="Aabenraa",
        file="aabenraa.xlsx",
        headers=_headers(
            cpr="CPR-nummer",
            job_package="Branche",
            country_of_origin="Herkomst",
            match="Matchgruppe",
        ),
        date_style="excel_serial",
        sex_words=("K", "M"),
        label="Aabenraa",
        variant="Åbenrå",
        match_system="group",
        country_style="en",
        word_variant=1,
        faults=("conflicting_duplicate", "cpr_date", "municipality_variant", "exact_duplicate"),
    ),
    "Fredensborg": _Format(
        municipality="Fredensborg",
        file="fredensborg.csv",
        headers=_headers(cpr="Cpr", outcome="Afgang"),
        date_style="dmy_dot",
        sex_words=("k", "m"),
        label="Fredensborg",
        variant="Fredensborg Kommune",
        country_style="upper",
        trailing_blank_rows=3,
        faults=("date_unparseable", "unknown_job_package", "sex_missing", "end_before_start"),
    ),
}


_LARGE_FORMAT = _Format(
    municipality="",
    file="courses_large.csv",
    headers=_headers(),
    date_style="dmy_dash",
    sex_words=("K", "M"),
    label="",
    variant="",
    delimiter=";",
    decimal_comma=True,
)


_EXCEL_EPOCH = np.datetime64("1899-12-30", "D")


def _format_dates(dates: pd.Series, style: str) -> pd.Series:
    """Dates as the sender writes them; NaT -> None. XLSX styles keep typed cell values."""
    missing = dates.isna()
    if style == "excel_date":
        out = pd.Series(list(dates.dt.to_pydatetime()), index=dates.index, dtype=object)
    elif style == "excel_serial":
        days = (dates.to_numpy().astype("datetime64[D]") - _EXCEL_EPOCH).astype("int64")
        out = pd.Series(days, index=dates.index, dtype=object)
    elif style == "dmy_dot":
        out = (
            dates.dt.day.astype("Int64").astype(str)
            + "."
            + dates.dt.month.astype("Int64").astype(str)
            + "."
            + dates.dt.year.astype("Int64").astype(str)
        ).astype(object)
    else:
        out = dates.dt.strftime({"dmy_dash": "%d-%m-%Y", "iso": "%Y-%m-%d"}[style]).astype(object)
    return out.where(~missing, None)


def _words(values: pd.Series, table: Mapping[str, tuple[str, ...]], pick: np.ndarray) -> pd.Series:
    out = np.empty(len(values), dtype=object)
    vals = values.to_numpy()
    for key, words in table.items():
        hit = vals == key
        out[hit] = np.array(words, dtype=object)[pick[hit] % len(words)]
    return pd.Series(out, index=values.index)


def _country_text(alpha3: pd.Series, style: str) -> pd.Series:
    import pycountry

    codes = alpha3.unique()
    names: dict[str, str]
    if style == "en":
        names = {}
        for c in codes:
            country = pycountry.countries.get(alpha_3=c)
            if country is None:  # every synthetic code is a current ISO country
                raise AttributeError(f"pycountry has no country with alpha_3={c!r}")
            names[c] = getattr(country, "common_name", None) or country.name
    else:
        names = {c: country_name(c) for c in codes}
        if style == "upper":
            names = {c: n.upper() for c, n in names.items()}
    return alpha3.map(names).astype(object)


def _years_text(people: pd.DataFrame, fmt: _Format) -> pd.Series:
    if fmt.years_as == "last_activation":
        last = people["start_date"] - pd.to_timedelta(people["last_activation_days"], unit="D")
        return _format_dates(last, fmt.date_style)
    years = people["years_raw"]
    if fmt.kind == "xlsx":
        return years.astype(object)
    text = years.map(lambda v: f"{v:.1f}")
    return text.str.replace(".", ",", regex=False) if fmt.decimal_comma else text


def _cpr_text(cpr: pd.Series, dash: bool) -> pd.Series:
    return (cpr.str[:6] + "-" + cpr.str[6:]) if dash else cpr.copy()


def _render(people: pd.DataFrame, fmt: _Format, rng: np.random.Generator) -> pd.DataFrame:
    """The raw rows of one sender, in canonical field order, before faults."""
    pick = rng.integers(0, 6, size=len(people))
    female, male = fmt.sex_words
    label = people["municipality"] if not fmt.label else pd.Series(fmt.label, index=people.index)
    if not fmt.label:
        label = label.map({m: f.label for m, f in _FORMATS.items()})
    match_code = people["match_code"].astype(int)
    frame = pd.DataFrame(
        {
            "cpr": _cpr_text(people["cpr"], fmt.cpr_dash),
            "municipality": label.astype(object),
            "job_package": people["job_package"].astype(object),
            "start_date": _format_dates(people["start_date"], fmt.date_style),
            "end_date": _format_dates(people["end_date"], fmt.date_style),
            "status": _words(people["status"], _STATUS_WORDS, pick + fmt.word_variant),
            "outcome": _words(people["outcome"], _OUTCOME_WORDS, pick),
            "sex": people["sex"].map({"F": female, "M": male}).astype(object),
            "country_of_origin": _country_text(people["alpha3"], fmt.country_style),
            "residence_basis": _words(
                people["residence_basis"], _RESIDENCE_WORDS, pick + fmt.word_variant
            ),
            "years_without_activation": _years_text(people, fmt),
            "match": match_code.astype(object)
            if fmt.kind == "xlsx"
            else match_code.astype(str).astype(object),
        },
        index=people.index,
    )
    ongoing = (people["status"] == "ongoing").to_numpy()
    frame.loc[ongoing, "outcome"] = ""
    for header in fmt.extra_columns:
        letters = np.array(list("ABDEFHJKLMNPRST"))
        frame[header] = pd.Series(
            np.char.add(letters[pick % 15], letters[(pick * 7 + 3) % 15]), index=people.index
        ).astype(object)
    return frame


def _csv_bytes(frame: pd.DataFrame, headers: list[str], fmt: _Format) -> bytes:
    import csv

    buffer = io.StringIO(newline="")
    writer = csv.writer(
        buffer, delimiter=fmt.delimiter, lineterminator="\r\n" if fmt.encoding == "cp1252" else "\n"
    )
    writer.writerow(headers)
    for row in frame.itertuples(index=False, name=None):
        if all(v is None or v == "" for v in row):
            writer.writerow([""] * len(headers) if fmt.trailing_blank_rows else [])
        else:
            writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue().encode(fmt.encoding)


def _xlsx_bytes(frame: pd.DataFrame, headers: list[str], fmt: _Format) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Forløb"
    wb.properties.creator = "vip2analysis synthetic data"
    for title in fmt.title_rows:
        ws.append([title])
    ws.append(headers)
    for row in frame.itertuples(index=False, name=None):
        ws.append([None if (isinstance(v, float) and math.isnan(v)) else v for v in row])
    if fmt.date_style == "excel_date":
        for col in ("start_date", "end_date"):
            letter = chr(ord("A") + list(frame.columns).index(col))
            for cell in ws[letter][len(fmt.title_rows) + 1 :]:
                if isinstance(cell.value, dt.datetime):
                    cell.number_format = "DD-MM-YYYY"
    buffer = io.BytesIO()
    wb.save(buffer)
    return normalise_zip(buffer.getvalue())


def _first_data_row(fmt: _Format) -> int:
    return len(fmt.title_rows) + 2


def _file_bytes(rows: pd.DataFrame, fmt: _Format) -> bytes:
    visible = [c for c in rows.columns if not c.startswith("_")]
    headers = [fmt.headers.get(c, c) for c in visible]
    body = rows[visible]
    return _xlsx_bytes(body, headers, fmt) if fmt.kind == "xlsx" else _csv_bytes(body, headers, fmt)


def _apply_sender_conventions(people: pd.DataFrame) -> pd.DataFrame:
    """Where a sender records the date of last activation, the truth holds the derived years."""
    people = people.copy()
    days = np.round(people["years_raw"] * 365.25).astype(int)
    people["last_activation_days"] = days
    by_date = people["municipality"].map(lambda m: _FORMATS[m].years_as == "last_activation")
    derived = (days / 365.25).round(2)
    people["years_without_activation"] = people["years_raw"].where(~by_date, derived)
    return people


def _plain_csv(frame: pd.DataFrame, delimiter: str = ",") -> bytes:
    return frame.to_csv(index=False, sep=delimiter, lineterminator="\n").encode("utf-8")
