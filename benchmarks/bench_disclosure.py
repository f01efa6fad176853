"""How long the joint disclosure of a period's course tables takes, and how much it hides.

For every shipped period, on the processed data: seconds for ``disclose_period`` (k=5),
shown cells, primary (small) cells and secondary cells hidden. Results go to
``benchmarks/results/disclosure.json``.

Usage: ``.venv/bin/python benchmarks/bench_disclosure.py [--processed data/processed]``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from vip2analysis.contract import load_periods, select_period
from vip2analysis.io import load_processed
from vip2analysis.publish.period import disclose_period
from vip2analysis.stats import follow_up

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processed", type=Path, default=ROOT / "data" / "processed")
    args = parser.parse_args()
    courses = load_processed(args.processed).courses
    rows = []
    for period in load_periods():
        subset = follow_up(select_period(courses, period=period.name), period.data_date)
        start = time.perf_counter()
        tables = disclose_period(subset, k=5)
        seconds = time.perf_counter() - start
        reg = tables.register
        shown = [c for c in reg.cells.values() if c.shown]
        primary = sum(reg.sensitive(c) for c in shown)
        rows.append(
            {
                "period": period.name,
                "seconds": round(seconds, 2),
                "shown_cells": len(shown),
                "primary": primary,
                "secondary": sum(c.hidden for c in shown) - primary,
            }
        )
        print(rows[-1])
    out = ROOT / "benchmarks" / "results" / "disclosure.json"
    out.write_text(
        json.dumps({"benchmark": "disclosure", "k": 5, "periods": rows}, indent=2) + "\n"
    )
    print(f"results: {out}")


if __name__ == "__main__":
    main()
