"""``outputs/index.html``: every notebook x period with status and links, plus the headline
figures of each period side by side with the change from the previous period.

The figures come from the processed data (:func:`index_figures`, JSON-ready so the build can
keep them in its manifest and skip reloading the data when nothing changed); the page itself
is written by :func:`write_index`."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import Any

import pandas as pd

from vip2analysis.contract.periods import select_period
from vip2analysis.io.processed import load_processed
from vip2analysis.publish.format import number
from vip2analysis.publish.labels import label
from vip2analysis.stats.proportions import follow_up, headline, headline_rows

__all__ = [
    "headline_by_period",
    "index_figures",
    "write_index",
]

_CSS = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; margin: 2em; color: #222; max-width: 1200px; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
.synthetic { background: #fff3cd; border: 1px solid #e0c060; padding: 0.6em 1em; margin: 1em 0; }
table { border-collapse: collapse; margin: 1em 0 2em; }
th, td { border: 1px solid #ccc; padding: 0.45em 0.8em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.ok { background: #e6f4ea; } .skipped { background: #eef3fb; } .failed { background: #fde2e1; }
.small { color: #555; font-size: 0.85em; }
"""


def headline_by_period(courses: pd.DataFrame, config: Any, *, k: int = 5) -> pd.DataFrame:
    """Headline figures per period (rows: figures, columns: periods), small cells hidden."""
    return pd.DataFrame(_headline_columns(courses, config, k))


def _headline_columns(courses: pd.DataFrame, config: Any, k: int) -> dict[str, dict[str, Any]]:
    cols = {}
    for period in config:
        subset = select_period(courses, period=period.name, config=config)
        h = headline(follow_up(subset, period.data_date)) if len(subset) else None
        cols[period.name] = _headline_cells(h, k)
    return cols


def index_figures(processed: Path, config: Any, *, k: int = 5) -> dict[str, Any]:
    """What the index shows from ``processed``, as plain JSON types: whether the data are
    synthetic, and the headline figures (period -> figure -> value, small cells hidden)."""

    data = load_processed(processed)
    return {"synthetic": data.synthetic, "headline": _headline_columns(data.courses, config, k)}


def _headline_cells(h: pd.DataFrame | None, k: int) -> dict[str, Any]:
    """Headline code -> value (percent for the rates), small cells as ``"<k"``."""
    if h is None:
        return {"courses": 0, "ordinary_all": None, "employed_completed": None}
    rows = headline_rows(h)
    n = int(rows.loc["courses", "numerator"])
    out: dict[str, Any] = {"courses": n if n >= k else f"<{k}"}
    for code in ("ordinary_all", "employed_completed"):
        num, den = int(rows.loc[code, "numerator"]), int(rows.loc[code, "denominator"])
        small = num < k or den - num < k
        out[code] = None if den == 0 else (f"<{k}" if small else 100 * num / den)
    return out


def _fmt(value: Any, pct: bool) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, str):
        return value
    return f"{number(value, 'da', 1)} %" if pct else number(int(value), "da")


def _change(now: Any, before: Any, pct: bool) -> str:
    if not isinstance(now, int | float) or not isinstance(before, int | float):
        return ""
    diff = now - before
    if pct:
        return label("da", "index.pp", value=number(diff, "da", 1, sign=True))
    return number(int(diff), "da", sign=True)


def _headline_html(table: pd.DataFrame, config: Any) -> str:
    names = list(table.columns)
    head = "".join(
        f"<th>{html.escape(config[n].label_da)}<br><span class='small'>{n}</span></th>"
        for n in names
    )
    rows = []
    for code, values in table.iterrows():
        pct = code != "courses"
        cells, previous = [], None
        for n in names:
            value = values[n]
            change = _change(value, previous, pct) if previous is not None and n != "all" else ""
            note = (
                f"<br><span class='small'>{html.escape(label('da', 'index.change', change=change))}"
                "</span>"
                if change
                else ""
            )
            cells.append(f"<td class='num'>{html.escape(_fmt(value, pct))}{note}</td>")
            previous = value if n != "all" else previous
        name = html.escape(label("da", f"headline.{code}"))
        rows.append(f"<tr><th>{name}</th>{''.join(cells)}</tr>")
    corner = html.escape(label("da", "index.headline_corner"))
    return f"<table><tr><th>{corner}</th>{head}</tr>{''.join(rows)}</table>"


def _grid_html(results: list[Any], out: Path, config: Any) -> str:
    periods = [p.name for p in config if any(r.period == p.name for r in results)]
    notebooks = sorted({r.notebook for r in results})
    by_id = {(r.notebook, r.period): r for r in results}
    head = "".join(f"<th>{html.escape(config[p].label_da)}</th>" for p in periods)
    rows = []
    for nb in notebooks:
        cells = []
        for p in periods:
            r = by_id.get((nb, p))
            cells.append(_grid_cell(r, out) if r else "<td>–</td>")
        rows.append(f"<tr><th>{html.escape(nb)}</th>{''.join(cells)}</tr>")
    corner = html.escape(label("da", "index.notebook"))
    return f"<table><tr><th>{corner}</th>{head}</tr>{''.join(rows)}</table>"


def _grid_cell(r: Any, out: Path) -> str:
    status = html.escape(label("da", f"status.{r.status}"))
    if r.status != "failed":
        base = f"{r.period}/{r.notebook}/{r.notebook}"
        links = (
            f"<br><a href='{base}.html'>{html.escape(label('da', 'index.report'))}</a> · "
            f"<a href='{base}.ipynb'>{html.escape(label('da', 'index.executed'))}</a>"
        )
    else:
        failed = Path(r.executed).relative_to(out) if r.executed else None
        err = html.escape(label("da", "index.cell", cell=r.cell, error=r.error, message=r.message))
        kept = html.escape(label("da", "index.failed_notebook"))
        links = f"<br><span class='small'>{err}</span>" + (
            f"<br><a href='{failed}'>{kept}</a>" if failed else ""
        )
    return f"<td class='{r.status}'>{status} <span class='small'>({r.duration:.1f} s)</span>{links}</td>"


def write_index(out: Path, results: list[Any], *, figures: dict[str, Any], config: Any) -> Path:
    """Write ``out/index.html`` from the job results and :func:`index_figures`; return its path."""

    def text(key: str, **fields: Any) -> str:
        return html.escape(label("da", key, **fields))

    synthetic = (
        f"<div class='synthetic'><b>{text('index.synthetic_lead')}</b> "
        f"{text('index.synthetic')}</div>"
        if figures["synthetic"]
        else ""
    )
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    failed = sum(r.status == "failed" for r in results)
    built = text("index.built", stamp=stamp, jobs=len(results), failed=failed)
    body = (
        f"<h1>{text('index.heading')}</h1><p class='small'>{built} "
        "<a href='manifest.json'>manifest.json</a>.</p>"
        f"{synthetic}<h2>{text('index.headline')}</h2>"
        f"<p class='small'>{text('index.headline_note')}</p>"
        f"{_headline_html(pd.DataFrame(figures['headline']), config)}"
        f"<h2>{text('index.notebooks')}</h2>{_grid_html(results, out, config)}"
    )
    page = (
        "<!doctype html><html lang='da'><head><meta charset='utf-8'>"
        f"<title>{text('index.title')}</title><style>{_CSS}</style></head>"
        f"<body>{body}</body></html>\n"
    )
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
