"""Reference data, and matching raw values to it.

Three code lists ship with the package, in ``vip2analysis/contract/data/`` (sources and choices
in ``REFERENCE.md`` there):

- the 98 municipalities since the 2007 reform, with Statistics Denmark codes and regions;
- countries of origin: canonical Danish names, Western / non-Western as Statistics
  Denmark defines it (EU membership taken for the year analysed), and a finer region;
- the job packages: the 12 original ones and the 17 added in VIP2.

Every match goes through one key, :func:`normalise_key`, and is exact on that key:
an unknown value becomes ``<NA>`` for the caller to report; nothing is guessed.
Matching works on the unique values of a column, so a million rows with a few hundred
distinct spellings cost little more than the spellings.
"""

from __future__ import annotations

import functools
import gettext
from collections.abc import Callable, Iterable, Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, Literal

import pandas as pd
import pycountry
import yaml

from vip2analysis.errors import ArgumentTypeError, DataError

__all__ = [
    "DEFAULT_YEAR",
    "JobPackageGroup",
    "OriginGroup",
    "countries",
    "country_name",
    "job_packages",
    "match_country",
    "match_job_package",
    "match_municipality",
    "municipalities",
    "normalise_key",
]

OriginGroup = Literal["western", "non_western"]
JobPackageGroup = Literal["original", "vip2"]

#: Year whose EU membership decides who is Western, unless a caller passes another.
#: VIP2 ran 2007-2010, when the EU had the same 27 members throughout.
DEFAULT_YEAR = 2010

_DANISH_LETTERS = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"})
_ASCII_FOLD = str.maketrans({"æ": "ae", "Æ": "Ae", "ø": "o", "Ø": "O", "å": "a", "Å": "A"})
_SEPARATORS = r"[\s\-\u2010-\u2015/\\_]+"
_NUMBER = r"^\s*0*(\d+)(?:[.,]0+)?\s*$"
_MUNICIPALITY_PREFIX = r"^(?:(?:jobcenter|kommune) )+"
_MUNICIPALITY_SUFFIX = r"(?: (?:regionskommune|kommunes?|jobcenter))+$"
_PACKAGE_PREFIX = r"^jobpakken? (?:(?:inden ?for|i|til) )?"
_PACKAGE_SUFFIX = r" jobpakken?$"


def normalise_key(values: pd.Series) -> pd.Series:
    """Return the matching key of each value: the one key used for all reference matching.

    The key is casefolded; æ, ø and å become ae, oe and aa (so "Århus" and "Aarhus"
    agree); other accents are stripped; hyphens, slashes and underscores become
    spaces; other punctuation is removed; whitespace is collapsed and trimmed.
    Missing values, and values with nothing left, give ``<NA>``.

    Parameters
    ----------
    values : pandas.Series
        Raw values; non-strings are converted with ``astype("string")``.

    Returns
    -------
    pandas.Series
        Keys of dtype ``string``, with the index and name of ``values``.

    Examples
    --------
    >>> import pandas as pd
    >>> normalise_key(pd.Series(["Århus", "  AARHUS ", "Høje-Taastrup", "U.S.A.", "-", None]))
    0            aarhus
    1            aarhus
    2    hoeje taastrup
    3               usa
    4              <NA>
    5              <NA>
    dtype: string
    """
    codes, uniques = _factorize(values)
    keys = _keys(pd.Series(uniques, dtype="string"))
    return _spread(keys.to_frame("key"), codes, values.index)["key"].rename(values.name)


def municipalities() -> pd.DataFrame:
    """Return the 98 municipalities (2007 reform) with code, name and region.

    Returns
    -------
    pandas.DataFrame
        Columns ``code`` (Int64, Statistics Denmark municipality code), ``name`` and
        ``region`` (one of Hovedstaden, Sjælland, Syddanmark, Midtjylland,
        Nordjylland), ordered by code. A fresh copy on every call.

    Examples
    --------
    >>> table = municipalities()
    >>> len(table), table["region"].nunique()
    (98, 5)
    >>> table.loc[table["code"] == 751, ["name", "region"]].to_numpy().tolist()
    [['Aarhus', 'Midtjylland']]
    """
    return _municipality_table()[["code", "name", "region"]].reset_index(drop=True)


def job_packages() -> pd.DataFrame:
    """Return the 29 job packages with code, name and group.

    The split, 12 original packages and 17 added in VIP2, is the evaluation report's;
    the names are illustrative stand-ins (see ``REFERENCE.md``).

    Returns
    -------
    pandas.DataFrame
        Columns ``code`` (Int64), ``name`` and ``group`` (``'original'`` or
        ``'vip2'``). A fresh copy on every call.

    Examples
    --------
    >>> job_packages()["group"].value_counts().sort_index().to_dict()
    {'original': 12, 'vip2': 17}
    """
    return _job_package_table()[["code", "name", "group"]].reset_index(drop=True)


def countries(*, year: int = DEFAULT_YEAR) -> pd.DataFrame:
    """Return every country of origin with its canonical name, group and region.

    Covers every country in pycountry (ISO 3166-1) except Antarctica, plus a few
    values that appear in Danish data: Statsløs (XXA), Kosovo (XKX) and the former
    Jugoslavien, Serbien og Montenegro, Sovjetunionen and Tjekkoslovakiet.

    Parameters
    ----------
    year : int, default DEFAULT_YEAR
        The year analysed: an EU member state is Western from the year it joined
        (Croatia from 2013, the 2004 and 2007 members from those years).

    Returns
    -------
    pandas.DataFrame
        Columns ``alpha3``, ``name`` (canonical Danish name), ``origin_group``
        (``'western'`` or ``'non_western'``) and ``origin_region`` (Western countries
        have ``'Vestlige lande'``). A fresh copy on every call.

    Examples
    --------
    >>> table = countries().set_index("alpha3")
    >>> table.loc[["IRQ", "NOR", "HRV"], ["name", "origin_group"]].to_numpy().tolist()
    [['Irak', 'non_western'], ['Norge', 'western'], ['Kroatien', 'non_western']]
    >>> countries(year=2013).set_index("alpha3").loc["HRV", "origin_group"]
    'western'
    """
    return _country_table(_check_year(year)).reset_index(drop=True)


def country_name(alpha3: str) -> str:
    """Return the canonical Danish name of the country with ISO alpha-3 code ``alpha3``.

    Parameters
    ----------
    alpha3 : str
        ISO 3166-1 alpha-3 code (any case), or one of the extra codes of
        :func:`countries` (XXA, XKX, YUG, SCG, SUN, CSK).

    Returns
    -------
    str
        The name used in ``country_of_origin``.

    Raises
    ------
    ValueError
        If the code is not in :func:`countries`.

    Examples
    --------
    >>> country_name("SYR"), country_name("bih"), country_name("XXA")
    ('Syrien', 'Bosnien-Hercegovina', 'Statsløs')
    """
    names = _country_table(DEFAULT_YEAR).set_index("alpha3")["name"]
    code = str(alpha3).strip().upper()
    if code not in names.index:
        raise DataError(f"{alpha3!r} is not an alpha-3 code in the country reference table.")
    return str(names[code])


def match_municipality(
    values: pd.Series, *, extra: tuple[tuple[str, str], ...] = ()
) -> pd.DataFrame:
    """Match raw municipality values to the 98 municipalities.

    Accepted: names and their aliases ("Århus", "Copenhagen", "Brønderslev-Dronninglund"),
    with "Jobcenter", "Kommune" before or "Kommune", "Kommunes", "Regionskommune",
    "Jobcenter" after the name, in any case, accents or punctuation; and the Statistics
    Denmark codes ("751", 751, "0751", 751.0). Anything else gives ``<NA>``.

    Parameters
    ----------
    values : pandas.Series
        Raw values, e.g. a "Kommune" or "Jobcenter" column. Not modified.

    Returns
    -------
    pandas.DataFrame
        With the index of ``values`` and columns ``municipality`` (canonical name),
        ``municipality_code`` (Int64) and ``region``; ``<NA>`` where unknown or missing.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.Series(["Århus", "Jobcenter Gladsaxe", "Slagelse Kommune", "580", "Atlantis"])
    >>> match_municipality(raw)
      municipality  municipality_code       region
    0       Aarhus                751  Midtjylland
    1     Gladsaxe                159  Hovedstaden
    2     Slagelse                330     Sjælland
    3     Aabenraa                580   Syddanmark
    4         <NA>               <NA>         <NA>
    """
    table = _municipality_table().set_index("name", drop=False)
    found = _match(values, _municipality_candidates, _municipality_lookup(extra), table)
    return found[["name", "code", "region"]].set_axis(
        ["municipality", "municipality_code", "region"], axis=1
    )


def match_country(values: pd.Series, *, year: int = DEFAULT_YEAR) -> pd.DataFrame:
    """Match raw country-of-origin values to canonical countries.

    Accepted: Danish names (canonical, pycountry's and common variants such as
    "Tyrkei" or "Ex-Jugoslavien"), English names, ISO alpha-2 and alpha-3 codes, in any
    case, accents or punctuation. Anything else (for instance "Kurdistan", which is no
    country) gives ``<NA>``.

    Parameters
    ----------
    values : pandas.Series
        Raw values, e.g. an "Oprindelsesland" column. Not modified.
    year : int, default DEFAULT_YEAR
        The year analysed, for EU membership (see :func:`countries`).

    Returns
    -------
    pandas.DataFrame
        With the index of ``values`` and columns ``country_of_origin`` (canonical
        Danish name), ``origin_group`` and ``origin_region``; ``<NA>`` where unknown.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.Series(["Iraq", "SOM", "tyrkiet", "Statsløs palæstinenser", "Kurdistan"])
    >>> match_country(raw)
      country_of_origin origin_group              origin_region
    0              Irak  non_western  Mellemøsten og Nordafrika
    1           Somalia  non_western      Afrika syd for Sahara
    2           Tyrkiet  non_western              Øvrige Europa
    3          Statsløs  non_western  Mellemøsten og Nordafrika
    4              <NA>         <NA>                       <NA>
    """
    table = _country_table(_check_year(year)).set_index("alpha3", drop=False)
    found = _match(values, _single_key, _country_lookup(), table)
    return found[["name", "origin_group", "origin_region"]].set_axis(
        ["country_of_origin", "origin_group", "origin_region"], axis=1
    )


def match_job_package(
    values: pd.Series, *, extra: tuple[tuple[str, str], ...] = ()
) -> pd.DataFrame:
    """Match raw job-package values to the 29 job packages.

    Accepted: names and aliases, also with "Jobpakke" before or after ("Jobpakke
    inden for rengøring"), in any case, accents or punctuation. Unknown names give
    ``<NA>``: they are reported, not guessed.

    Parameters
    ----------
    values : pandas.Series
        Raw values, e.g. a "Jobpakke" or "Branche" column. Not modified.

    Returns
    -------
    pandas.DataFrame
        With the index of ``values`` and columns ``job_package`` (canonical name) and
        ``job_package_group`` (``'original'`` or ``'vip2'``); ``<NA>`` where unknown.

    Examples
    --------
    >>> import pandas as pd
    >>> match_job_package(pd.Series(["rengøring", "Jobpakke Frisør", "Astronaut"]))
      job_package job_package_group
    0   Rengøring          original
    1      Frisør              vip2
    2        <NA>              <NA>
    """
    table = _job_package_table(extra).set_index("name", drop=False)
    found = _match(values, _package_candidates, _job_package_lookup(extra), table)
    return found[["name", "group"]].set_axis(["job_package", "job_package_group"], axis=1)


# --- matching machinery ---------------------------------------------------------------


def _factorize(values: pd.Series) -> tuple[Any, Any]:
    if not isinstance(values, pd.Series):
        raise ArgumentTypeError(
            f"`values` must be a pandas Series, but {type(values).__name__} was passed."
        )
    return pd.factorize(values.astype("string"))


def _keys(raw: pd.Series) -> pd.Series:
    keys = (
        raw.str.normalize("NFKC")  # compatibility forms first ("㎩" -> "Pa"), then casefold
        .str.casefold()
        .str.translate(_DANISH_LETTERS)
        .str.normalize("NFKD")
        .str.replace(r"[\u0300-\u036f]", "", regex=True)
        .str.replace(_SEPARATORS, " ", regex=True)
        .str.replace(r"[^\w ]", "", regex=True)
        .str.replace(r" +", " ", regex=True)
        .str.strip()
    )
    return keys.mask(keys == "")


def _spread(per_unique: pd.DataFrame, codes: Any, index: pd.Index) -> pd.DataFrame:
    """Give every row the result of its unique value; code -1 (missing) gets ``<NA>``."""
    return per_unique.reset_index(drop=True).reindex(codes).set_axis(index, axis=0)


def _match(
    values: pd.Series,
    candidates: Callable[[pd.Series], list[pd.Series]],
    lookup: Mapping[str, str],
    table: pd.DataFrame,
) -> pd.DataFrame:
    """Look each unique value up by its candidate keys, in order; the first hit wins."""
    codes, uniques = _factorize(values)
    ids = pd.Series(pd.NA, index=range(len(uniques)), dtype="string")
    for keys in candidates(pd.Series(uniques, dtype="string")):
        ids = ids.fillna(keys.map(lookup).astype("string"))
    return _spread(table.reindex(ids.to_numpy(dtype=object, na_value=None)), codes, values.index)


def _single_key(raw: pd.Series) -> list[pd.Series]:
    return [_keys(raw)]


def _municipality_candidates(raw: pd.Series) -> list[pd.Series]:
    keys = _keys(raw)
    number = raw.str.extract(_NUMBER, expand=False)
    bare = keys.str.replace(_MUNICIPALITY_PREFIX, "", regex=True).str.replace(
        _MUNICIPALITY_SUFFIX, "", regex=True
    )
    stripped = (bare != keys).fillna(False)
    genitive = bare.where(stripped).str.replace(r"s$", "", regex=True)
    return [number, keys, bare, genitive]


def _package_candidates(raw: pd.Series) -> list[pd.Series]:
    keys = _keys(raw)
    bare = keys.str.replace(_PACKAGE_PREFIX, "", regex=True).str.replace(
        _PACKAGE_SUFFIX, "", regex=True
    )
    return [keys, bare]


def _build_lookup(tiers: Iterable[Iterable[tuple[str, str]]]) -> dict[str, str]:
    """Map the key of each spelling to its target; earlier tiers win over later ones.

    Two targets for one key within a tier are an error in the reference data.
    """
    lookup: dict[str, str] = {}
    for tier in tiers:
        pairs = [(str(spelling), target) for spelling, target in tier]
        keys = _keys(pd.Series([spelling for spelling, _ in pairs], dtype="string"))
        claimed: dict[str, str] = {}
        for key, (spelling, target) in zip(keys, pairs, strict=True):
            if pd.isna(key):
                continue
            if claimed.setdefault(key, target) != target:
                raise DataError(
                    f"Reference spelling {spelling!r} (key {key!r}) names both "
                    f"{claimed[key]!r} and {target!r}."
                )
        for key, target in claimed.items():
            lookup.setdefault(key, target)
    return lookup


def _ascii_folded(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The spellings with æ, ø, å written as ae, o, a ("Sonderborg", "Arhus")."""
    return [(spelling.translate(_ASCII_FOLD), target) for spelling, target in pairs]


def _split_aliases(aliases: str) -> list[str]:
    return [alias.strip() for alias in aliases.split("|") if alias.strip()]


def _check_year(year: int) -> int:
    if isinstance(year, bool) or not isinstance(year, int):
        raise ArgumentTypeError(f"`year` must be an int, but {year!r} was passed.")
    return year


# --- loading ---------------------------------------------------------------------------


def _data_file(name: str) -> Traversable:
    return resources.files("vip2analysis.contract").joinpath("data", name)


def _read_csv(name: str, text_columns: list[str]) -> pd.DataFrame:
    with _data_file(name).open(encoding="utf-8") as handle:
        table = pd.read_csv(handle, keep_default_na=False, na_values=[], dtype=str)
    table["code"] = pd.to_numeric(table["code"]).astype("Int64")
    return table.astype(dict.fromkeys(text_columns, "string"))


@functools.cache
def _municipality_table() -> pd.DataFrame:
    return _read_csv("municipalities.csv", ["name", "region", "aliases"])


@functools.cache
def _municipality_lookup(extra: tuple[tuple[str, str], ...] = ()) -> dict[str, str]:
    table = _municipality_table()
    spellings = [
        (spelling, name)
        for name, aliases in zip(table["name"], table["aliases"], strict=True)
        for spelling in [name, *_split_aliases(aliases)]
    ] + list(extra)
    codes = [(str(code), name) for code, name in zip(table["code"], table["name"], strict=True)]
    return _build_lookup([spellings + codes, _ascii_folded(spellings)])


@functools.cache
def _job_package_table(extra: tuple[tuple[str, str], ...] = ()) -> pd.DataFrame:
    """The shipped job packages, and the ``extra`` (name, group) a user config adds."""
    table = _read_csv("job_packages.csv", ["name", "group", "aliases"])
    if not extra:
        return table
    added = pd.DataFrame(
        {"name": [n for n, _ in extra], "group": [g for _, g in extra], "aliases": ""}
    ).astype("string")
    return pd.concat([table, added], ignore_index=True)


@functools.cache
def _job_package_lookup(extra: tuple[tuple[str, str], ...] = ()) -> dict[str, str]:
    table = _job_package_table(extra)
    spellings = [
        (spelling, name)
        for name, aliases in zip(table["name"], table["aliases"], strict=True)
        for spelling in [name, *_split_aliases(aliases)]
    ]
    return _build_lookup([spellings, _ascii_folded(spellings)])


@functools.cache
def _country_config() -> dict[str, Any]:
    with _data_file("countries.yaml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@functools.cache
def _danish() -> gettext.NullTranslations:
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["da"])


def _iso_countries() -> list[Any]:
    excluded = set(_country_config()["excluded"])
    return [country for country in pycountry.countries if country.alpha_3 not in excluded]


def _classify(alpha3: str, year: int) -> tuple[str, str]:
    """Return (origin_group, origin_region) of an ISO country in ``year``."""
    config = _country_config()
    sovereign = config["territories"].get(alpha3, alpha3)
    if sovereign in config["western"]:
        return "western", config["western_region"]
    if sovereign in config["eu_accession"]:
        return _western_from(config["eu_accession"][sovereign], year)
    for region, members in config["regions"].items():
        if sovereign in members:
            return "non_western", region
    raise DataError(f"Country {alpha3!r} has no origin region in countries.yaml.")


def _western_from(first_year: int | None, year: int) -> tuple[str, str]:
    config = _country_config()
    if first_year is not None and year >= first_year:
        return "western", config["western_region"]
    return "non_western", config["pre_accession_region"]


@functools.cache
def _country_table(year: int) -> pd.DataFrame:
    config = _country_config()
    rows = [
        (
            country.alpha_3,
            config["names"].get(country.alpha_3, _danish().gettext(country.name)),
            *_classify(country.alpha_3, year),
        )
        for country in _iso_countries()
    ]
    for alpha3, extra in config["extra"].items():
        if "western_from" in extra:
            group, region = _western_from(extra["western_from"], year)
        else:
            group, region = "non_western", extra["region"]
        rows.append((alpha3, extra["name"], group, region))
    columns = ["alpha3", "name", "origin_group", "origin_region"]
    return pd.DataFrame(rows, columns=columns, dtype="string")


@functools.cache
def _country_lookup() -> dict[str, str]:
    config = _country_config()
    canonical = _country_table(DEFAULT_YEAR)
    first = [(name, a3) for a3, name in zip(canonical["alpha3"], canonical["name"], strict=True)]
    first += [(a3, a3) for a3 in canonical["alpha3"]]
    first += [(country.alpha_2, country.alpha_3) for country in _iso_countries()]
    first += [(alias, a3) for a3, aliases in config["aliases"].items() for alias in aliases]
    first += [
        (alias, a3) for a3, extra in config["extra"].items() for alias in extra.get("aliases", [])
    ]
    danish, english = [], []
    for country in _iso_countries():
        for field in ("name", "official_name", "common_name"):
            if spelling := getattr(country, field, None):
                danish.append((_danish().gettext(spelling), country.alpha_3))
                english.append((spelling, country.alpha_3))
    return _build_lookup([first, danish, english, _ascii_folded(first + danish)])
