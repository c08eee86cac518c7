"""Behaviour features of addresses from the transfer graph, as of a time, for every address at once.

They are read from the inbound index (graph.index), so they count the transfers the
exposure engine counts: of some value (or of unknown value), never self-transfers, and only
those strictly before the as-of time. The features
follow what the literature on phishing and illicit-account detection on Ethereum found to
work (degrees and values in and out, distinct counterparties, fan-in / fan-out, lifetime
and activity, how fast received funds move on, and the share of value to and from
services and flagged wallets): Chen et al. 2020, Farrugia et al. 2020, Wu et al. 2020.
Undefined values (no history, nothing received) are NaN, which the models read as missing.

>>> [name for name, _ in FEATURES][:3]
['in_count', 'out_count', 'in_usd']
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.index import InboundIndex
from graph.model import FlaggedWallets, Services

DAY = 86_400 * 1_000_000

FEATURES: tuple[tuple[str, str], ...] = (
    ("in_count", "transfers received"),
    ("out_count", "transfers sent"),
    ("in_usd", "USD received (priced transfers)"),
    ("out_usd", "USD sent (priced transfers)"),
    ("in_partners", "distinct addresses it received from"),
    ("out_partners", "distinct addresses it sent to"),
    ("fan_in", "distinct senders per transfer received (1: every transfer from someone new)"),
    ("fan_out", "distinct receivers per transfer sent"),
    ("in_mean_usd", "mean USD of a priced transfer received"),
    ("in_max_usd", "largest USD transfer received (priced transfers)"),
    ("out_in_ratio", "USD sent per USD received (near 1: passes funds on)"),
    ("age_days", "days from its first transfer to the as-of time"),
    ("span_days", "days between its first and last transfer"),
    ("idle_days", "days from its last transfer to the as-of time"),
    ("forward_delay_days", "days from its first receipt to its first sending"),
    ("per_day", "transfers per active day"),
    ("service_in_share", "share of USD received from services (exchanges)"),
    ("service_out_share", "share of USD sent to services"),
    ("flagged_in_share", "share of USD received from flagged wallets (exposure at one hop back)"),
    ("flagged_out_share", "share of USD sent to flagged wallets"),
    ("flagged", "1 when the address itself is flagged (exposure at hop 1)"),
    ("unpriced_share", "share of its transfers without a USD price"),
)
"""Each feature's name and what it measures, in column order."""
NAMES = tuple(name for name, _ in FEATURES)


def marked(index: InboundIndex, chosen: pa.Array | None) -> np.ndarray:
    """A bool per address id: whether the address is in `chosen`."""
    if chosen is None or not len(chosen) or not len(index.addresses):
        return np.zeros(len(index.addresses), dtype=bool)
    return np.asarray(pc.is_in(index.addresses, value_set=chosen).to_numpy(zero_copy_only=False), dtype=bool)


def safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN where den is 0."""
    out = np.full(len(num), np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def transfers_before(index: InboundIndex, as_of: int) -> tuple[np.ndarray, ...]:
    """The indexed transfers before `as_of`: sender ids, receiver ids, USD, unpriced (0/1) and times."""
    receiver = np.repeat(np.arange(len(index.segment) - 1, dtype=np.int64), np.diff(index.segment))
    rows = np.flatnonzero(index.timestamp < as_of)
    return (index.source[rows].astype(np.int64), receiver[rows], index.usd[rows] / 1e6,
            index.unpriced[rows].astype(np.float64), index.timestamp[rows])


def address_features(index: InboundIndex, addresses: pa.Array, as_of: int, *, services: Services | None = None,
                     flagged: FlaggedWallets | None = None) -> np.ndarray:
    """A float64 matrix, one row per address and one column per FEATURES entry, from transfers before `as_of`."""
    src, dst, usd, unpriced, times = transfers_before(index, as_of)
    n = len(index.addresses) + 1  # the last slot stands for an address with no history at all
    in_count, out_count = np.bincount(dst, minlength=n), np.bincount(src, minlength=n)
    in_usd, out_usd = np.bincount(dst, usd, n), np.bincount(src, usd, n)
    pairs = np.unique(src * n + dst)
    out_partners, in_partners = np.bincount(pairs // n, minlength=n), np.bincount(pairs % n, minlength=n)
    in_max = np.zeros(n)
    np.maximum.at(in_max, dst, usd)
    never, ever = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    first_in, first_out, last_seen = np.full(n, never), np.full(n, never), np.full(n, ever)
    np.minimum.at(first_in, dst, times)
    np.minimum.at(first_out, src, times)
    np.maximum.at(last_seen, dst, times)
    np.maximum.at(last_seen, src, times)
    service = np.append(marked(index, services.address if services is not None else None), False)
    active = pc.filter(flagged.address, pa.array(flagged.active(as_of))) if flagged is not None else None
    flag = np.append(marked(index, active), False)
    from_service, to_service = np.bincount(dst, usd * service[src], n), np.bincount(src, usd * service[dst], n)
    from_flagged, to_flagged = np.bincount(dst, usd * flag[src], n), np.bincount(src, usd * flag[dst], n)
    unknown_in = np.bincount(dst, unpriced, n)
    unknown = unknown_in + np.bincount(src, unpriced, n)

    ids = index.ids(addresses)
    at = np.where(ids >= 0, ids, n - 1)
    received, sent = in_count[at].astype(np.float64), out_count[at].astype(np.float64)
    got, gave = in_usd[at], out_usd[at]
    first_received, first_sent, last_time = first_in[at], first_out[at], last_seen[at]
    first = np.minimum(first_received, first_sent).astype(np.float64)
    last = last_time.astype(np.float64)
    first[(first_received == never) & (first_sent == never)] = np.nan
    last[last_time == ever] = np.nan
    both = (first_received != never) & (first_sent != never)
    delay = np.full(len(at), np.nan)
    delay[both] = (first_sent[both] - first_received[both]) / DAY
    span = (last - first) / DAY
    flagged_now = flag[at].astype(np.float64)
    if active is not None and (ids < 0).any():  # an address the transfers never name may be flagged all the same
        listed = np.asarray(pc.is_in(addresses, value_set=active).to_numpy(zero_copy_only=False), dtype=bool)
        flagged_now = np.where(ids >= 0, flagged_now, listed.astype(np.float64))
    columns = {
        "in_count": received, "out_count": sent, "in_usd": got, "out_usd": gave,
        "in_partners": in_partners[at].astype(np.float64), "out_partners": out_partners[at].astype(np.float64),
        "fan_in": safe_ratio(in_partners[at], received), "fan_out": safe_ratio(out_partners[at], sent),
        "in_mean_usd": safe_ratio(got, received - unknown_in[at]), "in_max_usd": np.where(received - unknown_in[at] > 0, in_max[at], np.nan),
        "out_in_ratio": safe_ratio(gave, got),
        "age_days": (as_of - first) / DAY, "span_days": span, "idle_days": (as_of - last) / DAY,
        "forward_delay_days": delay, "per_day": safe_ratio(received + sent, np.maximum(np.nan_to_num(span), 1.0)),
        "service_in_share": safe_ratio(from_service[at], got), "service_out_share": safe_ratio(to_service[at], gave),
        "flagged_in_share": safe_ratio(from_flagged[at], got), "flagged_out_share": safe_ratio(to_flagged[at], gave),
        "flagged": flagged_now, "unpriced_share": safe_ratio(unknown[at], received + sent),
    }
    return np.column_stack([columns[name] for name in NAMES]).reshape(len(at), len(NAMES))
