"""Vectorised parsers for the columns of the input files, reporting every bad row.

Each parser takes one Arrow column and returns a `Parsed`: the clean values and the rows
that failed, with a function that words the failure of one row. Only rows that fail go
through Python, so a clean 10-million-row column costs a few vector operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph import wallet_keys
from graph.cells import CONTROL_PATTERN, may_hold_controls
from graph.formats import TEXT_LIMITS
from graph.times import MICRO

_DECIMAL = r"^\+?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_SIMPLE_DECIMAL = r"^\+?[0-9]{1,9}(\.[0-9]{0,6})?$"  # parsed exactly through float64
_ZERO = r"^\+?(0+(\.0*)?|\.0+)([eE][+-]?[0-9]+)?$"
_UNSIGNED = r"^[0-9]{1,18}$"


@dataclass
class Parsed:
    """Clean values of a column, the indices of its bad rows, and how to word one of them."""

    values: object
    bad: np.ndarray
    describe: Callable[[int], str]

    def __post_init__(self) -> None:
        if not len(self.bad):  # let go of the raw text the wording would need
            self.describe = _nothing



def _nothing(i: int) -> str:
    return ""


def as_text(column: pa.Array) -> pa.Array:
    """The column as strings, with nulls as empty strings (no copy when it already is)."""
    if not pa.types.is_string(column.type):
        column = pc.cast(column, pa.string())  # numbers, dictionaries, large_string (as Polars writes)
    return pc.fill_null(column, "") if column.null_count else column


def _any(array: pa.Array) -> bool:
    return bool(pc.any(array).as_py())


def as_mask(array: pa.Array) -> np.ndarray:
    """A boolean Arrow array as a numpy mask, nulls counting as False."""
    if array.null_count:
        array = pc.fill_null(array, False)
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=bool)


def failing_rows(mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask).astype(np.int64)


def value_at(column: pa.Array, i: int) -> object:
    return column[int(i)].as_py()


_HEX_ADDRESS = r"^0x[0-9a-fA-F]{40}$"


@dataclass
class AddressCodes:
    """Address columns as int32 codes into one shared dictionary of lowercase addresses."""

    codes: list[np.ndarray]
    dictionary: pa.Array


def _non_empty_chunks(column: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    return [chunk for chunk in chunks if len(chunk)]  # dictionary encoding drops empty chunks


def encode_addresses(columns: dict[str, pa.Array | pa.ChunkedArray], *,
                     chain: pa.Array | pa.ChunkedArray | None = None) -> tuple[AddressCodes, list[Parsed]]:
    """Encode address columns together as wallet keys (graph/chains.py), checking each distinct value once.

    On the default chain a value must be `0x` + 40 hex digits, and a mixed-case value must
    pass EIP-55; the key is the lowercase address, so one address in two spellings gets
    one code. `chain` (one value per row, for every column; empty means the default) makes
    the key `chain:address`, checked by that chain's rules; an address may also be written
    as its key.

    >>> codes, _ = encode_addresses({"a": pa.array(["0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B"])})
    >>> codes.dictionary[int(codes.codes[0][0])].as_py()
    '0xab5801a7d398351b8be11c439e05c5b3259aec9b'
    """
    if chain is not None:
        columns = {name: wallet_keys.keyed(column, chain) for name, column in columns.items()}
    chunk_lists = [_non_empty_chunks(as_text(column)) for column in columns.values()]
    encoded = pa.chunked_array([c for chunks in chunk_lists for c in chunks], pa.string()).dictionary_encode().chunks
    spelled = encoded[0].dictionary if encoded else pa.array([], pa.string())
    codes, at = [], 0
    for chunks in chunk_lists:
        part = [chunk.indices.to_numpy().astype(np.int32, copy=False) for chunk in encoded[at:at + len(chunks)]]
        codes.append(np.concatenate(part) if part else np.empty(0, dtype=np.int32))
        at += len(chunks)
    empty = as_mask(pc.equal(spelled, ""))
    keyed = as_mask(pc.match_substring(spelled, ":"))
    malformed = ~as_mask(pc.match_substring_regex(spelled, _HEX_ADDRESS)) & ~empty & ~keyed
    upper = as_mask(pc.match_substring_regex(spelled, "[A-F]")) & ~malformed & ~keyed
    mixed = upper & as_mask(pc.match_substring_regex(spelled, "[a-f]"))
    bad_checksum = np.zeros(len(spelled), dtype=bool)
    if mixed.any():
        from eth_utils import is_checksum_address  # slow to import: only when some value is mixed case
    for i in np.flatnonzero(mixed):
        bad_checksum[i] = not is_checksum_address(spelled[int(i)].as_py())
    canonical, key_problems = wallet_keys.canonical_keys(spelled, keyed)
    bad_key = np.zeros(len(spelled), dtype=bool)
    bad_key[list(key_problems)] = True
    bad_value = empty | malformed | bad_checksum | bad_key
    dictionary, lowered = spelled, codes
    if upper.any() or keyed.any():  # canonical keys, and merge the spellings of one wallet
        lower = pc.if_else(pa.array(keyed), canonical, pc.ascii_lower(spelled)) if keyed.any() else pc.ascii_lower(
            spelled)
        dictionary = pc.unique(lower)
        remap = pc.index_in(lower, value_set=dictionary).to_numpy().astype(np.int32)
        lowered = [remap[c] for c in codes]

    def describer(name: str, raw: np.ndarray) -> Callable[[int], str]:
        def describe(i: int) -> str:
            value = spelled[int(raw[i])].as_py()
            if value == "":
                return f"missing {name}"
            if int(raw[i]) in key_problems:
                return f"{name}: {key_problems[int(raw[i])]}"
            if bad_checksum[raw[i]]:
                return f"{name} {value} has a bad EIP-55 checksum (mixed case that does not match)"
            return f"{name} {value!r} is not an address (0x followed by 40 hex digits)"
        return describe

    parsed = [Parsed(low, failing_rows(bad_value[raw]) if bad_value.any() else np.empty(0, np.int64), describer(name, raw))
              for name, raw, low in zip(columns, codes, lowered)]
    return AddressCodes(lowered, dictionary), parsed


def addresses(column: pa.Array | pa.ChunkedArray, name: str, chain: pa.Array | pa.ChunkedArray | None = None) -> Parsed:
    """Wallet keys (see `encode_addresses`): on the default chain lowercase `0x` + 40 hex, a mixed-case value
    passing EIP-55.

    >>> addresses(pa.array(["0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B"]), "a").values[0].as_py()
    '0xab5801a7d398351b8be11c439e05c5b3259aec9b'
    """
    encoded, [parsed] = encode_addresses({name: column}, chain=chain)
    parsed.values = encoded.dictionary.take(pa.array(encoded.codes[0]))
    return parsed


def unsigned(column: pa.Array, name: str, limit: int = 2**62) -> Parsed:
    """Non-negative integers below `limit` as int64."""
    if pa.types.is_integer(column.type) and column.null_count == 0:
        wide = pa.uint64() if pa.types.is_unsigned_integer(column.type) else pa.int64()
        numbers = pc.cast(column, wide).to_numpy()
        bad = numbers >= np.array(limit, dtype=numbers.dtype)
        if wide == pa.int64():
            bad |= numbers < 0
        values = np.where(bad, 0, numbers).astype(np.int64)
        return Parsed(values, failing_rows(bad),
                      lambda i: f"{name} {value_at(column, i)} is out of range (0 to {limit - 1})")
    text = as_text(column)
    ok = as_mask(pc.match_substring_regex(text, _UNSIGNED))
    values = np.zeros(len(text), dtype=np.int64)
    if ok.any():
        values[ok] = pc.cast(pc.filter(text, pa.array(ok)), pa.int64()).to_numpy()
    too_big = values >= limit
    bad = ~ok | too_big

    def describe(i: int) -> str:
        value = value_at(text, i)
        if value == "":
            return f"missing {name}"
        if too_big[i]:
            return f"{name} {value} is out of range (0 to {limit - 1})"
        return f"{name} {value!r} is not a non-negative integer"

    return Parsed(values, failing_rows(bad), describe)


def _decimal_problem(name: str, value: object) -> str:
    if value in ("", None):
        return f"missing {name}"
    text = str(value).strip()
    if text.startswith("-"):
        return f"{name} {text} is negative"
    return f"{name} {text!r} is not a number"


MAX_PLACES = 36
"""With `whole_digits` (a deposit's amount, which a case keeps), at most this many decimal places."""


def amounts(column: pa.Array, name: str, whole_digits: int | None = None) -> Parsed:
    """Non-negative decimal amounts, kept as their exact decimal text; with `whole_digits`, below 10^whole_digits
    and with at most MAX_PLACES decimal places.

    >>> amounts(pa.array(["1.5", "1" + "0" * 20, "1e21", "99e18"]), "amount", whole_digits=20).bad.tolist()
    [1, 2]
    """
    text = as_text(column)
    if pa.types.is_integer(column.type) or pa.types.is_decimal(column.type) or pa.types.is_floating(column.type):
        negative = as_mask(pc.starts_with(text, "-"))
        bad = negative | as_mask(pc.equal(text, "")) | as_mask(pc.match_substring(text, "n"))
    else:
        bad = ~as_mask(pc.match_substring_regex(text, _DECIMAL))
    large = np.zeros(len(text), dtype=bool)
    fine = np.zeros(len(text), dtype=bool)
    if whole_digits is not None:
        large = ~bad & as_mask(pc.match_substring_regex(text, rf"^\+?0*[1-9][0-9]{{{whole_digits},}}(\.[0-9]*)?$"))
        fine = ~bad & as_mask(pc.match_substring_regex(text, rf"\.[0-9]*[1-9][0-9]*$")) & as_mask(
            pc.match_substring_regex(text, rf"\.[0-9]{{{MAX_PLACES + 1},}}"))
        for i in np.flatnonzero(~bad & as_mask(pc.match_substring(text, "e", ignore_case=True))):
            value = Decimal(value_at(text, i))  # exponent forms: exactly
            large[i] = value >= Decimal(10) ** whole_digits
            fine[i] = value != 0 and value.as_tuple().exponent < -MAX_PLACES and value.normalize().as_tuple().exponent \
                < -MAX_PLACES

    def describe(i: int) -> str:
        if large[i]:
            return f"{name} {value_at(text, i)} is too large (at most {whole_digits} digits before the decimal point)"
        if fine[i]:
            return f"{name} {str(value_at(text, i))[:40]} has more than {MAX_PLACES} decimal places"
        return _decimal_problem(name, value_at(text, i))

    return Parsed(text, failing_rows(bad | large | fine), describe)


def _exact_micro(text: str) -> int:
    """One decimal text as whole micro-units, rounded half to even."""
    return int((Decimal(text) * MICRO).to_integral_value(rounding=ROUND_HALF_EVEN))


def micro_usd(column: pa.Array, name: str, optional: bool = False) -> Parsed:
    """Non-negative USD values as int64 micro-dollars (exact; more than 6 decimals round half-even).

    >>> micro_usd(pa.array(["1.5", "0.0000005"]), "usd").values.tolist()
    [1500000, 0]
    """
    if pa.types.is_floating(column.type):
        column = pc.cast(column, pa.string())  # the shortest repr, then the exact path below
    text = as_text(column)
    empty = as_mask(pc.equal(text, ""))
    ok = as_mask(pc.match_substring_regex(text, _DECIMAL))
    simple = ok & as_mask(pc.match_substring_regex(text, _SIMPLE_DECIMAL))
    values = np.zeros(len(text), dtype=np.int64)
    if simple.any():
        floats = pc.cast(pc.filter(text, pa.array(simple)), pa.float64()).to_numpy()
        values[simple] = np.rint(floats * MICRO).astype(np.int64)
    overflow = np.zeros(len(text), dtype=bool)
    for i in np.flatnonzero(ok & ~simple):
        try:
            micro = _exact_micro(value_at(text, i))
        except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
            ok[i] = False
            continue
        if micro >= 2**62:
            overflow[i] = True
        else:
            values[i] = micro
    bad = (~ok | overflow) & ~(empty & optional)

    def describe(i: int) -> str:
        if overflow[i]:
            return f"{name} {value_at(text, i)} is too large"
        return _decimal_problem(name, value_at(text, i))

    if optional:
        return Parsed((values, empty), failing_rows(bad), describe)
    return Parsed(values, failing_rows(bad), describe)


def unpriced(usd: Parsed, amount: Parsed) -> tuple[np.ndarray, np.ndarray]:
    """(micro-dollars, unknown) from an optional `micro_usd` and its row's `amounts`.

    A value is unknown when usd_value is empty and the amount is not zero: a zero amount
    is worth nothing whatever its price.
    """
    values, empty = usd.values
    unknown = empty.copy()
    if empty.any():  # the amounts matter only where the value is empty: most files have none
        unknown[empty] = ~as_mask(pc.match_substring_regex(trimmed(pc.filter(amount.values, pa.array(empty))),
                                                           _ZERO))
    return values, unknown


def required_text(column: pa.Array, name: str, lower: bool = False) -> Parsed:
    """Non-empty text (trimmed), optionally lowercased, within its limit and free of control characters."""
    text = trimmed(as_text(column))
    if lower:
        lowered = pc.ascii_lower(text)
        if not pc.all(pc.equal(text, lowered)).as_py():
            text = lowered
    empty = as_mask(pc.equal(text, ""))
    checked = checked_text(text, name)
    return Parsed(text, np.union1d(failing_rows(empty), checked.bad),
                  lambda i: f"missing {name}" if empty[i] else checked.describe(i))


def checked_text(text: pa.Array, name: str) -> Parsed:
    """The rows of `text` longer than the field's limit (TEXT_LIMITS) or holding a control character (CONTROL_PATTERN).

    >>> checked_text(pa.array(["ok", "a\x1b[31mb", "x" * 201]), "customer_id").bad.tolist()
    [1, 2]
    """
    limit = TEXT_LIMITS.get(name)
    long = as_mask(pc.greater(pc.utf8_length(text), limit)) if limit else np.zeros(len(text), dtype=bool)
    control = (as_mask(pc.match_substring_regex(text, CONTROL_PATTERN)) if may_hold_controls(text)
               else np.zeros(len(text), dtype=bool))

    def describe(i: int) -> str:
        value = value_at(text, i)
        if long[i]:
            return f"{name} is {len(value):,} characters long (at most {limit})"
        shown = repr(value if len(value) <= 80 else value[:80] + "...")
        return f"{name} {shown} holds a control character"

    return Parsed(text, failing_rows(long | control), describe)


def trimmed(text: pa.Array) -> pa.Array:
    """Text without surrounding whitespace (no copy when there is none)."""
    edges = [pc.starts_with(text, c) for c in (" ", "\t")] + [pc.ends_with(text, c) for c in (" ", "\t")]
    if any(_any(edge) for edge in edges):
        return pc.utf8_trim_whitespace(text)
    return text


def optional_text(column: pa.Array) -> pa.Array:
    """Trimmed text with empty strings."""
    return trimmed(as_text(column))
