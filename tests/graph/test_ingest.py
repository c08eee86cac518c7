"""Rows from hand-made node answers: which transactions and logs are transfers, positions, amounts, prices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from graph.ingest import (TRANSFER_TOPIC, internal_rows, native_rows, ordered, place, priced, token_rows,
                          trace_mismatch)

A, B, C = "0x" + "a" * 40, "0x" + "b" * 40, "0x" + "c" * 40
TOKEN = "0x" + "d" * 40


def topic(address: str) -> str:
    return "0x" + "0" * 24 + address[2:]


def tx(hash_: str, index: int, value: int, to: str | None = B) -> dict:
    return {"hash": hash_, "transactionIndex": hex(index), "value": hex(value), "from": A, "to": to}


def log(index: int, tx_index: int, value: int, topics=None, removed=False, address=TOKEN) -> dict:
    return {"address": address, "topics": topics or [TRANSFER_TOPIC, topic(A), topic(C)], "data": "0x%064x" % value,
            "blockNumber": "0x5", "transactionIndex": hex(tx_index), "logIndex": hex(index),
            "transactionHash": "0xt%d" % tx_index, "removed": removed}


def test_only_successful_value_transfers_count_and_creation_pays_the_new_contract():
    block = {"number": "0x5", "timestamp": "0x64", "transactions": [
        tx("0x1", 0, 10**18), tx("0x2", 1, 0), tx("0x3", 2, 5), tx("0x4", 3, 7, to=None)]}
    rows = native_rows(block, {"0x1": 1, "0x2": 1, "0x3": 0, "0x4": 1}, {"0x4": C})
    assert [(r.tx_hash, r.position, r.to_address, r.amount) for r in rows] == [
        ("0x1", 0, B, Decimal(1)), ("0x4", place(3), C, Decimal(7) / 10**18)]
    assert rows[0].timestamp == 100 and rows[0].asset == "ETH"


def test_token_logs_scaled_by_decimals_or_kept_raw_and_others_ignored():
    logs = [log(0, 1, 1_234_567), log(1, 1, 0), log(2, 2, 9, removed=True),
            log(3, 2, 5, topics=[TRANSFER_TOPIC, topic(A), topic(C), "0x" + "0" * 64]),  # ERC-721: four topics
            log(4, 3, 42, address="0x" + "e" * 40)]
    rows = token_rows(logs, {5: 100}, {TOKEN: 6, "0x" + "e" * 40: None})
    assert [(r.position, r.asset, r.amount) for r in rows] == [
        (place(1, 0), TOKEN, Decimal("1.234567")), (place(3, 4), "0x" + "e" * 40 + ":raw", Decimal(42))]
    assert place(1, 0) > place(1) and place(1, 10**9) < place(2)


def test_positions_are_numbered_in_chain_order_per_block_and_stay_small():
    block = {"number": "0x5", "timestamp": "0x64", "transactions": [tx(f"0x{i}", i, 1) for i in range(300)]}
    natives = native_rows(block, {f"0x{i}": 1 for i in range(300)}, {})
    tokens = token_rows([log(70_000, 299, 5), log(0, 2, 5)], {5: 100}, {TOKEN: 0})
    rows = ordered(natives + tokens)
    assert [r.position for r in rows] == list(range(302))
    assert [r.tx_hash for r in rows[:4]] == ["0x0", "0x1", "0x2", "0xt2"] and rows[-1].tx_hash == "0xt299"


def test_huge_token_amounts_stay_exact():
    [row] = token_rows([log(0, 1, 10**30 + 1)], {5: 100}, {TOKEN: 18})
    assert format(row.amount, "f") == "1000000000000.000000000000000001"


def test_prices_give_exact_usd_and_a_missing_price_stays_unknown():
    block = {"number": "0x5", "timestamp": "0x6945b280", "transactions": [tx("0x1", 0, 15 * 10**17)]}
    [row] = native_rows(block, {"0x1": 1}, {})
    [priced_row] = priced([row], {("ETH", date(2025, 12, 19)): Decimal("3000.10")})
    assert priced_row.usd_value == Decimal("4500.150") and priced([row], {})[0].usd_value is None
    assert priced([row], {})[0].cells()[-1] == ""


def trace(tx_hash: str, path: list[int], kind: str = "call", error: str | None = None, **action) -> dict:
    found = {"type": kind, "traceAddress": path, "transactionHash": tx_hash, "transactionPosition": int(tx_hash[-1]),
             "blockNumber": 5, "blockHash": "0xb5", "action": {"callType": "call", **action}}
    if kind == "create":
        found["result"] = {"address": action.pop("created")}
        found["action"].pop("created")
    if error:
        found["error"] = error
    return found


def test_internal_transfers_are_what_calls_moved_and_nothing_that_was_undone():
    traces = [
        {"type": "reward", "action": {"author": A, "value": "0x10"}, "blockNumber": 5, "traceAddress": []},
        trace("0xt1", [], **{"from": A, "to": B, "value": hex(9)}),  # the transaction itself: its native transfer
        trace("0xt1", [0], **{"from": B, "to": C, "value": hex(4)}),  # paid on
        trace("0xt1", [1], **{"from": B, "to": C, "value": hex(0)}),  # no value
        trace("0xt1", [2], **{"from": B, "to": A, "value": hex(3), "callType": "delegatecall"}),  # no ETH changes hands
        trace("0xt1", [3], error="Reverted", **{"from": B, "to": B, "value": hex(5)}),  # undone...
        trace("0xt1", [3, 0], **{"from": B, "to": A, "value": hex(5)}),  # ...with what it paid
        trace("0xt1", [4], "create", **{"from": B, "value": hex(2), "created": TOKEN}),  # a new contract funded
        trace("0xt1", [5], "suicide", address=TOKEN, refundAddress=A, balance=hex(2)),  # and destroyed
        trace("0xt2", [], error="Reverted", **{"from": A, "to": B, "value": hex(1)}),  # a failed transaction
        trace("0xt2", [0], **{"from": B, "to": C, "value": hex(1)}),
    ]
    rows = internal_rows(traces, {5: 100})
    assert [(r.tx_hash, r.from_address, r.to_address, r.amount * 10**18) for r in rows] == [
        ("0xt1", B, C, 4), ("0xt1", B, TOKEN, 2), ("0xt1", TOKEN, A, 2)]
    assert [r.position for r in rows] == [place(1, internal=0), place(1, internal=1), place(1, internal=2)]
    assert place(1) < rows[0].position and rows[-1].position < place(1, log_index=0)
    assert rows[0].timestamp == 100 and rows[0].asset == "ETH"


def test_traces_of_other_blocks_or_missing_a_transaction_are_refused():
    block = {"hash": "0xb5", "transactions": [{"hash": "0xt1"}, {"hash": "0xt2"}]}
    both = [trace("0xt1", []), trace("0xt1", [0]), trace("0xt2", [])]
    assert trace_mismatch([block], both) is None
    assert trace_mismatch([block], both[:2]) == "the node has no trace of transaction 0xt2 yet"
    assert "disagree" in trace_mismatch([block], both[:2] + [dict(both[2], blockHash="0xother")])
