"""The evidence behind each exposure: which flagged sources, how much USD, through which transactions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from graph.exposure import Exposures, FlagView
from graph.index import InboundIndex, window_start
from graph.model import Deposits

TOP_SOURCES = 5
TX_PER_SOURCE = 3


@dataclass(frozen=True)
class SourceEvidence:
    """One flagged source of an exposure: its address, USD sent, transfers and their top tx hashes.

    `unpriced` of its transfers have no known USD value and are not in `usd_micro`.
    """

    address: str
    usd_micro: int
    transfers: int
    tx_hashes: tuple[str, ...]
    lists: tuple[str, ...]
    unpriced: int = 0


@dataclass(frozen=True)
class Evidence:
    """Why a deposit is exposed to a category at a hop; `sources` holds the top contributors."""

    deposit_id: str
    category: str
    hop: int
    flagged_micro: int
    total_micro: int
    sources: tuple[SourceEvidence, ...]
    source_count: int
    transfer_count: int
    unpriced_count: int = 0
    """Transfers behind it whose USD value is unknown (hop 1: the deposit itself), not in flagged_micro."""

    def to_dict(self) -> dict:
        """A JSON-ready dict (USD as micro-dollar integers)."""
        return {
            "deposit_id": self.deposit_id, "category": self.category, "hop": self.hop,
            "flagged_usd_micro": self.flagged_micro, "total_usd_micro": self.total_micro,
            "source_count": self.source_count, "transfer_count": self.transfer_count,
            "unpriced_transfers": self.unpriced_count,
            "sources": [{"address": s.address, "usd_micro": s.usd_micro, "transfers": s.transfers,
                         "unpriced_transfers": s.unpriced,
                         "tx_hashes": list(s.tx_hashes), "lists": list(s.lists)} for s in self.sources],
        }


def rank_sources(category: str, flags: FlagView,
                 contributions: list[tuple[str, int, int, str, bool]],
                 *, top: int = TOP_SOURCES, per_source: int = TX_PER_SOURCE) -> tuple[tuple[SourceEvidence, ...], int]:
    """Group (address, usd, order, tx_hash, unpriced) contributions by source; the top sources, and how many.

    Sources rank by USD (descending) then address; a source's transactions by USD, then order, then hash.
    """
    by_source: dict[str, list[tuple[int, int, str, bool]]] = {}
    for address, usd, order, tx, unknown in contributions:
        by_source.setdefault(address, []).append((usd, order, tx, unknown))
    ranked = sorted(by_source.items(), key=lambda item: (-sum(t[0] for t in item[1]), item[0]))
    out = []
    for address, items in ranked[:top]:
        items.sort(key=lambda t: (-t[0], t[1], t[2]))
        out.append(SourceEvidence(address, sum(t[0] for t in items), len(items),
                                  tuple(t[2] for t in items[:per_source]),
                                  flags.lists.get((address, category), ()), sum(t[3] for t in items)))
    return tuple(out), len(by_source)


def _funding(index: InboundIndex, flags: FlagView, deposits: Deposits, *, exposures: Exposures,
             positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The flagged funding rows of every hop-2 exposure at `positions`, with the place in `positions` of each row's.

    For an exposure of category c these are the rows of flags.rows[c] in [lo, hi) and, with a
    lookback, at or after the window's start (a no-op unless the sender's times are out of
    block order).
    """
    hop2 = np.flatnonzero(exposures.hop[positions] == 2)
    codes = exposures.category[positions[hop2]]
    rows, jobs = [np.empty(0, dtype=np.int64)], [np.empty(0, dtype=np.int64)]
    for c in np.unique(codes).tolist():
        mine = hop2[codes == c]
        flagged = flags.rows[c]
        first = np.searchsorted(flagged, exposures.lo[positions[mine]])
        lengths = np.searchsorted(flagged, exposures.hi[positions[mine]]) - first
        # the ranges [first, first + length) end to end: a running count shifted by each range's start
        shift = first - (np.cumsum(lengths) - lengths)
        rows.append(flagged[np.repeat(shift, lengths) + np.arange(int(lengths.sum()))].astype(np.int64))
        jobs.append(np.repeat(mine, lengths).astype(np.int64))
    row, job = np.concatenate(rows), np.concatenate(jobs)
    if exposures.lookback is not None:
        start = window_start(deposits.timestamp[exposures.deposit[positions]], exposures.lookback)
        inside = index.timestamp[row] >= start[job]
        row, job = row[inside], job[inside]
    return row, job


def _name_ranks(index: InboundIndex, source: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Each source's rank by address text (ties by id) among the distinct ids in `source`, and the addresses by rank."""
    present = np.zeros(len(index.addresses), dtype=bool)
    present[source] = True
    distinct = np.flatnonzero(present)
    names = index.addresses.take(pa.array(distinct, pa.int64())).to_pylist()
    by_name = sorted(range(len(distinct)), key=names.__getitem__)  # stable: equal texts stay in id order
    rank = np.empty(len(distinct), dtype=np.int64)
    rank[by_name] = np.arange(len(distinct))
    return rank[np.searchsorted(distinct, source)], [names[i] for i in by_name]


def _top_transactions(index: InboundIndex, rows: np.ndarray, group: np.ndarray) -> dict[int, tuple[str, ...]]:
    """The TX_PER_SOURCE best tx hashes of each group of rows, by USD (descending), then order, then hash.

    Rows sort by (group, -USD, order); a group keeps its first TX_PER_SOURCE rows and any tied
    with the last of them, whose hashes (all fetched in one take) settle the ties.
    """
    usd, order = index.usd[rows], index.order_of(rows)
    by_rank = np.lexsort((order, -usd, group))
    rows, group, usd, order = rows[by_rank], group[by_rank], usd[by_rank], order[by_rank]
    first = np.searchsorted(group, group, side="left")
    cut = np.minimum(first + TX_PER_SOURCE, np.searchsorted(group, group, side="right")) - 1
    keep = (np.arange(len(rows)) - first < TX_PER_SOURCE) | ((usd == usd[cut]) & (order == order[cut]))
    rows, group, usd, order = rows[keep], group[keep], usd[keep], order[keep]
    hashes = index.tx_hash.take(pa.array(index.row[rows], pa.int64())).to_pylist()
    candidates: dict[int, list[tuple[int, int, str]]] = {}
    for g, u, o, tx in zip(group.tolist(), (-usd).tolist(), order.tolist(), hashes):
        candidates.setdefault(g, []).append((u, o, tx))
    return {g: tuple(tx for _, _, tx in sorted(items)[:TX_PER_SOURCE]) for g, items in candidates.items()}


def _indirect(index: InboundIndex, flags: FlagView, *, categories: list[str], rows: np.ndarray, job: np.ndarray,
              top: int) -> tuple[list[list[SourceEvidence]], np.ndarray]:
    """The top sources of each exposure (named in `categories`) from its funding `rows` (`job` says whose), and how many.

    Rows are grouped by (exposure, source) with one sort and summed by segment; an exposure's
    sources rank by USD (descending) then address, as in rank_sources, and Python builds
    only the kept ones.
    """
    n = len(categories)
    rank, names = _name_ranks(index, index.source[rows])
    width = max(len(names), 1)
    by_key = np.argsort(job * width + rank) if n * width < 2**62 else np.lexsort((rank, job))
    rows, job, rank = rows[by_key], job[by_key], rank[by_key]
    starts = np.flatnonzero(np.r_[True, (job[1:] != job[:-1]) | (rank[1:] != rank[:-1])]) if len(rows) else rows
    sizes = np.diff(np.r_[starts, len(rows)])
    totals = np.add.reduceat(index.usd[rows], starts) if len(rows) else rows
    unknown = np.add.reduceat(index.unpriced[rows].astype(np.int64), starts) if len(rows) else rows
    group_job, group_rank = job[starts], rank[starts]
    # the groups are in exposure order already; within one, by USD (descending) then address
    ranked = np.lexsort((group_rank, -totals, group_job))
    kept = ranked[np.arange(len(ranked)) - np.searchsorted(group_job, group_job[ranked]) < top]
    group = np.repeat(np.arange(len(starts)), sizes)
    chosen = np.zeros(len(starts), dtype=bool)
    chosen[kept] = True
    hashes = _top_transactions(index, rows[chosen[group]], group[chosen[group]])
    sources: list[list[SourceEvidence]] = [[] for _ in range(n)]
    for g, j, r, usd, count, unpriced in zip(kept.tolist(), group_job[kept].tolist(), group_rank[kept].tolist(),
                                             totals[kept].tolist(), sizes[kept].tolist(), unknown[kept].tolist()):
        sources[j].append(SourceEvidence(names[r], usd, count, hashes[g], flags.lists.get((names[r], categories[j]), ()),
                                         unpriced))
    return sources, np.bincount(group_job, minlength=n)


def collect(index: InboundIndex, flags: FlagView, deposits: Deposits, *, exposures: Exposures,
            which: np.ndarray | None = None, top: int = TOP_SOURCES) -> list[Evidence]:
    """Evidence for the exposures at positions `which` (all when None), in that order.

    Hop-2 exposures are worked out together, in vectors (see `_indirect`); hop-1 evidence is
    the deposit itself.
    """
    positions = np.arange(len(exposures)) if which is None else np.asarray(which, dtype=np.int64).reshape(-1)
    deposit, hops = exposures.deposit[positions], exposures.hop[positions]
    categories = [exposures.categories[c] for c in exposures.category[positions].tolist()]
    rows, job = _funding(index, flags, deposits, exposures=exposures, positions=positions)
    sources, source_count = _indirect(index, flags, categories=categories, rows=rows, job=job, top=top)
    transfers = np.bincount(job, minlength=len(positions)).tolist()
    unpriced = np.bincount(job[index.unpriced[rows]], minlength=len(positions)).tolist()
    direct = deposit[hops == 1]
    taken = pa.array(direct, pa.int64())
    senders = iter(zip(deposits.from_address.take(taken).to_pylist(), deposits.tx_hash.take(taken).to_pylist(),
                       deposits.usd_micro[direct].tolist(), deposits.unpriced[direct].tolist(),
                       deposits.order[direct].tolist()))
    ids = deposits.deposit_id.take(pa.array(deposit, pa.int64())).to_pylist()
    out = []
    for j, (hop, flagged, total) in enumerate(zip(hops.tolist(), exposures.flagged[positions].tolist(),
                                                  exposures.total[positions].tolist())):
        if hop == 1:
            sender, tx, value, unknown, order = next(senders)
            found, count = rank_sources(categories[j], flags, [(sender, value, order, tx, unknown)], top=top)
            out.append(Evidence(ids[j], categories[j], hop, flagged, total, found, count, 1, int(unknown)))
        else:
            out.append(Evidence(ids[j], categories[j], hop, flagged, total, tuple(sources[j]),
                                int(source_count[j]), transfers[j], unpriced[j]))
    return out
