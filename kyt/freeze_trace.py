"""A freeze request traced to the platform's deposits: stolen funds followed forward into the deposits that got them.

The deposits are transfers too: each deposit row joins the transfers (unless the
transfers already hold it, same transaction and receiver) so that a sender's stolen share
flows into it like into any wallet (graph/forward.py, docs/exposure.md, "Tracing stolen
funds forward"). Every deposit that receives stolen value becomes a record decided
`freeze` under the rule `freeze-request`, category `stolen_funds`, at the hop the funds
reached it, with the stolen USD and its share of the deposit: the record `cases` opens a
case for, or links to the case it already has.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph import wallet_keys
from graph.forward import trace_forward
from graph.model import Deposits, Services, Transfers
from graph.money import micro_text
from kyt.errors import KytError
from kyt.record import ChainAddress, DepositRecord, ExposureLine, Snapshot

RULE_ID = "freeze-request"
CATEGORY = "stolen_funds"
DEFAULT_HOPS = 3


@dataclass(frozen=True)
class RequestSeeds:
    """What a request names: transactions of stolen funds, and wallets whose sending since a time is stolen."""

    reference: str
    tx_hashes: tuple[str, ...] = ()
    wallets: tuple[str, ...] = ()
    """Wallet keys (graph.chains)."""
    since: int | None = None
    """Microseconds; the wallets' transfers from then on are stolen."""
    hops: int = DEFAULT_HOPS


@dataclass(frozen=True)
class Hit:
    """A deposit that received stolen funds: its record (decided freeze), the stolen USD the priced values give, the
    hop, and whether values without a price stand behind it (the stolen part is then at least `stolen_usd`)."""

    record: DepositRecord
    stolen_usd: Decimal
    hop: int
    unknown: bool = False


def with_deposits(transfers: Transfers, deposits: Deposits) -> tuple[Transfers, np.ndarray]:
    """The transfers with each deposit not already among them (same tx hash and receiver) added; and, per deposit,
    its row in the result."""
    dictionary = pc.unique(pa.concat_arrays([_array(transfers.addresses), _array(deposits.from_address),
                                             _array(deposits.to_address)]))
    remap = pc.index_in(transfers.addresses, value_set=dictionary).to_numpy().astype(np.int32)
    src, dst = remap[transfers.src], remap[transfers.dst]
    d_src = pc.index_in(deposits.from_address, value_set=dictionary).to_numpy().astype(np.int32)
    d_dst = pc.index_in(deposits.to_address, value_set=dictionary).to_numpy().astype(np.int32)
    known = {(h, int(d)): i for i, (h, d) in enumerate(zip(transfers.tx_hash.to_pylist(), dst.tolist()))}
    hashes = deposits.tx_hash.to_pylist()
    where = np.array([known.get((h, int(d)), -1) for h, d in zip(hashes, d_dst.tolist())], dtype=np.int64)
    new = np.flatnonzero(where < 0)
    where[new] = len(transfers) + np.arange(len(new))
    picked = pa.array(new, pa.int64())
    combined = Transfers(
        pa.concat_arrays([_array(transfers.tx_hash), _array(deposits.tx_hash.take(picked))]),
        np.concatenate([transfers.block, deposits.block[new]]), np.concatenate([transfers.position,
                                                                               deposits.position[new]]),
        np.concatenate([transfers.timestamp, deposits.timestamp[new]]), np.concatenate([src, d_src[new]]),
        np.concatenate([dst, d_dst[new]]), dictionary,
        pa.concat_arrays([_array(transfers.asset), _array(deposits.asset.take(picked))]),
        np.concatenate([transfers.usd_micro, deposits.usd_micro[new]]),
        np.concatenate([transfers.unpriced, deposits.unpriced[new]]))
    return combined, where


def _array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def trace(seeds: RequestSeeds, transfers: Transfers, deposits: Deposits, *, services: Services | None = None,
          now: datetime) -> tuple[list[Hit], Snapshot]:
    """The deposits the request's stolen funds reached (each at the lowest hop it was reached at), as hits."""
    combined, where = with_deposits(transfers, deposits)
    traced = trace_forward(combined, tx_hashes=seeds.tx_hashes, wallets=seeds.wallets, since=seeds.since,
                           hops=seeds.hops, services=services)
    snapshot = _snapshot(seeds, now)
    by_row: dict[int, list[tuple[int, int, bool]]] = {}
    for row, hop, stolen, unpriced in zip(traced.row.tolist(), traced.hop.tolist(), traced.stolen_micro.tolist(),
                                          traced.unpriced.tolist()):
        by_row.setdefault(row, []).append((hop, stolen, unpriced))
    hits = []
    for d, row in enumerate(where.tolist()):
        found = by_row.get(row)
        if not found:
            continue
        hop = min(h for h, _, _ in found)
        unknown = any(u for _, _, u in found) or bool(deposits.unpriced[d])
        stolen = Decimal(micro_text(sum(s for _, s, _ in found)))
        record = _record(deposits, d, stolen=stolen, hop=hop, unknown=unknown, snapshot_id=snapshot.id)
        hits.append(Hit(record, stolen, hop, unknown))
    return hits, snapshot


def _record(deposits: Deposits, d: int, *, stolen: Decimal, hop: int, unknown: bool,
            snapshot_id: str) -> DepositRecord:
    """The deposit decided freeze under the request, its exposure the stolen part (its share unknown when a value
    without a price stands behind it)."""
    usd = None if deposits.unpriced[d] else Decimal(micro_text(int(deposits.usd_micro[d])))
    share = Fraction(stolen) / Fraction(usd) if usd and not unknown else None
    line = ExposureLine(CATEGORY, hop, None if share is None else Decimal(share.numerator) / Decimal(share.denominator),
                        None if unknown else stolen, 0, 1 if unknown else 0)
    return DepositRecord(
        deposit_id=deposits.deposit_id[d].as_py(), customer_id=deposits.customer_id[d].as_py(),
        tx_hash=deposits.tx_hash[d].as_py(), sender=ChainAddress.of(deposits.from_address[d].as_py()),
        receiver=ChainAddress.of(deposits.to_address[d].as_py()), asset=deposits.asset[d].as_py(),
        amount=Decimal(deposits.amount[d].as_py()), usd_value=usd, timestamp=int(deposits.timestamp[d]),
        block_number=int(deposits.block[d]), position=int(deposits.position[d]), decision="freeze",
        rule_ids=(RULE_ID,), categories=(CATEGORY,), exposures=(line,), snapshot_id=snapshot_id)


def _snapshot(seeds: RequestSeeds, now: datetime) -> Snapshot:
    """The snapshot a request's decisions are made under: its seeds, hops and time."""
    as_of = now.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    digest = hashlib.sha256(json.dumps([seeds.reference, sorted(seeds.tx_hashes), sorted(seeds.wallets), seeds.since,
                                        seeds.hops, as_of]).encode()).hexdigest()[:16]
    return Snapshot(digest, "freeze-request", seeds.reference, "", "", "", "haircut-forward", None, as_of)


def parse_seeds(reference: str, *, tx_hashes: Sequence[str], wallets: Sequence[str], since: int | None,
                hops: int) -> RequestSeeds:
    """The request's seeds, checked: something named, hops between 1 and 6, wallet keys canonical."""
    if not tx_hashes and not wallets:
        raise KytError("a freeze request names transactions (tx hashes) or wallets of the stolen funds")
    if not 1 <= hops <= 6:
        raise KytError(f"hops is between 1 and 6, not {hops}")
    if wallets and since is None:
        raise KytError("a request naming wallets needs the time from which what they sent is stolen (since)")
    keys = []
    for wallet in wallets:
        try:
            keys.append(wallet_keys.canonical(wallet.strip()))
        except ValueError as error:
            raise KytError(f"wallet {wallet!r}: {error}") from None
    return RequestSeeds(reference, tuple(h.strip().lower() for h in tx_hashes), tuple(keys), since, hops)
