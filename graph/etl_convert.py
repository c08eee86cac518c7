"""ethereum-etl rows to transfers: each input checked a batch at a time, then one block range finished.

The rows are the ones `kyt ingest` writes for the same chain: the native ETH transfer of a
successful transaction with a value (a creation pays the created contract), then the
transaction's ERC-20 transfers by log index; each block's rows numbered 0, 1, 2... in
that order; the same amount text (wei scaled by 10**18 without trailing zeros, token units
scaled by their decimals keeping them) and usd_value = amount x the day's price, exactly.

>>> scaled_text(pa.array(["1500000000000000000", "5"]), 18, trim=True).to_pylist()
['1.5', '0.000000000000000005']
>>> scaled_text(pa.array(["1500000"]), 6, trim=False).to_pylist()
['1.500000']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, localcontext

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph import fields
from graph.fields import Parsed
from graph.ingest import NATIVE

TRANSACTION_COLUMNS = ("hash", "block_number", "transaction_index", "from_address", "to_address", "value")
TOKEN_TRANSFER_COLUMNS = ("token_address", "from_address", "to_address", "value", "transaction_hash", "log_index",
                          "block_number")
RECEIPT_COLUMNS = ("transaction_hash", "block_number", "status", "contract_address")
BLOCK_COLUMNS = ("number", "timestamp")
TOKEN_COLUMNS = ("address", "decimals")
MAX_DECIMALS = 77
"""More decimals than a uint256 has digits: treated as no decimals, as the live ingestion does."""
WEI_DECIMALS = 18
MAX_WEI = str(2**256 - 1)
_HASH = r"^0x[0-9a-f]{64}$"
_INTEGER = r"^\+?[0-9]+(\.0*)?$"
EPOCH = date(1970, 1, 1)

OUTPUT_SCHEMA = pa.schema([("tx_hash", pa.string()), ("block_number", pa.int64()), ("position", pa.int64()),
                          ("timestamp", pa.timestamp("ms", tz="UTC")), ("from_address", pa.string()),
                          ("to_address", pa.string()), ("asset", pa.string()), ("amount", pa.string()),
                          ("usd_value", pa.string()), ("chain", pa.string())])


@dataclass
class Converted:
    """A batch's clean columns (bad rows hold placeholders) and the checks that found its bad rows."""

    table: pa.Table
    checks: list[Parsed]


def _describe(text: pa.Array, name: str, wording: str):
    def describe(i: int) -> str:
        value = text[int(i)].as_py()
        return f"missing {name}" if value == "" else f"{name} {value!r} is not {wording}"
    return describe


def hashes(column: pa.Array, name: str) -> Parsed:
    """Transaction hashes, lowercase: 0x + 64 hex digits."""
    text = pc.ascii_lower(fields.optional_text(column))
    bad = ~fields.as_mask(pc.match_substring_regex(text, _HASH))
    return Parsed(text, np.flatnonzero(bad), _describe(text, name, "a hash (0x followed by 64 hex digits)"))


def optional_addresses(column: pa.Array, name: str) -> Parsed:
    """Lowercase addresses, or empty text where there is none (a contract creation's to_address)."""
    text = fields.optional_text(column)
    parsed = fields.addresses(text, name)
    if len(parsed.bad):
        parsed.bad = parsed.bad[fields.as_mask(pc.not_equal(text.take(pa.array(parsed.bad)), ""))]
    parsed.values = pc.if_else(pc.equal(text, ""), "", parsed.values)
    return parsed


def wei(column: pa.Array, name: str) -> Parsed:
    """Non-negative integers below 2**256 as digit text without leading zeros (exact: never a float)."""
    if pa.types.is_floating(column.type):
        everything = np.arange(len(column))
        return Parsed(pa.array(["0"] * len(column)), everything,
                      lambda i: f"{name} is stored as floating point, which cannot hold it exactly: export it "
                                f"as text, an integer or a decimal(p, 0)")
    text = fields.optional_text(column)
    ok = fields.as_mask(pc.match_substring_regex(text, _INTEGER))
    digits = pc.utf8_ltrim(pc.replace_substring_regex(pc.utf8_ltrim(text, "+"), r"\.0*$", ""), "0")
    digits = pc.if_else(pc.equal(digits, ""), "0", digits)
    length = pc.utf8_length(digits)
    huge = fields.as_mask(pc.or_(pc.greater(length, len(MAX_WEI)),
                                 pc.and_(pc.equal(length, len(MAX_WEI)), pc.greater(digits, MAX_WEI)))) & ok
    bad = ~ok | huge

    def describe(i: int) -> str:
        value = text[int(i)].as_py()
        if value == "":
            return f"missing {name}"
        if value.startswith("-"):
            return f"{name} {value} is negative"
        if huge[i]:
            return f"{name} {value} is larger than a uint256"
        return f"{name} {value!r} is not a non-negative integer"

    return Parsed(pc.if_else(pa.array(bad), "0", digits), np.flatnonzero(bad), describe)


def statuses(column: pa.Array) -> Parsed:
    """Receipt statuses as int8: 1 success, 0 failed; empty (before Byzantium there was none) counts as success."""
    text = fields.optional_text(column)
    ok = fields.as_mask(pc.is_in(text, value_set=pa.array(["0", "1", ""])))
    values = pc.if_else(pc.equal(text, "0"), 0, 1).to_numpy().astype(np.int8)
    return Parsed(values, np.flatnonzero(~ok), _describe(text, "status", "0, 1 or empty"))


def seconds(column: pa.Array, name: str) -> Parsed:
    """Block times as unix seconds (int64), from integers or a timestamp column."""
    if pa.types.is_timestamp(column.type):
        column = pc.cast(pc.cast(column, pa.timestamp("s", column.type.tz)), pa.int64())
    return fields.unsigned(column, name, limit=2**40)


def _table(**columns: object) -> pa.Table:
    return pa.table({name: values for name, values in columns.items()})


def transactions(batch: pa.RecordBatch, *, with_times: bool) -> Converted:
    """Transactions: hash, block, index, from, to ('' for a creation), value in wei, block time (-1 if not read)."""
    checks = [hashes(batch.column("hash"), "hash"),
              fields.unsigned(batch.column("block_number"), "block_number", limit=2**42),
              fields.unsigned(batch.column("transaction_index"), "transaction_index", limit=2**32),
              fields.addresses(fields.optional_text(batch.column("from_address")), "from_address"),
              optional_addresses(batch.column("to_address"), "to_address"),
              wei(batch.column("value"), "value")]
    if with_times:
        checks.append(seconds(batch.column("block_timestamp"), "block_timestamp"))
    times = checks[6].values if with_times else np.full(batch.num_rows, -1, dtype=np.int64)
    return Converted(_table(hash=checks[0].values, block_number=checks[1].values, tx_index=checks[2].values,
                            from_address=checks[3].values, to_address=checks[4].values, value=checks[5].values,
                            timestamp=times), checks)


def token_transfers(batch: pa.RecordBatch) -> Converted:
    """Token transfers: token, from, to, value in token units, transaction hash, log index, block."""
    checks = [fields.addresses(fields.optional_text(batch.column("token_address")), "token_address"),
              fields.addresses(fields.optional_text(batch.column("from_address")), "from_address"),
              fields.addresses(fields.optional_text(batch.column("to_address")), "to_address"),
              wei(batch.column("value"), "value"),
              hashes(batch.column("transaction_hash"), "transaction_hash"),
              fields.unsigned(batch.column("log_index"), "log_index", limit=2**32),
              fields.unsigned(batch.column("block_number"), "block_number", limit=2**42)]
    return Converted(_table(token=checks[0].values, from_address=checks[1].values, to_address=checks[2].values,
                            value=checks[3].values, hash=checks[4].values, log_index=checks[5].values,
                            block_number=checks[6].values), checks)


def receipts(batch: pa.RecordBatch) -> Converted:
    """Receipts: transaction hash, block, status, the created contract ('' for none)."""
    checks = [hashes(batch.column("transaction_hash"), "transaction_hash"),
              fields.unsigned(batch.column("block_number"), "block_number", limit=2**42),
              statuses(batch.column("status")),
              optional_addresses(batch.column("contract_address"), "contract_address")]
    return Converted(_table(hash=checks[0].values, block_number=checks[1].values, status=checks[2].values,
                            contract=checks[3].values), checks)


def blocks(batch: pa.RecordBatch) -> Converted:
    """Blocks: number and unix time."""
    checks = [fields.unsigned(batch.column("number"), "number", limit=2**42),
              seconds(batch.column("timestamp"), "timestamp")]
    return Converted(_table(block_number=checks[0].values, timestamp=checks[1].values), checks)


def tokens(batch: pa.RecordBatch) -> Converted:
    """Tokens: address and decimals (-1 where there are none, or more than MAX_DECIMALS)."""
    text = fields.optional_text(batch.column("decimals"))
    empty = fields.as_mask(pc.equal(text, ""))
    places = fields.unsigned(pc.if_else(pa.array(empty), "0", text), "decimals", limit=256)
    values = np.where(empty | (places.values > MAX_DECIMALS), -1, places.values)
    checks = [fields.addresses(fields.optional_text(batch.column("address")), "address"), places]
    return Converted(_table(token=checks[0].values, decimals=values.astype(np.int16)), checks)


def scaled_text(digits: pa.Array, places: int, *, trim: bool) -> pa.Array:
    """Integer digit text divided by 10**places, as decimal text (trailing zeros dropped when `trim`)."""
    if places == 0:
        return digits
    padded = pc.utf8_lpad(digits, places + 1, "0")
    whole = pc.utf8_slice_codeunits(padded, 0, -places)
    fraction = pc.utf8_slice_codeunits(padded, -places)
    if trim:
        fraction = pc.utf8_rtrim(fraction, "0")
    return pc.if_else(pc.equal(fraction, ""), whole, pc.binary_join_element_wise(whole, fraction, "."))


@dataclass
class Bucket:
    """One block range's rows of each input (None: none in this range, or the input was not given)."""

    base: int
    """The range's first block."""
    size: int
    transactions: pa.Table | None = None
    receipts: pa.Table | None = None
    blocks: pa.Table | None = None
    token_transfers: pa.Table | None = None
    given: frozenset[str] = frozenset()
    """The inputs given at all: 'transactions', 'receipts', 'blocks', 'token_transfers'."""


@dataclass
class Counts:
    """What was left out, and why; the transfers made."""

    native: int = 0
    token: int = 0
    zero_value: int = 0
    failed: int = 0
    creations_without_receipt: int = 0
    token_zero_value: int = 0
    token_failed: int = 0
    token_without_decimals: int = 0
    unpriced: int = 0


@dataclass
class Found:
    """Bad rows of pass 2 as (file id, row, message), the first `limit` of them kept, all counted."""

    limit: int = 50
    kept: list[tuple[int, int, str]] = field(default_factory=list)
    total: int = 0

    def add(self, table: pa.Table, rows: np.ndarray, describe) -> None:
        self.total += len(rows)
        room = max(0, self.limit - len(self.kept))
        files, lines = table.column("file"), table.column("row")
        self.kept += [(files[int(i)].as_py(), lines[int(i)].as_py(), describe(int(i))) for i in rows[:room]]


def _repeats(keys: pa.Array) -> np.ndarray:
    """Indices of the rows whose key an earlier row already had."""
    counts = pc.value_counts(keys)
    repeated = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
    if not len(repeated):
        return np.empty(0, dtype=np.int64)
    seen, out = set(), []
    for i in np.flatnonzero(fields.as_mask(pc.is_in(keys, value_set=repeated))):
        value = keys[int(i)].as_py()
        (out.append(int(i)) if value in seen else seen.add(value))
    return np.array(out, dtype=np.int64)


def _times(part: Bucket) -> np.ndarray:
    """Unix time of each block of the range (-1 unknown), from the blocks or else the transactions."""
    stamps = np.full(part.size, -1, dtype=np.int64)
    source = part.blocks if "blocks" in part.given else part.transactions
    if source is not None:
        stamps[source.column("block_number").to_numpy() - part.base] = source.column("timestamp").to_numpy()
    return stamps


def _native(part: Bucket, counts: Counts, found: Found) -> pa.Table | None:
    """Native transfers of the range's successful transactions with a value (a creation pays the contract)."""
    txs = part.transactions
    if txs is None:
        return None
    duplicate = _repeats(txs.column("hash"))
    found.add(txs, duplicate, lambda i: f"transaction {txs.column('hash')[i]} appears twice in the input")
    moving = fields.as_mask(pc.not_equal(txs.column("value"), "0"))
    counts.zero_value += int((~moving).sum())
    txs = txs.filter(pa.array(moving))
    target = txs.column("to_address")
    if "receipts" in part.given:
        found_at = pc.index_in(txs.column("hash"), value_set=part.receipts.column("hash")) \
            if part.receipts is not None else pa.nulls(txs.num_rows, pa.int32())
        missing = fields.as_mask(pc.is_null(found_at))
        found.add(txs, np.flatnonzero(missing), lambda i: f"transaction {txs.column('hash')[i]} has no receipt "
                                                          f"in the receipts input")
        at = pc.fill_null(found_at, 0)
        status = part.receipts.column("status").take(at).to_numpy() if part.receipts is not None else \
            np.ones(txs.num_rows, dtype=np.int8)
        ok = (status == 1) & ~missing
        counts.failed += int(((status == 0) & ~missing).sum())
        if part.receipts is not None:
            target = pc.if_else(pc.equal(target, ""), part.receipts.column("contract").take(at), target)
    else:
        ok = np.ones(txs.num_rows, dtype=bool)
    creation = fields.as_mask(pc.equal(target, ""))
    counts.creations_without_receipt += int((ok & creation).sum())
    keep = pa.array(ok & ~creation)
    rows = txs.filter(keep)
    counts.native += rows.num_rows
    return _table(tx_hash=rows.column("hash"), block_number=rows.column("block_number"),
                  tx_index=rows.column("tx_index"), kind=pa.nulls(rows.num_rows, pa.int8()).fill_null(0),
                  log_index=pa.nulls(rows.num_rows, pa.int64()).fill_null(0),
                  from_address=rows.column("from_address"), to_address=pc.filter(target, keep),
                  asset=pa.nulls(rows.num_rows, pa.string()).fill_null(NATIVE),
                  amount=scaled_text(rows.column("value").combine_chunks(), WEI_DECIMALS, trim=True),
                  file=rows.column("file"), row=rows.column("row"))


def _tokens(part: Bucket, *, decimals: dict[str, int], counts: Counts, found: Found) -> pa.Table | None:
    """Token transfers of the range with a value, scaled by their token's decimals, placed by transaction."""
    moves = part.token_transfers
    if moves is None:
        return None
    keys = pc.binary_join_element_wise(moves.column("hash"), pc.cast(moves.column("log_index"), pa.string()), ":")
    duplicate = _repeats(keys.combine_chunks())
    found.add(moves, duplicate, lambda i: f"token transfer {keys[i]} (transaction:log index) appears twice")
    if "transactions" in part.given:
        txs = part.transactions
        at = pc.index_in(moves.column("hash"), value_set=txs.column("hash")) if txs is not None \
            else pa.nulls(moves.num_rows, pa.int32())
        missing = fields.as_mask(pc.is_null(at))
        found.add(moves, np.flatnonzero(missing), lambda i: f"transaction {moves.column('hash')[i]} is not in "
                                                            f"the transactions input")
        tx_index = txs.column("tx_index").take(pc.fill_null(at, 0)).to_numpy() if txs is not None \
            else np.zeros(moves.num_rows, dtype=np.int64)
    else:
        tx_index = np.zeros(moves.num_rows, dtype=np.int64)  # log indices run across the block: their order is it
    failed = np.zeros(moves.num_rows, dtype=bool)
    if part.receipts is not None:
        at = pc.index_in(moves.column("hash"), value_set=part.receipts.column("hash"))
        failed = fields.as_mask(pc.equal(part.receipts.column("status").take(pc.fill_null(at, 0)), 0)) & \
            ~fields.as_mask(pc.is_null(at))
    zero = fields.as_mask(pc.equal(moves.column("value"), "0"))
    places = np.array([decimals.get(t, -1) for t in moves.column("token").to_pylist()], dtype=np.int16)
    counts.token_failed += int(failed.sum())
    counts.token_zero_value += int((zero & ~failed).sum())
    counts.token_without_decimals += int(((places < 0) & ~zero & ~failed).sum())
    keep = ~failed & ~zero & (places >= 0)
    rows, places, tx_index = moves.filter(pa.array(keep)), places[keep], tx_index[keep]
    texts = np.empty(rows.num_rows, dtype=object)
    value = rows.column("value").combine_chunks()
    for scale in np.unique(places):
        where = np.flatnonzero(places == scale)
        texts[where] = scaled_text(value.take(pa.array(where)), int(scale), trim=False).to_numpy(zero_copy_only=False)
    amount = pa.array(texts, pa.string())
    counts.token += rows.num_rows
    return _table(tx_hash=rows.column("hash"), block_number=rows.column("block_number"), tx_index=tx_index,
                  kind=pa.nulls(rows.num_rows, pa.int8()).fill_null(1), log_index=rows.column("log_index"),
                  from_address=rows.column("from_address"), to_address=rows.column("to_address"),
                  asset=rows.column("token"), amount=amount, file=rows.column("file"), row=rows.column("row"))


def _usd(amount: list[str], asset: list[str], days: np.ndarray,
         *, prices: dict[tuple[str, date], Decimal]) -> pa.Array:
    """amount x the asset's price on the day, as exact decimal text; None where the table has no price."""
    out: list[str | None] = [None] * len(amount)
    known: dict[tuple[str, int], Decimal | None] = {}
    with localcontext() as exact:
        exact.prec = 200  # a uint256 has at most 78 digits: no rounding
        for i, (a, d) in enumerate(zip(asset, days.tolist())):
            key = (a, d)
            if key not in known:
                known[key] = prices.get((a, EPOCH + timedelta(days=d)))
            price = known[key]
            if price is not None:
                out[i] = format(Decimal(amount[i]) * price, "f")
    return pa.array(out, pa.string())


def finish(part: Bucket, *, decimals: dict[str, int], prices: dict[tuple[str, date], Decimal], chain: str,
           counts: Counts, found: Found) -> pa.Table:
    """The range's transfers in chain order, numbered per block, timed, priced; problems go to `found`."""
    pieces = [t for t in (_native(part, counts, found), _tokens(part, decimals=decimals, counts=counts, found=found))
              if t is not None]
    if not pieces:
        return OUTPUT_SCHEMA.empty_table()
    rows = pa.concat_tables(pieces, promote_options="permissive")
    rows = rows.sort_by([("block_number", "ascending"), ("tx_index", "ascending"), ("kind", "ascending"),
                         ("log_index", "ascending")])
    block = rows.column("block_number").to_numpy()
    stamps = _times(part)[block - part.base]
    unknown = np.flatnonzero(stamps < 0)
    found.add(rows, unknown, lambda i: f"no time for block {block[i]}: give --blocks (or transactions with "
                                       f"block_timestamp for that block)")
    start = np.r_[True, block[1:] != block[:-1]] if len(block) else np.empty(0, dtype=bool)
    index = np.arange(len(block))
    position = index - np.maximum.accumulate(np.where(start, index, 0))
    usd = _usd(rows.column("amount").to_pylist(), rows.column("asset").to_pylist(), stamps // 86_400, prices=prices)
    counts.unpriced += usd.null_count
    return pa.table([rows.column("tx_hash"), rows.column("block_number"), pa.array(position, pa.int64()),
                     pa.array(np.maximum(stamps, 0) * 1000, pa.timestamp("ms", tz="UTC")), rows.column("from_address"),
                     rows.column("to_address"), rows.column("asset"), rows.column("amount"), usd,
                     pa.nulls(rows.num_rows, pa.string()).fill_null(chain)], schema=OUTPUT_SCHEMA)
