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

    `positions[c]` is sorted; over positions [lo, hi) the category's rows add up to
    (sum of known values, how many unknown, how many marked), each two binary searches.
    """

    positions: list[np.ndarray]
    cum_value: list[np.ndarray]
    cum_unknown: list[np.ndarray]

    @classmethod
    def build(cls, positions: list[np.ndarray], values: list[np.ndarray], unknown: list[np.ndarray]) -> "MarkedSums":
        """From per-category positions (any order), their values (0 where unknown) and unknown flags."""
        order = [np.argsort(p, kind="stable") for p in positions]
        return cls([p[o] for p, o in zip(positions, order)], [running_sum(v[o]) for v, o in zip(values, order)],
                   [running_sum(u[o].astype(np.int64)) for u, o in zip(unknown, order)])

    @classmethod
    def of_bits(cls, bits: np.ndarray, rows: WalletRows, *, k: int, index: InboundIndex) -> "MarkedSums":
        """Mark, for each of k categories c, the positions whose index row has bit c in `bits` (one per index row)."""
        at = bits[rows.rows]
        positions = [np.flatnonzero(at & np.uint64(1 << c)) for c in range(k)]
        return cls(positions, [running_sum(index.usd[rows.rows[p]]) for p in positions],
                   [running_sum(index.unpriced[rows.rows[p]].astype(np.int64)) for p in positions])

    def in_range(self, c: int, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(known value, unknown count, marked count) of category c in positions [lo, hi)."""
        first, last = np.searchsorted(self.positions[c], lo), np.searchsorted(self.positions[c], hi)
        return (self.cum_value[c][last] - self.cum_value[c][first],
                self.cum_unknown[c][last] - self.cum_unknown[c][first], last - first)
