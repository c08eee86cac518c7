"""`kyt import ethereum-etl`: an ethereum-etl export turned into a transfers Parquet file or dataset.

Pass 1 reads each input a batch at a time, checks every row and spills the rows to disk
by block range; pass 2 finishes one block range at a time (see graph.etl_convert) and
appends it to the output. Memory is bounded by a batch and a range, not by the export.
Any bad row stops the import before the output appears: every bad line is reported
(FILE:LINE, up to 50) and nothing is written.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Callable, Protocol

import numpy as np
import pyarrow as pa

from graph import etl_convert as convert
from graph.errors import GraphError, InputError, Problem
from graph.etl_files import (SPILL_BLOCKS, Quiet, Spill, TransferSink, batches, column_names, input_files, line_numbers,
                             work_folder)

MAX_PROBLEMS = 50
_KINDS = {"transactions": (convert.TRANSACTION_COLUMNS, "--transactions"),
          "token_transfers": (convert.TOKEN_TRANSFER_COLUMNS, "--token-transfers"),
          "receipts": (convert.RECEIPT_COLUMNS, "--receipts"), "blocks": (convert.BLOCK_COLUMNS, "--blocks"),
          "tokens": (convert.TOKEN_COLUMNS, "--tokens")}


class Progress(Protocol):
    """Where a long import reports how far it is (kyt.batch.Progress has this shape)."""

    def stage(self, name: str, total: int | None = None) -> None: ...

    def advance(self, amount: int) -> None: ...


class ExportRejected(InputError):
    """Bad lines in one or more files of an export; each file's InputError lists them."""

    def __init__(self, errors: list[InputError]) -> None:
        super().__init__(errors[0].path, errors[0].problems, errors[0].more)
        self.errors = errors

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)


@dataclass(frozen=True)
class Export:
    """The files of an ethereum-etl export (each a file or a directory of partitions); None: not given."""

    transactions: Path | None = None
    token_transfers: Path | None = None
    tokens: Path | None = None
    receipts: Path | None = None
    blocks: Path | None = None

    def given(self) -> dict[str, Path]:
        return {kind: path for kind, path in vars(self).items() if path is not None}


@dataclass
class Summary:
    """What an import read and wrote, and what it left out."""

    rows_read: dict[str, int] = field(default_factory=dict)
    counts: convert.Counts = field(default_factory=convert.Counts)
    transfers: int = 0
    first_block: int | None = None
    last_block: int | None = None
    files: int = 0


class _Problems:
    """Bad rows across files as (file id, row, message): the first MAX_PROBLEMS kept, all counted."""

    def __init__(self, files: list[Path]) -> None:
        self.files, self.kept, self.total = files, [], 0
        self.ragged: dict[int, int] = {}

    def add_checks(self, file: int, offset: int, checks: list) -> None:
        bad = sorted((int(i), c) for c in checks for i in c.bad[:MAX_PROBLEMS])
        self.total += sum(len(c.bad) for c in checks)
        room = max(0, MAX_PROBLEMS - len(self.kept))
        self.kept += [(file, offset + i, c.describe(i)) for i, c in bad[:room]]

    def add_found(self, found: convert.Found) -> None:
        self.total += found.total
        self.kept += found.kept[:max(0, MAX_PROBLEMS - len(self.kept))]

    def error(self) -> ExportRejected:
        """Every file's bad lines, in file order, as one error."""
        by_file: dict[int, list[tuple[int, str]]] = {}
        for file, row, message in self.kept:
            by_file.setdefault(file, []).append((row, message))
        errors = []
        for file in sorted(set(by_file) | set(self.ragged)):
            lines, ragged = line_numbers(self.files[file], [row for row, _ in by_file.get(file, [])])
            width = len(column_names(self.files[file]))
            problems = [Problem(line, f"expected {width} fields like the header") for line in ragged]
            problems += [Problem(lines.get(row), message) for row, message in by_file.get(file, [])]
            problems.sort(key=lambda p: p.line or 0)
            errors.append(InputError(str(self.files[file]), problems[:MAX_PROBLEMS]))
        shown = sum(len(e.problems) for e in errors)
        errors[-1].more = max(0, self.total + sum(self.ragged.values()) - shown)
        return ExportRejected(errors)


def _check_request(export: Export, out: Path) -> None:
    """GraphError when the inputs given cannot make transfers."""
    if export.transactions is None and export.token_transfers is None:
        raise GraphError("give --transactions, --token-transfers or both")
    if (export.token_transfers is None) != (export.tokens is None):
        raise GraphError("give --tokens with --token-transfers: token amounts need their decimals")
    if export.token_transfers is not None and export.transactions is None and export.blocks is None:
        raise GraphError("token transfers carry no time: give --blocks (or --transactions)")
    if out.suffix.lower() not in (".parquet", ""):
        raise GraphError(f"--out {out}: a .parquet file or a directory (no suffix) for a partitioned dataset")


def _files(export: Export) -> tuple[list[Path], dict[str, list[int]], dict[int, list[str]]]:
    """Every data file (ids into one list), each kind's file ids, and the columns to read from each.

    An ExportRejected names every file that lacks a needed column.
    """
    files, by_kind, wanted, errors = [], {}, {}, []
    for kind, path in export.given().items():
        needed = list(_KINDS[kind][0])
        if kind == "transactions" and export.blocks is None:
            needed.append("block_timestamp")
        by_kind[kind] = []
        for file in input_files(path):
            names = column_names(file)
            missing = [c for c in needed if c not in names]
            if missing:
                errors.append(InputError(str(file), [Problem(1, f"missing column{'s' if len(missing) > 1 else ''}: "
                                                                f"{', '.join(missing)} ({_KINDS[kind][1]})")]))
            by_kind[kind].append(len(files))
            wanted[len(files)] = needed
            files.append(file)
    if errors:
        raise ExportRejected(errors)
    return files, by_kind, wanted


def _read(kind: str, ids: list[int], files: list[Path], *, wanted: dict[int, list[str]], problems: _Problems,
          keep: Callable[[pa.Table], None], convert_batch: Callable, progress: Progress, summary: Summary) -> None:
    """Pass 1 over one input: check each batch, and hand its rows (with file id and row) to `keep` while all is well."""
    progress.stage(f"reading {kind.replace('_', ' ')}")
    for file in ids:
        ragged = [0]
        for offset, batch in batches(files[file], wanted[file], ragged):
            converted = convert_batch(batch)
            problems.add_checks(file, offset, converted.checks)
            summary.rows_read[kind] = summary.rows_read.get(kind, 0) + batch.num_rows
            if not problems.total and not problems.ragged:
                table = converted.table
                keep(table.append_column("file", pa.array(np.full(len(table), file, dtype=np.int32)))
                     .append_column("row", pa.array(np.arange(offset, offset + len(table), dtype=np.int64))))
            progress.advance(batch.num_rows)
        if ragged[0]:
            problems.ragged[file] = ragged[0]


def _decimals(table: pa.Table, problems: _Problems) -> dict[str, int]:
    """Token address -> decimals (-1 for none); a token listed twice with different decimals is a bad line."""
    found: dict[str, int] = {}
    seen = convert.Found()
    tokens, places = table.column("token").to_pylist(), table.column("decimals").to_pylist()
    clashes = []
    for i, (token, value) in enumerate(zip(tokens, places)):
        if found.setdefault(token, value) != value:
            clashes.append(i)
    seen.add(table, np.array(clashes, dtype=np.int64),
             lambda i: f"token {tokens[i]} is listed again with other decimals ({places[i]}, first {found[tokens[i]]})")
    problems.add_found(seen)
    return found


def import_export(export: Export, out: Path, *, chain: str = "ethereum",
                  prices: dict[tuple[str, date], Decimal] | None = None,
                  progress: Progress | None = None) -> Summary:
    """Convert an ethereum-etl export into transfers at `out` (a .parquet file, or a directory of partitions)."""
    _check_request(export, out)
    if not chain or chain != chain.strip() or "," in chain:
        raise GraphError(f"--chain {chain!r}: a name without spaces or commas")
    progress = progress or Quiet()
    files, by_kind, wanted = _files(export)
    problems, summary = _Problems(files), Summary()
    tokens: list[pa.Table] = []
    if export.tokens is not None:
        _read("tokens", by_kind["tokens"], files, wanted=wanted, problems=problems, keep=tokens.append,
              convert_batch=convert.tokens, progress=progress, summary=summary)
    decimals = _decimals(pa.concat_tables(tokens), problems) if tokens else {}
    work = work_folder(out)
    try:
        spill = Spill(work / "spill")
        readers = {"transactions": lambda b: convert.transactions(b, with_times=export.blocks is None),
                   "token_transfers": convert.token_transfers, "receipts": convert.receipts,
                   "blocks": convert.blocks}
        for kind, read in readers.items():
            if kind in by_kind:
                _read(kind, by_kind[kind], files, wanted=wanted, problems=problems,
                      keep=lambda table, kind=kind: spill.write(kind, table), convert_batch=read, progress=progress,
                      summary=summary)
        if problems.total or problems.ragged:
            raise problems.error()
        sink = TransferSink(out, work, convert.OUTPUT_SCHEMA)
        _finish(spill, sink, frozenset(by_kind), decimals=decimals, prices=prices or {}, chain=chain,
                problems=problems, progress=progress, summary=summary)
        if problems.total:
            raise problems.error()
        sink.commit()
        summary.files = sink.files
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary


def _finish(spill: Spill, sink: TransferSink, given: frozenset[str], *, decimals: dict[str, int],
            prices: dict[tuple[str, date], Decimal], chain: str, problems: _Problems, progress: Progress,
            summary: Summary) -> None:
    """Pass 2: each block range's transfers, in block order, into the sink (nothing more once a problem is found)."""
    ranges = spill.buckets()
    progress.stage("converting", total=len(ranges))
    for bucket in ranges:
        part = convert.Bucket(bucket * SPILL_BLOCKS, SPILL_BLOCKS, given=given,
                              **{kind: spill.read(kind, bucket) for kind in given if kind != "tokens"})
        found = convert.Found(limit=MAX_PROBLEMS)
        table = convert.finish(part, decimals=decimals, prices=prices, chain=chain, counts=summary.counts,
                               found=found)
        problems.add_found(found)
        if not problems.total and table.num_rows:
            sink.write(table)
            summary.transfers += table.num_rows
            blocks = table.column("block_number")
            summary.first_block = blocks[0].as_py() if summary.first_block is None else summary.first_block
            summary.last_block = blocks[-1].as_py()
        progress.advance(1)
