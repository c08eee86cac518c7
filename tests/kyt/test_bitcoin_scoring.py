"""A Bitcoin deposit scored end to end: a bitcoin-etl export imported through the UTXO model, exposures by hand."""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from graph.bitcoin_import import import_transactions
from graph.times import parse_time
from kyt import batch

# real mainnet addresses of three kinds (P2PKH, P2SH, P2WPKH, P2TR)
FLAGGED = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
CLEAN = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"
CUSTOMER = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
PLATFORM = "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297"
DAY = 1_700_000_000  # 2023-11-14T22:13:20Z
PRICE = Decimal("30000")


def tx(n: int, block: int, inputs: list[tuple[str, int]], outputs: list[tuple[str, int]]) -> dict:
    def part(address: str, value: int, index: int) -> dict:
        return {"index": index, "type": "pubkeyhash", "addresses": [address], "value": value, "required_signatures": 1}

    return {"hash": f"{n:064x}", "block_number": block, "block_hash": f"{block:064x}", "block_timestamp": DAY + block,
            "is_coinbase": False, "index": 1, "inputs": [part(a, v, i) for i, (a, v) in enumerate(inputs)],
            "outputs": [part(a, v, i) for i, (a, v) in enumerate(outputs)]}


def test_a_bitcoin_deposit_funded_six_tenths_by_a_sanctioned_input_is_exposed_sixty_percent(tmp_path):
    # tx 1: the flagged address puts in 60,000 sat and a clean one 40,000; the customer gets 90,000 (fee 10,000):
    # the flagged input pays 54,000 of it, the clean one 36,000 (value x input / all inputs)
    # tx 2: the customer sends 80,000 sat to the platform (fee 10,000): the deposit
    export = tmp_path / "transactions.json"
    export.write_text("\n".join(json.dumps(t) for t in [
        tx(1, 100, [(FLAGGED, 60_000), (CLEAN, 40_000)], [(CUSTOMER, 90_000)]),
        tx(2, 101, [(CUSTOMER, 90_000)], [(PLATFORM, 80_000)]),
    ]) + "\n")
    transfers = tmp_path / "transfers.csv"
    import_transactions(export, transfers, prices={("BTC", date(2023, 11, 14)): PRICE})
    with transfers.open(newline="") as handle:
        rows = [(r["from_address"], r["to_address"], r["amount"], r["usd_value"], r["chain"])
                for r in csv.DictReader(handle)]
    assert rows == [(FLAGGED, CUSTOMER, "0.00054", "16.20000", "bitcoin"), (CLEAN, CUSTOMER, "0.00036", "10.80000", "bitcoin"),
                    (CUSTOMER, PLATFORM, "0.0008", "24.0000", "bitcoin")]
    deposits = tmp_path / "deposits.csv"
    deposits.write_text("deposit_id,tx_hash,customer_id,timestamp,block_number,position,from_address,to_address,"
                        "asset,amount,usd_value,chain\n"
                        f"B-1,{2:064x},carla,{DAY + 101},101,0,{CUSTOMER},{PLATFORM},BTC,0.0008,24,bitcoin\n")
    flagged = tmp_path / "flagged.csv"
    flagged.write_text("address,category,source,chain,address_case\n"
                       f"{FLAGGED.lower()},sanctions,OFAC SDN: TEST,bitcoin,lost\n")  # its case lost, as in OFAC
    out = tmp_path / "out"
    out.mkdir()
    batch.run(batch.ScoreRequest(transfers=transfers, deposits=deposits, flagged=flagged,
                                 as_of=parse_time("2024-01-01T00:00:00Z"), out=out / "d.csv",
                                 exposures_out=out / "e.csv", evidence_out=out / "ev.jsonl"))
    with (out / "e.csv").open(newline="") as handle:
        exposures = [(r["deposit_id"], r["category"], r["hop"], r["share"], r["usd"]) for r in csv.DictReader(handle)]
    assert exposures == [("B-1", "sanctions", "2", "0.6", "14.4")]  # 54,000 / 90,000 of the $24 deposit
    evidence = json.loads((out / "ev.jsonl").read_text())
    assert [s["address"] for s in evidence["sources"]] == [f"bitcoin:{FLAGGED}"]
    with (out / "d.csv").open(newline="") as handle:
        assert next(csv.DictReader(handle))["decision"] == "freeze"
