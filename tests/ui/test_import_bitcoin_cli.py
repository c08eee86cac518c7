"""`kyt import bitcoin-etl` as a user runs it: a real process, its exit code, its messages, its files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from tests.graph.test_bitcoin_etl import EXPECTED, PRICES, A, B, export, part, tx, write_lines

KYT = Path(sys.executable).parent / "kyt"


def kyt(*args):
    return subprocess.run([str(KYT), *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"})


def test_an_export_is_imported_and_summarised(tmp_path):
    source = write_lines(tmp_path / "transactions.json", export())
    prices = tmp_path / "prices.csv"
    prices.write_text("asset,day,price\n" + "".join(f"{a},{d.isoformat()},{p}\n" for (a, d), p in PRICES.items()))
    out = tmp_path / "out.parquet"
    done = kyt("import", "bitcoin-etl", "--transactions", source, "--prices", prices, "--out", out)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "read 7 transactions (2 coinbase: no transfers) from 1 file",
        f"wrote 12 transfers (blocks 800,000 to 800,001) to {out}; 3 without a price (empty usd_value)",
        "dropped: 2 outputs without an address (OP_RETURN, non-standard), 1 bare multisig outputs (several "
        "addresses), 1 inputs without a single address (their share is not written)"]
    table = pq.read_table(out)
    assert table.column("amount").to_pylist() == [row[7] for row in EXPECTED]
    assert table.column("usd_value").to_pylist() == [row[8] for row in EXPECTED]


def test_bad_lines_are_reported_and_nothing_is_written(tmp_path):
    lines = export()[:2] + [tx(9, 800_000, 4, [part(A, 10)], [part(B, -5)]), "[1, 2"]
    source = write_lines(tmp_path / "transactions.json", lines)
    out = tmp_path / "out.csv"
    done = kyt("import", "bitcoin-etl", "--transactions", source, "--out", out)
    assert done.returncode == 1
    said = done.stderr.splitlines()
    assert said[:2] == ["error: input rejected, nothing was written:",
                        f"  {source}:3: output 0: value -5 is negative"]
    assert said[2].startswith(f"  {source}:4: not JSON: ")
    assert len(said) == 3
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["transactions.json"]


def test_a_missing_export_is_said(tmp_path):
    done = kyt("import", "bitcoin-etl", "--transactions", tmp_path / "nothing", "--out", tmp_path / "o.parquet")
    assert done.returncode == 1
    assert done.stderr.splitlines() == ["error: input rejected, nothing was written:",
                                        f"  {tmp_path / 'nothing'}: no such file or directory"]
