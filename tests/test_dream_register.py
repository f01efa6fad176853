"""The DREAM register: hand-made persons with known measures, properties of the measures,
risk sets, bad extracts and file types.

Every expected number in the hand-made tests is worked out in a comment from the
definitions in DESIGN.md ("Register data (DREAM)"). Week positions are 0-based columns of
the code matrix; ``t0`` is the start week's position. All files go to ``tmp_path``; the
CPR numbers are made up (valid dates; last digit even = woman).
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vip2analysis.clean.dream import clean_dream
from vip2analysis.clean.pipeline import run_clean
from vip2analysis.contract.cpr import CPR_LIKE, DEMO_KEY
from vip2analysis.contract.dream import (
    ACTIVATION,
    CENSORED,
    MISSING_WEEK,
    PUBLIC_SUPPORT,
    SELF_SUPPORT,
    UNKNOWN,
    Week,
    WeeklyPanel,
    iso_weeks,
    load_dream_codes,
    week_of,
    week_thursday_months,
)
from vip2analysis.errors import RawFileError
from vip2analysis.io.dream import open_dream
from vip2analysis.register.measures import measure_codes
from vip2analysis.register.risk import (
    PROJECT_MUNICIPALITIES,
    comparison_sample,
    course_outcomes,
    passive_at,
)

ROOT = Path(__file__).resolve().parents[1]
SYNTHETIC_MARKER = ROOT / "data" / "raw" / "synthetic" / "SYNTHETIC.json"
FLAGS = load_dream_codes().flags

# Made-up CPR numbers (born 1980, 7th digit 1: the 1900s) and the matching kon.
CPRS = ["0101801234", "0202801235", "0303801236", "0404801237", "0505801238", "0606801239"]
KON = ["K", "M", "K", "M", "K", "M"]

# A valid course row (the course files are needed beside a DREAM extract in a raw folder).
COURSE_HEADER = (
    "CPR;Kommune;Jobpakke;Startdato;Slutdato;Status;Afgang;Køn;Oprindelsesland;"
    "Opholdsgrundlag;År uden aktivering;Matchkategori"
)
COURSE_ROW = (
    "010180-1234;Aarhus;Køkken og kantine;01-01-2010;01-03-2010;Afsluttet;Løntilskud;K;"
    "Irak;Flygtning;2,5;4"
)

FAST = settings(
    max_examples=80,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
FILES = settings(FAST, max_examples=20)  # each example writes and cleans two CSV files


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def _one(row, t0, *, k=4, horizons=(26,), branche=None, info=None) -> pd.Series:
    """The measures of one person (a list of codes) at one start week."""
    codes = np.array([row], dtype=np.int16)
    n_weeks = codes.shape[1]
    info = np.zeros(n_weeks, dtype=np.int64) if info is None else np.asarray(info)
    branche = np.ones((1, 1), dtype=np.uint8) if branche is None else np.asarray(branche)
    out = measure_codes(codes, branche, info, np.array([0]), np.array([t0]), k=k, horizons=horizons)
    return out.iloc[0]


def _write(path: Path, header: list[str], rows: list[list[str]], sep: str = ";") -> Path:
    lines = [sep.join(header), *(sep.join(r) for r in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _clean(*paths: Path):
    return clean_dream([open_dream(p) for p in paths], key=DEMO_KEY)


def _raw_folder(tmp_path: Path, files: dict[str, str]) -> Path:
    """A synthetic-marked raw folder with one valid course file and the given files."""
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(SYNTHETIC_MARKER, raw / "SYNTHETIC.json")
    (raw / "aarhus.csv").write_text(COURSE_HEADER + "\n" + COURSE_ROW + "\n", encoding="utf-8")
    for name, content in files.items():
        (raw / name).write_text(content, encoding="utf-8")
    return raw


def _vip2(*args):
    return subprocess.run(
        [sys.executable, "-m", "vip2analysis", *map(str, args)],
        capture_output=True,
        text=True,
    )


def _balanced(accounting: pd.DataFrame) -> bool:
    acc = accounting
    total = acc["clean_rows"] + acc["rejected_rows"] + acc["duplicate_rows"]
    return bool((acc["raw_rows"] == total).all() and acc["balanced"].all())


# ---------------------------------------------------------------------------------------
# 1. Hand-made persons with known answers
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 4, 52])
def test_gap_of_k_minus_one_weeks_does_not_break_a_spell(k):
    # 3 support weeks, k-1 weeks off support, 2 support weeks, then t0 right after.
    # Walking back: 2 support weeks, the gap reaches k-1 < k, 3 more support weeks = 5;
    # the gap weeks themselves never count.
    off = ([0, 651, 121] * 52)[: k - 1]  # blank, student grant, holiday pay: all off support
    row = [730] * 3 + off + [730] * 2
    out = _one(row, len(row), k=k)
    assert out["weeks_public_support"] == 5
    assert out["weeks_without_activation"] == 5


@pytest.mark.parametrize("k", [1, 4, 52])
def test_gap_of_k_weeks_breaks_a_spell(k):
    # 3 support weeks, k weeks off support, 2 support weeks: walking back from t0-1 the
    # walk counts 2, then the gap reaches k and stops it, so the first 3 never count.
    off = ([0, 651, 121] * 52)[:k]
    row = [730] * 3 + off + [730] * 2
    out = _one(row, len(row), k=k)
    assert out["weeks_public_support"] == 2
    assert out["weeks_without_activation"] == 2


def test_activation_in_the_week_before_t0_gives_zero_weeks_without_activation():
    # weeks 0-4 passive cash benefit (730), week 5 company internship (737), t0 = 6.
    # without activation: week 5 is activation -> the walk stops at once -> 0.
    # public support: the internship counts -> 1 + 5 = 6.
    out = _one([730] * 5 + [737], 6)
    assert out["weeks_without_activation"] == 0
    assert out["weeks_public_support"] == 6
    assert out["years_without_activation_register"] == 0
    assert out["weeks_support_104"] == 6


def test_activation_inside_a_spell_stops_only_the_walk_without_activation():
    # 730 730 730 735(wage subsidy) 730 730, t0 = 6.
    # without activation: 2 passive weeks, then 735 stops -> 2; public support: all 6.
    out = _one([730, 730, 730, 735, 730, 730], 6)
    assert out["weeks_without_activation"] == 2
    assert out["weeks_public_support"] == 6


def test_extract_starting_inside_a_spell_stops_the_walk_at_its_first_week():
    # The person is on passive support in all 6 weeks of the extract and t0 = 6:
    # the walk runs out of weeks after 6 and stops there (no error, no invented weeks).
    out = _one([730] * 6, 6)
    assert out["weeks_public_support"] == 6
    assert out["weeks_without_activation"] == 6
    # t0 = 3: only weeks 0-2 lie before it.
    assert _one([730] * 6, 3)["weeks_without_activation"] == 3
    # t0 = 0 or before the extract: nothing before it.
    assert _one([730] * 6, 0)["weeks_public_support"] == 0
    assert _one([730] * 6, -5)["weeks_public_support"] == 0


def test_t0_after_the_end_of_the_extract_counts_the_weeks_outside_as_gap():
    # 6 weeks of 730; weeks 6, 7, ... are outside the extract (censored: gap weeks).
    # t0 = 8: weeks 7 and 6 are a gap of 2 < 4, then 6 support weeks -> 6.
    assert _one([730] * 6, 8)["weeks_public_support"] == 6
    # t0 = 10: weeks 9..6 are a gap of 4 = k -> the walk stops -> 0.
    assert _one([730] * 6, 10)["weeks_public_support"] == 0


def test_censored_weeks_are_left_out_of_the_shares_after_t0():
    # t0 = 2; the 6 weeks after it (positions 3..8):
    #   0 (blank: self-supported, employed), 121 (holiday pay: self-supported, not a job),
    #   997, 997 (emigrated: censored), 735 (wage subsidy: not self-supported), 0.
    # uncensored = 4; self-supported = 3 -> 0.75; employed (blank + branche) = 2 -> 0.5.
    row = [730, 730, 730, 0, 121, 997, 997, 735, 0]
    out = _one(row, 2, horizons=(6,))
    assert out["uncensored_weeks_6"] == 4
    assert out["selfsupport_share_6"] == 0.75
    assert out["employment_share_6"] == 0.5


def test_window_running_past_the_end_of_the_extract_uses_the_weeks_inside_it():
    # Same person; t0 = 2 and N = 10: weeks 3..12, of which 3..8 are inside the extract
    # (the same 4 uncensored weeks as above), 9..12 are outside (censored).
    row = [730, 730, 730, 0, 121, 997, 997, 735, 0]
    out = _one(row, 2, horizons=(10, 52))
    assert out["uncensored_weeks_10"] == 4
    assert out["selfsupport_share_10"] == 0.75
    assert out["employment_share_10"] == 0.5
    assert out["uncensored_weeks_52"] == 4
    assert np.isnan(out["employed_week_52"])  # week 54 is outside the extract


def test_window_entirely_after_the_extract_gives_missing_shares():
    out = _one([730, 0, 0], 5, horizons=(4,))
    assert out["uncensored_weeks_4"] == 0
    assert np.isnan(out["selfsupport_share_4"]) and np.isnan(out["employment_share_4"])


def test_week_53_read_from_a_csv_gives_three_consecutive_weeks(tmp_path):
    # 2009 has an ISO week 53 (Monday 28 December 2009, Thursday 31 December: December).
    header = ["pnr", "kon", "y_0952", "y_0953", "y_1001", "branche_2009_12", "branche_2010_01"]
    path = _write(tmp_path / "dream.csv", header, [[CPRS[0], "K", "730", "730", "", "", "4711"]])
    result = _clean(path)
    panel = result.panel
    assert panel.weeks == [Week(2009, 52), Week(2009, 53), Week(2010, 1)]
    assert [b.minus(a) for a, b in zip(panel.weeks, panel.weeks[1:], strict=False)] == [1, 1]
    assert panel.codes.tolist() == [[730, 730, 0]]
    assert panel.months == [(2009, 12), (2010, 1)]
    assert panel.info_month.tolist() == [0, 0, 1]
    measures = measure_codes(
        panel.codes,
        panel.branche,
        panel.info_month,
        np.array([0, 0]),
        np.array([2, 0]),
        horizons=(2,),
    )
    # t0 = 2010-W01: weeks 2009-W53 and W52 are on passive support -> 2 and 2.
    assert measures.loc[0, "weeks_public_support"] == 2
    assert measures.loc[0, "weeks_without_activation"] == 2
    # t0 = 2009-W52: weeks W53 (730, December, no job) and 2010-W01 (blank, January job):
    # 2 uncensored weeks, 1 self-supported -> 0.5, 1 employed of 2 with information -> 0.5.
    assert measures.loc[1, "uncensored_weeks_2"] == 2
    assert measures.loc[1, "selfsupport_share_2"] == 0.5
    assert measures.loc[1, "employment_share_2"] == 0.5


def test_weeks_map_to_the_month_of_their_thursday():
    weeks = [Week(2009, 14), Week(2009, 53), Week(2010, 1)]
    # 2009-W14: Monday 30 March, Thursday 2 April -> April; W53 -> December; 2010-W01 ->
    # January 2010, which has no branche_ column here -> -1.
    months = [(2009, 3), (2009, 4), (2009, 12)]
    assert week_thursday_months(weeks, months).tolist() == [1, 2, -1]


def test_month_without_branche_column_has_no_employment_information():
    # Weeks 2009-W01..W14 (positions 0..13); branche_ columns only for January and March.
    # By Thursday: W01-W05 January, W06-W09 February (no column), W10-W13 March, W14 April
    # (no column). The person is never on benefit (all blank) and employed in January only.
    weeks = iso_weeks(Week(2009, 1), Week(2009, 14))
    info = week_thursday_months(weeks, [(2009, 1), (2009, 3)])
    assert info.tolist() == [0] * 5 + [-1] * 4 + [1] * 4 + [-1]
    row = [0] * 14
    branche = [[1, 0]]
    # t0 = 3 (W04), N = 10: weeks 4..13 = W05 (Jan, job), W06-W09 (no information),
    # W10-W13 (March, no job), W14 (no information).
    # self-support: 10 of 10 uncensored weeks -> 1.0 (weeks without information count).
    # employment: 1 job week of the 5 weeks with information -> 0.2.
    out = _one(row, 3, horizons=(10,), branche=branche, info=info)
    assert out["uncensored_weeks_10"] == 10
    assert out["selfsupport_share_10"] == 1.0
    assert out["employment_share_10"] == pytest.approx(0.2)
    # t0 = 4 (W05), N = 4: only the February weeks W06-W09 -> no information -> NaN,
    # while the self-support share still counts the 4 weeks.
    out = _one(row, 4, horizons=(4,), branche=branche, info=info)
    assert out["uncensored_weeks_4"] == 4
    assert out["selfsupport_share_4"] == 1.0
    assert np.isnan(out["employment_share_4"])


def test_unknown_code_neither_counts_nor_breaks_the_walk():
    # 730, then four weeks of the unknown code 400, then 730; t0 = 6, k = 4.
    # Were 400 a gap week, the four of them would stop the walk (-> 1). Unknown weeks are
    # skipped: 730 + 730 = 2.
    out = _one([730, 400, 400, 400, 400, 730], 6)
    assert out["weeks_public_support"] == 2
    assert out["weeks_without_activation"] == 2
    assert out["weeks_support_104"] == 2
    # The same with weeks the extract has no column for.
    missing = [730, *[MISSING_WEEK] * 4, 730]
    assert _one(missing, 6)["weeks_public_support"] == 2


def test_unknown_code_is_left_out_of_the_uncensored_weeks():
    # t0 = 0; weeks 1..3 = 400, blank, blank -> 2 uncensored weeks, both self-supported.
    out = _one([730, 400, 0, 0], 0, horizons=(3,))
    assert out["uncensored_weeks_3"] == 2
    assert out["selfsupport_share_3"] == 1.0
    assert out["employment_share_3"] == 1.0


def test_clean_dream_reports_unknown_codes_by_column_with_their_count(tmp_path):
    header = ["pnr", "kon", "y_0952", "y_0953"]
    rows = [
        [CPRS[0], "K", "400", "400"],
        [CPRS[1], "M", "400", "730"],
        [CPRS[2], "K", "730", "730"],
    ]
    result = _clean(_write(tmp_path / "dream.csv", header, rows))
    unknown = result.unknown_codes.sort_values(["column", "code"]).reset_index(drop=True)
    assert unknown.to_dict("records") == [
        {"file": "dream.csv", "column": "y_0952", "code": 400, "weeks": 2},
        {"file": "dream.csv", "column": "y_0953", "code": 400, "weeks": 1},
    ]
    # The code is kept (not rejected) and is unknown to the measures.
    assert result.panel.codes.tolist() == [[400, 400], [400, 730], [730, 730]]
    assert result.rejects.empty
    assert result.summary()["unknown_code_weeks"] == 3


# ---------------------------------------------------------------------------------------
# 2. Properties of the measures
# ---------------------------------------------------------------------------------------

CODES = [0, 0, 730, 737, 735, 731, 111, 215, 651, 121, 771, 890, 997, 999, 400]


@st.composite
def _matrices(draw):
    n_persons = draw(st.integers(1, 4))
    n_weeks = draw(st.integers(1, 40))
    n_months = draw(st.integers(0, 4))
    codes = np.array(
        draw(
            st.lists(
                st.lists(
                    st.sampled_from([*CODES, MISSING_WEEK]), min_size=n_weeks, max_size=n_weeks
                ),
                min_size=n_persons,
                max_size=n_persons,
            )
        ),
        dtype=np.int16,
    )
    branche = np.array(
        draw(
            st.lists(
                st.lists(st.integers(0, 1), min_size=n_months, max_size=n_months),
                min_size=n_persons,
                max_size=n_persons,
            )
        ),
        dtype=np.uint8,
    ).reshape(n_persons, n_months)
    info = np.array(
        draw(st.lists(st.integers(-1, n_months - 1), min_size=n_weeks, max_size=n_weeks)),
        dtype=np.int64,
    )
    n_pairs = draw(st.integers(1, 6))
    rows = np.array(
        draw(st.lists(st.integers(0, n_persons - 1), min_size=n_pairs, max_size=n_pairs))
    )
    t0 = np.array(draw(st.lists(st.integers(-8, n_weeks + 8), min_size=n_pairs, max_size=n_pairs)))
    k = draw(st.sampled_from([1, 2, 4, 52]))
    return codes, branche, info, rows, t0, k


HORIZONS = (3, 26)


def _reference(codes, branche, info, row, t0, k):
    """The DESIGN.md definitions, week by week in plain Python (an independent oracle)."""
    line = codes[row]
    n = len(line)

    def flag(w):
        return int(FLAGS[line[w]]) if 0 <= w < n else None  # None: outside the extract

    def walk(stop_at_activation):
        count, gap, w = 0, 0, t0 - 1
        while w >= 0:
            f = flag(w)
            w -= 1
            if f is not None and f & UNKNOWN:
                continue
            if f is not None and f & PUBLIC_SUPPORT:
                if f & ACTIVATION and stop_at_activation:
                    break
                count, gap = count + 1, 0
            else:
                gap += 1
                if gap >= k:
                    break
        return count

    out = {
        "weeks_public_support": walk(False),
        "weeks_without_activation": walk(True),
        "weeks_support_104": sum(
            1
            for w in range(t0 - 104, t0)
            if 0 <= w < n and FLAGS[line[w]] & PUBLIC_SUPPORT and not FLAGS[line[w]] & UNKNOWN
        ),
    }
    for h in HORIZONS:
        known = [
            w
            for w in range(t0 + 1, t0 + h + 1)
            if 0 <= w < n and not FLAGS[line[w]] & (UNKNOWN | CENSORED)
        ]
        self_weeks = [w for w in known if FLAGS[line[w]] & SELF_SUPPORT]
        with_info = [w for w in known if info[w] >= 0]
        jobs = [w for w in with_info if line[w] == 0 and branche[row, info[w]]]
        out[f"uncensored_weeks_{h}"] = len(known)
        out[f"selfsupport_share_{h}"] = len(self_weeks) / len(known) if known else np.nan
        out[f"employment_share_{h}"] = len(jobs) / len(with_info) if with_info else np.nan
    return out


@FAST
@given(_matrices())
def test_measures_agree_with_a_week_by_week_reading_of_the_definitions(data):
    codes, branche, info, rows, t0, k = data
    out = measure_codes(codes, branche, info, rows, t0, k=k, horizons=HORIZONS)
    for i, (row, t) in enumerate(zip(rows, t0, strict=True)):
        expected = _reference(codes, branche, info, int(row), int(t), k)
        for name, value in expected.items():
            got = out.loc[i, name]
            if isinstance(value, float) and np.isnan(value):
                assert np.isnan(got), (name, row, t)
            else:
                assert got == pytest.approx(value), (name, row, t, got, value)


@FAST
@given(_matrices())
def test_shares_lie_in_zero_one_and_activation_weeks_never_exceed_support_weeks(data):
    codes, branche, info, rows, t0, k = data
    out = measure_codes(codes, branche, info, rows, t0, k=k, horizons=HORIZONS)
    shares = out.filter(regex=r"_share_\d+$|^employed_week_52$")
    values = shares.to_numpy(dtype=float)
    assert np.all(np.isnan(values) | ((values >= 0) & (values <= 1)))
    assert (out["weeks_without_activation"] <= out["weeks_public_support"]).all()
    assert (out["weeks_without_activation"] >= 0).all()
    for h in HORIZONS:
        assert out[f"uncensored_weeks_{h}"].between(0, h).all()
        # a share is missing exactly when no week is under it
        assert (out[f"selfsupport_share_{h}"].isna() == (out[f"uncensored_weeks_{h}"] == 0)).all()


@FAST
@given(_matrices(), st.randoms(use_true_random=False))
def test_measures_do_not_change_when_persons_are_permuted(data, random):
    codes, branche, info, rows, t0, k = data
    before = measure_codes(codes, branche, info, rows, t0, k=k, horizons=HORIZONS)
    order = list(range(len(codes)))
    random.shuffle(order)
    order = np.array(order)
    new_row = np.argsort(order)  # person at old row r sits at new row new_row[r]
    after = measure_codes(
        codes[order], branche[order], info, new_row[rows], t0, k=k, horizons=HORIZONS
    )
    pd.testing.assert_frame_equal(before, after)
    # and permuting the pairs permutes the results
    pairs = np.array(random.sample(range(len(rows)), len(rows)))
    again = measure_codes(codes, branche, info, rows[pairs], t0[pairs], k=k, horizons=HORIZONS)
    pd.testing.assert_frame_equal(before.iloc[pairs].reset_index(drop=True), again)


FIRST_WEEKS = [Week(2009, 50), Week(2008, 51), Week(2015, 52), Week(2010, 1)]
CSV_CODES = ["", "", "730", "737", "735", "111", "651", "121", "997", "400"]


@st.composite
def _extracts(draw):
    """A small extract as text cells: persons, consecutive weeks (some columns left out
    inside the span) and the branche_ months of the span (some left out)."""
    first = draw(st.sampled_from(FIRST_WEEKS))
    n_weeks = draw(st.integers(1, 9))
    span = iso_weeks(first, first + (n_weeks - 1))
    kept = [w for i, w in enumerate(span) if i in (0, n_weeks - 1) or draw(st.booleans())]
    months = sorted({(w.monday.year, w.monday.month) for w in span})
    months = [m for m in months if draw(st.booleans())]
    n_persons = draw(st.integers(1, 4))
    persons = []
    for i in range(n_persons):
        persons.append(
            {
                "pnr": CPRS[i],
                "kon": draw(st.sampled_from([KON[i], ""])),
                **{w.column: draw(st.sampled_from(CSV_CODES)) for w in kept},
                **{f"branche_{y}_{m:02d}": draw(st.sampled_from(["", "4711"])) for y, m in months},
            }
        )
    return span, kept, months, pd.DataFrame(persons)


@FILES
@given(_extracts(), st.randoms(use_true_random=False))
def test_shuffled_weekly_columns_give_the_same_panel_and_measures(tmp_path_factory, ex, random):
    span, kept, months, frame = ex
    folder = tmp_path_factory.mktemp("shuffled")
    columns = list(frame.columns)
    shuffled = columns[:]
    random.shuffle(shuffled)
    ordered = _write(folder / "dream_a.csv", columns, frame[columns].values.tolist())
    mixed = _write(folder / "dream_b.csv", shuffled, frame[shuffled].values.tolist())
    a, b = _clean(ordered).panel, _clean(mixed).panel
    # the panel sorts the weeks: the span from first to last column, a left-out column
    # is MISSING_WEEK, a blank code 0
    assert a.weeks == b.weeks == span
    expected = np.full((len(frame), len(span)), MISSING_WEEK, dtype=np.int16)
    for j, week in enumerate(span):
        if week in kept:
            expected[:, j] = frame[week.column].replace("", "0").astype(int)
    np.testing.assert_array_equal(a.codes, expected)
    np.testing.assert_array_equal(b.codes, expected)
    assert a.months == b.months == months
    np.testing.assert_array_equal(a.branche, b.branche)
    pd.testing.assert_frame_equal(
        a.persons.drop(columns="source_file"), b.persons.drop(columns="source_file")
    )
    rows = np.repeat(np.arange(len(frame)), 3)
    t0 = np.tile(np.array([-1, len(span) // 2, len(span) + 2]), len(frame))
    ma = measure_codes(a.codes, a.branche, a.info_month, rows, t0, horizons=HORIZONS)
    mb = measure_codes(b.codes, b.branche, b.info_month, rows, t0, horizons=HORIZONS)
    pd.testing.assert_frame_equal(ma, mb)


# ---------------------------------------------------------------------------------------
# 3. Risk sets
# ---------------------------------------------------------------------------------------

RISK_WEEKS = iso_weeks(Week(2009, 1), Week(2009, 20))


def _risk_panel(codes, municipalities) -> WeeklyPanel:
    codes = np.asarray(codes, dtype=np.int16)
    n = len(codes)
    persons = pd.DataFrame(
        {
            "person_id": [f"p{i:02d}" for i in range(n)],
            "sex": ["F" if i % 2 == 0 else "M" for i in range(n)],
            "birth_date": pd.Series(pd.to_datetime(["1980-01-01"] * n)).astype("datetime64[s]"),
            "municipality": municipalities,
            "origin_group": ["Danmark"] * n,
            "origin_region": ["Danmark"] * n,
        }
    )
    months = sorted({(w.monday.year, w.monday.month) for w in RISK_WEEKS})
    branche = np.ones((n, len(months)), dtype=np.uint8)
    return WeeklyPanel(persons, codes, list(RISK_WEEKS), branche, months)


def _monday(position: int) -> pd.Timestamp:
    return pd.Timestamp(RISK_WEEKS[position].monday)


def _big_risk_panel() -> tuple[WeeklyPanel, pd.DataFrame]:
    rng = np.random.default_rng(7)
    n = 60
    codes = rng.choice([730, 730, 730, 111, 710, 737, 131, 0, 400, 997, 651], size=(n, 20))
    towns = [*PROJECT_MUNICIPALITIES, "Kolding", "Odense", None]
    municipalities = [towns[i % len(towns)] for i in range(n)]
    # participants start on Wednesdays of weeks 3, 3, 8, 12 and 12 (p00 twice), each on
    # passive support in a project municipality then: eligible but for the course
    starts = [("p00", 3), ("p01", 3), ("p02", 8), ("p00", 12), ("p03", 12)]
    for person, week in starts:
        codes[int(person[1:]), week] = 730
    panel = _risk_panel(codes, municipalities)
    courses = pd.DataFrame(
        {
            "person_id": [p for p, _ in starts],
            "start_date": [_monday(w) + pd.Timedelta(days=2) for _, w in starts],
        }
    )
    return panel, courses


def test_every_comparison_is_passive_at_t0_and_lives_in_a_project_municipality():
    panel, courses = _big_risk_panel()
    sample = comparison_sample(panel, courses, m=5, seed=11)
    assert len(sample) > 0
    index = {pid: i for i, pid in enumerate(panel.persons["person_id"])}
    rows = sample["person_id"].map(index).to_numpy()
    weeks = panel.week_index(sample["t0"])
    code = panel.codes[rows, weeks]
    flags = FLAGS[code]
    assert ((flags & PUBLIC_SUPPORT) != 0).all()
    assert ((flags & (ACTIVATION | UNKNOWN)) == 0).all()
    assert set(code) <= {730, 111, 710}  # the passive codes the panel was drawn from
    assert sample["municipality"].isin(PROJECT_MUNICIPALITIES).all()
    assert panel.persons["municipality"].iloc[rows].isin(PROJECT_MUNICIPALITIES).all()
    for r, w in zip(rows, weeks, strict=True):
        assert passive_at(panel, int(w))[r]


def test_no_participant_is_a_comparison_in_its_own_start_week():
    panel, courses = _big_risk_panel()
    sample = comparison_sample(panel, courses, m=5, seed=11)
    starting = set(zip(courses["person_id"], panel.week_index(courses["start_date"]), strict=True))
    drawn = set(zip(sample["person_id"], panel.week_index(sample["t0"]), strict=True))
    assert not starting & drawn


def test_with_a_large_m_the_sample_is_the_whole_risk_set():
    panel, courses = _big_risk_panel()
    sample = comparison_sample(panel, courses, m=100, seed=2)
    lives = panel.persons["municipality"].isin(PROJECT_MUNICIPALITIES).to_numpy()
    ids = panel.persons["person_id"].to_numpy()
    for week in (3, 8, 12):
        flags = FLAGS[panel.codes[:, week]]
        passive = ((flags & PUBLIC_SUPPORT) != 0) & ((flags & (ACTIVATION | UNKNOWN)) == 0)
        starting = set(courses.loc[panel.week_index(courses["start_date"]) == week, "person_id"])
        expected = {p for p in ids[lives & passive] if p not in starting}
        drawn = set(sample.loc[sample["t0"] == _monday(week), "person_id"])
        assert drawn == expected, week
        assert starting  # the participants were eligible but for their course


def test_at_most_m_comparisons_per_participant_and_week():
    panel, courses = _big_risk_panel()
    starters = courses.groupby(panel.week_index(courses["start_date"])).size()
    for m in (1, 2, 5):
        sample = comparison_sample(panel, courses, m=m, seed=3)
        per_week = sample.groupby(panel.week_index(sample["t0"])).size()
        assert set(per_week.index) <= set(starters.index)
        for week, n in per_week.items():
            assert n <= m * starters[week]
        # one person at most once per week
        assert not sample.duplicated(["person_id", "t0"]).any()


def test_the_draw_is_fixed_by_the_seed():
    panel, courses = _big_risk_panel()
    first = comparison_sample(panel, courses, m=2, seed=123)
    again = comparison_sample(panel, courses, m=2, seed=123)
    pd.testing.assert_frame_equal(first, again)
    other = comparison_sample(panel, courses, m=2, seed=124)
    assert list(other["person_id"]) != list(first["person_id"])


def test_the_draw_at_one_week_does_not_depend_on_other_weeks():
    panel, courses = _big_risk_panel()
    full = comparison_sample(panel, courses, m=2, seed=5)
    week3 = courses.iloc[:2]
    alone = comparison_sample(panel, week3, m=2, seed=5)
    in_full = full[full["t0"] == _monday(3)].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone, in_full)


def test_a_participant_may_be_a_comparison_at_another_week():
    # Three persons on passive cash benefit every week in Aarhus. p00 starts in week 5,
    # p01 in week 10: at week 5 the pool is {p01, p02}, at week 10 {p00, p02}; with m = 5
    # both are taken.
    panel = _risk_panel(np.full((3, 20), 730), ["Aarhus"] * 3)
    courses = pd.DataFrame({"person_id": ["p00", "p01"], "start_date": [_monday(5), _monday(10)]})
    sample = comparison_sample(panel, courses, m=5, seed=1)
    drawn = sorted(zip(sample["t0"], sample["person_id"], strict=True))
    assert drawn == [
        (_monday(5), "p01"),
        (_monday(5), "p02"),
        (_monday(10), "p00"),
        (_monday(10), "p02"),
    ]


def test_persons_outside_the_project_or_not_passive_are_never_drawn():
    # p00 participant; p01 passive but in Kolding; p02 in activation (737); p03 blank;
    # p04 unknown code; p05 emigrated; p06 passive in Gladsaxe: the only one eligible.
    codes = np.array([730, 730, 737, 0, 400, 997, 730])[:, None] * np.ones((1, 20), int)
    towns = ["Aarhus", "Kolding", "Aarhus", "Aarhus", "Aarhus", "Aarhus", "Gladsaxe"]
    panel = _risk_panel(codes, towns)
    courses = pd.DataFrame({"person_id": ["p00"], "start_date": [_monday(4)]})
    sample = comparison_sample(panel, courses, m=5, seed=1)
    assert sample["person_id"].tolist() == ["p06"]
    assert (sample["t0"] == _monday(4)).all()


def test_week_of_gives_the_monday_without_a_deprecation_warning():
    mondays = week_of(pd.Series(pd.to_datetime(["2009-03-04", "2010-01-01", None])))
    assert mondays.iloc[0] == pd.Timestamp("2009-03-02")
    assert mondays.iloc[1] == pd.Timestamp("2009-12-28")  # ISO week 2009-W53
    assert pd.isna(mondays.iloc[2])


def test_a_course_starting_before_the_extract_gets_no_comparisons():
    panel = _risk_panel(np.full((3, 20), 730), ["Aarhus"] * 3)
    courses = pd.DataFrame(
        {"person_id": ["p00", "p01"], "start_date": [pd.Timestamp("2008-06-04"), _monday(5)]}
    )
    sample = comparison_sample(panel, courses, m=5, seed=1)
    assert (sample["t0"] == _monday(5)).all() and len(sample) == 2


def test_an_extract_without_branche_columns_has_no_employment_information():
    panel = _risk_panel(np.full((2, 20), 730), ["Aarhus"] * 2)
    panel = WeeklyPanel(panel.persons, panel.codes, panel.weeks, np.zeros((2, 0), np.uint8), [])
    courses = pd.DataFrame(
        {"person_id": ["p00"], "start_date": [_monday(2)], "end_date": [_monday(3)]}
    )
    out = course_outcomes(panel, courses)
    assert np.isnan(out.loc[0, "employed_13_after_end"])
    assert np.isnan(out.loc[0, "employment_share_26"])


# ---------------------------------------------------------------------------------------
# 4. Bad extracts
# ---------------------------------------------------------------------------------------

BAD_HEADERS = {
    # file name: (content, what the message must name)
    "dream_week54.csv": ("pnr;y_0953;y_0954\n0101801234;730;730\n", ["'y_0954'", "1-53"]),
    "dream_week0853.csv": ("pnr;y_0852;y_0853\n0101801234;730;730\n", ["'y_0853'", "1-52"]),
    "dream_nopnr.csv": ("cpr;y_0952\n0101801234;730\n", ["'pnr'"]),
    "dream_twice.csv": ("pnr;y_0952;Y_0952\n0101801234;730;730\n", ["'y_0952'", "once"]),
    "dream_empty.csv": ("", ["empty"]),
}


@pytest.mark.parametrize("name", list(BAD_HEADERS))
def test_bad_header_is_a_raw_file_error_naming_file_and_rule(tmp_path, name):
    content, words = BAD_HEADERS[name]
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RawFileError) as info:
        open_dream(path)
    message = str(info.value)
    assert name in message
    for word in words:
        assert word in message


def test_header_only_extract_is_a_clear_error(tmp_path):
    path = tmp_path / "dream.csv"
    path.write_text("pnr;kon;y_0952;y_0953\n", encoding="utf-8")
    with pytest.raises(RawFileError, match=r"dream\.csv.*header only"):
        _clean(path)


def test_cli_names_every_bad_extract_and_exits_2_without_traceback(tmp_path):
    raw = _raw_folder(tmp_path, {name: content for name, (content, _) in BAD_HEADERS.items()})
    res = _vip2("clean", "--raw", raw, "--out", tmp_path / "out")
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    for name, (_, words) in BAD_HEADERS.items():
        line = next(x for x in res.stderr.splitlines() if name in x)
        for word in words:
            assert word in line, (name, word)
    assert not (tmp_path / "out").exists()


def test_cli_header_only_extract_exits_2_without_traceback(tmp_path):
    raw = _raw_folder(tmp_path, {"dream.csv": "pnr;kon;y_0952\n"})
    res = _vip2("clean", "--raw", raw, "--out", tmp_path / "out")
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert "dream.csv" in res.stderr and "header only" in res.stderr


def test_row_with_too_few_fields_is_a_clear_error_or_a_reject(tmp_path):
    path = tmp_path / "dream_ragged.csv"
    path.write_text("pnr;y_0952;y_0953\n0101801234;730;730\n0202801235;730\n", encoding="utf-8")
    try:
        result = _clean(path)
    except RawFileError as exc:
        assert "dream_ragged.csv" in str(exc)
    else:
        assert 3 in result.rejects["source_row"].tolist()


def test_code_that_is_not_three_digits_rejects_its_row(tmp_path):
    header = ["pnr", "kon", "y_0952", "y_0953", "y_1001"]
    rows = [
        [CPRS[0], "K", "730", "12", ""],  # row 2
        [CPRS[1], "M", "7300", "730", "abc"],  # row 3: two bad cells, the first is named
        [CPRS[2], "K", "730", "730", "730"],  # row 4: clean
        [CPRS[3], "M", " 730 ", "", "abc"],  # row 5
    ]
    result = _clean(_write(tmp_path / "dream.csv", header, rows))
    rejects = result.rejects.sort_values("source_row").reset_index(drop=True)
    assert (rejects["reason"] == "dream_code_format").all()
    assert rejects[["source_row", "column", "raw_value"]].values.tolist() == [
        [2, "y_0953", "12"],
        [3, "y_0952", "7300"],
        [5, "y_1001", "abc"],
    ]
    assert "1 more" in rejects.loc[1, "message"]
    assert (rejects["source_file"] == "dream.csv").all()
    assert result.panel.codes.tolist() == [[730, 730, 730]]
    acc = result.accounting.iloc[0]
    assert (acc["raw_rows"], acc["clean_rows"], acc["rejected_rows"]) == (4, 1, 3)
    assert _balanced(result.accounting)


def test_three_digit_code_below_100_rejects_its_row(tmp_path):
    header = ["pnr", "kon", "y_0952", "y_0953"]
    rows = [[CPRS[0], "K", "099", "730"], [CPRS[1], "M", "730", "000"], [CPRS[2], "K", "730", ""]]
    result = _clean(_write(tmp_path / "dream.csv", header, rows))
    rejects = result.rejects.sort_values("source_row")
    assert rejects[["source_row", "column", "raw_value", "reason"]].values.tolist() == [
        [2, "y_0952", "099", "dream_code_format"],
        [3, "y_0953", "000", "dream_code_format"],
    ]
    assert result.panel.codes.tolist() == [[730, 0]]


def test_exact_duplicates_are_collapsed_and_conflicting_ones_rejected(tmp_path):
    header = ["pnr", "kon", "y_0952", "y_0953", "branche_2009_12"]
    rows = [
        [CPRS[0], "K", "730", "730", "1"],  # row 2
        [CPRS[0], "K", "730", "730", "1"],  # row 3: exact copy of row 2 -> duplicates log
        [CPRS[1], "M", "730", "737", ""],  # row 4
        [CPRS[1], "M", "730", "730", ""],  # row 5: same person, other history -> conflict
        [CPRS[2], "K", "730", "", ""],  # row 6
        [CPRS[2], "K", "730", "", "1"],  # row 7: differs in branche only -> conflict
    ]
    result = _clean(_write(tmp_path / "dream.csv", header, rows))
    dup = result.duplicates
    assert dup[["source_row", "kept_row"]].values.tolist() == [[3, 2]]
    assert (dup["kind"] == "exact_duplicate_person").all()
    rejects = result.rejects
    assert sorted(rejects["source_row"]) == [4, 5, 6, 7]
    assert (rejects["reason"] == "conflicting_duplicate_person").all()
    assert len(result.panel.persons) == 1
    assert result.panel.persons["source_row"].tolist() == [2]
    acc = result.accounting.iloc[0]
    assert (acc["raw_rows"], acc["clean_rows"], acc["rejected_rows"], acc["duplicate_rows"]) == (
        6,
        1,
        4,
        1,
    )
    assert _balanced(result.accounting)


def test_invalid_cpr_is_rejected_and_masked_in_the_processed_folder(tmp_path):
    dream = (
        "pnr;kon;y_0952;y_0953;y_1001;branche_2009_12\n"
        "0101801234;K;730;730;730;1\n"  # row 2: valid
        "3213801234;K;730;730;730;\n"  # row 3: day 32, month 13 -> cpr_date
        "3102801237;K;730;730;730;\n"  # row 4: 31 February -> cpr_date
        "2902811235;M;730;730;730;\n"  # row 5: 29 February 1981 -> cpr_date
        "0303801236;M;730;730;730;\n"  # row 6: even last digit but kon M -> sex_cpr_conflict
    )
    raw = _raw_folder(tmp_path, {"dream.csv": dream})
    out = tmp_path / "out"
    run_clean(raw, out)
    rejects = pd.read_csv(out / "rejects.csv", dtype=str, keep_default_na=False)
    mine = rejects[rejects["source_file"] == "dream.csv"].set_index("source_row")
    assert mine.loc["3", "reason"] == "cpr_date" and mine.loc["3", "column"] == "pnr"
    assert mine.loc["4", "reason"] == "cpr_date"
    assert mine.loc["5", "reason"] == "cpr_date"
    assert mine.loc["6", "reason"] == "sex_cpr_conflict"
    assert mine.loc["3", "raw_value"] == "3213XX-XXXX"
    assert mine.loc["5", "raw_value"] == "2902XX-XXXX"
    acc = json.loads((out / "accounting.json").read_text(encoding="utf-8"))
    files = {f["file"]: f for f in acc["files"]}
    assert files["dream.csv"]["raw_rows"] == 5 and files["dream.csv"]["rejected_rows"] == 4
    assert files["dream.csv"]["clean_rows"] == 1 and acc["total"]["balanced"] is True
    # no CPR number anywhere in the processed folder's text files
    cprs = ["0101801234", "3213801234", "3102801237", "2902811235", "0303801236"]
    for path in out.iterdir():
        if path.suffix not in (".csv", ".json"):
            continue
        text = path.read_text(encoding="utf-8")
        for cpr in cprs:
            assert cpr not in text, (path.name, cpr)
            assert f"{cpr[:6]}-{cpr[6:]}" not in text, (path.name, cpr)
        if path.suffix == ".csv":
            assert not re.search(CPR_LIKE, text), path.name
    register = pq.read_table(out / "register.parquet")
    assert "pnr" not in register.column_names and register.num_rows == 1


def test_malformed_pnr_is_masked_like_a_malformed_cpr(tmp_path):
    dream = (
        "pnr;kon;y_0952;branche_2009_12\n"
        "0101801234;K;730;1\n"
        "010180123;K;730;\n"  # nine digits
        "01018-01234;K;730;\n"  # the dash in the wrong place
        "01.01.80-1234;K;730;\n"  # dotted
        "01018012345;K;730;\n"  # eleven digits
    )
    raw = _raw_folder(tmp_path, {"dream.csv": dream})
    out = tmp_path / "out"
    run_clean(raw, out)
    rejects = pd.read_csv(out / "rejects.csv", dtype=str, keep_default_na=False)
    mine = rejects[rejects["source_file"] == "dream.csv"]
    assert sorted(mine["reason"]) == ["cpr_format"] * 4
    # as mask_cpr promises: no six digits in a row (also split by separators) survive
    assert not mine["raw_value"].str.contains(r"\d(?:[\s./-]*\d){5}").any(), mine["raw_value"]


# ---------------------------------------------------------------------------------------
# 5. File types
# ---------------------------------------------------------------------------------------
# SAS: pyreadstat writes sas7bdat files (write_sas7bdat) with numeric codes and upper-case
# names as a Statistics Denmark data set has them; they are read back through the SAS path.

EXTRACT = pd.DataFrame(
    {
        "pnr": CPRS[:4],
        "kon": ["K", "M", "", "M"],
        "kom": ["Aarhus", "Gladsaxe", "København", ""],
        "y_0951": ["730", "", "737", "997"],
        "y_0952": ["730", "111", "", "997"],
        "y_0953": ["", "111", "400", "999"],
        "y_1001": ["121", "", "730", ""],
        "branche_2009_12": ["", "4711", "", ""],
        "branche_2010_01": ["4711", "", "", "4711"],
    }
)


def _as_parquet(frame: pd.DataFrame, path: Path) -> Path:
    arrays = {}
    for col in frame.columns:
        cells = [c or None for c in frame[col]]
        if col.startswith("y_"):
            arrays[col] = pa.array([None if c is None else int(c) for c in cells], pa.int16())
        elif col.startswith("branche_"):
            arrays[col] = pa.array([None if c is None else int(c) for c in cells], pa.int32())
        else:
            arrays[col] = pa.array(list(cells), pa.string())
    pq.write_table(pa.table(arrays), path)
    return path


def test_csv_semicolon_comma_gzip_and_parquet_give_identical_panels(tmp_path):
    header = list(EXTRACT.columns)
    cells = EXTRACT.values.tolist()
    semicolon = _write(tmp_path / "dream_semicolon.csv", header, cells, sep=";")
    comma = _write(tmp_path / "dream_comma.csv", header, cells, sep=",")
    zipped = tmp_path / "dream_gzip.csv.gz"
    zipped.write_bytes(gzip.compress(semicolon.read_bytes()))
    parquet = _as_parquet(EXTRACT, tmp_path / "dream.parquet")
    panels = {p.name: _clean(p).panel for p in (semicolon, comma, zipped, parquet)}
    base = panels["dream_semicolon.csv"]
    assert base.codes.tolist() == [
        [730, 730, 0, 121],
        [0, 111, 111, 0],
        [737, 0, 400, 730],
        [997, 997, 999, 0],
    ]
    assert base.branche.tolist() == [[0, 1], [1, 0], [0, 0], [0, 1]]
    assert base.persons["sex"].tolist() == ["F", "M", "F", "M"]
    assert base.persons["municipality"].tolist()[:3] == ["Aarhus", "Gladsaxe", "København"]
    persons = base.persons.drop(columns=["source_file", "source_row"])
    for name, panel in panels.items():
        assert panel.weeks == base.weeks, name
        assert panel.months == base.months, name
        np.testing.assert_array_equal(panel.codes, base.codes, err_msg=name)
        np.testing.assert_array_equal(panel.branche, base.branche, err_msg=name)
        pd.testing.assert_frame_equal(
            panel.persons.drop(columns=["source_file", "source_row"]), persons, obj=name
        )
    # source_row: the CSV line (header = 1), the parquet record number
    assert panels["dream.parquet"].persons["source_row"].tolist() == [1, 2, 3, 4]
    assert base.persons["source_row"].tolist() == [2, 3, 4, 5]


def _as_sas(frame: pd.DataFrame, path: Path, *, numeric_pnr: bool = False) -> Path:
    import pyreadstat

    out = pd.DataFrame()
    for col in frame.columns:
        cells = [c or None for c in frame[col]]
        if col.startswith(("y_", "branche_")) or (col == "pnr" and numeric_pnr):
            out[col.upper()] = [np.nan if c is None else float(c) for c in cells]
        else:
            out[col.upper()] = [c or "" for c in cells]
    pyreadstat.write_sas7bdat(out, str(path))
    return path


def test_a_sas_data_set_gives_the_same_panel_as_the_csv(tmp_path):
    csv = _write(tmp_path / "dream.csv", list(EXTRACT.columns), EXTRACT.values.tolist())
    sas = _as_sas(EXTRACT, tmp_path / "dream.sas7bdat")
    numeric = _as_sas(EXTRACT, tmp_path / "dream_numeric_pnr.sas7bdat", numeric_pnr=True)
    base = _clean(csv).panel
    for path in (sas, numeric):
        result = _clean(path)
        assert result.rejects.empty, result.rejects
        panel = result.panel
        np.testing.assert_array_equal(panel.codes, base.codes)
        np.testing.assert_array_equal(panel.branche, base.branche)
        assert panel.weeks == base.weeks and panel.months == base.months
        pd.testing.assert_frame_equal(
            panel.persons.drop(columns=["source_file", "source_row"]),
            base.persons.drop(columns=["source_file", "source_row"]),
        )
        assert panel.persons["source_row"].tolist() == [1, 2, 3, 4]  # record numbers


def test_parquet_with_numeric_pnr_keeps_the_leading_zero(tmp_path):
    frame = EXTRACT.copy()
    path = _as_parquet(frame.drop(columns="pnr"), tmp_path / "dream.parquet")
    table = pq.read_table(path)
    table = table.add_column(0, "pnr", pa.array([int(c) for c in CPRS[:4]], pa.int64()))
    pq.write_table(table, path)
    result = _clean(path)
    assert result.rejects.empty
    assert len(result.panel.persons) == 4
