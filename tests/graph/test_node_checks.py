"""A node's answers checked before anything is written: each lie refused with what and where."""

from __future__ import annotations

import copy

import pytest

from graph.node_checks import NodeAnswerRejected, check_blocks, check_logs, check_receipts, check_traces

H = lambda n: "0x" + f"{n:064x}"  # noqa: E731 - a 32-byte hash
A = lambda n: "0x" + f"{n:040x}"  # noqa: E731 - an address
TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"


def tx(number: int, block_hash: str, index: int, tx_hash: str) -> dict:
    return {"hash": tx_hash, "blockHash": block_hash, "blockNumber": hex(number), "transactionIndex": hex(index),
            "from": A(1), "to": A(2), "value": hex(10**18)}


def chain() -> list[dict]:
    """Two good blocks, 7 and 8, with two transactions each."""
    blocks = []
    for number in (7, 8):
        block_hash = H(1000 + number)
        blocks.append({"number": hex(number), "hash": block_hash, "parentHash": H(999 + number),
                       "timestamp": hex(1_700_000_000 + number),
                       "transactions": [tx(number, block_hash, i, H(number * 10 + i)) for i in range(2)]})
    return blocks


def test_good_answers_pass():
    blocks = chain()
    check_blocks([7, 8], blocks)
    check_receipts([{"transactionHash": H(70), "blockHash": H(1007), "status": "0x1", "contractAddress": None}], blocks)
    check_logs([{"transactionHash": H(81), "blockHash": H(1008), "logIndex": "0x0", "transactionIndex": "0x1",
                 "address": A(9), "topics": [TRANSFER, H(1), H(2)], "data": "0x" + "00" * 32}], blocks)
    check_traces([{"transactionHash": H(80), "blockHash": H(1008)}, {"blockHash": H(1008)}], blocks)


LIES = {
    "another block than asked": (lambda b: b[1].update(number="0x9"), "asked for block 8, the node answered block 9"),
    "a hash of the wrong form": (lambda b: b[0].update(hash="0x1234"), "block 7's hash is '0x1234', not 32 bytes"),
    "a parent hash that is not one": (lambda b: b[0].update(parentHash=None), "block 7's parent hash is None"),
    "time going back": (lambda b: b[1].update(timestamp=hex(1_600_000_000)), "block 8's timestamp 1600000000 is before"),
    "time past 2100": (lambda b: b[0].update(timestamp=hex(5_000_000_000)), "after 2100"),
    "a number in decimal": (lambda b: b[0]["transactions"][0].update(value="1000"), "value is '1000', not a number"),
    "a value past 256 bits": (lambda b: b[0]["transactions"][0].update(value="0x1" + "0" * 64), "256 bits"),
    "a transaction of another block": (lambda b: b[0]["transactions"][1].update(blockHash=H(1008)),
                                       "says it is in block"),
    "a transaction at another place": (lambda b: b[0]["transactions"][1].update(transactionIndex="0x5"),
                                       "says it is at another block or place"),
    "a transaction twice": (lambda b: b[1]["transactions"][0].update(hash=H(70)), "is in the answer twice"),
    "a sender that is not an address": (lambda b: b[0]["transactions"][0].update({"from": "0xabc"}),
                                        "sender is '0xabc', not an address"),
    "no transactions": (lambda b: b[0].update(transactions=None), "has no list of transactions"),
}


@pytest.mark.parametrize("lie", LIES)
def test_each_lie_in_a_block_is_refused_and_named(lie):
    blocks = copy.deepcopy(chain())
    change, message = LIES[lie]
    change(blocks)
    with pytest.raises(NodeAnswerRejected, match="nothing was written") as refused:
        check_blocks([7, 8], blocks)
    assert message in str(refused.value)


def test_receipts_logs_and_traces_of_transactions_not_in_their_block_are_refused():
    blocks = chain()
    with pytest.raises(NodeAnswerRejected, match="which has no such transaction"):
        check_receipts([{"transactionHash": H(99), "blockHash": H(1007), "status": "0x1"}], blocks)
    with pytest.raises(NodeAnswerRejected, match="status is neither 0 nor 1"):
        check_receipts([{"transactionHash": H(70), "blockHash": H(1007), "status": "0x2"}], blocks)
    forged = {"transactionHash": H(70), "blockHash": H(1008), "logIndex": "0x0", "transactionIndex": "0x0",
              "address": A(9), "topics": [TRANSFER, H(1), H(2)], "data": "0x"}
    with pytest.raises(NodeAnswerRejected, match="which has no such transaction"):
        check_logs([forged], blocks)  # a transaction of block 7, said to have logged in block 8
    with pytest.raises(NodeAnswerRejected, match="topic is '0x12', not 32 bytes"):
        check_logs([{**forged, "blockHash": H(1007), "topics": [TRANSFER, "0x12"]}], blocks)
    with pytest.raises(NodeAnswerRejected, match="data is '0xabc', not bytes"):
        check_logs([{**forged, "blockHash": H(1007), "data": "0xabc"}], blocks)
    check_logs([{**forged, "removed": True}], blocks)  # a removed log is not used
    with pytest.raises(NodeAnswerRejected, match="trace of"):
        check_traces([{"transactionHash": H(99), "blockHash": H(1007)}], blocks)
