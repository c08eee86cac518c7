"""One item of a TronGrid v1 API response checked and turned into a transfer, or into the reason it makes none.

Two kinds of item are read (docs/import.md, "Importing Tron (TronGrid exports)"):

- a **transaction** of `GET /v1/accounts/{address}/transactions`: `txID`, `blockNumber`,
  `block_timestamp` (milliseconds), `ret[0].contractRet`, and `raw_data.contract[0]` with its
  `type` and `parameter.value`; a `TransferContract` moves `amount` sun (10^-6 TRX) from
  `owner_address` to `to_address` (hex `41...`). The same listing may hold internal
  transactions (`internal_tx_id`, no `txID`): they are recognised and not read.
- a **TRC-20 Transfer event** of `GET /v1/contracts/{contract}/events?event_name=Transfer`:
  `transaction_id`, `block_number`, `block_timestamp` (milliseconds), `event_index`,
  `event_name`, `contract_address` (base58), and `result` with `from`, `to` (the 20 address
  bytes as `0x` + 40 hex digits, or a Tron address) and `value` (digits). Tokens that name
  the parameters `_from`, `_to`, `_value` are read too, and so are the positional `0`, `1`, `2`.

`transaction_item` and `event_item` raise ValueError with the reason an item is bad; an item
that is good but moves nothing comes back as a `Skipped` reason, counted by the import.

>>> event_item({"transaction_id": "ab" * 32, "block_number": 5, "block_timestamp": 1_700_000_000_000,
...             "event_index": 0, "event_name": "Transfer", "contract_address": USDT,
...             "result": {"from": "0x" + "00" * 20, "to": "41" + "11" * 20, "value": "2500000"}}).raw
2500000
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from graph.chains import normalise, tron_from_evm
from graph.formats import LATEST_TIME

CHAIN = "tron"
TRX = "TRX"
TRX_DECIMALS = 6
"""1 TRX = 10^6 sun."""
USDT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
"""Tether USD on Tron (USDT-TRC20), the token most Tron deposits are made in."""
KNOWN_TOKENS = {USDT: 6}
"""Decimals of the tokens known without a --tokens file (a --tokens file adds to it and may override it)."""
LATEST_MS = LATEST_TIME // 1_000
MAX_BLOCK = 2**42
MAX_VALUE = 2**256
_HASH = re.compile(r"[0-9a-fA-F]{64}")
_DIGITS = re.compile(r"[0-9]{1,78}")
_EVM = re.compile(r"0x[0-9a-fA-F]{40}")
_ROLES = {"from": ("from", "_from", "0"), "to": ("to", "_to", "1"), "value": ("value", "_value", "2")}
"""Where a Transfer event's `result` holds each parameter: the usual names first, then the positional keys."""


@dataclass(frozen=True, slots=True)
class Move:
    """A checked transfer before its block position is known: `raw` in the asset's smallest unit."""

    tx_hash: str
    block_number: int
    timestamp_ms: int
    from_address: str
    to_address: str
    asset: str
    raw: int
    event_index: int
    """-1 for a TRX transfer (written before its transaction's events), else the event's index."""


@dataclass(frozen=True, slots=True)
class Skipped:
    """A good item that makes no transfer, and why (one of the import's counters)."""

    reason: str
    key: tuple = ()
    """The item's identity when it has one (txID, or transaction id and event index): duplicates are counted once."""


@lru_cache(maxsize=1 << 18)
def tron_address(text: str) -> str:
    """A Tron address as the transfers file keeps it: base58 from `T...`, `41...`, `0x41...` or `0x` + 40 hex."""
    return tron_from_evm(text) if _EVM.fullmatch(text) else normalise(CHAIN, text)


def _field(record: dict, path: str, *, within: str = "") -> object:
    """The value at a dotted path (`raw_data.contract`); ValueError naming the path (after `within`) when missing."""
    value: object = record
    for name in path.split("."):
        if not isinstance(value, dict) or value.get(name) is None:
            raise ValueError(f"missing {within}{path}")
        value = value[name]
    return value


def _whole(value: object, name: str, *, limit: int) -> int:
    """A non-negative integer (a JSON number, or digit text) below `limit`."""
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} {value!r} is not a whole number")
    if value < 0:
        raise ValueError(f"{name} {value} is negative")
    if value >= limit:
        raise ValueError(f"{name} {value} is too large")
    return value


def _hash(value: object, name: str) -> str:
    if not isinstance(value, str) or not _HASH.fullmatch(value):
        raise ValueError(f"{name} {value!r} is not a transaction id (64 hex digits)")
    return value.lower()


def _address(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} {value!r} is not an address")
    try:
        return tron_address(value)
    except ValueError as error:  # graph.chains.AddressError: its message names the address and says why
        raise ValueError(f"{name}: {error}") from None


def _place(record: dict, block_name: str) -> tuple[int, int]:
    """(block number, block time in milliseconds) of an item."""
    block = _whole(_field(record, block_name), block_name, limit=MAX_BLOCK)
    return block, _whole(_field(record, "block_timestamp"), "block_timestamp", limit=LATEST_MS)


def transaction_item(record: object) -> Move | Skipped:
    """The TRX transfer of one account-transactions item, or why it makes none (ValueError: why it is bad)."""
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    if record.get("txID") is None and record.get("internal_tx_id") is not None:
        return Skipped("internal", ("internal", str(record["internal_tx_id"])))
    tx_hash = _hash(_field(record, "txID"), "txID")
    block, stamp = _place(record, "blockNumber" if "blockNumber" in record else "block_number")
    contracts = _field(record, "raw_data.contract")
    if not isinstance(contracts, list) or not contracts or not isinstance(contracts[0], dict):
        raise ValueError("raw_data.contract is not a list of contracts")
    kind = contracts[0].get("type")
    if not isinstance(kind, str):
        raise ValueError("missing raw_data.contract[0].type")
    if kind != "TransferContract":
        return Skipped(f"contract:{kind}", (tx_hash, -1))
    where = "raw_data.contract[0].parameter.value."
    value = _field(contracts[0], "parameter.value", within="raw_data.contract[0].")
    if not isinstance(value, dict):
        raise ValueError("raw_data.contract[0].parameter.value is not an object")
    sender = _address(_field(value, "owner_address", within=where), "owner_address")
    receiver = _address(_field(value, "to_address", within=where), "to_address")
    amount = _whole(_field(value, "amount", within=where), "amount", limit=2**63)
    results = record.get("ret")
    if not isinstance(results, list) or not results or not isinstance(results[0], dict) \
            or not isinstance(results[0].get("contractRet"), str):
        raise ValueError("missing ret[0].contractRet")
    if results[0]["contractRet"] != "SUCCESS":
        return Skipped("failed", (tx_hash, -1))
    if amount == 0:
        return Skipped("zero", (tx_hash, -1))
    return Move(tx_hash, block, stamp, sender, receiver, TRX, amount, -1)


def event_item(record: object) -> Move | Skipped:
    """The token transfer of one contract-events item, or why it makes none (ValueError: why it is bad).

    `asset` is the token's contract address; its decimals are applied by the import.
    """
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    tx_hash = _hash(_field(record, "transaction_id"), "transaction_id")
    index = _whole(_field(record, "event_index"), "event_index", limit=2**31)
    block, stamp = _place(record, "block_number")
    name = record.get("event_name", "Transfer")
    if name != "Transfer":
        return Skipped("other event", (tx_hash, index))
    if record.get("_unconfirmed") is True:
        return Skipped("unconfirmed", (tx_hash, index))
    token = _address(_field(record, "contract_address"), "contract_address")
    result = _field(record, "result")
    if not isinstance(result, dict):
        raise ValueError("result is not an object")
    found = {}
    for role, keys in _ROLES.items():
        key = next((k for k in keys if result.get(k) is not None), None)
        if key is None:
            raise ValueError(f"missing result.{role}")
        found[role] = result[key]
    sender = _address(found["from"], "result.from")
    receiver = _address(found["to"], "result.to")
    raw = _whole(found["value"], "result.value", limit=MAX_VALUE)
    if raw == 0:
        return Skipped("zero", (tx_hash, index))
    return Move(tx_hash, block, stamp, sender, receiver, token, raw, index)


def scaled(raw: int, decimals: int, *, trim: bool) -> str:
    """An integer amount of the smallest unit as exact decimal text (all `decimals` digits unless `trim`).

    >>> scaled(1_500_000, 6, trim=True), scaled(1_500_000, 6, trim=False), scaled(5, 6, trim=True)
    ('1.5', '1.500000', '0.000005')
    """
    if decimals == 0:
        return str(raw)
    digits = str(raw).rjust(decimals + 1, "0")
    whole, fraction = digits[:-decimals], digits[-decimals:]
    if trim:
        fraction = fraction.rstrip("0")
    return f"{whole}.{fraction}" if fraction else whole
