"""Tracking numbers: the reference a customer quotes, one per case or per inquiry outside a case.

>>> import re; bool(re.fullmatch(r"FC-[2-9A-Z]{4}-[2-9A-Z]{4}", tracking_number()))
True
"""

from __future__ import annotations

import secrets

TRACKING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
"""32 characters (no 0/O or 1/I to misread): each random byte picks one by its low 5 bits, without bias."""
_BY_BYTE = bytes(ord(TRACKING_ALPHABET[b % 32]) for b in range(256))


def tracking_numbers(count: int) -> list[str]:
    """`count` tracking numbers, e.g. FC-7KQ2-9XMD, from one draw of the system's random source."""
    chars = secrets.token_bytes(8 * count).translate(_BY_BYTE).decode("ascii")
    return [f"FC-{chars[i:i + 4]}-{chars[i + 4:i + 8]}" for i in range(0, 8 * count, 8)]


def tracking_number() -> str:
    """A tracking number for the customer, e.g. FC-7KQ2-9XMD."""
    return tracking_numbers(1)[0]
