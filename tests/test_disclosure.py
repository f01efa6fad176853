"""Tests of small-cell suppression, with an adversary that tries to undo it."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from vip2analysis.publish import (
    SECONDARY_MARKER,
    TOTAL_LABEL,
    can_fit,
    format_suppressed,
    protect_series,
    protect_table,
    suppress_rates,
)

K = 5

# --- the adversary ---------------------------------------------------------------------
# It knows the published cells and totals, the marker conventions ("<k" is 1..k-1, or
# 0..k-1 when zeros are suppressed too; "x" is a cell of at least 1, since only non-zero
# cells are chosen for secondary suppression) and that cells are non-negative.


def _equations(published: pd.DataFrame | pd.Series) -> list[tuple[list, object]]:
    """(parts, total) label pairs: the published parts of each line add up to its total."""
    if isinstance(published, pd.Series):
        parts = [lab for lab in published.index if lab != TOTAL_LABEL]
        return [([(p,) for p in parts], (TOTAL_LABEL,))]
    rows = [r for r in published.index if r != TOTAL_LABEL]
    cols = [c for c in published.columns if c != TOTAL_LABEL]
    eqs = [([(r, c) for c in cols], (r, TOTAL_LABEL)) for r in [*rows, TOTAL_LABEL]]
    eqs += [([(r, c) for r in rows], (TOTAL_LABEL, c)) for c in [*cols, TOTAL_LABEL]]
    return eqs


def _cells(published: pd.DataFrame | pd.Series) -> dict[tuple, object]:
    if isinstance(published, pd.Series):
        return {(lab,): v for lab, v in published.items()}
    return {(r, c): published.at[r, c] for r in published.index for c in published.columns}


def _known_range(value: object, k: int, zeros_hidden: bool) -> tuple[float, float]:
    if value == f"<{k}":
        return (0 if zeros_hidden else 1, k - 1)
    if value == SECONDARY_MARKER:
        return (1, math.inf)
    return (value, value)


def subtraction_attack(published: pd.DataFrame | pd.Series) -> dict[tuple, int]:
    """Cells recovered by repeatedly solving lines with exactly one unknown."""
    cells = _cells(published)
    known = {key: v for key, v in cells.items() if not isinstance(v, str)}
    recovered: dict[tuple, int] = {}
    progress = True
    while progress:
        progress = False
        for parts, total in _equations(published):
            unknown = [c for c in [*parts, total] if c not in known]
            if len(unknown) != 1:
                continue
            part_sum = sum(known[p] for p in parts if p in known)
            cell = unknown[0]
            value = known[total] - part_sum if cell != total else part_sum
            known[cell] = recovered[cell] = value
            progress = True
    return recovered


def lp_attack(published, *, k: int, zeros_hidden: bool = False) -> dict[tuple, tuple]:
    """Smallest and largest feasible value of every suppressed cell."""
    cells = _cells(published)
    unknown = [key for key, v in cells.items() if isinstance(v, str)]
    pos = {key: i for i, key in enumerate(unknown)}
    a_eq, b_eq = [], []
    for parts, total in _equations(published):
        row = np.zeros(len(unknown))
        rhs = 0.0
        for cell, sign in [*((p, 1) for p in parts), (total, -1)]:
            if cell in pos:
                row[pos[cell]] += sign
            else:
                rhs -= sign * cells[cell]
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)
    bounds = [_known_range(cells[key], k, zeros_hidden) for key in unknown]
    bounds = [(lo, None if math.isinf(hi) else hi) for lo, hi in bounds]
    out = {}
    for key in unknown:
        c = np.zeros(len(unknown))
        c[pos[key]] = 1.0
        ends = []
        for sign in (1, -1):
            res = linprog(
                sign * c,
                A_eq=np.array(a_eq) if a_eq else None,
                b_eq=np.array(b_eq) if a_eq else None,
                bounds=bounds,
                method="highs",
            )
            if res.status == 3:  # unbounded: no upper (or lower) limit at all
                ends.append(-sign * math.inf)
                continue
            assert res.status == 0, res.message
            ends.append(sign * res.fun)
        out[key] = (ends[0], ends[1])
    return out


def _true_cells(counts: pd.DataFrame | pd.Series) -> dict[tuple, int]:
    if isinstance(counts, pd.Series):
        full = pd.concat([counts, pd.Series({TOTAL_LABEL: counts.sum()})])
        return {(lab,): int(v) for lab, v in full.items()}
    full = counts.copy()
    full[TOTAL_LABEL] = full.sum(axis=1)
    full.loc[TOTAL_LABEL] = full.sum(axis=0)
    return {(r, c): int(full.at[r, c]) for r in full.index for c in full.columns}


def assert_protected(counts, published, *, k: int = K, zeros_hidden: bool = False) -> None:
    truth = _true_cells(counts)
    assert subtraction_attack(published) == {}
    for cell, (lo, hi) in lp_attack(published, k=k, zeros_hidden=zeros_hidden).items():
        assert lo - 1e-6 <= truth[cell] <= hi + 1e-6, "the adversary's model must be sound"
        assert hi - lo >= 1 - 1e-6, f"cell {cell} is pinned to {truth[cell]}"


# --- strategies ---------------------------------------------------------------------------

values = st.one_of(st.integers(0, 4), st.integers(0, 30))


@st.composite
def crosstabs(draw) -> pd.DataFrame:
    n_rows, n_cols = draw(st.integers(2, 6)), draw(st.integers(2, 6))
    cells = draw(st.lists(values, min_size=n_rows * n_cols, max_size=n_rows * n_cols))
    return pd.DataFrame(
        np.array(cells, dtype=np.int64).reshape(n_rows, n_cols),
        index=[f"r{i}" for i in range(n_rows)],
        columns=[f"c{j}" for j in range(n_cols)],
    )


series = st.lists(values, min_size=2, max_size=8).map(
    lambda v: pd.Series(v, index=[f"g{i}" for i in range(len(v))], dtype="int64")
)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- rates --------------------------------------------------------------------------------


def _rates(n, events, **extra) -> pd.DataFrame:
    n, events = np.asarray(n), np.asarray(events)
    rate = events / n
    return pd.DataFrame(
        {
            "group": [f"g{i}" for i in range(len(n))],
            "n": n,
            "events": events,
            "rate": rate,
            "conf_low": rate * 0.8,
            "conf_high": np.minimum(rate * 1.2, 1.0),
            "denominator_rule": "ended courses",
            **extra,
        }
    )


def test_primary_rule_on_rates() -> None:
    out = suppress_rates(_rates([20, 12, 10], [3, 10, 5]))
    assert out["suppressed"].tolist() == [True, True, False]
    assert out["suppression"].tolist() == ["primary", "primary", pd.NA]
    assert out.loc[:1, ["events", "rate", "conf_low", "conf_high"]].isna().all().all()
    assert out.loc[2, "events"] == 5 and out.loc[2, "rate"] == 0.5
    assert out["n"].tolist() == [20, 12, 10], "n of at least k is shown"


def test_small_denominator_hides_n_in_two_rows() -> None:
    out = suppress_rates(_rates([4, 30, 50], [2, 12, 20]))
    assert out["n"].isna().tolist() == [True, True, False]
    assert out["suppression"].tolist() == ["primary", "secondary", pd.NA]


def test_lone_suppressed_row_gets_a_partner_with_the_smallest_n() -> None:
    out = suppress_rates(_rates([40, 30, 20, 50], [3, 12, 8, 20]))
    assert out["suppression"].tolist() == ["primary", pd.NA, "secondary", pd.NA]
    assert out["events"].isna().tolist() == [True, False, True, False]


def test_each_denominator_rule_is_its_own_group() -> None:
    rates = pd.concat([_rates([40, 30], [3, 12]), _rates([30, 25], [12, 10])])
    rates["denominator_rule"] = ["ended courses"] * 2 + ["completed courses"] * 2
    out = suppress_rates(rates.reset_index(drop=True))
    assert out["suppressed"].tolist() == [True, True, False, False]
    whole = suppress_rates(rates.reset_index(drop=True), within=None)
    assert whole["suppressed"].sum() == 2


def test_suppress_rates_is_idempotent_and_keeps_input() -> None:
    rates = _rates([20, 12, 10, 9, 40], [3, 10, 5, 4, 20])
    before = rates.copy()
    once = suppress_rates(rates)
    pd.testing.assert_frame_equal(rates, before)
    pd.testing.assert_frame_equal(suppress_rates(once), once)


def test_suppress_rates_needs_its_columns() -> None:
    with pytest.raises(KeyError, match="conf_low"):
        suppress_rates(_rates([20], [10]).drop(columns="conf_low"))


# --- tables with totals -------------------------------------------------------------------


def test_protect_table_known_case() -> None:
    counts = pd.DataFrame({"Ja": [3, 20, 31], "Nej": [12, 25, 40]}, index=["A", "B", "C"])
    published, mask = protect_table(counts)
    assert published.loc["A", "Ja"] == "<5"
    assert published.loc["C"].tolist() == [31, 40, 71]
    assert published.loc[TOTAL_LABEL].tolist() == [54, 77, 131]
    assert mask.to_numpy().sum() == 4
    assert_protected(counts, published)


def test_two_small_cells_summing_to_their_minimum_are_not_left_alone() -> None:
    # Row a: two cells of 1 -> "<5" + "<5" with a known remainder of 2 pins both to 1.
    counts = pd.DataFrame(
        [[1, 1, 20], [10, 12, 15], [11, 13, 16]], columns=["x", "y", "z"], index=["a", "b", "c"]
    )
    published, _ = protect_table(counts)
    assert_protected(counts, published)


def test_small_total_is_suppressed_too() -> None:
    counts = pd.DataFrame([[1, 2, 0], [10, 12, 15], [11, 13, 16]])
    published, _ = protect_table(counts)
    assert published.loc[0, TOTAL_LABEL] == "<5"
    assert_protected(counts, published)


def test_zeros_are_published_unless_asked() -> None:
    counts = pd.DataFrame([[0, 10, 12], [8, 9, 20], [7, 6, 30]])
    published, mask = protect_table(counts)
    assert published.loc[0, 0] == 0 and not mask.to_numpy().any()
    published, mask = protect_table(counts, suppress_zeros=True)
    assert published.loc[0, 0] == "<5"
    assert_protected(counts, published, zeros_hidden=True)


def test_without_margins_only_primary() -> None:
    counts = pd.DataFrame([[3, 10], [8, 9]])
    published, mask = protect_table(counts, margins=False)
    assert published.shape == (2, 2)
    assert mask.to_numpy().tolist() == [[True, False], [False, False]]


def test_protect_table_keeps_input_and_labels() -> None:
    counts = pd.crosstab(
        pd.Categorical(["F", "M", "F", "M"] * 5), pd.Categorical(["a"] * 12 + ["b"] * 8)
    )
    before = counts.copy()
    published, mask = protect_table(counts)
    pd.testing.assert_frame_equal(counts, before)
    assert published.index.tolist() == ["F", "M", TOTAL_LABEL]
    assert mask.columns.tolist() == ["a", "b", TOTAL_LABEL]


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        (pd.DataFrame([[1, -2], [3, 4]]), "non-negative whole numbers"),
        (pd.DataFrame([[1.5, 2], [3, 4]]), "non-negative whole numbers"),
        (pd.DataFrame([[np.nan, 2], [3, 4]]), "non-negative whole numbers"),
        (pd.DataFrame([[1, 2], [3, 4]], index=["a", TOTAL_LABEL]), "already hold"),
    ],
)
def test_protect_table_rejects_bad_input(counts: pd.DataFrame, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        protect_table(counts)


def test_k_two_needs_hidden_zeros() -> None:
    counts = pd.DataFrame([[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="reveal the value 1"):
        protect_table(counts, k=2)
    with pytest.raises(ValueError, match="at least 2"):
        protect_table(counts, k=1)
    published, _ = protect_table(counts, k=2, suppress_zeros=True)
    assert published.loc[0, 0] == "<2"


@SETTINGS
@given(crosstabs())
def test_adversary_recovers_nothing_from_a_table(counts: pd.DataFrame) -> None:
    before = counts.copy()
    published, mask = protect_table(counts)
    pd.testing.assert_frame_equal(counts, before)
    assert (mask == published.map(lambda v: isinstance(v, str))).all().all()
    secondary = published == SECONDARY_MARKER
    assert (_full(counts)[secondary.to_numpy()] > 0).all(), "only non-zero cells as 'x'"
    for line in [*mask.to_numpy(), *mask.to_numpy().T]:
        assert line.sum() != 1
    assert_protected(counts, published)


@SETTINGS
@given(crosstabs())
def test_adversary_recovers_nothing_when_zeros_are_hidden(counts: pd.DataFrame) -> None:
    published, _ = protect_table(counts, suppress_zeros=True)
    assert_protected(counts, published, zeros_hidden=True)


@SETTINGS
@given(series)
def test_adversary_recovers_nothing_from_a_series(counts: pd.Series) -> None:
    before = counts.copy()
    published, mask = protect_series(counts)
    pd.testing.assert_series_equal(counts, before)
    assert mask.sum() != 1
    small = counts[(counts > 0) & (counts < K)].index
    # "<5", or "x" where the markers alone would pin a cell down (all cells small)
    assert published[small].isin(["<5", SECONDARY_MARKER]).all()
    assert_protected(counts, published)


def test_all_small_cells_are_shown_as_x_when_markers_would_pin_them():
    """Four 1s under a total of 4: '<5' everywhere would tell that every cell is 1."""
    counts = pd.DataFrame([[1, 1], [1, 1]], index=["r0", "r1"], columns=["c0", "c1"])
    published, _ = protect_table(counts)
    assert (published == SECONDARY_MARKER).all().all()
    assert_protected(counts, published)


def _full(counts: pd.DataFrame) -> np.ndarray:
    full = counts.copy()
    full[TOTAL_LABEL] = full.sum(axis=1)
    full.loc[TOTAL_LABEL] = full.sum(axis=0)
    return full.to_numpy()


def test_protect_series_without_total() -> None:
    published, mask = protect_series(pd.Series([3, 10, 20]), total=False)
    assert published.tolist() == ["<5", 10, 20]
    assert mask.tolist() == [True, False, False]


# --- display and models -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [(pd.NA, {}, "<5"), (np.nan, {"k": 10}, "<10"), (None, {"secondary": True}, "x"), (7, {}, 7)],
)
def test_format_suppressed(value: object, kwargs: dict, expected: object) -> None:
    assert format_suppressed(value, **kwargs) == expected


def test_can_fit_rule() -> None:
    assert can_fit(20, 10)
    assert not can_fit(19, 10)
    assert can_fit(100, 4, cells=[5, 95])
    assert not can_fit(100, 4, cells=[4, 96])
    assert not can_fit(30, 4, min_df=30)
    with pytest.raises(ValueError, match="non-negative"):
        can_fit(-1, 2)


def test_the_planners_warm_started_ranges_equal_scipys_linprog():
    """The planner solves one HiGHS model again per objective (warm starts); its smallest
    and largest values equal scipy's linprog, solved from scratch each time."""
    from vip2analysis.publish.register import _Ranges

    rng = np.random.default_rng(7)
    for _ in range(40):
        n = int(rng.integers(2, 30))
        a = rng.integers(-1, 2, size=(int(rng.integers(1, n + 1)), n)).astype(float)
        b = a @ rng.integers(0, 9, size=n).astype(float)
        bounds = [(0.0, None if rng.random() < 0.7 else 8.0) for _ in range(n)]
        ranges = _Ranges((a, b, bounds))
        for j in range(n):
            low = linprog(np.eye(n)[j], A_eq=a, b_eq=b, bounds=bounds, method="highs")
            high = linprog(-np.eye(n)[j], A_eq=a, b_eq=b, bounds=bounds, method="highs")
            lo, hi = ranges.range(j)
            assert lo == pytest.approx(low.fun, abs=1e-7)
            assert hi == (np.inf if high.status == 3 else pytest.approx(-high.fun, abs=1e-7))
        assert ranges.range(0, only_low=-1.0)[1] == np.inf  # the largest is skipped


def test_the_planner_writes_nothing_to_standard_output():
    """HiGHS prints a banner when a process makes its first model; a notebook must not
    show it (the descriptor is silenced while the first model is made)."""
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from vip2analysis.publish.register import _Ranges\n"
        "r = _Ranges((np.array([[1.0, 1.0]]), np.array([3.0]), [(0.0, None), (0.0, None)]))\n"
        "assert r.range(0) == (0.0, 3.0)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "" and "HiGHS" not in res.stderr
