"""What a notebook parameter may be: the one schema the build and ``notebook.start`` check.

The notebooks' parameter cells declare names, types and defaults; this module adds the
allowed values and ranges, and names the parameters the build sets itself (so that
``--param`` cannot set them behind the build's back).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vip2analysis.contract.labels import LANGS
from vip2analysis.errors import ParameterError

__all__ = [
    "ALLOWED",
    "BUILD_SET",
    "EFFECT_BY",
    "MIN_CELL_FLOOR",
    "check_parameter",
    "parse_effect_by",
]


MIN_CELL_FLOOR = 2
"""The smallest ``min_cell`` accepted: a published cell must rest on at least two persons."""

EFFECT_BY: tuple[str, ...] = ("sex", "origin_group", "origin_region", "duration_band_register")
"""Columns an effect may be broken down by: the mission's three dimensions, sex, background
(origin group, and the finer origin region) and the duration without activation, as the
register measures it at the start week (the effect is measured in the register)."""

BUILD_SET: dict[str, str] = {
    "period": "--period",
    "output_dir": "--out",
    "processed_dir": "--processed",
}
"""Parameters the build sets itself -> the ``vip2 build`` flag that sets them."""


ALLOWED: dict[str, str] = {
    "lang": f"{' or '.join(LANGS)} (da: the Danish report; en: an English one, in <out>/en/)",
    "min_cell": f"a whole number of at least {MIN_CELL_FLOOR} (default 5)",
    "bootstrap_reps": "0 (no bootstrap) to 99999 (default 999)",
    "effect_by": f"comma-separated, from {', '.join(EFFECT_BY)} ('' for no breakdown)",
    "gap": "weeks off public support that break a spell, 1 to 104 (default 4; 1 and 52 "
    "are the sensitivity runs)",
}
"""What each checked parameter may be, in words (``vip2 build --help``); the rules are
:func:`check_parameter`'s."""


def parse_effect_by(value: Any) -> tuple[str, ...]:
    """``"sex,origin_group"`` -> ``("sex", "origin_group")``, each checked against EFFECT_BY.

    An empty text means no breakdown.

    >>> parse_effect_by("sex, duration_band_register")
    ('sex', 'duration_band_register')
    """
    if not isinstance(value, str):
        raise ParameterError(
            f"`effect_by` must be a text of comma-separated columns, got {value!r}"
        )
    names = tuple(part.strip() for part in value.split(",") if part.strip())
    bad = [n for n in names if n not in EFFECT_BY]
    if bad:
        raise ParameterError(
            f"`effect_by` names {bad}, which an effect cannot be broken down by; "
            f"allowed: {', '.join(EFFECT_BY)}"
        )
    if len(set(names)) != len(names):
        raise ParameterError(f"`effect_by` names a column twice: {value!r}")
    return names


def _lang(value: Any) -> str | None:
    return None if value in LANGS else f"must be one of {', '.join(LANGS)}"


def _min_cell(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= MIN_CELL_FLOOR
    return None if ok else f"must be a whole number of at least {MIN_CELL_FLOOR}"


def _reps(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 99_999
    return None if ok else "must be a whole number from 0 (no bootstrap) to 99999"


def _effect_by(value: Any) -> str | None:
    try:
        parse_effect_by(value)
    except ParameterError as exc:
        return str(exc).partition("; ")[2] or str(exc)
    return None


def _gap(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 104
    return None if ok else "must be a whole number of weeks from 1 to 104"


_RULES: dict[str, Callable[[Any], str | None]] = {
    "gap": _gap,
    "lang": _lang,
    "min_cell": _min_cell,
    "bootstrap_reps": _reps,
    "effect_by": _effect_by,
}


def check_parameter(name: str, value: Any, *, where: str = "") -> None:
    """Raise ParameterError when ``value`` is not allowed for the parameter ``name``.

    Names without a rule here are only type-checked (by the build, against the
    notebook's parameter cell).

    >>> check_parameter("lang", "de", where="02_outcomes")
    Traceback (most recent call last):
    ...
    vip2analysis.errors.ParameterError: 02_outcomes: parameter `lang` = 'de' must be one of da, en
    """
    rule = _RULES.get(name)
    problem = rule(value) if rule else None
    if problem:
        prefix = f"{where}: " if where else ""
        raise ParameterError(f"{prefix}parameter `{name}` = {value!r} {problem}")
