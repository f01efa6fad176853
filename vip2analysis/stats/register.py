"""Participants and their risk-set comparisons from the register, ready for an effect.

The register outcomes (``register_outcomes.parquet``, one row per course) and the risk-set
sample (``comparison_register.parquet``) are stacked into one frame for
:func:`~vip2analysis.stats.effects.participation_effect`: the period's participants that
the extract holds, and the comparison persons drawn at those participants' start weeks.
Covariates of both are measured at t0 from the register.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vip2analysis.errors import DataError

__all__ = [
    "REGISTER_COLUMNS",
    "register_sample",
    "with_register",
]

REGISTER_COLUMNS = (
    "t0",
    "weeks_public_support",
    "weeks_without_activation",
    "years_without_activation_register",
    "duration_band_register",
    "weeks_support_104",
    "employment_share_52",
    "selfsupport_share_52",
    "employed_week_52",
    "employed_13_after_end",
)
"""Register columns a course gains in :func:`with_register`."""


def _employed(share: pd.Series) -> pd.Series:
    """'yes' (some ordinary employment in the window), 'no', or 'unknown'."""
    return pd.Series(
        np.where(share.isna(), "unknown", np.where(share > 0, "yes", "no")), index=share.index
    )


def with_register(courses: pd.DataFrame, outcomes: pd.DataFrame | None) -> pd.DataFrame:
    """``courses`` with their register measures (:data:`REGISTER_COLUMNS`) and
    ``register_employed`` ('yes' / 'no' / 'unknown': some ordinary employment in the 52
    weeks after the start week), matched on ``person_id`` and ``start_date``; unchanged
    without register outcomes.
    """
    if outcomes is None:
        return courses
    cols = ["person_id", "start_date", *[c for c in REGISTER_COLUMNS if c in outcomes]]
    right = outcomes[cols].drop_duplicates(["person_id", "start_date"])
    left = courses.assign(
        person_id=courses["person_id"].astype("string"),
        start_date=pd.to_datetime(courses["start_date"]),
    )
    merged = left.merge(
        right.assign(person_id=right["person_id"].astype("string")),
        on=["person_id", "start_date"],
        how="left",
        validate="many_to_one",
    )
    merged.index = courses.index
    merged["register_employed"] = _employed(merged["employment_share_52"])
    return merged


def register_sample(
    courses: pd.DataFrame,
    outcomes: pd.DataFrame,
    comparisons: pd.DataFrame,
    *,
    treatment: str = "participant",
) -> pd.DataFrame:
    """The period's participants (their register rows) stacked on the comparison persons
    drawn at their start weeks; ``treatment`` is 1 for participants; ``employed`` is 1 when
    ``employment_share_52`` is above 0 (a person with some ordinary employment), missing
    when the share is.

    Raises
    ------
    DataError
        When none of the courses is in the register outcomes.
    """
    keys = pd.DataFrame(
        {
            "person_id": courses["person_id"].astype("string"),
            "start_date": pd.to_datetime(courses["start_date"]),
        }
    )
    part = outcomes.assign(person_id=outcomes["person_id"].astype("string")).merge(
        keys, on=["person_id", "start_date"], how="inner"
    )
    part = part.loc[part["in_register"].astype(bool)]
    if part.empty:
        raise DataError("none of the period's courses is in the register extract")
    comp = comparisons.loc[comparisons["t0"].isin(set(part["t0"]))]
    stacked = pd.concat(
        [
            part.drop(columns=["start_date", "in_register", "employed_13_after_end"]).assign(
                **{treatment: 1}
            ),
            comp.assign(**{treatment: 0}),
        ],
        ignore_index=True,
    )
    share = stacked["employment_share_52"]
    stacked["employed"] = np.where(share.isna(), np.nan, (share > 0).astype(float))
    return stacked
