"""The file edge of `kyt import ethereum-etl`: input files read a batch at a time, the spill, the output.

An input is a CSV or Parquet file, or a directory of them (ethereum-etl's export_all
layout `start_block=X/end_block=Y/`, or hive-style `date=YYYY-MM-DD/`), walked in name
order. Pass 1 spills converted rows to Arrow files bucketed by block range; pass 2 reads
one bucket at a time. The output is built inside a work directory next to it and renamed
into place at the end, so nothing is ever half-written at the output's name.
"""

from __future__ import annotations

import csv
import gzip
import os
import shutil
from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.feather as feather
import pyarrow.parquet as pq

from graph.errors import GraphError, InputError, Problem

SPILL_BLOCKS = 1_000
"""Blocks per spill bucket: pass 2 holds one bucket's rows in memory at a time."""
PARTITION_BLOCKS = 100_000
"""Blocks per `block_range=N/` partition of a directory output (a multiple of SPILL_BLOCKS)."""
CSV_BLOCK_BYTES = 16 << 20
PARQUET_BATCH_ROWS = 131_072
ROW_GROUP_ROWS = 262_144
SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")


def _is_parquet(path: Path) -> bool:
    return path.name.lower().endswith((".parquet", ".pq"))


def input_files(path: Path, *, suffixes: tuple[str, ...] = SUFFIXES) -> list[Path]:
    """The data files of an input: the file itself, or every file with one of `suffixes` (CSV or Parquet unless
    told) under a directory, hidden and `_` folders aside, in name order."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InputError(str(path), [Problem(None, "no such file or directory")])
    found = sorted(p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(suffixes)
                   and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts))
    if not found:
        raise InputError(str(path), [Problem(None, f"holds no {', '.join(suffixes)} file")])
    return found


def _open_text(path: Path):
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    return opener(path, "rt", newline="", encoding="utf-8-sig")  # type: ignore[operator]


def column_names(path: Path) -> list[str]:
    """The columns of a file (the CSV header, or the Parquet schema); InputError if it cannot be read."""
    try:
        if _is_parquet(path):
            return pq.read_schema(path).names
        with _open_text(path) as handle:
            header = next(csv.reader(handle), None)
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputError(str(path), [Problem(None, f"cannot be read: {error}")]) from None
    if not header:
        raise InputError(str(path), [Problem(1, "the file is empty (no header line)")])
    return [name.strip() for name in header]


def batches(path: Path, columns: list[str], ragged: list[int]) -> Iterator[tuple[int, pa.RecordBatch]]:
    """(first row index, batch) of the wanted columns, a bounded batch at a time (CSV columns as text).

    CSV lines with the wrong number of fields are skipped and counted into `ragged[0]`.
    """
    try:
        if _is_parquet(path):
            at = 0
            for batch in pq.ParquetFile(path).iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=columns):
                yield at, batch
                at += batch.num_rows
            return
        header = column_names(path)

        def skip(row: object) -> str:
            ragged[0] += 1
            return "skip"

        reader = pcsv.open_csv(
            path,
            read_options=pcsv.ReadOptions(block_size=CSV_BLOCK_BYTES, column_names=header, skip_rows=1),
            parse_options=pcsv.ParseOptions(invalid_row_handler=skip),
            convert_options=pcsv.ConvertOptions(column_types={c: pa.string() for c in columns},
                                                 include_columns=columns, strings_can_be_null=False))
        at = 0
        for batch in reader:
            yield at, batch
            at += batch.num_rows
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as error:
        raise InputError(str(path), [Problem(None, f"cannot be read: {error}")]) from None


def line_numbers(path: Path, rows: list[int]) -> tuple[dict[int, int], list[int]]:
    """Map data-row indices of a file to its line numbers (the header is line 1; Parquet: row + 1).

    For CSV the file is read again, so that blank lines and lines with the wrong number of
    fields (which `batches` skips) are counted right; those lines are listed second.
    """
    if _is_parquet(path):
        return {r: r + 1 for r in rows}, []
    wanted, found, ragged = set(rows), {}, []
    width = len(column_names(path))
    with _open_text(path) as handle:
        reader = csv.reader(handle)
        next(reader, None)
        index, line = 0, reader.line_num + 1
        for record in reader:
            if record:
                if len(record) != width:
                    ragged.append(line)
                else:
                    if index in wanted:
                        found[index] = line
                    index += 1
            line = reader.line_num + 1
    return found, ragged


class Spill:
    """Converted rows on disk, by kind and by bucket of `blocks` blocks (SPILL_BLOCKS); read back a bucket at a time."""

    def __init__(self, folder: Path, blocks: int = SPILL_BLOCKS) -> None:
        self.folder, self.blocks = folder, blocks
        self.files: dict[str, dict[int, list[Path]]] = {}
        self._count = 0

    def write(self, kind: str, table: pa.Table) -> None:
        """Append rows (with a `block_number` column) to the buckets of their blocks."""
        if not table.num_rows:
            return
        bucket = table.column("block_number").to_numpy() // self.blocks
        if bucket[0] == bucket[-1] and (bucket == bucket[0]).all():
            parts = [(int(bucket[0]), table)]
        else:
            order = np.argsort(bucket, kind="stable")
            ordered = bucket[order]
            cut = np.flatnonzero(np.diff(ordered)) + 1
            parts = [(int(ordered[s]), table.take(pa.array(order[s:e])))
                     for s, e in zip(np.r_[0, cut], np.r_[cut, len(order)])]
        for number, part in parts:
            target = self.folder / kind / f"{number}" / f"{self._count}.arrow"
            self._count += 1
            target.parent.mkdir(parents=True, exist_ok=True)
            feather.write_feather(part, target, compression="lz4")
            self.files.setdefault(kind, {}).setdefault(number, []).append(target)

    def buckets(self) -> list[int]:
        """Every bucket holding rows of any kind, in block order."""
        return sorted({b for by_bucket in self.files.values() for b in by_bucket})

    def read(self, kind: str, bucket: int) -> pa.Table | None:
        """One bucket's rows of a kind (None when there are none), its files deleted once read."""
        paths = self.files.get(kind, {}).pop(bucket, [])
        if not paths:
            return None
        table = pa.concat_tables([feather.read_table(p, memory_map=False) for p in paths])
        for p in paths:
            p.unlink()
        return table


class TransferSink:
    """The output being built: one Parquet file, or a dataset of `block_range=N/part-0.parquet` partitions.

    Tables must come in block order; they are written in row groups of about ROW_GROUP_ROWS.
    """

    def __init__(self, out: Path, work: Path, schema: pa.Schema) -> None:
        self.out, self.schema = out, schema
        self.single = out.suffix.lower() == ".parquet"
        self.result = work / ("result.parquet" if self.single else "result")
        if not self.single:
            self.result.mkdir()
        self._writer: pq.ParquetWriter | None = None
        self._partition: int | None = None
        self._waiting: list[pa.Table] = []
        self.files = 0

    def write(self, table: pa.Table) -> None:
        """Add rows of one or more blocks that follow the rows written before."""
        if not table.num_rows:
            return
        if not self.single:
            first, last = pc.min_max(table.column("block_number")).values()
            partition = first.as_py() // PARTITION_BLOCKS * PARTITION_BLOCKS
            if last.as_py() >= partition + PARTITION_BLOCKS:
                raise GraphError("internal: a bucket spans two partitions")
            if partition != self._partition:
                self._close()
                folder = self.result / f"block_range={partition}"
                folder.mkdir()
                self._partition = partition
                self._writer = pq.ParquetWriter(folder / "part-0.parquet", self.schema)
                self.files += 1
        self._waiting.append(table)
        if sum(t.num_rows for t in self._waiting) >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        if not self._waiting:
            return
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.result, self.schema)
            self.files += 1
        self._writer.write_table(pa.concat_tables(self._waiting), row_group_size=1 << 30)
        self._waiting = []

    def _close(self) -> None:
        self._flush()
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def commit(self) -> None:
        """Finish the files and put the result at the output's name (replacing a file there)."""
        if self.single and self._writer is None and not self._waiting:
            self._waiting.append(self.schema.empty_table())
        self._close()
        for folder in self.result.iterdir() if not self.single else []:
            _fsync(folder / "part-0.parquet")
        if self.single:
            _fsync(self.result)
        os.replace(self.result, self.out)


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def work_folder(out: Path) -> Path:
    """A new hidden folder next to the output for the spill and the output being built.

    GraphError when the output's folder does not exist or a non-empty directory is in the way.
    """
    if not out.parent.is_dir():
        raise GraphError(f"{out.parent} does not exist: create it first")
    if out.is_dir() and any(out.iterdir()):
        raise GraphError(f"{out} is a directory that is not empty: choose a new output")
    if out.is_dir() and out.suffix.lower() == ".parquet":
        raise GraphError(f"{out} is a directory, not a file to write")
    work = out.parent / f".{out.name}.importing-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    return work


def output_kind(out: Path) -> str:
    """What an import writes at `out`: 'csv', 'parquet' or 'dataset' (a directory); GraphError for another name.

    >>> output_kind(Path("t.csv.gz")), output_kind(Path("t.parquet")), output_kind(Path("transfers"))
    ('csv', 'parquet', 'dataset')
    """
    name = out.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        return "csv"
    if name.endswith(".parquet"):
        return "parquet"
    if out.suffix == "":
        return "dataset"
    raise GraphError(f"--out {out}: a .parquet or .csv (.csv.gz) file, or a directory (no suffix) for a "
                     f"partitioned dataset")


class Quiet:
    """Progress that shows nothing (an import run from code)."""

    def stage(self, name: str, total: int | None = None) -> None:
        pass

    def advance(self, amount: int) -> None:
        pass

