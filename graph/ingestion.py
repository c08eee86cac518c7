"""`kyt ingest`: transfers from a node into a CSV file, resumable, final only past a depth, repaired on reorgs.

After each batch the rows are flushed to disk (and the deposits file, when the platform's
deposit addresses are given: transfers into them become deposits), then a checkpoint is
written atomically with the next block, the files' lengths and the recent blocks' hashes. A rerun truncates the file
to the checkpoint's length (dropping rows of a batch cut short) and goes on from the next
block: no gap, no duplicate. Each batch's first block must have the remembered hash as its
parent; when it does not, the chain reorganised: the newest remembered block the node still
agrees with is the fork point, rows after it are cut, and ingestion resumes there.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Callable

from graph.chain import MethodMissing, Node, NodeUnavailable, RangeTooLarge
from graph.chains import DEFAULT, chain_for_id, native_asset
from graph.erc20 import DECIMALS_CALL, TRANSFER_TOPIC, decimals_of
from graph.errors import ChainError, ReorgTooDeep
from graph.formats import CHAIN_COLUMN, DEPOSIT_COLUMNS
from graph.ingest import (COLUMNS, Row, deposit_cells, internal_rows, native_rows, ordered, priced,
                          token_rows, trace_mismatch, transfer_log)
from graph.node_checks import check_blocks, check_logs, check_receipts, check_traces
from graph.checkpoints import Checkpoint, same_outputs
from graph.outputs import CsvOutput, Output

REMEMBERED = 256
"""How many recent blocks' hashes the checkpoint keeps for reorg repair."""
REREADS = 20
"""How many times in a row a batch may be read again (node behind, reorganising) before giving up."""
WORKERS = 4
"""Requests for one batch's blocks in flight at once: a node answers them in parallel."""


@dataclass
class Summary:
    blocks: int = 0
    transfers: int = 0
    reorgs: int = 0
    last_block: int | None = None


class Ingestion:
    """One output file and its checkpoint, fed from one node."""

    def __init__(self, node: Node, out: Path | Output, checkpoint: Path, *, from_block: int, confirmations: int = 12,
                 batch: int = 100, expected_chain: int | None = None,
                 prices: dict[tuple[str, date], Decimal] | None = None, deposits_out: Path | Output | None = None,
                 deposit_addresses: dict[str, str] | None = None, workers: int = WORKERS,
                 traces: bool = False) -> None:
        self.node, self.checkpoint_path, self.traces = node, checkpoint, traces
        self.confirmations, self.batch, self.prices = confirmations, batch, prices or {}
        self.addresses = deposit_addresses or {}
        self.workers = max(1, workers)
        self._pool = ThreadPoolExecutor(max_workers=2)
        # a batch's block and trace requests, its receipts and its logs, for the batch under way and the one ahead
        self._fetchers = ThreadPoolExecutor(max_workers=2 * (2 * self.workers + 2))
        self._ahead: tuple[list[int], Future] | None = None
        self.reorgs = 0
        """Reorganisations repaired by this object so far."""
        self.on_rewind: Callable[[list[int]], None] | None = None
        """Told each output's new mark before a repair cuts the outputs (and before the checkpoint moves)."""
        chain = node.chain_id()
        if expected_chain is not None and chain != expected_chain:
            raise ChainError(f"{node.url} is chain {chain}, not chain {expected_chain}")
        state = Checkpoint.load(checkpoint)
        if state is not None and state.chain_id != chain:
            raise ChainError(f"{checkpoint} belongs to chain {state.chain_id}; {node.url} is chain {chain}")
        named = chain_for_id(chain) if state is None else state.chain
        extra = () if named is None else (CHAIN_COLUMN,)
        self.outputs: list[Output] = [out if not isinstance(out, Path) else CsvOutput(out, COLUMNS + extra)]
        if deposits_out is not None:
            self.outputs.append(deposits_out if not isinstance(deposits_out, Path)
                                else CsvOutput(deposits_out, DEPOSIT_COLUMNS + extra))
        names = [_named(output) for output in self.outputs]
        if state is not None and len(state.offsets) != len(self.outputs):
            raise ChainError(f"{checkpoint} was made {'with' if len(state.offsets) > 1 else 'without'} a deposits "
                             f"file; run the same way, or start a new output")
        if state is not None and state.outputs and not same_outputs(state.outputs, names):
            raise ChainError(f"{checkpoint} writes {', '.join(state.outputs)}, not {', '.join(names)}")
        if state is not None and state.traces != traces:
            raise ChainError(f"{checkpoint} was made {'with' if state.traces else 'without'} --traces; run the same "
                             f"way, or start a new output")
        if state is None:
            head = node.head()
            if from_block > head:
                raise ChainError(f"block {from_block:,} is past the head of {node.url}, block {head:,} (chain "
                                 f"{chain}, {named}): give a --from-block of at most {head:,}")
            offsets = [output.start() for output in self.outputs]
            state = Checkpoint(chain, from_block, offsets, first_block=from_block, outputs=names, traces=traces,
                               chain=named)
            state.save(checkpoint)
        self.state = state
        self._truncate(state.offsets)  # rows past the checkpoint belong to a batch that never finished

    def final_block(self) -> int:
        return self.node.head() - self.confirmations

    def _last(self, to_block: int | None) -> int:
        """The last block to ingest now: `to_block`, or the final head if that comes first."""
        return self.final_block() if to_block is None else min(to_block, self.final_block())

    def step(self, to_block: int | None = None) -> tuple[int, int]:
        """Ingest the next batch of final blocks; (blocks, transfers) done, (0, 0) when caught up or to read again."""
        last = self._last(to_block)
        first = self.state.next_block
        if first > last:
            return 0, 0
        numbers = list(range(first, min(first + self.batch, last + 1)))
        current = self._take_ahead(numbers) or self._pool.submit(self._read, numbers)
        ahead = list(range(numbers[-1] + 1, min(numbers[-1] + 1 + self.batch, last + 1)))
        if len(ahead) == self.batch:  # the next batch is read while this one is written (a partial one
            # near the head is not: the head moves, and the next batch would be asked for again)
            self._ahead = (ahead, self._pool.submit(self._read, ahead))
        blocks, read = current.result()
        if read is None:
            raise _Reread(f"block {numbers[blocks.index(None)]} is not available from the node")
        if self.state.recent and blocks[0]["parentHash"] != self.state.recent[-1][1]:
            self._ahead = None
            self._repair()
            return 0, 0
        for before, after in zip(blocks, blocks[1:]):
            if after["parentHash"] != before["hash"]:
                raise _Reread(f"block {int(after['number'], 16)} does not follow the block before it (reorganising)")
        statuses, created, logs, traces = read
        rows = self._rows(blocks, statuses=statuses, created=created, logs=logs, traces=traces)
        self._append(blocks, rows)
        return len(blocks), len(rows)

    def _take_ahead(self, numbers: list[int]) -> Future | None:
        """The read started ahead of time, when it asked for these numbers."""
        ahead, self._ahead = self._ahead, None
        return ahead[1] if ahead is not None and ahead[0] == numbers else None

    def _read(self, numbers: list[int]) -> tuple[list[dict], tuple | None]:
        """The blocks with their receipts, then their Transfer logs; (blocks, None) if a block is missing.

        Receipts are asked for with the blocks: a reorganisation in between shows as receipts of
        other blocks, or a value transfer without one, and the batch is read again. Logs are
        asked for only once the blocks are in: an old branch's answer of no logs at all would
        pass any check, while blocks older than the logs are caught by the next batch's parent
        hash, which repairs them.
        """
        receipts = self._fetchers.submit(self._block_receipts, numbers)
        traces = self._spread("trace_block", [[hex(n)] for n in numbers]) if self.traces else None
        blocks = self._fetch_blocks(numbers)
        if any(block is None for block in blocks):
            return blocks, None
        check_blocks(numbers, blocks)
        logs = self._fetchers.submit(self._logs, numbers[0], numbers[-1])
        statuses, created = self._receipts(blocks, receipts)
        calls = self._traces(traces, blocks) if traces is not None else []
        return blocks, (statuses, created, logs.result(), calls)

    def _spread(self, method: str, calls: list[list]) -> list[Future]:
        """The calls in `workers` batched requests, all sent at once."""
        size = -(-len(calls) // self.workers)
        return [self._fetchers.submit(self.node.batch, method, calls[i:i + size]) for i in range(0, len(calls), size)]

    def _traces(self, asked: list[Future], blocks: list[dict]) -> list[dict]:
        """Every call trace of the blocks (trace_block), once they are the blocks' own (else the batch is read again).

        A node without the trace API is an error, not a fallback.
        """
        try:
            answers = [answer for part in asked for answer in part.result()]
        except MethodMissing:
            raise ChainError(f"{self.node.url} does not offer trace_block, which internal transfers (--traces) need: "
                             f"use a node with the trace API (Erigon, Nethermind, Reth, Besu, anvil) or drop "
                             f"--traces") from None
        traces = [t for answer in answers for t in (answer or [])]
        problem = trace_mismatch(blocks, traces)
        if problem:
            raise _Reread(problem)
        check_traces(traces, blocks)
        return traces

    def _fetch_blocks(self, numbers: list[int]) -> list[dict]:
        """The blocks with their transactions, in `workers` batched requests sent at once."""
        return [block for part in self._spread("eth_getBlockByNumber", [[hex(n), True] for n in numbers])
                for block in part.result()]

    def close(self) -> None:
        """Stop the background reader."""
        self._ahead = None
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._fetchers.shutdown(wait=True, cancel_futures=True)

    def _rows(self, blocks: list[dict], *, statuses: dict[str, int], created: dict[str, str],
              logs: list[dict], traces: list[dict]) -> list[Row]:
        hashes = {block["hash"] for block in blocks}
        if any(log.get("blockHash") not in hashes for log in logs if not log.get("removed")):
            raise _Reread("the node's logs and blocks disagree (reorganising while we read)")
        check_logs(logs, blocks)
        self._learn_decimals({log["address"].lower() for log in logs if transfer_log(log)})
        stamps = {int(b["number"], 16): int(b["timestamp"], 16) for b in blocks}
        coin = native_asset(self.state.chain or DEFAULT)  # a checkpoint from before chains is ethereum's
        rows = [row for block in blocks for row in native_rows(block, statuses, created, asset=coin)]
        rows += internal_rows(traces, stamps, asset=coin)
        rows += token_rows(logs, stamps, self.state.decimals)
        return ordered(priced(rows, self.prices))

    def _logs(self, first: int, last: int) -> list[dict]:
        """Transfer logs of blocks first..last, asked for in halves whenever the node finds a range too large."""
        try:
            return self.node.call("eth_getLogs", [{"fromBlock": hex(first), "toBlock": hex(last),
                                                   "topics": [TRANSFER_TOPIC]}])
        except RangeTooLarge as error:
            if first == last:
                raise ChainError(f"block {first:,} alone holds more Transfer logs than {self.node.url} returns in "
                                 f"one answer ({error}); use a node without that limit") from None
            middle = (first + last) // 2
            return self._logs(first, middle) + self._logs(middle + 1, last)

    def _block_receipts(self, numbers: list[int]) -> list[dict]:
        """Every receipt of the blocks, one eth_getBlockReceipts each (MethodMissing on nodes without it)."""
        answers = self.node.batch("eth_getBlockReceipts", [[hex(n)] for n in numbers])
        return [r for answer in answers for r in (answer or [])]

    def _receipts(self, blocks: list[dict], asked: Future) -> tuple[dict[str, int], dict[str, str]]:
        """Status and created contract by transaction hash, from the block receipts asked for (or one by one)."""
        try:
            receipts = asked.result()
        except MethodMissing:
            hashes = [tx["hash"] for block in blocks for tx in block["transactions"] if int(tx["value"], 16) > 0]
            receipts = [r for r in self.node.batch("eth_getTransactionReceipt", [[h] for h in hashes]) if r]
        hashes = {block["hash"] for block in blocks}
        if any(r.get("blockHash") not in hashes for r in receipts):
            raise _Reread("the node's receipts and blocks disagree (reorganising while we read)")
        check_receipts(receipts, blocks)
        statuses = {r["transactionHash"]: int(r.get("status", "0x1"), 16) for r in receipts}
        missing = [tx["hash"] for block in blocks for tx in block["transactions"]
                   if int(tx["value"], 16) > 0 and tx["hash"] not in statuses]
        if missing:
            raise _Reread(f"the node has no receipt for {missing[0]}")
        created = {r["transactionHash"]: r["contractAddress"] for r in receipts if r.get("contractAddress")}
        return statuses, created

    def _learn_decimals(self, contracts: set[str]) -> None:
        unknown = sorted(c for c in contracts if c not in self.state.decimals)
        if not unknown:
            return
        calls = [[{"to": c, "data": DECIMALS_CALL}, "latest"] for c in unknown]
        try:
            answers = self.node.batch("eth_call", calls)
        except NodeUnavailable:
            raise
        except ChainError:  # a token that reverts on decimals() fails the batch on some nodes: ask one by one
            answers = []
            for call in calls:
                try:
                    answers.append(self.node.call("eth_call", call))
                except NodeUnavailable:
                    raise  # no answer is not an answer: never remember it as "no decimals"
                except ChainError:  # the node's definite refusal (reverted): the token has no decimals()
                    answers.append(None)
        for contract, answer in zip(unknown, answers):
            self.state.decimals[contract] = decimals_of(answer)

    def _truncate(self, offsets: list[int]) -> None:
        for output, offset in zip(self.outputs, offsets):
            output.cut(offset)

    def _cells(self, rows: list[Row]) -> list[dict[int, list[list[str]]]]:
        """Per output, block number -> its rows' cells (transfers; deposits into the platform's addresses)."""
        out: list[dict[int, list[list[str]]]] = [{} for _ in self.outputs]
        chain = [] if self.state.chain is None else [self.state.chain]  # the chain column, when the files have it
        tx, counts = None, [0, 0]  # the transaction's transfers so far: [native and token, internal]
        for row in rows:  # in chain order, so a transaction's rows are together
            if row.tx_hash != tx:
                tx, counts = row.tx_hash, [0, 0]
            ordinal = f"i{counts[1]}" if row.internal else counts[0]
            counts[row.internal] += 1
            out[0].setdefault(row.block_number, []).append(row.cells() + chain)
            if len(out) > 1 and row.to_address in self.addresses:
                out[1].setdefault(row.block_number, []).append(
                    deposit_cells(row, self.addresses[row.to_address], ordinal) + chain)
        return out

    def _append(self, blocks: list[dict], rows: list[Row]) -> None:
        cells = self._cells(rows)
        numbers = [int(block["number"], 16) for block in blocks]
        marks = [output.write(offset, [by_block.get(n, []) for n in numbers])
                 for output, offset, by_block in zip(self.outputs, self.state.offsets, cells)]
        for i, block in enumerate(blocks):
            self.state.recent.append([numbers[i], block["hash"], [m[i] for m in marks]])
        self.state.offsets = [m[-1] for m in marks]
        self.state.recent = self.state.recent[-REMEMBERED:]
        self.state.next_block = numbers[-1] + 1
        self.state.save(self.checkpoint_path)

    def _repair(self) -> None:
        """Find the newest remembered block the node still agrees with; cut the rows after it."""
        recent = self.state.recent
        answers = self.node.batch("eth_getBlockByNumber", [[hex(n), False] for n, _, _ in recent])
        for index in range(len(recent) - 1, -1, -1):
            number, known, _ = recent[index]
            if answers[index] is not None and answers[index]["hash"] == known:
                cut = recent[index + 1][2] if index + 1 < len(recent) else self.state.offsets
                self._rewind(index + 1, number + 1, cut)
                return
        if recent[0][0] == self.state.first_block:  # nothing before the first remembered block was ingested
            self._rewind(0, self.state.first_block, recent[0][2])
            return
        raise ReorgTooDeep(f"the chain changed below block {recent[0][0]} (the oldest of the {len(recent)} blocks "
                           f"remembered); re-ingest from an earlier block into a new file")

    def _rewind(self, keep: int, next_block: int, offsets: list[int]) -> None:
        if self.on_rewind is not None:  # whoever reads the files hears of the cut before it happens
            self.on_rewind(list(offsets))
        # the checkpoint first: killed in between, the files are longer than it says, and the rerun cuts them
        self.state.recent = self.state.recent[:keep]
        self.state.next_block, self.state.offsets = next_block, list(offsets)
        self.state.save(self.checkpoint_path)
        self._truncate(offsets)
        self.reorgs += 1

    def run(self, to_block: int | None = None, progress: Callable[[Summary], None] | None = None,
            *, keep_open: bool = False, stop: Callable[[], bool] | None = None) -> Summary:
        """Ingest until `to_block` (or the final head) is done, or `stop()` says so between batches;
        `keep_open` to run again later (then `close`)."""
        try:
            return self._loop(to_block, progress, stop)
        finally:
            if keep_open:
                self._ahead = None
            else:
                self.close()

    def _loop(self, to_block: int | None, progress: Callable[[Summary], None] | None,
              stop: Callable[[], bool] | None) -> Summary:
        summary, rereads = Summary(), 0
        while not (stop is not None and stop()):
            before = self.reorgs
            try:
                blocks, transfers = self.step(to_block)
                rereads = 0
            except _Reread as why:
                self._ahead = None
                rereads += 1
                if rereads > REREADS:
                    raise ChainError(f"{self.node.url}: gave up after reading block {self.state.next_block:,} "
                                     f"{REREADS} times: {why}")
                self.node.sleep(min(0.25 * rereads, 2.0))
                continue
            summary.reorgs += self.reorgs - before
            if blocks == 0:
                if self.reorgs > before:
                    continue
                if self.state.next_block > self._last(to_block):
                    break
                continue
            summary.blocks += blocks
            summary.transfers += transfers
            summary.last_block = self.state.next_block - 1
            if progress:
                progress(summary)
        return summary


def _named(output: Output) -> str:
    """How the checkpoint names an output: a file by its absolute path, a table by its name."""
    return str(output.path.resolve()) if isinstance(output, CsvOutput) else output.name


class _Reread(Exception):
    """What was read is not consistent yet (the node is behind or reorganising): read it again shortly."""
