"""A user's configuration of the cleaning (``vip2.yaml``): what a researcher may add to the
shipped contract without editing the installed package.

The shipped defaults stay in the package as data (``contract/data/``); a config only adds:

.. code-block:: yaml

    aliases:              # more header spellings of a contract column
      cpr: [Personnr, "CPR nummer"]
    vocabulary:           # more wordings of a status, outcome, residence basis, ... code
      outcome:
        ordinary_employment: [Fast job, "Ordinær ansættelse"]
    job_packages:         # more job packages: name -> group (original or vip2)
      Lager og logistik: vip2
    municipalities:       # more spellings of one of the 98 municipalities
      "Kbh.": København
    sheets:               # which sheet to read, by file name pattern
      "aarhus*.xlsx": Forløb 2009

Every wrong key or value stops with a :class:`~vip2analysis.errors.ConfigError` that names
the file, the section and the entry. :attr:`UserConfig.digest` (sha256 of the file) is
recorded in ``accounting.json``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from vip2analysis.contract.reference import municipalities
from vip2analysis.contract.schema import ALIASES
from vip2analysis.errors import ConfigError

__all__ = [
    "CONFIG_NAME",
    "CONFIG_SECTIONS",
    "UserConfig",
    "load_user_config",
]

CONFIG_NAME = "vip2.yaml"
"""The config file ``vip2 clean`` uses from the raw folder when none is named."""

CONFIG_SECTIONS: tuple[str, ...] = (
    "aliases",
    "vocabulary",
    "job_packages",
    "municipalities",
    "sheets",
)
"""The sections a ``vip2.yaml`` may hold."""

_GROUPS = ("original", "vip2")


@dataclass(frozen=True)
class UserConfig:
    """A validated user configuration; the empty config changes nothing."""

    source: str = ""
    digest: str = ""
    aliases: tuple[tuple[str, str], ...] = ()  # (spelling, column)
    vocabulary: tuple[tuple[str, str, str], ...] = ()  # (field, wording, code)
    job_packages: tuple[tuple[str, str], ...] = ()  # (name, group)
    municipalities: tuple[tuple[str, str], ...] = ()  # (spelling, official name)
    sheets: tuple[tuple[str, str], ...] = field(default=())  # (file glob, sheet)

    def sheet_for(self, file_name: str) -> str | None:
        """The sheet named for ``file_name`` (the first pattern that matches), if any."""
        return next((s for glob, s in self.sheets if fnmatch.fnmatch(file_name, glob)), None)

    def vocabulary_of(self, field_name: str) -> tuple[tuple[str, str], ...]:
        """(wording, code) pairs the config adds for one vocabulary field."""
        return tuple((w, c) for f, w, c in self.vocabulary if f == field_name)


def _vocabulary_codes() -> dict[str, set[str]]:
    ref = resources.files("vip2analysis.contract") / "data" / "vocabulary.yaml"
    raw = yaml.safe_load(ref.read_text(encoding="utf-8"))
    return {name: set(mapping) for name, mapping in raw.items()}


def _fail(source: str, where: str, problem: str) -> ConfigError:
    return ConfigError(f"{source}: {where}: {problem}")


def _words(value: Any, source: str, where: str) -> list[str]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str | int) and str(v).strip() for v in values):
        raise _fail(source, where, "expected a word or a list of words")
    return [str(v).strip() for v in values]


def _mapping(value: Any, source: str, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail(source, where, "expected a mapping (name: value)")
    return {str(k): v for k, v in value.items()}


def _parse(raw: Any, source: str, digest: str) -> UserConfig:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise _fail(source, "top level", f"expected a mapping with {', '.join(CONFIG_SECTIONS)}")
    for key in raw:
        if key not in CONFIG_SECTIONS:
            raise _fail(
                source, f"section `{key}`", f"unknown; allowed: {', '.join(CONFIG_SECTIONS)}"
            )
    aliases = []
    for column, words in _mapping(raw.get("aliases"), source, "aliases").items():
        if column not in ALIASES:
            raise _fail(
                source,
                f"aliases, `{column}`",
                f"not a contract column; known: {', '.join(sorted(ALIASES))}",
            )
        aliases += [(w, column) for w in _words(words, source, f"aliases, `{column}`")]
    vocabulary = []
    codes = _vocabulary_codes()
    for name, mapping in _mapping(raw.get("vocabulary"), source, "vocabulary").items():
        if name not in codes:
            raise _fail(
                source, f"vocabulary, `{name}`", f"unknown field; known: {', '.join(sorted(codes))}"
            )
        for code, words in _mapping(mapping, source, f"vocabulary, `{name}`").items():
            if code not in codes[name]:
                raise _fail(
                    source,
                    f"vocabulary, `{name}`, `{code}`",
                    f"not a code of {name}; its codes: {', '.join(sorted(codes[name]))}",
                )
            where = f"vocabulary, `{name}`, `{code}`"
            vocabulary += [(name, w, code) for w in _words(words, source, where)]
    packages = []
    for name, group in _mapping(raw.get("job_packages"), source, "job_packages").items():
        if group not in _GROUPS:
            raise _fail(
                source, f"job_packages, `{name}`", f"group must be one of {', '.join(_GROUPS)}"
            )
        packages.append((name.strip(), str(group)))
    known = set(municipalities()["name"])
    spellings = []
    for spelling, name in _mapping(raw.get("municipalities"), source, "municipalities").items():
        if name not in known:
            raise _fail(
                source,
                f"municipalities, `{spelling}`",
                f"{name!r} is not one of the 98 municipalities (official names, e.g. 'København')",
            )
        spellings.append((spelling, str(name)))
    sheets = []
    for glob, sheet in _mapping(raw.get("sheets"), source, "sheets").items():
        if not isinstance(sheet, str | int) or not str(sheet).strip():
            raise _fail(source, f"sheets, `{glob}`", "expected the name of a sheet")
        sheets.append((glob, str(sheet)))
    return UserConfig(
        source,
        digest,
        tuple(aliases),
        tuple(vocabulary),
        tuple(packages),
        tuple(spellings),
        tuple(sheets),
    )


def load_user_config(path: str | os.PathLike[str] | None) -> UserConfig:
    """Read and validate a ``vip2.yaml``; None gives the empty config.

    Examples
    --------
    >>> load_user_config(None) == UserConfig()
    True
    """
    if path is None:
        return UserConfig()
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read the config ({exc.strerror})") from exc
    try:
        raw = yaml.safe_load(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{source}: not valid YAML in UTF-8: {exc}") from exc
    return _parse(raw, source, hashlib.sha256(data).hexdigest())
