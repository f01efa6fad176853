"""The lock-in profile: weekly ordinary employment around the start week.

For each week from t0-52 to t0+104 the share in ordinary employment among participants
and among their comparison persons (weighted, e.g. by the odds weights of a propensity
model), with the numbers behind each share. During the course weeks participants are
locked in: expect a dip before any gain.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vip2analysis.contract.dream import WeeklyPanel
from vip2analysis.register.measures import ordinary_employment
from vip2analysis.register.risk import _rows_of

__all__ = [
    "lock_in",
]


def lock_in(
    panel: WeeklyPanel,
    sample: pd.DataFrame,
    *,
    weight: pd.Series | None = None,
    treatment: str = "participant",
    before: int = 52,
    after: int = 104,
) -> pd.DataFrame:
    """Weekly ordinary employment of participants and comparisons around t0.

    Parameters
    ----------
    panel : WeeklyPanel
        The extract (at least the persons of ``sample``).
    sample : DataFrame
        Rows with ``person_id``, ``t0`` (the Monday of the start week) and ``treatment``.
    weight : Series, optional
        Weight per row of ``sample`` (same index); rows without a weight are left out.
        Default: every row weighs 1.

    Returns
    -------
    DataFrame
        One row per group and week relative to t0: ``group`` (participants/comparison),
        ``week``, ``n`` (persons with employment information that week), ``employed``
        (how many of them in ordinary employment), ``rate`` (weighted share) and
        ``n_effective`` (Kish's effective number of the weighted persons).
    """
    w = pd.Series(1.0, index=sample.index) if weight is None else weight.reindex(sample.index)
    use = sample.loc[w.notna()]
    w = w.loc[use.index].to_numpy(float)
    rows = _rows_of(panel, use["person_id"])
    if (rows < 0).any():
        raise KeyError("some persons of the sample are not in the register panel")
    t0 = panel.week_index(use["t0"])
    offsets = np.arange(-before, after + 1)
    job = ordinary_employment(panel, rows[:, None], t0[:, None] + offsets[None, :])
    out = []
    for name, value in (("participants", 1), ("comparison", 0)):
        mine = use[treatment].to_numpy() == value
        j, ww = job[mine], w[mine][:, None]
        known = ~np.isnan(j)
        n = known.sum(axis=0)
        employed = np.nansum(j, axis=0).astype(int)
        weighted = np.where(known, ww, 0.0).sum(axis=0)
        squares = np.where(known, ww**2, 0.0).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(weighted > 0, np.nansum(j * ww, axis=0) / weighted, np.nan)
        out.append(
            pd.DataFrame(
                {
                    "group": name,
                    "week": offsets,
                    "n": n,
                    "employed": employed,
                    "rate": rate,
                    "n_effective": np.where(
                        squares > 0, weighted**2 / np.maximum(squares, 1e-300), 0.0
                    ),
                }
            )
        )
    return pd.concat(out, ignore_index=True)
