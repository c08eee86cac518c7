"""The tables the engine works on: transfers, deposits, flagged wallets and services, as columns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

POSITION_BITS = 20
"""`position` must be below 2**20; the order key of a transfer is block << 20 | position."""

NEVER = np.iinfo(np.int64).max
"""An empty `delisted_at` (listed until further notice)."""

ALWAYS = np.iinfo(np.int64).min
"""An empty `listed_at` (listed since before any transfer)."""


def order_keys(block: np.ndarray, position: np.ndarray) -> np.ndarray:
    """One int64 per row that sorts like (block_number, position)."""
    return (block.astype(np.int64) << POSITION_BITS) | position.astype(np.int64)


@dataclass
class Transfers:
    """Value transfers, one row each: times in UTC microseconds, USD in micro-dollars.

    Senders and receivers are int32 codes into `addresses`, the distinct lowercase addresses.
    `unpriced` marks transfers of a non-zero amount whose USD value is unknown (usd_micro 0).
    """

    tx_hash: pa.Array
    block: np.ndarray
    position: np.ndarray
    timestamp: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    addresses: pa.Array
    asset: pa.Array
    usd_micro: np.ndarray
    unpriced: np.ndarray

    def __len__(self) -> int:
        return len(self.block)

    @property
    def from_address(self) -> pa.Array:
        """The sender of each transfer, as text."""
        return self.addresses.take(pa.array(self.src))

    @property
    def to_address(self) -> pa.Array:
        """The receiver of each transfer, as text."""
        return self.addresses.take(pa.array(self.dst))

    def take(self, rows: np.ndarray) -> "Transfers":
        """The transfers at `rows`, sharing this table's address dictionary."""
        picked = pa.array(rows)
        return Transfers(self.tx_hash.take(picked), self.block[rows], self.position[rows], self.timestamp[rows],
                         self.src[rows], self.dst[rows], self.addresses, self.asset.take(picked),
                         self.usd_micro[rows], self.unpriced[rows])

    @property
    def order(self) -> np.ndarray:
        """The order key of each transfer (see `order_keys`)."""
        return order_keys(self.block, self.position)


@dataclass
class Deposits:
    """Deposits to score, in file order; `unpriced` marks those whose USD value is unknown (usd_micro 0)."""

    deposit_id: pa.Array
    tx_hash: pa.Array
    customer_id: pa.Array
    timestamp: np.ndarray
    block: np.ndarray
    position: np.ndarray
    from_address: pa.Array
    to_address: pa.Array
    asset: pa.Array
    amount: pa.Array
    usd_micro: np.ndarray
    unpriced: np.ndarray

    def __len__(self) -> int:
        return len(self.block)

    @property
    def order(self) -> np.ndarray:
        """The order key of each deposit (see `order_keys`)."""
        return order_keys(self.block, self.position)

    def slice(self, start: int, stop: int) -> "Deposits":
        """Rows [start, stop) as a Deposits of their own."""
        return Deposits(**{name: value[start:stop] for name, value in vars(self).items()})

    def take(self, rows: np.ndarray) -> "Deposits":
        """The deposits at `rows`, in that order."""
        picked = pa.array(rows, pa.int64())
        return Deposits(**{name: value[rows] if isinstance(value, np.ndarray) else value.take(picked)
                           for name, value in vars(self).items()})


@dataclass
class FlaggedWallets:
    """Flag rows `address, category, source, listed_at, delisted_at` (empty dates as ALWAYS / NEVER), addresses
    as wallet keys.

    `case_lost` marks base58 entries whose letters' case the list lost (lowercase keys): they
    flag the wallets whose key lowercases to theirs, once `matched` has found them.
    """

    address: pa.Array
    category: pa.Array
    source: pa.Array
    listed_at: np.ndarray
    delisted_at: np.ndarray
    case_lost: np.ndarray | None = None

    CASE_LOST_NOTE = " (matched without letter case: the list lost it)"
    """Added to the source of a row that `matched` made, so that the evidence says how it matched."""

    def matched(self, seen: pa.Array) -> "FlaggedWallets":
        """These rows, plus for each entry whose case was lost a row for every wallet of `seen` (keys) whose key
        lowercases to the entry's, its source saying so.

        >>> lost = FlaggedWallets(pa.array(["tron:tab"]), pa.array(["sanctioned"]), pa.array(["ofac"]),
        ...                       np.array([ALWAYS]), np.array([NEVER]), np.array([True]))
        >>> lost.matched(pa.array(["tron:TaB", "tron:Tac"])).address.to_pylist()
        ['tron:tab', 'tron:TaB']
        """
        if self.case_lost is None or not self.case_lost.any() or not len(seen):
            return self
        seen = pc.unique(pa.array(seen, pa.string()))
        lowered = pc.utf8_lower(seen)
        lost = np.flatnonzero(self.case_lost)
        targets = self.address.take(pa.array(lost))
        hit = np.flatnonzero(np.asarray(pc.is_in(lowered, value_set=targets).to_numpy(zero_copy_only=False),
                                        dtype=bool))
        if len(hit):  # a wallet already in the list as written (or matched before) is not added again
            taken = seen.take(pa.array(hit))
            new = pc.and_(pc.not_equal(taken, lowered.take(pa.array(hit))),
                          pc.invert(pc.is_in(taken, value_set=pa.array(self.address, pa.string())
                                             if not isinstance(self.address, pa.ChunkedArray)
                                             else self.address.combine_chunks())))
            hit = hit[np.asarray(new.to_numpy(zero_copy_only=False), dtype=bool)]
        if not len(hit):
            return self
        by_key: dict[str, list[int]] = {}
        for row, key in zip(lost.tolist(), targets.to_pylist()):
            by_key.setdefault(key, []).append(row)
        rows, keys = [], []
        for wallet, low in zip(seen.take(pa.array(hit)).to_pylist(), lowered.take(pa.array(hit)).to_pylist()):
            for row in by_key[low]:
                rows.append(row)
                keys.append(wallet)
        picked = pa.array(rows, pa.int64())
        sources = pa.array([source + self.CASE_LOST_NOTE for source in self.source.take(picked).to_pylist()])
        def joined(old: pa.Array | pa.ChunkedArray, new: pa.Array) -> pa.ChunkedArray:
            return pa.chunked_array([*(old.chunks if isinstance(old, pa.ChunkedArray) else [old]), new], pa.string())

        return FlaggedWallets(joined(self.address, pa.array(keys, pa.string())),
                              joined(self.category, pc.cast(self.category.take(picked), pa.string())), joined(self.source, sources),
                              np.concatenate([self.listed_at, self.listed_at[rows]]),
                              np.concatenate([self.delisted_at, self.delisted_at[rows]]),
                              np.concatenate([self.case_lost, np.zeros(len(rows), dtype=bool)]))

    def __len__(self) -> int:
        return len(self.listed_at)

    def active(self, as_of: int) -> np.ndarray:
        """Which rows flag their wallet at `as_of` (microseconds): listed_at <= T < delisted_at."""
        return (self.listed_at <= as_of) & (as_of < self.delisted_at)

    def categories(self) -> list[str]:
        """The distinct categories, sorted."""
        return sorted(set(self.category.to_pylist()))


@dataclass
class Services:
    """Attributed services (exchanges, custodians): indirect exposure does not pass through them."""

    address: pa.Array
    entity: pa.Array
    kind: pa.Array

    def __len__(self) -> int:
        return len(self.address)


@dataclass
class Labels:
    """Addresses labelled for learning: 1 risky, 0 normal; `split` names a subset ("train", "test" or empty)."""

    address: pa.Array
    label: np.ndarray
    split: pa.Array

    def __len__(self) -> int:
        return len(self.label)

    def part(self, name: str | None) -> "Labels":
        """The rows of one split (all rows for None)."""
        if name is None:
            return self
        chosen = np.asarray(pc.equal(self.split, name).to_numpy(zero_copy_only=False), dtype=bool)
        return self.take(np.flatnonzero(chosen))

    def take(self, rows: np.ndarray) -> "Labels":
        """The labels at `rows`, in that order."""
        picked = pa.array(rows, pa.int64())
        return Labels(self.address.take(picked), self.label[rows], self.split.take(picked))

    def splits(self) -> list[str]:
        """The split names present (without the empty one)."""
        return sorted(set(self.split.to_pylist()) - {"", None})
