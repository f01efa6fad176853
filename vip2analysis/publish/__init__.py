"""Publishing: disclosure control, labels, number formatting, figures in the house style,
published tables and workbooks.
"""

from __future__ import annotations

from vip2analysis.publish.disclosure import (
    DEFAULT_K,
    MIN_RESIDUAL_DF,
    SECONDARY_MARKER,
    TOTAL_LABEL,
    Protected,
    can_fit,
    format_suppressed,
    protect_series,
    protect_table,
    suppress_rates,
)
from vip2analysis.publish.format import localise, number, percent
from vip2analysis.publish.labels import LABELS, Lang, display_name
from vip2analysis.publish.plot_dissemination import ambassadors_by_region, ambassadors_over_time
from vip2analysis.publish.plot_effects import balance, forest, overlap
from vip2analysis.publish.plot_outcomes import (
    BarStat,
    PeriodFreq,
    outcome_distribution,
    over_time,
    rates_by_group,
)
from vip2analysis.publish.style import (
    PALETTE,
    STYLE,
    ImageFormat,
    figure_docs,
    house_style,
    save_figure,
    set_style,
)
from vip2analysis.publish.tables import Publisher, write_workbook

__all__ = [
    "DEFAULT_K",
    "LABELS",
    "MIN_RESIDUAL_DF",
    "PALETTE",
    "SECONDARY_MARKER",
    "STYLE",
    "TOTAL_LABEL",
    "BarStat",
    "ImageFormat",
    "Lang",
    "PeriodFreq",
    "Protected",
    "Publisher",
    "ambassadors_by_region",
    "ambassadors_over_time",
    "balance",
    "can_fit",
    "display_name",
    "figure_docs",
    "forest",
    "format_suppressed",
    "house_style",
    "localise",
    "number",
    "outcome_distribution",
    "over_time",
    "overlap",
    "percent",
    "protect_series",
    "protect_table",
    "rates_by_group",
    "save_figure",
    "set_style",
    "suppress_rates",
    "write_workbook",
]
