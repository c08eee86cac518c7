"""Memory and speed of `kyt import ethereum-etl` as the export grows.

    python benchmarks/import_bench.py --sizes 2M,8M

For each size it writes (once, kept in benchmarks/out/) an ethereum-etl `transactions.csv`
of synthetic native transfers (150 a block, 200,000 addresses), then runs
`kyt import ethereum-etl --transactions FILE --out DIR` as a process and prints its wall
time and the peak resident memory of its process tree. Figures are printed, never asserted.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="2M,8M", help="transactions per export, e.g. 1M,4M")
    parser.add_argument("--work", type=Path, default=HERE / "out" / "import-bench")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
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
