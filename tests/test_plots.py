"""Tests of the plot helpers, through their artists (bars, lines, texts), not pixels."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # before pyplot; tests/conftest.py belongs to someone else

from collections.abc import Callable
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.figure import Figure
from statsmodels.stats.proportion import proportion_confint

from vip2analysis import publish as plots
from vip2analysis.publish import suppress_rates

OUTCOME_COUNTS = {
    "ordinary_employment": 119,
    "subsidised_employment": 32,
    "education": 14,
    "still_on_benefit": 70,
    "dropped_out": 74,
    "unknown": 4,
}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def courses() -> pd.DataFrame:
    rng = np.random.default_rng(313)
    outcomes = np.repeat(list(OUTCOME_COUNTS), list(OUTCOME_COUNTS.values()))
    rng.shuffle(outcomes)
    n = len(outcomes)
    return pd.DataFrame(
        {
            "outcome": outcomes,
            "start_date": pd.Timestamp("2007-04-01")
            + pd.to_timedelta(rng.integers(0, 821, n), unit="D"),
            "sex": rng.choice(["F", "M"], n, p=[0.68, 0.32]),
        }
    )


def _rates(groups: dict[str, tuple[int, int]], column: str = "sex") -> pd.DataFrame:
    n = np.array([v[0] for v in groups.values()])
    events = np.array([v[1] for v in groups.values()])
    low, high = proportion_confint(events, n, method="wilson")
    return pd.DataFrame(
        {
            column: list(groups),
            "n": n,
            "events": events,
            "rate": events / n,
            "conf_low": low,
            "conf_high": high,
            "denominator_rule": "ended courses",
        }
    )


@pytest.fixture
def rates() -> pd.DataFrame:
    return _rates({"F": (212, 80), "M": (101, 39)})


@pytest.fixture
def tidy() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "term": ["sex[M]", "duration_band[5+]", "age_at_start"],
            "estimate": [0.04, -0.18, -0.004],
            "conf_low": [-0.06, -0.31, -0.009],
            "conf_high": [0.14, -0.05, 0.001],
            "n": [313, 313, 313],
            "inference": "HC3",
        }
    )


@pytest.fixture
def smd() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "covariate": ["sex", "age_at_start", "duration_band"],
            "smd_before": [0.32, -0.41, 0.55],
            "smd_after": [0.03, -0.06, 0.08],
        }
    )


@pytest.fixture
def propensity() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    score = np.r_[rng.beta(4, 3, 185), rng.beta(2, 5, 260)]
    return score, np.r_[np.ones(185, bool), np.zeros(260, bool)]


@pytest.fixture
def ambassadors() -> pd.DataFrame:
    rng = np.random.default_rng(130)
    dates = np.repeat(["2009-05-20", "2010-01-26", "2010-04-15", "2010-06-15"], [70, 20, 20, 20])
    regions = ["Hovedstaden", "Sjælland", "Syddanmark", "Midtjylland", "Nordjylland"]
    return pd.DataFrame(
        {"certified_date": pd.to_datetime(dates), "region": rng.choice(regions, len(dates))}
    )


def _texts(ax: Axes) -> list[str]:
    """Every text on the axes and its figure."""
    found = [ax.get_title(loc=loc) for loc in ("left", "center", "right")]
    found += [ax.get_xlabel(), ax.get_ylabel()]
    found += [t.get_text() for t in [*ax.get_xticklabels(), *ax.get_yticklabels()]]
    found += [t.get_text() for t in [*ax.texts, *ax.figure.texts]]
    if ax.get_legend() is not None:
        found += [t.get_text() for t in ax.get_legend().get_texts()]
    return [t for t in found if t]


def _bars(ax: Axes) -> list:
    containers = [c for c in ax.containers if isinstance(c, BarContainer)]
    return [patch for c in containers for patch in c.patches]


def _error_segments(ax: Axes) -> np.ndarray:
    (container,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    (segments,) = container.lines[2]
    return np.array(segments.get_segments())


# --- rates_by_group -----------------------------------------------------------------------


def test_rates_bars_intervals_and_n(rates: pd.DataFrame) -> None:
    ax = plots.rates_by_group(rates, group="sex")
    bars = _bars(ax)
    assert len(bars) == len(rates)
    np.testing.assert_allclose([b.get_width() for b in bars], rates["rate"])
    seg = _error_segments(ax)
    np.testing.assert_allclose(seg[:, 0, 0], rates["conf_low"])
    np.testing.assert_allclose(seg[:, 1, 0], rates["conf_high"])
    np.testing.assert_allclose(seg[:, 0, 1], [b.get_y() + b.get_height() / 2 for b in bars])
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["Kvinder (n=212)", "Mænd (n=101)"]
    assert ax.get_xlim() == (0, 1)


def test_rates_danish_by_default_english_on_request(rates: pd.DataFrame) -> None:
    ax = plots.rates_by_group(rates, group="sex")
    assert ax.get_title(loc="left") == "Andel fordelt på køn"
    assert ax.get_xlabel() == "Andel af forløb med kendt udfald"
    assert ax.get_ylabel() == "Køn"
    assert "Forskelle mellem deltagere, ikke effekter" in _texts(ax)
    assert {"38 %", "39 %"} <= set(_texts(ax))
    ax = plots.rates_by_group(rates, group="sex", lang="en")
    assert ax.get_title(loc="left") == "Share by sex"
    assert ax.get_xlabel() == "Share of courses with a known outcome"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Women (n=212)", "Men (n=101)"]
    assert "Differences among participants, not effects" in _texts(ax)


def test_causal_figures_drop_the_note(rates: pd.DataFrame) -> None:
    ax = plots.rates_by_group(rates, group="sex", causal=True, title="Effekt")
    assert ax.get_title(loc="left") == "Effekt"
    assert not any("ikke effekter" in t for t in _texts(ax))


@pytest.mark.parametrize(("synthetic", "present"), [(True, True), (False, False)])
def test_synthetic_mark(rates: pd.DataFrame, synthetic: bool, present: bool) -> None:
    ax = plots.rates_by_group(rates, group="sex", synthetic=synthetic)
    assert any("Syntetiske data" in t for t in _texts(ax)) is present
    ax = plots.rates_by_group(rates, group="sex", synthetic=synthetic, lang="en")
    assert any("Synthetic data" in t for t in _texts(ax)) is present


def test_suppressed_rows_are_empty_bars() -> None:
    rates = _rates({"F": (212, 80), "M": (98, 36), "X": (3, 1)})
    ax = plots.rates_by_group(rates, group="sex")
    bars = _bars(ax)
    assert [b.get_fill() for b in bars] == [True, False, False]
    texts = _texts(ax)
    assert "<5: undertrykt" in texts and "x: undertrykt" in texts
    assert "X (n<5)" in texts and "Mænd (n<5)" in texts
    seg = _error_segments(ax)
    assert len(seg) == 1, "no interval for a suppressed row"


def test_already_suppressed_table_and_unsuppressed_drawing() -> None:
    rates = _rates({"F": (212, 80), "M": (101, 3)})
    ax = plots.rates_by_group(suppress_rates(rates), group="sex")
    assert [b.get_fill() for b in _bars(ax)] == [False, False]
    ax = plots.rates_by_group(rates, group="sex", k=None)
    assert [b.get_fill() for b in _bars(ax)] == [True, True]


def test_known_codes_come_in_contract_order() -> None:
    rates = _rates(
        {"1-2": (60, 30), "2-5": (120, 60), "5+": (80, 30), "<1": (50, 25)}, "duration_band"
    )
    ax = plots.rates_by_group(rates, group="duration_band")
    labels = [t.get_text().split(" (")[0] for t in ax.get_yticklabels()]
    assert labels == ["<1 år", "1-2 år", "2-5 år", "5+ år"]


def test_rates_missing_column(rates: pd.DataFrame) -> None:
    with pytest.raises(KeyError, match="conf_high"):
        plots.rates_by_group(rates.drop(columns="conf_high"), group="sex")


# --- the other helpers ----------------------------------------------------------------------


def test_outcome_distribution(courses: pd.DataFrame) -> None:
    ax = plots.outcome_distribution(courses, synthetic=True)
    bars = _bars(ax)
    assert len(bars) == 6
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [
        "Ordinær beskæftigelse",
        "Støttet beskæftigelse",
        "Uddannelse",
        "Fortsat på ydelse",
        "Afbrudt",
        "Ukendt",
    ]
    fills = [b.get_fill() for b in bars]
    assert fills == [True, True, False, True, True, False], "4 unknown, then the next smallest"
    assert bars[0].get_width() == pytest.approx(119 / 313)
    texts = _texts(ax)
    assert "38 % (n=119)" in texts and "<5: undertrykt" in texts
    assert ax.get_title(loc="left") == "Afgang fra jobpakkeforløb (n=313)"
    assert "Syntetiske data" in texts


def test_outcome_distribution_counts_in_english(courses: pd.DataFrame) -> None:
    ax = plots.outcome_distribution(courses, stat="count", k=None, lang="en")
    assert [b.get_width() for b in _bars(ax)] == list(OUTCOME_COUNTS.values())
    assert ax.get_xlabel() == "Number of courses"
    assert "Ordinary employment" in _texts(ax)


def test_forest(tidy: pd.DataFrame) -> None:
    ax = plots.forest(tidy, lang="en")
    seg = _error_segments(ax)
    np.testing.assert_allclose(seg[:, 0, 0], tidy["conf_low"])
    np.testing.assert_allclose(seg[:, 1, 0], tidy["conf_high"])
    (points,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    np.testing.assert_allclose(points.lines[0].get_xdata(), tidy["estimate"])
    assert any(np.allclose(line.get_xdata(), 0) for line in ax.get_lines()), "zero line"
    assert ax.get_xlabel() == "Difference in percentage points"
    labels = [t.get_text() for t in ax.get_yticklabels()]
    # without the model's reference levels a level is named with its variable; n once
    assert labels == ["Sex: Men", "Years without activation: 5+ years", "Age at start (per year)"]
    assert "95% confidence intervals: robust standard errors (HC3). n=313" in _texts(ax)
    ax = plots.forest(tidy.assign(reference=["F", "<1", ""]), lang="en")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["Men vs. women", "5+ years vs. <1 year", "Age at start (per year)"]
    ax = plots.forest(tidy)
    assert ax.get_xlabel() == "Forskel i procentpoint"


def test_balance(smd: pd.DataFrame) -> None:
    ax = plots.balance(smd)
    before, after = ax.collections[-2:]
    np.testing.assert_allclose(before.get_offsets()[:, 0], smd["smd_before"])
    np.testing.assert_allclose(after.get_offsets()[:, 0], smd["smd_after"])
    vertical = sorted(line.get_xdata()[0] for line in ax.get_lines())
    assert vertical == pytest.approx([-0.1, 0.0, 0.1])
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "Køn",
        "Alder ved start",
        "År uden aktivering",
    ]
    assert ax.get_xlabel() == "Standardiseret middelforskel"


def test_overlap(propensity: tuple[np.ndarray, np.ndarray]) -> None:
    score, treated = propensity
    ax = plots.overlap(score, treated, synthetic=True)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Deltagere (n=185)", "Sammenligningsgruppe (n=260)"]
    assert ax.get_xlim() == (0, 1)
    assert "Syntetiske data" in _texts(ax)
    with pytest.raises(ValueError, match="equally long"):
        plots.overlap(score, treated[:-1])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        plots.overlap(score + 1, treated)


def test_over_time(courses: pd.DataFrame) -> None:
    ax = plots.over_time(courses, k=None)
    quarters = courses["start_date"].dt.to_period("Q").value_counts().sort_index()
    started, employed = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert [b.get_height() for b in started] == quarters.tolist()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0] == "2007K2" and len(labels) == len(quarters)
    assert all(b.get_height() <= s.get_height() for b, s in zip(employed, started, strict=True))
    ax = plots.over_time(courses, lang="en", freq="YS")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2007", "2008", "2009"]
    with pytest.raises(ValueError, match="must be one of"):
        plots.over_time(courses, freq="W")


def test_over_time_suppresses_small_counts() -> None:
    dates = pd.to_datetime(["2008-01-15"] * 20 + ["2008-05-01"] * 12)
    outcome = ["ordinary_employment"] * 3 + ["education"] * 17 + ["ordinary_employment"] * 12
    ax = plots.over_time(pd.DataFrame({"start_date": dates, "outcome": outcome}))
    started, employed = [c for c in ax.containers if isinstance(c, BarContainer)]
    # 3 employed of 20, then 12 of 12: the zero not-employed cell would give 12 away
    assert [b.get_fill() for b in employed] == [False, False]
    assert [b.get_fill() for b in started] == [False, False]
    assert any("undertrykt" in t for t in _texts(ax))


def test_ambassadors_over_time(ambassadors: pd.DataFrame) -> None:
    ax = plots.ambassadors_over_time(ambassadors)
    step = ax.get_lines()[0]
    assert step.get_ydata()[-1] == 130
    assert list(step.get_ydata()[:5]) == [0, 70, 90, 110, 130]
    assert "130 i alt" in _texts(ax)
    ax = plots.ambassadors_over_time(ambassadors, lang="en")
    assert "130 in all" in _texts(ax)


def test_ambassadors_by_region(ambassadors: pd.DataFrame) -> None:
    ax = plots.ambassadors_by_region(ambassadors)
    bars = _bars(ax)
    assert len(bars) == 5 and sum(b.get_width() for b in bars) == 130
    counts = ambassadors["region"].value_counts()
    assert bars[0].get_width() == counts["Hovedstaden"]
    assert f"n={counts['Hovedstaden']}" in _texts(ax)
    assert ax.get_title(loc="left").endswith("(n=130)")


# --- contracts shared by all helpers ---------------------------------------------------------


@pytest.fixture
def helpers(courses, rates, tidy, smd, propensity, ambassadors) -> dict[str, Callable]:
    return {
        "outcome_distribution": lambda **kw: plots.outcome_distribution(courses, **kw),
        "rates_by_group": lambda **kw: plots.rates_by_group(rates, group="sex", **kw),
        "forest": lambda **kw: plots.forest(tidy, **kw),
        "balance": lambda **kw: plots.balance(smd, **kw),
        "overlap": lambda **kw: plots.overlap(*propensity, **kw),
        "over_time": lambda **kw: plots.over_time(courses, **kw),
        "ambassadors_over_time": lambda **kw: plots.ambassadors_over_time(ambassadors, **kw),
        "ambassadors_by_region": lambda **kw: plots.ambassadors_by_region(ambassadors, **kw),
    }


def test_helpers_draw_on_the_axes_given_and_write_nothing(
    helpers: dict[str, Callable], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(*args, **kwargs):
        raise AssertionError("plot helpers must not show or save")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(plt, "show", forbidden)
    monkeypatch.setattr(Figure, "savefig", forbidden)
    for name, draw in helpers.items():
        fig, ax = plt.subplots()
        figures = plt.get_fignums()
        assert draw(ax=ax, synthetic=True) is ax, name
        assert plt.get_fignums() == figures, f"{name} made a figure of its own"
        assert any("Syntetiske data" in t for t in _texts(ax)), name
        english = draw(ax=plt.subplots()[1], lang="en", synthetic=True)
        assert any("Synthetic data" in t for t in _texts(english)), name
        fig.canvas.draw()  # the whole figure renders
    assert list(tmp_path.iterdir()) == []


def test_helpers_make_a_figure_when_no_axes(helpers: dict[str, Callable]) -> None:
    for draw in helpers.values():
        ax = draw()
        assert isinstance(ax, Axes)
        assert ax.figure.get_size_inches() == pytest.approx(plots.STYLE["figure.figsize"])


def test_unknown_language_is_refused(helpers: dict[str, Callable]) -> None:
    for draw in helpers.values():
        with pytest.raises(ValueError, match=r"The value for `lang` must be one of \('da', 'en'\)"):
            draw(lang="de")


def test_labels_exist_in_both_languages() -> None:
    da, en = set(plots.LABELS["da"]), set(plots.LABELS["en"])
    assert da - en == set()
    assert {k for k in en - da if not k.startswith("region.")} == set()
    assert plots.display_name("K", variable="sex") == "Kvinder"
    assert plots.display_name(None, variable="sex", lang="en") == "Not stated"


def test_house_style_sets_fonts_once() -> None:
    before = matplotlib.rcParams["font.size"]
    with plots.house_style():
        assert matplotlib.rcParams["font.sans-serif"][0] == "DejaVu Sans"
        assert matplotlib.rcParams["font.size"] == plots.STYLE["font.size"]
    assert matplotlib.rcParams["font.size"] == before
    assert len(set(plots.PALETTE)) == len(plots.PALETTE)


# --- save_figure ---------------------------------------------------------------------------


def test_save_figure_is_byte_identical(rates: pd.DataFrame, tmp_path: Path) -> None:
    ax = plots.rates_by_group(rates, group="sex", synthetic=True)
    first = plots.save_figure(ax.figure, tmp_path / "a" / "rates", formats=("png", "svg", "pdf"))
    blobs = [p.read_bytes() for p in first]
    second = plots.save_figure(ax.figure, tmp_path / "a" / "rates", formats=("png", "svg", "pdf"))
    assert first == second == [tmp_path / "a" / f"rates.{ext}" for ext in ("png", "svg", "pdf")]
    assert [p.read_bytes() for p in second] == blobs
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "rates.pdf",
        "rates.png",
        "rates.svg",
    ]
    svg = blobs[1].decode()
    assert matplotlib.__version__ not in svg and "<dc:date>" not in svg
    assert b"Matplotlib" not in blobs[0]
    assert blobs[0].startswith(b"\x89PNG")


def test_save_figure_same_figure_built_twice(rates: pd.DataFrame, tmp_path: Path) -> None:
    paths = [
        plots.save_figure(plots.rates_by_group(rates, group="sex").figure, tmp_path / d / "f")
        for d in ("one", "two")
    ]
    assert [p.read_bytes() for p in paths[0]] == [p.read_bytes() for p in paths[1]]


def test_save_figure_refuses_unknown_format(tmp_path: Path) -> None:
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="The value for `formats` must be one of"):
        plots.save_figure(fig, tmp_path / "f", formats=("png", "jpg"))
    assert list(tmp_path.iterdir()) == []


def test_every_helper_saves_reproducibly(helpers: dict[str, Callable], tmp_path: Path) -> None:
    for name, draw in helpers.items():
        fig = draw(synthetic=True).figure
        engine = fig.get_layout_engine()
        first = [p.read_bytes() for p in plots.save_figure(fig, tmp_path / name)]
        second = [p.read_bytes() for p in plots.save_figure(fig, tmp_path / name)]
        assert first == second, name
        assert fig.get_layout_engine() is engine, "the layout engine is restored"
