"""Behaviour features that mean the same on any crawl: shares, ratios and regularity within an address's own activity.

Counts, value totals, ages and timestamps depend on where and when the data was collected
(a crawl that sampled old normal accounts and young phishing ones teaches "young is risky");
these do not. Each is a share or a ratio of the address's own transfers, so a sample of
busy accounts and a sample of quiet ones, in USD or in ETH, give comparable values. They
read the inbound index like graph.features (transfers of some value before the as-of time,
no self-transfers). Undefined values are NaN.

>>> [name for name, _ in BEHAVIOUR][:3]
['in_share', 'fan_in', 'fan_out']
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.features import marked, safe_ratio, transfers_before
from graph.index import InboundIndex
from graph.model import FlaggedWallets, Services

EARLY = 0.1
"""The first tenth of an address's active span, for `early_share`."""

BEHAVIOUR: tuple[tuple[str, str], ...] = (
    ("in_share", "share of its transfers that it received (1: only receives)"),
    ("fan_in", "distinct senders per transfer received (1: every transfer from someone new, as victims pay a phisher)"),
    ("fan_out", "distinct receivers per transfer sent"),
    ("repeat_sender_share", "share of its senders that sent more than once (reuse: customers and employers repeat)"),
    ("back_share", "share of the addresses it sent to that also sent to it (two-way relations)"),
    ("top_sender_share", "share of value received from its largest sender (concentration)"),
    ("top_receiver_share", "share of value sent to its largest receiver (a collector sweeps to one place)"),
    ("max_in_share", "share of value received in its largest single receipt"),
    ("in_value_cv", "spread of the values received (standard deviation over mean): many small payments or few alike"),
    ("out_in_ratio", "value sent per value received (near 1: passes funds on)"),
    ("forward_share", "time from its first receipt to its first sending, as a share of its active span"),
    ("early_share", "share of its transfers in the first tenth of its active span (a burst, then silence)"),
    ("gap_cv", "regularity of the gaps between its transfers (standard deviation over mean; 0: like a clock)"),
    ("service_in_share", "share of value received from services (exchanges)"),
    ("service_out_share", "share of value sent to services"),
    ("flagged_in_share", "share of value received from flagged wallets (exposure one hop back)"),
    ("flagged_out_share", "share of value sent to flagged wallets"),
    ("flagged_in_2hop", "share of value received from senders weighted by their own flagged share (two hops back)"),
    ("unpriced_share", "share of its transfers without a price"),
)
"""Each feature's name and why it exists, in column order."""
NAMES = tuple(name for name, _ in BEHAVIOUR)


def _per_pair(key: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct keys, their counts and their summed weights."""
    pairs, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    return pairs, counts, np.bincount(inverse, weight, len(pairs))


def _cv(group: np.ndarray, value: np.ndarray, *, n: int, least: int) -> np.ndarray:
    """Per group: standard deviation over mean of its values (NaN with fewer than `least` values or mean 0)."""
    count = np.bincount(group, minlength=n).astype(np.float64)
    total, squares = np.bincount(group, value, n), np.bincount(group, value * value, n)
    mean = safe_ratio(total, count)
    variance = np.maximum(safe_ratio(squares, count) - mean * mean, 0.0)
    out = safe_ratio(np.sqrt(variance), mean)
    out[count < least] = np.nan
    return out


def behaviour_features(index: InboundIndex, addresses: pa.Array, as_of: int, *, services: Services | None = None,
                       flagged: FlaggedWallets | None = None) -> np.ndarray:
    """A float64 matrix, one row per address and one column per BEHAVIOUR entry, from transfers before `as_of`."""
    src, dst, usd, unpriced, times = transfers_before(index, as_of)
    priced = ~unpriced.astype(bool)
    times = times.astype(np.int64)
    n = len(index.addresses) + 1
    in_count = np.bincount(dst, minlength=n).astype(np.float64)
    out_count = np.bincount(src, minlength=n).astype(np.float64)
    in_usd, out_usd = np.bincount(dst, usd, n), np.bincount(src, usd, n)

    # pairs sender -> receiver: partners, reuse, concentration, two-way relations
    pairs, pair_count, pair_usd = _per_pair(src * n + dst, usd)
    pair_src, pair_dst = pairs // n, pairs % n
    in_partners, out_partners = np.bincount(pair_dst, minlength=n), np.bincount(pair_src, minlength=n)
    repeat = np.bincount(pair_dst, (pair_count >= 2).astype(np.float64), n)
    backward = np.isin(pair_dst * n + pair_src, pairs)
    back = np.bincount(pair_src, backward.astype(np.float64), n)
    top_in, top_out = np.zeros(n), np.zeros(n)
    np.maximum.at(top_in, pair_dst, pair_usd)
    np.maximum.at(top_out, pair_src, pair_usd)
    in_max = np.zeros(n)
    np.maximum.at(in_max, dst, usd)

    # time: first receipt and sending, span, the early burst, the gaps between transfers
    who = np.concatenate([dst, src])
    when = np.concatenate([times, times])
    never, ever = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    first, last = np.full(n, never), np.full(n, ever)
    np.minimum.at(first, who, when)
    np.maximum.at(last, who, when)
    first_in, first_out = np.full(n, never), np.full(n, never)
    np.minimum.at(first_in, dst, times)
    np.minimum.at(first_out, src, times)
    span = np.where(last >= first, (last - first).astype(np.float64), np.nan)
    both = (first_in != never) & (first_out != never)
    forward = np.full(n, np.nan)
    timed = both & (span > 0)
    forward[timed] = (first_out[timed] - first_in[timed]) / span[timed]
    early_cut = first[who] + EARLY * span[who]
    early = np.bincount(who, (when <= early_cut).astype(np.float64), n)
    order = np.lexsort((when, who))
    sorted_who, sorted_when = who[order], when[order]
    same = sorted_who[1:] == sorted_who[:-1]
    gaps = (sorted_when[1:] - sorted_when[:-1])[same].astype(np.float64)
    gap_cv = _cv(sorted_who[1:][same], gaps, n=n, least=2)

    # lists: services and flagged wallets one hop back and forward, and the senders' own flagged share
    service = np.append(marked(index, services.address if services is not None else None), False)
    active = pc.filter(flagged.address, pa.array(flagged.active(as_of))) if flagged is not None else None
    flag = np.append(marked(index, active), False)
    flagged_in = np.bincount(dst, usd * flag[src], n)
    flagged_in_share = safe_ratio(flagged_in, in_usd)
    second = np.bincount(dst, usd * np.nan_to_num(flagged_in_share)[src], n)
    unknown = np.bincount(dst, (~priced).astype(np.float64), n) + np.bincount(src, (~priced).astype(np.float64), n)

    at = index.ids(addresses)
    at = np.where(at >= 0, at, n - 1)
    transfers = in_count + out_count
    columns = {
        "in_share": safe_ratio(in_count, transfers), "fan_in": safe_ratio(in_partners, in_count),
        "fan_out": safe_ratio(out_partners, out_count), "repeat_sender_share": safe_ratio(repeat, in_partners),
        "back_share": safe_ratio(back, out_partners), "top_sender_share": safe_ratio(top_in, in_usd),
        "top_receiver_share": safe_ratio(top_out, out_usd), "max_in_share": safe_ratio(in_max, in_usd),
        "in_value_cv": _cv(dst[priced], usd[priced], n=n, least=2), "out_in_ratio": safe_ratio(out_usd, in_usd),
        "forward_share": forward, "early_share": np.where(span > 0, safe_ratio(early, transfers), np.nan),
        "gap_cv": gap_cv,
        "service_in_share": safe_ratio(np.bincount(dst, usd * service[src], n), in_usd),
        "service_out_share": safe_ratio(np.bincount(src, usd * service[dst], n), out_usd),
        "flagged_in_share": flagged_in_share, "flagged_out_share": safe_ratio(np.bincount(src, usd * flag[dst], n), out_usd),
        "flagged_in_2hop": safe_ratio(second, in_usd), "unpriced_share": safe_ratio(unknown, transfers),
    }
    return np.column_stack([columns[name][at] for name in NAMES]).reshape(len(at), len(NAMES))
