"""Tests for the shipped reference data and the matchers in vip2analysis.reference."""

from __future__ import annotations

import pandas as pd
import pycountry
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from vip2analysis.contract import (
    countries,
    country_name,
    job_packages,
    match_country,
    match_job_package,
    match_municipality,
    municipalities,
    normalise_key,
    reference,
)

EU27 = [
    "AUT", "BEL", "BGR", "CYP", "CZE", "DEU", "DNK", "ESP", "EST", "FIN", "FRA", "GBR", "GRC",
    "HUN", "IRL", "ITA", "LTU", "LUX", "LVA", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN",
    "SWE",
]  # fmt: skip
ASSOCIATED_AND_OVERSEAS = ["AND", "ISL", "LIE", "MCO", "NOR", "SMR", "CHE", "VAT"]
ASSOCIATED_AND_OVERSEAS += ["USA", "CAN", "AUS", "NZL"]


def _country_config() -> dict:
    text = reference._data_file("countries.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


# --- municipalities ----------------------------------------------------------------------


def test_municipalities_are_the_98_of_the_2007_reform():
    table = municipalities()
    assert list(table.columns) == ["code", "name", "region"]
    assert len(table) == 98
    assert table["code"].is_unique
    assert table["name"].is_unique
    assert table["code"].between(101, 860).all()
    assert table["code"].is_monotonic_increasing


def test_municipalities_per_region():
    counts = municipalities()["region"].value_counts().to_dict()
    assert counts == {
        "Hovedstaden": 29,
        "Sjælland": 17,
        "Syddanmark": 22,
        "Midtjylland": 19,
        "Nordjylland": 11,
    }


@pytest.mark.parametrize(
    ("name", "code", "region"),
    [
        ("Fredensborg", 210, "Hovedstaden"),
        ("Gladsaxe", 159, "Hovedstaden"),
        ("Slagelse", 330, "Sjælland"),
        ("Aabenraa", 580, "Syddanmark"),
        ("Aarhus", 751, "Midtjylland"),
        ("København", 101, "Hovedstaden"),
        ("Kolding", 621, "Syddanmark"),
        ("Herning", 657, "Midtjylland"),
        ("Aalborg", 851, "Nordjylland"),
        ("Bornholm", 400, "Hovedstaden"),
    ],
)
def test_known_municipalities_have_their_code_and_region(name, code, region):
    row = municipalities().set_index("name").loc[name]
    assert (row["code"], row["region"]) == (code, region)


@pytest.mark.parametrize(
    "raw",
    [
        "Aarhus",
        "Århus",
        "AARHUS",
        "  aarhus ",
        "Aarhus Kommune",
        "Århus Kommune",
        "Jobcenter Aarhus",
        "Jobcenter Århus",
        "Jobcenter Aarhus Kommune",
        "Aarhus Kommunes Jobcenter",
        "Kommune Aarhus",
        "Arhus",
        "751",
        "0751",
        751,
        751.0,
    ],
)
def test_spellings_of_aarhus(raw):
    found = match_municipality(pd.Series([raw], dtype=object))
    assert found.iloc[0].tolist() == ["Aarhus", 751, "Midtjylland"]


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("Københavns Kommune", "København"),
        ("Copenhagen", "København"),
        ("Høje Taastrup", "Høje-Taastrup"),
        ("Lyngby-Taarbæk Kommune", "Lyngby-Taarbæk"),
        ("Ringkøbing Skjern", "Ringkøbing-Skjern"),
        ("Fåborg-Midtfyn", "Faaborg-Midtfyn"),
        ("Åbenrå", "Aabenraa"),
        ("Ålborg Kommune", "Aalborg"),
        ("Brønderslev-Dronninglund Kommune", "Brønderslev"),
        ("Bornholms Regionskommune", "Bornholm"),
        ("Vesthimmerlands Kommune", "Vesthimmerlands"),
        ("Sonderborg", "Sønderborg"),
    ],
)
def test_municipality_aliases(raw, name):
    assert match_municipality(pd.Series([raw]))["municipality"].iloc[0] == name


def test_every_municipality_round_trips():
    table = municipalities()
    names = table["name"]
    for raw in (names, "Jobcenter " + names, names + " Kommune", table["code"].astype(str)):
        found = match_municipality(pd.Series(raw.tolist()))
        assert found["municipality"].tolist() == names.tolist()
        assert found["municipality_code"].tolist() == table["code"].tolist()
        assert found["region"].tolist() == table["region"].tolist()


def test_unknown_and_missing_municipalities_are_na():
    found = match_municipality(pd.Series(["Atlantis", "999", "Kommune", "", None, "Jobcenter"]))
    assert found.isna().all().all()
    assert found["municipality_code"].dtype == "Int64"


# --- job packages ------------------------------------------------------------------------


def test_job_packages_are_12_original_and_17_vip2():
    table = job_packages()
    assert list(table.columns) == ["code", "name", "group"]
    assert table["group"].value_counts().to_dict() == {"vip2": 17, "original": 12}
    assert table["name"].is_unique
    assert table["code"].is_unique
    assert normalise_key(table["name"]).is_unique


def test_every_job_package_and_alias_round_trips():
    raw = reference._job_package_table()
    for name, group, aliases in zip(raw["name"], raw["group"], raw["aliases"], strict=True):
        spellings = [name, name.upper(), f"Jobpakke {name}", *aliases.split("|")]
        found = match_job_package(pd.Series(spellings))
        assert (found["job_package"] == name).all(), found
        assert (found["job_package_group"] == group).all()


def test_unknown_job_package_is_not_guessed():
    found = match_job_package(pd.Series(["Rengøringsjobpakke", "Astronaut", "Frisø", None]))
    assert found.isna().all().all()


# --- countries ---------------------------------------------------------------------------


def test_western_set():
    table = countries().set_index("alpha3")
    western = set(table.index[table["origin_group"] == "western"])
    assert {"DEU", "GBR", "NOR", "USA", "CHE", "DNK", "POL", "ROU"} <= western
    assert not {"TUR", "IRQ", "BIH", "HRV", "RUS", "SOM", "JPN", "XXA", "YUG"} & western
    assert set(EU27) | set(ASSOCIATED_AND_OVERSEAS) <= western


def test_regions_follow_the_group():
    table = countries()
    western = table["origin_group"] == "western"
    assert (table.loc[western, "origin_region"] == "Vestlige lande").all()
    assert not (table.loc[~western, "origin_region"] == "Vestlige lande").any()
    assert set(table["origin_group"]) == {"western", "non_western"}
    assert table["alpha3"].is_unique
    assert table["name"].is_unique


def test_every_pycountry_country_gets_a_region():
    table = countries().set_index("alpha3")
    for country in pycountry.countries:
        if country.alpha_3 == "ATA":
            continue
        assert pd.notna(table.loc[country.alpha_3, "origin_region"]), country.alpha_3
    assert table[["name", "origin_group", "origin_region"]].notna().all().all()


def test_config_lists_each_country_once_and_only_known_codes():
    config = _country_config()
    listed = [*config["western"], *config["eu_accession"], *config["territories"]]
    listed += [code for members in config["regions"].values() for code in members]
    listed += config["excluded"]
    iso = {country.alpha_3 for country in pycountry.countries}
    assert len(listed) == len(set(listed))
    assert set(listed) == iso
    assert set(config["territories"].values()) <= iso - set(config["territories"])
    assert set(config["names"]) | set(config["aliases"]) <= iso
    assert not set(config["extra"]) & iso


@pytest.mark.parametrize(
    ("year", "group"), [(2007, "non_western"), (2010, "non_western"), (2013, "western")]
)
def test_croatia_is_western_from_2013(year, group):
    assert match_country(pd.Series(["Kroatien"]), year=year)["origin_group"].iloc[0] == group


def test_eu27_members_are_western_through_the_vip2_years():
    for year in range(2007, 2011):
        table = countries(year=year).set_index("alpha3")
        assert (table.loc[EU27, "origin_group"] == "western").all()


def test_members_before_accession_are_non_western_europe():
    found = match_country(pd.Series(["Polen", "Rumænien"]), year=2003)
    assert found["origin_group"].tolist() == ["non_western", "non_western"]
    assert found["origin_region"].tolist() == ["Øvrige Europa", "Øvrige Europa"]


@pytest.mark.parametrize(
    ("spellings", "name"),
    [
        (["Irak", "Iraq", "IRQ", "IQ", "irak", "Republikken Irak"], "Irak"),
        (["Somalia", "SOM", "SO", "somalia"], "Somalia"),
        (["Tyrkiet", "Turkey", "Türkiye", "TUR", "TR", "Tyrkei"], "Tyrkiet"),
        (["Iran", "Iran, Den Islamiske Republik", "Iran, Islamic Republic of", "IRN"], "Iran"),
        (["Syrien", "Syria", "Syrian Arab Republic", "Syriske Arabiske Republik"], "Syrien"),
        (["Palestine, State of", "Palæstina, staten", "PSE", "Palestina"], "Palæstina"),
        (["Rusland", "Russian Federation", "Russiske føderation", "RU"], "Rusland"),
        (["Vietnam", "Viet Nam", "VNM"], "Vietnam"),
        (["Bosnien Hercegovina", "Bosnia and Herzegovina", "BA"], "Bosnien-Hercegovina"),
        (["Libanon", "Lebanon", "LBN"], "Libanon"),
        (["Afghanistan", "AFG", "AF"], "Afghanistan"),
        (["Storbritannien", "United Kingdom", "England", "UK", "GB"], "Storbritannien"),
        (["USA", "United States", "U.S.A.", "US"], "USA"),
        (["Østrig", "Austria", "Ostrig", "AUT"], "Østrig"),
        (["Elfenbenskysten", "Côte d'Ivoire", "COTE D'IVOIRE", "CIV"], "Elfenbenskysten"),
        (["Statsløs", "Statsløs palæstinenser", "STATSLØS"], "Statsløs"),
        (["Jugoslavien", "Ex-Jugoslavien", "Jugoslavien (tidl.)"], "Jugoslavien (tidl.)"),
        (["Kosovo", "XKX"], "Kosovo"),
    ],
)  # fmt: skip
def test_danish_english_and_codes_agree(spellings, name):
    found = match_country(pd.Series(spellings))
    assert found["country_of_origin"].tolist() == [name] * len(spellings)


def test_every_country_name_and_code_round_trips():
    table = countries()
    for raw in (table["name"], table["alpha3"], table["alpha3"].str.lower()):
        found = match_country(pd.Series(raw.tolist()))
        assert found["country_of_origin"].tolist() == table["name"].tolist()
        assert found["origin_region"].tolist() == table["origin_region"].tolist()


def test_statsloes_and_former_yugoslavia():
    found = match_country(pd.Series(["Statsløs", "Ex-Jugoslavien"])).set_index("country_of_origin")
    assert found.loc["Statsløs"].tolist() == ["non_western", "Mellemøsten og Nordafrika"]
    assert found.loc["Jugoslavien (tidl.)"].tolist() == ["non_western", "Øvrige Europa"]


def test_unknown_countries_are_na():
    found = match_country(pd.Series(["Kurdistan", "Atlantis", "Antarktis", "", None]))
    assert found.isna().all().all()


def test_country_name():
    assert country_name("SYR") == "Syrien"
    assert country_name("irq") == "Irak"
    assert country_name("XXA") == "Statsløs"
    with pytest.raises(ValueError, match="'ZZZ'"):
        country_name("ZZZ")


def test_pycountry_names_are_kept_where_they_read_naturally():
    assert country_name("LBN") == "Libanon"
    assert country_name("BIH") == "Bosnien-Hercegovina"
    assert country_name("DEU") == "Tyskland"


# --- shared behaviour --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("matcher", "raw"),
    [
        (match_municipality, ["Århus", None, "Jobcenter Gladsaxe", "x"]),
        (match_country, ["Irak", None, "Somalia", "x"]),
        (match_job_package, ["Rengøring", None, "Frisør", "x"]),
    ],
)
def test_matchers_keep_index_and_leave_input_alone(matcher, raw):
    values = pd.Series(raw, index=[10, 3, 7, 10], name="raw", dtype=object)
    before = values.copy()
    found = matcher(values)
    pd.testing.assert_series_equal(values, before)
    assert found.index.equals(values.index)
    assert found.iloc[1].isna().all()
    assert found.iloc[3].isna().all()


@pytest.mark.parametrize("matcher", [match_municipality, match_country, match_job_package])
def test_matchers_refuse_non_series(matcher):
    with pytest.raises(TypeError, match="pandas Series"):
        matcher(["Aarhus"])


@pytest.mark.parametrize("loader", [municipalities, job_packages, countries])
def test_loaders_return_copies(loader):
    table = loader()
    table.iloc[0, 1] = "changed"
    assert loader().iloc[0, 1] != "changed"


def test_normalise_key_examples():
    raw = pd.Series(["Århus", "AARHUS", "Høje-Taastrup", "Høje  Taastrup", "Cote d'Ivoire", "-"])
    assert normalise_key(raw).tolist() == [
        "aarhus",
        "aarhus",
        "hoeje taastrup",
        "hoeje taastrup",
        "cote divoire",
        pd.NA,
    ]


@given(st.lists(st.one_of(st.none(), st.text(max_size=20)), max_size=30))
def test_normalise_key_is_idempotent_and_keeps_the_index(raw):
    values = pd.Series(raw, index=range(100, 100 + len(raw)), dtype=object)
    keys = normalise_key(values)
    assert keys.index.equals(values.index)
    assert normalise_key(keys).equals(keys)
