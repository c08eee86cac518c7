"""Read transfers, deposits, flagged wallets and services from CSV or Parquet, all or nothing.

A file with any bad row raises `InputError` naming each bad line (up to `MAX_PROBLEMS`);
nothing of it is returned. CSV line numbers count the header as line 1; for Parquet the
"line" is the 1-based row number.
"""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from graph import chains, fields, time_fields
from graph.errors import InputError, Problem
from graph.formats import CHAIN_COLUMN, DEPOSIT_COLUMNS, TRANSFER_COLUMNS, WHOLE_DIGITS
from graph.model import ALWAYS, NEVER, POSITION_BITS, Deposits, FlaggedWallets, Labels, Services, Transfers

MAX_PROBLEMS = 50
CATEGORY_PATTERN = r"^[a-z][a-z0-9_]*$"

FLAGGED_COLUMNS = ("address", "category", "source", "listed_at", "delisted_at", CHAIN_COLUMN, "address_case")
CASE_LOST = "lost"
"""`address_case` of a base58 entry whose letters' case the list lost (the other value: empty or `exact`)."""
SERVICE_COLUMNS = ("address", "entity", "kind")


@dataclass
class _Raw:
    """A file's table and what is needed to report its bad rows."""

    path: Path
    table: pa.Table | None
    """The CSV's columns; None for Parquet, whose columns are read one at a time."""
    parquet: pq.ParquetFile | None
    rows: int
    invalid_rows: int
    width: int

    @property
    def is_csv(self) -> bool:
        return self.parquet is None


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".pq")


def _read(path: Path, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> _Raw:
    """The file's wanted columns (as text for CSV), or InputError; other columns are not read."""
    if not path.exists():
        raise InputError(str(path), [Problem(None, "no such file")])
    try:
        names = pq.read_schema(path).names if _is_parquet(path) else _csv_header(path)
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise InputError(str(path), [Problem(1, f"column {name!r} appears more than once") for name in repeated])
        missing = [c for c in required if c not in names]
        if missing:
            listed = ", ".join(missing)
            raise InputError(str(path), [Problem(1, f"missing column{'s' if len(missing) > 1 else ''}: {listed}")])
        if _is_parquet(path):
            parquet = pq.ParquetFile(path)
            return _Raw(path, None, parquet, parquet.metadata.num_rows, 0, len(names))
        table, invalid = _read_csv(path, names, [c for c in required + optional if c in names])
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputError(str(path), [Problem(None, f"cannot be read: {error}")]) from None
    return _Raw(path, table, None, table.num_rows, invalid, len(names))


def _open_text(path: Path):
    opener = gzip.open if path.suffix == ".gz" else open
    return opener(path, "rt", newline="", encoding="utf-8-sig")  # type: ignore[operator]


def _csv_header(path: Path) -> list[str]:
    with _open_text(path) as handle:
        header = next(csv.reader(handle), None)
    if not header:
        raise pa.ArrowInvalid("the file is empty (no header line)")
    return [name.strip() for name in header]


def _read_csv(path: Path, header: list[str], columns: list[str]) -> tuple[pa.Table, int]:
    """The wanted columns as text, and how many lines had the wrong number of fields.

    Lines are first split fast, in parallel blocks; if some do not split right, which a
    quoted newline at a block boundary can cause, the file is read again quote-aware.
    """
    for newlines_in_values in (False, True):
        invalid: list[object] = []

        def skip(row: object) -> str:
            invalid.append(row)
            return "skip"

        table = pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(block_size=1 << 24, column_names=header, skip_rows=1),
            parse_options=pcsv.ParseOptions(invalid_row_handler=skip, newlines_in_values=newlines_in_values),
            convert_options=pcsv.ConvertOptions(column_types={c: pa.string() for c in columns},
                                                 include_columns=columns, strings_can_be_null=False),
        )
        if not invalid:
            break
    return table, len(invalid)


def _csv_lines(path: Path, width: int, rows: np.ndarray) -> tuple[dict[int, int], list[int]]:
    """Map data-row indices to line numbers, and list the lines with the wrong number of fields."""
    wanted = set(int(r) for r in rows)
    found: dict[int, int] = {}
    ragged: list[int] = []
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


def _reject(raw: _Raw, parsed: list[fields.Parsed], extra: list[tuple[int, str, int]] = ()) -> None:
    """Raise InputError if any column or check found bad rows (or the CSV had ragged lines).

    `extra` holds (row, message, other row) from checks across rows; "{other}" in the
    message becomes the other row's line.
    """
    bad = [(int(i), p) for p in parsed for i in p.bad[:MAX_PROBLEMS]]
    total = sum(len(p.bad) for p in parsed) + len(extra) + raw.invalid_rows
    if not total:
        return
    bad.sort(key=lambda item: item[0])
    messages = [(i, p.describe(i), i) for i, p in bad[:MAX_PROBLEMS]] + list(extra)[:MAX_PROBLEMS]
    messages.sort(key=lambda item: item[0])
    problems: list[Problem] = []
    if raw.is_csv:
        lines, ragged = _csv_lines(raw.path, raw.width, np.array([r for i, _, o in messages for r in (i, o)]))
        problems += [Problem(line, f"expected {raw.width} fields like the header") for line in ragged]
        problems += [Problem(lines.get(i), m.replace("{other}", f"line {lines.get(o)}")) for i, m, o in messages]
        if raw.invalid_rows and not ragged:
            problems.append(Problem(None, f"{raw.invalid_rows} lines could not be split into {raw.width} fields"))
    else:
        problems += [Problem(i + 1, m.replace("{other}", f"row {o + 1}")) for i, m, o in messages]
    problems.sort(key=lambda p: p.line or 0)
    raise InputError(str(raw.path), problems[:MAX_PROBLEMS], max(0, total - MAX_PROBLEMS))


def _columns(raw: _Raw, *names: str) -> list[pa.ChunkedArray]:
    """Columns read (Parquet) or taken out of the table (CSV), so that their text is freed once parsed.

    A missing optional column comes back as empty strings.
    """
    present = raw.parquet.schema_arrow.names if raw.parquet is not None else raw.table.column_names
    wanted = [name for name in names if name in present]
    if raw.parquet is not None:
        try:
            table = raw.parquet.read(columns=wanted)
        except (pa.ArrowInvalid, OSError) as error:
            raise InputError(str(raw.path), [Problem(None, f"cannot be read: {error}")]) from None
    else:
        table = raw.table.select(wanted)
        raw.table = raw.table.drop_columns(wanted)
    return [table.column(name) if name in wanted else pa.chunked_array([pa.nulls(raw.rows, pa.string())])
            for name in names]


def _column(raw: _Raw, name: str) -> pa.ChunkedArray:
    """One column (see `_columns`)."""
    return _columns(raw, name)[0]


def _duplicates(values: pa.Array, name: str) -> list[tuple[int, str, int]]:
    """(row, message, first row) for every repeat of a value after its first row."""
    counts = pc.value_counts(values)
    repeated = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
    if not len(repeated):
        return []
    rows = np.flatnonzero(np.asarray(pc.is_in(values, value_set=repeated).to_numpy(zero_copy_only=False)))
    first: dict[str, int] = {}
    out = []
    for i in rows:
        value = values[int(i)].as_py()
        if value in first:
            out.append((int(i), f"duplicate {name} {value!r} (first on {{other}})", first[value]))
        else:
            first[value] = int(i)
    return out


def _chain_or_none(chain: pa.ChunkedArray | pa.Array | None) -> pa.ChunkedArray | pa.Array | None:
    """The chain column, or None when every row is on the default chain (the fast path)."""
    if chain is None or chain.null_count == len(chain):
        return None
    text = fields.as_text(chain.combine_chunks() if isinstance(chain, pa.ChunkedArray) else chain)
    values = pc.unique(text).to_pylist()
    return None if set(values) <= {"", chains.DEFAULT} else chain


def read_transfers(path: str | Path) -> Transfers:
    """Transfers `tx_hash, block_number, position, timestamp, from_address, to_address, asset, amount, usd_value`
    and an optional `chain`.

    An empty usd_value means the value is unknown (see `Transfers.unpriced`), never zero.
    """
    raw = _read(Path(path), TRANSFER_COLUMNS, (CHAIN_COLUMN,))
    senders, receivers, chain = _columns(raw, "from_address", "to_address", CHAIN_COLUMN)
    codes, (src, dst) = fields.encode_addresses({"from_address": senders, "to_address": receivers},
                                                chain=_chain_or_none(chain))
    del senders, receivers, chain
    tx, block, position, ts, asset, amount, usd = _columns(raw, "tx_hash", "block_number", "position", "timestamp",
                                                           "asset", "amount", "usd_value")
    parsed = [
        fields.required_text(tx, "tx_hash", lower=True),
        fields.unsigned(block, "block_number", limit=2**42),
        fields.unsigned(position, "position", limit=2**POSITION_BITS),
        time_fields.timestamps(ts, "timestamp"),
        src, dst,
        fields.required_text(asset, "asset"),
        fields.amounts(amount, "amount"),
        fields.micro_usd(usd, "usd_value", optional=True),
    ]
    del tx, block, position, ts, asset, amount, usd
    _reject(raw, parsed)
    usd, unknown = fields.unpriced(parsed[8], parsed[7])
    tx, block, position, ts, _, _, asset, _, _ = (p.values for p in parsed)
    return Transfers(tx, block, position, ts, codes.codes[0], codes.codes[1], codes.dictionary, asset, usd, unknown)


def read_deposits(path: str | Path) -> Deposits:
    """Deposits in the format of docs/formats.md (an optional `chain`); `deposit_id` must be unique."""
    raw = _read(Path(path), DEPOSIT_COLUMNS, (CHAIN_COLUMN,))
    parsed = _deposit_fields(lambda name: _column(raw, name))
    _reject(raw, parsed, _duplicates(parsed[0].values, "deposit_id"))
    return _deposits(parsed)


def deposits_from_rows(rows: list[dict], where: str = "request") -> Deposits:
    """Deposits given as dicts of the file's fields (an API body), with the file's checks; InputError names each
    bad item by its 1-based number as its "line".

    >>> deposits_from_rows([{"deposit_id": "d", "tx_hash": "0x1", "customer_id": "c", "timestamp": "2026-01-01",
    ...     "block_number": 1, "position": 0, "from_address": "0x" + "1" * 40, "to_address": "0x" + "2" * 40,
    ...     "asset": "ETH", "amount": "1.5", "usd_value": "4000"}]).usd_micro.tolist()
    [4000000000]
    """
    columns = {name: pa.array(["" if row.get(name) is None else str(row.get(name)) for row in rows], pa.string())
               for name in DEPOSIT_COLUMNS + (CHAIN_COLUMN,)}
    parsed = _deposit_fields(columns.__getitem__)
    repeated = _duplicates(parsed[0].values, "deposit_id")
    bad = sorted({(int(i), p.describe(int(i))) for p in parsed for i in p.bad} | {(i, m.replace("{other}", f"item {o + 1}"))
                                                                                 for i, m, o in repeated})
    if bad:
        raise InputError(where, [Problem(i + 1, m) for i, m in bad[:MAX_PROBLEMS]], max(0, len(bad) - MAX_PROBLEMS))
    return _deposits(parsed)


def _deposit_fields(column) -> list[fields.Parsed]:
    """The deposit columns parsed and checked, in DEPOSIT_COLUMNS order (`column(name)` gives each)."""
    chain = _chain_or_none(column(CHAIN_COLUMN))
    return [
        fields.required_text(column("deposit_id"), "deposit_id"),
        fields.required_text(column("tx_hash"), "tx_hash", lower=True),
        fields.required_text(column("customer_id"), "customer_id"),
        time_fields.timestamps(column("timestamp"), "timestamp"),
        fields.unsigned(column("block_number"), "block_number", limit=2**42),
        fields.unsigned(column("position"), "position", limit=2**POSITION_BITS),
        fields.addresses(column("from_address"), "from_address", chain),
        fields.addresses(column("to_address"), "to_address", chain),
        fields.required_text(column("asset"), "asset"),
        fields.amounts(column("amount"), "amount", whole_digits=WHOLE_DIGITS),
        fields.micro_usd(column("usd_value"), "usd_value", optional=True),
    ]


def _deposits(parsed: list[fields.Parsed]) -> Deposits:
    usd, unknown = fields.unpriced(parsed[10], parsed[9])
    return Deposits(*[p.values for p in parsed[:10]], usd, unknown)


def read_flagged(path: str | Path) -> FlaggedWallets:
    """Flagged wallets `address, category, source, listed_at, delisted_at` (dates may be empty), an optional
    `chain` and `address_case` (`lost` for an address whose letters' case the list lost)."""
    raw = _read(Path(path), FLAGGED_COLUMNS[:3], FLAGGED_COLUMNS[3:])
    category = fields.required_text(_column(raw, "category"), "category", lower=True)
    bad_name = np.flatnonzero(~np.asarray(
        pc.match_substring_regex(category.values, CATEGORY_PATTERN).to_numpy(zero_copy_only=False)))
    listed = time_fields.timestamps(_column(raw, "listed_at"), "listed_at", optional=True)
    delisted = time_fields.timestamps(_column(raw, "delisted_at"), "delisted_at", optional=True)
    listed_at = np.where(listed.values[1], ALWAYS, listed.values[0])
    delisted_at = np.where(delisted.values[1], NEVER, delisted.values[0])
    extra = [(int(i), f"category {category.values[int(i)].as_py()!r} is not a lowercase name", int(i))
             for i in bad_name if category.values[int(i)].as_py()]
    unordered = delisted_at <= listed_at
    unordered[listed.bad] = unordered[delisted.bad] = False  # a date that did not parse says enough
    extra += [(int(i), "delisted_at is not after listed_at", int(i)) for i in np.flatnonzero(unordered)[:MAX_PROBLEMS]]
    case = pc.utf8_lower(fields.trimmed(fields.optional_text(_column(raw, "address_case"))))
    lost = fields.as_mask(pc.equal(case, CASE_LOST))
    extra += [(int(i), f"address_case {case[int(i)].as_py()!r} is not exact or lost", int(i))
              for i in np.flatnonzero(~fields.as_mask(pc.is_in(case, value_set=pa.array(["", "exact", CASE_LOST]))))]
    address, chain = _column(raw, "address"), _column(raw, CHAIN_COLUMN)
    keys = fields.addresses(address, "address", _chain_or_none(chain))
    if lost.any():
        keys, lost_problems = _lost_case_keys(keys, lost, address=address.combine_chunks(), chain=chain.combine_chunks())
        extra += lost_problems
    parsed = [keys, category, fields.required_text(_column(raw, "source"), "source"), listed, delisted]
    _reject(raw, parsed, extra)
    return FlaggedWallets(parsed[0].values, category.values, parsed[2].values, listed_at, delisted_at, lost)


def _lost_case_keys(keys: fields.Parsed, lost: np.ndarray, *, address: pa.Array,
                    chain: pa.Array) -> tuple[fields.Parsed, list[tuple[int, str, int]]]:
    """The keys with the rows whose case was lost keyed by their lowercase address (checked for form only)."""
    values = keys.values.to_pylist()
    problems = []
    for i in np.flatnonzero(lost).tolist():
        name = chain[i].as_py() or chains.DEFAULT
        try:
            values[i] = chains.wallet_key(chains.check_chain(name),
                                          chains.normalise_lost_case(name, address[i].as_py() or ""))
        except (chains.AddressError, chains.ChainNameError) as error:
            problems.append((i, f"address: {error}", i))
    ok = ~np.isin(keys.bad, np.flatnonzero(lost))  # a lost-case row is judged by its own rules
    return fields.Parsed(pa.array(values, pa.string()), keys.bad[ok], keys.describe), problems


def read_services(path: str | Path) -> Services:
    """Services `address, entity, kind` (kind may be empty) and an optional `chain`."""
    raw = _read(Path(path), SERVICE_COLUMNS[:2], SERVICE_COLUMNS[2:] + (CHAIN_COLUMN,))
    parsed = [fields.addresses(_column(raw, "address"), "address", _chain_or_none(_column(raw, CHAIN_COLUMN))),
              fields.required_text(_column(raw, "entity"), "entity"),
              fields.checked_text(fields.optional_text(_column(raw, "kind")), "kind")]
    _reject(raw, parsed)
    return Services(parsed[0].values, parsed[1].values, parsed[2].values)



LABEL_COLUMNS = ("address", "label", "split")


def read_labels(path: str | Path) -> Labels:
    """Labelled addresses `address, label, split` for learning: label 1 risky or 0 normal; split optional."""
    raw = _read(Path(path), LABEL_COLUMNS[:2], LABEL_COLUMNS[2:] + (CHAIN_COLUMN,))
    parsed = [fields.addresses(_column(raw, "address"), "address", _chain_or_none(_column(raw, CHAIN_COLUMN))), fields.unsigned(_column(raw, "label"), "label", 2),
              fields.checked_text(fields.optional_text(_column(raw, "split")), "split")]
    _reject(raw, parsed, _duplicates(parsed[0].values, "address"))
    split = pc.utf8_lower(parsed[2].values)
    return Labels(parsed[0].values, parsed[1].values.astype(np.int64), split)


def transfer_columns(column: dict[str, pa.Array]) -> tuple[fields.AddressCodes, list[fields.Parsed]]:
    """The raw columns of a transfers table (graph/formats.py), parsed in TRANSFER_COLUMNS order.

    Shared by the pruned scan and the Spark engine's executors, which parse rows as they read them.
    """
    codes, (src, dst) = fields.encode_addresses({"from_address": column["from_address"],
                                                 "to_address": column["to_address"]},
                                                chain=_chain_or_none(column.get(CHAIN_COLUMN)))
    return codes, [
        fields.required_text(column["tx_hash"], "tx_hash", lower=True),
        fields.unsigned(column["block_number"], "block_number", limit=2**42),
        fields.unsigned(column["position"], "position", limit=2**POSITION_BITS),
        time_fields.timestamps(column["timestamp"], "timestamp"),
        src, dst,
        fields.required_text(column["asset"], "asset"),
        fields.amounts(column["amount"], "amount"),
        fields.micro_usd(column["usd_value"], "usd_value", optional=True),
    ]
