"""Tracing stolen funds forward, from named transactions or wallets to wherever the value went.

The definition is docs/exposure.md's, "Tracing stolen funds forward", to the letter. In chain
order (block, position; ties in row order), over the transfers that count (a price above 0
or no price, not to the sender itself): seed transfers carry all their value at hop 1; every
other wallet W that is not a service keeps a pool P(W) (the priced value it received and has
not sent, never below 0) and the stolen value it holds at each hop h < `hops`, of which
K_h(W) is the part at hops <= h. A transfer of value v from W carries, at hops <= h + 1,
K_h(W) when v >= P(W), else floor(v * K_h(W) / P(W)), and takes that out of what W holds;
its receiver (not a service) holds it at the same hop. Unknown values are flagged, never
taken as zero.

The engine finds, with numpy, the rows whose sender may hold anything (`earliest_holding`)
and every such sender's pool before each of its transfers (`pools_before`), so the Python
loop runs over those rows only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.errors import GraphError
from graph.exposure import is_service
from graph.model import Services, Transfers

DEFAULT_HOPS = 3
"""How far value is followed by default: hop 1 the named transfers, hop 3 two wallets further (docs/exposure.md)."""

_SAFE_TOTAL = float(2**62)


@dataclass
class Traced:
    """Transfers that carry stolen value, one row per (transfer, hop), ordered by transfer then hop.

    `row` is the transfer's position in the traced `Transfers`; `stolen_micro` the stolen USD it
    carries at that hop, in micro-dollars rounded down; `unpriced` says that the transfer's value
    or its stolen part is unknown, `stolen_micro` then counting only what the priced values give.
    """

    row: np.ndarray
    hop: np.ndarray
    stolen_micro: np.ndarray
    unpriced: np.ndarray

    def __len__(self) -> int:
        return len(self.row)

    def take(self, rows: np.ndarray) -> "Traced":
        """The traced rows at positions `rows`, in that order."""
        return Traced(self.row[rows], self.hop[rows], self.stolen_micro[rows], self.unpriced[rows])

    @staticmethod
    def empty() -> "Traced":
        """No traced rows."""
        return Traced(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, bool))


def trace_forward(transfers: Transfers, *, tx_hashes: Sequence[str] = (), wallets: Sequence[str] = (),
                  since: int | None = None, hops: int = DEFAULT_HOPS, services: Services | None = None) -> Traced:
    """Every transfer that carries value stolen in the transactions `tx_hashes`, or sent by the wallets `wallets`
    (wallet keys) at or after `since` (microseconds; None: all they sent), up to hop `hops`.

    >>> from tests.factories import addr, transfers
    >>> t = transfers([(1, 2, 1, 0, 300, 12, "0xhack"), (2, 3, 2, 0, 100)])
    >>> traced = trace_forward(t, tx_hashes=["0xhack"])
    >>> traced.row.tolist(), traced.hop.tolist(), traced.stolen_micro.tolist()
    ([0, 1], [1, 2], [300000000, 100000000])
    """
    if hops < 1:
        raise GraphError(f"hops must be at least 1, not {hops}")
    named = seed_mask(transfers, tx_hashes=tx_hashes, wallets=wallets, since=since)
    counted = np.flatnonzero(((transfers.usd_micro > 0) | transfers.unpriced) & (transfers.src != transfers.dst))
    order = transfers.order[counted]
    if len(order) and np.any(order[1:] < order[:-1]):
        counted = counted[np.argsort(order, kind="stable")]
    seed = named[counted]
    if not seed.any():
        return Traced.empty()
    src, dst = transfers.src[counted].astype(np.int64), transfers.dst[counted].astype(np.int64)
    usd, unknown = transfers.usd_micro[counted], transfers.unpriced[counted]
    service = is_service(services, transfers.addresses)
    levels = hops - 1
    if levels:
        reach = earliest_holding(src, dst, seed=seed, service=service, levels=levels)
        ranks = np.arange(len(src))
        candidate = np.flatnonzero(seed | (~service[src] & (reach[src] < ranks)))
        pool, pool_unknown = pools_before(src, dst, usd=usd, unknown=unknown, tracked=reach < len(src),
                                          wanted=candidate)
    else:
        candidate = np.flatnonzero(seed)
        pool = np.zeros(len(candidate), np.int64)
        pool_unknown = np.zeros(len(candidate), bool)
    rank, hop, stolen, flagged = follow(
        candidate.tolist(), levels=levels,
        columns=(src[candidate].tolist(), dst[candidate].tolist(), usd[candidate].tolist(),
                 unknown[candidate].tolist(), pool.tolist(), pool_unknown.tolist(), seed[candidate].tolist(),
                 service[dst[candidate]].tolist()))
    rows = counted[np.asarray(rank, np.int64)]
    hop_array = np.asarray(hop, np.int64)
    by_row = np.lexsort((hop_array, rows))
    return Traced(rows[by_row], hop_array[by_row], np.asarray(stolen, np.int64)[by_row],
                  np.asarray(flagged, bool)[by_row])


def reaching(traced: Traced, transfers: Transfers, receivers: pa.Array) -> Traced:
    """The traced rows whose receiver is one of `receivers` (wallet keys: the platform's deposit addresses).

    >>> from tests.factories import addr, transfers
    >>> t = transfers([(1, 2, 1, 0, 300, 12, "0xhack"), (2, 3, 2, 0, 100)])
    >>> reaching(trace_forward(t, tx_hashes=["0xhack"]), t, pa.array([addr(3)])).row.tolist()
    [1]
    """
    codes = pc.fill_null(pc.index_in(transfers.addresses, value_set=pa.array(receivers, pa.string())), -1)
    chosen = codes.to_numpy(zero_copy_only=False) >= 0
    return traced.take(np.flatnonzero(chosen[transfers.dst[traced.row]]))


def seed_mask(transfers: Transfers, *, tx_hashes: Sequence[str], wallets: Sequence[str],
              since: int | None) -> np.ndarray:
    """Which transfers are seeds: those of the transactions `tx_hashes`, and those `wallets` sent at or after `since`."""
    seed = np.zeros(len(transfers), bool)
    if len(tx_hashes):
        named = pc.is_in(transfers.tx_hash, value_set=pa.array(list(tx_hashes), pa.string()))
        seed |= np.asarray(pc.fill_null(named, False).to_numpy(zero_copy_only=False), bool)
    if len(wallets):
        codes = pc.fill_null(pc.index_in(pa.array(list(wallets), pa.string()), value_set=transfers.addresses), -1)
        codes = codes.to_numpy(zero_copy_only=False)
        sender = np.zeros(len(transfers.addresses), bool)
        sender[codes[codes >= 0]] = True
        sent = sender[transfers.src]
        seed |= sent if since is None else sent & (transfers.timestamp >= since)
    return seed


def earliest_holding(src: np.ndarray, dst: np.ndarray, *, seed: np.ndarray, service: np.ndarray,
                     levels: int) -> np.ndarray:
    """For each wallet, the first rank (place in chain order) at which it may hold stolen value at a hop <= `levels`,
    or len(src) when it never may: seed receivers, then receivers of what they send afterwards, `levels` deep.

    The real holdings are a subset (a carry may round to 0), so rows whose sender's rank here is
    not below their own carry nothing.
    """
    ranks = np.arange(len(src))
    reach = np.full(len(service), len(src), np.int64)
    first = seed & ~service[dst]
    np.minimum.at(reach, dst[first], ranks[first])
    passing = ~service[src] & ~service[dst]
    for _ in range(levels - 1):
        carrying = passing & (reach[src] < ranks)
        further = reach.copy()
        np.minimum.at(further, dst[carrying], ranks[carrying])
        if np.array_equal(further, reach):
            break
        reach = further
    return reach


def pools_before(src: np.ndarray, dst: np.ndarray, *, usd: np.ndarray, unknown: np.ndarray, tracked: np.ndarray,
                 wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For the transfers at ranks `wanted`: their sender's pool just before them, and whether it is unknown then.

    The pool follows P := max(P + x, 0) over the wallet's transfers in chain order (x = +v
    received, -v sent, priced ones only), whose solution is P_n = S_n - min(0, min_{k<=n} S_k)
    with S the running sum: computed for every `tracked` wallet at once. Unknown: the wallet
    received or sent a transfer of unknown value before.
    """
    sent, received = np.flatnonzero(tracked[src]), np.flatnonzero(tracked[dst])
    shift = max(1, int(len(src)).bit_length())
    keys = np.concatenate([src[sent] << shift | sent, dst[received] << shift | received])
    if not len(keys):
        return np.zeros(len(wanted), np.int64), np.zeros(len(wanted), bool)
    by_key = np.argsort(keys)
    keys = keys[by_key]
    delta = np.concatenate([-usd[sent], usd[received]])[by_key]
    unpriced = np.concatenate([unknown[sent], unknown[received]])[by_key].astype(np.int64)
    wallet = keys >> shift
    starts = np.flatnonzero(np.r_[True, wallet[1:] != wallet[:-1]])
    lengths = np.diff(np.r_[starts, len(keys)])
    if np.add.reduceat(np.abs(delta).astype(np.float64), starts).max() >= _SAFE_TOTAL:
        raise GraphError("a wallet's USD in and out is too large to follow exactly")
    running = np.cumsum(delta)  # wraps over the whole table; exact within one wallet (checked above)
    local = running - np.repeat(running[starts] - delta[starts], lengths)
    after = local - np.minimum(segmented_running_min(local, starts=starts, lengths=lengths), 0)
    counts = np.cumsum(unpriced)
    unknown_before = counts - unpriced - np.repeat(counts[starts] - unpriced[starts], lengths)
    first = np.zeros(len(keys), bool)
    first[starts] = True
    before = np.where(first, 0, np.r_[0, after[:-1]])
    # Where each wanted rank's send event went; a wanted row whose sender is not tracked is a seed
    # from a wallet that holds nothing, whose pool is not needed (0).
    place_of = np.empty(len(keys), np.int64)
    place_of[by_key] = np.arange(len(keys))
    event = np.minimum(np.searchsorted(sent, wanted), max(len(sent) - 1, 0))
    found = sent[event] == wanted if len(sent) else np.zeros(len(wanted), bool)
    place = place_of[event] if len(sent) else np.zeros(len(wanted), np.int64)
    return np.where(found, before[place], 0), found & (unknown_before[place] > 0)


LONG_RUN = 64
"""Runs longer than this get their running minimum from numpy one run at a time; shorter ones all at once."""


def segmented_running_min(values: np.ndarray, *, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The running minimum of `values` within consecutive runs (`starts`, `lengths`: where each begins, how long).

    Long runs one numpy call each; the short ones together in doubling steps (after the step of
    length d, each element holds the minimum of the 2d elements ending at it, within its run).

    >>> segmented_running_min(np.array([3, 1, 2, 5, 4, 0, 9]), starts=np.array([0, 3, 6]),
    ...                       lengths=np.array([3, 3, 1])).tolist()
    [3, 1, 1, 5, 4, 0, 9]
    """
    out = values.copy()
    long = lengths > LONG_RUN
    for first, length in zip(starts[long].tolist(), lengths[long].tolist()):
        np.minimum.accumulate(out[first:first + length], out=out[first:first + length])
    start = np.repeat(np.where(long, -1, starts), lengths)  # -1: done above
    live = np.flatnonzero((start >= 0) & (np.arange(len(values)) > start))
    step = 1
    while len(live):
        out[live] = np.minimum(out[live], out[live - step])
        step *= 2
        live = live[live - step >= start[live]]
    return out


def follow(ranks: list[int], *, levels: int, columns: tuple[list, ...]) -> tuple[list, list, list, list]:
    """Carry stolen value along the candidate transfers, in chain order: (rank, hop, stolen, unpriced) of each
    transfer and hop that carries something.

    `columns` are the candidates' sender, receiver, USD, no-price flag, sender's pool before,
    whether that pool is unknown, seed flag and whether the receiver is a service. Each wallet
    holding something has K (stolen at hops <= h, h = 1..levels) and the hops whose holding is
    unknown.
    """
    held: dict[int, list[int]] = {}
    unsure: dict[int, list[bool]] = {}
    out_rank: list[int] = []
    out_hop: list[int] = []
    out_stolen: list[int] = []
    out_unknown: list[bool] = []
    for rank, sender, receiver, value, no_price, pool, pool_unknown, seed, to_service in zip(ranks, *columns):
        k = held.get(sender)
        sure = unsure.get(sender)
        carried: list[int] = []  # cumulative: what the transfer carries at hops <= 2, <= 3, ...
        doubtful: list[bool] = []
        if seed:
            if value or no_price:
                out_rank.append(rank)
                out_hop.append(1)
                out_stolen.append(value)
                out_unknown.append(no_price)
        if k is not None:
            total = previous = 0
            for h in range(levels):
                taken = 0 if no_price else k[h] if value >= pool else value * k[h] // pool
                if not seed:
                    holds = k[h] > previous or sure[h]
                    doubt = no_price or pool_unknown or sure[h]
                    if taken > total or (holds and doubt):
                        out_rank.append(rank)
                        out_hop.append(h + 2)
                        out_stolen.append(taken - total)
                        out_unknown.append(doubt)
                    carried.append(taken)
                    doubtful.append(holds and doubt)
                total, previous = taken, k[h]
                k[h] -= taken
            if not k[-1] and not any(sure):
                del held[sender], unsure[sender]
        if to_service or not levels or not (seed or carried):
            continue
        if seed:
            carried, doubtful = [value] * levels, [no_price] + [False] * (levels - 1)
        else:
            carried, doubtful = [0] + carried[:-1], [False] + doubtful[:-1]
        if not carried[-1] and not any(doubtful):
            continue
        mine = held.setdefault(receiver, [0] * levels)
        marks = unsure.setdefault(receiver, [False] * levels)
        for h in range(levels):
            mine[h] += carried[h]
            marks[h] = marks[h] or doubtful[h]
    return out_rank, out_hop, out_stolen, out_unknown
