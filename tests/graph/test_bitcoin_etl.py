"""bitcoin-etl transaction exports imported as transfers: exact rows, the output forms, bad lines as FILE:LINE."""

from __future__ import annotations

import gzip
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow.csv as pcsv
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from graph.bitcoin_etl import read_transaction
from graph.bitcoin_import import import_transactions
from graph.errors import GraphError, InputError

# real mainnet addresses of each kind: P2PKH, P2SH, P2WPKH, P2TR, P2WSH
A = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
B = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"
C = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
D = "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297"
E = "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3"
T0 = 1_690_160_400  # 2023-07-24T01:00:00Z: block 800,000
T1 = T0 + 86_400  # the next day: block 800,001, no price
PRICES = {("BTC", date(2023, 7, 24)): Decimal("29000.5")}


def h(n: int) -> str:
    return f"{n:064x}"


def part(address, value, kind="pubkeyhash"):
    """An input or output as bitcoin-etl writes it (address None: none; a list: several)."""
    addresses = [] if address is None else address if isinstance(address, list) else [address]
    return {"index": 0, "type": kind, "addresses": addresses, "value": value, "required_signatures": 1}


def tx(n, block, index, inputs, outputs, *, coinbase=False, timestamp=None):
    record = {"hash": h(n), "size": 200, "block_number": block, "block_hash": h(10**6 + block),
              "block_timestamp": timestamp if timestamp is not None else (T0 if block == 800_000 else T1),
              "is_coinbase": coinbase, "index": index, "inputs": inputs, "outputs": outputs,
              "input_count": len(inputs), "output_count": len(outputs)}
    for number, item in enumerate(inputs + outputs):
        item["index"] = number if number < len(inputs) else number - len(inputs)
    return record


def export():
    """Two blocks, written out of chain order."""
    return [
        tx(5, 800_001, 1, [part(C, 100_000)], [part(A, 99_000)]),
        tx(1, 800_000, 0, [], [part(A, 625_000_000), part(None, 0, "nulldata")], coinbase=True),
        # 2 inputs, 3 outputs, fee 10,000
        tx(3, 800_000, 2, [part(A, 70_000), part(B, 30_000)],
           [part(C, 50_001), part(D, 29_999), part(E, 10_000)]),
        # change back to A; C written in upper case (bech32 allows it)
        tx(2, 800_000, 1, [part(A, 100_000_000), part(B, 50_000_000)],
           [part(C.upper(), 120_000_000), part(A, 29_990_000)]),
        tx(4, 800_001, 0, [], [part(D, 625_010_000)], coinbase=True),
        # a bare multisig output and a non-standard one
        tx(6, 800_001, 2, [part(E, 60_000)],
           [part([A, B], 20_000, "multisig"), part(B, 30_000),
            part("nonstandard" + "ab" * 20, 5_000, "nonstandard")]),
        # spending a bare multisig output: its share of D is not written
        tx(7, 800_001, 3, [part([A, B], 40_000, "multisig"), part(C, 40_000)], [part(D, 80_000)]),
    ]


EXPECTED = [
    # block 800,000: transaction 1 (index 1), output by output, input by input; A -> A (change) dropped
    (h(2), 800_000, 0, T0, A, C, "BTC", "0.8", "23200.40", "bitcoin"),
    (h(2), 800_000, 1, T0, B, C, "BTC", "0.4", "11600.20", "bitcoin"),
    (h(2), 800_000, 2, T0, B, A, "BTC", "0.09996667", "2899.083413335", "bitcoin"),
    (h(3), 800_000, 3, T0, A, C, "BTC", "0.00035001", "10.150465005", "bitcoin"),
    (h(3), 800_000, 4, T0, B, C, "BTC", "0.00015", "4.350075", "bitcoin"),
    (h(3), 800_000, 5, T0, A, D, "BTC", "0.00020999", "6.089814995", "bitcoin"),
    (h(3), 800_000, 6, T0, B, D, "BTC", "0.00009", "2.610045", "bitcoin"),
    (h(3), 800_000, 7, T0, A, E, "BTC", "0.00007", "2.030035", "bitcoin"),
    (h(3), 800_000, 8, T0, B, E, "BTC", "0.00003", "0.870015", "bitcoin"),
    # block 800,001: the next day, no price
    (h(5), 800_001, 0, T1, C, A, "BTC", "0.00099", None, "bitcoin"),
    (h(6), 800_001, 1, T1, E, B, "BTC", "0.0003", None, "bitcoin"),
    (h(7), 800_001, 2, T1, C, D, "BTC", "0.0004", None, "bitcoin"),
]


def write_lines(path: Path, records: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)
    return path


def rows(table) -> list[tuple]:
    table = table.to_pydict()
    stamps = [int(t.timestamp()) for t in table["timestamp"]]
    return [tuple(values) for values in zip(table["tx_hash"], table["block_number"], table["position"], stamps,
                                            table["from_address"], table["to_address"], table["asset"],
                                            table["amount"], table["usd_value"], table["chain"])]


def test_an_export_becomes_the_expected_transfers(tmp_path):
    source = write_lines(tmp_path / "transactions.json", export())
    summary = import_transactions(source, tmp_path / "out.parquet", prices=PRICES)
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.schema.names == ["tx_hash", "block_number", "position", "timestamp", "from_address", "to_address",
                                  "asset", "amount", "usd_value", "chain"]
    assert rows(table) == EXPECTED
    assert (summary.transactions, summary.coinbase, summary.transfers) == (7, 2, 12)
    assert (summary.undecodable_outputs, summary.multisig_outputs, summary.unattributed_inputs) == (2, 1, 1)
    assert (summary.unpriced, summary.first_block, summary.last_block) == (3, 800_000, 800_001)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # the work folder is gone


def test_value_is_conserved_per_output_in_the_written_rows(tmp_path):
    # transaction 3 pays C 50,001, D 29,999 and E 10,000 satoshis: the rows add up to exactly that
    source = write_lines(tmp_path / "transactions.json", export())
    import_transactions(source, tmp_path / "out.parquet")
    paid: dict[str, Decimal] = {}
    for row in rows(pq.read_table(tmp_path / "out.parquet")):
        if row[0] == h(3):
            paid[row[5]] = paid.get(row[5], Decimal(0)) + Decimal(row[7])
    assert paid == {C: Decimal("0.00050001"), D: Decimal("0.00029999"), E: Decimal("0.0001")}


def test_without_prices_every_usd_value_is_empty(tmp_path):
    source = write_lines(tmp_path / "transactions.json", export())
    summary = import_transactions(source, tmp_path / "out.parquet")
    assert pq.read_table(tmp_path / "out.parquet").column("usd_value").to_pylist() == [None] * 12
    assert summary.unpriced == 12


def test_a_csv_output_holds_the_same_rows(tmp_path):
    source = write_lines(tmp_path / "transactions.json", export())
    import_transactions(source, tmp_path / "out.csv.gz", prices=PRICES)
    with gzip.open(tmp_path / "out.csv.gz", "rt") as handle:
        lines = handle.read().splitlines()
    assert lines[0] == "tx_hash,block_number,position,timestamp,from_address,to_address,asset,amount,usd_value,chain"
    assert lines[1] == f"{h(2)},800000,0,2023-07-24T01:00:00Z,{A},{C},BTC,0.8,23200.40,bitcoin"
    assert lines[10] == f"{h(5)},800001,0,2023-07-25T01:00:00Z,{C},{A},BTC,0.00099,,bitcoin"
    table = pcsv.read_csv(tmp_path / "out.csv.gz", convert_options=pcsv.ConvertOptions(
        column_types={"usd_value": "string", "amount": "string", "tx_hash": "string"}))
    assert table.column("amount").to_pylist() == [row[7] for row in EXPECTED]


def test_a_directory_of_gzipped_parts_reads_the_enriched_files_only(tmp_path):
    records = export()
    folder = tmp_path / "export" / "transactions"
    write_lines(folder / "date=2023-07-24" / "enriched_transactions_00800000_00800000.json.gz",
                [r for r in records if r["block_number"] == 800_000])
    write_lines(folder / "date=2023-07-24" / "transactions_00800000_00800000.json.gz",
                ["not read: the enriched file beside it is"])
    write_lines(folder / "date=2023-07-25" / "part.jsonl", [r for r in records if r["block_number"] == 800_001])
    summary = import_transactions(folder, tmp_path / "out")
    table = ds.dataset(tmp_path / "out", format="parquet", partitioning="hive").to_table(
        columns=["tx_hash", "block_number", "position", "timestamp", "from_address", "to_address", "asset",
                 "amount", "usd_value", "chain"])
    assert [r[:8] for r in rows(table)] == [r[:8] for r in EXPECTED]
    assert summary.files_read == 2
    assert (tmp_path / "out" / "block_range=800000" / "part-0.parquet").exists()


def test_bad_lines_are_reported_as_file_and_line_and_nothing_is_written(tmp_path):
    good = export()
    unenriched = tx(8, 800_000, 3, [{"index": 0, "spent_transaction_hash": h(1), "addresses": [], "value": None}],
                    [part(A, 1)])
    lines = [good[0], "{not json", tx(9, 800_000, 4, [part(A, 10)], [part(A[:-1] + "b", 5)]),
             tx(10, 800_000, 5, [part(A, 10)], [part(B, -5)]), tx(11, 800_000, 6, [part(A, 10)], [part(B, 11)]),
             unenriched, ""]
    source = write_lines(tmp_path / "transactions.json", lines)
    with pytest.raises(InputError) as caught:
        import_transactions(source, tmp_path / "out.parquet")
    said = str(caught.value).splitlines()
    assert said[0].startswith(f"{source}:2: not JSON: ")
    assert said[1].startswith(f"{source}:3: output 0: ") and A[:-1] + "b" in said[1]
    assert said[2:] == [f"{source}:4: output 0: value -5 is negative",
                        f"{source}:5: outputs (11 satoshis) exceed inputs (10 satoshis)",
                        f"{source}:6: input 0 has no value: the export is not enriched (run bitcoinetl "
                        f"enrich_transactions)"]
    assert not (tmp_path / "out.parquet").exists()
    assert list(tmp_path.iterdir()) == [source]


def test_a_transaction_twice_at_one_place_is_a_bad_line(tmp_path):
    records = export()
    again = dict(records[2], hash=h(99))
    source = write_lines(tmp_path / "transactions.json", records + [again])
    with pytest.raises(InputError) as caught:
        import_transactions(source, tmp_path / "out.parquet")
    assert str(caught.value) == f"{source}:8: block 800000 has another transaction at index 2 (line 3 of {source})"


def test_a_block_with_two_times_is_a_bad_line(tmp_path):
    records = export() + [tx(12, 800_000, 7, [part(A, 10)], [part(B, 5)], timestamp=T0 + 1)]
    source = write_lines(tmp_path / "transactions.json", records)
    with pytest.raises(InputError) as caught:
        import_transactions(source, tmp_path / "out.parquet")
    assert str(caught.value) == (f"{source}:8: block_timestamp {T0 + 1} differs from the {T0} of another "
                                 f"transaction of block 800000")


def test_an_unknown_output_kind_is_refused(tmp_path):
    source = write_lines(tmp_path / "transactions.json", export())
    with pytest.raises(GraphError, match="a .parquet or .csv"):
        import_transactions(source, tmp_path / "out.txt")


def test_each_record_field_is_checked():
    record = tx(1, 5, 0, [part(A, 10)], [part(B, 9)])
    assert [tuple(f) for f in read_transaction(record).flows] == [(A, B, 9)]
    for change, said in [({"hash": "xyz"}, "hash 'xyz' is not a transaction hash (64 hex digits)"),
                         ({"block_number": -1}, "block_number -1 is negative"),
                         ({"block_number": 1.5}, "block_number 1.5 is not a whole number"),
                         ({"index": None}, "missing index"),
                         ({"is_coinbase": "no"}, "is_coinbase 'no' is not true or false"),
                         ({"is_coinbase": True}, "a coinbase transaction with inputs"),
                         ({"inputs": []}, "no inputs, and is_coinbase is not true"),
                         ({"outputs": "x"}, "outputs is not a list of objects"),
                         ({"block_timestamp": 5_000_000_000}, "block_timestamp 5000000000 is too large")]:
        with pytest.raises(ValueError) as caught:
            read_transaction({**record, **change})
        assert str(caught.value) == said
    assert read_transaction({**record, "block_number": "5", "block_timestamp": str(T0)}).block_number == 5
