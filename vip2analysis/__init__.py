"""vip2analysis: reproducible evaluation toolkit for Danish job-package courses (VIP2).

The front door holds what a researcher calls; everything else lives in its room
(``vip2analysis.contract``, ``.io``, ``.clean``, ``.stats``, ``.publish``, ``.build``,
``.synth``, ``.engine``). Names are loaded on first use, so ``import vip2analysis`` is cheap and the
core works without Jupyter.

>>> import vip2analysis as v2
>>> v2.clean_tables.__module__
'vip2analysis.clean.tables'
>>> [name for name in v2.__all__ if getattr(v2, name, None) is None]
[]
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it
_HOMES: dict[str, str] = {
    # reading raw files and the processed folder
    "RawTable": "vip2analysis.io.read",
    "read_file": "vip2analysis.io.read",
    "read_frame": "vip2analysis.io.read",
    "find_raw_files": "vip2analysis.io.read",
    "Processed": "vip2analysis.io.processed",
    "load_processed": "vip2analysis.io.processed",
    # cleaning and pseudonymisation
    "CleanResult": "vip2analysis.clean.tables",
    "clean_tables": "vip2analysis.clean.tables",
    "run_clean": "vip2analysis.clean.pipeline",
    # the DREAM register
    "clean_and_measure": "vip2analysis.register.pipeline",
    "measure_register": "vip2analysis.register.pipeline",
    "load_register": "vip2analysis.io.processed",
    "measure_codes": "vip2analysis.register.measures",
    "measure_file": "vip2analysis.register.measures",
    "course_outcomes": "vip2analysis.register.risk",
    "comparison_sample": "vip2analysis.register.risk",
    "register_sample": "vip2analysis.stats.register",
    "resolve_key": "vip2analysis.clean.keys",
    "parse_cpr": "vip2analysis.contract.cpr",
    "pseudonymise": "vip2analysis.contract.cpr",
    "mask_cpr": "vip2analysis.contract.cpr",
    # the data contract
    "clean_schemas": "vip2analysis.contract.schema",
    "COURSE_COLUMNS": "vip2analysis.contract.schema",
    "OUTCOMES": "vip2analysis.contract.schema",
    "EMPLOYMENT_OUTCOMES": "vip2analysis.contract.schema",
    "DURATION_BANDS": "vip2analysis.contract.schema",
    "duration_band": "vip2analysis.contract.bands",
    "load_periods": "vip2analysis.contract.periods",
    "select_period": "vip2analysis.contract.periods",
    # statistics
    "derive_outcomes": "vip2analysis.stats.proportions",
    "rates": "vip2analysis.stats.proportions",
    "headline": "vip2analysis.stats.proportions",
    "AdjustedDifferences": "vip2analysis.stats.adjusted",
    "adjusted_differences": "vip2analysis.stats.adjusted",
    "ParticipationEffect": "vip2analysis.stats.effects",
    "participation_effect": "vip2analysis.stats.effects",
    "stack_comparison": "vip2analysis.stats.effects",
    # engines: this process (the default) or Dask
    "DaskEngine": "vip2analysis.engine",
    "LocalEngine": "vip2analysis.engine",
    "make_engine": "vip2analysis.engine",
    # errors
    "Vip2Error": "vip2analysis.errors",
}

__all__ = [
    "COURSE_COLUMNS",
    "DURATION_BANDS",
    "EMPLOYMENT_OUTCOMES",
    "OUTCOMES",
    "AdjustedDifferences",
    "CleanResult",
    "DaskEngine",
    "LocalEngine",
    "ParticipationEffect",
    "Processed",
    "RawTable",
    "Vip2Error",
    "__version__",
    "adjusted_differences",
    "clean_and_measure",
    "clean_schemas",
    "clean_tables",
    "comparison_sample",
    "course_outcomes",
    "derive_outcomes",
    "duration_band",
    "find_raw_files",
    "headline",
    "load_periods",
    "load_processed",
    "load_register",
    "make_engine",
    "mask_cpr",
    "measure_codes",
    "measure_file",
    "measure_register",
    "parse_cpr",
    "participation_effect",
    "pseudonymise",
    "rates",
    "read_file",
    "read_frame",
    "register_sample",
    "resolve_key",
    "run_clean",
    "select_period",
    "stack_comparison",
]

if TYPE_CHECKING:  # the same names, for type checkers and editors
    from vip2analysis.clean.keys import resolve_key
    from vip2analysis.clean.pipeline import run_clean
    from vip2analysis.clean.tables import CleanResult, clean_tables
    from vip2analysis.contract.bands import duration_band
    from vip2analysis.contract.cpr import mask_cpr, parse_cpr, pseudonymise
    from vip2analysis.contract.periods import load_periods, select_period
    from vip2analysis.contract.schema import (
        COURSE_COLUMNS,
        DURATION_BANDS,
        EMPLOYMENT_OUTCOMES,
        OUTCOMES,
        clean_schemas,
    )
    from vip2analysis.engine import DaskEngine, LocalEngine, make_engine
    from vip2analysis.errors import Vip2Error
    from vip2analysis.io.processed import Processed, load_processed, load_register
    from vip2analysis.io.read import RawTable, find_raw_files, read_file, read_frame
    from vip2analysis.register.measures import measure_codes, measure_file
    from vip2analysis.register.pipeline import clean_and_measure, measure_register
    from vip2analysis.register.risk import comparison_sample, course_outcomes
    from vip2analysis.stats.adjusted import AdjustedDifferences, adjusted_differences
    from vip2analysis.stats.effects import (
        ParticipationEffect,
        participation_effect,
        stack_comparison,
    )
    from vip2analysis.stats.proportions import derive_outcomes, headline, rates
    from vip2analysis.stats.register import register_sample


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'vip2analysis' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
