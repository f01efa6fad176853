"""The tidy result table every estimator returns, and its shared row helpers."""

from __future__ import annotations

import re
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "INFERENCE",
    "TIDY_COLUMNS",
    "Inference",
    "inference_code",
]


TIDY_COLUMNS: tuple[str, ...] = (
    "term",
    "estimate",
    "std_error",
    "conf_low",
    "conf_high",
    "p_value",
    "n",
    "inference",
)


Inference = Literal["logit_ame", "lpm_hc3", "wild_bootstrap", "att_sandwich", "att_cluster"]
"""Codes of the inference procedures behind a tidy row."""

INFERENCE: dict[str, str] = {
    "logit_ame": "delta method (logit AME)",
    "lpm_hc3": "HC3",
    "wild_bootstrap": "wild cluster bootstrap (Webb, {clusters} clusters), p-value only",
    "att_sandwich": "M-estimation sandwich (stacked estimating equations)",
    "att_cluster": "M-estimation sandwich (stacked estimating equations), clustered by person",
}
"""Inference code -> the text of the ``inference`` column of a tidy table (one place)."""


def inference_code(text: str) -> str | None:
    """The code of an ``inference`` text of a tidy table, or None for an unknown text.

    >>> inference_code("HC3"), inference_code("wild cluster bootstrap (Webb, 5 clusters), p-value only")
    ('lpm_hc3', 'wild_bootstrap')
    """
    for code, template in INFERENCE.items():
        pattern = re.escape(template).replace(re.escape("{clusters}"), r"\d+")
        if re.fullmatch(pattern, text):
            return code
    return None


def _z(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 2))


def _tidy_row(term: str, est: float, se: float, *, level: float, n: int, inference: str) -> dict:
    """One tidy row with a normal interval and two-sided p-value."""
    half = _z(level) * se
    p = 2 * stats.norm.sf(abs(est / se)) if se > 0 else np.nan
    return _record(term, est, se, est - half, est + half, p, n, inference)


def _record(*values: Any) -> dict[str, Any]:
    return dict(zip(TIDY_COLUMNS, values, strict=True))


def _tidy_frame(rows: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=list(TIDY_COLUMNS))
    table["n"] = table["n"].astype("int64")
    return table


def _is_categorical(s: pd.Series) -> bool:
    return pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s)


def _observed_levels(s: pd.Series) -> list:
    """Observed levels, in category order for categoricals, sorted otherwise."""
    present = s.dropna().unique()
    if isinstance(s.dtype, pd.CategoricalDtype):
        seen = set(present)
        return [c for c in s.cat.categories if c in seen]
    return sorted(present.tolist())


def _fmt_ci(est: float, low: float, high: float) -> str:
    return f"{est:+.3f} [{low:+.3f}, {high:+.3f}]" if pd.notna(est) else ""
