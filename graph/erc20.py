"""The two parts of the ERC-20 ABI that ingestion reads, encoded and decoded with eth-abi: Transfer and decimals().

>>> TRANSFER_TOPIC
'0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef'
>>> DECIMALS_CALL, decimals_of("0x" + "0" * 62 + "12")
('0x313ce567', 18)
"""

from __future__ import annotations

from eth_abi import decode
from eth_abi.exceptions import DecodingError
from eth_utils import event_abi_to_log_topic, function_abi_to_4byte_selector, get_abi_output_types

TRANSFER_EVENT = {"type": "event", "name": "Transfer", "anonymous": False, "inputs": [
    {"name": "from", "type": "address", "indexed": True},
    {"name": "to", "type": "address", "indexed": True},
    {"name": "value", "type": "uint256", "indexed": False}]}
DECIMALS_FUNCTION = {"type": "function", "name": "decimals", "stateMutability": "view", "inputs": [],
                     "outputs": [{"name": "", "type": "uint8"}]}

TRANSFER_TOPIC = "0x" + event_abi_to_log_topic(TRANSFER_EVENT).hex()
"""keccak256("Transfer(address,address,uint256)"): the event's first topic."""
DECIMALS_CALL = "0x" + function_abi_to_4byte_selector(DECIMALS_FUNCTION).hex()
"""The call data of `decimals()`."""
MOST_DECIMALS = 77
"""More decimals than a uint256 has digits is not a token's scale: treated as none."""
_TRANSFER_TYPES = [i["type"] for i in TRANSFER_EVENT["inputs"] if i["indexed"]] + [
    i["type"] for i in TRANSFER_EVENT["inputs"] if not i["indexed"]]
_DECIMALS_TYPES = get_abi_output_types(DECIMALS_FUNCTION)


def transfer_of(topics: list[str], data: str) -> tuple[str, str, int] | None:
    """(sender, receiver, value) of a Transfer log with three topics, or None when they do not decode strictly
    (an address topic whose upper 12 bytes are not zero, data that is not one uint256).

    >>> transfer_of([TRANSFER_TOPIC, "0x" + "0" * 24 + "a" * 40, "0x" + "0" * 24 + "b" * 40], "0x" + "0" * 63 + "7")
    ('0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', '0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', 7)
    """
    try:
        encoded = bytes.fromhex(topics[1][2:] + topics[2][2:] + data[2:])
        sender, receiver, value = decode(_TRANSFER_TYPES, encoded)
    except (DecodingError, ValueError, IndexError):
        return None
    return sender.lower(), receiver.lower(), value


def decimals_of(answer: str | None) -> int | None:
    """A token's decimals from the node's answer to `decimals()`, or None when it is not one uint8 of at most 77."""
    if not answer or len(answer) != 66:
        return None
    try:
        (places,) = decode(_DECIMALS_TYPES, bytes.fromhex(answer[2:]))
    except (DecodingError, ValueError):
        return None
    return places if places <= MOST_DECIMALS else None
