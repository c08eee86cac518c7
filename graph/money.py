"""Exact decimal text for shares and USD amounts computed from integer micro-dollars.

>>> share_text(1, 3), usd_text(100_000_000, 1, 3), micro_text(1_500_000)
('0.3333333333', '33.333333', '1.5')
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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


def _units_text(units: np.ndarray, places: int) -> pa.Array:
    """Non-negative integers scaled by 10**-places as decimal text without trailing zeros."""
    scale = 10**places
    whole = pc.cast(pa.array(units // scale), pa.string())
    fraction = pc.utf8_rtrim(pc.utf8_lpad(pc.cast(pa.array(units % scale), pa.string()), places, "0"), "0")
    joined = pc.binary_join_element_wise(whole, fraction, ".")
    return pc.if_else(pc.equal(fraction, ""), whole, joined)


def _rounded(exact: np.ndarray, num: np.ndarray, den: np.ndarray, *, multiplier: np.ndarray) -> np.ndarray:
    """round_half_even(multiplier * num / den) per row, from its float64 estimate `exact`.

    The estimate is within 1e-15 of the true value, relatively; rows whose fraction is
    that close to one half, or too large for float64 integers, are done exactly in Python.
    """
    units = np.rint(exact)
    fraction = exact - np.floor(exact)
    band = np.maximum(exact * 1e-15, 1e-9)
    unsure = np.flatnonzero((np.abs(fraction - 0.5) <= band) | (exact >= 2.0**52))
    out = units.astype(np.int64)
    for i in unsure:
        out[i] = _round_half_even(int(multiplier[i]) * int(num[i]), int(den[i]))
    return out


def share_texts(num: np.ndarray, den: np.ndarray) -> pa.Array:
    """share_text for whole arrays (the same text, computed mostly in vectors)."""
    exact = num.astype(np.float64) / den.astype(np.float64) * 10**SHARE_PLACES
    return _units_text(_rounded(exact, num, den, multiplier=np.full(len(num), 10**SHARE_PLACES, dtype=object)),
                       SHARE_PLACES)


def usd_texts(value_micro: np.ndarray, num: np.ndarray, den: np.ndarray) -> pa.Array:
    """usd_text for whole arrays (the same text, computed mostly in vectors)."""
    exact = value_micro.astype(np.float64) * (num.astype(np.float64) / den.astype(np.float64))
    exact[value_micro >= 2**53] = 2.0**53  # not exact in float64: done in Python
    return _units_text(_rounded(exact, num, den, multiplier=value_micro), USD_PLACES)
