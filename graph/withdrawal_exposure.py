"""The exposure of a withdrawal's destination wallet as of a time, vectorised over a batch of destinations.

The definition is docs/exposure.md's, "Withdrawal destinations". For a destination D as of
T (transfers with time < T, and time >= T - lookback when a window is set), per category c:
- self (hop 0): D itself is flagged with c;
- received, hop 1: flagged_c / total over the transfers into D, flagged_c from c-flagged senders;
- received, hop 2: each transfer t = u -> D is scored as a deposit from u (the deposit
  engine's own hop 2, haircut), and contributes floor(usd(t) x u's flagged share); their sum / total;
- sent, hop 1: flagged_c / total over the transfers out of D, flagged_c to c-flagged receivers.
A service destination (an exchange) has its self exposures only. Unknown USD values are
counted beside the sums, never taken as zero.

`DestinationView.build` does the work that does not depend on T once (the hop-2
contribution of every transfer, the wallets' rows in time order); each destination then
costs a few binary searches per category.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa

from graph.exposure import FlagView, is_service, score
from graph.index import InboundIndex, window_start
from graph.model import ALWAYS, POSITION_BITS, Deposits, Services
from graph.wallet_rows import MarkedSums, WalletRows

KINDS = ("self", "received", "sent")
SLOTS = ((0, 0), (1, 1), (1, 2), (2, 1))
"""(kind, hop) of each exposure slot, in the order exposures are listed for a destination."""
CHUNK = 500_000
_SAFE_PRODUCT = float(2**62)


@dataclass
class WithdrawalExposures:
    """One row per exposure, ordered by (destination, kind and hop as in SLOTS, category); USD in micro-dollars."""

    categories: list[str]
    lookback: int | None
    n_destinations: int
    destination: np.ndarray
    """The destination's position in the batch."""
    category: np.ndarray
    kind: np.ndarray
    """Index into KINDS: 0 self, 1 received, 2 sent."""
    hop: np.ndarray
    flagged: np.ndarray
    """Flagged USD of known value (self: 0)."""
    total: np.ndarray
    """All priced USD received (or sent) in the window (self: 0)."""
    unpriced_total: np.ndarray
    """Transfers of unknown value among them."""
    unpriced_flagged: np.ndarray
    """Flagged transfers (hop 2: contributions) whose value is unknown."""
    flagged_transfers: np.ndarray
    """Transfers behind the exposure: from (to) flagged wallets, or, at hop 2, with a flagged trace (self: 0)."""

    COLUMNS = ("destination", "category", "kind", "hop", "flagged", "total", "unpriced_total", "unpriced_flagged",
               "flagged_transfers")

    def __len__(self) -> int:
        return len(self.destination)

    @cached_property
    def share_num(self) -> np.ndarray:
        """Numerator of the exact share: 1 for self, else the flagged USD."""
        return np.where(self.kind == 0, 1, self.flagged)

    @cached_property
    def share_den(self) -> np.ndarray:
        """Denominator of the exact share: 1 for self, else the total USD (0 when nothing was priced)."""
        return np.where(self.kind == 0, 1, self.total)

    @cached_property
    def share_known(self) -> np.ndarray:
        """Whether the share is known: no transfer behind it, flagged or not, is of unknown value."""
        return (self.kind == 0) | ((self.unpriced_total == 0) & (self.unpriced_flagged == 0) & (self.total > 0))

    @cached_property
    def incomplete(self) -> np.ndarray:
        """Exposures with something unknown: the share, or flagged USD of unknown value."""
        return ~self.share_known | (self.unpriced_flagged > 0)

    def kind_name(self, row: int) -> str:
        """'self', 'received' or 'sent'."""
        return KINDS[int(self.kind[row])]


@dataclass(frozen=True)
class DestinationView:
    """Everything about destinations that does not depend on the time asked about, built once per index and flags."""

    index: InboundIndex
    flags: FlagView
    lookback: int | None
    ids: dict[str, int]
    flag_bits: dict[str, int]
    service: np.ndarray
    """Whether each wallet id is a service."""
    inbound: WalletRows
    outbound: WalletRows
    received: MarkedSums
    """Inbound positions from flagged senders, per category."""
    traced: MarkedSums
    """Inbound positions whose sender's funding traces to flagged wallets, with their hop-2 contribution."""
    sent: MarkedSums
    """Outbound positions to flagged receivers, per category."""

    @classmethod
    def build(cls, index: InboundIndex, flags: FlagView, *, services: Services | None = None,
              lookback: int | None = None) -> "DestinationView":
        """Index the destinations' side of `index` under `flags`; `lookback` in microseconds (None: no window)."""
        k = len(flags.categories)
        bits = flags.bits_of(index.addresses)
        inbound, outbound = WalletRows.both_ways(index)
        receiver = np.repeat(np.arange(len(index.segment) - 1), np.diff(index.segment))
        service = is_service(services, index.addresses)
        return cls(index, flags, lookback, index.lookup(),
                   dict(zip(flags.active.addresses.to_pylist(), flags.active.bits.tolist())), service,
                   inbound, outbound, MarkedSums.of_bits(bits[index.source], inbound, k=k, index=index),
                   traced_contributions(index, flags, inbound, services=services, lookback=lookback),
                   MarkedSums.of_bits(bits[receiver], outbound, k=k, index=index))

    @property
    def categories(self) -> list[str]:
        """Category names; a category's code is its place here."""
        return self.flags.categories

    def exposures(self, destinations: pa.Array | list[str], *, as_of: int) -> WithdrawalExposures:
        """Every exposure of each destination (wallet key) as of `as_of` (microseconds)."""
        names = destinations if isinstance(destinations, list) else destinations.to_pylist()
        n, k = len(names), len(self.categories)
        ids = np.array([self.ids.get(a, -1) for a in names], dtype=np.int64)
        own = np.array([self.flag_bits.get(a, 0) for a in names], dtype=np.uint64)
        marked, flagged, unknown = (np.zeros((n, len(SLOTS) * k), dtype=np.int64) for _ in range(3))
        for c in range(k):
            marked[:, c] = (own >> np.uint64(c)) & np.uint64(1)
        totals = np.zeros((n, 2), dtype=np.int64), np.zeros((n, 2), dtype=np.int64)
        live = np.flatnonzero((ids >= 0) & ~self.service[np.maximum(ids, 0)]) if len(self.service) else ids[:0]
        if len(live):
            stop = np.full(len(live), as_of, dtype=np.int64)
            start = window_start(stop, self.lookback) if self.lookback is not None else np.full(len(live), ALWAYS)
            ranges = (self.inbound.bounds(ids[live], start, stop), self.outbound.bounds(ids[live], start, stop))
            for side, (rows, (lo, hi)) in enumerate(zip((self.inbound, self.outbound), ranges)):
                totals[0][live, side], totals[1][live, side] = rows.sums(lo, hi)
            for slot, sums, (lo, hi) in ((1, self.received, ranges[0]), (2, self.traced, ranges[0]),
                                         (3, self.sent, ranges[1])):
                found = sums.all_in_range(lo, hi)  # (k, len(live)) each
                columns = slice(slot * k, slot * k + k)
                flagged[live, columns], unknown[live, columns], marked[live, columns] = (part.T for part in found)
        d, column = np.nonzero(marked)
        slot = column // k
        side = (slot == 3).astype(np.int64)
        outside = slot == 0
        return WithdrawalExposures(
            self.categories, self.lookback, n, d, column % k,
            np.array([kind for kind, _ in SLOTS], dtype=np.int64)[slot],
            np.array([hop for _, hop in SLOTS], dtype=np.int64)[slot],
            flagged[d, column], np.where(outside, 0, totals[0][d, side]), np.where(outside, 0, totals[1][d, side]),
            unknown[d, column], np.where(outside, 0, marked[d, column]))


def destination_exposures(index: InboundIndex, flags: FlagView, destinations: pa.Array, *, as_of: int,
                          services: Services | None = None, lookback: int | None = None) -> WithdrawalExposures:
    """Every exposure of each destination as of `as_of`; for many calls, build a DestinationView once instead.

    >>> from tests.factories import MICRO, addr, flagged, transfers
    >>> index = InboundIndex.build(transfers([(10, 1, 5, 0, 300), (20, 1, 6, 0, 100)]))
    >>> view = FlagView.build(index, flagged([(10, "sanctions")]), 100 * MICRO)
    >>> e = destination_exposures(index, view, pa.array([addr(1)]), as_of=100 * MICRO)
    >>> [(e.kind_name(i), int(e.hop[i]), int(e.flagged[i]) // MICRO, int(e.total[i]) // MICRO) for i in range(len(e))]
    [('received', 1, 300, 400)]
    """
    return DestinationView.build(index, flags, services=services, lookback=lookback).exposures(destinations,
                                                                                              as_of=as_of)


def rows_as_deposits(index: InboundIndex, rows: np.ndarray) -> Deposits:
    """Index rows as deposits from their senders (at their own block, position and time), for the deposit engine."""
    order = index.order_of(rows)
    empty = pa.nulls(len(rows), pa.string())
    return Deposits(deposit_id=empty, tx_hash=empty, customer_id=empty, timestamp=index.timestamp[rows],
                    block=order >> POSITION_BITS, position=order & ((1 << POSITION_BITS) - 1),
                    from_address=index.addresses.take(pa.array(index.source[rows])), to_address=empty, asset=empty,
                    amount=empty, usd_micro=index.usd[rows], unpriced=index.unpriced[rows])


def floor_share(value: np.ndarray, num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """floor(value * num / den) exactly, for non-negative int64 arrays with den > 0.

    >>> floor_share(np.array([10, 2**40]), np.array([1, 2**40]), np.array([3, 2**41])).tolist()
    [3, 549755813888]
    """
    safe = value.astype(np.float64) * num.astype(np.float64) < _SAFE_PRODUCT
    out = np.zeros(len(value), dtype=np.int64)
    out[safe] = value[safe] * num[safe] // den[safe]
    big = np.flatnonzero(~safe)
    out[big] = [int(value[i]) * int(num[i]) // int(den[i]) for i in big]
    return out


def traced_contributions(index: InboundIndex, flags: FlagView, inbound: WalletRows, *,
                         services: Services | None, lookback: int | None) -> MarkedSums:
    """Per category, the inbound positions whose transfer, scored as a deposit from its sender, has a hop-2
    exposure, with its contribution floor(usd x share), unknown when the transfer or the share has no price."""
    k = len(flags.categories)
    position = np.empty(len(index), dtype=np.int64)
    position[inbound.rows] = np.arange(len(index), dtype=np.int64)
    # Only a sender that ever received from a flagged wallet can have a hop-2 exposure.
    receiver = np.repeat(np.arange(len(index.segment) - 1), np.diff(index.segment))
    funded = np.zeros(len(index.segment) - 1, dtype=bool)
    funded[receiver[flags.any_rows]] = True
    candidates = np.flatnonzero(funded[index.source]) if len(index) else np.empty(0, dtype=np.int64)
    parts: list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = [[] for _ in range(k)]
    for start in range(0, len(candidates), CHUNK):
        rows = candidates[start:start + CHUNK]
        e = score(index, flags, rows_as_deposits(index, rows), services=services, lookback=lookback)
        indirect = np.flatnonzero(e.hop == 2)
        known = e.usd_known[indirect]
        contribution = np.zeros(len(indirect), dtype=np.int64)
        chosen = indirect[known]
        contribution[known] = floor_share(e.value[chosen], e.flagged[chosen], e.total[chosen])
        where = position[rows[e.deposit[indirect]]]
        for c in range(k):
            pick = e.category[indirect] == c
            parts[c].append((where[pick], contribution[pick], ~known[pick]))
    joined = [[np.concatenate([p[i] for p in part]) if part else np.empty(0, dtype=bool if i == 2 else np.int64)
               for i in range(3)] for part in parts]
    return MarkedSums.build([j[0] for j in joined], [j[1] for j in joined], [j[2] for j in joined], size=len(index))
