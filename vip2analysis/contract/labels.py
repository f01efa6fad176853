"""Display labels as data: ``contract/data/labels.yaml`` (code or key -> Danish / English).

The publishing room turns codes into these labels at render time; nothing else holds a
display label.

>>> load_labels()["da"]["sex.F"], load_labels()["en"]["sex.F"]
('Kvinder', 'Women')
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import yaml

__all__ = ["COLUMN_KINDS", "LANGS", "load_columns", "load_labels", "load_report_text"]

LANGS: tuple[str, ...] = ("da", "en")
"""The languages every label exists in."""


@functools.cache
def load_labels() -> dict[str, dict[str, str]]:
    """Language -> key -> label, from the shipped ``labels.yaml`` (read once).

    A key missing in one language falls back to the code itself where it is shown
    (:func:`vip2analysis.publish.labels.display_name`).
    """
    ref = resources.files("vip2analysis.contract") / "data" / "labels.yaml"
    labels = yaml.safe_load(ref.read_text(encoding="utf-8"))
    return {lang: {str(k): str(v) for k, v in labels[lang].items()} for lang in LANGS}


COLUMN_KINDS: tuple[str, ...] = (
    "count",
    "number",
    "days",
    "share",
    "pp",
    "p_value",
    "code",
    "text",
    "date",
)
"""How a published column is formatted (see ``columns.yaml``)."""


@functools.cache
def load_columns() -> dict[str, dict[str, str]]:
    """Published column -> its kind, Danish and English header, label prefix and meaning.

    From the shipped ``columns.yaml``: the one description of the published tables' columns,
    used for the people's tables (HTML, workbook, Word) and the data dictionary of the CSV
    files. A code column's values are labelled with ``<label>.<code>`` (``label`` defaults
    to the column's name).

    >>> load_columns()["rate"]["kind"], load_columns()["rate"]["da"]
    ('share', 'Andel')
    """
    ref = resources.files("vip2analysis.contract") / "data" / "columns.yaml"
    raw = yaml.safe_load(ref.read_text(encoding="utf-8"))["columns"]
    out = {}
    for name, spec in raw.items():
        if spec.get("kind") not in COLUMN_KINDS or not all(spec.get(k) for k in ("da", "en")):
            raise ValueError(
                f"columns.yaml: column {name!r} needs a kind of {COLUMN_KINDS}, da and en"
            )
        out[str(name)] = {
            "kind": str(spec["kind"]),
            "label": str(spec.get("label", name)),
            "da": str(spec["da"]),
            "en": str(spec["en"]),
            "about": str(spec.get("about", "")),
        }
    return out


@functools.cache
def load_report_text() -> dict[str, dict[str, Any]]:
    """Language -> the Word report's fixed text (``report.yaml``): title page, section
    names of the notebooks, the methods appendix."""
    ref = resources.files("vip2analysis.contract") / "data" / "report.yaml"
    data: dict[str, dict[str, Any]] = yaml.safe_load(ref.read_text(encoding="utf-8"))
    return data
