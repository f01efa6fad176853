"""Text columns backed by pyarrow, handled in pyarrow: no Python call per value.

The raw CSV columns are pyarrow-backed strings; on them, stripping and the like run in
pyarrow's vectorised kernels, with the same result as Python's ``str`` methods.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "WHITESPACE",
    "is_arrow_text",
    "stripped",
]

#: The characters ``str.strip()`` removes (those where ``str.isspace()`` is true).
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def is_arrow_text(values: pd.Series) -> bool:
    """True for a pyarrow-backed string Series (``string[pyarrow]`` or ``str``)."""
    dtype = values.dtype
    return isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"


def stripped(values: pd.Series) -> pd.Series:
    """``str.strip()`` of every value of a pyarrow-backed string Series; '' becomes <NA>.

    Examples
    --------
    >>> stripped(pd.Series([" a\\u3000", "\\x1c", None], dtype="string[pyarrow]")).tolist()
    ['a', <NA>, <NA>]
    >>> set(WHITESPACE) == {c for c in map(chr, range(0x110000)) if c.isspace()}
    True
    """
    text = pc.utf8_trim(pa.array(values.array), characters=WHITESPACE)
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, text.type), text)
    return pd.Series(pd.arrays.ArrowStringArray(text), index=values.index, name=values.name)
