"""A networkx reference of the exposure definition: one deposit at a time, exact fractions.

Slow by design and written straight from docs/exposure.md, it checks the indexed engine in tests,
gives the benchmark its baseline, and draws one deposit's neighbourhood.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import networkx as nx

from graph.evidence import Evidence, rank_sources
from graph.exposure import FlagView
from graph.model import Deposits, FlaggedWallets, Services, Transfers, order_keys


@dataclass(frozen=True)
class ReferenceExposure:
    """An exposure as the reference computes it."""

    deposit: int
    category: str
    hop: int
    share: Fraction | None
    """None when unknown: all the funding behind a haircut share has no price."""
    usd_micro: Fraction | None
    """None when unknown: the deposit has no price, or the share is unknown."""
    flagged: int
    total: int
    unpriced_total: int = 0
    unpriced_flagged: int = 0


def build_graph(transfers: Transfers) -> nx.MultiDiGraph:
    """Every transfer as an edge from -> to, keyed by its row, with its order, time, USD (None if unknown) and hash."""
    graph = nx.MultiDiGraph()
    order = transfers.order
    rows = zip(transfers.from_address.to_pylist(), transfers.to_address.to_pylist(), order.tolist(),
               transfers.timestamp.tolist(), transfers.usd_micro.tolist(), transfers.unpriced.tolist(),
               transfers.tx_hash.to_pylist())
    for row, (u, v, k, t, usd, unknown, tx) in enumerate(rows):
        graph.add_edge(u, v, key=row, order=k, time=t, usd=None if unknown else usd, tx=tx)
    return graph


def flags_as_of(flagged: FlaggedWallets, as_of: int) -> dict[str, set[str]]:
    """address -> categories it is flagged with at `as_of`."""
    out: dict[str, set[str]] = {}
    for address, category, listed, delisted in zip(flagged.address.to_pylist(), flagged.category.to_pylist(),
                                                   flagged.listed_at.tolist(), flagged.delisted_at.tolist()):
        if listed <= as_of < delisted:
            out.setdefault(address, set()).add(category)
    return out


def _inbound(graph: nx.MultiDiGraph, sender: str, *, order: int, time: int, lookback: int | None):
    """The transfers into `sender` that count for a deposit at (order, time)."""
    if sender not in graph:
        return []
    out = []
    for u, _, data in graph.in_edges(sender, data=True):
        if u == sender or data["usd"] == 0 or data["order"] >= order:
            continue
        if lookback is not None and data["time"] < time - lookback:
            continue
        out.append((u, data))
    return out


def exposures(graph: nx.MultiDiGraph, deposits: Deposits, flagged: FlaggedWallets, *, as_of: int,
              services: Services | None = None, method: str = "haircut",
              lookback: int | None = None) -> list[ReferenceExposure]:
    """Every exposure of every deposit, ordered by (deposit, hop, category)."""
    flags = flags_as_of(flagged, as_of)
    service_set = set(services.address.to_pylist()) if services is not None else set()
    order = order_keys(deposits.block, deposits.position)
    out: list[ReferenceExposure] = []
    values = [None if unknown else v for v, unknown in zip(deposits.usd_micro.tolist(), deposits.unpriced.tolist())]
    for d, (sender, value) in enumerate(zip(deposits.from_address.to_pylist(), values)):
        for category in sorted(flags.get(sender, ())):
            usd = None if value is None else Fraction(value)
            out.append(ReferenceExposure(d, category, 1, Fraction(1), usd, value or 0, value or 0))
        if sender in service_set:
            continue
        inbound = _inbound(graph, sender, order=int(order[d]), time=int(deposits.timestamp[d]), lookback=lookback)
        total = sum(data["usd"] for _, data in inbound if data["usd"] is not None)
        unknown_total = sum(data["usd"] is None for _, data in inbound)
        per_category: dict[str, list[int]] = {}
        for u, data in inbound:
            for category in flags.get(u, ()):
                cell = per_category.setdefault(category, [0, 0])
                if data["usd"] is None:
                    cell[1] += 1
                else:
                    cell[0] += data["usd"]
        for category in sorted(per_category):
            flagged_usd, unknown = per_category[category]
            if method == "poison":
                share: Fraction | None = Fraction(1)
            else:  # any funding without a price leaves the share unknown
                share = Fraction(flagged_usd, total) if total and not unknown_total else None
            usd = None if value is None or share is None else value * share
            out.append(ReferenceExposure(d, category, 2, share, usd, flagged_usd, total, unknown_total, unknown))
    return out


def evidence(graph: nx.MultiDiGraph, deposits: Deposits, view: FlagView, *, exposure: ReferenceExposure,
             lookback: int | None = None) -> Evidence:
    """The evidence of one reference exposure, ranked like the engine's."""
    d = exposure.deposit
    sender = deposits.from_address[d].as_py()
    order = int(order_keys(deposits.block[d:d + 1], deposits.position[d:d + 1])[0])
    if exposure.hop == 1:
        contributions = [(sender, int(deposits.usd_micro[d]), order, deposits.tx_hash[d].as_py(),
                          bool(deposits.unpriced[d]))]
    else:
        flagged = {a for (a, c) in view.lists if c == exposure.category}
        contributions = [(u, data["usd"] or 0, data["order"], data["tx"], data["usd"] is None)
                         for u, data in _inbound(graph, sender, order=order, time=int(deposits.timestamp[d]),
                                                 lookback=lookback)
                         if u in flagged]
    sources, count = rank_sources(exposure.category, view, contributions)
    return Evidence(deposits.deposit_id[d].as_py(), exposure.category, exposure.hop, exposure.flagged,
                    exposure.total, sources, count, len(contributions), sum(c[4] for c in contributions))


def neighbourhood(graph: nx.MultiDiGraph, sender: str, order: int) -> nx.MultiDiGraph:
    """The sender, its funders before `order`, and their funders before the funding: two hops back."""
    keep = nx.MultiDiGraph()
    if sender not in graph:
        keep.add_node(sender)
        return keep
    for u, _, key, data in graph.in_edges(sender, keys=True, data=True):
        if data["order"] < order and u != sender:
            keep.add_edge(u, sender, key=key, **data)
            for w, _, key2, data2 in graph.in_edges(u, keys=True, data=True):
                if data2["order"] < data["order"] and w != u:
                    keep.add_edge(w, u, key=key2, **data2)
    return keep


@dataclass(frozen=True)
class ReferenceDestinationExposure:
    """A withdrawal destination's exposure as the reference computes it (docs/exposure.md, "Withdrawal destinations")."""

    destination: int
    category: str
    kind: str
    hop: int
    flagged: int = 0
    total: int = 0
    unpriced_total: int = 0
    unpriced_flagged: int = 0
    flagged_transfers: int = 0

    @property
    def share(self) -> Fraction | None:
        """The exact share (1 for self); None when a value behind it is unknown or nothing was priced."""
        if self.kind == "self":
            return Fraction(1)
        if self.unpriced_total or self.unpriced_flagged or not self.total:
            return None
        return Fraction(self.flagged, self.total)


def _hop2_contributions(graph: nx.MultiDiGraph, sender: str, data: dict, *, flags: dict[str, set[str]],
                        lookback: int | None) -> dict[str, int | None]:
    """category -> what the transfer `data` from `sender` contributes at hop 2: floor(usd x sender's flagged share),
    None when unknown; only the categories its sender's funding traces to."""
    funding = _inbound(graph, sender, order=data["order"], time=data["time"], lookback=lookback)
    total = sum(d["usd"] for _, d in funding if d["usd"] is not None)
    unknown_total = sum(d["usd"] is None for _, d in funding)
    flagged_usd: dict[str, int] = {}
    for u, d in funding:
        for category in flags.get(u, ()):
            flagged_usd[category] = flagged_usd.get(category, 0) + (d["usd"] or 0)
    known = data["usd"] is not None and not unknown_total and total > 0
    return {c: data["usd"] * f // total if known else None for c, f in flagged_usd.items()}


def destination_exposures(graph: nx.MultiDiGraph, destinations: list[str], flagged: FlaggedWallets, *, as_of: int,
                          services: Services | None = None,
                          lookback: int | None = None) -> list[ReferenceDestinationExposure]:
    """Every exposure of every destination as of `as_of`, ordered by (destination, kind and hop, category)."""
    flags = flags_as_of(flagged, as_of)
    service_set = set(services.address.to_pylist()) if services is not None else set()

    def counted(data: dict) -> bool:
        return data["usd"] != 0 and data["time"] < as_of and (lookback is None or data["time"] >= as_of - lookback)

    out: list[ReferenceDestinationExposure] = []
    for n, destination in enumerate(destinations):
        out += [ReferenceDestinationExposure(n, c, "self", 0) for c in sorted(flags.get(destination, ()))]
        if destination in service_set or destination not in graph:
            continue
        inbound = [(u, d) for u, _, d in graph.in_edges(destination, data=True) if u != destination and counted(d)]
        outbound = [(w, d) for _, w, d in graph.out_edges(destination, data=True) if w != destination and counted(d)]
        sides = {}
        for name, edges in (("received", inbound), ("sent", outbound)):
            cells: dict[str, list[int]] = {}
            for other, d in edges:
                for category in flags.get(other, ()):
                    cell = cells.setdefault(category, [0, 0, 0])
                    cell[0] += d["usd"] or 0
                    cell[1] += d["usd"] is None
                    cell[2] += 1
            sides[name] = (cells, sum(d["usd"] or 0 for _, d in edges), sum(d["usd"] is None for _, d in edges))
        traced: dict[str, list[int]] = {}
        for u, d in inbound:
            if u in service_set:
                continue
            for category, part in _hop2_contributions(graph, u, d, flags=flags, lookback=lookback).items():
                cell = traced.setdefault(category, [0, 0, 0])
                cell[0] += part or 0
                cell[1] += part is None
                cell[2] += 1
        received_totals = sides["received"][1:]
        for kind, hop, (cells, total, unknown) in (("received", 1, sides["received"]),
                                                   ("received", 2, (traced, *received_totals)),
                                                   ("sent", 1, sides["sent"])):
            out += [ReferenceDestinationExposure(n, c, kind, hop, cells[c][0], total, unknown, cells[c][1], cells[c][2])
                    for c in sorted(cells)]
    return out


@dataclass(frozen=True)
class ReferenceTraced:
    """A transfer carrying stolen value at one hop, as the forward-tracing reference computes it."""

    row: int
    hop: int
    stolen_micro: int
    unpriced: bool


def traced_forward(transfers: Transfers, *, tx_hashes: Sequence[str] = (), wallets: Sequence[str] = (),
                   since: int | None = None, hops: int = 3, services: Services | None = None) -> list[ReferenceTraced]:
    """docs/exposure.md, "Tracing stolen funds forward", in plain loops over every transfer in chain order, each
    wallet holding its stolen value hop by hop (not cumulated) and each carry an exact fraction rounded down."""
    service_set = set(services.address.to_pylist()) if services is not None else set()
    named_tx, named_wallets = set(tx_hashes), set(wallets)
    senders, receivers = transfers.from_address.to_pylist(), transfers.to_address.to_pylist()
    values = [None if unknown else usd for usd, unknown in zip(transfers.usd_micro.tolist(), transfers.unpriced.tolist())]
    hashes, times = transfers.tx_hash.to_pylist(), transfers.timestamp.tolist()
    chain_order = sorted(range(len(transfers)), key=lambda r: (int(transfers.block[r]), int(transfers.position[r]), r))
    pool: dict[str, int] = {}
    pool_unknown: set[str] = set()
    holding: dict[str, dict[int, int]] = {}  # wallet -> hop (1 .. hops - 1) -> stolen USD held at that hop
    unknown_holding: dict[str, set[int]] = {}  # wallet -> hops at which what it holds is unknown
    out: list[ReferenceTraced] = []
    for r in chain_order:
        w, x, v = senders[r], receivers[r], values[r]
        if w == x or v == 0:
            continue
        seed = hashes[r] in named_tx or (w in named_wallets and (since is None or times[r] >= since))
        carries: dict[int, tuple[int, bool]] = {}  # hop -> (stolen USD, unknown)
        held = holding.get(w, {})
        doubtful = unknown_holding.get(w, set())
        carried_up_to = 0  # what the transfer carries at hops <= h + 1, for the h before
        taken: dict[int, int] = {}
        for h in range(1, hops):
            if w in service_set:
                break
            held_up_to = sum(held.get(j, 0) for j in range(1, h + 1))
            if v is None:
                up_to = 0
            elif v >= pool.get(w, 0):
                up_to = held_up_to
            else:
                up_to = math.floor(Fraction(v) * held_up_to / pool[w])
            taken[h] = up_to - carried_up_to
            carried_up_to = up_to
            unknown = v is None or w in pool_unknown or h in doubtful
            if taken[h] > 0 or ((held.get(h, 0) > 0 or h in doubtful) and unknown):
                carries[h + 1] = (taken[h], unknown)
        if seed:
            carries = {1: (v or 0, v is None)} if (v or v is None) else {}
        for h, amount in taken.items():
            held[h] = held.get(h, 0) - amount
        out += [ReferenceTraced(r, hop, amount, unknown) for hop, (amount, unknown) in sorted(carries.items())]
        if v is not None:
            pool[w] = max(pool.get(w, 0) - v, 0)
            pool[x] = pool.get(x, 0) + v
        if x not in service_set:
            for hop, (amount, unknown) in carries.items():
                if hop < hops:
                    holding.setdefault(x, {})[hop] = holding.get(x, {}).get(hop, 0) + amount
                    if unknown:
                        unknown_holding.setdefault(x, set()).add(hop)
        if v is None:
            pool_unknown.update((w, x))
    return sorted(out, key=lambda t: (t.row, t.hop))
