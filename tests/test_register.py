"""One disclosure rule over all of a period's tables: the register, the period's tables and
the audit, on constructed leaks (the sex x duration case of issue 9 among them)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from vip2analysis.contract import load_periods, select_period
from vip2analysis.io.processed import load_processed
from vip2analysis.publish.audit import audit_period
from vip2analysis.publish.period import disclose_period
from vip2analysis.publish.register import Register, audit_cells
from vip2analysis.stats import follow_up


def _people(cells: dict[tuple[str, str], tuple[int, int]]) -> pd.DataFrame:
    """Records: (sex, band) -> (n, employed)."""
    rows = []
    for (sex, band), (n, events) in cells.items():
        rows += [{"sex": sex, "band": band, "emp": "yes" if i < events else "no"} for i in range(n)]
    return pd.DataFrame(rows)


# the case: men with <1 and 1-2 years are 2 and 4
SEX_BY_BAND = {
    ("F", "<1"): (9, 3),
    ("M", "<1"): (2, 1),
    ("F", "1-2"): (40, 10),
    ("M", "1-2"): (4, 2),
    ("F", "2-5"): (30, 10),
    ("M", "2-5"): (20, 8),
}


def _cells_of_three_tables(reg: Register, *, with_margins: bool = True) -> None:
    """The two-way sex x band table and the one-way tables by sex and by band (n, events)."""

    def rate(shown: bool, **where: str) -> None:
        n = reg.add(reg.key(**where), shown=shown)
        kind = "outcome" if reg.cells[n].value else "count"  # an empty group has no outcome
        reg.add(reg.key(**where, emp="yes"), kind=kind, shown=shown)
        reg.add(reg.key(**where, emp="no"), kind=kind)

    for sex in reg.domains["sex"]:
        for band in reg.domains["band"]:
            rate(True, sex=sex, band=band)
    for var in ("sex", "band"):
        for value in reg.domains[var]:
            rate(with_margins, **{var: value})
    reg.add(reg.key(), shown=True)


def _published(reg: Register) -> list[tuple[dict, str, object]]:
    out = []
    for key, cell in reg.cells.items():
        value = (cell.marker if cell.hidden else cell.value) if cell.shown else None
        out.append((dict(key), cell.kind, value))
    return out


def test_the_sex_by_duration_leak_is_found_by_the_audit():
    """Primary suppression of the two-way table alone: the one-way tables give men = 2 and 4."""
    reg = Register.from_records(_people(SEX_BY_BAND), ["sex", "band", "emp"], k=5)
    _cells_of_three_tables(reg)
    for cell in reg.cells.values():  # primary only, as the notebooks did before
        if cell.shown and reg.sensitive(cell):
            cell.hidden, cell.marker = True, "<5"
    leaks = {
        tuple(sorted(dict(k).items())) for k, _ in audit_cells(reg.domains, _published(reg), k=5)
    }
    assert (("band", ("1-2",)), ("sex", ("M",))) in leaks
    assert (("band", ("<1",)), ("sex", ("M",))) in leaks


def test_planned_suppression_passes_the_audit_and_hides_the_small_cells():
    reg = Register.from_records(_people(SEX_BY_BAND), ["sex", "band", "emp"], k=5)
    _cells_of_three_tables(reg)
    reg.plan()
    assert reg.shown_value(reg.key(sex="M", band="<1")) == "<5"
    assert reg.shown_value(reg.key(sex="M", band="1-2")) == "<5"
    assert reg.shown_value(reg.key()) == 105  # the total is never needed here
    assert audit_cells(reg.domains, _published(reg), k=5) == []


def test_a_figure_label_cannot_differ_from_the_table():
    """A cell shown in one table and hidden in another is refused by the audit."""
    domains = {"region": ["A", "B"]}
    cells = [({"region": ["A"]}, "count", "<5"), ({"region": ["A"]}, "count", "4")]
    with pytest.raises(Exception, match="shown in one table and hidden in another"):
        audit_cells(domains, cells, k=5)


def test_a_rate_near_100_percent_hides_its_events():
    """Non-events are checked: 40 of 42 employed reveals the 2 without a job."""
    reg = Register.from_records(
        _people({("F", "<1"): (42, 40), ("M", "<1"): (30, 10)}), ["sex", "band", "emp"], k=5
    )
    for sex in ("F", "M"):
        reg.add(reg.key(sex=sex), shown=True)
        reg.add(reg.key(sex=sex, emp="yes"), kind="outcome", shown=True)
        reg.add(reg.key(sex=sex, emp="no"), kind="outcome")
    reg.plan()
    assert reg.shown_value(reg.key(sex="F")) == 42
    assert reg.shown_value(reg.key(sex="F", emp="yes")) == "x"  # 40 itself is not small
    assert audit_cells(reg.domains, _published(reg), k=5) == []


def test_a_cell_of_k_or_more_is_shown_when_no_sum_needs_it():
    reg = Register.from_records(
        _people({("F", "<1"): (20, 8), ("M", "<1"): (12, 6)}), ["sex", "band", "emp"], k=5
    )
    for sex in ("F", "M"):
        reg.add(reg.key(sex=sex), shown=True)
        reg.add(reg.key(sex=sex, emp="yes"), kind="outcome", shown=True)
        reg.add(reg.key(sex=sex, emp="no"), kind="outcome")
    reg.add(reg.key(), shown=True)
    reg.plan()
    assert not any(c.hidden for c in reg.cells.values())


@pytest.mark.parametrize("seed", range(8))
def test_random_tables_planned_then_audited(seed):
    """Property: whatever the counts, the planned pattern passes the independent audit."""
    rng = np.random.default_rng(seed)
    cells = {
        (sex, band): (n := int(rng.integers(0, 25)), int(rng.integers(0, n + 1)))
        for sex in ("F", "M")
        for band in ("<1", "1-2", "2-5")
    }
    people = _people(cells)
    if people.empty or people["sex"].nunique() < 2 or people["band"].nunique() < 2:
        pytest.skip("degenerate draw")
    reg = Register.from_records(people, ["sex", "band", "emp"], k=5)
    reg.domains["emp"] = ("no", "yes")
    _cells_of_three_tables(reg)
    reg.plan()
    assert audit_cells(reg.domains, _published(reg), k=5) == []
    for cell in reg.cells.values():  # never under-suppress: every small shown cell is hidden
        if cell.shown and reg.sensitive(cell):
            assert cell.hidden


@pytest.fixture(scope="module")
def method_tables(processed_dir):
    data = load_processed(processed_dir)
    period = load_periods()["method"]
    courses = follow_up(select_period(data.courses, period="method"), period.data_date)
    return disclose_period(courses, k=5)


def test_the_method_period_shows_its_headline(method_tables):
    head = method_tables.table("noegletal").set_index("figure")
    assert head.loc["courses", "n"] == 313
    assert head.loc["running", "n"] == 0
    assert (head.loc["ordinary_all", "events"], head.loc["ordinary_all", "n"]) == (119, 313)
    assert round(100 * head.loc["ordinary_all", "rate"]) == 38


def test_period_tables_written_with_cell_maps_pass_the_audit(method_tables, tmp_path):
    folder = tmp_path / "method" / "03_x" / "tables"
    folder.mkdir(parents=True)
    for name in method_tables.names:
        method_tables.table(name).to_csv(folder / f"{name}.csv", index=False)
        (folder / f"{name}.cells.json").write_text(json.dumps(method_tables.cell_map(name)))
    report = audit_period(tmp_path / "method")
    assert report.ok, report.summary()
    assert report.cells > 100


def test_the_audit_catches_per_table_primary_suppression(method_tables, tmp_path):
    """Every table written with its own small cells hidden and nothing more (the notebooks'
    old way): the one-way tables give the two-way table's hidden cells back."""
    folder = tmp_path / "method" / "03_x" / "tables"
    folder.mkdir(parents=True)
    reg = method_tables.register
    for name in method_tables.names:
        table = method_tables.table(name)
        for i, row in enumerate(method_tables.specs[name]):
            for column, key in (*row.counts.items(), ("n", row.n), ("events", row.events)):
                if key is not None:
                    cell = reg.cells[key]
                    table.loc[i, column] = "<5" if reg.sensitive(cell) else cell.value
        table.to_csv(folder / f"{name}.csv", index=False)
        (folder / f"{name}.cells.json").write_text(json.dumps(method_tables.cell_map(name)))
    report = audit_period(tmp_path / "method")
    assert report.leaks, report.summary()
    assert any("'sex'" in leak or "sex in" in leak for leak in report.leaks)


def test_a_count_table_without_a_cell_map_is_reported(tmp_path):
    folder = tmp_path / "p" / "01_x" / "tables"
    folder.mkdir(parents=True)
    pd.DataFrame({"region": ["A"], "n": [3]}).to_csv(folder / "t.csv", index=False)
    report = audit_period(tmp_path / "p")
    assert not report.ok and report.unaudited == ["01_x/tables/t.csv"]


# --- properties (Hypothesis) ---------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
_cell_counts = st.tuples(st.integers(0, 30), st.floats(0, 1))


@PROPERTY
@given(st.lists(_cell_counts, min_size=6, max_size=6))
def test_property_never_under_suppress_across_tables_sharing_margins(draws):
    """Two-way table and both one-way tables (they share margins): the planned pattern
    hides every small cell and passes the independent audit."""
    cells = {
        key: (n, round(share * n))
        for key, (n, share) in zip(
            [(s, b) for s in ("F", "M") for b in ("<1", "1-2", "2-5")], draws, strict=True
        )
    }
    people = _people(cells)
    if people.empty or people["sex"].nunique() < 2 or people["band"].nunique() < 2:
        return
    reg = Register.from_records(people, ["sex", "band", "emp"], k=5)
    reg.domains["emp"] = ("no", "yes")
    _cells_of_three_tables(reg)
    reg.plan()
    for cell in reg.cells.values():
        if cell.shown and reg.sensitive(cell):
            assert cell.hidden
    assert audit_cells(reg.domains, _published(reg), k=5) == []


@PROPERTY
@given(st.lists(_cell_counts, min_size=6, max_size=6))
def test_property_never_over_suppress_a_cell_no_margin_needs(draws):
    """Every hidden cell of k or more is needed: showing it alone lets the audit find a
    leak. With no small cell at all, nothing is hidden."""
    cells = {
        key: (n, round(share * n))
        for key, (n, share) in zip(
            [(s, b) for s in ("F", "M") for b in ("<1", "1-2", "2-5")], draws, strict=True
        )
    }
    people = _people(cells)
    if people.empty or people["sex"].nunique() < 2 or people["band"].nunique() < 2:
        return
    reg = Register.from_records(people, ["sex", "band", "emp"], k=5)
    reg.domains["emp"] = ("no", "yes")
    _cells_of_three_tables(reg)
    reg.plan()
    sensitive = [c for c in reg.cells.values() if reg.sensitive(c)]
    if not sensitive:
        assert not any(c.hidden for c in reg.cells.values())
    for cell in [c for c in reg.cells.values() if c.hidden and not reg.sensitive(c)]:
        cell.hidden = False
        reg._markers()
        assert audit_cells(reg.domains, _published(reg), k=5), dict(cell.key)
        cell.hidden = True
        reg._markers()


# --- effects from tiny groups, and figures that show what the tables show ------------------


def test_an_effect_for_a_tiny_subgroup_is_not_published(method_tables):
    from vip2analysis.publish.period import disclose_comparison, publish_effects

    reg = method_tables.register
    tidy = pd.DataFrame(
        {
            "term": ["ATT", "ATT[sex=F]", "ATT[sex=M]"],
            "estimate": [0.3, 0.35, -0.15],
            "conf_low": [0.2, 0.25, -0.3],
            "conf_high": [0.4, 0.45, 0.0],
            "p_value": [0.0, 0.0, 0.04],
            "inference": "sandwich",
            "n_treated": [313, 250, 63],
            "mean_treated": [0.44, 0.46, 0.38],
            "mean_counterfactual": [0.1, 0.1, 0.5],
        }
    )
    # comparison: only 4 men, so the men's row may not be published
    comparison = pd.DataFrame(
        {
            "sex": ["F"] * 40 + ["M"] * 4,
            "origin_group": "non_western",
            "duration_band": "2-5",
            "employed": [0, 1] * 20 + [0, 0, 0, 1],
        }
    )
    tidy["n_comparison"] = [44, 40, 4]
    comp = disclose_comparison(comparison, by=("sex", "origin_group", "duration_band"), k=5)
    table, cells = publish_effects(tidy, method_tables, comp)
    men = table.set_index("term").loc["ATT[sex=M]"]
    assert men["n_comparison"] == "<5"
    for col in ("estimate", "conf_low", "conf_high", "p_value", "mean_treated"):
        assert isinstance(men[col], str), col
    women = table.set_index("term").loc["ATT[sex=F]"]
    assert women["n_comparison"] == "x" and isinstance(women["estimate"], str)  # 44 - 40 = 4
    assert reg.shown_value(reg.key(sex="M", status3=("completed", "dropped_out"))) == 63
    assert {b["universe"] for b in cells["universes"]} == {"courses", "comparison"}


def test_the_region_figure_shows_what_the_table_shows():
    import matplotlib.pyplot as plt

    from vip2analysis.publish.plot_dissemination import ambassadors_by_region

    table = pd.DataFrame(
        {
            "region": [
                "Hovedstaden",
                "Midtjylland",
                "Nordjylland",
                "Sjælland",
                "Syddanmark",
                "total",
            ],
            "n": [40, 30, "x", "<5", 20, 99],
        }
    )
    ax = ambassadors_by_region(table=table)
    texts = [t.get_text() for t in ax.texts] + [ax.get_title(loc="left")]
    assert not any(t in ("n=4", "n=5") for t in texts)
    assert any("<5" in t for t in texts) and any(t.startswith("x") for t in texts)
    plt.close(ax.figure)


def test_the_outcome_figure_shows_what_the_table_shows(method_tables):
    import matplotlib.pyplot as plt

    from vip2analysis.publish.plot_outcomes import outcome_distribution

    table = method_tables.table("afgang")
    ax = outcome_distribution(table=table)
    texts = " ".join(t.get_text() for t in ax.texts)
    for value in table["n"]:
        if isinstance(value, int) and value:
            continue
    hidden = table.loc[table["n"].map(lambda v: isinstance(v, str)), "outcome"]
    assert len(hidden)  # the method period hides its small 'unknown' and one more
    reg = method_tables.register
    for outcome in hidden:
        true = reg.cells[reg.key(status3=("completed", "dropped_out"), outcome=outcome)].value
        assert f"(n={true})" not in texts
    plt.close(ax.figure)


def test_counts_are_written_as_whole_numbers_beside_blanks_and_markers(tmp_path):
    from vip2analysis.publish.tables import Publisher

    pub = Publisher(tmp_path, synthetic=False)
    frame = pd.DataFrame(
        {
            "figure": ["courses", "ordinary_all", "employed_completed"],
            "n": pd.Series([41, 38, 35], dtype=object),
            "events": pd.Series([None, 12, "x"], dtype=object),
            "rate": pd.Series([None, 12 / 38, "x"], dtype=object),
        }
    )
    pub.table(frame, "t")
    text = (tmp_path / "tables" / "t.csv").read_text()
    assert "ordinary_all,38,12,0.315789" in text and "12.0" not in text


def test_a_model_figure_labels_n_as_the_table_publishes_it(method_tables):
    import matplotlib.pyplot as plt

    from vip2analysis.publish.period import publish_model_table
    from vip2analysis.publish.plot_effects import forest

    tidy = pd.DataFrame(
        {
            "term": ["sex[M]"],
            "estimate": [0.05],
            "std_error": [0.02],
            "conf_low": [0.01],
            "conf_high": [0.09],
            "p_value": [0.01],
            "n": [300],  # the model rests on other courses than the period's ended ones
            "inference": ["HC3"],
        }
    )
    table, cells = publish_model_table(tidy, method_tables)
    assert table["n"].tolist() == ["x"] and cells["universes"][0]["shown"] == []
    ax = forest(table)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Køn: Mænd"]
    assert any(t.get_text().endswith("n=x") for t in ax.texts)  # n once, as published
    plt.close(ax.figure)
