"""Display labels as data: ``contract/data/labels.yaml`` (code or key -> Danish / English).

The publishing room turns codes into these labels at render time; nothing else holds a
display label.

>>> load_labels()["da"]["sex.F"], load_labels()["en"]["sex.F"]
('Kvinder', 'Women')
"""

from __future__ import annotations

import functools
from importlib import resources

import yaml

__all__ = ["LANGS", "load_labels"]

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
