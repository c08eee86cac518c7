"""Input boundaries: every text field within its limit and free of control characters, one column per name,
times in range, amounts a case can keep, each refusal named by FILE:LINE and nothing read."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, strategies as st

from graph import readers
from graph.cells import spreadsheet_safe_column
from graph.formats import FORMULA_STARTS, TEXT_LIMITS, spreadsheet_safe
from tests.graph.test_readers import A, B, DEPOSIT_HEADER, HEADER, problems, row, write


def deposit(deposit_id="D-1", customer="alice", ts="2024-01-01T00:00:00Z", amount="1", asset="ETH"):
    return ",".join([deposit_id, "0x1", customer, ts, "1", "0", A, B, asset, amount, "10"])


@pytest.mark.parametrize("changes, message", [
    ({"customer": "C" * 10_000}, "customer_id is 10,000 characters long (at most 200)"),
    ({"deposit_id": "D" * 201}, "deposit_id is 201 characters long (at most 200)"),
    ({"asset": "T" * 101}, "asset is 101 characters long (at most 100)"),
    ({"customer": "a\x00b"}, "customer_id 'a\\x00b' holds a control character"),
    ({"customer": "a\x1b[31mb"}, "holds a control character"),  # an ANSI escape: colours a terminal
    ({"customer": '"a\nb"'}, "holds a control character"),  # a line break inside a quoted value
    ({"customer": "a\u202eb"}, "holds a control character"),  # reverses the text after it on screen
    ({"customer": "a\x85b"}, "holds a control character"),  # C1
    ({"ts": "0001-01-01T00:00:00Z"}, "timestamp 0001-01-01T00:00:00Z is outside the times a file may hold"),
    ({"ts": "1969-12-31T23:59:59Z"}, "is outside the times a file may hold (1970 to the end of 2099, UTC)"),
    ({"ts": "2100-01-01T00:00:00Z"}, "is outside the times"),
    ({"ts": "999999999999"}, "timestamp 999999999999 is outside the times"),  # year 33658: once a traceback
    ({"amount": "1" + "0" * 20}, "amount 100000000000000000000 is too large (at most 20 digits before the"),
    ({"amount": "1e21"}, "amount 1e21 is too large"),
    ({"amount": "9" * 400}, "is too large"),
])
def test_a_deposit_beyond_a_boundary_is_refused_by_file_and_line(tmp_path, changes, message):
    path = write(tmp_path, "d.csv", [DEPOSIT_HEADER, deposit(deposit_id="D-0"), deposit(**changes)])
    lines, error = problems(lambda: readers.read_deposits(path))
    assert lines[0].startswith(f"{path}:3: ") and message in lines[0], lines
    assert len(error.problems) == 1


@pytest.mark.parametrize("changes", [
    {"customer": "C" * 200, "deposit_id": "D" * 200, "asset": "T" * 100},
    {"customer": "Zoë 中文 ünïcödé"},
    {"ts": "1970-01-01T00:00:00Z"}, {"ts": "2099-12-31T23:59:59Z"},
    {"amount": "9" * 20 + ".123456789012345678901"}, {"amount": "99e18"}, {"amount": "0.5e-30"},
])
def test_values_at_the_boundaries_are_read(tmp_path, changes):
    path = write(tmp_path, "d.csv", [DEPOSIT_HEADER, deposit(**changes)])
    assert len(readers.read_deposits(path).deposit_id) == 1


def test_a_column_named_twice_is_refused_before_anything_is_read(tmp_path):
    path = write(tmp_path, "t.csv", [HEADER + ",amount", row() + ",2"])
    lines, _ = problems(lambda: readers.read_transfers(path))
    assert lines == [f"{path}:1: column 'amount' appears more than once"]


def test_parquet_times_out_of_range_are_refused_by_row(tmp_path):
    path = tmp_path / "t.parquet"
    table = readers.read_transfers(write(tmp_path, "t.csv", [HEADER, row(), row(tx="0x2")]))
    pq.write_table(pa.table({"tx_hash": ["0x1", "0x2"], "block_number": [1, 2], "position": [0, 0],
                             "timestamp": pa.array([-1, int(table.timestamp[0])], pa.timestamp("us", "UTC")),
                             "from_address": [A, A], "to_address": [B, B], "asset": ["ETH"] * 2,
                             "amount": ["1", "1"], "usd_value": ["1", "1"]}), path)
    lines, _ = problems(lambda: readers.read_transfers(path))
    assert lines == [f"{path}:1: timestamp 1969-12-31T23:59:59.999999+00:00 is outside the times a file may hold "
                     "(1970 to the end of 2099, UTC)"]


def test_every_limit_is_a_field_the_readers_check():
    assert set(TEXT_LIMITS) == {"deposit_id", "customer_id", "tx_hash", "asset", "category", "source", "entity",
                                "kind", "split"}


@given(st.lists(st.text(st.sampled_from("=+-@\t\r ab'1\"") | st.characters(exclude_categories=("Cs",)), max_size=6),
                max_size=8))  # no lone surrogate: text read from a file is always valid UTF-8
def test_the_column_form_neutralises_exactly_what_the_value_form_does(values):
    column = spreadsheet_safe_column(pa.array(values, pa.string()))
    assert column.to_pylist() == [spreadsheet_safe(v) for v in values]
    assert not any(isinstance(v, str) and v.startswith(FORMULA_STARTS) for v in column.to_pylist())
