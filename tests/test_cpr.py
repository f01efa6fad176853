"""Tests for vip2analysis.cpr, with python-stdnum's ``stdnum.dk.cpr`` as an independent oracle.

Where parse_cpr deliberately differs from stdnum, the oracle is adjusted in
one named place (``_stdnum_verdict``) or the difference has its own test:

1. stdnum's ``validate``/``is_valid`` rejects a birth date after today;
   parse_cpr accepts it (its reasons are missing, format and date only).
2. stdnum's ``compact`` deletes spaces and hyphens anywhere and maps Unicode
   dashes to ``-``; parse_cpr allows surrounding whitespace and one ASCII
   ``-`` between YY and SSSS only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.dk import cpr as stdcpr
from stdnum.exceptions import ValidationError

from vip2analysis.clean import resolve_key
from vip2analysis.config import PACKAGE_DIR
from vip2analysis.contract import (
    DEMO_KEY,
    DEMO_KEY_ID,
    age_at,
    cpr,
    mask_cpr,
    parse_cpr,
    pseudonymise,
)
from vip2analysis.errors import KeyMissingError

COLUMNS = ["cpr", "birth_date", "sex", "reason"]
TEN_DIGITS = st.text(alphabet="0123456789", min_size=10, max_size=10)
FOUR_DIGITS = st.text(alphabet="0123456789", min_size=4, max_size=4)


def _one(value: object) -> pd.Series:
    """parse_cpr of a single value, as one row."""
    return parse_cpr(pd.Series([value], dtype=object)).iloc[0]


# --------------------------------------------------------------------------- references


def _century(seventh: int, yy: int) -> int:
    if seventh <= 3:
        return 1900
    if seventh in (4, 9):
        return 2000 if yy <= 36 else 1900
    return 2000 if yy <= 57 else 1800


def _reference(value: object) -> tuple[str | None, dt.date | None, str | None, str | None]:
    """The rules restated for one value in plain Python: (cpr, birth_date, sex, reason)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or not str(value).strip():
        return None, None, None, "cpr_missing"
    match = re.fullmatch(r"([0-9]{6})-?([0-9]{4})", str(value).strip())
    if match is None:
        return None, None, None, "cpr_format"
    digits = match[1] + match[2]
    day, month, yy, seventh = int(digits[:2]), int(digits[2:4]), int(digits[4:6]), int(digits[6])
    try:
        born = dt.date(_century(seventh, yy) + yy, month, day)
    except ValueError:
        return None, None, None, "cpr_date"
    return digits, born, "M" if int(digits[-1]) % 2 else "F", None


def _expected_frame(values: list[object], index: pd.Index) -> pd.DataFrame:
    rows = [_reference(value) for value in values]
    cprs, births, sexes, reasons = zip(*rows, strict=True) if rows else ([], [], [], [])
    return pd.DataFrame(
        {
            "cpr": pd.array(list(cprs), dtype="string"),
            "birth_date": pd.Series(
                [pd.Timestamp(b) if b else pd.NaT for b in births], dtype="datetime64[ns]"
            ).to_numpy(),
            "sex": pd.array(list(sexes), dtype="string"),
            "reason": pd.array(list(reasons), dtype="string"),
        },
        index=index,
    )


def _stdnum_verdict(text: str) -> tuple[bool, dt.date | None]:
    """stdnum's verdict on a 10-digit string, adjusted for difference 1 (future dates)."""
    if stdcpr.is_valid(text):
        return True, stdcpr.get_birth_date(text)
    try:
        born = stdcpr.get_birth_date(text)
    except ValidationError:
        return False, None
    # A real date that stdnum still rejects: the only remaining cause is a birth date
    # after today, which parse_cpr deliberately accepts.
    assert born > dt.date.today()
    return True, born


def _random_values(rng: np.random.Generator, n: int) -> list[object]:
    """A mix of date-like numbers, formatting variants and garbage."""
    days, months = rng.integers(0, 33, n), rng.integers(0, 14, n)
    tails = rng.integers(0, 10**6, n)
    values: list[object] = [
        f"{d:02d}{m:02d}{t % 100:02d}{t // 100:04d}"
        for d, m, t in zip(days, months, tails, strict=True)
    ]
    garbage = ["", "  ", None, np.nan, "abc", "0101801234x", "01018-01234", "0101--801234"]
    for i in rng.choice(n, size=n // 2, replace=False):
        kind, text = rng.integers(0, 6), values[i]
        if kind == 0:
            values[i] = f"{text[:6]}-{text[6:]}"
        elif kind == 1:
            values[i] = f" \t{text} "
        elif kind == 2:
            values[i] = text[: rng.integers(0, 10)]
        elif kind == 3:
            values[i] = text + str(rng.integers(0, 10))
        elif kind == 4:
            values[i] = str(rng.integers(0, 10**10))
        else:
            values[i] = garbage[rng.integers(0, len(garbage))]
    return values


# --------------------------------------------------------------------------- parse_cpr


@given(st.lists(TEN_DIGITS, max_size=40))
def test_ten_digit_strings_agree_with_stdnum(texts: list[str]) -> None:
    out = parse_cpr(pd.Series(texts, dtype=object))
    for text, (_, row) in zip(texts, out.iterrows(), strict=True):
        valid, born = _stdnum_verdict(text)
        assert (row["reason"] is pd.NA) == valid, text
        assert row["reason"] in ((pd.NA,) if valid else ("cpr_date",))
        if valid:
            assert row["birth_date"].date() == born
            assert row["cpr"] == stdcpr.compact(text)


@st.composite
def _date_like(draw: st.DrawFn) -> str:
    """A real day and month (the century may not fit the 7th digit), sometimes with a dash."""
    day = draw(st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2099, 12, 31)))
    text = day.strftime("%d%m%y") + draw(FOUR_DIGITS)
    return f"{text[:6]}-{text[6:]}" if draw(st.booleans()) else text


@given(st.lists(_date_like(), max_size=40))
def test_date_like_strings_agree_with_stdnum(texts: list[str]) -> None:
    out = parse_cpr(pd.Series(texts))
    for text, (_, row) in zip(texts, out.iterrows(), strict=True):
        valid, born = _stdnum_verdict(stdcpr.compact(text))
        assert (row["reason"] is pd.NA) == valid, text
        if valid:
            assert row["birth_date"].date() == born
            assert row["cpr"] == stdcpr.compact(text)


@given(st.lists(st.text(max_size=14), max_size=30))
def test_garbage_valid_only_where_stdnum_agrees(texts: list[str]) -> None:
    out = parse_cpr(pd.Series(texts, dtype=object))
    for text, (_, row) in zip(texts, out.iterrows(), strict=True):
        if row["reason"] is pd.NA:
            assert _stdnum_verdict(stdcpr.compact(text)) == (True, row["birth_date"].date())
        elif not text.strip():
            assert row["reason"] == "cpr_missing"


@pytest.mark.parametrize(
    "text",
    ["211062 0629", "21 10 62 06 29", "21-10-62-0629", "211062\u20130629", "2110620-629"],
)
def test_separators_stdnum_accepts_are_format_errors(text: str) -> None:
    """Difference 2: only one ASCII dash between YY and SSSS is accepted."""
    assert stdcpr.is_valid(text)
    assert _one(text)["reason"] == "cpr_format"


_CENTURY_TABLE = {  # 7th digit -> birth year for YY = 36, 37, 57, 58
    0: (1936, 1937, 1957, 1958),
    1: (1936, 1937, 1957, 1958),
    2: (1936, 1937, 1957, 1958),
    3: (1936, 1937, 1957, 1958),
    4: (2036, 1937, 1957, 1958),
    5: (2036, 2037, 2057, 1858),
    6: (2036, 2037, 2057, 1858),
    7: (2036, 2037, 2057, 1858),
    8: (2036, 2037, 2057, 1858),
    9: (2036, 1937, 1957, 1958),
}


@pytest.mark.parametrize("seventh", range(10))
@pytest.mark.parametrize("position, yy", [(0, 36), (1, 37), (2, 57), (3, 58)])
def test_century_table(seventh: int, position: int, yy: int) -> None:
    text = f"0101{yy:02d}{seventh}000"
    year = _CENTURY_TABLE[seventh][position]
    assert _one(text)["birth_date"] == pd.Timestamp(year, 1, 1)
    assert stdcpr.get_birth_date(text) == dt.date(year, 1, 1)  # no "future" check here


@pytest.mark.parametrize(
    "text, reason, born",
    [
        ("290223-1234", "cpr_date", None),  # 1923 is not a leap year
        ("290224-0234", None, dt.date(1924, 2, 29)),
        ("290200-0234", "cpr_date", None),  # 1900: divisible by 100, not by 400
        ("290200-4234", None, dt.date(2000, 2, 29)),
        ("290258-5234", "cpr_date", None),  # 1858
        ("011385-1234", "cpr_date", None),  # month 13
        ("000185-1234", "cpr_date", None),
        ("320185-1234", "cpr_date", None),
        ("310485-1234", "cpr_date", None),
        ("01018512345", "cpr_format", None),  # 11 digits
        ("010185123", "cpr_format", None),  # a 9-character string is not padded
        ("01O185-1234", "cpr_format", None),
        ("01018-51234", "cpr_format", None),
        ("010185--1234", "cpr_format", None),
        ("٠١٠١٨٥١٢٣٤", "cpr_format", None),  # Arabic-Indic digits
        ("", "cpr_missing", None),
        (" \t", "cpr_missing", None),
        (None, "cpr_missing", None),
        (np.nan, "cpr_missing", None),
        (pd.NA, "cpr_missing", None),
    ],
)
def test_reasons(text: object, reason: str | None, born: dt.date | None) -> None:
    row = _one(text)
    if reason is None:
        assert row["reason"] is pd.NA
        assert row["birth_date"] == pd.Timestamp(born)
    else:
        assert row["reason"] == reason
        assert row[["cpr", "birth_date", "sex"]].isna().all()


@pytest.mark.parametrize("last", range(10))
def test_sex_from_last_digit(last: int) -> None:
    assert _one(f"010180123{last}")["sex"] == ("M" if last % 2 else "F")


def test_dash_whitespace_and_plain_agree() -> None:
    out = parse_cpr(pd.Series(["0101801235", "010180-1235", "  010180-1235\n", "\xa00101801235"]))
    assert (out.nunique() == [1, 1, 1, 0]).all()
    assert out["cpr"].iloc[0] == "0101801235"


@pytest.mark.parametrize("dtype", ["int64", "float64", "Int64", "Float64", "uint64"])
def test_numbers_get_their_leading_zero_back(dtype: str) -> None:
    out = parse_cpr(pd.Series([101801234, 3112991235], dtype=dtype))
    assert out["cpr"].tolist() == ["0101801234", "3112991235"]


def test_numbers_with_missing_and_non_cpr_values() -> None:
    values = pd.Series([101801234.0, np.nan, 10180123.0, 1.5, -101801234.0, 10**10 + 1])
    out = parse_cpr(values)
    assert out["reason"].tolist() == [
        pd.NA,
        "cpr_missing",
        *["cpr_format"] * 4,
    ]


def test_vectorised_equals_per_value_loop() -> None:
    values = _random_values(np.random.default_rng(20260101), 10_000)
    index = pd.Index(np.arange(10_000) * 3 + 7)
    out = parse_cpr(pd.Series(values, index=index, dtype=object))
    assert out["reason"].value_counts().min() > 100  # every reason is exercised
    pd.testing.assert_frame_equal(out, _expected_frame(values, index))


@given(st.lists(st.one_of(TEN_DIGITS, _date_like(), st.text(max_size=12), st.none())))
def test_index_kept_input_not_mutated_idempotent(values: list[object]) -> None:
    series = pd.Series(values, index=[f"r{i}" for i in range(len(values))], dtype=object)
    before = series.copy()
    out = parse_cpr(series)
    pd.testing.assert_series_equal(series, before)
    assert out.columns.tolist() == COLUMNS
    assert out.index.equals(series.index)
    again = parse_cpr(out["cpr"].dropna())
    pd.testing.assert_frame_equal(again, out.dropna(subset=["cpr"]))


def test_output_dtypes_and_empty_input() -> None:
    out = parse_cpr(pd.Series([], dtype=object))
    assert out.empty
    assert out.dtypes.astype(str).tolist() == ["string", "datetime64[ns]", "string", "string"]


def test_rejects_non_series() -> None:
    with pytest.raises(TypeError, match="pandas Series"):
        parse_cpr(["0101801234"])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- age_at


def _dates(*texts: str | None) -> pd.Series:
    return pd.Series(pd.to_datetime(list(texts), format="%Y-%m-%d"))


@pytest.mark.parametrize(
    "born, on, age",
    [
        ("1980-06-15", "2008-06-14", 27),
        ("1980-06-15", "2008-06-15", 28),
        ("2000-02-29", "2001-02-28", 0),
        ("2000-02-29", "2001-03-01", 1),
        ("2000-02-29", "2004-02-28", 3),
        ("2000-02-29", "2004-02-29", 4),
        ("2000-03-01", "2004-02-29", 3),
        ("2008-01-02", "2008-01-01", -1),
    ],
)
def test_age_at(born: str, on: str, age: int) -> None:
    assert age_at(_dates(born), _dates(on)).tolist() == [age]


def test_age_at_missing_scalar_and_index() -> None:
    born = _dates("1980-06-15", None, "1990-01-01")
    on = _dates("2008-06-15", "2008-01-01", None)
    result = age_at(born, on)
    assert result.dtype == "Int64"
    assert result.tolist() == [28, pd.NA, pd.NA]
    assert age_at(born, pd.Timestamp("2010-01-01")).tolist() == [29, pd.NA, 20]
    with pytest.raises(ValueError, match="same index"):
        age_at(born, on.set_axis([5, 6, 7]))


@given(
    st.lists(
        st.tuples(
            st.dates(min_value=dt.date(1858, 1, 1), max_value=dt.date(2057, 12, 31)),
            st.dates(min_value=dt.date(1858, 1, 1), max_value=dt.date(2099, 12, 31)),
        ),
        min_size=1,
    )
)
def test_age_at_matches_reference(pairs: list[tuple[dt.date, dt.date]]) -> None:
    born = pd.Series([pd.Timestamp(b) for b, _ in pairs]).astype("datetime64[s]")
    on = pd.Series([pd.Timestamp(d) for _, d in pairs])
    expected = [d.year - b.year - ((d.month, d.day) < (b.month, b.day)) for b, d in pairs]
    assert age_at(born, on).tolist() == expected


# --------------------------------------------------------------------------- mask_cpr


def test_mask_examples() -> None:
    values = pd.Series(
        [
            "300285-1234",
            "3002851234",
            " 300285-1234 ",
            "x3002851234",
            "id 30 02 85 12 34",
            "A17",
            None,
        ],
        index=list("abcdefg"),
        name="cpr",
    )
    out = mask_cpr(values)
    assert out.tolist() == [
        "3002XX-XXXX",
        "3002XX-XXXX",
        "3002XX-XXXX",
        "xXXXXXXXXXX",
        "id XX XX XX XX XX",
        "A17",
        pd.NA,
    ]
    assert out.index.equals(values.index)
    assert out.dtype == "string"


def test_mask_numbers() -> None:
    out = mask_cpr(pd.Series([101801234, 3002851234], dtype="Int64"))
    assert out.tolist() == ["0101XX-XXXX", "3002XX-XXXX"]


@given(st.lists(st.one_of(st.text(), TEN_DIGITS, _date_like(), st.none())))
def test_mask_never_leaves_long_digit_runs(values: list[object]) -> None:
    out = mask_cpr(pd.Series(values, dtype=object))
    assert out.isna().tolist() == [v is None for v in values]
    for text in out.dropna():
        assert not re.search(r"\d{10}", text)
        assert not re.search(r"\d(?:[\s./-]*\d){5}", text)


@given(_date_like())
def test_mask_keeps_day_and_month_of_cpr(text: str) -> None:
    assert mask_cpr(pd.Series([text])).iloc[0] == text[:4] + "XX-XXXX"


# --------------------------------------------------------------------------- pseudonymise


def test_pseudonym_equals_hashlib() -> None:
    key = b"a test key of 24 bytes!!"
    expected = hashlib.blake2b(b"3002851234", key=key, digest_size=16).hexdigest()
    out = pseudonymise(pd.Series(["300285-1234", "3002851234", " 3002851234 "]), key=key)
    assert out.tolist() == [expected] * 3
    assert re.fullmatch(r"[0-9a-f]{32}", expected)


def test_pseudonyms_stable_and_keyed() -> None:
    values = pd.Series(["0101801234", "0202802345", None, ""], index=[3, 1, 4, 1], name="cpr")
    first = pseudonymise(values, key=b"k1" * 8)
    pd.testing.assert_series_equal(first, pseudonymise(values.copy(), key=b"k1" * 8))
    other = pseudonymise(values, key=b"k2" * 8)
    assert (first.iloc[:2] != other.iloc[:2]).all()
    assert first.iloc[0] != first.iloc[1]
    assert first.iloc[2:].isna().all()
    assert first.dtype == "string"
    assert first.name == "cpr"
    assert first.index.equals(values.index)


def test_each_distinct_number_hashed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []
    hash_all = cpr._hash_all

    def counting(numbers: list[bytes], key: bytes) -> bytes:
        calls.extend(numbers)
        return hash_all(numbers, key)

    def digest(number: bytes) -> str:
        return hashlib.blake2b(number, key=b"k" * 16, digest_size=16).hexdigest()

    monkeypatch.setattr(cpr, "_hash_all", counting)
    values = pd.Series(["0101801234", "010180-1234", "0202802345", None] * 50_000)
    out = pseudonymise(values, key=b"k" * 16)
    assert sorted(calls) == [b"0101801234", b"0202802345"]
    assert out.nunique() == 2
    assert out.iloc[:4].tolist() == [digest(b"0101801234")] * 2 + [digest(b"0202802345"), pd.NA]


def test_pseudonymise_numbers_like_parse() -> None:
    numbers = pseudonymise(pd.Series([101801234], dtype="int64"), key=b"k" * 16)
    assert numbers.iloc[0] == pseudonymise(pd.Series(["010180-1234"]), key=b"k" * 16).iloc[0]


def test_pseudonymise_rejects_non_cpr_with_masked_evidence() -> None:
    with pytest.raises(ValueError, match=r"1 value\(s\) are not CPR numbers") as info:
        pseudonymise(pd.Series(["0101801234", "30028512345"]), key=b"k" * 16)
    assert "XXXXXXXXXXX" in str(info.value)
    assert "3002851234" not in str(info.value)


@pytest.mark.parametrize(
    "key, error",
    [
        (b"", ValueError),
        (b"k", ValueError),
        (b"k" * 15, ValueError),
        (b"k" * 65, ValueError),
        ("text", TypeError),
    ],
)
def test_pseudonymise_rejects_bad_keys(key: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="key must be"):
        pseudonymise(pd.Series(["0101801234"]), key=key)  # type: ignore[arg-type]


def test_longest_key_and_demo_constants() -> None:
    assert pseudonymise(pd.Series(["0101801234"]), key=b"k" * 64).notna().all()
    assert DEMO_KEY == b"vip2analysis-public-demo-key-synthetic-data-only"
    assert DEMO_KEY_ID == "vip2-demo-2026"
    assert len(DEMO_KEY) <= 64


# --------------------------------------------------------------------------- resolve_key

NO_KEY = (
    "No pseudonymisation key. Set VIP2_PSEUDONYM_KEY or VIP2_PSEUDONYM_KEY_FILE, or pass "
    "--key-file PATH (a file outside the repository). Only the bundled synthetic data may use "
    "the public demo key."
)


def test_key_file_first_and_newline_stripped(tmp_path) -> None:
    path = tmp_path / "key.txt"
    path.write_bytes(b"secret from file\n")
    env = {"VIP2_PSEUDONYM_KEY": "from env"}
    assert resolve_key(key_file=path, env=env) == b"secret from file"
    assert resolve_key(key_file=str(path), env={}) == b"secret from file"


@pytest.mark.parametrize("content", [None, b"", b"\n", b"k" * 65])
def test_unusable_key_file_names_path(tmp_path, content: bytes | None) -> None:
    path = tmp_path / "key.txt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(KeyMissingError, match=re.escape(str(path.resolve()))):
        resolve_key(key_file=path, env={})


def test_key_file_inside_package_refused() -> None:
    inside = PACKAGE_DIR / "data" / "pseudonym.key"  # checked before it is read
    with pytest.raises(KeyMissingError, match="inside the package directory") as info:
        resolve_key(key_file=inside, env={})
    assert str(inside) in str(info.value)
    with pytest.raises(KeyMissingError, match="inside the package directory"):
        resolve_key(env={"VIP2_PSEUDONYM_KEY_FILE": str(inside)})


def test_env_key_then_env_key_file(tmp_path) -> None:
    path = tmp_path / "key"
    path.write_bytes(b"the file key, 25 bytes..\r\n")
    both = {"VIP2_PSEUDONYM_KEY": "the text key, 24 bytes.\n", "VIP2_PSEUDONYM_KEY_FILE": str(path)}
    assert resolve_key(env=both) == b"the text key, 24 bytes."
    assert resolve_key(env={"VIP2_PSEUDONYM_KEY_FILE": str(path)}) == b"the file key, 25 bytes.."
    with pytest.raises(KeyMissingError, match="VIP2_PSEUDONYM_KEY is 0 bytes"):
        resolve_key(env={"VIP2_PSEUDONYM_KEY": ""})


@pytest.mark.parametrize("key", [b"x", b"0123456789abcde"])
def test_a_key_shorter_than_16_bytes_is_refused(tmp_path, key) -> None:
    """A 1-byte key file was accepted before: a guessable key makes pseudonyms reversible."""
    path = tmp_path / "key"
    path.write_bytes(key + b"\n")
    with pytest.raises(KeyMissingError, match=f"is {len(key)} bytes; it must be 16 to 64"):
        resolve_key(env={"VIP2_PSEUDONYM_KEY_FILE": str(path)})


def test_demo_key_only_when_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_key(env={}, allow_demo=True) == DEMO_KEY
    with pytest.raises(KeyMissingError) as info:
        resolve_key(env={})
    assert str(info.value) == NO_KEY
    demo = {"VIP2_PSEUDONYM_KEY": DEMO_KEY.decode()}
    with pytest.raises(KeyMissingError, match="public demo key"):
        resolve_key(env=demo)
    assert resolve_key(env=demo, allow_demo=True) == DEMO_KEY
    monkeypatch.setenv("VIP2_PSEUDONYM_KEY", "from os.environ, 24 b.")
    assert resolve_key() == b"from os.environ, 24 b."
