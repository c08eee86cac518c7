"""Dates and amounts as a customer reads them in each language (no locale database needed).

>>> from datetime import date
>>> long_date(date(2026, 11, 25), "es"), amount(Decimal("1234.50"), "fr"), amount(Decimal("1234.50"), "en")
('25 de noviembre de 2026', '1\\u202f234,5', '1,234.5')
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

MONTHS = {
    "en": "January February March April May June July August September October November December",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
}
SEPARATORS = {"en": (",", "."), "it": (".", ","), "fr": ("\u202f", ","), "es": (".", ","), "de": (".", ","),
              "pt": (".", ",")}
"""locale -> (thousands, decimal) separators."""
CUSTOMER = {"en": "customer", "it": "cliente", "fr": "client", "es": "cliente", "de": "liebe Kundin, lieber Kunde",
            "pt": "cliente"}
"""How a greeting names a customer whose name we do not have."""


def long_date(day: date, locale: str) -> str:
    """A date written out: "25 November 2026", "25 novembre 2026", "25 de noviembre de 2026"."""
    month = MONTHS[locale].split()[day.month - 1]
    if locale in ("es", "pt"):
        return f"{day.day} de {month} de {day.year}"
    if locale == "de":
        return f"{day.day}. {month} {day.year}"
    if locale == "fr" and day.day == 1:
        return f"1er {month} {day.year}"
    return f"{day.day} {month} {day.year}"


def amount(value: Decimal, locale: str) -> str:
    """An exact amount with the language's separators and no trailing zeros."""
    text = format(value.normalize(), "f")
    whole, _, fraction = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    digits = whole.lstrip("-")
    groups = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    thousands, decimal = SEPARATORS[locale]
    return sign + thousands.join(groups) + (decimal + fraction if fraction else "")
