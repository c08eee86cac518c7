"""The inbound index's rows grouped by one wallet (the receiver, or the sender) in time order, with running sums.

The inbound index (graph/index.py) orders each receiver's transfers by block and position;
a withdrawal is screened as of a time instead, and needs a wallet's outgoing transfers too.
`WalletRows` sorts the same rows by (wallet, time), so the rows of a wallet inside a time
window [start, stop) are one range found by two binary searches, whatever order the file's
times were in; `MarkedSums` adds up a subset of those rows (say, the ones from flagged
senders) over any range the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graph.index import InboundIndex, running_sum


@dataclass(frozen=True)
class WalletRows:
    """Index rows sorted by (wallet, time): `rows[i]` is the index row at position i."""

    rows: np.ndarray
    keys: np.ndarray
    """wallet id * radix + rank of the row's time among `times`, sorted."""
    times: np.ndarray
    """The distinct times of all index rows, sorted."""
    radix: int
    cum_usd: np.ndarray
    cum_unpriced: np.ndarray
    """Running sums of USD (micro) and of unknown-value rows, in this order."""

    @classmethod
    def build(cls, index: InboundIndex, wallet: np.ndarray, *, ranks: tuple[np.ndarray, np.ndarray]) -> "WalletRows":
        """Group the index's rows by `wallet` (one id per index row); `ranks` = (distinct times, each row's rank)."""
        times, rank = ranks
        radix = len(times) + 1
        keys = wallet.astype(np.int64) * radix + rank
        if len(keys) and np.any(keys[1:] < keys[:-1]):
            rows = np.argsort(keys, kind="stable")
            keys = keys[rows]
        else:  # receivers whose times follow block order: already sorted
            rows = np.arange(len(keys), dtype=np.int64)
        return cls(rows, keys, times, radix, running_sum(index.usd[rows]),
                   running_sum(index.unpriced[rows].astype(np.int64)))

    @classmethod
    def both_ways(cls, index: InboundIndex) -> tuple["WalletRows", "WalletRows"]:
        """(each wallet's incoming transfers, each wallet's outgoing transfers), in time order."""
        times, rank = np.unique(index.timestamp, return_inverse=True)
        ranks = (times, rank.reshape(-1).astype(np.int64))
        receiver = np.repeat(np.arange(len(index.segment) - 1), np.diff(index.segment))
        return cls.build(index, receiver, ranks=ranks), cls.build(index, index.source, ranks=ranks)

    def bounds(self, wallets: np.ndarray, start: np.ndarray, stop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions [lo, hi) of each wallet's rows with start <= time < stop."""
        first = np.searchsorted(self.times, start, side="left")
        last = np.searchsorted(self.times, stop, side="left")
        base = wallets.astype(np.int64) * self.radix
        return (np.searchsorted(self.keys, base + first, side="left"),
                np.searchsorted(self.keys, base + np.maximum(last, first), side="left"))

    def sums(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """USD (micro) and unknown-value rows in positions [lo, hi)."""
        return self.cum_usd[hi] - self.cum_usd[lo], self.cum_unpriced[hi] - self.cum_unpriced[lo]


@dataclass(frozen=True)
class MarkedSums:
    """Per category, the marked positions of a WalletRows with a value each, some of them unknown.

    The positions of category c are kept as keys c x stride + position, all categories in one
    sorted array, so that over positions [lo, hi) every category's rows add up to (sum of known
    values, how many unknown, how many marked) with two binary searches in all.
    """

    keys: np.ndarray
    cum_value: np.ndarray
    cum_unknown: np.ndarray
    stride: int
    """More than the largest position or range end: one category's keys never reach the next one's."""
    k: int

    @classmethod
    def build(cls, positions: list[np.ndarray], values: list[np.ndarray], unknown: list[np.ndarray], *,
              size: int) -> "MarkedSums":
        """From per-category positions (any order, each below `size`), their values (0 where unknown) and unknown
        flags."""
        stride = size + 1
        order = [np.argsort(p, kind="stable") for p in positions]  # each category sorted, then one after another
        empty = [np.empty(0, dtype=np.int64)]
        keys = np.concatenate([np.asarray(p, dtype=np.int64)[o] + c * stride
                               for c, (p, o) in enumerate(zip(positions, order))] + empty)
        value = running_sum(np.concatenate([np.asarray(v, dtype=np.int64)[o] for v, o in zip(values, order)] + empty))
        flags = running_sum(np.concatenate([np.asarray(u, dtype=np.int64)[o] for u, o in zip(unknown, order)] + empty))
        return cls(keys, value, flags, stride, len(positions))

    @classmethod
    def of_bits(cls, bits: np.ndarray, rows: WalletRows, *, k: int, index: InboundIndex) -> "MarkedSums":
        """Mark, for each of k categories c, the positions whose index row has bit c in `bits` (one per index row)."""
        at = bits[rows.rows]
        positions = [np.flatnonzero(at & np.uint64(1 << c)) for c in range(k)]
        return cls.build(positions, [index.usd[rows.rows[p]] for p in positions],
                         [index.unpriced[rows.rows[p]] for p in positions], size=len(rows.rows))

    def marked(self, c: int) -> int:
        """How many positions category c marks."""
        return int(np.searchsorted(self.keys, (c + 1) * self.stride) - np.searchsorted(self.keys, c * self.stride))

    def all_in_range(self, lo: np.ndarray, hi: np.ndarray, *,
                     categories: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(known value, unknown count, marked count) in positions [lo, hi), one row per category (all k, or
        `categories`), one column per range."""
        c = (np.arange(self.k, dtype=np.int64) if categories is None else categories.astype(np.int64))[:, None]
        first = np.searchsorted(self.keys, c * self.stride + np.asarray(lo, dtype=np.int64)[None, :])
        last = np.searchsorted(self.keys, c * self.stride + np.asarray(hi, dtype=np.int64)[None, :])
        return (self.cum_value[last] - self.cum_value[first], self.cum_unknown[last] - self.cum_unknown[first],
                last - first)
