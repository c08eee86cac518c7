"""The files a platform gives the live ingestion: its deposit addresses and a price table; every bad line reported."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from graph.errors import InputError, Problem

UNSAFE = set(',"\r\n')
"""Characters a customer id may not hold: the deposits file is written without quoting."""


def load_deposit_addresses(path: Path) -> dict[str, str]:
    """The platform's deposit addresses, `address, customer_id` (lowercased); every bad line is reported."""
    found, problems = {}, []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"address", "customer_id"} <= set(reader.fieldnames):
            raise InputError(str(path), [Problem(1, "needs the columns address, customer_id")])
        for line, row in enumerate(reader, start=2):
            address = (row["address"] or "").strip().lower()
            if len(address) != 42 or not address.startswith("0x") or any(c not in "0123456789abcdef" for c in address[2:]):
                problems.append(Problem(line, f"{row['address']!r} is not an address (0x followed by 40 hex digits)"))
            elif not (row["customer_id"] or "").strip() or UNSAFE & set(row["customer_id"]):
                problems.append(Problem(line, "customer_id is empty or holds a comma, quote or line break"))
            else:
                found[address] = row["customer_id"].strip()
    if problems:
        raise InputError(str(path), problems[:50], max(0, len(problems) - 50))
    return found


def load_prices(path: Path) -> dict[tuple[str, date], Decimal]:
    """A price table `asset, day, price` (USD per unit); every bad line is reported."""
    prices, problems = {}, []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"asset", "day", "price"} <= set(reader.fieldnames):
            raise InputError(str(path), [Problem(1, "needs the columns asset, day, price")])
        for line, row in enumerate(reader, start=2):
            try:
                price = Decimal(row["price"])
                if not price.is_finite() or price < 0:
                    raise InvalidOperation
                prices[(row["asset"].strip().lower() if row["asset"].startswith("0x") else row["asset"].strip(),
                        date.fromisoformat(row["day"].strip()))] = price
            except (InvalidOperation, ValueError, AttributeError, TypeError):
                problems.append(Problem(line, f"bad price row {row!r}"))
    if problems:
        raise InputError(str(path), problems[:50], max(0, len(problems) - 50))
    return prices
