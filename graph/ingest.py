"""Transfers from Ethereum blocks: native ETH moves, internal ETH moves and ERC-20 Transfer logs, as rows.

Pure functions over the node's JSON answers. Rows are put in chain order by (transaction
index, then the native transfer, the transaction's internal transfers in trace order, its
logs by log index), and `ordered` numbers them 0, 1, 2... inside each block: positions never
collide and stay far below the transfers format's limit whatever the block holds.

>>> place(3) < place(3, internal=0) < place(3, log_index=7) < place(4)
True
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal, localcontext
from typing import NamedTuple

from graph.erc20 import TRANSFER_TOPIC, transfer_of
from graph.formats import DEPOSIT_COLUMNS, TRANSFER_COLUMNS

NATIVE = "ETH"
WEI = Decimal(10) ** 18
SLOT = 2 ** 40
"""Room under one transaction index in the sort key: internal transfers in the lower half, logs in the upper."""
COLUMNS = TRANSFER_COLUMNS


def place(tx_index: int, log_index: int | None = None, internal: int | None = None) -> int:
    """A sort key inside a block: a transaction's native transfer, its internal transfers, its token transfers."""
    if internal is not None:
        return tx_index * SLOT + 1 + internal
    return tx_index * SLOT + (0 if log_index is None else SLOT // 2 + log_index)


def _int(value: str | int) -> int:
    return value if isinstance(value, int) else int(value, 16)


class Row(NamedTuple):
    """One transfer, as the transfers file holds it (usd_value None when no price is known)."""

    tx_hash: str
    block_number: int
    position: int
    """The sort key (`place`) until `ordered` numbers the block's rows 0, 1, 2..."""
    timestamp: int
    from_address: str
    to_address: str
    asset: str
    amount: Decimal
    usd_value: Decimal | None
    internal: bool = False
    """Moved by a call inside the transaction (from its traces), not by the transaction or a log."""

    def cells(self) -> list[str]:
        return [self.tx_hash, str(self.block_number), str(self.position), str(self.timestamp), self.from_address,
                self.to_address, self.asset, format(self.amount, "f"),
                "" if self.usd_value is None else format(self.usd_value, "f")]


def deposit_cells(row: Row, customer: str, ordinal: int | str) -> list[str]:
    """A transfer into a deposit address as a row of the deposits format.

    Its id is the tx hash and the transfer's ordinal within the transaction (the native
    transfer first, then its Transfer logs in order; an internal transfer's is `i` and its
    ordinal among the transaction's internal transfers, so ingesting them or not changes no
    other id): the same if a reorganisation moves the transaction to another block or place.
    """
    cells = dict(zip(COLUMNS, row.cells()))
    cells.update(deposit_id=f"{row.tx_hash}:{ordinal}", customer_id=customer)
    return [cells[c] for c in DEPOSIT_COLUMNS]


def native_rows(block: dict, statuses: dict[str, int], created: dict[str, str], *, asset: str = NATIVE) -> list[Row]:
    """Successful transactions of the block that moved the native coin (value > 0), as `asset`; a contract creation
    pays the new contract."""
    rows = []
    stamp = _int(block["timestamp"])
    for tx in block["transactions"]:
        value = _int(tx["value"])
        if value <= 0 or statuses.get(tx["hash"], 0) != 1:
            continue
        target = tx.get("to") or created.get(tx["hash"])
        if not target:
            continue
        rows.append(Row(tx["hash"], _int(block["number"]), place(_int(tx["transactionIndex"])), stamp,
                        tx["from"].lower(), target.lower(), asset, Decimal(value) / WEI, None))
    return rows


def internal_rows(traces: list[dict], stamps: dict[int, int], *, asset: str = NATIVE) -> list[Row]:
    """ETH moved inside transactions, from `trace_block`: calls and creations with value, self-destruct refunds.

    The transaction itself (the root trace) is the native transfer and is not repeated. A
    move inside a call that failed, or under one (its effects were undone), is not a transfer;
    nor is value in a delegatecall or callcode (the ETH does not change hands).
    """
    failed = {(t["transactionHash"], tuple(t["traceAddress"])) for t in traces
              if t.get("error") and t.get("transactionHash")}
    rows, ordinals = [], {}
    for t in traces:
        tx, path = t.get("transactionHash"), tuple(t.get("traceAddress") or ())
        if tx is None or not path or any((tx, path[:depth]) in failed for depth in range(len(path) + 1)):
            continue  # a block reward, the transaction itself, or undone
        action, kind = t.get("action") or {}, t.get("type")
        if kind == "call" and action.get("callType") == "call":
            source, target, value = action.get("from"), action.get("to"), action.get("value")
        elif kind == "create":
            source, target, value = action.get("from"), (t.get("result") or {}).get("address"), action.get("value")
        elif kind == "suicide":
            source, target, value = action.get("address"), action.get("refundAddress"), action.get("balance")
        else:
            continue
        amount = _int(value or "0x0")
        if amount <= 0 or not source or not target:
            continue
        ordinal = ordinals[tx] = ordinals.get(tx, -1) + 1
        block = _int(t["blockNumber"])
        rows.append(Row(tx, block, place(_int(t["transactionPosition"]), internal=ordinal), stamps[block],
                        source.lower(), target.lower(), asset, Decimal(amount) / WEI, None, internal=True))
    return rows


def trace_mismatch(blocks: list[dict], traces: list[dict]) -> str | None:
    """Why the traces cannot be the blocks' own (a trace of another block, a transaction without one), or None."""
    hashes = {block["hash"] for block in blocks}
    if any(t.get("blockHash") not in hashes for t in traces if t.get("transactionHash")):
        return "the node's traces and blocks disagree (reorganising while we read)"
    roots = {t["transactionHash"] for t in traces if t.get("transactionHash") and not t.get("traceAddress")}
    missing = [tx["hash"] for block in blocks for tx in block["transactions"] if tx["hash"] not in roots]
    return f"the node has no trace of transaction {missing[0]} yet" if missing else None


def token_rows(logs: list[dict], stamps: dict[int, int], decimals: dict[str, int | None]) -> list[Row]:
    """ERC-20 Transfer logs (three topics, value in data) that moved more than zero; amounts scaled by decimals.

    The log is decoded with the event's ABI (graph.erc20); one whose topics are not addresses
    is not a transfer. A token whose decimals are unknown keeps raw units, with its asset
    written `<contract>:raw`.
    """
    rows = []
    for log in logs:
        if not transfer_log(log):
            continue
        decoded = transfer_of(log["topics"], log["data"])
        if decoded is None:
            continue
        sender, receiver, raw = decoded
        if raw <= 0:
            continue
        contract = log["address"].lower()
        places = decimals.get(contract)
        with localcontext() as exact:
            exact.prec = 200  # a uint256 has at most 78 digits: no rounding
            amount, asset = ((Decimal(raw).scaleb(-places), contract) if places is not None
                             else (Decimal(raw), contract + ":raw"))
        block = _int(log["blockNumber"])
        rows.append(Row(log["transactionHash"], block, place(_int(log["transactionIndex"]), _int(log["logIndex"])),
                        stamps[block], sender, receiver, asset, amount, None))
    return rows


def priced(rows: list[Row], prices: dict[tuple[str, date], Decimal]) -> list[Row]:
    """Rows with usd_value = amount x the asset's price on the transfer's UTC day, where the table has one."""
    out: list[Row] = []
    days: dict[int, date] = {}  # a block's rows share its time
    with localcontext() as exact:
        exact.prec = 200
        for row in rows:
            day = days.get(row.timestamp)
            if day is None:
                day = days[row.timestamp] = datetime.fromtimestamp(row.timestamp, tz=timezone.utc).date()
            price = prices.get((row.asset, day))
            out.append(row if price is None else row._replace(usd_value=row.amount * price))
    return out


def transfer_log(log: dict) -> bool:
    """Whether a log is an ERC-20 Transfer that `token_rows` would read (three topics, 32 bytes of data)."""
    topics = log.get("topics", [])
    return (not log.get("removed") and len(topics) == 3 and topics[0].lower() == TRANSFER_TOPIC
            and len(log.get("data", "")) == 66)


def ordered(rows: list[Row]) -> list[Row]:
    """Rows in chain order, each block's numbered 0, 1, 2... as their position."""
    out, block, count = [], None, 0
    for row in sorted(rows, key=lambda r: (r.block_number, r.position)):
        count = count + 1 if row.block_number == block else 0
        block = row.block_number
        out.append(row._replace(position=count))
    return out
