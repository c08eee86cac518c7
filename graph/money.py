"""Exact decimal text for shares and USD amounts computed from integer micro-dollars.

>>> share_text(1, 3), usd_text(100_000_000, 1, 3), micro_text(1_500_000)
('0.3333333333', '33.333333', '1.5')
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

SHARE_PLACES = 10
USD_PLACES = 6


def _round_half_even(num: int, den: int) -> int:
    """num / den rounded to the nearest integer, ties to even (den > 0, num >= 0)."""
    q, r = divmod(num, den)
    if 2 * r > den or (2 * r == den and q % 2):
        q += 1
    return q


def _trimmed(units: int, places: int) -> str:
    text = str(Decimal(units).scaleb(-places))
    if "E" in text or "e" in text:
        text = f"{Decimal(units).scaleb(-places):.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def share_text(num: int, den: int) -> str:
    """num / den as a decimal rounded half-even to 10 places, without trailing zeros."""
    return _trimmed(_round_half_even(int(num) * 10**SHARE_PLACES, int(den)), SHARE_PLACES)


def usd_micro(value_micro: int, num: int, den: int) -> int:
    """value * num / den in whole micro-dollars, rounded half-even."""
    return _round_half_even(int(value_micro) * int(num), int(den))


def usd_text(value_micro: int, num: int, den: int) -> str:
    """value * num / den as USD text with at most 6 decimals."""
    return micro_text(usd_micro(value_micro, num, den))


def micro_text(micro: int) -> str:
    """Micro-dollars as USD text without trailing zeros."""
    return _trimmed(int(micro), USD_PLACES)


def fraction(text: str) -> Fraction:
    """A decimal text as an exact fraction."""
    return Fraction(Decimal(text))
