"""Synthetic dissemination records: 130 ambassadors and the report's dated activities."""

from __future__ import annotations

import numpy as np
import pandas as pd

from vip2analysis.contract.reference import municipalities
from vip2analysis.synth.render import _plain_csv

__all__: list[str] = []


# Certification courses: (date, place, number certified, regions the participants came from).
AMBASSADOR_COURSES: tuple[tuple[str, str, int, tuple[str, ...]], ...] = (
    ("2008-05-20", "Metodekursus Aarhus", 14, ("Midtjylland", "Nordjylland")),
    ("2008-10-07", "Metodekursus Gladsaxe", 14, ("Hovedstaden",)),
    ("2009-03-11", "Metodekursus Slagelse", 14, ("Sjælland", "Hovedstaden")),
    ("2009-06-09", "Metodekursus Aabenraa", 14, ("Syddanmark",)),
    ("2009-10-27", "Metodekursus Fredensborg", 14, ("Hovedstaden", "Sjælland", "Nordjylland")),
    ("2010-01-26", "Kolding", 20, ("Syddanmark", "Sjælland")),
    ("2010-04-15", "Herning", 20, ("Midtjylland", "Nordjylland")),
    ("2010-06-15", "København", 20, ("Hovedstaden", "Sjælland")),
)


# (date, kind, title, place, recipients) - the dated events of the report. Dates the
# report does not give (network meeting, extended course, earlier newsletters) are assumed.
ACTIVITIES: tuple[tuple[str, str, str, str, int | None], ...] = (
    ("2008-03-14", "newsletter", "VIP2 Nyhedsbrev nr. 1", "", 1150),
    ("2008-06-13", "newsletter", "VIP2 Nyhedsbrev nr. 2", "", 1400),
    ("2008-09-12", "newsletter", "VIP2 Nyhedsbrev nr. 3", "", 1620),
    ("2008-12-12", "newsletter", "VIP2 Nyhedsbrev nr. 4", "", 1850),
    ("2009-02-13", "newsletter", "VIP2 Nyhedsbrev nr. 5", "", 2010),
    ("2009-04-17", "newsletter", "VIP2 Nyhedsbrev nr. 6", "", 2190),
    ("2009-06-12", "newsletter", "VIP2 Nyhedsbrev nr. 7", "", 2330),
    ("2009-08-14", "newsletter", "VIP2 Nyhedsbrev nr. 8", "", 2450),
    ("2009-10-09", "newsletter", "VIP2 Nyhedsbrev nr. 9", "", 2560),
    ("2009-11-20", "newsletter", "Jobpakker til hele landet", "", 2655),
    ("2009-12-18", "newsletter", "VIP2 skal lære hele landet om jobpakker", "", 2680),
    ("2010-01-21", "conference", "Konference for parterne bag de 12 jobpakker", "København", None),
    ("2010-01-26", "ambassador_course", "Kursus for nye jobpakkeambassadører", "Kolding", None),
    ("2010-02-19", "newsletter", "Jobpakker ikke kun gode til integration", "", 2700),
    ("2010-02-25", "media", "Indslag i TV2 om jobpakker", "", None),
    ("2010-03-10", "network_meeting", "Netværksmøde for jobpakkeambassadører", "Odense", None),
    ("2010-03-24", "extended_course", "Udvidet kursus for nuværende ambassadører", "Vejle", None),
    (
        "2010-04-14",
        "information_meeting",
        "Jobpakkens arbejdsmarkedspolitiske muligheder",
        "Herning",
        None,
    ),
    ("2010-04-15", "ambassador_course", "Kursus for nye jobpakkeambassadører", "Herning", None),
    (
        "2010-04-19",
        "information_meeting",
        "Jobpakkens arbejdsmarkedspolitiske muligheder",
        "København",
        None,
    ),
    ("2010-05-21", "newsletter", "Jobpakker ruller ud over landet", "", 2710),
    ("2010-05-31", "fair", "Integrationsbasaren", "Århus", None),
    ("2010-06-14", "newsletter", "Nu langt over 100 jobpakkeambassadører", "", 2715),
    ("2010-06-15", "ambassador_course", "Kursus for nye jobpakkeambassadører", "København", None),
)


ACTIVITY_WORDS = {
    "newsletter": "Nyhedsbrev",
    "conference": "Konference",
    "ambassador_course": "Ambassadørkursus",
    "media": "Medieomtale",
    "network_meeting": "Netværksmøde",
    "extended_course": "Udvidet ambassadørkursus",
    "information_meeting": "Informationsmøde",
    "fair": "Messe",
}


def _make_ambassadors(rng: np.random.Generator) -> pd.DataFrame:
    munis = municipalities()
    rows = []
    for date, course, count, regions in AMBASSADOR_COURSES:
        pool = munis[munis["region"].isin(regions)].reset_index(drop=True)
        picks = rng.choice(len(pool), size=count, replace=True)
        for i in picks:
            rows.append((pool.at[i, "name"], pool.at[i, "region"], date, course))
    frame = pd.DataFrame(rows, columns=["municipality", "region", "certified_date", "course"])
    frame.insert(0, "ambassador_id", [f"A{i:03d}" for i in range(1, len(frame) + 1)])
    frame["certified_date"] = pd.to_datetime(frame["certified_date"]).astype("datetime64[s]")
    return frame


def _make_activities() -> pd.DataFrame:
    frame = pd.DataFrame(list(ACTIVITIES), columns=["date", "kind", "title", "place", "recipients"])
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[s]")
    frame["recipients"] = frame["recipients"].astype("Int64")
    return frame


def _dissemination_files(ambassadors: pd.DataFrame, activities: pd.DataFrame) -> dict[str, bytes]:
    amb = pd.DataFrame(
        {
            "Ambassadør-ID": ambassadors["ambassador_id"],
            "Kommune": ambassadors["municipality"],
            "Certificeringsdato": ambassadors["certified_date"].dt.strftime("%d-%m-%Y"),
            "Kursus": ambassadors["course"],
        }
    )
    act = pd.DataFrame(
        {
            "Dato": activities["date"].dt.strftime("%d-%m-%Y"),
            "Aktivitet": activities["kind"].map(ACTIVITY_WORDS),
            "Titel": activities["title"],
            "Sted": activities["place"],
            "Modtagere": activities["recipients"].astype("string").fillna(""),
        }
    )
    return {"ambassadorer.csv": _plain_csv(amb), "aktiviteter.csv": _plain_csv(act, ";")}
