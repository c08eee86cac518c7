"""ethereum-etl exports imported as transfers: exact rows, the live ingestion's rows, bad input, scoring."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings, strategies as st

from graph.errors import GraphError, InputError
from graph.etl_convert import scaled_text
from graph.etl_import import Export, import_export
from graph.ingest import TRANSFER_TOPIC, native_rows, ordered, priced, token_rows
from graph.readers import read_transfers
from graph.times import parse_time
from kyt import batch, outputs
from tests.factories import addr

T0 = 1_700_000_000  # 2023-11-14T22:13:20Z
A, B, C, X, K, F, D = (addr(n) for n in (0xA, 0xB, 0xC, 0xE, 0x7, 0xF, 0xD))
USDC, TKN, NODEC = addr(0x6006), addr(0x18018), addr(0x5)
HUGE = 2**256 - 1
TIMES = {100: T0, 101: T0 + 12, 100_205: T0 + 86_400}
PRICES = {("ETH", date(2023, 11, 14)): Decimal("2000.5"), (USDC, date(2023, 11, 14)): Decimal("1")}


def h(n: int) -> str:
    return f"0x{n:064x}"


def chain(huge: int = HUGE) -> tuple[list[tuple], list[tuple]]:
    """(transactions, token transfers) of a small chain; a transaction is (n, block, index, from, to, wei, status,
    created contract), a token transfer (tx n, block, log index, token, from, to, units)."""
    txs = [(1, 100, 0, A, B, 1_500_000_000_000_000_000, 1, ""),
           (2, 100, 1, A, "", 5, 1, C),  # a contract creation paying 5 wei to the new contract
           (3, 100, 2, A, X, 0, 1, ""),  # zero value, but it moves tokens
           (4, 100, 3, A, B, 7 * 10**18, 0, ""),  # failed
           (5, 101, 0, A, B, huge, 1, ""),
           (6, 101, 1, B, X, 0, 1, ""),
           (7, 100_205, 0, A, B, 10**18, 1, "")]  # the next day: no ETH price
    logs = [(3, 100, 0, USDC, A, B, 1_500_000),
            (3, 100, 1, TKN, B, A, 2 * 10**18 + 1),
            (3, 100, 2, USDC, A, B, 0),  # zero value
            (4, 100, 3, USDC, A, B, 9),  # in a failed transaction
            (6, 101, 4, NODEC, B, X, 12),  # a token without decimals
            (7, 100_205, 0, USDC, B, A, 10**6)]
    return txs, logs


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_export(folder: Path, txs: list[tuple], logs: list[tuple], *, parquet: bool = False,
                 partitioned: bool = False) -> Export:
    """The chain as ethereum-etl writes it (export_all's start_block=/end_block= folders when partitioned)."""
    tables = {
        "transactions": (["hash", "nonce", "block_hash", "block_number", "transaction_index", "from_address",
                          "to_address", "value", "gas", "gas_price", "input", "block_timestamp"],
                         [[h(n), n, h(b), b, i, s, t, str(v), 21000, 1, "0x", TIMES[b]]
                          for n, b, i, s, t, v, _, _ in txs]),
        "token_transfers": (["token_address", "from_address", "to_address", "value", "transaction_hash",
                             "log_index", "block_number"],
                            [[tok, s, t, str(v), h(n), li, b] for n, b, li, tok, s, t, v in logs]),
        "receipts": (["transaction_hash", "transaction_index", "block_hash", "block_number", "cumulative_gas_used",
                      "gas_used", "contract_address", "root", "status", "effective_gas_price"],
                     [[h(n), i, h(b), b, 21000, 21000, created, "", status, 1]
                      for n, b, i, _, _, _, status, created in txs]),
        "blocks": (["number", "hash", "timestamp", "transaction_count"],
                   [[b, h(b), t, 1] for b, t in TIMES.items()]),
        "tokens": (["address", "symbol", "name", "decimals", "total_supply", "block_number"],
                   [[USDC, "USDC", "USD Coin", 6, 1, 1], [TKN, "TKN", "Token", 18, 1, 1],
                    [NODEC, "NODEC", "No decimals", "", 1, 1]]),
    }
    paths = {}
    for kind, (header, rows) in tables.items():
        block_column = header.index("number" if kind == "blocks" else "block_number")
        groups = {}
        for row in rows:
            start = row[block_column] // 100_000 * 100_000 if partitioned and kind != "tokens" else 0
            groups.setdefault(start, []).append(row)
        for start, part in groups.items():
            where = folder / kind
            if partitioned:
                where = where / f"start_block={start:08d}" / f"end_block={start + 99_999:08d}"
            name = where / f"{kind}_{start:08d}.{'parquet' if parquet else 'csv'}" if partitioned \
                else folder / f"{kind}.{'parquet' if parquet else 'csv'}"
            csv_path = write_csv(name.with_suffix(".csv"), header, part)
            if parquet:
                table = pcsv.read_csv(csv_path, convert_options=pcsv.ConvertOptions(
                    column_types={"value": pa.string(), "decimals": pa.int64()}))
                if kind == "transactions":
                    table = _decimal_values(table)
                pq.write_table(table, name)
                csv_path.unlink()
        paths[kind] = folder / kind if partitioned else folder / f"{kind}.{'parquet' if parquet else 'csv'}"
    return Export(**paths)


def _decimal_values(table: pa.Table) -> pa.Table:
    """Values as decimal(76, 0), as AWS's ethereum-etl Parquet has them, when they fit (else kept as text)."""
    values = table.column("value").to_pylist()
    if max(len(v) for v in values) > 76:
        return table
    return table.set_column(table.column_names.index("value"), "value",
                            pa.array([Decimal(v) for v in values], pa.decimal256(76, 0)))


def cells(path: Path) -> list[list[str]]:
    """The output's rows as the live ingestion's CSV cells (timestamp in unix seconds, usd_value '' when unknown)."""
    table = ds.dataset(path, format="parquet", partitioning="hive").to_table() if path.is_dir() \
        else pq.read_table(path)
    out = []
    for row in table.sort_by([("block_number", "ascending"), ("position", "ascending")]).to_pylist():
        out.append([row["tx_hash"], str(row["block_number"]), str(row["position"]),
                    str(int(row["timestamp"].timestamp())), row["from_address"], row["to_address"], row["asset"],
                    row["amount"], row["usd_value"] or ""])
    return out


WHOLE = (
    "115792089237316195423570985008687907853269984665640564039457.584007913129639935")  # (2**256 - 1) / 10**18
USD_HUGE = f"{HUGE * 20005 // 10**19}.{HUGE * 20005 % 10**19:019d}"  # x 2000.5, in integers
EXPECTED = [
    [h(1), "100", "0", str(T0), A, B, "ETH", "1.5", "3000.75"],
    [h(2), "100", "1", str(T0), A, C, "ETH", "0.000000000000000005", "0.0000000000000100025"],
    [h(3), "100", "2", str(T0), A, B, USDC, "1.500000", "1.500000"],
    [h(3), "100", "3", str(T0), B, A, TKN, "2.000000000000000001", ""],
    [h(5), "101", "0", str(T0 + 12), A, B, "ETH", WHOLE, USD_HUGE],
    [h(7), "100205", "0", str(T0 + 86_400), A, B, "ETH", "1", ""],
    [h(7), "100205", "1", str(T0 + 86_400), B, A, USDC, "1.000000", ""],
]


def test_a_full_export_gives_the_exact_rows(tmp_path):
    export = write_export(tmp_path / "etl", *chain())
    summary = import_export(export, tmp_path / "out.parquet", prices=PRICES)
    assert cells(tmp_path / "out.parquet") == EXPECTED
    c = summary.counts
    assert (c.native, c.token, c.zero_value, c.failed, c.creations_without_receipt) == (4, 3, 2, 1, 0)
    assert (c.token_zero_value, c.token_failed, c.token_without_decimals, c.unpriced) == (1, 1, 1, 3)
    assert (summary.transfers, summary.first_block, summary.last_block) == (7, 100, 100_205)
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.column("chain").to_pylist() == ["ethereum"] * 7
    assert table.schema.field("timestamp").type == pa.timestamp("ms", tz="UTC")  # Parquet has no seconds


def test_without_receipts_creations_are_skipped_and_failed_transactions_kept(tmp_path):
    full = write_export(tmp_path / "etl", *chain())
    export = Export(transactions=full.transactions, token_transfers=full.token_transfers, tokens=full.tokens)
    summary = import_export(export, tmp_path / "out.parquet", prices=PRICES)
    rows = cells(tmp_path / "out.parquet")
    assert [(r[0], r[2], r[6], r[7]) for r in rows[:5]] == [
        (h(1), "0", "ETH", "1.5"), (h(3), "1", USDC, "1.500000"), (h(3), "2", TKN, "2.000000000000000001"),
        (h(4), "3", "ETH", "7"), (h(4), "4", USDC, "0.000009")]  # no receipts: the failed one looks successful
    assert summary.counts.creations_without_receipt == 1 and summary.counts.failed == 0


def test_token_transfers_alone_are_ordered_by_log_index(tmp_path):
    full = write_export(tmp_path / "etl", *chain())
    export = Export(token_transfers=full.token_transfers, tokens=full.tokens, blocks=full.blocks)
    import_export(export, tmp_path / "out.parquet")
    assert [(r[0], r[1], r[2], r[7]) for r in cells(tmp_path / "out.parquet")] == [
        (h(3), "100", "0", "1.500000"), (h(3), "100", "1", "2.000000000000000001"), (h(4), "100", "2", "0.000009"),
        (h(7), "100205", "0", "1.000000")]


@pytest.mark.parametrize("parquet", [False, True])
def test_partitioned_inputs_and_a_partitioned_output_give_the_same_rows(tmp_path, parquet):
    export = write_export(tmp_path / "etl", *chain(), parquet=parquet, partitioned=True)
    assert len(list((tmp_path / "etl" / "transactions").rglob("start_block=*"))) == 2
    import_export(export, tmp_path / "out", prices=PRICES)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["block_range=0", "block_range=100000"]
    assert cells(tmp_path / "out") == EXPECTED
    import_export(export, tmp_path / "one.parquet", prices=PRICES)
    assert cells(tmp_path / "one.parquet") == EXPECTED


def test_hive_style_date_folders_are_read(tmp_path):
    txs, _ = chain()
    export = write_export(tmp_path / "etl", txs, [])
    moved = tmp_path / "hive" / "date=2023-11-14" / "part-0.csv"
    moved.parent.mkdir(parents=True)
    export.transactions.rename(moved)
    import_export(Export(transactions=tmp_path / "hive", receipts=export.receipts), tmp_path / "out.parquet",
                  prices=PRICES)
    assert [r for r in cells(tmp_path / "out.parquet")] == [r for r in EXPECTED if r[6] == "ETH"]


def test_the_readers_take_the_output(tmp_path):
    import_export(write_export(tmp_path / "etl", *chain(huge=10**27)), tmp_path / "out.parquet", prices=PRICES)
    transfers = read_transfers(tmp_path / "out.parquet")
    assert transfers.timestamp.tolist()[:2] == [T0 * 1_000_000] * 2
    assert transfers.usd_micro.tolist()[0] == 3_000_750_000 and transfers.unpriced.tolist()[3]


def _node_answers(txs, logs):
    """The same chain as a node's JSON answers, for the live ingestion's own functions."""
    blocks = {}
    for n, b, i, s, t, v, _, _ in txs:
        blocks.setdefault(b, {"number": hex(b), "timestamp": hex(TIMES[b]), "transactions": []})["transactions"].append(
            {"hash": h(n), "transactionIndex": hex(i), "from": s, "to": t or None, "value": hex(v)})
    statuses = {h(n): status for n, *_, status, _ in txs}
    created = {h(n): c for n, *_, c in txs if c}
    index = {h(n): i for n, _, i, *_ in txs}
    answers = [{"address": tok, "topics": [TRANSFER_TOPIC, "0x" + s[2:].rjust(64, "0"), "0x" + t[2:].rjust(64, "0")],
                "data": f"0x{v:064x}", "blockNumber": hex(b), "transactionHash": h(n),
                "transactionIndex": hex(index[h(n)]), "logIndex": hex(li)} for n, b, li, tok, s, t, v in logs]
    return list(blocks.values()), statuses, created, answers


def _ingested(txs, logs) -> list[list[str]]:
    blocks, statuses, created, answers = _node_answers(txs, logs)
    rows = [r for block in blocks for r in native_rows(block, statuses, created)]
    rows += token_rows(answers, TIMES, {USDC: 6, TKN: 18})
    return [r.cells() for r in ordered(priced(rows, PRICES)) if not r.asset.endswith(":raw")]


def test_the_rows_are_the_live_ingestions_rows(tmp_path):
    txs, logs = chain(huge=10**27 + 1)  # the ingestion divides wei in a 28-digit context: exact below 10**28
    logs = [log for log in logs if log[3] != NODEC]  # it keeps those as <token>:raw; the import skips them
    failed = {tx[0] for tx in txs if tx[6] == 0}
    logs = [log for log in logs if log[0] not in failed]  # a node has no logs of failed transactions
    import_export(write_export(tmp_path / "etl", txs, logs), tmp_path / "out.parquet", prices=PRICES)
    assert cells(tmp_path / "out.parquet") == _ingested(txs, logs)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 10**27), min_size=1, max_size=20), st.integers(0, 30))
def test_amount_text_is_the_ingestions_for_any_value(values, places):
    digits = pa.array([str(v) for v in values])
    assert scaled_text(digits, 18, trim=True).to_pylist() == [format(Decimal(v) / Decimal(10) ** 18, "f")
                                                              for v in values]
    assert scaled_text(digits, places, trim=False).to_pylist() == [format(Decimal(v).scaleb(-places), "f")
                                                                   for v in values]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.name.startswith("out"))


def test_bad_lines_are_reported_by_file_and_line_and_nothing_is_written(tmp_path):
    export = write_export(tmp_path / "etl", *chain())
    lines = export.transactions.read_text().splitlines()
    lines[1] = lines[1].replace(h(1), "0x123")  # line 2: not a hash
    lines[2] = lines[2].replace(",5,21000", ",-5,21000")  # line 3: negative value
    lines[3] = lines[3].replace(A, "0x" + "Ab" * 20)  # line 4: mixed case, bad checksum
    lines.insert(4, "")  # a blank line: the next row is line 6
    lines[5] = lines[5].replace(",7000000000000000000,", ",1.5,")  # line 6: not an integer
    export.transactions.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as caught:
        import_export(export, tmp_path / "out.parquet")
    text = str(caught.value)
    name = str(export.transactions)
    assert f"{name}:2: hash '0x123' is not a hash (0x followed by 64 hex digits)" in text
    assert f"{name}:3: value -5 is negative" in text
    assert f"{name}:4: from_address 0x{'Ab' * 20} has a bad EIP-55 checksum" in text
    assert f"{name}:6: value '1.5' is not a non-negative integer" in text
    assert len(text.splitlines()) == 4
    assert _leftovers(tmp_path) == []


def test_a_token_transfer_of_an_unknown_transaction_is_reported_at_its_line(tmp_path):
    txs, logs = chain()
    export = write_export(tmp_path / "etl", [t for t in txs if t[0] != 6], logs)
    with pytest.raises(InputError) as caught:
        import_export(export, tmp_path / "out")
    assert str(caught.value) == f"{export.token_transfers}:6: transaction {h(6)} is not in the transactions input"
    assert _leftovers(tmp_path) == []


def test_missing_columns_are_named_for_each_file(tmp_path):
    export = write_export(tmp_path / "etl", *chain())
    write_csv(export.tokens, ["address", "symbol"], [[USDC, "USDC"]])
    write_csv(export.transactions, ["hash", "block_number"], [[h(1), 1]])
    with pytest.raises(InputError) as caught:
        import_export(Export(transactions=export.transactions, token_transfers=export.token_transfers,
                             tokens=export.tokens), tmp_path / "out.parquet")
    assert str(caught.value).splitlines() == [
        f"{export.transactions}:1: missing columns: transaction_index, from_address, to_address, value, "
        f"block_timestamp (--transactions)",
        f"{export.tokens}:1: missing column: decimals (--tokens)"]


def test_inputs_that_cannot_make_transfers_are_refused(tmp_path):
    export = write_export(tmp_path / "etl", *chain())
    with pytest.raises(GraphError, match="--tokens"):
        import_export(Export(token_transfers=export.token_transfers), tmp_path / "out.parquet")
    with pytest.raises(GraphError, match="give --blocks"):
        import_export(Export(token_transfers=export.token_transfers, tokens=export.tokens), tmp_path / "o.parquet")
    with pytest.raises(GraphError, match="give --transactions"):
        import_export(Export(blocks=export.blocks), tmp_path / "out.parquet")


def test_scoring_the_import_gives_the_exposures_of_the_same_transfers_in_csv(tmp_path):
    """F (sanctioned) pays B 1 ETH and K pays B 3 ETH; B deposits 2 ETH to D: a quarter is sanctioned."""
    txs = [(1, 100, 0, F, B, 10**18, 1, ""), (2, 100, 1, K, B, 3 * 10**18, 1, ""), (3, 101, 0, B, D, 2 * 10**18, 1, "")]
    logs = [(2, 100, 0, USDC, F, B, 500 * 10**6)]  # and $500 of USDC: $1,500 of B's $4,500 is sanctioned
    import_export(write_export(tmp_path / "etl", txs, logs), tmp_path / "imported.parquet",
                  prices={("ETH", date(2023, 11, 14)): Decimal("1000"), (USDC, date(2023, 11, 14)): Decimal("1")})
    own = write_csv(tmp_path / "transfers.csv", list(EXPECTED_HEADER), [
        [h(1), 100, 0, T0, F, B, "ETH", "1", "1000"], [h(2), 100, 1, T0, K, B, "ETH", "3", "3000"],
        [h(2), 100, 2, T0, F, B, USDC, "500.000000", "500.000000"], [h(3), 101, 0, T0 + 12, B, D, "ETH", "2", "2000"]])
    deposits = write_csv(tmp_path / "deposits.csv", ["deposit_id", "tx_hash", "customer_id", "timestamp",
                                                     "block_number", "position", "from_address", "to_address",
                                                     "asset", "amount", "usd_value"],
                         [["dep-1", h(3), "bea", T0 + 12, 101, 0, B, D, "ETH", "2", "2000"]])
    flagged = write_csv(tmp_path / "flagged.csv", ["address", "category", "source", "listed_at", "delisted_at"],
                        [[F, "sanctions", "test", "2020-01-01", ""]])
    results = [outputs.exposure_rows(batch.run(batch.ScoreRequest(deposits, transfers, flagged,
                                                                parse_time("2024-01-01"))))
               for transfers in (tmp_path / "imported.parquet", own)]
    assert results[0] == results[1] == [("dep-1", "sanctions", 2, "0.3333333333", "666.666667", 0, 0)]


EXPECTED_HEADER = ("tx_hash", "block_number", "position", "timestamp", "from_address", "to_address", "asset",
                   "amount", "usd_value")


class _StopWhileConverting:
    """A progress that is interrupted (as by Ctrl-C) once the import has started writing its output."""

    def stage(self, name: str, total: int | None = None) -> None:
        self.name = name

    def advance(self, amount: int) -> None:
        if self.name == "converting":
            raise KeyboardInterrupt


def test_an_interrupted_import_leaves_nothing_behind(tmp_path):
    export = write_export(tmp_path / "etl", *chain())
    with pytest.raises(KeyboardInterrupt):
        import_export(export, tmp_path / "out", progress=_StopWhileConverting())
    assert _leftovers(tmp_path) == []
