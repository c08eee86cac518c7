"""One bitcoin-etl transaction (a line of its `transactions.json` export) checked and turned into transfers.

bitcoin-etl writes a transaction as a JSON object: `hash`, `block_number`,
`block_timestamp` (unix seconds), `index` (its place in the block), `is_coinbase`, and
`inputs` and `outputs`, each a list of objects with `addresses` (a list), `value`
(satoshis) and `type`. Inputs carry their addresses and values only once the export is
enriched (`bitcoinetl enrich_transactions`, or `export_all --enrich`).

An input or output gets its address when `addresses` holds exactly one, checked and
normalised by graph.chains.normalise("bitcoin", ...). None when it cannot have one:

- no address, or a `nonstandard` / `nulldata` (OP_RETURN) script (bitcoin-etl names those
  `nonstandard` followed by a hash of the script): **undecodable**;
- more than one address (bare multisig, m-of-n keys): **multisig**; no one key holds it.

The transfers are graph.utxo.split's; `read_transaction` raises ValueError with the reason
a line is bad.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from graph import utxo
from graph.chains import normalise
from graph.formats import LATEST_TIME

CHAIN = "bitcoin"
ASSET = "BTC"
_HASH = re.compile(r"[0-9a-fA-F]{64}")
_DIGITS = re.compile(r"[0-9]{1,19}")
UNDECODABLE_TYPES = frozenset({"nonstandard", "nulldata"})
LATEST_SECOND = LATEST_TIME // 1_000_000


@lru_cache(maxsize=1 << 20)
def bitcoin_address(text: str) -> str:
    """A Bitcoin address as the transfers file keeps it (addresses repeat: the answers are kept)."""
    return normalise(CHAIN, text)


@dataclass
class Transaction:
    """A checked transaction: where it is, its transfers, and what of it could not be attributed."""

    tx_hash: str
    block_number: int
    index: int
    timestamp: int
    """Unix seconds of its block."""
    coinbase: bool
    flows: list[utxo.Flow] = field(default_factory=list)
    undecodable_outputs: int = 0
    multisig_outputs: int = 0
    unattributed_inputs: int = 0
    """Inputs without one address (undecodable or multisig): their share of the outputs is not written."""


def _count(record: dict, name: str, *, limit: int = 2**62) -> int:
    """A non-negative integer field (a JSON number, or digits as text)."""
    value = record.get(name)
    if type(value) is int and 0 <= value < limit:
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        value = int(value)
    if value is None:
        raise ValueError(f"missing {name}")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} {value!r} is not a whole number")
    if value < 0:
        raise ValueError(f"{name} {value} is negative")
    if value >= limit:
        raise ValueError(f"{name} {value} is too large")
    return value


def _value(item: dict, where: str, *, side: str) -> int:
    """An input's or output's value in satoshis."""
    if item.get("value") is None and side == "input":
        raise ValueError(f"{where} has no value: the export is not enriched (run bitcoinetl enrich_transactions)")
    try:
        value = _count(item, "value", limit=utxo.MAX_SATOSHIS + 1)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
    return value


def _address(item: dict, where: str) -> tuple[str | None, str]:
    """(address or None, 'one', 'undecodable' or 'multisig') of an input or output."""
    addresses = item.get("addresses")
    if addresses is None or addresses == []:
        return None, "undecodable"
    if not isinstance(addresses, list) or not all(isinstance(a, str) for a in addresses):
        raise ValueError(f"{where}: addresses {addresses!r} is not a list of text")
    if len(addresses) > 1:
        return None, "multisig"
    text = addresses[0]
    if item.get("type") in UNDECODABLE_TYPES or text.startswith("nonstandard"):
        return None, "undecodable"
    try:
        return bitcoin_address(text), "one"
    except ValueError as error:  # graph.chains.AddressError: its message names the address and says why
        raise ValueError(f"{where}: {error}") from None


def _parts(record: dict, side: str) -> list[dict]:
    items = record.get(f"{side}s")
    if items is None:
        raise ValueError(f"missing {side}s")
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ValueError(f"{side}s is not a list of objects")
    return items


def read_transaction(record: object) -> Transaction:
    """The transaction of one decoded JSON line, checked, with its transfers (ValueError: why the line is bad)."""
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    tx_hash = record.get("hash")
    if not isinstance(tx_hash, str) or not _HASH.fullmatch(tx_hash):
        raise ValueError(f"hash {tx_hash!r} is not a transaction hash (64 hex digits)")
    coinbase = record.get("is_coinbase", False)
    if not isinstance(coinbase, bool):
        raise ValueError(f"is_coinbase {coinbase!r} is not true or false")
    found = Transaction(tx_hash.lower(), _count(record, "block_number", limit=2**42), _count(record, "index", limit=2**32),
                        _count(record, "block_timestamp", limit=LATEST_SECOND), coinbase)
    inputs, outputs = _parts(record, "input"), _parts(record, "output")
    if coinbase and inputs:
        raise ValueError("a coinbase transaction with inputs")
    spent = []
    for n, item in enumerate(inputs):
        where = f"input {n}"
        value = _value(item, where, side="input")
        address, kind = _address(item, where)
        found.unattributed_inputs += kind != "one"
        spent.append((address, value))
    paid = []
    for n, item in enumerate(outputs):
        where = f"output {n}"
        value = _value(item, where, side="output")
        address, kind = _address(item, where)
        found.undecodable_outputs += kind == "undecodable"
        found.multisig_outputs += kind == "multisig"
        paid.append((address, value))
    if coinbase:
        return found
    if not spent:
        raise ValueError("no inputs, and is_coinbase is not true")
    found.flows = utxo.split(spent, paid)  # ValueError when the outputs exceed the inputs
    return found
