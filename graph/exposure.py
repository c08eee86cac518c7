"""Hop-1 and hop-2 exposure of deposits to flagged wallets, vectorised over a batch.

The definition is docs/exposure.md's, to the letter. For a deposit d from sender s, value v,
order key k, as of T:
- hop 1: every category s is flagged with at T, share 1, usd v;
- hop 2 (s not a service): over transfers u -> s strictly before k with usd_value > 0,
  u != s (and time >= time(d) - lookback when a window is set), total = their USD and
  flagged_c = the part from senders flagged with c at T; haircut share = flagged_c / total,
  poison share = 1 when flagged_c > 0; usd = v * share.
Shares are kept as exact fractions (numerator, denominator) of integer micro-dollars.

Unknown USD values (transfers or deposits without a price) are never taken as zero: funding
of unknown value is counted and reported beside each hop-2 exposure (`unpriced_total`,
`unpriced_flagged`), a flagged sender whose only funding has no price still yields an
exposure (its share is then unknown), and a deposit without a price has an unknown USD
exposure (`value_known`). Shares and totals are over the priced transfers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.errors import GraphError
from graph.index import InboundIndex, running_sum, window_start
from graph.model import Deposits, FlaggedWallets, Services

METHODS = ("haircut", "poison")
CHUNK = 250_000


@dataclass(frozen=True)
class ActiveFlags:
    """The flagged set as of one time, without any transfers: category bits per distinct address, and the lists."""

    categories: list[str]
    addresses: pa.Array
    """The distinct addresses flagged at that time (sorted)."""
    bits: np.ndarray
    """uint64 category bits of each address (bit i: categories[i])."""
    lists: dict[tuple[str, str], tuple[str, ...]]
    """(address, category) -> the sources (list names) that flag it at that time."""

    @classmethod
    def build(cls, flagged: FlaggedWallets, as_of: int, categories: list[str] | None = None) -> "ActiveFlags":
        """The flags active at `as_of` (microseconds); `categories` fixes the code of each category.

        >>> from tests.factories import flagged
        >>> active = ActiveFlags.build(flagged([(1, "scam"), (1, "mixer"), (2, "scam", 50)]), 10 * 10**6)
        >>> active.categories, active.bits.tolist()
        (['mixer', 'scam'], [3])
        """
        names = sorted(set(categories or []) | set(flagged.categories()))
        if len(names) > 63:
            raise GraphError(f"at most 63 categories are supported, not {len(names)}")
        code = {name: i for i, name in enumerate(names)}
        active = pa.array(flagged.active(as_of))
        addresses = pc.filter(flagged.address, active).to_pylist()
        active_categories = pc.filter(flagged.category, active).to_pylist()
        lists: dict[tuple[str, str], set[str]] = {}
        for address, category, source in zip(addresses, active_categories,
                                             pc.filter(flagged.source, active).to_pylist()):
            lists.setdefault((address, category), set()).add(source)
        unique, where = np.unique(np.asarray(addresses, dtype=object), return_inverse=True) \
            if addresses else (np.array([], dtype=object), np.array([], dtype=np.int64))
        bits = np.zeros(len(unique), dtype=np.uint64)
        np.bitwise_or.at(bits, where, np.array([1 << code[c] for c in active_categories], dtype=np.uint64))
        return cls(names, pa.array(unique.tolist(), pa.string()), bits,
                   {key: tuple(sorted(v)) for key, v in lists.items()})

    def bits_of(self, addresses: pa.Array) -> np.ndarray:
        """Category bits of each address (0 when not flagged)."""
        if not len(self.bits):
            return np.zeros(len(addresses), dtype=np.uint64)
        found = pc.fill_null(pc.index_in(addresses, value_set=self.addresses), -1).to_numpy()
        bits = self.bits[np.maximum(found, 0)]
        bits[found < 0] = 0
        return bits


@dataclass
class FlagView:
    """The flagged set as of one time, laid over an index: category bits per address and per row."""

    active: ActiveFlags
    as_of: int
    rows: list[np.ndarray]
    """rows[c]: sorted index rows whose sender is flagged with category c."""
    cum: list[np.ndarray]
    cum_unpriced: list[np.ndarray]
    """Running count of unknown-value rows among rows[c]."""
    any_rows: np.ndarray

    @property
    def categories(self) -> list[str]:
        """Category names; a category's code is its place here."""
        return self.active.categories

    @property
    def lists(self) -> dict[tuple[str, str], tuple[str, ...]]:
        """(address, category) -> the sources (list names) that flag it at this time."""
        return self.active.lists

    @classmethod
    def build(cls, index: InboundIndex, flagged: FlaggedWallets, as_of: int,
              *, categories: list[str] | None = None) -> "FlagView":
        """Flags active at `as_of` (microseconds); `categories` fixes the code of each category."""
        active = ActiveFlags.build(flagged, as_of, categories)
        by_id = np.zeros(len(index.addresses), dtype=np.uint64)
        ids = index.ids(active.addresses)
        by_id[ids[ids >= 0]] = active.bits[ids >= 0]
        row_bits = by_id[index.source]
        rows = [np.flatnonzero(row_bits & np.uint64(1 << i)) for i in range(len(active.categories))]
        return cls(active, as_of, rows, [running_sum(index.usd[r]) for r in rows],
                   [running_sum(index.unpriced[r].astype(np.int64)) for r in rows], np.flatnonzero(row_bits))

    def bits_of(self, addresses: pa.Array) -> np.ndarray:
        """Category bits of each address as of this view's time (0 when not flagged)."""
        return self.active.bits_of(addresses)

    def flagged_in(self, c: int, lo: np.ndarray, hi: np.ndarray,
                   *, unpriced: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """USD (micro) from category-c senders in index rows [lo, hi); with `unpriced`, also how many of their
        transfers had no price (else None). The rows are searched once for both."""
        rows = self.rows[c]
        first, last = np.searchsorted(rows, lo), np.searchsorted(rows, hi)
        counts = self.cum_unpriced[c][last] - self.cum_unpriced[c][first] if unpriced else None
        return self.cum[c][last] - self.cum[c][first], counts


@dataclass
class Exposures:
    """One row per exposure, ordered by (deposit, hop, category); USD in micro-dollars."""

    categories: list[str]
    method: str
    lookback: int | None
    """The window the exposures were scored with (microseconds), None for none."""
    deposit: np.ndarray
    category: np.ndarray
    hop: np.ndarray
    value: np.ndarray
    """The deposit's USD value (0 when unknown, see value_known)."""
    flagged: np.ndarray
    """Flagged USD behind the exposure (hop 1: the deposit's value)."""
    total: np.ndarray
    """All USD it is a part of (hop 1: the deposit's value)."""
    lo: np.ndarray
    hi: np.ndarray
    """Index rows [lo, hi) of the sender's funding that counted (hop 2)."""
    unpriced_total: np.ndarray
    """Transfers of unknown USD value in that funding (hop 2; 0 at hop 1)."""
    unpriced_flagged: np.ndarray
    """Of them, those from senders flagged with the category."""
    value_known: np.ndarray
    """Whether the deposit's USD value is known."""

    COLUMNS = ("deposit", "category", "hop", "value", "flagged", "total", "lo", "hi",
               "unpriced_total", "unpriced_flagged", "value_known")

    def __len__(self) -> int:
        return len(self.deposit)

    @cached_property
    def share_num(self) -> np.ndarray:
        """Numerator of the exact share: flagged USD under haircut at hop 2, else 1."""
        return np.where(self.haircut, self.flagged, 1)

    @cached_property
    def share_den(self) -> np.ndarray:
        """Denominator of the exact share: total USD under haircut at hop 2, else 1."""
        return np.where(self.haircut, self.total, 1)

    @cached_property
    def haircut(self) -> np.ndarray:
        """Which exposures have a haircut share (hop 2 under the haircut method)."""
        return (self.hop == 2) & (self.method == "haircut")

    @cached_property
    def share_known(self) -> np.ndarray:
        """Whether the share is known: a haircut share is not when any of the funding behind it has no price.

        The priced share flagged / total is then only an upper bound (unpriced clean funding
        would lower it) or no bound at all (unpriced flagged funding would raise it).
        """
        return ~self.haircut | ((self.unpriced_total == 0) & (self.total > 0))

    @cached_property
    def usd_known(self) -> np.ndarray:
        """Whether the exposure's USD is known (deposit value and share both known)."""
        return self.value_known & self.share_known

    @cached_property
    def incomplete(self) -> np.ndarray:
        """Exposures with something unknown: the deposit's value, or the share (funding without a price)."""
        return ~self.value_known | ~self.share_known | (self.unpriced_flagged > 0)

    def take(self, rows: np.ndarray) -> "Exposures":
        """The exposures at `rows` (positions), in that order."""
        return Exposures(self.categories, self.method, self.lookback,
                         *[getattr(self, name)[rows] for name in Exposures.COLUMNS])

    @staticmethod
    def concat(parts: list["Exposures"], *, categories: list[str], method: str, lookback: int | None) -> "Exposures":
        """Join per-chunk results whose deposit numbers are already global."""
        if not parts:
            return Exposures(categories, method, lookback, *[np.empty(0, dtype=bool if n == "value_known" else np.int64)
                                                             for n in Exposures.COLUMNS])
        return Exposures(categories, method, lookback, *[np.concatenate([getattr(p, n) for p in parts])
                                                         for n in Exposures.COLUMNS])


def is_service(services: Services | None, addresses: pa.Array) -> np.ndarray:
    """Whether each address is an attributed service."""
    if services is None or not len(services):
        return np.zeros(len(addresses), dtype=bool)
    return np.asarray(pc.is_in(addresses, value_set=services.address).to_numpy(zero_copy_only=False), dtype=bool)


def _chunk(index: InboundIndex, flags: FlagView, *, senders: np.ndarray, sender_bits: np.ndarray,
           service: np.ndarray, deposits: Deposits, offset: int, method: str,
           lookback: int | None) -> Exposures:
    n, k = len(deposits), len(flags.categories)
    # Hop 2, with the deposits sorted by (sender, order) so that every binary search in the
    # big index walks it forwards: this is what keeps a 10-million-row index fast.
    candidates = np.flatnonzero((senders >= 0) & ~service)
    queries = index.query_keys(senders[candidates], deposits.order[candidates])
    by_key = np.argsort(queries, kind="stable")
    candidates, queries = candidates[by_key], queries[by_key]
    lo, hi = index.bounds(senders[candidates], queries, deposits.timestamp[candidates], lookback=lookback)
    any_flag = np.searchsorted(flags.any_rows, hi) > np.searchsorted(flags.any_rows, lo)
    candidates, lo, hi = candidates[any_flag], lo[any_flag], hi[any_flag]
    # One row per deposit and a column per (hop, category): its non-zero cells, read in
    # row-major order, are the exposures already in (deposit, hop, category) order.
    # `unknown` counts, per hop-2 cell, the flagged transfers whose USD value is unknown.
    cells, unknown = direct_cells(sender_bits, k)
    any_unknown = bool(index.cum_unpriced[-1])
    for c in range(k):
        if len(flags.rows[c]) and len(candidates):
            cells[candidates, k + c], counts = flags.flagged_in(c, lo, hi, unpriced=any_unknown)
            if any_unknown:
                unknown[candidates, k + c] = counts
    total, first, last, unknown_total = (np.zeros(n, dtype=np.int64) for _ in range(4))
    total[candidates] = index.cum_usd[hi] - index.cum_usd[lo]
    unknown_total[candidates] = index.cum_unpriced[hi] - index.cum_unpriced[lo]
    first[candidates], last[candidates] = lo, hi
    if lookback is not None and len(candidates):
        unordered = np.flatnonzero(index.time_unordered(senders[candidates]))
        for i in unordered:  # times out of block order: apply the window row by row
            _window_by_rows(index, flags, cells=(cells, unknown), totals=(total, unknown_total), d=int(candidates[i]),
                            lo=int(lo[i]), hi=int(hi[i]),
                            start=int(window_start(deposits.timestamp[candidates[i]:candidates[i] + 1], lookback)[0]))
    return assemble(flags.categories, method=method, lookback=lookback, deposits=deposits, offset=offset, cells=cells,
                    unknown=unknown, funding=(total, unknown_total), rows=(first, last))


def direct_cells(sender_bits: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per deposit, one column per (hop, category): hop-1 columns set from the sender's category bits, hop 2 zero.

    The second array (unknown-value counts) is all zero. See `assemble`.
    """
    cells = np.zeros((len(sender_bits), 2 * k), dtype=np.int64)
    for c in range(k):
        cells[:, c] = ((sender_bits >> np.uint64(c)) & np.uint64(1)).astype(bool)
    return cells, np.zeros_like(cells)


def assemble(categories: list[str], *, method: str, lookback: int | None, deposits: Deposits, offset: int,
             cells: np.ndarray, unknown: np.ndarray, funding: tuple[np.ndarray, np.ndarray],
             rows: tuple[np.ndarray, np.ndarray]) -> Exposures:
    """The exposures of a chunk of deposits from its cells, in (deposit, hop, category) order.

    `cells[d, c]` is non-zero for a hop-1 exposure (c < k) and holds the flagged USD of a
    hop-2 one (c >= k); `unknown[d, c]` counts its flagged transfers of unknown value;
    `funding` is each deposit's hop-2 (total USD, unknown-value transfers) and `rows` its
    index rows [lo, hi) (zeros where there is no index). Engines differ in how they fill
    these; the exposures are then the same.
    """
    k = len(categories)
    total, unknown_total = funding
    d, column = np.nonzero(cells | unknown)
    hop = 1 + (column >= k)
    value = deposits.usd_micro[d]
    direct = hop == 1
    return Exposures(categories, method, lookback, d + offset, column % k, hop, value,
                     np.where(direct, value, cells[d, column]), np.where(direct, value, total[d]),
                     np.where(direct, 0, rows[0][d]), np.where(direct, 0, rows[1][d]),
                     np.where(direct, 0, unknown_total[d]), unknown[d, column], ~deposits.unpriced[d])


def _window_by_rows(index: InboundIndex, flags: FlagView, *, cells: tuple[np.ndarray, np.ndarray],
                    totals: tuple[np.ndarray, np.ndarray], d: int, lo: int, hi: int, start: int) -> None:
    """Set deposit d's hop-2 totals and flagged cells (USD, unknown count) from rows [lo, hi) at or after `start`."""
    k = len(flags.categories)
    inside = index.timestamp[lo:hi] >= start
    totals[0][d] = int(index.usd[lo:hi][inside].sum())
    totals[1][d] = int(index.unpriced[lo:hi][inside].sum())
    for c in range(k):
        rows = flags.rows[c][np.searchsorted(flags.rows[c], lo):np.searchsorted(flags.rows[c], hi)]
        rows = rows[index.timestamp[rows] >= start]
        cells[0][d, k + c] = int(index.usd[rows].sum())
        cells[1][d, k + c] = int(index.unpriced[rows].sum())


def score(index: InboundIndex, flags: FlagView, deposits: Deposits, *, services: Services | None = None,
          method: str = "haircut", lookback: int | None = None,
          progress: Callable[[int], None] | None = None) -> Exposures:
    """Exposures of every deposit; `lookback` in microseconds; `progress(n)` after each chunk of n deposits."""
    if method not in METHODS:
        raise GraphError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    senders = index.ids(deposits.from_address)
    sender_bits = flags.bits_of(deposits.from_address)
    service = is_service(services, deposits.from_address)
    parts = []
    for start in range(0, len(deposits), CHUNK):
        stop = min(start + CHUNK, len(deposits))
        parts.append(_chunk(index, flags, senders=senders[start:stop], sender_bits=sender_bits[start:stop],
                            service=service[start:stop], deposits=deposits.slice(start, stop), offset=start,
                            method=method, lookback=lookback))
        if progress:
            progress(stop - start)
    return Exposures.concat(parts, categories=flags.categories, method=method, lookback=lookback)
