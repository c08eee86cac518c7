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
                 top: int = TOP_SOURCES, per_source: int = TX_PER_SOURCE) -> tuple[tuple[SourceEvidence, ...], int]:
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


def _indirect(index: InboundIndex, flags: FlagView, category: str, picked: np.ndarray,
              top: int) -> tuple[tuple[SourceEvidence, ...], int]:
    """Rank the flagged funding rows of one exposure by source, in vectors; Python touches the top only.

    The same order as rank_sources: sources by USD (descending) then address, a source's
    transactions by USD (descending), then order, then hash.
    """
    ids, where = np.unique(index.source[picked], return_inverse=True)
    totals = np.zeros(len(ids), dtype=np.int64)
    np.add.at(totals, where, index.usd[picked])
    counts = np.bincount(where, minlength=len(ids))
    unknown = np.bincount(where, weights=index.unpriced[picked], minlength=len(ids)).astype(np.int64)
    # the top by USD, widened to every source tied with the last one, then ordered with addresses
    cut = np.sort(totals)[::-1][min(top, len(totals)) - 1]
    near = np.flatnonzero(totals >= cut)
    names = index.addresses.take(pa.array(ids[near])).to_pylist()
    ranked = sorted(zip(near.tolist(), names), key=lambda item: (-int(totals[item[0]]), item[1]))[:top]
    sources = []
    for position, address in ranked:
        rows = picked[where == position]
        orders = index.order_of(rows)
        hashes = index.tx_hash.take(pa.array(index.row[rows])).to_pylist()
        best = sorted(zip((-index.usd[rows]).tolist(), orders.tolist(), hashes))[:TX_PER_SOURCE]
        sources.append(SourceEvidence(address, int(totals[position]), int(counts[position]),
                                      tuple(tx for _, _, tx in best), flags.lists.get((address, category), ()),
                                      int(unknown[position])))
    return tuple(sources), len(ids)


def collect(index: InboundIndex, flags: FlagView, deposits: Deposits, exposures: Exposures,
            which: np.ndarray | None = None, top: int = TOP_SOURCES) -> list[Evidence]:
    """Evidence for the exposures at positions `which` (all when None)."""
    lookback = exposures.lookback
    positions = range(len(exposures)) if which is None else which
    deposit_order = deposits.order
    out = []
    for i in positions:
        d = int(exposures.deposit[i])
        category = exposures.categories[int(exposures.category[i])]
        hop = int(exposures.hop[i])
        if hop == 1:
            value = int(deposits.usd_micro[d])
            unknown = bool(deposits.unpriced[d])
            sources, count = rank_sources(category, flags, [(deposits.from_address[d].as_py(), value,
                                                             int(deposit_order[d]), deposits.tx_hash[d].as_py(),
                                                             unknown)], top)
            transfers, unpriced = 1, int(unknown)
        else:
            rows = flags.rows[int(exposures.category[i])]
            picked = rows[np.searchsorted(rows, exposures.lo[i]):np.searchsorted(rows, exposures.hi[i])]
            if lookback is not None:  # a no-op unless the sender's times are out of block order
                picked = picked[index.timestamp[picked] >= window_start(deposits.timestamp[d:d + 1], lookback)[0]]
            sources, count = _indirect(index, flags, category, picked, top)
            transfers, unpriced = len(picked), int(index.unpriced[picked].sum())
        out.append(Evidence(deposits.deposit_id[d].as_py(), category, hop, int(exposures.flagged[i]),
                            int(exposures.total[i]), sources, count, transfers, unpriced))
    return out
