"""The calibrated synthetic VIP2 data set and its messy raw rendering. Uses only the contract
and io rooms.
"""

from __future__ import annotations

from vip2analysis.synth.faults import LARGE_FAULT_RATE
from vip2analysis.synth.large import write_large
from vip2analysis.synth.model import (
    ASSUMED_SHARES,
    CALIBRATION,
    MODEL,
    calibration_counts,
    true_att,
)
from vip2analysis.synth.people import COUNTRIES
from vip2analysis.synth.write import SynthResult, make_synthetic, write_synthetic

__all__ = [
    "ASSUMED_SHARES",
    "CALIBRATION",
    "COUNTRIES",
    "LARGE_FAULT_RATE",
    "MODEL",
    "SynthResult",
    "calibration_counts",
    "make_synthetic",
    "true_att",
    "write_large",
    "write_synthetic",
]
