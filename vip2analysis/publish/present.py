"""Published tables as people read them: labels, headers and numbers in one language.

The last step of the one publishing path (results -> disclosure -> labels -> formatting).
It changes how a disclosed table looks, never what it shows: a disclosure mark ('<5',
'x') passes through as it is, and no row or column that a table hides comes back.

- :func:`people_table`: a published table with headers from ``columns.yaml``, codes as
  their labels, counts with a thousands separator, shares as "38,0 %", differences in
  percentage points, p-values as "<0,001", and an estimate with its interval in one cell
  ("38,0 % (32,8–43,5)").
- :func:`model_table`: a model's tidy rows side by side per procedure, in the layout of an
  ``esttab`` / ``modelsummary`` table, with N.
- :func:`table_html`: either as an HTML table (pandas Styler: no index, a caption with the
  title, the source and the disclosure marks).

The CSV files keep the machine names and codes (see :func:`data_dictionary`).
"""

from __future__ import annotations

import hashlib
import html
import re
from typing import Any

import numpy as np
import pandas as pd

from vip2analysis.contract.labels import load_columns
from vip2analysis.publish.format import number, percent
from vip2analysis.publish.labels import LABELS, Lang, display_name, label
from vip2analysis.stats.tidy import inference_code

__all__ = [
    "EFFECT_ESTIMATES",
    "cell_text",
    "column_header",
    "data_dictionary",
    "has_marks",
    "is_mark",
    "looks_numeric",
    "model_note",
    "model_table",
    "people_table",
    "result_html",
    "table_caption",
    "table_html",
    "table_note",
    "table_source",
    "table_title",
    "term_text",
    "with_reference",
]


_MARKS = re.compile(r"^(<\d+|x|)$")
"""A disclosure mark ('<5', 'x') or an empty cell: shown as it is."""

_INTERVALS = {"rate": "share", "estimate": "pp"}
"""Columns that carry a 95 % interval in ``conf_low``/``conf_high`` (and its kind)."""

_PER_YEAR = frozenset({"age_at_start", "age", "years_without_activation"})
"""Numeric model terms whose coefficient is per year."""

_COMMON_NOUNS = frozenset({"sex", "origin_group", "residence_basis", "status", "outcome"})
"""Variables whose levels are common nouns: lower case after "vs."."""

_QUARTER = re.compile(r"^(\d{4})[KQ]([1-4])$")
_SUBGROUP = re.compile(r"^ATT\[(?P<col>[^=\]]+)=(?P<level>.*)\]$")
_LEVEL = re.compile(r"^(?P<col>[a-z_]+)\[(?P<level>.*)\]$")


def _is_mark(value: Any) -> bool:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return True
    return isinstance(value, str) and bool(_MARKS.match(value.strip()))


def _number(value: Any) -> float | None:
    """A numeric cell as a float (also from the text of a CSV), else None."""
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def column_header(name: str, lang: Lang) -> str:
    """The header of a published column ('rate' -> 'Andel'); unknown names stay as they are."""
    spec = load_columns().get(name)
    return spec[lang] if spec else name


def term_text(term: str, lang: Lang, reference: Any = None, *, per_unit: bool = True) -> str:
    """A model term as a reader says it (``per_unit``: a numeric term with its unit).

    >>> term_text("ATT", "da"), term_text("ATT[sex=F]", "da")
    ('Alle deltagere (ATT)', 'Kvinder')
    >>> term_text("sex[M]", "da", reference="F"), term_text("duration_band[5+]", "en", "<1")
    ('Mænd vs. kvinder', '5+ years vs. <1 year')
    >>> term_text("age_at_start", "da")
    'Alder ved start (pr. år)'
    """
    if term == "ATT":
        return label(lang, "term.ATT")
    if m := _SUBGROUP.match(term):
        return display_name(m["level"], variable=m["col"], lang=lang)
    if m := _LEVEL.match(term):
        level = _levels_text(m["level"], m["col"], lang)
        if (
            reference is None
            or (isinstance(reference, float) and np.isnan(reference))
            or reference == ""
        ):
            variable = label(lang, "var." + m["col"])
            return f"{variable}: {level}"
        ref = _levels_text(str(reference), m["col"], lang)
        if m["col"] in _COMMON_NOUNS:  # "Mænd vs. kvinder", but "Asien vs. Afrika ..."
            ref = ref[:1].lower() + ref[1:]
        return label(lang, "term.vs", level=level, reference=ref)
    name = LABELS[lang].get(f"var.{term}")
    if name and per_unit and term in _PER_YEAR:
        return label(lang, "term.per_year", name=name)
    return name or term


def _code_text(value: Any, prefix: str, lang: Lang) -> str:
    # a code column holds no disclosure marks: '<1' is a duration band, not a mark
    if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
        return ""
    text = str(value)
    if prefix == "quarter" and (m := _QUARTER.match(text)):
        return label(lang, "period.Q", year=m[1], quarter=m[2])
    if prefix == "term":
        return term_text(text, lang)
    if prefix == "var" and (m := _LEVEL.match(text)):  # a covariate's level: 'sex[M]'
        return term_text(text, lang)
    if prefix == "legend" and text in ("participants", "comparison"):
        return label(lang, f"legend.{text}")
    if prefix == "headline" and f"headline.{text}" not in LABELS[lang]:
        prefix = "reconcile"  # the report's figures in the reconciliation table
    return display_name(text, variable=prefix, lang=lang)


def cell_text(value: Any, kind: str, lang: Lang, *, prefix: str = "") -> str:
    """One published cell as text in ``lang``; a disclosure mark passes through.

    >>> cell_text(0.38, "share", "da"), cell_text(2330, "count", "da"), cell_text("<5", "count", "da")
    ('38,0 %', '2.330', '<5')
    >>> cell_text(0.0004, "p_value", "da"), cell_text(0.0123, "p_value", "en")
    ('<0,001', '0.012')
    >>> cell_text(-0.0321, "pp", "da"), cell_text("F", "code", "en", prefix="sex")
    ('−3,2', 'Women')
    """
    if kind in ("code", "text", "date"):
        if kind == "code":
            return _code_text(value, prefix, lang)
        return "" if _is_mark(value) and not isinstance(value, str) else str(value)
    if _is_mark(value):
        return value.strip() if isinstance(value, str) else ""
    x = _number(value)
    if x is None:
        return str(value)
    if kind == "share":
        return percent(x, lang, 1)
    if kind == "pp":
        return number(100 * x, lang, 1)
    if kind == "p_value":
        return ("<" + number(0.001, lang, 3)) if x < 0.001 else number(x, lang, 3)
    if kind in ("count", "days") or (kind == "number" and x.is_integer()):
        return number(x, lang, 0)
    return number(x, lang, 2)


def _interval(est: Any, low: Any, high: Any, kind: str, lang: Lang) -> str:
    """'38,0 % (32,8–43,5)'; a mark or a missing bound leaves the estimate alone."""
    shown = cell_text(est, kind, lang)
    if _is_mark(est) or _is_mark(low) or _is_mark(high):
        return shown
    lo, hi = _number(low), _number(high)
    if lo is None or hi is None:
        return shown
    scale = 100.0
    lo_t, hi_t = number(scale * lo, lang, 1), number(scale * hi, lang, 1)
    if lo < 0 or hi < 0:  # a dash between negative numbers reads as a minus
        return f"{shown} ({lo_t} {'til' if lang == 'da' else 'to'} {hi_t})"
    return label(lang, "table.interval", estimate=shown, low=lo_t, high=hi_t)


def people_table(frame: pd.DataFrame, *, lang: Lang = "da", intervals: bool = True) -> pd.DataFrame:
    """A published table as a reader gets it: every cell text in ``lang``.

    Headers come from ``columns.yaml``, codes from the label data; the ``data`` column
    ('syntetiske data' on every row) goes, since the caption says it; with ``intervals``
    an estimate and its ``conf_low``/``conf_high`` become one cell. A model term is named
    against its ``reference`` level when the table has one. Disclosure marks stay.

    >>> t = pd.DataFrame({"sex": ["F", "M"], "n": [2330, "<5"], "rate": [0.38, "<5"],
    ...                   "conf_low": [0.328, "<5"], "conf_high": [0.435, "<5"]})
    >>> people_table(t).to_dict("records")[0]
    {'Køn': 'Kvinder', 'Antal': '2.330', 'Andel (95 %-KI)': '38,0 % (32,8–43,5)'}
    """
    columns = load_columns()
    out: dict[str, list[str]] = {}
    if "inference" in frame and frame["inference"].nunique(dropna=False) == 1 and len(frame) > 1:
        frame = frame.drop(columns="inference")  # one procedure: said once (table_note)
    has_interval = intervals and {"conf_low", "conf_high"} <= set(frame.columns)
    references = frame.get("reference")
    for name in frame.columns:
        if name in ("data", "reference") or (has_interval and name in ("conf_low", "conf_high")):
            continue
        spec = columns.get(name, {"kind": "text", "label": name, lang: name})
        kind, prefix = spec["kind"], spec["label"]
        values = frame[name].tolist()
        if has_interval and name in _INTERVALS:
            header = label(lang, "table.ci_header", header=spec[lang])
            texts = [
                _interval(v, lo, hi, kind, lang)
                for v, lo, hi in zip(values, frame["conf_low"], frame["conf_high"], strict=True)
            ]
        elif name == "term" and references is not None:
            header = spec[lang]
            texts = [term_text(str(t), lang, r) for t, r in zip(values, references, strict=True)]
        else:
            header = spec[lang]
            texts = [cell_text(v, kind, lang, prefix=prefix) for v in values]
        if header in out:  # two columns with one header: keep both, told apart
            header = f"{header} ({name})"
        out[header] = texts
    return pd.DataFrame(out)


_PROCEDURES = (
    ("logit_ame", "model.ame", "model.p_delta"),
    ("lpm_hc3", "model.lpm", "model.p_hc3"),
)


def model_table(tidy: pd.DataFrame, *, lang: Lang = "da") -> pd.DataFrame:
    """A model's tidy rows as an evaluator reads a regression table (``esttab`` layout):
    one row per term, per procedure the estimate with its 95 % interval and its p-value,
    the wild cluster bootstrap p-value beside the linear model's, and N at the foot.

    ``tidy`` is a published model table (``publish_model_table``): its ``inference``
    names the procedure of each row, ``n`` is shown once.
    """
    codes = tidy["inference"].map(inference_code)
    terms = list(dict.fromkeys(tidy["term"]))
    references = (
        tidy.drop_duplicates("term").set_index("term")["reference"]
        if "reference" in tidy
        else pd.Series(dtype=object)
    )
    rows = []
    for term in terms:
        row = {
            column_header("term", lang): term_text(str(term), lang, references.get(term)),
        }
        for code, header, p_header in _PROCEDURES:
            hit = tidy.loc[codes.eq(code) & tidy["term"].eq(term)]
            if hit.empty:
                continue
            r = hit.iloc[0]
            row[label(lang, header)] = _interval(
                r["estimate"], r["conf_low"], r["conf_high"], "pp", lang
            )
            row[label(lang, p_header)] = cell_text(r["p_value"], "p_value", lang)
        boot = tidy.loc[codes.eq("wild_bootstrap") & tidy["term"].eq(term)]
        if not boot.empty:
            row[label(lang, "model.p_boot")] = cell_text(boot.iloc[0]["p_value"], "p_value", lang)
        rows.append(row)
    out = pd.DataFrame(rows)
    n = tidy["n"].iloc[0] if "n" in tidy and len(tidy) else ""
    foot = {c: "" for c in out.columns}
    foot[out.columns[0]] = label(lang, "table.n_row")
    if len(out.columns) > 1:
        foot[out.columns[1]] = cell_text(n, "count", lang)
    return pd.concat([out, pd.DataFrame([foot])], ignore_index=True)


def table_title(name: str, lang: Lang) -> str:
    """The title of the published table (or figure) ``name`` ('noegletal' -> 'Nøgletal')."""
    return LABELS[lang].get(f"table.{name}", name)


def table_source(lang: Lang, *, synthetic: bool) -> str:
    """'Kilde: ..., egne beregninger' (and '; syntetiske data' when they are)."""
    return label(lang, "table.source_synthetic" if synthetic else "table.source")


def table_caption(name: str, lang: Lang, *, synthetic: bool) -> str:
    """'<title>. Kilde: ..., egne beregninger; syntetiske data.'"""
    return f"{table_title(name, lang)}. {table_source(lang, synthetic=synthetic)}."


def table_note(frame: pd.DataFrame, lang: Lang) -> str:
    """What a people's table leaves to its note: the one inference procedure of all rows."""
    if "inference" in frame and frame["inference"].nunique(dropna=False) == 1 and len(frame) > 1:
        method = cell_text(frame["inference"].iloc[0], "code", lang, prefix="inference")
        return f"{column_header('inference', lang)}: {method}."
    return ""


def table_html(frame: pd.DataFrame, *, caption: str, note: str = "") -> str:
    """A people's table (:func:`people_table`) as HTML: no index, the caption above,
    text left and numbers right, ``note`` (what the marks mean) below.

    Rendered with a pandas Styler: the table stays plain HTML that nbconvert, the index
    page and a browser show alike, with no JavaScript or CSS framework to ship
    (great_tables would add both for the same result).
    """
    # cells are text, and '<5' or '<1 år' must show as such: escape them
    styler = frame.style.format(escape="html").hide(axis="index")
    # a fixed id from the content (Styler's default is random): same table, same bytes
    content = caption + frame.to_csv(index=False)
    styler = styler.set_uuid(hashlib.sha256(content.encode("utf-8")).hexdigest()[:10])
    styler = styler.set_caption(html.escape(caption))
    right = [c for c in frame.columns if looks_numeric(frame[c])]
    styler = styler.set_table_styles(
        [
            {
                "selector": "caption",
                "props": "caption-side: top; text-align: left; "
                "font-weight: bold; padding-bottom: 0.4em;",
            },
            {
                "selector": "th",
                "props": "text-align: left; border-bottom: 1px solid #444; "
                "padding: 0.2em 0.6em; vertical-align: bottom;",
            },
            {"selector": "td", "props": "padding: 0.2em 0.6em;"},
        ]
    )
    left = [c for c in frame.columns if c not in right]
    if right:
        styler = styler.set_properties(
            subset=right, **{"text-align": "right", "white-space": "nowrap"}
        )
    if left:
        styler = styler.set_properties(subset=left, **{"text-align": "left"})
    body = str(styler.to_html(doctype_html=False))
    if note:
        body += f'<p style="font-size: 85%; margin-top: 0.3em;">{html.escape(note)}</p>'
    return body


def looks_numeric(texts: pd.Series) -> bool:
    """A column of formatted numbers (digits, separators, %, marks)."""
    values = [t for t in texts.astype(str) if t and not _MARKS.match(t)]
    return bool(values) and all(re.match(r"^[<−\-]?[\d.,]+", v) for v in values)


def data_dictionary(lang: Lang = "en") -> str:
    """The data dictionary of the published CSV files, as Markdown."""
    lines = [
        "# Published tables: data dictionary",
        "",
        "Every table a report shows is also written as `<notebook>/tables/<name>.csv`: UTF-8",
        "with a byte-order mark (so that Excel opens it with the right letters), comma-separated,",
        "decimal point, one header row of the stable snake_case names below, codes (not labels)",
        "as values. Shares are on a 0-1 scale. A cell the disclosure rule hides holds a mark",
        "instead of a number: '<k' (1 to k-1 persons, or 0 where a 0 would show everyone's",
        "outcome) or 'x' (hidden to protect another cell). `<name>.cells.json` beside each",
        "table maps its cells for `vip2 audit`. The reports, the workbook and the Word report",
        "show the same tables with labels and number formats.",
        "",
        "| column | kind | header (da) | header (en) | meaning |",
        "|---|---|---|---|---|",
    ]
    for name, spec in sorted(load_columns().items()):
        lines.append(
            f"| `{name}` | {spec['kind']} | {spec['da']} | {spec['en']} | {spec['about']} |"
        )
    return "\n".join(lines) + "\n"


_NOTE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "fallback",
        re.compile(
            r"^adjusted_differences: term '(?P<term>[^']*)', level '(?P<level>[^']*)' "
            r"\((?P<reason>[^)]*)\): (?P<action>.*?)\. See `\.fallbacks`\.$"
        ),
    ),
    (
        "separation",
        re.compile(r"^adjusted_differences: possible separation in the logit for (?P<cols>.*?);"),
    ),
    (
        "no_variation",
        re.compile(
            r"^participation_effect: covariate columns without variation are dropped: (?P<cols>.*)$"
        ),
    ),
    ("trimmed", re.compile(r"^participation_effect: some participants are excluded by trimming")),
    ("no_convergence", re.compile(r"^participation_effect: the propensity logit did not converge")),
    (
        "empty_group",
        re.compile(r"^participation_effect: (?P<term>\S+) has no participants or no comparison"),
    ),
    ("extreme_weights", re.compile(r"^participation_effect: extreme weights \((?P<rule>.*)\)\.$")),
    ("ml_convergence", re.compile(r"^Maximum Likelihood optimization failed to converge")),
    ("rank_deficient", re.compile(r"^The design matrix is rank-deficient")),
    (
        "separation_detected",
        re.compile(r"^Perfect separation|^Quasi-complete separation|.*separation"),
    ),
    ("numeric", re.compile(r"^(overflow|divide by zero|invalid value) encountered")),
)
_ACTIONS = (
    (re.compile(r"^merged with '(?P<a>[^']*)' into '(?P<b>[^']*)'$"), "merged"),
    (re.compile(r"^term dropped from both models$"), "dropped"),
    (re.compile(r"^pooled into 'other'$"), "pooled"),
    (re.compile(r"^flagged: use the LPM rows for this term$"), "flagged"),
)


def _levels_text(level: str, variable: str, lang: Lang) -> str:
    """A level by its label; levels a model merged ("1-2|2-5") joined by a slash."""
    return "/".join(display_name(v, variable=variable, lang=lang) for v in level.split("|"))


def model_note(text: str, lang: Lang = "da") -> str:
    """A model's warning as a reader of the report reads it: in ``lang``, variables and
    levels by their labels (the library warns in English; the report need not).

    >>> model_note("adjusted_differences: term 'sex', level 'M' (too small or too uniform "
    ...            "to estimate): merged with 'F' into 'F|M'. See `.fallbacks`.")
    'Køn, Mænd (for lille eller for ensartet til at estimere): lagt sammen med Kvinder til Kvinder/Mænd.'
    """
    for kind, pattern in _NOTE_PATTERNS:
        m = pattern.match(text)
        if not m:
            continue
        if kind == "fallback":
            term, level = m["term"], m["level"]
            reason = LABELS[lang].get(f"note.reason.{m['reason']}", m["reason"])
            action = m["action"]
            for action_pattern, code in _ACTIONS:
                if am := action_pattern.match(action):
                    fields = {k: _levels_text(v, term, lang) for k, v in am.groupdict().items()}
                    action = label(lang, f"note.action.{code}", **fields)
                    break
            variable = LABELS[lang].get(f"var.{term}", term)
            where = f"{variable}, {_levels_text(level, term, lang)}" if level else variable
            return f"{where} ({reason}): {action}."
        fields = {k: term_text(v, lang) if k == "term" else v for k, v in m.groupdict().items()}
        return label(lang, f"note.{kind}", **fields)
    # a warning this table does not know: said without its English text in a Danish report
    return text if lang == "en" else label(lang, "note.technical")


EFFECT_ESTIMATES: tuple[str, ...] = (
    "mean_treated",
    "mean_counterfactual",
    "estimate",
    "conf_low",
    "conf_high",
    "p_value",
)
"""The estimates of an effect row (hidden together when its cells are)."""


def result_html(result: Any, lang: Lang = "da") -> str:
    """An estimation result as a notebook shows it (registered by ``notebook.start`` as
    the HTML of :class:`~vip2analysis.stats.adjusted.AdjustedDifferences` and
    :class:`~vip2analysis.stats.effects.ParticipationEffect`): in ``lang``, as the
    reports show it. No counts of subgroups: a raw result is not disclosed, so it shows
    estimates only, and the model's N. ``summary()`` stays the plain-text view.
    """
    tidy = result.tidy()
    if hasattr(result, "lpm_result"):  # adjusted differences
        caption = table_title("justerede_forskelle", lang)
        shown = model_table(with_reference(tidy, result.reference), lang=lang)
        return table_html(shown, caption=caption)
    estimates = tidy[[c for c in ("term", *EFFECT_ESTIMATES) if c in tidy]]
    caption = table_title("effekt_deltagelse", lang)
    return table_html(
        people_table(estimates, lang=lang), caption=caption, note=table_note(tidy, lang)
    )


def with_reference(tidy: pd.DataFrame, reference: dict[str, str]) -> pd.DataFrame:
    """``tidy`` with a ``reference`` column after ``term``: each categorical term's
    reference level (``{"sex": "F"}`` -> "F" on the row "sex[M]"), "" elsewhere."""
    out = tidy.copy()
    variables = out["term"].astype(str).str.extract(r"^([^\[]+)\[", expand=False)
    out.insert(1, "reference", variables.map(reference).fillna(""))
    return out


def is_mark(value: Any) -> bool:
    """True for a disclosure mark: 'x' or '<k' (not an empty cell, not a label '<1 år')."""
    return isinstance(value, str) and re.fullmatch(r"x|<\d+", value.strip()) is not None


def has_marks(frame: pd.DataFrame) -> bool:
    """True when a published table's number columns hold a disclosure mark."""
    kinds = load_columns()
    numeric = [
        c
        for c in frame.columns
        if kinds.get(c, {}).get("kind", "text") not in ("code", "text", "date")
    ]
    return any(is_mark(v) for c in numeric for v in frame[c])
