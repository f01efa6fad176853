"""Reporting periods, read from a YAML config file (not code).

The shipped config is ``vip2analysis/contract/data/periods.yaml``; any other file with the same
shape can be passed by path. Every problem in a config raises one
:class:`PeriodConfigError` that names the file, the period and the field.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

import pandas as pd
import yaml

from vip2analysis.errors import PeriodConfigError, UnknownPeriodError

__all__ = [
    "AssignBy",
    "Period",
    "PeriodConfig",
    "assign_periods",
    "load_periods",
    "periods_table",
    "select_period",
]

AssignBy = Literal["start_date", "end_date"]
_PERIOD_FIELDS = ("start", "end", "data_date", "label_da", "label_en")
_TOP_FIELDS = ("assign_by", "periods")


@dataclass(frozen=True)
class Period:
    """One reporting period; ``start`` and ``end`` are inclusive.

    ``data_date`` is the date of the data extract the period is reported on: a course
    that had not ended by then is still running (its outcome is not known yet).
    """

    name: str
    start: dt.date
    end: dt.date
    data_date: dt.date
    label_da: str
    label_en: str

    def label(self, lang: str = "da") -> str:
        """Return the label in ``lang`` ('da' or 'en')."""
        return self.label_en if lang == "en" else self.label_da


@dataclass(frozen=True)
class PeriodConfig:
    """The periods of one config file, in file order, and the rule that places a course."""

    source: str
    assign_by: AssignBy
    periods: dict[str, Period]

    def __getitem__(self, name: str) -> Period:
        try:
            return self.periods[name]
        except KeyError:
            raise UnknownPeriodError(
                f"Unknown period {name!r} in {self.source}; known: {', '.join(self.periods)}"
            ) from None

    def __iter__(self):
        return iter(self.periods.values())

    def __len__(self) -> int:
        return len(self.periods)

    @property
    def names(self) -> list[str]:
        return list(self.periods)


def _fail(source: str, where: str, field: str, problem: str) -> PeriodConfigError:
    return PeriodConfigError(f"{source}: {where}, field `{field}`: {problem}")


def _unique_key_loader() -> type[yaml.SafeLoader]:
    """A SafeLoader that refuses duplicate mapping keys (YAML would keep the last)."""

    class Loader(yaml.SafeLoader):
        pass

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False):
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=deep)
            if key in seen:
                line = key_node.start_mark.line + 1
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate name {key!r} (line {line})", key_node.start_mark
                )
            seen.add(key)
        return loader.construct_mapping(node, deep=deep)

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    # dates stay text here, so that `_parse_date` can say which period and field is wrong
    Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: node.value)
    return Loader


def _parse_date(value: Any, source: str, name: str, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise _fail(
            source, f"period {name!r}", field, f"{value!r} is not a date of the form YYYY-MM-DD"
        ) from None


def _parse_period(name: Any, spec: Any, source: str) -> Period:
    where = f"period {name!r}"
    if not isinstance(name, str) or not name.isidentifier():
        raise _fail(source, where, "name", "a period name must be a word (letters, digits, _)")
    if not isinstance(spec, dict):
        raise _fail(source, where, "(all)", "expected a mapping with " + ", ".join(_PERIOD_FIELDS))
    for key in spec:
        if key not in _PERIOD_FIELDS:
            raise _fail(
                source, where, str(key), f"unknown key; allowed: {', '.join(_PERIOD_FIELDS)}"
            )
    for key in _PERIOD_FIELDS:
        if spec.get(key) in (None, ""):
            raise _fail(source, where, key, "missing")
    start = _parse_date(spec["start"], source, name, "start")
    end = _parse_date(spec["end"], source, name, "end")
    if end < start:
        raise _fail(source, where, "end", f"end {end} is before start {start}")
    data_date = _parse_date(spec["data_date"], source, name, "data_date")
    if data_date < start:
        raise _fail(
            source, where, "data_date", f"data date {data_date} is before the start {start}"
        )
    return Period(name, start, end, data_date, str(spec["label_da"]), str(spec["label_en"]))


def _parse_config(raw: Any, source: str) -> PeriodConfig:
    if not isinstance(raw, dict):
        raise _fail(source, "top level", "(all)", "expected a mapping with `periods:`")
    for key in raw:
        if key not in _TOP_FIELDS:
            raise _fail(
                source, "top level", str(key), f"unknown key; allowed: {', '.join(_TOP_FIELDS)}"
            )
    assign_by = raw.get("assign_by", "start_date")
    if assign_by not in get_args(AssignBy):
        raise _fail(
            source,
            "top level",
            "assign_by",
            f"must be one of {get_args(AssignBy)}, got {assign_by!r}",
        )
    specs = raw.get("periods")
    if not isinstance(specs, dict) or not specs:
        raise _fail(source, "top level", "periods", "expected a non-empty mapping of periods")
    periods = {str(n): _parse_period(n, s, source) for n, s in specs.items()}
    return PeriodConfig(source=source, assign_by=assign_by, periods=periods)


def load_periods(path: str | os.PathLike[str] | None = None) -> PeriodConfig:
    """Read reporting periods from ``path``, or the shipped config when ``path`` is None.

    Parameters
    ----------
    path
        A YAML file with ``assign_by`` (optional) and ``periods``: name -> start, end,
        data_date (the date of the data extract), label_da, label_en.

    Returns
    -------
    PeriodConfig

    Raises
    ------
    PeriodConfigError
        Naming the file, the period and the field: unknown key, missing field, a date
        that does not parse, end before start, a duplicate name.

    Examples
    --------
    >>> cfg = load_periods()
    >>> cfg.names
    ['method', 'extension1', 'extension2', 'all']
    >>> cfg["method"].start, cfg["method"].label_da
    (datetime.date(2007, 4, 1), 'Metodedel')
    """
    if path is None:
        ref = resources.files("vip2analysis.contract") / "data" / "periods.yaml"
        text, source = ref.read_text(encoding="utf-8"), "vip2analysis/contract/data/periods.yaml"
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PeriodConfigError(f"{source}: cannot read the periods config: {exc}") from exc
    try:
        raw = yaml.load(text, Loader=_unique_key_loader())
    except yaml.YAMLError as exc:
        raise PeriodConfigError(f"{source}: not valid YAML or a duplicate name: {exc}") from exc
    return _parse_config(raw, source)


def assign_periods(courses: pd.DataFrame, config: PeriodConfig, *, period: str) -> pd.Series:
    """Boolean mask of the courses that belong to ``period`` under the config's rule.

    Examples
    --------
    >>> cfg = load_periods()
    >>> df = pd.DataFrame({"start_date": pd.to_datetime(["2008-01-01", "2010-01-05"]),
    ...                    "end_date": pd.to_datetime(["2008-06-01", None])})
    >>> assign_periods(df, cfg, period="method").tolist()
    [True, False]
    """
    p = config[period]
    dates = pd.to_datetime(courses[config.assign_by])
    start, end = pd.Timestamp(p.start), pd.Timestamp(p.end)
    return (dates >= start) & (dates <= end)


def periods_table(config: PeriodConfig) -> pd.DataFrame:
    """One row per period: name, start, end, days, data_date, label_da, label_en.

    Examples
    --------
    >>> periods_table(load_periods())["days"].tolist()
    [822, 153, 183, 1172]
    """
    rows = [
        {
            "name": p.name,
            "start": p.start.isoformat(),
            "end": p.end.isoformat(),
            "days": (p.end - p.start).days + 1,
            "data_date": p.data_date.isoformat(),
            "label_da": p.label_da,
            "label_en": p.label_en,
        }
        for p in config
    ]
    return pd.DataFrame(rows)


def select_period(
    courses: pd.DataFrame, *, period: str, config: PeriodConfig | None = None
) -> pd.DataFrame:
    """The courses that belong to ``period`` under the config's rule (default: start date).

    Examples
    --------
    >>> df = pd.DataFrame({"start_date": pd.to_datetime(["2008-01-01", "2010-01-05"]),
    ...                    "end_date": pd.NaT})
    >>> len(select_period(df, period="extension2"))
    1
    """
    config = config or load_periods()
    return courses[assign_periods(courses, config, period=period)].reset_index(drop=True)
