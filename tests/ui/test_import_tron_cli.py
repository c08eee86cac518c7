"""`kyt import tron` as a user runs it: a real process, its exit code, its messages, its files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from tests.graph.test_tron_import import EXPECTED, PRICES, B, C, D, export, h, usdt_events, write_lines

KYT = Path(sys.executable).parent / "kyt"


def kyt(*args):
    return subprocess.run([str(KYT), *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"})


def test_an_export_is_imported_and_summarised(tmp_path):
    trx, trc20 = export(tmp_path)
    prices = tmp_path / "prices.csv"
    prices.write_text("asset,day,price\n" + "".join(f"{a},{d.isoformat()},{p}\n" for (a, d), p in PRICES.items()))
    out = tmp_path / "out.parquet"
    done = kyt("import", "tron", "--trx", trx, "--trc20", trc20, "--prices", prices, "--out", out)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "read 8 transactions and 6 events from 3 files (2 repeated items read once)",
        f"wrote 7 transfers (blocks 60,000,000 to 60,028,800) to {out}: 4 TRX, 3 TRC-20; 1 without a price "
        f"(empty usd_value)",
        "transactions left out: 1 failed, 1 internal (not read), 1 zero-amount, 1 other contracts "
        "(TriggerSmartContract 1)",
        "events left out: 1 of tokens without decimals (give --tokens), 1 other than Transfer, 1 zero-value"]
    table = pq.read_table(out)
    assert table.column("amount").to_pylist() == [row[7] for row in EXPECTED]
    assert table.column("usd_value").to_pylist() == [row[8] for row in EXPECTED]


def test_a_tokens_file_adds_decimals(tmp_path):
    _, trc20 = export(tmp_path)
    tokens = tmp_path / "tokens.csv"
    tokens.write_text(f"address,decimals\n{C},1\n")
    out = tmp_path / "out.csv"
    done = kyt("import", "tron", "--trc20", trc20, "--tokens", tokens, "--out", out)
    assert done.returncode == 0, done.stderr
    written = out.read_text().splitlines()
    assert written[-1] == f"{h(8)},60028800,0,2024-04-02T00:00:00Z,{B},{C},{C},1.2,,tron"
    assert len(written) == 1 + 4  # the header, three USDT transfers and this one
    assert done.stderr.splitlines()[-1] == "events left out: 1 other than Transfer, 1 zero-value"


def test_bad_lines_are_reported_and_nothing_is_written(tmp_path):
    good = usdt_events()[0]
    lines = [good, dict(good, event_index=3, result={"from": "0x12", "to": D, "value": "1"}),
             dict(good, event_index=4, result={"from": D, "to": D, "value": -1}), "[1, 2"]
    source = write_lines(tmp_path / "events.jsonl", lines)
    out = tmp_path / "out.csv"
    done = kyt("import", "tron", "--trc20", source, "--out", out)
    assert done.returncode == 1
    said = done.stderr.splitlines()
    assert said[:3] == ["error: input rejected, nothing was written:",
                        f"  {source}:2: result.from: '0x12' is not a Tron address (T + 33 base58 letters, or 41 + 40 "
                        f"hex digits)",
                        f"  {source}:3: result.value -1 is negative"]
    assert said[3].startswith(f"  {source}:4: not JSON: ")
    assert len(said) == 4
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.jsonl"]


def test_no_input_is_said(tmp_path):
    done = kyt("import", "tron", "--out", tmp_path / "o.parquet")
    assert done.returncode == 1
    assert done.stderr.splitlines() == ["error: give --trx (account transactions) or --trc20 (TRC-20 Transfer "
                                        "events), or both"]
