"""Display labels: codes and variable names -> Danish (default) or English text."""

from __future__ import annotations

from typing import Any, Literal, get_args

import pandas as pd

from vip2analysis.contract.labels import load_labels
from vip2analysis.contract.schema import DURATION_BANDS, OUTCOMES, SEXES
from vip2analysis.errors import check_one_of

__all__ = [
    "LABELS",
    "Lang",
    "display_name",
]


Lang = Literal["da", "en"]
"""Language of titles, axis labels and category names."""


_MONTHS = {
    "da": ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}


LABELS: dict[str, dict[str, str]] = load_labels()
"""Language -> key -> label (``contract/data/labels.yaml``)."""
"""Every text on a figure, by language; keys ``"<variable>.<code>"`` name categories."""


_CODE_ORDER = {"outcome": OUTCOMES, "duration_band": DURATION_BANDS, "sex": SEXES}


_REGIONS = ("Hovedstaden", "Sjælland", "Syddanmark", "Midtjylland", "Nordjylland")


def label(lang: str, key: str, **fields: Any) -> str:
    text = LABELS[lang][key]
    return text.format(**fields) if fields else text


def display_name(value: Any, *, variable: str, lang: Lang = "da") -> str:
    """The label of one category (or a variable's name with ``variable="var"``).

    Parameters
    ----------
    value : scalar
        A code as stored in the data, e.g. ``"F"`` or ``"ordinary_employment"``.
    variable : str
        The column it comes from, e.g. ``"sex"``; ``"var"`` looks up a column name.
    lang : {'da', 'en'}
        Language.

    Returns
    -------
    str
        The label from :data:`LABELS`, or the value itself when there is none;
        ``"Uoplyst"`` (``"Not stated"``) for a missing value.

    Examples
    --------
    >>> display_name("F", variable="sex")
    'Kvinder'
    >>> display_name("ordinary_employment", variable="outcome", lang="en")
    'Ordinary employment'
    >>> display_name("sex", variable="var")
    'Køn'
    >>> display_name("Gladsaxe", variable="municipality")
    'Gladsaxe'
    """
    check_one_of("lang", lang, get_args(Lang))
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return label(lang, "missing")
    return LABELS[lang].get(f"{variable}.{value}", str(value))
