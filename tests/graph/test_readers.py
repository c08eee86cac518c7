"""Readers: every kind of bad input is reported as FILE:LINE and nothing is returned."""

from __future__ import annotations

import gzip
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import numpy as np
import pytest

from graph import readers
from graph.errors import InputError
from graph.model import ALWAYS, NEVER

A = "0x" + "a" * 40
B = "0x" + "b" * 40
CHECKSUMMED = "0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B"  # the EIP-55 example address
BAD_CHECKSUM = "0xAb5801a7D398351b8bE11C439e05C5B3259aeC9b"
HEADER = "tx_hash,block_number,position,timestamp,from_address,to_address,asset,amount,usd_value"
DEPOSIT_HEADER = "deposit_id,tx_hash,customer_id,timestamp,block_number,position,from_address,to_address,asset,amount,usd_value"


def write(tmp_path, name, lines):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def row(tx="0x1", block="1", position="0", ts="2024-01-01T00:00:00Z", src=A, dst=B, asset="ETH", amount="1",
        usd="10"):
    return ",".join([tx, block, position, ts, src, dst, asset, amount, usd])


def problems(path_or_call):
    with pytest.raises(InputError) as caught:
        path_or_call()
    return str(caught.value).splitlines(), caught.value


@pytest.fixture
def good(tmp_path):
    return write(tmp_path, "t.csv", [HEADER, row(src=CHECKSUMMED), row(tx="0xAB", block="2", ts="1704067200",
                                                                        dst="0x" + "C" * 40, usd="0.0000015")])


def test_good_file_is_read_with_lowercase_addresses_and_exact_micro_usd(good):
    t = readers.read_transfers(good)
    assert t.from_address.to_pylist() == [CHECKSUMMED.lower(), A]
    assert t.to_address.to_pylist() == [B, "0x" + "c" * 40]
    assert t.tx_hash.to_pylist() == ["0x1", "0xab"]
    assert t.usd_micro.tolist() == [10_000_000, 2]  # 1.5 micro-dollars round half to even
    assert t.timestamp.tolist() == [1704067200 * 10**6] * 2


@pytest.mark.parametrize("field, value, message", [
    ("src", "0x123", "from_address '0x123' is not an address (0x followed by 40 hex digits)"),
    ("dst", "a" * 42, "to_address '" + "a" * 42 + "' is not an address"),
    ("dst", "0x" + "g" * 40, "is not an address"),
    ("src", BAD_CHECKSUM, f"from_address {BAD_CHECKSUM} has a bad EIP-55 checksum"),
    ("src", "", "missing from_address"),
    ("amount", "-1", "amount -1 is negative"),
    ("amount", "one", "amount 'one' is not a number"),
    ("usd", "-0.5", "usd_value -0.5 is negative"),
    ("usd", "1,5", None),  # an extra field: the line is ragged
    ("usd", "abc", "usd_value 'abc' is not a number"),
    ("ts", "yesterday", "timestamp 'yesterday' is not a time (ISO-8601 or unix seconds)"),
    ("ts", "2024-13-01", "is not a time"),
    ("block", "-3", "block_number '-3' is not a non-negative integer"),
    ("block", "1.5", "is not a non-negative integer"),
    ("position", str(2**20), "position 1048576 is out of range"),
    ("tx", "", "missing tx_hash"),
])
def test_each_bad_value_is_reported_with_file_and_line(tmp_path, field, value, message):
    path = write(tmp_path, "t.csv", [HEADER, row(), row(**{field: value}), row()])
    lines, error = problems(lambda: readers.read_transfers(path))
    assert lines[0].startswith(f"{path}:3: ")
    if message:
        assert message in lines[0]
    else:
        assert "expected 9 fields" in lines[0]
    assert len(error.problems) == 1


def test_missing_column_is_named(tmp_path):
    path = write(tmp_path, "t.csv", [HEADER.replace(",usd_value", ""), row()[: row().rindex(",")]])
    lines, _ = problems(lambda: readers.read_transfers(path))
    assert lines == [f"{path}:1: missing column: usd_value"]


def test_all_bad_lines_are_reported_in_order_up_to_the_limit(tmp_path):
    rows = [row(usd="x") if i % 2 else row(src="nope") for i in range(readers.MAX_PROBLEMS + 7)]
    path = write(tmp_path, "t.csv", [HEADER] + rows)
    lines, error = problems(lambda: readers.read_transfers(path))
    assert [p.line for p in error.problems] == list(range(2, 2 + readers.MAX_PROBLEMS))
    assert error.more == 7
    assert lines[-1] == f"{path}: ... and 7 more bad lines"


def test_several_problems_on_one_line_are_all_reported(tmp_path):
    path = write(tmp_path, "t.csv", [HEADER, row(src="x", usd="-1")])
    lines, _ = problems(lambda: readers.read_transfers(path))
    assert sorted(lines) == sorted([f"{path}:2: from_address 'x' is not an address (0x followed by 40 hex digits)",
                                    f"{path}:2: usd_value -1 is negative"])


def test_line_numbers_count_blank_lines_and_quoted_newlines(tmp_path):
    lines = [HEADER, row(), "", row(tx='"0x\nsplit"'), row(), row(usd="bad")]
    path = write(tmp_path, "t.csv", lines)
    _, error = problems(lambda: readers.read_transfers(path))
    # header, row, blank, a two-line row (refused: a line break in a value), row, bad
    assert [p.line for p in error.problems] == [4, 7]


def test_gzip_csv_is_read(tmp_path):
    path = tmp_path / "t.csv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(HEADER + "\n" + row() + "\n")
    assert len(readers.read_transfers(path)) == 1


def test_missing_and_empty_files(tmp_path):
    lines, _ = problems(lambda: readers.read_transfers(tmp_path / "nope.csv"))
    assert lines == [f"{tmp_path / 'nope.csv'}: no such file"]
    empty = write(tmp_path, "empty.csv", [])
    lines, _ = problems(lambda: readers.read_transfers(empty))
    assert lines[0].startswith(f"{empty}: cannot be read")


@pytest.mark.parametrize("text, expected", [
    ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00+00:00"),
    ("2024-01-01T02:00:00+02:00", "2024-01-01T00:00:00+00:00"),
    ("2024-01-01 00:00:00", "2024-01-01T00:00:00+00:00"),
    ("2024-01-01", "2024-01-01T00:00:00+00:00"),
    ("2024-01-01T00:00:00.250Z", "2024-01-01T00:00:00.250000+00:00"),
    ("1704067200", "2024-01-01T00:00:00+00:00"),
])
def test_timestamps_iso_or_unix_seconds_in_utc(tmp_path, text, expected):
    path = write(tmp_path, "t.csv", [HEADER, row(ts=text)])
    micro = int(readers.read_transfers(path).timestamp[0])
    moment = datetime.fromtimestamp(micro / 1e6, tz=timezone.utc)
    assert moment.isoformat() == expected


def test_an_empty_usd_value_is_unknown_unless_the_amount_is_zero(tmp_path):
    path = write(tmp_path, "t.csv", [HEADER, row(usd=""), row(usd="", amount="0.000"), row(usd="0"), row(usd="2")])
    t = readers.read_transfers(path)
    assert t.unpriced.tolist() == [True, False, False, False]
    assert t.usd_micro.tolist() == [0, 0, 0, 2_000_000]


def test_an_empty_usd_value_of_a_deposit_is_unknown(tmp_path):
    path = write(tmp_path, "d.csv", [DEPOSIT_HEADER, deposit_row("d1", usd=""), deposit_row("d2")])
    d = readers.read_deposits(path)
    assert d.unpriced.tolist() == [True, False]
    assert d.usd_micro.tolist() == [0, 5_000_000]
    assert d.take(np.array([1, 0])).unpriced.tolist() == [False, True]


def test_mixed_timestamp_formats_in_one_file(tmp_path):
    path = write(tmp_path, "t.csv", [HEADER, row(ts="1704067200"), row(ts="2024-01-01T00:00:00Z"),
                                     row(ts="2024-01-01T01:00:00+01:00"), row(ts="2024-01-01")])
    assert set(readers.read_transfers(path).timestamp.tolist()) == {1704067200 * 10**6}


def deposit_row(did="d1", src=A, usd="5"):
    return ",".join([did, "0xdd", "cust", "2024-01-01T00:00:00Z", "5", "1", src, B, "ETH", "1", usd])


def test_duplicate_deposit_ids_are_rejected_with_their_lines(tmp_path):
    path = write(tmp_path, "d.csv", [DEPOSIT_HEADER, deposit_row("d1"), deposit_row("d2"), deposit_row("d1"),
                                     deposit_row("d1")])
    lines, _ = problems(lambda: readers.read_deposits(path))
    assert lines == [f"{path}:4: duplicate deposit_id 'd1' (first on line 2)",
                     f"{path}:5: duplicate deposit_id 'd1' (first on line 2)"]


def test_deposits_are_read(tmp_path):
    path = write(tmp_path, "d.csv", [DEPOSIT_HEADER, deposit_row("d1"), deposit_row("d2", src=CHECKSUMMED)])
    d = readers.read_deposits(path)
    assert d.deposit_id.to_pylist() == ["d1", "d2"]
    assert d.from_address.to_pylist() == [A, CHECKSUMMED.lower()]
    assert d.usd_micro.tolist() == [5_000_000] * 2


def test_flagged_dates_may_be_empty_and_must_be_ordered(tmp_path):
    header = "address,category,source,listed_at,delisted_at"
    good = write(tmp_path, "f.csv", [header, f"{A},sanctions,OFAC,2022-08-08,2025-03-21", f"{B},Scam,x,,"])
    f = readers.read_flagged(good)
    assert f.category.to_pylist() == ["sanctions", "scam"]
    assert f.listed_at[1] == ALWAYS and f.delisted_at[1] == NEVER
    bad = write(tmp_path, "g.csv", [header, f"{A},sanctions,OFAC,2025-03-21,2022-08-08", f"{B},bad name,x,,",
                                    f"{B},scam,,,"])
    lines, _ = problems(lambda: readers.read_flagged(bad))
    assert lines == [f"{bad}:2: delisted_at is not after listed_at",
                     f"{bad}:3: category 'bad name' is not a lowercase name",
                     f"{bad}:4: missing source"]


def test_flagged_without_date_columns_is_read(tmp_path):
    path = write(tmp_path, "f.csv", ["address,category,source", f"{A},mixer,list"])
    assert readers.read_flagged(path).listed_at.tolist() == [ALWAYS]


def test_services_are_read_and_checked(tmp_path):
    good = write(tmp_path, "s.csv", ["address,entity,kind", f"{A},Binance 14,exchange"])
    assert readers.read_services(good).entity.to_pylist() == ["Binance 14"]
    bad = write(tmp_path, "t.csv", ["address,entity,kind", f"0x12,Binance,exchange"])
    lines, _ = problems(lambda: readers.read_services(bad))
    assert lines[0].startswith(f"{bad}:2: address '0x12' is not an address")


def test_parquet_with_typed_columns(tmp_path):
    table = pa.table({
        "tx_hash": ["0x1", "0x2"], "block_number": pa.array([1, 2], pa.int64()),
        "position": pa.array([0, 1], pa.int32()),
        "timestamp": pa.array([datetime(2024, 1, 1, tzinfo=timezone.utc)] * 2, pa.timestamp("s", "UTC")),
        "from_address": [CHECKSUMMED, A], "to_address": [B, B], "asset": ["ETH", "USDC"],
        "amount": pa.array([1.5, 2.0]), "usd_value": pa.array([0.1, 2.5]),
    })
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    t = readers.read_transfers(path)
    assert t.usd_micro.tolist() == [100_000, 2_500_000]
    assert t.timestamp.tolist() == [1704067200 * 10**6] * 2
    assert t.from_address[0].as_py() == CHECKSUMMED.lower()


def test_parquet_bad_rows_are_reported_by_row_number(tmp_path):
    table = pa.table({
        "tx_hash": ["0x1", "0x2", "0x3"], "block_number": pa.array([1, -2, 3], pa.int64()),
        "position": [0, 0, 0], "timestamp": ["2024-01-01", "2024-01-01", "never"],
        "from_address": [A, A, A], "to_address": [B, B, B], "asset": ["ETH"] * 3,
        "amount": ["1", "1", "1"], "usd_value": ["1", "1", "1"],
    })
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    lines, _ = problems(lambda: readers.read_transfers(path))
    assert lines == [f"{path}:2: block_number -2 is out of range (0 to 4398046511103)",
                     f"{path}:3: timestamp 'never' is not a time (ISO-8601 or unix seconds)"]


def test_large_usd_values_stay_exact(tmp_path):
    path = write(tmp_path, "t.csv", [HEADER, row(usd="123456789012.123456"), row(usd="1e3"),
                                     row(usd="0.1234565")])
    assert readers.read_transfers(path).usd_micro.tolist() == [123456789012123456, 1_000_000_000, 123456]


def test_two_spellings_of_one_address_get_one_code_and_uppercase_hex_is_accepted(tmp_path):
    upper = "0x" + "AB" * 20
    path = write(tmp_path, "t.csv", [HEADER, row(src=CHECKSUMMED, dst=upper), row(src=CHECKSUMMED.lower(),
                                                                                 dst=upper.lower())])
    t = readers.read_transfers(path)
    assert t.src.tolist()[0] == t.src.tolist()[1] and t.dst.tolist()[0] == t.dst.tolist()[1]
    assert sorted(t.addresses.to_pylist()) == sorted([CHECKSUMMED.lower(), upper.lower()])


def test_address_columns_in_chunks_with_empty_ones_keep_their_rows():
    from graph.fields import encode_addresses

    chunked = pa.chunked_array([pa.array([A]), pa.array([], pa.string()), pa.array([B, A])])
    other = pa.chunked_array([pa.array([], pa.string()), pa.array([B, B, A])])
    codes, parsed = encode_addresses({"x": chunked, "y": other})
    as_text = [[codes.dictionary[int(c)].as_py() for c in column] for column in codes.codes]
    assert as_text == [[A, B, A], [B, B, A]] and all(not len(p.bad) for p in parsed)


def test_quoted_newlines_beyond_the_first_read_block_are_split_right(tmp_path):
    rows = [row(tx=f"0x{i:x}", asset='"ET\nH"' if i % 1000 == 999 else "ETH") for i in range(150_000)]  # 19 MB
    path = write(tmp_path, "t.csv", [HEADER] + rows)
    _, error = problems(lambda: readers.read_transfers(path))  # the values are refused, each by its first line
    assert [p.line for p in error.problems] == [1001 + 1001 * k for k in range(150)][:50]
    assert error.more == 100


@pytest.mark.parametrize("field, value, message", [
    ("block", "+3", "block_number '+3' is not a non-negative integer"),
    ("ts", "9999999999999", "timestamp '9999999999999' is not a time"),
    ("ts", "99999999999999.5", "is not a time"),
    ("ts", "2024", "timestamp '2024' is not a time"),
])
def test_out_of_range_and_signed_values_are_reported_not_crashed(tmp_path, field, value, message):
    path = write(tmp_path, "t.csv", [HEADER, row(**{field: value})])
    lines, _ = problems(lambda: readers.read_transfers(path))
    assert lines[0].startswith(f"{path}:2: ") and message in lines[0]


def test_iso_basic_dates_are_not_taken_for_unix_seconds(tmp_path):
    path = write(tmp_path, "t.csv", [HEADER, row(ts="20240101")])
    assert readers.read_transfers(path).timestamp.tolist() == [1704067200 * 10**6]


def test_header_names_may_carry_spaces(tmp_path):
    path = write(tmp_path, "t.csv", [", ".join(HEADER.split(",")), row()])
    assert readers.read_transfers(path).usd_micro.tolist() == [10_000_000]


def test_huge_unsigned_parquet_values_are_reported_as_they_are(tmp_path):
    table = pa.table({"tx_hash": ["0x1"], "block_number": pa.array([2**63 + 5], pa.uint64()), "position": [0],
                      "timestamp": ["2024-01-01"], "from_address": [A], "to_address": [B], "asset": ["ETH"],
                      "amount": ["1"], "usd_value": ["1"]})
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    lines, _ = problems(lambda: readers.read_transfers(path))
    assert lines == [f"{path}:1: block_number {2**63 + 5} is out of range (0 to {2**42 - 1})"]


def test_a_bad_delisting_date_is_one_problem_not_two(tmp_path):
    path = write(tmp_path, "f.csv", ["address,category,source,listed_at,delisted_at", f"{A},scam,x,2024-01-01,soon"])
    lines, _ = problems(lambda: readers.read_flagged(path))
    assert lines == [f"{path}:2: delisted_at 'soon' is not a time (ISO-8601 or unix seconds)"]
