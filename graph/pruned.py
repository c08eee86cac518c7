"""The pruned scan: from a transfers table larger than memory, read only the transfers into given addresses.

Hop 2 of a deposit from sender s uses only the transfers into s (graph/exposure.py), so the
transfers into the deposits' senders are all the in-memory engine needs to score them
exactly. The table is a CSV or Parquet file or a directory of Parquet files (hive
partitions such as `block_range=N/` included). Files are read one at a time: first the
receiver column, then, for the Parquet row groups holding a match, the other columns; memory
is bounded by the matched rows plus one file's row group.

The rows read are checked like `graph.readers.read_transfers` (bad rows reported as
FILE:ROW, or FILE:LINE for CSV, nothing returned); rows that are skipped are not checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from graph import fields, readers, wallet_keys
from graph.errors import InputError, Problem
from graph.formats import CHAIN_COLUMN, TRANSFER_COLUMNS
from graph.model import Transfers

MAX_PROBLEMS = 50


@dataclass(frozen=True)
class TableSize:
    """How big a transfers table is: rows (None for CSV), bytes on disk, files."""

    rows: int | None
    bytes: int
    files: int


def table_files(path: Path) -> list[Path]:
    """The data files of a table: the file itself, or a directory's Parquet files in path order."""
    if not path.exists():
        raise InputError(str(path), [Problem(None, "no such file or directory")])
    if path.is_file():
        return [path]
    found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in (".parquet", ".pq")
                   and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts))
    if not found:
        raise InputError(str(path), [Problem(None, "no Parquet files in this directory")])
    return found


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".pq")


def transfers_size(path: Path) -> TableSize:
    """The size of a transfers table, from the Parquet footers (no data read)."""
    files = table_files(Path(path))
    rows: int | None = 0
    for file in files:
        if _is_parquet(file):
            rows += pq.ParquetFile(file).metadata.num_rows if rows is not None else 0
        else:
            rows = None
    return TableSize(rows, sum(f.stat().st_size for f in files), len(files))


def _normal(addresses: pa.Array) -> pa.Array:
    """Addresses lowercase, as `wallet_keys.spellings` gives the receivers wanted (exact keys come after)."""
    return pc.ascii_lower(fields.as_text(addresses))


COLUMNS = TRANSFER_COLUMNS + (CHAIN_COLUMN,)
"""The columns kept of each matching row; `chain` is optional (null when absent)."""


def _parquet_rows(file: Path, receivers: pa.Array) -> tuple[pa.Table, np.ndarray] | None:
    """The matching rows of one Parquet file (needed columns only) and their 0-based row numbers."""
    parquet = pq.ParquetFile(file)
    missing = [c for c in TRANSFER_COLUMNS if c not in parquet.schema_arrow.names]
    if missing:
        raise InputError(str(file), [Problem(1, f"missing column{'s' if len(missing) > 1 else ''}: "
                                                 + ", ".join(missing))])
    tables, rows, start = [], [], 0
    for group in range(parquet.num_row_groups):
        size = parquet.metadata.row_group(group).num_rows
        to = parquet.read_row_group(group, columns=["to_address"]).column(0).combine_chunks()
        hit = np.flatnonzero(fields.as_mask(pc.is_in(_normal(to), value_set=receivers)))
        if len(hit):
            names = [c for c in COLUMNS if c in parquet.schema_arrow.names]
            table = parquet.read_row_group(group, columns=names)
            tables.append(table.take(pa.array(hit)))
            rows.append(hit + start)
        start += size
    if not tables:
        return None
    return pa.concat_tables(tables), np.concatenate(rows)


def _csv_rows(file: Path, receivers: pa.Array) -> tuple[pa.Table, np.ndarray] | None:
    """The matching rows of a CSV file, streamed in blocks, and their line numbers less 2."""
    options = pcsv.ConvertOptions(column_types={c: pa.string() for c in COLUMNS}, include_columns=list(COLUMNS),
                                  include_missing_columns=True, strings_can_be_null=False)
    try:
        reader = pcsv.open_csv(file, read_options=pcsv.ReadOptions(block_size=1 << 24), convert_options=options)
    except (pa.ArrowInvalid, KeyError) as error:
        raise InputError(str(file), [Problem(1, f"cannot be read: {error}")]) from None
    tables, rows, start = [], [], 0
    for batch in reader:
        hit = np.flatnonzero(fields.as_mask(pc.is_in(_normal(batch.column("to_address")), value_set=receivers)))
        if len(hit):
            tables.append(pa.Table.from_batches([batch]).take(pa.array(hit)))
            rows.append(hit + start)
        start += batch.num_rows
    if not tables:
        return None
    return pa.concat_tables(tables), np.concatenate(rows)


def read_transfers_into(path: Path, receivers: pa.Array, *, progress=None) -> Transfers:
    """The transfers of the table at `path` whose receiver is one of `receivers` (wallet keys).

    `progress(n)` is called after each file with the number of files done.
    """
    wanted = pc.unique(pa.array(receivers, pa.string()))
    receivers = wallet_keys.spellings(wanted)
    parts, where = [], []
    for file in table_files(Path(path)):
        try:
            found = _parquet_rows(file, receivers) if _is_parquet(file) else _csv_rows(file, receivers)
        except (pa.ArrowInvalid, OSError) as error:
            raise InputError(str(file), [Problem(None, f"cannot be read: {error}")]) from None
        if found is not None:
            table = found[0]
            if CHAIN_COLUMN not in table.column_names:
                table = table.append_column(CHAIN_COLUMN, pa.nulls(table.num_rows, pa.string()))
            parts.append(table.select(list(COLUMNS)))
            where.append((file, found[1]))
        if progress:
            progress(1)
    if not parts:
        return no_transfers()
    found = _parse(pa.concat_tables(parts, promote_options="permissive").combine_chunks(), where)
    return found.take(np.flatnonzero(fields.as_mask(pc.is_in(found.to_address, value_set=wanted))))


def no_transfers() -> Transfers:
    """An empty transfers table."""
    return _parse(pa.table({c: pa.array([], pa.string()) for c in TRANSFER_COLUMNS}), [])


def _parse(table: pa.Table, where: list[tuple[Path, np.ndarray]]) -> Transfers:
    """Transfers from the matched raw rows, or InputError naming the file and row of each bad one."""
    column = {name: table.column(name).combine_chunks() if table.num_rows else pa.array([], pa.string())
              for name in TRANSFER_COLUMNS + ((CHAIN_COLUMN,) if CHAIN_COLUMN in table.column_names else ())}
    codes, parsed = readers.transfer_columns(column)
    bad = sorted((int(i), p.describe(int(i))) for p in parsed for i in p.bad)
    if bad:
        raise _rejected(bad, where)
    usd, unknown = fields.unpriced(parsed[8], parsed[7])
    tx, block, position, ts, _, _, asset, _, _ = (p.values for p in parsed)
    return Transfers(tx, block, position, ts, codes.codes[0], codes.codes[1], codes.dictionary, asset, usd, unknown)


def _rejected(bad: list[tuple[int, str]], where: list[tuple[Path, np.ndarray]]) -> InputError:
    """The bad rows as FILE:ROW (Parquet, 1-based) or FILE:LINE (CSV, header on line 1)."""
    ends = np.cumsum([len(rows) for _, rows in where])
    problems = []
    for i, message in bad[:MAX_PROBLEMS]:
        part = int(np.searchsorted(ends, i, side="right"))
        file, rows = where[part]
        row = int(rows[i - (ends[part - 1] if part else 0)])
        line = row + 1 if _is_parquet(file) else row + 2
        problems.append((str(file), line, message))
    files = {f for f, _, _ in problems}
    if len(files) == 1:
        return InputError(problems[0][0], [Problem(line, m) for _, line, m in problems],
                          max(0, len(bad) - MAX_PROBLEMS))
    return InputError("transfers", [Problem(None, f"{f}:{line}: {m}") for f, line, m in problems],
                      max(0, len(bad) - MAX_PROBLEMS))
