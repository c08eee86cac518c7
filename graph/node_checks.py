"""What a JSON-RPC node says, checked before anything is written: a node that lies is refused, saying what and where.

The checks are of what must hold whatever the chain did: hashes and addresses of the
right form, a block of the number asked for, in time, whose transactions say they are in
it at their own places, receipts, logs and traces that belong to a transaction of their
block, values that fit in 256 bits. A disagreement that a reorganisation can explain (an
answer about another block) is left to the caller, which reads the batch again.

>>> check_blocks([1], [{"number": "0x2"}])
Traceback (most recent call last):
...
graph.node_checks.NodeAnswerRejected: the node's answer was refused, nothing was written: asked for block 1, the node answered block 2
"""

from __future__ import annotations

import re

from graph.errors import ChainError
from graph.formats import LATEST_TIME

_HASH = re.compile(r"0x[0-9a-fA-F]{64}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_QUANTITY = re.compile(r"0x(0|[1-9a-fA-F][0-9a-fA-F]{0,63})")
_DATA = re.compile(r"0x([0-9a-fA-F]{2})*")
LATEST_SECOND = LATEST_TIME // 1_000_000


class NodeAnswerRejected(ChainError):
    """The node answered something that cannot be true of any chain."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"the node's answer was refused, nothing was written: {problem}")


def _quantity(value: object, what: str) -> int:
    if not isinstance(value, str) or not _QUANTITY.fullmatch(value):
        raise NodeAnswerRejected(f"{what} is {_shown(value)}, not a number in hex of at most 256 bits")
    return int(value, 16)


def _form(value: object, pattern: re.Pattern, *, what: str, kind: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise NodeAnswerRejected(f"{what} is {_shown(value)}, not {kind}")
    return value.lower()


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_blocks(numbers: list[int], blocks: list[dict]) -> None:
    """Each block is the one asked for, well formed and in time, and its transactions say they are in it, in order."""
    seen: set[str] = set()
    previous_time = None
    for number, block in zip(numbers, blocks):
        if not isinstance(block, dict):
            raise NodeAnswerRejected(f"block {number}: the answer is {_shown(block)}, not a block")
        answered = _quantity(block.get("number"), f"block {number}'s number")
        if answered != number:
            raise NodeAnswerRejected(f"asked for block {number}, the node answered block {answered}")
        where = f"block {number}"
        block_hash = _form(block.get("hash"), _HASH, what=f"{where}'s hash", kind="32 bytes in hex")
        _form(block.get("parentHash"), _HASH, what=f"{where}'s parent hash", kind="32 bytes in hex")
        stamp = _quantity(block.get("timestamp"), f"{where}'s timestamp")
        if stamp > LATEST_SECOND or (previous_time is not None and stamp < previous_time):
            raise NodeAnswerRejected(f"{where}'s timestamp {stamp} is before its parent's or after 2100")
        previous_time = stamp
        transactions = block.get("transactions")
        if not isinstance(transactions, list):
            raise NodeAnswerRejected(f"{where} has no list of transactions")
        for index, tx in enumerate(transactions):
            _check_transaction(tx, where=f"{where}, transaction {index}", block_hash=block_hash, number=number,
                               index=index, seen=seen)


def _check_transaction(tx: object, *, where: str, block_hash: str, number: int, index: int, seen: set[str]) -> None:
    if not isinstance(tx, dict):
        raise NodeAnswerRejected(f"{where} is {_shown(tx)}, not a transaction")
    tx_hash = _form(tx.get("hash"), _HASH, what=f"{where}'s hash", kind="32 bytes in hex")
    if tx_hash in seen:
        raise NodeAnswerRejected(f"{where}: transaction {tx_hash} is in the answer twice")
    seen.add(tx_hash)
    if str(tx.get("blockHash", "")).lower() != block_hash:
        raise NodeAnswerRejected(f"{where} ({tx_hash}) says it is in block {_shown(tx.get('blockHash'))}, "
                                 f"not {block_hash}")
    if _quantity(tx.get("blockNumber"), f"{where}'s block number") != number \
            or _quantity(tx.get("transactionIndex"), f"{where}'s index") != index:
        raise NodeAnswerRejected(f"{where} ({tx_hash}) says it is at another block or place")
    _form(tx.get("from"), _ADDRESS, what=f"{where}'s sender", kind="an address")
    if tx.get("to") is not None:
        _form(tx.get("to"), _ADDRESS, what=f"{where}'s recipient", kind="an address")
    _quantity(tx.get("value"), f"{where}'s value")


def transactions_by_block(blocks: list[dict]) -> dict[str, set[str]]:
    """Each block's hash, and the hashes of its transactions (lower case)."""
    return {block["hash"].lower(): {tx["hash"].lower() for tx in block["transactions"]} for block in blocks}


def check_receipts(receipts: list[dict], blocks: list[dict]) -> None:
    """Each receipt is of a transaction of the block it names, with a status of 0 or 1 and a well-formed contract."""
    of_block = transactions_by_block(blocks)
    for receipt in receipts:
        where = f"the receipt of {_shown(receipt.get('transactionHash'))}"
        tx_hash = _form(receipt.get("transactionHash"), _HASH, what=f"{where}'s transaction", kind="32 bytes in hex")
        if tx_hash not in of_block.get(str(receipt.get("blockHash", "")).lower(), ()):
            raise NodeAnswerRejected(f"{where} names block {_shown(receipt.get('blockHash'))}, which has no such "
                                     "transaction")
        if _quantity(receipt.get("status", "0x1"), f"{where}'s status") not in (0, 1):
            raise NodeAnswerRejected(f"{where}'s status is neither 0 nor 1")
        if receipt.get("contractAddress") is not None:
            _form(receipt.get("contractAddress"), _ADDRESS, what=f"{where}'s contract", kind="an address")


def check_logs(logs: list[dict], blocks: list[dict]) -> None:
    """Each log is of a transaction of its block, from a well-formed contract, with well-formed topics and data."""
    of_block = transactions_by_block(blocks)
    for log in logs:
        if log.get("removed"):
            continue
        where = f"log {_shown(log.get('logIndex'))} of {_shown(log.get('transactionHash'))}"
        tx_hash = _form(log.get("transactionHash"), _HASH, what=f"{where}'s transaction", kind="32 bytes in hex")
        if tx_hash not in of_block.get(str(log.get("blockHash", "")).lower(), ()):
            raise NodeAnswerRejected(f"{where} names block {_shown(log.get('blockHash'))}, which has no such "
                                     "transaction")
        _quantity(log.get("logIndex"), f"{where}'s index")
        _quantity(log.get("transactionIndex"), f"{where}'s transaction index")
        _form(log.get("address"), _ADDRESS, what=f"{where}'s contract", kind="an address")
        topics = log.get("topics")
        if not isinstance(topics, list) or len(topics) > 4:
            raise NodeAnswerRejected(f"{where} has no list of at most 4 topics")
        for topic in topics:
            _form(topic, _HASH, what=f"{where}'s topic", kind="32 bytes in hex")
        _form(log.get("data"), _DATA, what=f"{where}'s data", kind="bytes in hex")


def check_traces(traces: list[dict], blocks: list[dict]) -> None:
    """Each transaction's trace is of a transaction of the block it names."""
    of_block = transactions_by_block(blocks)
    for trace in traces:
        tx = trace.get("transactionHash")
        if tx is None:
            continue  # a block or uncle reward
        tx_hash = _form(tx, _HASH, what="a trace's transaction", kind="32 bytes in hex")
        if tx_hash not in of_block.get(str(trace.get("blockHash", "")).lower(), ()):
            raise NodeAnswerRejected(f"the trace of {tx_hash} names block {_shown(trace.get('blockHash'))}, "
                                     "which has no such transaction")
