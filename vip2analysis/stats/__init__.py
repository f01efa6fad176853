"""Statistics on cleaned data: rates with intervals, adjusted differences among participants,
participation effects and the reconciliation with the published figures. Computes with
codes; turning codes into labels is the publishing room's job.
"""

from __future__ import annotations

from vip2analysis.stats.adjusted import AdjustedDifferences, adjusted_differences
from vip2analysis.stats.effects import (
    ParticipationEffect,
    TeMethod,
    follow_up_summary,
    participation_effect,
    stack_comparison,
)
from vip2analysis.stats.proportions import (
    COUNT_FIGURES,
    DENOMINATOR_RULES,
    HEADLINE_FIGURES,
    Denominator,
    Outcome,
    denominator_code,
    derive_outcomes,
    follow_up,
    headline,
    headline_rows,
    rates,
    wilson_interval,
)
from vip2analysis.stats.reconcile import reconcile
from vip2analysis.stats.register import REGISTER_COLUMNS, register_sample, with_register
from vip2analysis.stats.tidy import INFERENCE, TIDY_COLUMNS, Inference, inference_code

__all__ = [
    "COUNT_FIGURES",
    "DENOMINATOR_RULES",
    "HEADLINE_FIGURES",
    "INFERENCE",
    "REGISTER_COLUMNS",
    "TIDY_COLUMNS",
    "AdjustedDifferences",
    "Denominator",
    "Inference",
    "Outcome",
    "ParticipationEffect",
    "TeMethod",
    "adjusted_differences",
    "denominator_code",
    "derive_outcomes",
    "follow_up",
    "follow_up_summary",
    "headline",
    "headline_rows",
    "inference_code",
    "participation_effect",
    "rates",
    "reconcile",
    "register_sample",
    "stack_comparison",
    "wilson_interval",
    "with_register",
]
