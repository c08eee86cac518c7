"""Times as the files and the command line give them: ISO-8601 or unix seconds, to UTC microseconds.

>>> parse_time("2024-01-01T00:00:00Z"), parse_time("1704067200"), parse_time("2024-01-01")
(1704067200000000, 1704067200000000, 1704067200000000)
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

MICRO = 1_000_000
EARLIEST = -62135596800 * MICRO  # 0001-01-01T00:00:00Z
LATEST = 253402300799 * MICRO  # 9999-12-31T23:59:59Z


def parse_time(text: str) -> int | None:
    """Microseconds since 1970 (UTC) for one ISO-8601 (no zone: UTC) or unix-seconds text, or None."""
    text = text.strip()
    try:
        if text.replace(".", "", 1).isdigit() and len(text.split(".")[0]) >= 9:
            micro = int(Decimal(text) * MICRO)
            return micro if micro <= LATEST else None
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except (ValueError, InvalidOperation, OverflowError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - datetime(1970, 1, 1, tzinfo=timezone.utc)
    micro = (delta.days * 86_400 + delta.seconds) * MICRO + delta.microseconds
    return micro if EARLIEST <= micro <= LATEST else None


def iso_micro(micros: int) -> str:
    """Microseconds since 1970 as ISO-8601 UTC with `Z` (seconds, and the fraction when there is one).

    >>> iso_micro(1_700_000_000_000_000), iso_micro(1_500)
    ('2023-11-14T22:13:20Z', '1970-01-01T00:00:00.001500Z')
    """
    from datetime import datetime, timedelta, timezone

    moment = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=int(micros))
    return moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds").replace("+00:00", "Z")
