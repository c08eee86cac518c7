"""The time columns of the input files: ISO-8601 (no zone = UTC) or unix seconds, as microseconds since 1970.

Like every parser of graph.fields, `timestamps` checks a whole Arrow column with a few
vector operations and words each bad row; only rows Arrow cannot read go through Python.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.fields import Parsed, as_mask, as_text, failing_rows, trimmed, value_at
from graph.formats import EARLIEST_TIME, LATEST_TIME
from graph.times import MICRO, parse_time

_UNIX = r"^[0-9]{9,12}$"  # 1973 to 33658; shorter digit strings are read as ISO-8601 ("20240101")
_ZONED = r"(Z|z|[+-][0-9]{2}:?[0-9]{2})$"


def timestamps(column: pa.Array, name: str, optional: bool = False) -> Parsed:
    """UTC times as int64 microseconds since 1970, from ISO-8601 (no zone = UTC) or unix seconds."""
    if pa.types.is_timestamp(column.type):
        typed = column if column.type.tz is None else pc.cast(column, pa.timestamp(column.type.unit, "UTC"))
        micros = pc.cast(pc.cast(typed, pa.timestamp("us", typed.type.tz)), pa.int64())
        missing = as_mask(pc.is_null(micros))
        values = pc.fill_null(micros, 0).to_numpy().astype(np.int64)
        outside = _outside(values) & ~missing
        bad = (missing & (not optional)) | outside

        def say(i: int) -> str:
            return _outside_problem(name, _iso(int(values[i]))) if outside[i] else f"missing {name}"

        return Parsed((values, missing) if optional else values, failing_rows(bad), say)
    if pa.types.is_integer(column.type):
        column = pc.cast(column, pa.string())
    text = trimmed(as_text(column))
    empty = as_mask(pc.equal(text, ""))
    values = np.zeros(len(text), dtype=np.int64)
    done = empty.copy()
    unix = as_mask(pc.match_substring_regex(text, _UNIX))
    if unix.any():
        values[unix] = pc.cast(pc.filter(text, pa.array(unix)), pa.int64()).to_numpy() * MICRO
        done |= unix
    zoned = ~done & as_mask(pc.match_substring_regex(text, _ZONED))
    for mask, target in ((zoned, pa.timestamp("us", "UTC")), (~done & ~zoned, pa.timestamp("us"))):
        if not mask.any():
            continue
        part = pc.filter(text, pa.array(mask))
        try:
            values[mask] = pc.cast(pc.cast(part, target), pa.int64()).to_numpy()
            done |= mask
        except pa.ArrowInvalid:
            pass  # some rows are not ISO-8601 to Arrow: each goes through Python below
    failed = np.zeros(len(text), dtype=bool)
    for i in np.flatnonzero(~done):
        micro = parse_time(value_at(text, i))
        if micro is None:
            failed[i] = True
        else:
            values[i] = micro
    outside = _outside(values) & ~failed & ~empty
    bad = failed | outside | (empty & (not optional))

    def describe(i: int) -> str:
        value = value_at(text, i)
        if value == "":
            return f"missing {name}"
        if outside[i]:
            return _outside_problem(name, value)
        return f"{name} {value!r} is not a time (ISO-8601 or unix seconds)"

    return Parsed((values, empty) if optional else values, failing_rows(bad), describe)


def _outside(micros: np.ndarray) -> np.ndarray:
    return (micros < EARLIEST_TIME) | (micros >= LATEST_TIME)


def _iso(micros: int) -> str:
    """A time in microseconds as ISO-8601 UTC (as a number when out of Python's range)."""
    try:
        return (datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=micros)).isoformat()
    except OverflowError:
        return f"{micros} microseconds after 1970"


def _outside_problem(name: str, value: object) -> str:
    return f"{name} {value} is outside the times a file may hold (1970 to the end of 2099, UTC)"
