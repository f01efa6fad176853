"""Every error a user of vip2analysis can meet, under one base class.

Catch :class:`Vip2Error` to handle them all; the command line prints its message on one
line and exits with status 2. Anything else that escapes is a bug. Each class also derives
from the built-in exception a caller would expect (``ValueError``, ``KeyError``, ...), so
``except ValueError`` keeps working.

>>> issubclass(RawFileError, Vip2Error) and issubclass(ParameterError, ValueError)
True
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "ArgumentTypeError",
    "BuildError",
    "CleanError",
    "ConfigError",
    "DataError",
    "DisclosureError",
    "KeyMissingError",
    "MissingColumnError",
    "MissingDataError",
    "ParameterError",
    "PeriodConfigError",
    "RawFileError",
    "UnknownPeriodError",
    "Vip2Error",
    "check_one_of",
]


class Vip2Error(Exception):
    """Base class of every error vip2analysis raises on purpose."""


class ParameterError(Vip2Error, ValueError):
    """A function argument, notebook parameter or command-line value is not allowed."""


class ArgumentTypeError(Vip2Error, TypeError):
    """A function argument has the wrong type (a list where a Series is needed, ...)."""


class DataError(Vip2Error, ValueError):
    """The data passed in cannot be used for what was asked (no dates, no variation, ...)."""


class MissingColumnError(Vip2Error, KeyError):
    """A table lacks a column the function needs; the message names it."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0]) if self.args else ""


class ConfigError(Vip2Error, ValueError):
    """A configuration file is unreadable or breaks its rules."""


class PeriodConfigError(ConfigError):
    """The reporting-periods config breaks a rule; the message names file, period and field."""


class UnknownPeriodError(Vip2Error, KeyError):
    """A period name that the periods config does not have."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0]) if self.args else ""


class RawFileError(Vip2Error):
    """A raw file cannot be read as a table of the data contract; the message names the file."""


class KeyMissingError(Vip2Error):
    """No usable pseudonymisation key: none given, the demo key for real data, a bad key file."""


class CleanError(Vip2Error):
    """The cleaning step as a whole cannot run (no raw files, no key, unreadable file)."""


class MissingDataError(Vip2Error, FileNotFoundError):
    """The processed data a notebook or the build needs are not there."""


class DisclosureError(Vip2Error, RuntimeError):
    """No safe suppression pattern exists for a table; nothing is published from it."""


class BuildError(Vip2Error):
    """The build cannot start or cannot finish (locked, stale source, bad plan)."""


def check_one_of(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is in ``allowed``, else raise one uniformly worded error.

    >>> check_one_of("method", "wilson", ("wilson", "exact"))
    'wilson'
    >>> check_one_of("method", "normal", ("wilson", "exact"))
    Traceback (most recent call last):
    ...
    vip2analysis.errors.ParameterError: The value for `method` must be one of ('wilson', 'exact'), but 'normal' was passed.
    """
    options = tuple(allowed)
    if value not in options:
        raise ParameterError(
            f"The value for `{name}` must be one of {options!r}, but {value!r} was passed."
        )
    return value
