"""`kyt ingest`: transfers from a node into a CSV file, resumable, final only past a depth, repaired on reorgs.

After each batch the rows are flushed to disk, then a checkpoint is written atomically with
the next block, the file's length and the recent blocks' hashes. A rerun truncates the file
to the checkpoint's length (dropping rows of a batch cut short) and goes on from the next
block: no gap, no duplicate. Each batch's first block must have the remembered hash as its
parent; when it does not, the chain reorganised: the newest remembered block the node still
agrees with is the fork point, rows after it are cut, and ingestion resumes there.
"""

from __future__ import annotations

import csv
from concurrent.futures import ThreadPoolExecutor
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Callable

from graph.chain import MethodMissing, Node
from graph.errors import ChainError, InputError, Problem, ReorgTooDeep
from graph.ingest import COLUMNS, Row, native_rows, ordered, priced, token_rows, TRANSFER_TOPIC

REMEMBERED = 256
"""How many recent blocks' hashes the checkpoint keeps for reorg repair."""
DECIMALS_CALL = "0x313ce567"


@dataclass
class Checkpoint:
    """Where an ingestion stands: the next block, the output's length, recent (block, hash, offset)."""

    chain_id: int
    next_block: int
    offset: int
    recent: list[list] = field(default_factory=list)
    """[number, hash, offset of the file before the block's rows], oldest first."""
    decimals: dict[str, int | None] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        partial = path.with_name(path.name + ".partial")
        with partial.open("w", encoding="utf-8") as handle:
            json.dump(asdict(self), handle)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> "Checkpoint | None":
        if not path.exists():
            return None
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, TypeError) as error:
            raise ChainError(f"{path}: not a checkpoint of this tool ({error}); move it away to start afresh")


@dataclass
class Summary:
    blocks: int = 0
    transfers: int = 0
    reorgs: int = 0
    last_block: int | None = None


def load_prices(path: Path) -> dict[tuple[str, date], Decimal]:
    """A price table `asset, day, price` (USD per unit); every bad line is reported."""
    prices, problems = {}, []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"asset", "day", "price"} <= set(reader.fieldnames):
            raise InputError(str(path), [Problem(1, "needs the columns asset, day, price")])
        for line, row in enumerate(reader, start=2):
            try:
                price = Decimal(row["price"])
                if not price.is_finite() or price < 0:
                    raise InvalidOperation
                prices[(row["asset"].strip().lower() if row["asset"].startswith("0x") else row["asset"].strip(),
                        date.fromisoformat(row["day"].strip()))] = price
            except (InvalidOperation, ValueError, AttributeError):
                problems.append(Problem(line, f"bad price row {row!r}"))
    if problems:
        raise InputError(str(path), problems[:50], max(0, len(problems) - 50))
    return prices


class Ingestion:
    """One output file and its checkpoint, fed from one node."""

    def __init__(self, node: Node, out: Path, checkpoint: Path, from_block: int, confirmations: int = 12,
                 batch: int = 100, expected_chain: int | None = None,
                 prices: dict[tuple[str, date], Decimal] | None = None) -> None:
        self.node, self.out, self.checkpoint_path = node, out, checkpoint
        self.confirmations, self.batch, self.prices = confirmations, batch, prices or {}
        chain = node.chain_id()
        if expected_chain is not None and chain != expected_chain:
            raise ChainError(f"{node.url} is chain {chain}, not chain {expected_chain}")
        state = Checkpoint.load(checkpoint)
        if state is not None and state.chain_id != chain:
            raise ChainError(f"{checkpoint} belongs to chain {state.chain_id}; {node.url} is chain {chain}")
        if state is None:
            header = (",".join(COLUMNS) + "\n").encode()
            with out.open("wb") as handle:
                handle.write(header)
                handle.flush()
                os.fsync(handle.fileno())
            state = Checkpoint(chain, from_block, len(header))
            state.save(checkpoint)
        self.state = state
        with out.open("r+b") as handle:  # rows past the checkpoint belong to a batch that never finished
            handle.truncate(state.offset)

    def final_block(self) -> int:
        return self.node.head() - self.confirmations

    def step(self, to_block: int | None = None) -> tuple[int, int]:
        """Ingest the next batch of final blocks; (blocks, transfers) done, (0, 0) when caught up."""
        last = self.final_block() if to_block is None else min(to_block, self.final_block())
        first = self.state.next_block
        if first > last:
            return 0, 0
        numbers = list(range(first, min(first + self.batch, last + 1)))
        blocks = self.node.batch("eth_getBlockByNumber", [[hex(n), True] for n in numbers])
        if any(block is None for block in blocks):
            return 0, 0  # the node is behind what it just reported as head
        if self.state.recent and blocks[0]["parentHash"] != self.state.recent[-1][1]:
            self._repair()
            return 0, 0
        for before, after in zip(blocks, blocks[1:]):
            if after["parentHash"] != before["hash"]:
                return 0, 0  # reorganised while we read; the next step reads again
        rows = self._rows(blocks)
        self._append(blocks, rows)
        return len(blocks), len(rows)

    def _rows(self, blocks: list[dict]) -> list[Row]:
        first, last = int(blocks[0]["number"], 16), int(blocks[-1]["number"], 16)
        with ThreadPoolExecutor(max_workers=1) as pool:  # the logs come while the receipts are read
            asked = pool.submit(self.node.call, "eth_getLogs",
                                [{"fromBlock": hex(first), "toBlock": hex(last), "topics": [TRANSFER_TOPIC]}])
            statuses, created = self._receipts(blocks)
            logs = asked.result()
        hashes = {block["hash"] for block in blocks}
        if any(log["blockHash"] not in hashes for log in logs if not log.get("removed")):
            raise ChainError("the node's logs and blocks disagree (a reorganisation while reading); run again")
        self._learn_decimals({log["address"].lower() for log in logs})
        stamps = {int(b["number"], 16): int(b["timestamp"], 16) for b in blocks}
        rows = [row for block in blocks for row in native_rows(block, statuses, created)]
        rows += token_rows(logs, stamps, self.state.decimals)
        return ordered(priced(rows, self.prices))

    def _receipts(self, blocks: list[dict]) -> tuple[dict[str, int], dict[str, str]]:
        try:
            answers = self.node.batch("eth_getBlockReceipts", [[block["number"]] for block in blocks])
            receipts = [r for answer in answers for r in (answer or [])]
        except MethodMissing:
            hashes = [tx["hash"] for block in blocks for tx in block["transactions"] if int(tx["value"], 16) > 0]
            receipts = [r for r in self.node.batch("eth_getTransactionReceipt", [[h] for h in hashes]) if r]
        statuses = {r["transactionHash"]: int(r.get("status", "0x1"), 16) for r in receipts}
        created = {r["transactionHash"]: r["contractAddress"] for r in receipts if r.get("contractAddress")}
        return statuses, created

    def _learn_decimals(self, contracts: set[str]) -> None:
        unknown = sorted(c for c in contracts if c not in self.state.decimals)
        if not unknown:
            return
        calls = [[{"to": c, "data": DECIMALS_CALL}, "latest"] for c in unknown]
        try:
            answers = self.node.batch("eth_call", calls)
        except ChainError:  # a token that reverts on decimals() fails the batch on some nodes: ask one by one
            answers = []
            for call in calls:
                try:
                    answers.append(self.node.call("eth_call", call))
                except ChainError:
                    answers.append(None)
        for contract, answer in zip(unknown, answers):
            places = int(answer, 16) if answer and len(answer) == 66 else None
            self.state.decimals[contract] = places if places is not None and places <= 77 else None

    def _append(self, blocks: list[dict], rows: list[Row]) -> None:
        by_block: dict[int, list[Row]] = {}
        for row in rows:
            by_block.setdefault(row.block_number, []).append(row)
        with self.out.open("r+b") as handle:
            handle.seek(self.state.offset)
            for block in blocks:
                number = int(block["number"], 16)
                self.state.recent.append([number, block["hash"], handle.tell()])
                for row in by_block.get(number, []):
                    handle.write((",".join(row.cells()) + "\n").encode())
            handle.truncate()
            handle.flush()
            os.fsync(handle.fileno())
            self.state.offset = handle.tell()
        self.state.recent = self.state.recent[-REMEMBERED:]
        self.state.next_block = int(blocks[-1]["number"], 16) + 1
        self.state.save(self.checkpoint_path)

    def _repair(self) -> None:
        """Find the newest remembered block the node still agrees with; cut the rows after it."""
        recent = self.state.recent
        answers = self.node.batch("eth_getBlockByNumber", [[hex(n), False] for n, _, _ in recent])
        for index in range(len(recent) - 1, -1, -1):
            number, known, _ = recent[index]
            if answers[index] is not None and answers[index]["hash"] == known:
                cut = recent[index + 1][2] if index + 1 < len(recent) else self.state.offset
                self._rewind(index + 1, number + 1, cut)
                return
        raise ReorgTooDeep(f"the chain changed below block {recent[0][0]} (the oldest of the {len(recent)} blocks "
                           f"remembered); re-ingest from an earlier block into a new file")

    def _rewind(self, keep: int, next_block: int, offset: int) -> None:
        self.state.recent = self.state.recent[:keep]
        self.state.next_block, self.state.offset = next_block, offset
        with self.out.open("r+b") as handle:
            handle.truncate(offset)
            handle.flush()
            os.fsync(handle.fileno())
        self.state.save(self.checkpoint_path)
        self.reorgs = getattr(self, "reorgs", 0) + 1

    def run(self, to_block: int | None = None, progress: Callable[[Summary], None] | None = None) -> Summary:
        """Ingest until `to_block` (or the final head) is done."""
        summary = Summary()
        while True:
            before = getattr(self, "reorgs", 0)
            blocks, transfers = self.step(to_block)
            summary.reorgs += getattr(self, "reorgs", 0) - before
            if blocks == 0:
                if getattr(self, "reorgs", 0) > before:
                    continue
                last = self.final_block() if to_block is None else min(to_block, self.final_block())
                if self.state.next_block > last:
                    break
                continue
            summary.blocks += blocks
            summary.transfers += transfers
            summary.last_block = self.state.next_block - 1
            if progress:
                progress(summary)
        return summary
