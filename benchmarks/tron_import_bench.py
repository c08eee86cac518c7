"""Memory and speed of `kyt import tron` as the TronGrid export grows.

    python benchmarks/tron_import_bench.py --sizes 200k,1M

For each size it writes (once, kept in benchmarks/out/) a synthetic export of USDT
Transfer events as TronGrid returns them, one 200-item page a line (`.jsonl`, 100 events a
block, 50,000 accounts, addresses as `0x` + 40 hex digits like TronGrid's), plus a tenth as
many TRX account transactions, then runs `kyt import tron --trx ... --trc20 ... --out
FILE.parquet` as a process and prints its wall time and the peak resident memory of its
process tree. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from chain_scale_bench import GB, PeakMemory, count_text, parse_count  # noqa: E402

KYT = HERE.parent / ".venv" / "bin" / "kyt"
USDT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
PER_BLOCK, PAGE, ACCOUNTS = 100, 200, 50_000
FIRST_BLOCK, FIRST_MS = 60_000_000, 1_711_929_600_000


def write_export(folder: Path, events: int) -> tuple[Path, Path]:
    """The events and transactions files of a size (written once, under temporary names then renamed)."""
    rng = random.Random(events)
    accounts = [rng.randbytes(20).hex() for _ in range(ACCOUNTS)]
    paths = folder / f"tron-events-{count_text(events)}.jsonl", folder / f"tron-trx-{count_text(events)}.jsonl"
    if all(p.exists() for p in paths):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    for path, count, item in ((paths[0], events, _event), (paths[1], events // 10, _transaction)):
        partial = path.with_suffix(".partial")
        with partial.open("wb") as handle:
            for start in range(0, count, PAGE):
                data = [item(n, rng, accounts) for n in range(start, min(count, start + PAGE))]
                handle.write(orjson.dumps({"data": data, "success": True,
                                           "meta": {"at": 0, "page_size": len(data), "fingerprint": "x"}}) + b"\n")
        partial.replace(path)
    return paths


def _place(n: int) -> tuple[int, int]:
    block = FIRST_BLOCK + n // PER_BLOCK
    return block, FIRST_MS + (block - FIRST_BLOCK) * 3000


def _event(n: int, rng: random.Random, accounts: list[str]) -> dict:
    block, stamp = _place(n)
    sender, receiver = rng.choice(accounts), rng.choice(accounts)
    value = str(rng.randrange(1, 10**10))
    return {"block_number": block, "block_timestamp": stamp, "contract_address": USDT, "event_index": 0,
            "event_name": "Transfer", "result": {"0": "0x" + sender, "1": "0x" + receiver, "2": value,
                                                  "from": "0x" + sender, "to": "0x" + receiver, "value": value},
            "result_type": {"from": "address", "to": "address", "value": "uint256"},
            "event": "Transfer(address indexed from, address indexed to, uint256 value)",
            "transaction_id": rng.randbytes(32).hex()}


def _transaction(n: int, rng: random.Random, accounts: list[str]) -> dict:
    block, stamp = _place(n * 10)
    value = {"amount": rng.randrange(1, 10**9), "owner_address": "41" + rng.choice(accounts),
             "to_address": "41" + rng.choice(accounts)}
    return {"ret": [{"contractRet": "SUCCESS", "fee": 0}], "signature": ["00" * 65], "txID": rng.randbytes(32).hex(),
            "net_usage": 265, "blockNumber": block, "block_timestamp": stamp, "energy_fee": 0,
            "raw_data": {"contract": [{"parameter": {"value": value,
                                                     "type_url": "type.googleapis.com/protocol.TransferContract"},
                                       "type": "TransferContract"}], "ref_block_bytes": "b011"},
            "internal_transactions": []}


def run_import(command: list[str]) -> tuple[float, int]:
    """Wall seconds and peak resident bytes of one `kyt import tron` process."""
    clock = time.perf_counter()
    process = subprocess.Popen([str(KYT), "import", "tron", *command], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    memory = PeakMemory(process.pid)
    _, errors = process.communicate()
    wall = time.perf_counter() - clock
    memory.stop()
    if process.returncode:
        raise SystemExit(f"the import failed ({process.returncode}):\n{errors}")
    return wall, memory.peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="200k,1M", help="events per export, comma-separated (e.g. 200k,1M)")
    args = parser.parse_args()
    folder = HERE / "out"
    for size in [parse_count(s) for s in args.sizes.split(",")]:
        events, trx = write_export(folder, size)
        out = folder / f"tron-transfers-{count_text(size)}.parquet"
        wall, peak = run_import(["--trx", str(trx), "--trc20", str(events), "--out", str(out)])
        gigabytes = (events.stat().st_size + trx.stat().st_size) / GB
        print(f"{count_text(size)} events + {count_text(size // 10)} transactions ({gigabytes:.2f} GB of JSON): "
              f"{wall:.1f} s, {size * 1.1 / wall:,.0f} items/s, peak RSS {peak / GB:.2f} GB")
        shutil.rmtree(out, ignore_errors=True) if out.is_dir() else out.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
