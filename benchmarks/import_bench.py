"""Memory and speed of `kyt import ethereum-etl` as the export grows.

    python benchmarks/import_bench.py --sizes 2M,8M
    python benchmarks/import_bench.py --bitcoin 200k,1M


For each size it writes (once, kept in benchmarks/out/) an ethereum-etl `transactions.csv`
of synthetic native transfers (150 a block, 200,000 addresses), then runs
`kyt import ethereum-etl --transactions FILE --out DIR` as a process and prints its wall
time and the peak resident memory of its process tree. Figures are printed, never asserted.
With --bitcoin it does the same for `kyt import bitcoin-etl` on a synthetic enriched
bitcoin-etl `transactions.json` (JSON lines: 2,000 transactions a block, one coinbase each,
1 to 3 inputs and 1 to 3 outputs over 50,000 P2PKH and P2WPKH addresses, scripts included).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from chain_history import hex_text  # noqa: E402
from chain_scale_bench import GB, PeakMemory, count_text, parse_count  # noqa: E402

KYT = HERE.parent / ".venv" / "bin" / "kyt"
COLUMNS = ("hash", "nonce", "block_hash", "block_number", "transaction_index", "from_address", "to_address",
           "value", "gas", "gas_price", "input", "block_timestamp")
PER_BLOCK, CHUNK = 150, 1_000_000


def write_transactions(path: Path, rows: int, seed: int = 1) -> None:
    """`rows` transactions in ethereum-etl's columns, in chain order, a million at a time."""
    rng = np.random.default_rng(seed)
    pool = hex_text(rng.integers(0, 256, (200_000, 20), dtype=np.uint8))
    text = lambda values: pc.cast(pa.array(values), pa.string())  # noqa: E731
    partial = path.with_name(path.name + ".partial")
    with pcsv.CSVWriter(partial, pa.schema([(c, pa.string()) for c in COLUMNS])) as writer:
        for start in range(0, rows, CHUNK):
            n = min(CHUNK, rows - start)
            index = np.arange(start, start + n)
            block = 15_000_000 + index // PER_BLOCK
            writer.write_table(pa.table({
                "hash": hex_text(rng.integers(0, 256, (n, 32), dtype=np.uint8)), "nonce": text(index % 1000),
                "block_hash": hex_text(rng.integers(0, 256, (n, 32), dtype=np.uint8)), "block_number": text(block),
                "transaction_index": text(index % PER_BLOCK),
                "from_address": pool.take(pa.array(rng.integers(0, len(pool), n))),
                "to_address": pool.take(pa.array(rng.integers(0, len(pool), n))),
                "value": text(rng.integers(1, 10**15, n) * 1000), "gas": pa.array(["21000"] * n),
                "gas_price": pa.array(["1000000000"] * n), "input": pa.array(["0x"] * n),
                "block_timestamp": text(1_660_000_000 + (block - 15_000_000) * 12)}))
    partial.replace(path)


def write_bitcoin_transactions(path: Path, count: int, seed: int = 1) -> None:
    """`count` enriched bitcoin-etl transactions as JSON lines, in chain order."""
    import random

    import base58
    import bech32
    import orjson

    rng = random.Random(seed)
    pool = [base58.b58encode_check(b"\x00" + rng.randbytes(20)).decode() if i % 2
            else bech32.encode("bc", 0, rng.randbytes(20)) for i in range(50_000)]

    def part(index: int, value: int) -> dict:
        script = rng.randbytes(25).hex()
        return {"index": index, "script_asm": f"OP_DUP OP_HASH160 {script[6:46]} OP_EQUALVERIFY OP_CHECKSIG",
                "script_hex": script, "required_signatures": 1, "type": "pubkeyhash",
                "addresses": [rng.choice(pool)], "value": value}

    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as handle:
        for n in range(count):
            block, index = 700_000 + n // 2_000, n % 2_000
            coinbase = index == 0
            inputs = [] if coinbase else [part(i, rng.randrange(1_000, 10**9)) for i in range(rng.randint(1, 3))]
            spend = sum(i["value"] for i in inputs) - 500 if inputs else 625_000_000
            cuts = sorted(rng.randrange(0, spend + 1) for _ in range(rng.randint(1, 3) - 1))
            values = [b - a for a, b in zip([0, *cuts], [*cuts, spend])]
            outputs = [part(i, v) for i, v in enumerate(values)]
            handle.write(orjson.dumps({
                "hash": rng.randbytes(32).hex(), "size": 250, "virtual_size": 200, "version": 2, "lock_time": 0,
                "block_number": block, "block_hash": rng.randbytes(32).hex(),
                "block_timestamp": 1_630_000_000 + (block - 700_000) * 600, "is_coinbase": coinbase,
                "index": index, "inputs": inputs, "outputs": outputs, "input_count": len(inputs),
                "output_count": len(outputs), "input_value": sum(i["value"] for i in inputs),
                "output_value": spend, "fee": 0 if coinbase else 500}) + b"\n")
    partial.replace(path)


def run_import(command: list[str]) -> tuple[float, int]:
    """Wall seconds and peak resident bytes of one `kyt import` process."""
    clock = time.perf_counter()
    process = subprocess.Popen([str(KYT), "import", *command], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    memory = PeakMemory(process.pid)
    _, errors = process.communicate()
    wall = time.perf_counter() - clock
    memory.stop()
    if process.returncode:
        raise SystemExit(f"the import failed ({process.returncode}):\n{errors}")
    return wall, memory.peak


def bitcoin(sizes: str, work: Path) -> None:
    """`kyt import bitcoin-etl` on synthetic exports of each size: time, transactions a second, peak memory."""
    for count in sorted(parse_count(s) for s in sizes.split(",")):
        source = work / f"bitcoin-transactions-{count_text(count)}.json"
        if not source.exists():
            clock = time.perf_counter()
            write_bitcoin_transactions(source, count)
            print(f"{count_text(count)}: wrote {source} in {time.perf_counter() - clock:.1f} s", flush=True)
        out = work / f"bitcoin-out-{count_text(count)}.parquet"
        wall, peak = run_import(["bitcoin-etl", "--transactions", str(source), "--out", str(out)])
        transfers = pq.ParquetFile(out).metadata.num_rows
        print(f"{count_text(count):>4} bitcoin transactions ({source.stat().st_size / GB:.2f} GB of JSON lines, "
              f"{transfers:,} transfers): {wall:6.1f} s, {count / wall:,.0f} transactions a second, "
              f"peak {peak / GB:.2f} GB", flush=True)
        out.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="2M,8M", help="transactions per export, e.g. 1M,4M")
    parser.add_argument("--work", type=Path, default=HERE / "out" / "import-bench")
    parser.add_argument("--bitcoin", help="bitcoin-etl transactions per export instead, e.g. 200k,1M")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.bitcoin:
        bitcoin(args.bitcoin, args.work)
        return
    for rows in sorted(parse_count(s) for s in args.sizes.split(",")):
        source = args.work / f"transactions-{count_text(rows)}.csv"
        if not source.exists():
            clock = time.perf_counter()
            write_transactions(source, rows)
            print(f"{count_text(rows)}: wrote {source} in {time.perf_counter() - clock:.1f} s", flush=True)
        out = args.work / f"out-{count_text(rows)}"
        shutil.rmtree(out, ignore_errors=True)
        clock = time.perf_counter()
        process = subprocess.Popen([str(KYT), "import", "ethereum-etl", "--transactions", str(source), "--out",
                                    str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        memory = PeakMemory(process.pid)
        _, errors = process.communicate()
        wall = time.perf_counter() - clock
        memory.stop()
        if process.returncode:
            raise SystemExit(f"the import failed ({process.returncode}):\n{errors}")
        size = source.stat().st_size / GB
        print(f"{count_text(rows):>4} transactions ({size:.2f} GB of CSV): {wall:6.1f} s, {rows / wall:,.0f} a second, "
              f"peak {memory.peak / GB:.2f} GB", flush=True)
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
