"""`kyt import bitcoin-etl`: bitcoin-etl's transactions export turned into a transfers file (chain `bitcoin`).

Pass 1 reads the JSON lines a file at a time, checks each transaction, splits it into
transfers (graph.bitcoin_etl, graph.utxo) and spills them to disk by block range; pass 2
finishes one block range at a time (order, positions, prices) and appends it to the
output. The output is built in a hidden folder next to it and renamed into place at the
end; any bad line stops the import with nothing written and is reported as FILE:LINE.
"""

from __future__ import annotations

import csv
import gzip
import os
import shutil
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from graph.bitcoin_etl import ASSET, CHAIN, read_transaction
from graph.errors import GraphError, InputError, Problem
from graph.etl_convert import OUTPUT_SCHEMA, scaled_text
from graph.etl_files import Quiet, input_files, output_kind, Spill, TransferSink, work_folder
from graph.etl_import import ExportRejected, Progress
from graph.ingest import Row, priced

MAX_PROBLEMS = 50
BATCH_TRANSACTIONS = 65_536
"""Transactions checked and converted before their transfers are spilled to disk."""
MAX_POSITION = 2**20
"""Transfers a block may hold: positions are below this (docs/formats.md)."""
BUCKET_BLOCKS = 100
"""Blocks per spill bucket: pass 2 holds one bucket's transfers at a time (a few hundred thousand, today)."""
PRICE_SLICE = 65_536
SUFFIXES = (".json", ".json.gz", ".jsonl", ".jsonl.gz")
_TRANSFERS = pa.schema([("block_number", pa.int64()), ("tx_index", pa.int64()), ("seq", pa.int64()),
                        ("tx_hash", pa.string()), ("from_address", pa.string()), ("to_address", pa.string()),
                        ("satoshis", pa.int64()), ("file", pa.int32()), ("line", pa.int64())])
_TRANSACTIONS = pa.schema([("block_number", pa.int64()), ("tx_index", pa.int64()), ("timestamp", pa.int64()),
                           ("file", pa.int32()), ("line", pa.int64())])


@dataclass
class Summary:
    """What an import read and wrote, and what it could not attribute."""

    transactions: int = 0
    coinbase: int = 0
    transfers: int = 0
    undecodable_outputs: int = 0
    multisig_outputs: int = 0
    unattributed_inputs: int = 0
    unpriced: int = 0
    first_block: int | None = None
    last_block: int | None = None
    files_read: int = 0


@dataclass
class _Problems:
    files: list[Path]
    kept: list[tuple[int, int, str]] = field(default_factory=list)
    total: int = 0

    def add(self, file: int, line: int, message: str) -> None:
        self.total += 1
        if len(self.kept) < MAX_PROBLEMS:
            self.kept.append((file, line, message))

    def error(self) -> ExportRejected:
        """Every file's bad lines, in file and line order, as one error."""
        errors = []
        for file in sorted({f for f, _, _ in self.kept}):
            lines = sorted((line, message) for f, line, message in self.kept if f == file)
            errors.append(InputError(str(self.files[file]), [Problem(line, message) for line, message in lines]))
        errors[-1].more = self.total - len(self.kept)
        return ExportRejected(errors)


def export_files(path: Path) -> list[Path]:
    """The JSON-lines files of an export: the file itself, or every .json(l)(.gz) file under a directory.

    In a directory, `transactions_X.json` is skipped when `enriched_transactions_X.json` is
    beside it (export_all --enrich writes both; only the enriched one has input values).
    """
    found = input_files(path, suffixes=SUFFIXES)
    return found if path.is_file() else [p for p in found if not (p.parent / f"enriched_{p.name}").is_file()]


def _lines(path: Path):
    opener = gzip.open if _gzipped(path) else open
    return opener(path, "rb")  # type: ignore[operator]


class _Batch:
    """Converted rows waiting to be spilled: transfers and the transactions' places and times."""

    def __init__(self) -> None:
        self.transfers: list[tuple] = []
        self.transactions: list[tuple] = []

    def add(self, tx, file: int, line: int) -> None:
        self.transactions.append((tx.block_number, tx.index, tx.timestamp, file, line))
        self.transfers += [(tx.block_number, tx.index, seq, tx.tx_hash, flow.from_address, flow.to_address,
                            flow.satoshis, file, line) for seq, flow in enumerate(tx.flows)]

    def spill(self, spill: Spill) -> None:
        for kind, rows, schema in (("transactions", self.transactions, _TRANSACTIONS),
                                   ("transfers", self.transfers, _TRANSFERS)):
            if rows:
                columns = list(zip(*rows))
                spill.write(kind, pa.table([pa.array(c, f.type) for c, f in zip(columns, schema)], schema=schema))
        self.transfers, self.transactions = [], []


def _read(files: list[Path], spill: Spill, *, problems: _Problems, progress: Progress, summary: Summary) -> None:
    """Pass 1: every line checked and converted; the transfers spilled while no line is bad."""
    progress.stage("reading transactions")
    batch = _Batch()
    for file, path in enumerate(files):
        try:
            with _lines(path) as handle:
                for line, text in enumerate(handle, start=1):
                    if text.strip():
                        _convert_line(text, (file, line), batch, problems=problems, summary=summary)
                    if len(batch.transactions) >= BATCH_TRANSACTIONS:
                        progress.advance(len(batch.transactions))
                        batch.spill(spill)
        except (OSError, EOFError) as error:  # a damaged .gz, an unreadable file
            raise InputError(str(path), [Problem(None, f"cannot be read: {error}")]) from None
        summary.files_read += 1
    progress.advance(len(batch.transactions))
    if not problems.total:
        batch.spill(spill)


def _convert_line(text: bytes, where: tuple[int, int], batch: _Batch, *, problems: _Problems,
                  summary: Summary) -> None:
    """One line (file id, line number) checked and counted; its rows added to the batch while no line is bad."""
    try:
        tx = read_transaction(orjson.loads(text))
    except orjson.JSONDecodeError as error:
        problems.add(*where, f"not JSON: {error}")
        return
    except ValueError as error:
        problems.add(*where, str(error))
        return
    summary.transactions += 1
    summary.coinbase += tx.coinbase
    summary.undecodable_outputs += tx.undecodable_outputs
    summary.multisig_outputs += tx.multisig_outputs
    summary.unattributed_inputs += tx.unattributed_inputs
    if not problems.total:
        batch.add(tx, *where)


def _block_times(txs: pa.Table, problems: _Problems) -> dict[int, int]:
    """Each block's time; a second transaction at a block's place, or with another time, is a bad line."""
    order = np.lexsort((txs.column("line").to_numpy(), txs.column("file").to_numpy(),
                        txs.column("tx_index").to_numpy(), txs.column("block_number").to_numpy()))
    blocks, places = txs.column("block_number").to_numpy()[order], txs.column("tx_index").to_numpy()[order]
    stamps, files, lines = (txs.column(c).to_numpy()[order] for c in ("timestamp", "file", "line"))
    times: dict[int, int] = {}
    for i in range(len(order)):
        block, stamp = int(blocks[i]), int(stamps[i])
        if i and blocks[i] == blocks[i - 1] and places[i] == places[i - 1]:
            problems.add(int(files[i]), int(lines[i]), f"block {block} has another transaction at index {places[i]} "
                                                       f"(line {lines[i - 1]} of {problems.files[files[i - 1]]})")
        elif times.setdefault(block, stamp) != stamp:
            problems.add(int(files[i]), int(lines[i]), f"block_timestamp {stamp} differs from the {times[block]} "
                                                       f"of another transaction of block {block}")
    return times


def _finish(moves: pa.Table, times: dict[int, int], *, prices: dict[tuple[str, date], Decimal],
            problems: _Problems, summary: Summary) -> pa.Table:
    """One block range's transfers in chain order, numbered per block, timed and priced."""
    moves = moves.sort_by([("block_number", "ascending"), ("tx_index", "ascending"), ("seq", "ascending")])
    block = moves.column("block_number").to_numpy()
    start = np.r_[True, block[1:] != block[:-1]] if len(block) else np.empty(0, dtype=bool)
    index = np.arange(len(block))
    position = index - np.maximum.accumulate(np.where(start, index, 0))
    for i in np.flatnonzero(position == MAX_POSITION):
        problems.add(int(moves.column("file")[i].as_py()), int(moves.column("line")[i].as_py()),
                     f"block {block[i]} holds more than {MAX_POSITION:,} transfers (the transfers format's limit)")
    known = np.array(sorted(times), dtype=np.int64)
    stamps = np.array([times[b] for b in known.tolist()], dtype=np.int64)[np.searchsorted(known, block)]
    amount = scaled_text(pc.cast(moves.column("satoshis"), pa.string()).combine_chunks(), 8, trim=True)
    usd = _usd(amount, stamps, prices) if prices else pa.nulls(len(block), pa.string())
    summary.unpriced += usd.null_count
    return pa.table([moves.column("tx_hash"), moves.column("block_number"), pa.array(position, pa.int64()),
                     pa.array(stamps * 1000, pa.timestamp("ms", tz="UTC")), moves.column("from_address"),
                     moves.column("to_address"), pa.nulls(len(block), pa.string()).fill_null(ASSET), amount, usd,
                     pa.nulls(len(block), pa.string()).fill_null(CHAIN)], schema=OUTPUT_SCHEMA)


def _usd(amount: pa.Array, stamps: np.ndarray, prices: dict[tuple[str, date], Decimal]) -> pa.Array:
    """amount x BTC's price on each transfer's UTC day (graph.ingest.priced), exact text; null without a price."""
    out: list[str | None] = []
    for at in range(0, len(amount), PRICE_SLICE):
        texts, times = amount[at:at + PRICE_SLICE].to_pylist(), stamps[at:at + PRICE_SLICE].tolist()
        rows = priced([Row("", 0, 0, t, "", "", ASSET, Decimal(a), None) for t, a in zip(times, texts)], prices)
        out += [None if row.usd_value is None else format(row.usd_value, "f") for row in rows]
    return pa.array(out, pa.string())


class CsvSink:
    """A CSV (or .csv.gz) output being built in the work folder; rows must come in block order."""

    def __init__(self, out: Path, work: Path) -> None:
        self.out, self.result, self.files = out, work / out.name, 1
        self._handle = gzip.open(self.result, "wt", newline="", encoding="utf-8") if _gzipped(out) \
            else self.result.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._handle)
        self._writer.writerow(OUTPUT_SCHEMA.names)

    def write(self, table: pa.Table) -> None:
        """Add rows that follow the rows written before (times as ISO-8601 UTC, an unknown usd_value empty)."""
        for batch in table.to_batches(max_chunksize=PRICE_SLICE):
            columns = [batch.column(name) for name in OUTPUT_SCHEMA.names]
            columns[3] = pc.strftime(pc.cast(columns[3], pa.timestamp("s", tz="UTC")), format="%Y-%m-%dT%H:%M:%SZ")
            for row in zip(*(column.to_pylist() for column in columns)):
                self._writer.writerow(["" if cell is None else cell for cell in row])

    def commit(self) -> None:
        """Finish the file and put it at the output's name."""
        self._handle.close()
        with self.result.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(self.result, self.out)

    def close(self) -> None:
        """Give up the file (the work folder is removed with it)."""
        self._handle.close()


def _gzipped(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def import_transactions(source: Path, out: Path, *, prices: dict[tuple[str, date], Decimal] | None = None,
                        progress: Progress | None = None) -> Summary:
    """Convert a bitcoin-etl transactions export (a file or a directory) into transfers at `out`."""
    kind = output_kind(out)
    progress = progress or Quiet()
    files = export_files(source)
    problems, summary = _Problems(files), Summary()
    work = work_folder(out)
    sink: CsvSink | TransferSink | None = None
    try:
        spill = Spill(work / "spill", BUCKET_BLOCKS)
        _read(files, spill, problems=problems, progress=progress, summary=summary)
        if problems.total:
            raise problems.error()
        sink = CsvSink(out, work) if kind == "csv" else TransferSink(out, work, OUTPUT_SCHEMA)
        buckets = spill.buckets()
        progress.stage("converting", total=len(buckets))
        for bucket in buckets:
            txs, moves = spill.read("transactions", bucket), spill.read("transfers", bucket)
            times = _block_times(txs, problems)
            if moves is not None and not problems.total:
                _write(_finish(moves, times, prices=prices or {}, problems=problems, summary=summary), sink,
                       problems=problems, summary=summary)
            progress.advance(1)
        if problems.total:
            raise problems.error()
        sink.commit()
    finally:
        if isinstance(sink, CsvSink):
            sink.close()
        shutil.rmtree(work, ignore_errors=True)
    return summary


def _write(table: pa.Table, sink: CsvSink | TransferSink, *, problems: _Problems, summary: Summary) -> None:
    """A block range's transfers appended to the output, while no line is bad."""
    if problems.total or not table.num_rows:
        return
    sink.write(table)
    summary.transfers += table.num_rows
    if summary.first_block is None:
        summary.first_block = table.column("block_number")[0].as_py()
    summary.last_block = table.column("block_number")[-1].as_py()
