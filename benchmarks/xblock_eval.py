"""The address-risk model on real data it never saw: XBlock's first-order phishing network.

    python benchmarks/xblock_eval.py --xblock DIR --model M [--busy 20]

DIR holds `xblock_phishing_first_order_txs.csv.gz` (real ETH transfers into and out of 1,262
Etherscan-labelled phishing addresses) and `phishing_addresses_xblock_2019.txt`. The script
writes them in the project's formats into benchmarks/out/xblock (transfers in ETH as the unit
of value, as the T-EDGE adapter does; failed transactions and contract calls without value
dropped), labels every listed phishing address 1 and every other address with at least
`--busy` transfers in the network 0, and runs `kyt model evaluate` on them. Nothing here is
used to train or tune: the data is only measured.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out" / "xblock"
KYT = ROOT / ".venv" / "bin" / "kyt"


def convert(folder: Path, busy: int) -> tuple[Path, Path, dict]:
    """Write transfers.csv and labels.csv into OUT; their paths and counts."""
    OUT.mkdir(parents=True, exist_ok=True)
    phishing = {line.strip().lower() for line in (folder / "phishing_addresses_xblock_2019.txt").read_text().split()
                if line.strip()}
    transfers, labels = OUT / "transfers.csv", OUT / "labels.csv"
    seen: Counter = Counter()
    kept = 0
    with gzip.open(folder / "xblock_phishing_first_order_txs.csv.gz", "rt", newline="") as source, \
            transfers.open("w", newline="") as sink:
        out = csv.writer(sink)
        out.writerow(["tx_hash", "block_number", "position", "timestamp", "from_address", "to_address", "asset",
                      "amount", "usd_value"])
        done = set()
        for row in csv.DictReader(source):
            value = row["value_eth"].strip()
            if row["is_error"].strip() not in ("", "0") or not value or float(value) <= 0 or not row["to"].strip():
                continue
            key = row["tx_hash"]
            if key in done:  # a transfer between two phishing centres is listed under both
                continue
            done.add(key)
            sender, receiver = row["from"].strip().lower(), row["to"].strip().lower()
            out.writerow([key, row["block_number"], 0, row["timestamp"], sender, receiver, "ETH", value, value])
            seen[sender] += 1
            seen[receiver] += 1
            kept += 1
    normal = sorted(a for a, n in seen.items() if n >= busy and a not in phishing)
    risky = sorted(a for a in phishing if seen[a] > 0)
    with labels.open("w", newline="") as sink:
        out = csv.writer(sink)
        out.writerow(["address", "label", "split"])
        out.writerows([a, 1, "test"] for a in risky)
        out.writerows([a, 0, "test"] for a in normal)
    return transfers, labels, {"transfers": kept, "phishing": len(risky), "busy_normal": len(normal)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xblock", type=Path, required=True)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--busy", type=int, default=20, help="transfers an address needs to count as a busy normal one")
    args = parser.parse_args()
    transfers, labels, counts = convert(args.xblock, args.busy)
    print(f"{counts['transfers']:,} transfers; {counts['phishing']:,} phishing and {counts['busy_normal']:,} busy "
          f"normal addresses (at least {args.busy} transfers)")
    done = subprocess.run([str(KYT), "model", "evaluate", "--model", str(args.model), "--transfers", str(transfers),
                           "--labels", str(labels), "--as-of", "2030-01-01T00:00:00Z", "--json"],
                          capture_output=True, text=True)
    print(done.stdout or done.stderr)
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()
