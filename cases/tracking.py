"""Tracking numbers: the reference a customer quotes, one per case or per inquiry outside a case.

>>> import re; bool(re.fullmatch(r"FC-[2-9A-Z]{4}-[2-9A-Z]{4}", tracking_number()))
True
"""

from __future__ import annotations

import secrets

TRACKING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def tracking_number() -> str:
    """A tracking number for the customer, e.g. FC-7KQ2-9XMD (no 0/O or 1/I to misread)."""
    chars = "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(8))
    return f"FC-{chars[:4]}-{chars[4:]}"
