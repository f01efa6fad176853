"""DREAM register: measures per person and start week, risk-set comparison samples."""

from __future__ import annotations

from vip2analysis.register.lockin import lock_in
from vip2analysis.register.measures import (
    DEFAULT_GAP,
    HORIZONS,
    measure_codes,
    measure_file,
    measure_panel,
    ordinary_employment,
)
from vip2analysis.register.pipeline import (
    clean_and_measure,
    effect_inputs,
    measure_register,
    register_options,
)
from vip2analysis.register.risk import (
    COVARIATES,
    DEFAULT_M,
    PROJECT_MUNICIPALITIES,
    comparison_sample,
    course_outcomes,
    passive_at,
)

__all__ = [
    "COVARIATES",
    "DEFAULT_GAP",
    "DEFAULT_M",
    "HORIZONS",
    "PROJECT_MUNICIPALITIES",
    "clean_and_measure",
    "comparison_sample",
    "course_outcomes",
    "effect_inputs",
    "lock_in",
    "measure_codes",
    "measure_file",
    "measure_panel",
    "measure_register",
    "ordinary_employment",
    "passive_at",
    "register_options",
]
