"""The evidence behind each exposure: which flagged sources, how much USD, through which transactions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graph.exposure import Exposures, FlagView
from graph.index import InboundIndex, window_start
from graph.model import Deposits

TOP_SOURCES = 5
TX_PER_SOURCE = 3


@dataclass(frozen=True)
class SourceEvidence:
    """One flagged source of an exposure: its address, USD sent, transfers and their top tx hashes."""

    address: str
    usd_micro: int
    transfers: int
    tx_hashes: tuple[str, ...]
    lists: tuple[str, ...]


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

    def to_dict(self) -> dict:
        """A JSON-ready dict (USD as micro-dollar integers)."""
        return {
            "deposit_id": self.deposit_id, "category": self.category, "hop": self.hop,
            "flagged_usd_micro": self.flagged_micro, "total_usd_micro": self.total_micro,
            "source_count": self.source_count, "transfer_count": self.transfer_count,
            "sources": [{"address": s.address, "usd_micro": s.usd_micro, "transfers": s.transfers,
                         "tx_hashes": list(s.tx_hashes), "lists": list(s.lists)} for s in self.sources],
        }


def rank_sources(category: str, flags: FlagView,
                 contributions: list[tuple[str, int, int, str]],
                 top: int = TOP_SOURCES, per_source: int = TX_PER_SOURCE) -> tuple[tuple[SourceEvidence, ...], int]:
    """Group (address, usd, order, tx_hash) contributions by source; the top sources, and how many there are.

    Sources rank by USD (descending) then address; a source's transactions by USD, then order, then hash.
    """
    by_source: dict[str, list[tuple[int, int, str]]] = {}
    for address, usd, order, tx in contributions:
        by_source.setdefault(address, []).append((usd, order, tx))
    ranked = sorted(by_source.items(), key=lambda item: (-sum(u for u, _, _ in item[1]), item[0]))
    out = []
    for address, items in ranked[:top]:
        items.sort(key=lambda t: (-t[0], t[1], t[2]))
        out.append(SourceEvidence(address, sum(u for u, _, _ in items), len(items),
                                  tuple(tx for _, _, tx in items[:per_source]),
                                  flags.lists.get((address, category), ())))
    return tuple(out), len(by_source)


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
            contributions = [(deposits.from_address[d].as_py(), value, int(deposit_order[d]),
                              deposits.tx_hash[d].as_py())]
        else:
            c = int(exposures.category[i])
            rows = flags.rows[c]
            picked = rows[np.searchsorted(rows, exposures.lo[i]):np.searchsorted(rows, exposures.hi[i])]
            if lookback is not None:  # a no-op unless the sender's times are out of block order
                picked = picked[index.timestamp[picked] >= window_start(deposits.timestamp[d:d + 1], lookback)[0]]
            orders = index.order_of(picked)
            contributions = [(index.addresses[int(index.source[r])].as_py(), int(index.usd[r]), int(o),
                              index.tx_hash[int(index.row[r])].as_py()) for r, o in zip(picked, orders)]
        sources, count = rank_sources(category, flags, contributions, top)
        out.append(Evidence(deposits.deposit_id[d].as_py(), category, hop, int(exposures.flagged[i]),
                            int(exposures.total[i]), sources, count, len(contributions)))
    return out
