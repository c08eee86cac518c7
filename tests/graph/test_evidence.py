"""Evidence: the flagged sources of an exposure, their USD and tx hashes, ranked."""

from __future__ import annotations

from graph import evidence, reference
from graph.exposure import FlagView, score
from graph.index import InboundIndex
from tests.factories import MICRO, addr, deposits, flagged, transfers

S = 1


def collect(t, d, f, top=evidence.TOP_SOURCES):
    index = InboundIndex.build(t)
    view = FlagView.build(index, f, 10**15)
    e = score(index, view, d)
    return evidence.collect(index, view, d, e, top=top)


def test_hop2_evidence_ranks_sources_by_usd_and_lists_their_transactions():
    t = transfers([(10, S, 1, 0, 5, 12, "0xa1"), (11, S, 2, 0, 50, 24, "0xb1"), (10, S, 3, 0, 30, 36, "0xa2"),
                   (10, S, 4, 0, 30, 48, "0xa3"), (10, S, 5, 0, 1, 60, "0xa4"), (20, S, 6, 0, 100, 72, "0xc")])
    f = flagged([(10, "sanctions"), (11, "sanctions")])
    [found] = collect(t, deposits([(S, 9, 0, 10)]), f)
    assert (found.category, found.hop, found.flagged_micro, found.total_micro) == ("sanctions", 2, 116 * MICRO,
                                                                                  216 * MICRO)
    assert found.source_count == 2 and found.transfer_count == 5
    first, second = found.sources
    assert (first.address, first.usd_micro, first.transfers) == (addr(10), 66 * MICRO, 4)
    assert first.tx_hashes == ("0xa2", "0xa3", "0xa1")  # by USD, then order; three at most
    assert first.lists == ("list-sanctions",)
    assert (second.address, second.usd_micro, second.tx_hashes) == (addr(11), 50 * MICRO, ("0xb1",))


def test_top_limits_the_sources_but_not_the_counts():
    t = transfers([(10 + i, S, 1, i, 1 + i) for i in range(8)])
    f = flagged([(10 + i, "scam") for i in range(8)])
    [found] = collect(t, deposits([(S, 2, 0, 10)]), f, top=3)
    assert [s.address for s in found.sources] == [addr(17), addr(16), addr(15)]
    assert found.source_count == 8 and found.transfer_count == 8


def test_hop1_evidence_is_the_deposit_itself():
    [found] = collect(transfers([]), deposits([(S, 2, 0, 10)]), flagged([(S, "mixer")]))
    assert found.hop == 1 and found.deposit_id == "d0"
    assert found.sources[0].address == addr(S) and found.sources[0].tx_hashes == ("0xd0",)
    assert found.to_dict()["sources"][0]["usd_micro"] == 10 * MICRO


def test_evidence_counts_the_flagged_transfers_whose_value_is_unknown():
    t = transfers([(10, S, 1, 0, None, 12, "0xa1"), (11, S, 2, 0, 50, 24, "0xb1"), (10, S, 3, 0, 30, 36, "0xa2"),
                   (11, S, 4, 0, None, 48, "0xb2"), (12, S, 5, 0, None, 60, "0xc1")])
    f = flagged([(10, "sanctions"), (11, "sanctions")])
    [found] = collect(t, deposits([(S, 9, 0, 10)]), f)
    assert (found.flagged_micro, found.transfer_count, found.unpriced_count) == (80 * MICRO, 4, 2)
    assert [(s.address, s.usd_micro, s.transfers, s.unpriced, s.tx_hashes) for s in found.sources] == [
        (addr(11), 50 * MICRO, 2, 1, ("0xb1", "0xb2")), (addr(10), 30 * MICRO, 2, 1, ("0xa2", "0xa1"))]
    record = found.to_dict()
    assert record["unpriced_transfers"] == 2 and record["sources"][0]["unpriced_transfers"] == 1


def test_hop1_evidence_of_a_deposit_without_a_price_says_so():
    [found] = collect(transfers([]), deposits([(S, 2, 0, None)]), flagged([(S, "mixer")]))
    assert (found.flagged_micro, found.unpriced_count, found.sources[0].unpriced) == (0, 1, 1)


def test_neighbourhood_keeps_two_hops_before_the_deposit():
    t = transfers([(3, 2, 1, 0, 5), (2, S, 2, 0, 5), (4, 2, 3, 0, 5), (5, S, 9, 0, 5)])
    graph = reference.build_graph(t)
    near = reference.neighbourhood(graph, addr(S), (5 << 20))
    assert sorted((u, v) for u, v, _ in near.edges(keys=True)) == [(addr(2), addr(S)), (addr(3), addr(2))]
