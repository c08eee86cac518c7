"""Tracking numbers: the format a customer can read back, from the whole alphabet, never repeated in practice."""

from __future__ import annotations

import re
from collections import Counter

from cases.tracking import TRACKING_ALPHABET, tracking_number, tracking_numbers


def test_the_format_and_the_alphabet():
    numbers = tracking_numbers(4000) + [tracking_number()]
    assert all(re.fullmatch(r"FC-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}", n) for n in numbers)
    assert len(set(numbers)) == len(numbers)
    counts = Counter("".join(n[3:7] + n[8:] for n in numbers))
    assert set(counts) == set(TRACKING_ALPHABET) and len(TRACKING_ALPHABET) == 32
    assert max(counts.values()) < 2 * min(counts.values())  # 32,008 draws: about 1,000 each, never lopsided


def test_none_asked_none_given():
    assert tracking_numbers(0) == []
