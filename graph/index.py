"""The inbound index: every address's incoming transfers in (block_number, position) order.

Rows are sorted by (receiver, order) and carry running sums of USD, so the value an address
received in any order range is two binary searches and a subtraction. Zero-value and
self-transfers are left out: they never count (docs/exposure.md). Transfers whose USD
value is unknown are kept, with USD 0 and a running count, so that they are reported.

Running sums are int64 micro-dollars and may wrap around over the whole table; a difference
inside one address's rows is still exact, because each address's inbound total is checked to
fit in int64 when the index is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.errors import GraphError
from graph.model import Transfers

_INT64_SAFE = float(2**62)


def running_sum(values: np.ndarray) -> np.ndarray:
    """[0, v0, v0+v1, ...] in wrapping int64, so that sums of ranges are differences."""
    out = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(values, out=out[1:])
    return out


SMALL_LOOKUP = 256
"""At most this many addresses are looked up one by one in `InboundIndex.lookup()`'s table, when it exists."""


@dataclass
class InboundIndex:
    """Inbound transfers per address, sorted by order, with running USD sums."""

    addresses: pa.Array
    """Address of each id (lowercase), the ids being positions in this array."""
    keys: np.ndarray
    """Sorted receiver_id << shift | p, where p is the transfer's place in `order_sorted`."""
    shift: int
    order_sorted: np.ndarray
    """The order keys of all indexed transfers, sorted."""
    segment: np.ndarray
    """segment[a]:segment[a + 1] are the rows of address a."""
    source: np.ndarray
    usd: np.ndarray
    cum_usd: np.ndarray
    unpriced: np.ndarray
    """Whether each row's USD value is unknown (its usd is then 0)."""
    cum_unpriced: np.ndarray
    """Running count of unknown-value rows, like cum_usd."""
    row: np.ndarray
    """The row of each indexed transfer in the transfers it was built from."""
    timestamp: np.ndarray
    tx_hash: pa.Array
    """tx_hash of every row of the original transfers."""
    _time_keys: tuple[np.ndarray, np.ndarray, int, np.ndarray] | None = field(default=None, repr=False)
    _by_address: dict[str, int] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def build(cls, transfers: Transfers) -> "InboundIndex":
        """Index `transfers` by receiver; raises GraphError if one address's inbound USD overflows."""
        src, dst, dictionary = transfers.src, transfers.dst, transfers.addresses
        keep = np.flatnonzero(((transfers.usd_micro > 0) | transfers.unpriced) & (src != dst))
        order = transfers.order[keep]
        if len(order) and np.any(order[1:] < order[:-1]):  # files in chain order skip this sort
            by_order = np.argsort(order, kind="stable")
            keep, order = keep[by_order], order[by_order]
        # Each transfer's place in chain order fits beside its receiver in one int64, so one
        # plain sort of these numbers orders everything by (receiver, order), and the low
        # bits say where each came from.
        shift = max(1, int(len(keep)).bit_length())
        keys = (dst[keep].astype(np.int64) << shift) | np.arange(len(keep), dtype=np.int64)
        keys.sort()
        rows = keep[keys & ((1 << shift) - 1)]
        n_addresses = len(dictionary)
        counts = np.bincount(dst[rows], minlength=n_addresses)
        segment = np.zeros(n_addresses + 1, dtype=np.int64)
        np.cumsum(counts, out=segment[1:])
        usd = transfers.usd_micro[rows]
        unpriced = transfers.unpriced[rows]
        totals = np.add.reduceat(usd.astype(np.float64), segment[:-1][counts > 0]) if len(usd) else usd
        if len(totals) and totals.max() >= _INT64_SAFE:
            worst = np.flatnonzero(counts > 0)[int(np.argmax(totals))]
            raise GraphError(f"inbound USD of {dictionary[int(worst)].as_py()} is too large to sum exactly")
        return cls(
            addresses=dictionary,
            keys=keys,
            shift=shift,
            order_sorted=order,
            segment=segment,
            source=src[rows],
            usd=usd,
            cum_usd=running_sum(usd),
            unpriced=unpriced,
            cum_unpriced=running_sum(unpriced.astype(np.int64)),
            row=rows.astype(np.int64),
            timestamp=transfers.timestamp[rows],
            tx_hash=transfers.tx_hash,
        )

    def ids(self, addresses: pa.Array) -> np.ndarray:
        """The id of each address, -1 for addresses that appear in no transfer.

        A few addresses are looked up in `lookup()`'s table when it was made (a resident
        screener asks for one at a time); otherwise a hash of all the addresses is built for
        the call, which suits a batch.
        """
        if self._by_address is not None and len(addresses) <= SMALL_LOOKUP:
            return np.array([self._by_address.get(a, -1) for a in addresses.to_pylist()], dtype=np.int64)
        found = pc.index_in(addresses, value_set=self.addresses)
        return pc.fill_null(found, -1).to_numpy().astype(np.int64)

    def lookup(self) -> dict[str, int]:
        """Every address's id, made once (seconds for millions of addresses) and kept: `ids` of a few addresses
        then costs microseconds instead of a hash of all of them."""
        if self._by_address is None:
            self._by_address = {a: i for i, a in enumerate(self.addresses.to_pylist())}
        return self._by_address

    def order_of(self, rows: np.ndarray) -> np.ndarray:
        """The order key of indexed rows."""
        return self.order_sorted[self.keys[rows] & ((1 << self.shift) - 1)]

    def _time_index(self) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
        """Sorted receiver_id * radix + time rank, and which addresses' times go backwards in order.

        Block times only grow along the chain, so each address's rows are in time order too,
        and the rows inside a window are a range. For an address where some file says
        otherwise, `unordered` is set and the window is applied row by row (see exposure.py).
        """
        if self._time_keys is None:
            receiver = np.repeat(np.arange(len(self.segment) - 1), np.diff(self.segment))
            backwards = np.flatnonzero((np.diff(self.timestamp) < 0) & (np.diff(receiver) == 0))
            unordered = np.zeros(len(self.segment) - 1, dtype=bool)
            unordered[receiver[backwards]] = True
            unique, rank = np.unique(self.timestamp, return_inverse=True)
            radix = len(unique) + 1
            self._time_keys = (receiver.astype(np.int64) * radix + rank, unique, radix, unordered)
        return self._time_keys

    def time_unordered(self, senders: np.ndarray) -> np.ndarray:
        """Whether each (known) sender's inbound times go backwards somewhere in block order."""
        return self._time_index()[3][senders]

    def query_keys(self, senders: np.ndarray, order: np.ndarray) -> np.ndarray:
        """Per deposit: sender_id << shift | how many indexed transfers come strictly before it in order."""
        by_order = np.argsort(order, kind="stable")
        before = np.empty(len(order), dtype=np.int64)
        before[by_order] = np.searchsorted(self.order_sorted, order[by_order], side="left")
        return (senders << self.shift) | before

    def bounds(self, senders: np.ndarray, queries: np.ndarray, times: np.ndarray,
               *, lookback: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Row ranges [lo, hi) of transfers into each (known) sender strictly before its query key.

        `queries` come from `query_keys`; sorted queries are much faster. With `lookback`
        (microseconds), the range starts at the first transfer at or after time - lookback;
        for a sender whose times are not in order (`time_unordered`) it starts at its first
        transfer, and the window must be applied row by row.
        """
        hi = np.searchsorted(self.keys, queries, side="left")
        lo = self.segment[senders]
        if lookback is not None:
            time_keys, unique, radix, unordered = self._time_index()
            start = np.searchsorted(unique, window_start(times, lookback), side="left")
            windowed = np.minimum(np.searchsorted(time_keys, senders * radix + start, side="left"), hi)
            lo = np.where(unordered[senders], lo, windowed)
        return lo, hi


def window_start(times: np.ndarray, lookback: int) -> np.ndarray:
    """time - lookback for each time, without overflow for very long windows."""
    return times - min(int(lookback), 2**62) if len(times) else times
