"""Numbers as text, once: the Danish decimal comma and thousands point, or English.

Every figure label, published table and the index page format numbers here, so that
"1.234,5", "38 %" and "−18,7 procentpoint" are written the same way everywhere.
"""

from __future__ import annotations

__all__ = ["localise", "number", "percent"]


def localise(text: str, lang: str) -> str:
    """Swap separators for Danish (1.234,5) and use a true minus sign.

    >>> localise("-1,234.5", "da")
    '−1.234,5'
    >>> localise("-1,234.5", "en")
    '−1,234.5'
    """
    if lang == "da":
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    return text.replace("-", "\u2212")


def number(x: float, lang: str, decimals: int = 0, *, sign: bool = False) -> str:
    """A number as it is written in the language: 1.234,5 in Danish, 1,234.5 in English.

    >>> number(1234.5, "da", 1), number(1234.5, "en", 1), number(-18.66, "da", 1, sign=True)
    ('1.234,5', '1,234.5', '−18,7')
    >>> number(-0.02, "da", 1)
    '0,0'
    """
    text = f"{x:{'+' if sign else ''},.{decimals}f}"
    if text.lstrip("+-").strip("0.,") == "":  # rounds to zero: no sign (not "−0,0")
        text = text.lstrip("+-")
    return localise(text, lang)


def percent(share: float, lang: str, decimals: int = 0) -> str:
    """A share (0-1) as a percentage: '38 %' in Danish, '38%' in English.

    >>> percent(0.38, "da"), percent(0.38, "en"), percent(0.3802, "da", 1)
    ('38 %', '38%', '38,0 %')
    """
    return number(100 * share, lang, decimals) + (" %" if lang == "da" else "%")
