"""Column types that behave the same on SQLite and PostgreSQL: UTC datetimes and exact decimals."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import ROUND_HALF_EVEN, Context, Decimal

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


PLACES = 18
WHOLE_DIGITS = 20
_CONTEXT = Context(prec=80)
_LIMIT = Decimal(10) ** WHOLE_DIGITS
_QUANTUM = Decimal(1).scaleb(-PLACES)


class ExactDecimal(sa.types.TypeDecorator):
    """Decimals kept to 18 places (more round half-even) and up to 20 whole digits, the same on every
    database: NUMERIC(38, 18) on PostgreSQL, text on SQLite (whose NUMERIC is a float)."""

    impl = sa.Numeric(38, 18)
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(60))
        return dialect.type_descriptor(sa.Numeric(38, 18))

    def process_bind_param(self, value: Decimal | None, dialect: sa.Dialect) -> object:
        if value is None:
            return None
        value = stored(Decimal(value))
        return format(value, "f") if dialect.name == "sqlite" else value

    def process_result_value(self, value: object, dialect: sa.Dialect) -> Decimal | None:
        if value is None:
            return None
        return plain(Decimal(str(value)))


def stored(number: Decimal) -> Decimal:
    """The number as it is kept: rounded half-even to 18 places; ValueError past 20 whole digits."""
    if not number.is_finite() or number.copy_abs() >= _LIMIT:
        raise ValueError(f"{number} cannot be stored: more than {WHOLE_DIGITS} digits before the decimal point")
    return number.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN, context=_CONTEXT)


def plain(number: Decimal) -> Decimal:
    """The same number without trailing zeros and without an exponent: 5000.00 -> 5000, 0.50 -> 0.5."""
    number = number.normalize(_CONTEXT)
    return number.quantize(Decimal(1), context=_CONTEXT) if number == number.to_integral_value() else number
