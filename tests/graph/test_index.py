"""The inbound index: ranges, overflow guard, and the time order a lookback window needs."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from graph.errors import GraphError
from graph.index import InboundIndex
from tests.factories import MICRO, addr, transfers


def test_rows_are_grouped_by_receiver_in_order_and_skip_zero_and_self():
    t = transfers([(1, 2, 5, 1, 10), (3, 2, 5, 0, 20), (1, 4, 1, 0, 30), (2, 2, 6, 0, 40), (1, 2, 7, 0, 0)])
    index = InboundIndex.build(t)
    assert len(index) == 3
    receivers = [index.addresses[int(i)].as_py() for i in np.repeat(np.arange(len(index.segment) - 1),
                                                                   np.diff(index.segment))]
    assert receivers.count(addr(2)) == 2 and receivers.count(addr(4)) == 1
    rows_into_2 = [i for i, r in enumerate(receivers) if r == addr(2)]
    assert index.usd[rows_into_2].tolist() == [20 * MICRO, 10 * MICRO]  # (5, 0) before (5, 1)


def test_bounds_are_strictly_before_the_deposit():
    t = transfers([(1, 2, 5, 0, 10), (3, 2, 5, 2, 20), (4, 2, 9, 0, 40)])
    index = InboundIndex.build(t)
    sender = index.ids(t.to_address.take([0]))
    order = lambda b, p: np.array([(b << 20) | p])  # noqa: E731
    for (b, p), expected in {(5, 0): 0, (5, 1): 10, (5, 2): 10, (5, 3): 30, (9, 0): 30, (9, 1): 70}.items():
        lo, hi = index.bounds(sender, index.query_keys(sender, order(b, p)), np.array([0]))
        assert (index.cum_usd[hi] - index.cum_usd[lo])[0] == expected * MICRO


def test_unknown_addresses_get_id_minus_one():
    index = InboundIndex.build(transfers([(1, 2, 5, 0, 10)]))
    unknown, known = index.ids(pa.array([addr(9), addr(2)])).tolist()
    assert unknown == -1 and index.addresses[known].as_py() == addr(2)


def test_receivers_whose_times_go_backwards_are_known():
    t = transfers([(1, 2, 5, 0, 10, 1000), (3, 2, 6, 0, 10, 900), (1, 4, 5, 1, 10, 1000), (3, 4, 6, 1, 10, 1000)])
    index = InboundIndex.build(t)
    assert index.time_unordered(index.ids(pa.array([addr(2), addr(4)]))).tolist() == [True, False]


def test_time_may_go_backwards_across_receivers_without_harm():
    t = transfers([(1, 2, 5, 0, 10, 1000), (3, 4, 6, 0, 20, 900)])
    index = InboundIndex.build(t)
    senders = index.ids(pa.array([addr(2), addr(4)]))
    queries = index.query_keys(senders, np.array([10**12, 10**12]))
    lo, hi = index.bounds(senders, queries, np.array([1000, 1000]) * MICRO, lookback=100 * MICRO)
    assert (index.cum_usd[hi] - index.cum_usd[lo]).tolist() == [10 * MICRO, 20 * MICRO]


def test_inbound_total_that_cannot_be_summed_exactly_is_refused():
    big = 2**61 / MICRO
    with pytest.raises(GraphError, match="too large to sum exactly"):
        InboundIndex.build(transfers([(1, 2, 1, 0, big), (3, 2, 2, 0, big)]))
