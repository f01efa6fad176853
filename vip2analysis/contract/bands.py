"""Duration bands of years without activation: one rule, used by cleaning and synthesis."""

from __future__ import annotations

import numpy as np
import pandas as pd

from vip2analysis.contract.schema import DURATION_BANDS

__all__ = [
    "duration_band",
]


def duration_band(years: pd.Series) -> pd.Series:
    """Band years without activation: '<1', '1-2', '2-5', '5+' (left-closed intervals).

    Examples
    --------
    >>> duration_band(pd.Series([0.5, 1.0, 4.99, 5.0])).tolist()
    ['<1', '1-2', '2-5', '5+']
    """
    bands = pd.cut(
        years.astype("float64"), [0, 1, 2, 5, np.inf], right=False, labels=list(DURATION_BANDS)
    )
    return bands.astype(pd.CategoricalDtype(list(DURATION_BANDS), ordered=True))
