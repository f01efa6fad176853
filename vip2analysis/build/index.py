"""``outputs/index.html``: every notebook x period with status and links, plus the headline
figures of each period side by side with the change from the previous period.

The headline figures are read from what each period published (its
``02_outcomes/tables/noegletal.csv``), so the index shows exactly the disclosed numbers and
markers of the period's own tables, never a second computation. The grid lists every job
of the manifest (the last state of every job, not only this run's): a job whose last run
failed keeps its previous good outputs and is marked stale.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import Any

import pandas as pd

from vip2analysis.contract.labels import load_report_text
from vip2analysis.publish.format import number, percent
from vip2analysis.publish.labels import Lang, label
from vip2analysis.publish.plot_outcomes import periods_side_by_side
from vip2analysis.publish.style import save_figure
from vip2analysis.stats.proportions import COUNT_FIGURES, HEADLINE_FIGURES

__all__ = [
    "CHART",
    "HEADLINE_TABLE",
    "index_figures",
    "write_index",
]

HEADLINE_TABLE = Path("02_outcomes") / "tables" / "noegletal.csv"
"""Where a period's published headline table is, under ``outputs/<period>/``."""

_CSS = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; margin: 2em; color: #222; max-width: 1200px; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
.synthetic { background: #fff3cd; border: 1px solid #e0c060; padding: 0.6em 1em; margin: 1em 0; }
table { border-collapse: collapse; margin: 1em 0 2em; }
th, td { border: 1px solid #ccc; padding: 0.45em 0.8em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.ok { background: #e6f4ea; } .skipped { background: #eef3fb; } .failed { background: #fde2e1; }
.stale { background: #fff0d9; }
.small { color: #555; font-size: 0.85em; }
.warn { color: #8a4b00; font-size: 0.85em; }
"""


def _value(text: str) -> Any:
    """A published cell: a number, a marker (``"<5"``, ``"x"``) or None when blank."""
    text = str(text).strip()
    if text == "":
        return None
    try:
        number_ = float(text)
    except ValueError:
        return text
    return int(number_) if number_.is_integer() else number_


def index_figures(out: Path, config: Any) -> dict[str, Any]:
    """What the index shows, read from each period's published headline table.

    Returns ``{"synthetic": bool, "k": int | None, "headline": {period: {code: value}}}``:
    counts as published, rates in percent, hidden cells as their markers, None where the
    period has no published headline table.
    """
    headline: dict[str, dict[str, Any]] = {}
    bars: dict[str, dict[str, Any]] = {}
    synthetic = False
    for period in config:
        path = out / period.name / HEADLINE_TABLE
        cells: dict[str, Any] = {code: None for code in HEADLINE_FIGURES}
        if path.is_file():
            table = pd.read_csv(path, dtype=str, keep_default_na=False).set_index("figure")
            synthetic |= bool(table.get("data", pd.Series(dtype=str)).eq("syntetiske data").any())
            for code in HEADLINE_FIGURES:
                if code not in table.index:
                    continue
                if code in COUNT_FIGURES:
                    cells[code] = _value(table.loc[code, "n"])
                else:
                    rate = _value(table.loc[code, "rate"])
                    cells[code] = 100 * rate if isinstance(rate, int | float) else rate
                    low, high = (_value(table.loc[code, c]) for c in ("conf_low", "conf_high"))
                    if isinstance(rate, int | float):
                        scaled = (
                            100 * x if isinstance(x, int | float) else None for x in (low, high)
                        )
                        bars.setdefault(period.name, {})[code] = (100 * rate, *scaled)
                    elif rate is not None:
                        bars.setdefault(period.name, {})[code] = rate
        headline[period.name] = cells
    return {"synthetic": synthetic, "headline": headline, "bars": bars}


CHART = "index_perioder.png"
"""The index's small chart of the periods side by side (beside ``index.html``)."""


def _chart_html(out: Path, figures: dict[str, Any], config: Any, lang: Lang) -> str:
    """The headline shares of the periods (not the whole project) side by side, drawn from
    what each period published, as a small image under the headline table."""
    import matplotlib.pyplot as plt

    bars = {
        p.name: figures["bars"][p.name]
        for p in config
        if p.name != "all" and p.name in figures.get("bars", {})
    }
    path = out / CHART
    if len(bars) < 2:
        path.unlink(missing_ok=True)
        return ""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    periods_side_by_side(
        bars,
        labels={name: config[name].label(lang) for name in bars},
        ax=ax,
        lang=lang,
        synthetic=figures["synthetic"],
    )
    save_figure(fig, out / path.stem, formats=("png",))
    plt.close(fig)
    alt = html.escape(label(lang, "title.periods"))
    return f"<p><img src='{CHART}' alt='{alt}' style='max-width: 640px;'></p>"


def _few_ended(cells: dict[str, Any]) -> bool:
    """Fewer than half of the period's courses had ended by its data date (or the published
    numbers cannot tell, which only happens when they are hidden)."""
    courses, ended = cells.get("courses"), cells.get("ended")
    if not isinstance(courses, int | float) or courses == 0:
        return False
    if not isinstance(ended, int | float):
        return True
    return ended < courses / 2


def _fmt(value: Any, pct: bool, lang: Lang = "da") -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, str):
        return value
    return percent(value / 100, lang, 1) if pct else number(int(value), lang)


def _change(now: Any, before: Any, pct: bool, lang: Lang) -> str:
    if not isinstance(now, int | float) or not isinstance(before, int | float):
        return ""
    diff = now - before
    if pct:
        return label(lang, "index.pp", value=number(diff, lang, 1, sign=True))
    return number(int(diff), lang, sign=True)


def _headline_html(figures: dict[str, Any], config: Any, lang: Lang) -> str:
    table = figures["headline"]
    names = list(table)
    head = "".join(
        f"<th>{html.escape(config[n].label(lang))}<br><span class='small'>{n}; "
        f"{html.escape(label(lang, 'index.data_date', date=config[n].data_date))}</span></th>"
        for n in names
    )
    rows = []
    for code in HEADLINE_FIGURES:
        pct = code not in COUNT_FIGURES
        cells, previous = [], None
        for n in names:
            value = table[n].get(code)
            few = _few_ended(table[n])
            compare = previous is not None and n != "all" and not few
            change = _change(value, previous, pct, lang) if compare else ""
            note = (
                f"<br><span class='small'>{html.escape(label(lang, 'index.change', change=change))}"
                "</span>"
                if change and code not in ("running", "ended")
                else ""
            )
            cells.append(f"<td class='num'>{html.escape(_fmt(value, pct, lang))}{note}</td>")
            if n != "all":
                previous = None if few else value
        name = html.escape(label(lang, f"headline.{code}"))
        rows.append(f"<tr><th>{name}</th>{''.join(cells)}</tr>")
    warnings = []
    for n in names:
        cells = table[n]
        if _few_ended(cells):
            text = label(
                "da",
                "index.few_ended",
                ended=_fmt(cells.get("ended"), False, lang),
                courses=_fmt(cells.get("courses"), False, lang),
                date=config[n].data_date,
            )
            warnings.append(
                f"<p class='warn'><b>{html.escape(config[n].label(lang))}:</b> {html.escape(text)}</p>"
            )
    corner = html.escape(label(lang, "index.headline_corner"))
    return f"<table><tr><th>{corner}</th>{head}</tr>{''.join(rows)}</table>" + "".join(warnings)


def _grid_html(jobs: list[dict[str, Any]], out: Path, config: Any, lang: Lang) -> str:
    periods = [p.name for p in config if any(j["period"] == p.name for j in jobs)]
    notebooks = sorted({j["notebook"] for j in jobs})
    by_id = {(j["notebook"], j["period"]): j for j in jobs}
    head = "".join(f"<th>{html.escape(config[p].label(lang))}</th>" for p in periods)
    rows = []
    for nb in notebooks:
        cells = []
        for p in periods:
            job = by_id.get((nb, p))
            cells.append(_grid_cell(job, out, lang) if job else "<td>–</td>")
        name = f"{nb[:2]} {load_report_text()[lang]['sections'].get(nb, nb)}"  # "02 Resultater ..."
        rows.append(f"<tr><th>{html.escape(name)}</th>{''.join(cells)}</tr>")
    corner = html.escape(label(lang, "index.notebook"))
    return f"<table><tr><th>{corner}</th>{head}</tr>{''.join(rows)}</table>"


def _links(job: dict[str, Any], lang: Lang) -> str:
    base = f"{job['period']}/{job['notebook']}/{job['notebook']}"
    return (
        f"<br><a href='{base}.html'>{html.escape(label(lang, 'index.report'))}</a> · "
        f"<a href='{base}.ipynb'>{html.escape(label(lang, 'index.executed'))}</a>"
    )


def _grid_cell(job: dict[str, Any], out: Path, lang: Lang) -> str:
    status = job["status"]
    kept = (out / job["period"] / job["notebook"]).is_dir()
    if status != "failed":
        text = html.escape(label(lang, f"status.{status}"))
        return (
            f"<td class='{status}'>{text} <span class='small'>({job.get('duration', 0):.1f} s)"
            f"</span>{_links(job, lang)}</td>"
        )
    css = "stale" if kept else "failed"
    text = html.escape(label(lang, "status.stale" if kept else "status.failed"))
    err = html.escape(
        label(
            "da",
            "index.cell",
            cell=job.get("cell"),
            error=job.get("error"),
            message=job.get("message"),
        )
    )
    failed_nb = job.get("executed")
    link = ""
    if failed_nb and Path(failed_nb).is_file():
        rel = Path(failed_nb).resolve().relative_to(out.resolve())
        link = f"<br><a href='{rel}'>{html.escape(label(lang, 'index.failed_notebook'))}</a>"
    return (
        f"<td class='{css}'>{text}<br><span class='small'>{err}</span>{link}"
        f"{_links(job, lang) if kept else ''}</td>"
    )


def _documents_html(out: Path, config: Any, lang: Lang) -> str:
    """Per period: links to its Word report and its workbook, where they were built."""
    names = ("rapport", "tabeller") if lang == "da" else ("report", "tables")
    items = []
    for period in config:
        links = [
            f"<a href='{period.name}/{stem}_{period.name}.{ext}'>{html.escape(label(lang, key))}</a>"
            for stem, ext, key in (
                (names[0], "docx", "index.word"),
                (names[1], "xlsx", "index.workbook"),
            )
            if (out / period.name / f"{stem}_{period.name}.{ext}").is_file()
        ]
        if links:
            items.append(f"<li><b>{html.escape(period.label(lang))}</b>: {' · '.join(links)}</li>")
    if not items:
        return ""
    return f"<h2>{html.escape(label(lang, 'index.documents'))}</h2><ul>{''.join(items)}</ul>"


def write_index(
    out: Path,
    jobs: list[dict[str, Any]],
    *,
    figures: dict[str, Any],
    config: Any,
    k: int = 5,
    lang: Lang = "da",
) -> Path:
    """Write ``out/index.html`` from every job of the manifest and :func:`index_figures`,
    in ``lang``, with each period's Word report and workbook linked under its headline."""

    def text(key: str, **fields: Any) -> str:
        return html.escape(label(lang, key, **fields))

    synthetic = (
        f"<div class='synthetic'><b>{text('index.synthetic_lead')}</b> "
        f"{text('index.synthetic')}</div>"
        if figures["synthetic"]
        else ""
    )
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    failed = sum(j["status"] == "failed" for j in jobs)
    built = text("index.built", stamp=stamp, jobs=len(jobs), failed=failed)
    body = (
        f"<h1>{text('index.heading')}</h1><p class='small'>{built} "
        "<a href='manifest.json'>manifest.json</a>.</p>"
        f"{synthetic}<h2>{text('index.headline')}</h2>"
        f"<p class='small'>{text('index.headline_note')}</p>"
        f"<p class='small'>{text('index.disclosure_note', k=k, k1=k - 1)}</p>"
        f"{_headline_html(figures, config, lang)}"
        f"{_chart_html(out, figures, config, lang)}"
        f"{_documents_html(out, config, lang)}"
        f"<h2>{text('index.notebooks')}</h2>{_grid_html(jobs, out, config, lang)}"
    )
    page = (
        f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>"
        f"<title>{text('index.title')}</title><style>{_CSS}</style></head>"
        f"<body>{body}</body></html>\n"
    )
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
