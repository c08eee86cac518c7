"""`kyt import tron`: TronGrid API responses (TRX transactions, TRC-20 Transfer events) turned into a transfers file.

Each input is a file or a directory of files (`.json`, `.jsonl`, optionally `.gz`) holding
TronGrid v1 pages (`{"data": [...], "success": true, "meta": {...}}`), one page a file or one
a line, or JSON lines of single items. Every item is checked (graph.trongrid); an item seen
again (overlapping pages) is kept once. Then each block's transfers are put in the order
the exports allow, numbered, priced and written with `chain` = tron: to a work folder next
to the output, renamed into place at the end. Any bad item stops the import with nothing
written, each reported as FILE:LINE (an item of a page also by its number in the page).

The transfers are held in memory (TronGrid gives at most 200 items a page, so exports run
to thousands of pages, not billions of rows); docs/import.md gives the figures.
"""

from __future__ import annotations

import csv
import gzip
import shutil
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import chain
from pathlib import Path
from typing import Callable, Iterator

import orjson
import pyarrow as pa

from graph.bitcoin_import import CsvSink
from graph.errors import GraphError, InputError, Problem
from graph.etl_convert import OUTPUT_SCHEMA
from graph.etl_files import Quiet, input_files, output_kind, PARTITION_BLOCKS, TransferSink, work_folder
from graph.etl_import import ExportRejected, Progress
from graph.ingest import Row, priced
from graph.trongrid import CHAIN, KNOWN_TOKENS, TRX, TRX_DECIMALS, Move, Skipped, event_item, scaled, \
    transaction_item, tron_address

MAX_PROBLEMS = 50
MAX_POSITION = 2**20
"""Transfers a block may hold: positions are below this (docs/formats.md)."""
MAX_DECIMALS = 77
PRICE_SLICE = 65_536
SUFFIXES = (".json", ".json.gz", ".jsonl", ".jsonl.gz")
Where = tuple[int, "int | None", "int | None"]
"""(file id, line or None, item number within a page or None) of an item."""


@dataclass
class Summary:
    """What an import read, wrote and left out (each left-out reason counted once per distinct item)."""

    files_read: int = 0
    transactions: int = 0
    events: int = 0
    duplicates: int = 0
    trx_skipped: dict[str, int] = field(default_factory=dict)
    event_skipped: dict[str, int] = field(default_factory=dict)
    trx_transfers: int = 0
    token_transfers: int = 0
    transfers: int = 0
    unpriced: int = 0
    first_block: int | None = None
    last_block: int | None = None


class _Problems:
    """Bad items across files: the first MAX_PROBLEMS kept, all counted."""

    def __init__(self) -> None:
        self.files: list[Path] = []
        self.kept: list[tuple[int, int, int, str]] = []
        self.total = 0

    def add(self, where: Where, message: str) -> None:
        self.total += 1
        file, line, item = where
        if len(self.kept) < MAX_PROBLEMS:
            self.kept.append((file, line or 0, item or 0,
                              message if item is None else f"item {item} of the page: {message}"))

    def error(self) -> ExportRejected:
        """Every file's bad items, in file, line and item order, as one error."""
        errors = []
        for file in sorted({kept[0] for kept in self.kept}):
            found = sorted(kept[1:] for kept in self.kept if kept[0] == file)
            errors.append(InputError(str(self.files[file]), [Problem(line or None, message)
                                                             for line, _, message in found]))
        errors[-1].more = self.total - len(self.kept)
        return ExportRejected(errors)


def export_files(path: Path) -> list[Path]:
    """The files of an input: the file itself, or every .json(l)(.gz) file under a directory, in name order."""
    return input_files(path, suffixes=SUFFIXES)


def load_tokens(path: Path) -> dict[str, int | None]:
    """A tokens file `address, decimals` (Tron addresses; empty decimals: unknown); every bad line reported."""
    found: dict[str, int | None] = {}
    problems = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"address", "decimals"} <= {n.strip() for n in reader.fieldnames}:
            raise InputError(str(path), [Problem(1, "needs the columns address, decimals")])
        for line, row in enumerate(reader, start=2):
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if isinstance(v, str)}
            try:
                address = tron_address(row.get("address", ""))
                text = row.get("decimals", "")
                if text and (not text.isdigit() or int(text) > MAX_DECIMALS):
                    raise ValueError(f"decimals {text!r} is not a whole number from 0 to {MAX_DECIMALS}")
                decimals = int(text) if text else None
                if found.setdefault(address, decimals) != decimals:
                    raise ValueError(f"token {address} is listed again with other decimals")
            except ValueError as error:
                problems.append(Problem(line, str(error)))
    if problems:
        raise InputError(str(path), problems[:MAX_PROBLEMS], max(0, len(problems) - MAX_PROBLEMS))
    return found


def _opened(path: Path):
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")


def _page_items(document: object, line: int | None) -> Iterator[tuple[int | None, int | None, object, str | None]]:
    """(line, item number, item, None) of a decoded page, or one (line, None, None, reason) for a bad page."""
    if isinstance(document, dict) and ("success" in document or "meta" in document):  # a page, not an item
        items = document.get("data")
        if document.get("success") is False or "error" in document:
            yield line, None, None, f"an error response, not data: {document.get('error', document)!r}"[:300]
        elif not isinstance(items, list):
            yield line, None, None, "data is not a list of items"
        else:
            for number, item in enumerate(items, start=1):
                yield line, number, item, None
    elif isinstance(document, list):
        for number, item in enumerate(document, start=1):
            yield line, number, item, None
    else:
        yield line, None, document, None


def file_items(path: Path) -> Iterator[tuple[int | None, int | None, object, str | None]]:
    """(line, item number in a page, decoded item, reason it cannot be read) of every item of a file.

    A file whose first line is a JSON value is read as JSON lines (each line an item, a page or
    a list of items); otherwise the whole file is one JSON document (a pretty-printed page),
    whose items have no line of their own (None) but their number in the page.
    """
    with _opened(path) as handle:
        lines = enumerate(handle, start=1)
        first = next(((n, text) for n, text in lines if text.strip()), None)
        if first is None:
            return
        try:
            orjson.loads(first[1])
            by_line = True
        except orjson.JSONDecodeError:
            by_line = False
        if by_line:
            for line, text in chain([first], lines):
                if not text.strip():
                    continue
                try:
                    yield from _page_items(orjson.loads(text), line)
                except orjson.JSONDecodeError as error:
                    yield line, None, None, f"not JSON: {error}"
            return
        text = first[1] + b"".join(rest for _, rest in lines)
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        yield first[0] + error.lineno - 1, None, None, f"not JSON: {error}"
        return
    yield from _page_items(document, None)


def _read(paths: list[Path], convert: Callable[[object], Move | Skipped], *, kind: str, kept: dict[tuple, tuple],
          problems: _Problems, progress: Progress, summary: Summary) -> None:
    """Every item of an input checked and converted; each distinct item kept once (key -> (result, where))."""
    skipped = summary.trx_skipped if kind == "transactions" else summary.event_skipped
    for path in paths:
        file = len(problems.files)
        problems.files.append(path)
        try:
            for line, item, record, unreadable in file_items(path):
                where = (file, line, item)
                if unreadable is not None:
                    problems.add(where, unreadable)
                    continue
                try:
                    found = convert(record)
                except ValueError as error:
                    problems.add(where, str(error))
                    continue
                key = found.key if isinstance(found, Skipped) else (found.tx_hash, found.event_index)
                if key and key in kept:
                    earlier, at = kept[key]
                    if earlier != found:
                        problems.add(where, f"the same {'transaction' if kind == 'transactions' else 'event'} as "
                                            f"{_place(problems, at)}, with other values")
                    summary.duplicates += 1
                    continue
                if key:
                    kept[key] = (found, where)
                setattr(summary, kind, getattr(summary, kind) + 1)
                if isinstance(found, Skipped):
                    skipped[found.reason] = skipped.get(found.reason, 0) + 1
        except (OSError, EOFError) as error:  # a damaged .gz, an unreadable file
            raise InputError(str(path), [Problem(None, f"cannot be read: {error}")]) from None
        summary.files_read += 1
        progress.advance(1)


def _place(problems: _Problems, where: Where) -> str:
    file, line, item = where
    return f"{problems.files[file]}" + (f":{line}" if line else "") + (f" item {item}" if item else "")


def _rows(moves: list[tuple[Move, Where]], decimals: dict[str, int | None], *, problems: _Problems,
          summary: Summary) -> list[tuple[Move, str, Where]]:
    """The transfers with their amount text, in chain order as far as known; blocks' times checked to agree."""
    times: dict[int, tuple[int, Where]] = {}
    out = []
    for move, where in moves:
        stamp, at = times.setdefault(move.block_number, (move.timestamp_ms, where))
        if stamp != move.timestamp_ms:
            problems.add(where, f"block_timestamp {move.timestamp_ms} differs from the {stamp} given for block "
                                f"{move.block_number} at {_place(problems, at)}")
        if move.asset == TRX:
            out.append((move, scaled(move.raw, TRX_DECIMALS, trim=True), where))
            summary.trx_transfers += 1
        elif decimals.get(move.asset) is None:
            summary.event_skipped["no decimals"] = summary.event_skipped.get("no decimals", 0) + 1
        else:
            out.append((move, scaled(move.raw, decimals[move.asset], trim=False), where))
            summary.token_transfers += 1
    out.sort(key=lambda row: (row[0].block_number, row[0].tx_hash, row[0].event_index))
    return out


def _table(rows: list[tuple[Move, str, Where]], prices: dict[tuple[str, date], Decimal], *,
           problems: _Problems) -> pa.Table:
    """The rows as the transfers format: numbered 0, 1, 2... in each block, priced (exact text; null without)."""
    positions, block, count = [], None, 0
    for move, _, where in rows:
        count = count + 1 if move.block_number == block else 0
        block = move.block_number
        if count == MAX_POSITION:
            problems.add(where, f"block {block} holds more than {MAX_POSITION:,} transfers (the transfers format's "
                                f"limit)")
        positions.append(count)
    usd: list[str | None] = []
    for at in range(0, len(rows), PRICE_SLICE):  # graph.ingest.priced, a slice at a time
        part = rows[at:at + PRICE_SLICE]
        if not prices:
            usd += [None] * len(part)
            continue
        found = priced([Row("", 0, 0, m.timestamp_ms // 1000, "", "", m.asset, Decimal(a), None)
                        for m, a, _ in part], prices)
        usd += [None if r.usd_value is None else format(r.usd_value, "f") for r in found]
    moves = [m for m, _, _ in rows]
    columns = [[m.tx_hash for m in moves], [m.block_number for m in moves], positions,
               [m.timestamp_ms for m in moves], [m.from_address for m in moves], [m.to_address for m in moves],
               [m.asset for m in moves], [a for _, a, _ in rows], usd, [CHAIN] * len(rows)]
    return pa.table([pa.array(c, f.type) for c, f in zip(columns, OUTPUT_SCHEMA)], schema=OUTPUT_SCHEMA)


def import_tron(out: Path, *, trx: Path | None = None, trc20: Path | None = None,
                tokens: dict[str, int | None] | None = None, prices: dict[tuple[str, date], Decimal] | None = None,
                progress: Progress | None = None) -> Summary:
    """Convert TronGrid exports (TRX transactions and/or TRC-20 Transfer events) into transfers at `out`.

    `tokens` (address -> decimals, None: unknown) adds to and overrides graph.trongrid.KNOWN_TOKENS.
    """
    if trx is None and trc20 is None:
        raise GraphError("give --trx (account transactions) or --trc20 (TRC-20 Transfer events), or both")
    kind = output_kind(out)
    progress = progress or Quiet()
    inputs = [(name, export_files(path), convert) for name, path, convert in
              (("transactions", trx, transaction_item), ("events", trc20, event_item)) if path is not None]
    problems, summary, kept = _Problems(), Summary(), {}
    for name, paths, convert in inputs:
        progress.stage(f"reading {'TRX transactions' if name == 'transactions' else 'TRC-20 events'}",
                       total=len(paths))
        _read(paths, convert, kept=kept, problems=problems, progress=progress, summary=summary, kind=name)
    if problems.total:
        raise problems.error()
    moves = [(found, where) for found, where in kept.values() if isinstance(found, Move)]
    del kept
    rows = _rows(moves, {**KNOWN_TOKENS, **(tokens or {})}, problems=problems, summary=summary)
    table = _table(rows, prices or {}, problems=problems)
    if problems.total:
        raise problems.error()
    summary.transfers, summary.unpriced = table.num_rows, table.column("usd_value").null_count
    if table.num_rows:
        summary.first_block, summary.last_block = rows[0][0].block_number, rows[-1][0].block_number
    progress.stage("writing", total=table.num_rows)
    _write(table, out, kind=kind, progress=progress)
    return summary


def _write(table: pa.Table, out: Path, *, kind: str, progress: Progress) -> None:
    """The table at `out`, built in a hidden work folder and renamed into place; nothing left there on failure."""
    work = work_folder(out)
    sink: CsvSink | TransferSink | None = None
    try:
        sink = CsvSink(out, work) if kind == "csv" else TransferSink(out, work, OUTPUT_SCHEMA)
        blocks = table.column("block_number").to_pylist()
        start = 0
        while start < len(blocks):  # a dataset's partitions are written one at a time
            end = start
            partition = blocks[start] // PARTITION_BLOCKS
            while end < len(blocks) and blocks[end] // PARTITION_BLOCKS == partition:
                end += 1
            sink.write(table.slice(start, end - start))
            progress.advance(end - start)
            start = end
        sink.commit()
    finally:
        if isinstance(sink, CsvSink):
            sink.close()
        shutil.rmtree(work, ignore_errors=True)
