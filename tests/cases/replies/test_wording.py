"""Dates and amounts as each language writes them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from cases.replies.wording import amount, long_date


def test_dates_in_each_language():
    day = date(2026, 12, 1)
    assert [long_date(day, locale) for locale in ("en", "it", "fr", "es")] == [
        "1 December 2026", "1 dicembre 2026", "1er décembre 2026", "1 de diciembre de 2026"]
    assert long_date(date(2026, 8, 15), "fr") == "15 août 2026"


def test_amounts_are_exact_with_the_language_separators():
    assert amount(Decimal("1234567.891000"), "en") == "1,234,567.891"
    assert amount(Decimal("1234567.891000"), "it") == "1.234.567,891"
    assert amount(Decimal("1234567.891000"), "fr") == "1\u202f234\u202f567,891"
    assert amount(Decimal("0.000000000000000001"), "es") == "0,000000000000000001"
    assert amount(Decimal("1E+3"), "en") == "1,000"
    assert amount(Decimal("-5.50"), "en") == "-5.5"
