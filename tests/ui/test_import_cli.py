"""`kyt import ethereum-etl` as a user runs it: a real process, its exit code, its messages, its files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from tests.graph.test_etl_import import EXPECTED, PRICES, chain, h, write_csv, write_export

KYT = Path(sys.executable).parent / "kyt"


def kyt(*args):
    return subprocess.run([str(KYT), *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"})


def _prices(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "prices.csv", ["asset", "day", "price"],
                     [[asset, day.isoformat(), str(price)] for (asset, day), price in PRICES.items()])


def test_an_export_is_imported_and_summarised(tmp_path):
    export = write_export(tmp_path / "etl", *chain())
    done = kyt("import", "ethereum-etl", "--transactions", export.transactions, "--token-transfers",
               export.token_transfers, "--tokens", export.tokens, "--receipts", export.receipts, "--blocks",
               export.blocks, "--prices", _prices(tmp_path), "--out", tmp_path / "out.parquet", "--chain", "ethereum")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == "read 3 tokens, 7 transactions, 6 token transfers, 7 receipts, 3 blocks"
    assert lines[1] == (f"wrote 7 transfers (blocks 100 to 100,205) to {tmp_path / 'out.parquet'}: 4 native, 3 token; "
                        f"3 without a price (empty usd_value)")
    assert lines[2] == ("left out: 2 zero-value transactions, 1 failed transactions, 1 zero-value token transfers, "
                        "1 token transfers of failed transactions")
    assert lines[3] == "skipped 1 token transfers of tokens without decimals in --tokens"
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.column("amount").to_pylist() == [row[7] for row in EXPECTED]


def test_without_receipts_the_skipped_creations_are_said(tmp_path):
    export = write_export(tmp_path / "etl", *chain())
    done = kyt("import", "ethereum-etl", "--transactions", export.transactions, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert ("skipped 1 contract creations with a value: without --receipts the created contract is unknown"
            in done.stderr)
    assert (tmp_path / "out" / "block_range=100000" / "part-0.parquet").exists()


def test_bad_lines_are_reported_and_nothing_is_written(tmp_path):
    export = write_export(tmp_path / "etl", *chain())
    text = export.transactions.read_text().replace(h(2), "0xnothex")
    export.transactions.write_text(text)
    done = kyt("import", "ethereum-etl", "--transactions", export.transactions, "--out", tmp_path / "out.parquet")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "error: input rejected, nothing was written:",
        f"  {export.transactions}:3: hash '0xnothex' is not a hash (0x followed by 64 hex digits)"]
    assert not (tmp_path / "out.parquet").exists()


def test_token_transfers_without_tokens_are_refused(tmp_path):
    export = write_export(tmp_path / "etl", *chain())
    done = kyt("import", "ethereum-etl", "--token-transfers", export.token_transfers, "--out", tmp_path / "o.parquet")
    assert done.returncode == 1
    assert done.stderr.strip() == "error: give --tokens with --token-transfers: token amounts need their decimals"
