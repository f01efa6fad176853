"""Publishing: disclosure control, labels, number formatting, figures in the house style,
published tables and workbooks.
"""

from __future__ import annotations

from vip2analysis.publish.audit import COUNT_COLUMNS, AuditReport, audit_period
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
from vip2analysis.publish.period import (
    GROUPS,
    PeriodTables,
    course_records,
    disclose_accounting,
    disclose_ambassadors,
    disclose_comparison,
    disclose_period,
    disclose_reasons,
    publish_balance,
    publish_effects,
    publish_follow_up,
    publish_model_table,
)
from vip2analysis.publish.plot_dissemination import (
    ambassadors_by_quarter,
    ambassadors_by_region,
    ambassadors_over_time,
)
from vip2analysis.publish.plot_effects import balance, forest, overlap
from vip2analysis.publish.plot_outcomes import (
    BarStat,
    PeriodFreq,
    outcome_distribution,
    over_time,
    rates_by_group,
)
from vip2analysis.publish.register import (
    MISSING,
    CellKind,
    Key,
    Register,
    audit_cells,
    exposed_cells,
    make_key,
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
    "COUNT_COLUMNS",
    "DEFAULT_K",
    "GROUPS",
    "LABELS",
    "MIN_RESIDUAL_DF",
    "MISSING",
    "PALETTE",
    "SECONDARY_MARKER",
    "STYLE",
    "TOTAL_LABEL",
    "AuditReport",
    "BarStat",
    "CellKind",
    "ImageFormat",
    "Key",
    "Lang",
    "PeriodFreq",
    "PeriodTables",
    "Protected",
    "Publisher",
    "Register",
    "ambassadors_by_quarter",
    "ambassadors_by_region",
    "ambassadors_over_time",
    "audit_cells",
    "audit_period",
    "balance",
    "can_fit",
    "course_records",
    "disclose_accounting",
    "disclose_ambassadors",
    "disclose_comparison",
    "disclose_period",
    "disclose_reasons",
    "display_name",
    "exposed_cells",
    "figure_docs",
    "forest",
    "format_suppressed",
    "house_style",
    "localise",
    "make_key",
    "number",
    "outcome_distribution",
    "over_time",
    "overlap",
    "percent",
    "protect_series",
    "protect_table",
    "publish_balance",
    "publish_effects",
    "publish_follow_up",
    "publish_model_table",
    "rates_by_group",
    "save_figure",
    "set_style",
    "suppress_rates",
    "write_workbook",
]
