"""Reports an evaluator can hand over (issue 11): Danish tables, the workbook, the CSV
files for machines, the lab's own output folder and the English report beside the Danish.

The people's tables are checked against hand-written expectations (the Danish number
style is the reference); the built reports are read back as a reader opens them: the
executed notebooks' outputs, the workbook with openpyxl, the CSV files with pandas.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from vip2analysis.build import build
from vip2analysis.publish import (
    data_dictionary,
    model_table,
    people_table,
    table_html,
    term_text,
)
from vip2analysis.publish.report import LONG_TABLE_ROWS

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

# English machine names and codes that must not reach a Danish reader
FORBIDDEN_IN_DANISH = (
    "estimate",
    "conf_low",
    "conf_high",
    "std_error",
    "denominator_rule",
    "ordinary_employment",
    "still_on_benefit",
    "suppressed",
    "events",
    "Reference levels",
    "Outcome:",
    "ended courses",
    "completed courses",
    "participants",
    "syntetiske data |",
    "True",
    "False",
    "NaN",
    "None",
)


# Danish words that must not reach an English reader
DANISH_IN_ENGLISH = (
    "Nøgletal",
    "Antal",
    "Andel",
    "Kvinder",
    "Mænd",
    "Afgang",
    "Kilde",
    "Periode",
    "forløb",
    "Bemærk",
    "Syntetiske",
    "syntetiske",
    "og",
    "ikke",
    "Ordinær",
)


# --- the people's tables --------------------------------------------------------------


def test_numbers_are_written_the_danish_way():
    table = pd.DataFrame(
        {
            "figure": ["courses", "ordinary_all"],
            "n": [2330, 313],
            "events": ["", 119],
            "rate": ["", 0.380192],
            "conf_low": ["", 0.328173],
            "conf_high": ["", 0.435115],
            "denominator_rule": ["", "ended courses"],
            "data": "syntetiske data",
        }
    )
    shown = people_table(table)
    assert list(shown.columns) == ["Nøgletal", "Antal", "Med udfaldet", "Andel (95 %-KI)", "Nævner"]
    assert shown.iloc[0].tolist() == ["Forløb", "2.330", "", "", ""]
    assert shown.iloc[1].tolist() == [
        "Ordinær beskæftigelse / forløb med kendt udfald",
        "313",
        "119",
        "38,0 % (32,8–43,5)",
        "Forløb med kendt udfald",
    ]
    english = people_table(table, lang="en")
    assert english.iloc[1].tolist()[1:4] == ["313", "119", "38.0% (32.8–43.5)"]


def test_marks_pass_through_and_p_values_are_floored():
    table = pd.DataFrame(
        {
            "term": ["ATT", "ATT[sex=M]"],
            "n_treated": [313, "<5"],
            "estimate": [0.0321, "<5"],
            "conf_low": [-0.01, "<5"],
            "conf_high": [0.07, "<5"],
            "p_value": [0.0004, "<5"],
        }
    )
    shown = people_table(table)
    assert shown.iloc[0].tolist() == ["Alle deltagere (ATT)", "313", "3,2 (−1,0 til 7,0)", "<0,001"]
    assert shown.iloc[1].tolist() == ["Mænd", "<5", "<5", "<5"]
    page = table_html(shown, caption="T")
    assert "&lt;5" in page and "&lt;0,001" in page  # escaped: a browser shows '<5'


def test_model_terms_name_their_reference_level():
    assert term_text("sex[M]", "da", "F") == "Mænd vs. kvinder"
    assert term_text("duration_band[5+]", "da", "<1") == "5+ år vs. <1 år"
    assert term_text("origin_region[Asien]", "da", "Afrika syd for Sahara") == (
        "Asien vs. Afrika syd for Sahara"
    )
    assert term_text("sex[M]", "en", "F") == "Men vs. women"


def test_a_model_table_puts_procedures_side_by_side_with_n():
    rows = []
    for inference, est in (("delta method (logit AME)", 0.05), ("HC3", 0.04)):
        rows.append(
            {
                "term": "sex[M]",
                "reference": "F",
                "estimate": est,
                "std_error": 0.02,
                "conf_low": est - 0.04,
                "conf_high": est + 0.04,
                "p_value": 0.012,
                "n": 313,
                "inference": inference,
            }
        )
    boot = dict(rows[1], inference="wild cluster bootstrap (Webb, 5 clusters), p-value only")
    boot.update(estimate=0.04, conf_low=None, conf_high=None, p_value=0.2)
    shown = model_table(pd.DataFrame([*rows, boot]))
    assert shown.iloc[0].tolist() == [
        "Mænd vs. kvinder",
        "5,0 (1,0–9,0)",
        "0,012",
        "4,0 (0,0–8,0)",
        "0,012",
        "0,200",
    ]
    assert shown.iloc[-1].tolist()[:2] == ["Antal observationer (N)", "313"]


def test_the_data_dictionary_names_every_published_column():
    text = data_dictionary()
    for column in ("rate", "conf_low", "denominator_rule", "n_treated", "p_value", "term"):
        assert f"| `{column}` |" in text
    assert "byte-order mark" in text


# --- a built period, as a reader opens it ---------------------------------------------


@pytest.fixture(scope="module")
def method_report(tmp_path_factory, processed_dir):
    out = tmp_path_factory.mktemp("outputs")
    result = build(
        notebooks_dir=NOTEBOOKS, processed=processed_dir, out=out, periods=["method"], workers=2
    )
    assert [j.status for j in result.jobs] == ["ok"] * 5, [(j.id, j.message) for j in result.jobs]
    return out


def _shown_text(notebook: Path) -> str:
    """What a reader of the report sees: every output, without markup or style."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    parts = []
    for cell in cells:
        if cell["cell_type"] == "markdown":
            parts.append("".join(cell["source"]))
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            text = "".join(data.get("text/html", data.get("text/markdown", out.get("text", ""))))
            text = re.sub(r"<style.*?</style>", " ", text, flags=re.S)
            parts.append(html.unescape(re.sub(r"<[^>]+>", " | ", text)))
    return "\n".join(parts)


@pytest.mark.slow
def test_no_english_code_or_header_reaches_a_danish_report(method_report):
    for notebook in sorted((method_report / "method").glob("*/*.ipynb")):
        text = _shown_text(notebook)
        found = [w for w in FORBIDDEN_IN_DANISH if re.search(rf"(?<![\w_]){re.escape(w)}", text)]
        assert found == [], f"{notebook.name}: {found}"
    wb = load_workbook(method_report / "method" / "tabeller_method.xlsx")
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            for value in row:
                if isinstance(value, str):
                    bad = [w for w in FORBIDDEN_IN_DANISH if w in value]
                    assert bad == [], f"{ws.title}: {value!r}"


@pytest.mark.slow
def test_the_headline_shows_313_119_and_38_0_percent_everywhere(method_report):
    report = _shown_text(method_report / "method/02_outcomes/02_outcomes.ipynb")
    assert "| 313 |" in report and "| 119 |" in report and "38,0 % (32,8–43,5)" in report
    index = (method_report / "index.html").read_text(encoding="utf-8")
    assert "313" in index and "38,0 %" in index
    wb = load_workbook(method_report / "method" / "tabeller_method.xlsx")
    ws = next(wb[n] for n in wb.sheetnames if n.endswith("Nøgletal"))
    rows = {r[0]: r for r in ws.iter_rows(min_row=6, values_only=True)}
    ordinary = rows["Ordinær beskæftigelse / forløb med kendt udfald"]
    assert ordinary[1:3] == (313, 119) and round(ordinary[3], 3) == 0.380
    cell = next(c for row in ws.iter_rows(min_row=6) for c in row if c.value == ordinary[3])
    assert cell.number_format == "0.0%"  # Excel shows 38,0 % in a Danish Excel


@pytest.mark.slow
def test_the_workbook_is_made_for_excel(method_report):
    wb = load_workbook(method_report / "method" / "tabeller_method.xlsx")
    contents, sheets = wb.worksheets[0], wb.worksheets[1:]
    assert contents.title == "Indhold" and len(sheets) >= 20
    links = [c.hyperlink.location for c in contents["B"] if c.hyperlink]
    assert links == [f"'{ws.title}'!A1" for ws in sheets]
    for ws in sheets:
        assert len(ws.title) <= 31
        assert ws["A1"].value and ws["A1"].font.bold
        assert ws["A2"].value.startswith("Kilde:") and "syntetiske data" in ws["A2"].value
        assert ws.freeze_panes == "A6" and ws.auto_filter.ref.startswith("A5:")
        assert all(ws.column_dimensions[c].width for c in "A")
        for row in ws.iter_rows(min_row=6):
            for cell in row:
                if isinstance(cell.value, str) and re.fullmatch(r"-?\d+([.,]\d+)?", cell.value):
                    pytest.fail(f"{ws.title}!{cell.coordinate}: a number stored as text")
                if isinstance(cell.value, str) and re.fullmatch(r"x|<\d+", cell.value):
                    assert "'x'" in ws["A3"].value  # a mark, and the note that explains it
    effects = next(ws for ws in sheets if "Effekt" in ws.title)
    formats = {c.number_format for row in effects.iter_rows(min_row=6) for c in row}
    assert {"#,##0", "0.0%", "0.0", "0.000"} <= formats


@pytest.mark.slow
def test_csv_files_keep_codes_and_open_in_excel(method_report):
    path = method_report / "method/02_outcomes/tables/noegletal.csv"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark
    table = pd.read_csv(path)
    assert list(table.columns)[:3] == ["figure", "n", "events"]
    assert "ordinary_all" in set(table["figure"])
    readme = (method_report / "README.md").read_text(encoding="utf-8")
    assert "| `denominator_rule` |" in readme


def _digests(out: Path, names: list[str]) -> dict[str, str]:
    return {n: hashlib.sha256((out / n).read_bytes()).hexdigest() for n in names}


@pytest.mark.slow
def test_an_exploratory_run_never_touches_published_outputs(method_report, processed_dir, tmp_path):
    """A person in JupyterLab changes `period` and runs the notebook from the top."""
    manifest = json.loads((method_report / "manifest.json").read_text(encoding="utf-8"))
    listed = sorted({p for job in manifest["jobs"] for p in job["outputs"]})
    before = _digests(method_report, listed)
    root = method_report.parent / f"{method_report.name}-root"
    (root / "outputs").mkdir(parents=True)
    code = (
        "import papermill as pm; pm.execute_notebook("
        f"{str(NOTEBOOKS / '02_outcomes.ipynb')!r}, {str(tmp_path / 'run.ipynb')!r}, "
        f"parameters={{'period': 'extension2', 'processed_dir': {str(processed_dir)!r}}}, "
        f"cwd={str(NOTEBOOKS)!r}, kernel_name='python3')"
    )
    env = {**os.environ, "VIP2_ROOT": str(root)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True)
    lab = root / "outputs" / "lab" / "extension2" / "02_outcomes"
    assert (lab / "tables" / "noegletal.csv").is_file()
    assert _digests(method_report, listed) == before


@pytest.mark.slow
def test_an_english_build_is_written_beside_the_danish_one(method_report, processed_dir):
    manifest = json.loads((method_report / "manifest.json").read_text(encoding="utf-8"))
    listed = sorted({p for job in manifest["jobs"] for p in job["outputs"]})
    before = _digests(method_report, listed)
    result = build(
        notebooks_dir=NOTEBOOKS,
        processed=processed_dir,
        out=method_report,
        periods=["method"],
        extra={"lang": "en"},
        workers=2,
    )
    assert [j.status for j in result.jobs] == ["ok"] * 5, [(j.id, j.message) for j in result.jobs]
    english = method_report / "en" / "method"
    assert (english / "02_outcomes" / "02_outcomes.html").is_file()
    assert _digests(method_report, listed) == before
    for notebook in sorted(english.glob("*/*.ipynb")):  # a whole report in English
        text = _shown_text(notebook)
        found = [w for w in DANISH_IN_ENGLISH if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text)]
        assert found == [], f"{notebook.name}: {found}"
    from docx import Document

    doc = Document(str(english / "report_method.docx"))
    captions = [p.text for p in doc.paragraphs if p.style.name == "Caption"]
    assert captions[0].startswith("Table 1.") and any(c.startswith("Figure 1.") for c in captions)
    index = (method_report / "en" / "index.html").read_text(encoding="utf-8")
    assert "<html lang='en'>" in index and "Method phase" in index
    wb = load_workbook(english / "tables_method.xlsx")
    assert wb.sheetnames[0] == "Contents"
    heads = [c.value for c in next(ws for ws in wb.worksheets if "Headline" in ws.title)[5]]
    assert heads[:4] == ["Figure", "Number", "With the outcome", "Share"]


@pytest.mark.slow
def test_the_word_report_numbers_its_tables_and_figures(method_report):
    from docx import Document

    doc = Document(str(method_report / "method" / "rapport_method.docx"))
    captions = [p.text for p in doc.paragraphs if p.style.name == "Caption"]
    tables = [c for c in captions if c.startswith("Tabel ")]
    figures = [c for c in captions if c.startswith("Figur ")]
    assert [int(c.split()[1].rstrip(".")) for c in tables] == list(range(1, len(tables) + 1))
    assert [int(c.split()[1].rstrip(".")) for c in figures] == list(range(1, len(figures) + 1))
    published = sorted((method_report / "method").glob("*/figures/*.png"))
    assert len(doc.inline_shapes) == len(figures) == len(published)
    csv = sorted((method_report / "method").glob("*/tables/*.csv"))
    long = [p for p in csv if len(pd.read_csv(p)) > LONG_TABLE_ROWS]  # the lock-in, by week
    assert len(tables) == len(csv) and len(long) == 1
    assert len(doc.tables) == len(csv) - len(long)
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "står i periodens regneark" in text
    head = doc.tables[0]
    cells = [c.text for row in head.rows for c in row.cells]
    assert "313" in cells and "119" in cells and "38,0 % (32,8–43,5)" in cells
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Syntetiske data" in text and "Metodedel" in text and "Bilag: metode" in text
    assert "Diskretion" in text and "wild cluster bootstrap" in text
    props = doc.core_properties  # fixed: the same build, the same bytes
    assert props.created == props.modified and props.created.isoformat().startswith("2010-06-30")
    index = (method_report / "index.html").read_text(encoding="utf-8")
    assert "method/rapport_method.docx" in index and "method/tabeller_method.xlsx" in index


def test_estimation_results_render_themselves_in_danish():
    import numpy as np

    from vip2analysis.publish import result_html
    from vip2analysis.stats import adjusted_differences

    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], 200),
            "age_at_start": rng.integers(20, 60, 200),
            "municipality": rng.choice(list("ABCDE"), 200),
            "outcome": rng.choice(["ordinary_employment", "education"], 200),
            "status": "completed",
        }
    )
    res = adjusted_differences(df, terms=["sex", "age_at_start"], bootstrap_reps=0)
    text = html.unescape(
        re.sub(r"<[^>]+>", " ", re.sub(r"<style.*?</style>", "", result_html(res), flags=re.S))
    )
    assert "Mænd vs. kvinder" in text and "Antal observationer (N)" in text
    found = [w for w in FORBIDDEN_IN_DANISH if re.search(rf"(?<![\w_]){re.escape(w)}", text)]
    assert found == []
    assert "Outcome:" in res.summary()  # the console keeps its plain text


@pytest.mark.parametrize(
    "message",
    [
        "Maximum Likelihood optimization failed to converge. Check mle_retvals",
        "The design matrix is rank-deficient. The model parameters are not uniquely determined.",
        "participation_effect: ATT[duration_band=<1] has no participants or no comparison "
        "persons left; its estimate is missing.",
        "adjusted_differences: term 'duration_band', level '1-2' (too small or too uniform to "
        "estimate): merged with '2-5' into '1-2|2-5'. See `.fallbacks`.",
        "overflow encountered in exp",
        "something no one foresaw",
    ],
)
def test_model_notes_reach_a_danish_reader_in_danish(message):
    from vip2analysis.publish import model_note

    text = model_note(message, "da")
    english = ("Maximum", "design matrix", "participants", "merged", "See", "overflow", "foresaw")
    assert not any(word in text for word in english), text
    assert model_note(message, "en")  # and an English one in English
