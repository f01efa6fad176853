"""Danish CPR numbers as the data contract defines them: parse, mask, age, pseudonym.

A CPR number is ``DDMMYY-SSSS``. The first digit of ``SSSS`` (the 7th digit)
gives the century together with ``YY``; the last digit gives the sex (odd is
male). The modulus-11 check was dropped in 2007 and is not enforced here.
``person_id`` is the keyed BLAKE2b pseudonym of the ten digits (:func:`pseudonymise`).

Every function works on the distinct values of a column, so a column of a
million rows with far fewer distinct persons is cheap; pyarrow-backed text is
parsed row by row in vectorised kernels instead, and each distinct number is
hashed once.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from vip2analysis.contract.text import is_arrow_text, stripped
from vip2analysis.errors import ArgumentTypeError, DataError, ParameterError

__all__ = [
    "CPR_LIKE",
    "DEMO_KEY",
    "DEMO_KEY_ID",
    "MAX_KEY_BYTES",
    "MIN_KEY_BYTES",
    "age_at",
    "mask_cpr",
    "parse_cpr",
    "pseudonymise",
]


DEMO_KEY: bytes = b"vip2analysis-public-demo-key-synthetic-data-only"
"""The public key of the bundled synthetic data set. Never use it for real data."""


DEMO_KEY_ID = "vip2-demo-2026"


#: A CPR-shaped token (DDMMYY-SSSS or DDMMYYSSSS with a plausible day and month) that is
#: not part of a longer run of letters or digits (so hex pseudonyms do not match).
CPR_LIKE = r"(?<![0-9A-Za-z])(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])\d{2}-?\d{4}(?![0-9A-Za-z])"
"""The name under which a data folder may declare that it uses :data:`DEMO_KEY`."""


MAX_KEY_BYTES = 64  # BLAKE2b's limit
MIN_KEY_BYTES = 16  # shorter keys can be guessed; BLAKE2b's own guidance is 16 or more


_TEXT = pd.StringDtype("python")  # Python `re` semantics for the string operations below


_OUT = pd.StringDtype()  # the returned string columns (missing is <NA>)


_CPR_RE = r"([0-9]{6})-?([0-9]{4})"


_DIGIT_RUN_RE = r"\d(?:[\s./-]*\d){5}"  # six digits, possibly split by separators


_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


_SEXES = pd.array(["F", "M"], dtype=_OUT)  # by the last digit: even, odd


_REASONS = pd.array(["cpr_missing", "cpr_format", "cpr_date"], dtype=_OUT)


def parse_cpr(values: pd.Series) -> pd.DataFrame:
    """Validate CPR numbers and derive birth date and sex.

    Parameters
    ----------
    values : pandas.Series
        CPR numbers as text (``DDMMYY-SSSS`` or ``DDMMYYSSSS``, surrounding
        whitespace allowed; a dash is allowed only between ``YY`` and
        ``SSSS``). If the Series has a numeric dtype (a spreadsheet cell read
        as a number), whole numbers are used and a 9-digit number gets back
        its lost leading zero; a 9-character *string* stays invalid.

    Returns
    -------
    pandas.DataFrame
        Same index as ``values``, with columns ``cpr`` (normalised
        ``DDMMYYSSSS``), ``birth_date`` (``datetime64[ns]``), ``sex`` (``"F"``
        or ``"M"``) and ``reason``. For valid numbers ``reason`` is <NA>;
        otherwise the other columns are missing and ``reason`` is one of
        ``"cpr_missing"`` (missing or blank), ``"cpr_format"`` (not 10
        digits) or ``"cpr_date"`` (no such calendar date). Birth dates in the
        future are *not* rejected. The modulus-11 check is not applied.

    Examples
    --------
    >>> out = parse_cpr(pd.Series(["211062-0629", " 2902231234", "31138512", None]))
    >>> out
              cpr birth_date   sex       reason
    0  2110620629 1962-10-21     M         <NA>
    1        <NA>        NaT  <NA>     cpr_date
    2        <NA>        NaT  <NA>   cpr_format
    3        <NA>        NaT  <NA>  cpr_missing
    >>> parse_cpr(pd.Series([101801234]))[["cpr", "birth_date", "sex"]]
              cpr birth_date sex
    0  0101801234 1980-01-01   F
    """
    codes, text = _texts(values)
    table = _parse_text(text)
    if codes is None:
        return table.set_axis(values.index, axis=0)
    out = pd.DataFrame(
        {name: table[name].array.take(codes, allow_fill=True) for name in table},
        index=values.index,
    )
    out["reason"] = out["reason"].mask(codes < 0, "cpr_missing")
    return out


def _texts(values: pd.Series) -> tuple[np.ndarray | None, pd.Series]:
    """Like :func:`_distinct_text`, but pyarrow strings stay one text per row (codes None).

    On pyarrow strings every step runs vectorised, so factorizing would only add cost.
    """
    if isinstance(values, pd.Series) and is_arrow_text(values):
        return None, stripped(values).fillna("")
    return _distinct_text(values)


def _distinct_text(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Factorize ``values``; return the codes (-1 for missing) and the distinct values as text."""
    if not isinstance(values, pd.Series):
        raise ArgumentTypeError(
            f"Expected a pandas Series, but {type(values).__name__} was passed."
        )
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    dtype = values.dtype
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        return codes, _number_text(np.asarray(uniques, dtype="float64"))
    return codes, pd.Series(uniques, dtype=object).astype(_TEXT).str.strip()


def _number_text(numbers: np.ndarray) -> pd.Series:
    """Whole numbers in CPR range as digits, 9-digit ones left-padded; others as ``"?"``."""
    whole = np.isfinite(numbers) & (numbers >= 0) & (numbers < 1e10) & (numbers % 1 == 0)
    text = pd.Series(np.where(whole, numbers, 0).astype("int64")).astype(_TEXT)
    text = text.mask(text.str.len() == 9, "0" + text)
    return text.where(whole, "?")


def _parse_text(text: pd.Series) -> pd.DataFrame:
    """Parse stripped texts (string dtype) into the output columns."""
    digits = text.str.replace("-", "", regex=False).where(text.str.fullmatch(_CPR_RE))
    number = digits.fillna("0101000000").astype("int64[pyarrow]").to_numpy("int64")
    birth = _birth_date(number)
    valid = digits.notna().to_numpy() & ~np.isnat(birth)
    reason = np.select(
        [text.fillna("").eq("").to_numpy(dtype=bool), digits.isna().to_numpy(), ~valid],
        [0, 1, 2],
        default=-1,
    )
    return pd.DataFrame(
        {
            "cpr": pd.array(digits.where(valid), dtype=_OUT),
            "birth_date": pd.Series(birth, dtype="datetime64[ns]").where(valid),
            "sex": _SEXES.take(np.where(valid, number % 2, -1), allow_fill=True),
            "reason": _REASONS.take(reason, allow_fill=True),
        }
    )


def _birth_date(number: np.ndarray) -> np.ndarray:
    """Birth dates (``datetime64[D]``, NaT if no such date) of 10-digit numbers."""
    day, month, yy = number // 10**8, number // 10**6 % 100, number // 10**4 % 100
    year = yy + _century(seventh=number // 1000 % 10, yy=yy)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    real_month = (month >= 1) & (month <= 12)
    month_days = _MONTH_DAYS[np.where(real_month, month, 1) - 1] + ((month == 2) & leap)
    real = real_month & (day >= 1) & (day <= month_days)
    months = np.where(real, (year - 1970) * 12 + month - 1, 0).astype("datetime64[M]")
    dates = months.astype("datetime64[D]") + np.where(real, day - 1, 0).astype("timedelta64[D]")
    return np.where(real, dates, np.datetime64("NaT", "D"))


def _century(*, seventh: np.ndarray, yy: np.ndarray) -> np.ndarray:
    """Century (1800, 1900 or 2000) from the 7th digit and the two-digit year."""
    return np.select(
        [seventh <= 3, (seventh == 4) | (seventh == 9)],
        [1900, np.where(yy <= 36, 2000, 1900)],
        default=np.where(yy <= 57, 2000, 1800),
    )


def age_at(birth_date: pd.Series, date: pd.Series | pd.Timestamp) -> pd.Series:
    """Whole years completed on ``date``.

    Someone born on 29 February turns a year older on 1 March in years
    without a 29 February (and on 29 February in leap years). A ``date``
    before the birth date gives a negative age, so the error stays visible.

    Parameters
    ----------
    birth_date : pandas.Series
        Birth dates, ``datetime64`` of any unit; NaT for missing.
    date : pandas.Series or pandas.Timestamp
        The date at which to measure the age: a Series with the same index as
        ``birth_date``, or one date for every row.

    Returns
    -------
    pandas.Series
        Ages as nullable ``Int64``, <NA> where either date is missing.

    Examples
    --------
    >>> born = pd.Series(pd.to_datetime(["2000-02-29", "2000-02-29", "1980-06-15", None]))
    >>> on = pd.Series(pd.to_datetime(["2001-02-28", "2001-03-01", "2008-06-14", "2008-01-01"]))
    >>> age_at(born, on).tolist()
    [0, 1, 27, <NA>]
    >>> age_at(born, pd.Timestamp("2004-02-29")).tolist()
    [4, 4, 23, <NA>]
    """
    if not isinstance(date, pd.Series):
        date = pd.Series(pd.Timestamp(date), index=birth_date.index)
    elif not date.index.equals(birth_date.index):
        raise ParameterError("`birth_date` and `date` must have the same index.")
    (born_year, born_day), (on_year, on_day) = _year_and_day(birth_date), _year_and_day(date)
    age = on_year - born_year - (on_day < born_day)
    missing = (birth_date.isna() | date.isna()).to_numpy()
    age = pd.arrays.IntegerArray(np.where(missing, 0, age), missing)
    return pd.Series(age, index=birth_date.index, name="age")


def _year_and_day(dates: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Calendar year and month * 100 + day of datetimes (0 where NaT)."""
    stamps = pa.array(dates.to_numpy(), from_pandas=True)
    year, month, day = (pc.fill_null(f(stamps), 0).to_numpy() for f in (pc.year, pc.month, pc.day))
    return year, month * 100 + day


def mask_cpr(values: pd.Series) -> pd.Series:
    """Hide CPR numbers before values are written to a log or any file.

    A CPR-shaped value keeps only its day and month (``"3002XX-XXXX"``).
    In any other value that contains six or more digits in a row (also when
    split by spaces, dashes, dots or slashes), every digit becomes ``X``.
    Other values are returned stripped; <NA> stays <NA>. The result never
    contains ten digits in a row.

    Parameters
    ----------
    values : pandas.Series
        Values as they were read (text or numbers).

    Returns
    -------
    pandas.Series
        String dtype, same index as ``values``.

    Examples
    --------
    >>> mask_cpr(pd.Series(["300285-1234", "3002851234", "id 30028 51234", "A17", None])).tolist()
    ['3002XX-XXXX', '3002XX-XXXX', 'id XXXXX XXXXX', 'A17', <NA>]
    """
    codes, text = _distinct_text(values)
    masked = text.str.replace(r"\d", "X", regex=True).where(text.str.contains(_DIGIT_RUN_RE), text)
    masked = masked.mask(text.str.fullmatch(_CPR_RE), text.str[:4] + "XX-XXXX")
    out = pd.array(masked, dtype=_OUT).take(codes, allow_fill=True)
    return pd.Series(out, index=values.index, name=values.name)


def pseudonymise(cpr: pd.Series, *, key: bytes) -> pd.Series:
    """Replace CPR numbers by keyed BLAKE2b pseudonyms.

    The pseudonym is ``hashlib.blake2b(cpr, key=key, digest_size=16)`` of the
    normalised ``DDMMYYSSSS`` number, as 32 hex digits. Each distinct number
    is hashed once. Only the format is checked, not the birth date: run
    :func:`parse_cpr` first to flag numbers without a real date.

    Parameters
    ----------
    cpr : pandas.Series
        CPR numbers (text, with or without the dash, or numbers as in
        :func:`parse_cpr`); missing or blank values give <NA>.
    key : bytes
        The secret key, 16 to 64 bytes; see :func:`resolve_key`.

    Returns
    -------
    pandas.Series
        String dtype, same index and name as ``cpr``.

    Raises
    ------
    ValueError
        If the key is shorter than 16 or longer than 64 bytes, or if a value is not a
        10-digit number (the message lists the offending rows, masked).

    Examples
    --------
    >>> ids = pseudonymise(pd.Series(["300285-1234", "3002851234", None]), key=DEMO_KEY)
    >>> ids.tolist()  # doctest: +ELLIPSIS
    ['...', '...', <NA>]
    >>> bool(ids[0] == ids[1]), len(ids[0])
    (True, 32)
    """
    _check_key(key)
    codes, numbers = _distinct_numbers(cpr)
    hashes = _pseudonyms(numbers, key)
    return pd.Series(hashes.take(codes, allow_fill=True), index=cpr.index, name=cpr.name)


def _distinct_numbers(cpr: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Per row the code of its CPR number (-1 where missing), and the distinct numbers.

    Raises ValueError (rows listed masked) where a value is not a CPR number.
    """
    if pd.api.types.is_numeric_dtype(cpr.dtype) and not pd.api.types.is_bool_dtype(cpr.dtype):
        codes, uniques = pd.factorize(cpr, use_na_sentinel=True)
        numbers = np.asarray(uniques, dtype="float64")
        # the digits of _number_text: 9 digits get a leading zero, fewer are not a CPR number
        valid = np.isfinite(numbers) & (numbers % 1 == 0) & (numbers >= 1e8) & (numbers < 1e10)
        _check_formatted(cpr, codes, bad=pd.Series(~valid))
        return codes, numbers.astype("int64")
    codes, text = _texts(cpr)
    digits = text.str.replace("-", "", regex=False).where(text.str.fullmatch(_CPR_RE))
    row_codes = np.arange(len(cpr)) if codes is None else codes
    _check_formatted(cpr, row_codes, bad=(digits.isna() & text.ne("")).fillna(False))
    number_codes, numbers = pd.factorize(digits.astype("int64[pyarrow]"), use_na_sentinel=True)
    if codes is not None:
        number_codes = np.append(number_codes, -1)[codes]  # a missing value stays missing
    return number_codes, np.asarray(numbers, dtype="int64")


def _pseudonyms(numbers: np.ndarray, key: bytes) -> pd.api.extensions.ExtensionArray:
    """The pseudonyms (32 hex digits) of CPR numbers given as int64, in their order."""
    digits = np.zeros((len(numbers), 10), dtype=np.uint8)
    rest = numbers.copy()
    for place in range(9, -1, -1):
        digits[:, place] = rest % 10 + ord("0")
        rest //= 10
    hexed = _hash_all(digits.view("S10").ravel().tolist(), key).hex().encode("ascii")
    offsets = np.arange(0, len(hexed) + 1, 32, dtype=np.int64)
    text = pa.LargeStringArray.from_buffers(
        len(numbers), pa.py_buffer(offsets), pa.py_buffer(hexed)
    )
    return pd.arrays.ArrowStringArray(text)


def _hash_all(numbers: list[bytes], key: bytes) -> bytes:
    """The keyed BLAKE2b digests (16 bytes each) of normalised CPR numbers, concatenated.

    Each number is hashed once, from a copy of the keyed state (cheaper than re-keying).
    """
    keyed = hashlib.blake2b(key=key, digest_size=16)
    out = bytearray()
    for number in numbers:
        one = keyed.copy()
        one.update(number)
        out += one.digest()
    return bytes(out)


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes):
        raise ArgumentTypeError(f"The key must be bytes, but {type(key).__name__} was passed.")
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise ParameterError(
            f"The key must be {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes long, not {len(key)}."
        )


def _check_formatted(cpr: pd.Series, codes: np.ndarray, *, bad: pd.Series) -> None:
    """Raise ValueError listing (masked) the rows whose distinct value is flagged ``bad``."""
    if not bad.any():
        return
    rows = cpr[np.isin(codes, np.flatnonzero(bad.to_numpy()))]
    evidence = mask_cpr(rows).to_frame("value (masked)").head(10)
    raise DataError(
        f"{len(rows)} value(s) are not CPR numbers (DDMMYYSSSS or DDMMYY-SSSS); "
        f"first rows:\n{evidence.to_string()}"
    )
