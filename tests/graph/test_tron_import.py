"""TronGrid exports imported as Tron transfers: exact rows, overlapping pages, the output forms, bad items."""

from __future__ import annotations

import gzip
import json
from datetime import date
from decimal import Context, Decimal
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from graph import readers
from graph.errors import GraphError, InputError
from graph.tron_import import file_items, import_tron, load_tokens
from graph.trongrid import scaled

# real Tron addresses, with their hex forms (41 + the 20 address bytes)
A, A_HEX = "TL24LCps5FKwp3PoU1MvrYrwhi5LU1tHre", "416e3b44b96104b26f84057974a1f0c9880f7c9b13"
B, B_HEX = "TD3UjWy82fFre6VEqEVpK2J2HKm3NewYE3", "4121b72c741caed659bf48c3fa2b717b007c20fb4b"
C, C_HEX = "TBy2NECVVZRS4Aia4oYXe669HuhgKAiYE3", "4115e75fb8683b09c857d7b8a740b1d0234a3ca97b"
D, D_HEX = "TXVj38D1XR3TPgSHTCZGC8wkLDAGqF1oqx", "41ec20315a879c48f5e3a6a1c9826d5225f8b658b8"
USDT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
T0 = 1_711_929_600  # 2024-04-01T00:00:00Z: block 60,000,000
T1 = T0 + 86_400  # the next day: block 60,028,800, no price
PRICES = {("TRX", date(2024, 4, 1)): Decimal("0.12"), (USDT, date(2024, 4, 1)): Decimal("1.0001")}
BLOCK_TIMES = {60_000_000: T0, 60_000_001: T0 + 3, 60_028_800: T1}


def h(n: int) -> str:
    return f"{n:064x}"


def evm(hex41: str) -> str:
    """An address as TronGrid's events give it: 0x + the 20 address bytes."""
    return "0x" + hex41[2:]


def tx(n, block, kind="TransferContract", *, sender=A_HEX, receiver=B_HEX, amount=1, result="SUCCESS"):
    """An item of GET /v1/accounts/{address}/transactions."""
    value = {"owner_address": sender, "to_address": receiver, "amount": amount} if kind == "TransferContract" \
        else {"owner_address": sender, "contract_address": "41a614f803b6fd780986a42c78ec9c7f77e6ded13c",
              "data": "a9059cbb" + "00" * 64}
    return {"ret": [{"contractRet": result, "fee": 0}], "signature": ["00" * 65], "txID": h(n), "net_usage": 265,
            "blockNumber": block, "block_timestamp": BLOCK_TIMES[block] * 1000, "energy_fee": 0,
            "raw_data": {"contract": [{"parameter": {"value": value, "type_url": f"type.googleapis.com/protocol.{kind}"},
                                       "type": kind}],
                         "ref_block_bytes": "b011", "expiration": BLOCK_TIMES[block] * 1000 + 60_000},
            "internal_transactions": []}


def event(n, index, block, sender, receiver, value, *, token=USDT, name="Transfer"):
    """An item of GET /v1/contracts/{contract}/events?event_name=Transfer."""
    return {"block_number": block, "block_timestamp": BLOCK_TIMES[block] * 1000, "contract_address": token,
            "event_index": index, "event_name": name,
            "result": {"0": sender, "1": receiver, "2": value, "from": sender, "to": receiver, "value": value},
            "result_type": {"from": "address", "to": "address", "value": "uint256"},
            "event": "Transfer(address indexed from, address indexed to, uint256 value)", "transaction_id": h(n)}


INTERNAL = {"internal_tx_id": h(99), "data": {"note": "63616c6c", "rejected": False, "call_value": {"_": 1000}},
            "block_timestamp": T0 * 1000, "to_address": A_HEX, "tx_id": h(98), "from_address": B_HEX}


def page(items, fingerprint=None):
    meta = {"at": T1 * 1000, "page_size": len(items)}
    if fingerprint:
        meta.update(fingerprint=fingerprint, links={"next": f"https://api.trongrid.io/v1/x?fingerprint={fingerprint}"})
    return {"data": items, "success": True, "meta": meta}


def trx_pages():
    """Two pages of an account's transactions; the second repeats the first's last item."""
    first = [tx(1, 60_000_000, sender=A_HEX, receiver=B_HEX, amount=1_500_000),
             tx(2, 60_000_000, sender=B_HEX, receiver=A_HEX, amount=5),
             tx(3, 60_000_000, sender=A_HEX, receiver=C_HEX, amount=7_000_000, result="REVERT"),
             tx(4, 60_000_001, "TriggerSmartContract")]
    second = [tx(4, 60_000_001, "TriggerSmartContract"),
              tx(5, 60_028_800, sender=C_HEX, receiver=A_HEX, amount=250_000_000),
              INTERNAL,
              tx(6, 60_028_800, sender=A_HEX, receiver=D_HEX, amount=0),
              tx(9, 60_000_000, sender="0x" + C_HEX, receiver=D_HEX, amount=10_000_000)]
    return page(first, "fp1"), page(second)


def usdt_events():
    """USDT Transfer events as JSON lines: hex (0x) and base58 addresses, one line repeated, one Approval."""
    return [event(7, 1, 60_000_000, D, C_HEX, "1500000"),
            event(7, 0, 60_000_000, evm(A_HEX), evm(D_HEX), "41677389"),
            event(7, 2, 60_000_000, evm(A_HEX), evm(D_HEX), "5", name="Approval"),
            event(4, 0, 60_000_001, evm(A_HEX), evm(B_HEX), "100000000"),
            event(7, 0, 60_000_000, evm(A_HEX), evm(D_HEX), "41677389"),
            event(10, 0, 60_028_800, evm(B_HEX), evm(C_HEX), "0"),
            event(8, 0, 60_028_800, evm(B_HEX), evm(C_HEX), "12", token=C)]


EXPECTED = [
    # block 60,000,000: by txID, a transaction's events by event_index
    (h(1), 60_000_000, 0, T0, A, B, "TRX", "1.5", "0.180", "tron"),
    (h(2), 60_000_000, 1, T0, B, A, "TRX", "0.000005", "0.00000060", "tron"),
    (h(7), 60_000_000, 2, T0, A, D, USDT, "41.677389", "41.6815567389", "tron"),
    (h(7), 60_000_000, 3, T0, D, C, USDT, "1.500000", "1.5001500000", "tron"),
    (h(9), 60_000_000, 4, T0, C, D, "TRX", "10", "1.20", "tron"),
    (h(4), 60_000_001, 0, T0 + 3, A, B, USDT, "100.000000", "100.0100000000", "tron"),
    # the next day: no price
    (h(5), 60_028_800, 0, T1, C, A, "TRX", "250", None, "tron"),
]


def write_json(path: Path, document, *, indent=None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, indent=indent)
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)
    return path


def write_lines(path: Path, records) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def export(tmp_path: Path) -> tuple[Path, Path]:
    """The TRX pages as a folder (a pretty-printed page, a gzipped one-line page) and the events as JSON lines."""
    first, second = trx_pages()
    write_json(tmp_path / "trx" / "page-1.json", first, indent=2)
    write_json(tmp_path / "trx" / "page-2.json.gz", second)
    return tmp_path / "trx", write_lines(tmp_path / "usdt.jsonl", usdt_events())


def rows(table) -> list[tuple]:
    table = table.to_pydict()
    stamps = [int(t.timestamp()) for t in table["timestamp"]]
    return [tuple(values) for values in zip(table["tx_hash"], table["block_number"], table["position"], stamps,
                                            table["from_address"], table["to_address"], table["asset"],
                                            table["amount"], table["usd_value"], table["chain"])]


def test_an_export_becomes_the_expected_transfers(tmp_path):
    trx, trc20 = export(tmp_path)
    summary = import_tron(tmp_path / "out.parquet", trx=trx, trc20=trc20, prices=PRICES)
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.schema.names == ["tx_hash", "block_number", "position", "timestamp", "from_address", "to_address",
                                  "asset", "amount", "usd_value", "chain"]
    assert rows(table) == EXPECTED
    assert (summary.files_read, summary.transactions, summary.events, summary.duplicates) == (3, 8, 6, 2)
    assert summary.trx_skipped == {"failed": 1, "contract:TriggerSmartContract": 1, "internal": 1, "zero": 1}
    assert summary.event_skipped == {"other event": 1, "zero": 1, "no decimals": 1}
    assert (summary.trx_transfers, summary.token_transfers, summary.transfers, summary.unpriced) == (4, 3, 7, 1)
    assert (summary.first_block, summary.last_block) == (60_000_000, 60_028_800)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.parquet", "trx", "usdt.jsonl"]


def test_the_written_file_reads_back_with_tron_wallet_keys(tmp_path):
    trx, trc20 = export(tmp_path)
    import_tron(tmp_path / "out.csv", trx=trx, trc20=trc20, prices=PRICES)
    transfers = readers.read_transfers(tmp_path / "out.csv")
    assert transfers.from_address.to_pylist() == [f"tron:{row[4]}" for row in EXPECTED]
    assert transfers.to_address.to_pylist() == [f"tron:{row[5]}" for row in EXPECTED]
    assert transfers.position.tolist() == [row[2] for row in EXPECTED]
    assert transfers.usd_micro.tolist() == [180_000, 1, 41_681_557, 1_500_150, 1_200_000, 100_010_000, 0]
    assert transfers.unpriced.tolist() == [False] * 6 + [True]


def test_a_csv_output_holds_the_same_rows(tmp_path):
    trx, trc20 = export(tmp_path)
    import_tron(tmp_path / "out.csv.gz", trx=trx, trc20=trc20, prices=PRICES)
    with gzip.open(tmp_path / "out.csv.gz", "rt") as handle:
        lines = handle.read().splitlines()
    assert lines[0] == "tx_hash,block_number,position,timestamp,from_address,to_address,asset,amount,usd_value,chain"
    assert lines[1] == f"{h(1)},60000000,0,2024-04-01T00:00:00Z,{A},{B},TRX,1.5,0.180,tron"
    assert lines[7] == f"{h(5)},60028800,0,2024-04-02T00:00:00Z,{C},{A},TRX,250,,tron"
    assert len(lines) == 8


def test_a_dataset_output_is_partitioned_by_block_range(tmp_path):
    trx, trc20 = export(tmp_path)
    import_tron(tmp_path / "transfers", trx=trx, trc20=trc20)
    assert sorted(p.name for p in (tmp_path / "transfers").iterdir()) == ["block_range=60000000"]
    table = ds.dataset(tmp_path / "transfers", partitioning="hive").to_table()
    assert table.column("amount").to_pylist() == [row[7] for row in EXPECTED]


def test_tokens_give_decimals_and_may_override_the_known_ones(tmp_path):
    trx, trc20 = export(tmp_path)
    tokens = tmp_path / "tokens.csv"
    tokens.write_text(f"address,decimals\n{C_HEX},1\n{USDT},3\n")
    summary = import_tron(tmp_path / "out.parquet", trc20=trc20, tokens=load_tokens(tokens))
    table = pq.read_table(tmp_path / "out.parquet")
    assert list(zip(table.column("asset").to_pylist(), table.column("amount").to_pylist())) == [
        (USDT, "41677.389"), (USDT, "1500.000"), (USDT, "100000.000"), (C, "1.2")]
    assert summary.event_skipped == {"other event": 1, "zero": 1}
    assert (summary.transactions, summary.trx_transfers, summary.token_transfers) == (0, 0, 4)


def test_overlapping_pages_in_any_order_give_the_same_rows(tmp_path):
    first, second = trx_pages()
    write_json(tmp_path / "a" / "2.json", first)
    write_json(tmp_path / "a" / "1.json", second)
    write_json(tmp_path / "a" / "3.json", first)  # the same page pulled twice
    summary = import_tron(tmp_path / "out.parquet", trx=tmp_path / "a", prices=PRICES)
    trx_only = [row for row in EXPECTED if row[6] == "TRX"]
    assert rows(pq.read_table(tmp_path / "out.parquet")) == [row[:2] + (position,) + row[3:] for row, position
                                                             in zip(trx_only, [0, 1, 2, 0])]
    assert (summary.transactions, summary.duplicates) == (8, 5)


def test_pages_one_a_line_and_items_one_a_line_read_alike(tmp_path):
    first, second = trx_pages()
    write_lines(tmp_path / "pages.jsonl", [first, second])
    write_lines(tmp_path / "items.jsonl", first["data"] + second["data"])
    assert [item for _, _, item, _ in file_items(tmp_path / "pages.jsonl")] == \
        [item for _, _, item, _ in file_items(tmp_path / "items.jsonl")]
    assert [(line, number) for line, number, _, _ in file_items(tmp_path / "pages.jsonl")][3:6] == \
        [(1, 4), (2, 1), (2, 2)]


def test_bad_items_are_reported_where_they_are_and_nothing_is_written(tmp_path):
    first, _ = trx_pages()
    first["data"][1]["raw_data"]["contract"][0]["parameter"]["value"]["amount"] = -5
    del first["data"][2]["raw_data"]["contract"][0]["parameter"]["value"]["to_address"]
    pages = write_json(tmp_path / "page.json", first, indent=2)
    good = usdt_events()[0]
    bad_address = dict(good, result={"from": A[:-1] + "x", "to": D, "value": "1"})
    other_time = dict(good, event_index=5, block_timestamp=T0 * 1000 + 1000)
    lines = write_lines(tmp_path / "events.jsonl", [good, bad_address, "{not json", other_time,
                                                     dict(good, event_index=0, result={"to": D, "value": "1"})])
    with pytest.raises(InputError) as raised:
        import_tron(tmp_path / "out.parquet", trx=pages, trc20=lines)
    said = str(raised.value).splitlines()
    assert said[:2] == [f"{pages}: item 2 of the page: amount -5 is negative",
                        f"{pages}: item 3 of the page: missing raw_data.contract[0].parameter.value.to_address"]
    assert said[2].startswith(f"{lines}:2: result.from: ") and "bad base58check checksum" in said[2]
    assert said[3].startswith(f"{lines}:3: not JSON: ")
    assert said[4] == f"{lines}:5: missing result.from"
    assert len(said) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.jsonl", "page.json"]
    # once the bad items are gone, the block's two times disagree: found when the transfers are ordered
    write_lines(lines, [good, other_time])
    with pytest.raises(InputError) as raised:
        import_tron(tmp_path / "out.parquet", trc20=lines)
    assert str(raised.value) == (f"{lines}:2: block_timestamp {T0 * 1000 + 1000} differs from the {T0 * 1000} "
                                 f"given for block 60000000 at {lines}:1")


def test_a_repeated_item_with_other_values_is_refused(tmp_path):
    good = usdt_events()[1]
    lines = write_lines(tmp_path / "events.jsonl", [good, dict(good, result={**good["result"], "value": "7"})])
    with pytest.raises(InputError) as raised:
        import_tron(tmp_path / "out.parquet", trc20=lines)
    assert str(raised.value) == f"{lines}:2: the same event as {lines}:1, with other values"


def test_a_bad_pretty_printed_page_is_reported_at_its_line(tmp_path):
    path = tmp_path / "page.json"
    path.write_text('{\n  "data": [\n    {"txID": 1},,\n  ]\n}\n')
    with pytest.raises(InputError) as raised:
        import_tron(tmp_path / "out.parquet", trx=path)
    assert str(raised.value).startswith(f"{path}:3: not JSON: ")


def test_an_error_response_is_not_taken_for_data(tmp_path):
    path = write_json(tmp_path / "page.json", {"success": False, "error": "rate limit", "statusCode": 429})
    with pytest.raises(InputError) as raised:
        import_tron(tmp_path / "out.parquet", trx=path)
    assert str(raised.value) == f"{path}:1: an error response, not data: 'rate limit'"


def test_a_request_without_input_or_with_a_bad_output_name_is_refused(tmp_path):
    with pytest.raises(GraphError, match="give --trx"):
        import_tron(tmp_path / "out.parquet")
    trx, _ = export(tmp_path)
    with pytest.raises(GraphError, match="a .parquet or .csv"):
        import_tron(tmp_path / "out.json", trx=trx)


def test_a_tokens_file_with_bad_lines_is_refused_line_by_line(tmp_path):
    path = tmp_path / "tokens.csv"
    path.write_text(f"address,decimals\n{USDT},6\nTnotatron,6\n{C},x\n{USDT},18\n{D},\n")
    with pytest.raises(InputError) as raised:
        load_tokens(path)
    said = str(raised.value).splitlines()
    assert [line.split(": ")[0] for line in said] == [f"{path}:3", f"{path}:4", f"{path}:5"]
    assert said[2] == f"{path}:5: token {USDT} is listed again with other decimals"


@pytest.mark.parametrize(("raw", "decimals", "trimmed", "full"), [
    (0, 6, "0", "0.000000"), (1, 6, "0.000001", "0.000001"), (1_000_000, 6, "1", "1.000000"),
    (2**256 - 1, 18, "115792089237316195423570985008687907853269984665640564039457.584007913129639935",
     "115792089237316195423570985008687907853269984665640564039457.584007913129639935"), (12, 0, "12", "12")])
def test_amounts_are_exact(raw, decimals, trimmed, full):
    assert scaled(raw, decimals, trim=True) == trimmed
    assert scaled(raw, decimals, trim=False) == full
    assert Decimal(full) == Decimal(raw).scaleb(-decimals, Context(prec=100))
