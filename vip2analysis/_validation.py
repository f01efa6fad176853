"""Argument checks shared by every module, so that messages read the same everywhere."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__: list[str] = []


def check_one_of(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is in ``allowed``, else raise one uniformly worded ValueError.

    >>> check_one_of("method", "wilson", ("wilson", "exact"))
    'wilson'
    """
    options = tuple(allowed)
    if value not in options:
        raise ValueError(
            f"The value for `{name}` must be one of {options!r}, but {value!r} was passed."
        )
    return value
