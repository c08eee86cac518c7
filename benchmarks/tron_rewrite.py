"""The Lazarus Group's real transfer graph scored on Ethereum and, rewritten address by address, on Tron.

    python benchmarks/tron_rewrite.py --transfers lazarus_ronin_eth_transfers_normalized.csv \
        --lazarus LazarusGroup.txt [--engines memory,pruned,spark]

The transfers (`block_time, from, to, value_eth`: real ETH transfers around the Ronin bridge
hack) are written in the project's formats twice: as they are (chain ethereum) and with
every address as its Tron twin (the same 20 bytes, base58check with version 0x41; `chain =
tron` in every file). Every transfer is also a deposit of its sender, the Lazarus addresses
are flagged as sanctioned, and `kyt score` runs on both. The script prints how many
decisions, exposures and pieces of evidence there are and whether the Tron run's equal
the Ethereum run's, wallet for wallet. Nothing is tuned: the data is only measured.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graph import chains  # noqa: E402

OUT = ROOT / "benchmarks" / "out" / "tron_rewrite"
KYT = ROOT / ".venv" / "bin" / "kyt"


def lazarus(path: Path) -> list[str]:
    """The addresses of the list file (one per line, quoted, with a stray escape for 0x)."""
    found = []
    for line in path.read_text().split():
        text = line.strip().strip(",").strip("'")
        text = "0x" + text[2:] if text.startswith("\\x") else text
        found.append(text.lower())
    return sorted(set(found))


def write_inputs(source: Path, flagged: list[str], folder: Path, *, tron: bool) -> dict[str, Path]:
    """transfers, deposits and flagged files in the project's formats, on Ethereum or on Tron."""
    folder.mkdir(parents=True, exist_ok=True)

    def wallet(address: str) -> str:
        return chains.tron_from_evm(address) if tron else address.lower()

    chain = "tron" if tron else "ethereum"
    with source.open(newline="") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda r: r["block_time"])
    blocks = {t: n + 1 for n, t in enumerate(sorted({r["block_time"] for r in rows}))}
    names = {name: folder / f"{name}.csv" for name in ("transfers", "deposits", "flagged")}
    with names["transfers"].open("w", newline="") as t, names["deposits"].open("w", newline="") as d:
        transfers, deposits = csv.writer(t), csv.writer(d)
        transfers.writerow(["tx_hash", "block_number", "position", "timestamp", "from_address", "to_address", "asset",
                            "amount", "usd_value", "chain"])
        deposits.writerow(["deposit_id", "tx_hash", "customer_id", "timestamp", "block_number", "position",
                           "from_address", "to_address", "asset", "amount", "usd_value", "chain"])
        seen: dict[str, int] = {}
        for n, row in enumerate(rows):
            block = blocks[row["block_time"]]
            position = seen.get(row["block_time"], 0)
            seen[row["block_time"]] = position + 1
            cells = [f"0x{n:064x}", block, position, row["block_time"], wallet(row["from"]), wallet(row["to"]),
                     "ETH", row["value_eth"], row["value_eth"], chain]
            transfers.writerow(cells)
            deposits.writerow([f"L-{n}", f"0x{n:064x}", f"c{n}", *cells[3:4], block, position + 100_000, *cells[4:]])
    with names["flagged"].open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["address", "category", "source", "chain"])
        out.writerows([wallet(a), "sanctions", "OFAC SDN: LAZARUS GROUP", chain] for a in flagged)
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    table = pcsv.read_csv(names["transfers"], convert_options=pcsv.ConvertOptions(
        column_types={c: "string" for c in ("tx_hash", "timestamp", "from_address", "to_address", "asset", "amount",
                                            "usd_value", "chain")}))
    names["parquet"] = folder / "transfers.parquet"  # the Spark engine reads Parquet
    pq.write_table(table, names["parquet"])
    return names


def score(names: dict[str, Path], folder: Path, engine: str) -> tuple[list, list, float]:
    """Decisions with exposures, the evidence, and the seconds `kyt score` took."""
    outputs = [folder / f"{engine}-{name}" for name in ("out.csv", "exposures.csv", "evidence.jsonl")]
    clock = time.perf_counter()
    transfers = names["parquet"] if engine == "spark" else names["transfers"]
    subprocess.run([str(KYT), "score", str(names["deposits"]), "--transfers", str(transfers),
                    "--flagged", str(names["flagged"]), "--as-of", "2030-01-01", "--engine",
                    "spark" if engine == "spark" else engine, *(["--spark-master", "local[2]"] if engine == "spark"
                                                               else []),
                    "--out", str(outputs[0]), "--exposures-out", str(outputs[1]), "--evidence-out", str(outputs[2]),
                    "--no-cases"], check=True, capture_output=True)
    seconds = time.perf_counter() - clock
    with outputs[0].open() as a, outputs[1].open() as b:
        lines = [{k: v for k, v in r.items() if k != "snapshot_id"} for r in csv.DictReader(a)] + list(
            csv.DictReader(b))
    evidence = [json.loads(line) for line in outputs[2].read_text().splitlines()]
    return lines, evidence, seconds


def as_tron(evidence: dict) -> dict:
    def mapped(value):
        return chains.wallet_key("tron", chains.tron_from_evm(value)) if isinstance(value, str) and \
            value.startswith("0x") and len(value) == 42 else value

    return json.loads(json.dumps(evidence), object_hook=lambda o: {k: mapped(v) if k == "address" else v
                                                                   for k, v in o.items() if k != "snapshot_id"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transfers", type=Path, required=True)
    parser.add_argument("--lazarus", type=Path, required=True)
    parser.add_argument("--engines", default="memory,pruned")
    args = parser.parse_args()
    flagged = lazarus(args.lazarus)
    eth = write_inputs(args.transfers, flagged, OUT / "ethereum", tron=False)
    trx = write_inputs(args.transfers, flagged, OUT / "tron", tron=True)
    for engine in args.engines.split(","):
        lines, evidence, eth_seconds = score(eth, OUT / "ethereum", engine)
        found, found_evidence, trx_seconds = score(trx, OUT / "tron", engine)
        decisions = [line.get("decision") for line in lines if "decision" in line]
        same = found == lines and [as_tron(e) for e in evidence] == [as_tron(e) for e in found_evidence]
        print(f"{engine}: {len(decisions)} deposits ({decisions.count('freeze')} freeze, {decisions.count('review')} "
              f"review), {len(lines) - len(decisions)} exposures, {len(evidence)} evidence records; Tron run "
              f"{'identical' if same else 'DIFFERENT'}; {eth_seconds:.1f} s on Ethereum, {trx_seconds:.1f} s on Tron")


if __name__ == "__main__":
    main()
