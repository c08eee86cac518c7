"""Column types that behave the same on SQLite and PostgreSQL: UTC datetimes and exact decimals."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import sqlalchemy as sa


class UTCDateTime(sa.types.TypeDecorator):
    """Timezone-aware UTC datetimes in, timezone-aware UTC datetimes out, on every database."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give times in UTC with a time zone")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class ExactDecimal(sa.types.TypeDecorator):
    """Decimals stored exactly: NUMERIC on PostgreSQL, text on SQLite (whose NUMERIC is a float)."""

    impl = sa.Numeric(38, 18)
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(60))
        return dialect.type_descriptor(sa.Numeric(38, 18))

    def process_bind_param(self, value: Decimal | None, dialect: sa.Dialect) -> object:
        if value is None:
            return None
        value = Decimal(value)
        return format(value, "f") if dialect.name == "sqlite" else value

    def process_result_value(self, value: object, dialect: sa.Dialect) -> Decimal | None:
        if value is None:
            return None
        return plain(Decimal(str(value)))


def plain(number: Decimal) -> Decimal:
    """The same number without trailing zeros and without an exponent: 5000.00 -> 5000, 0.50 -> 0.5."""
    number = number.normalize()
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number
