"""Evidence: the flagged sources of an exposure, their USD and tx hashes, ranked."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from graph import evidence, reference
from graph.evidence import SourceEvidence, rank_sources
from graph.exposure import Exposures, FlagView, score
from graph.index import InboundIndex, window_start
from graph.model import Deposits
from tests.factories import MICRO, addr, deposits, flagged, transfers
from tests.graph.test_properties import CATEGORIES, SETTINGS, engine, scenarios

S = 1


def collect(t, d, f, top=evidence.TOP_SOURCES):
    index = InboundIndex.build(t)
    view = FlagView.build(index, f, 10**15)
    e = score(index, view, d)
    return evidence.collect(index, view, d, exposures=e, top=top)


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


def test_ties_in_usd_rank_sources_by_address_and_transactions_by_order_then_hash():
    t = transfers([(12, S, 1, 0, 7, 12, "0xe"), (11, S, 2, 0, 7, 24, "0xf"), (13, S, 3, 0, 5, 36, "0xg"),
                   (11, S, 4, 1, 2, 48, "0xz"), (11, S, 4, 1, 2, 48, "0xy"), (11, S, 4, 0, 2, 48, "0xx"),
                   (11, S, 5, 0, 3, 60, "0xw")])
    f = flagged([(11, "scam"), (12, "scam"), (13, "scam")])
    [found] = collect(t, deposits([(S, 9, 0, 10)]), f, top=2)
    assert [(s.address, s.usd_micro, s.transfers) for s in found.sources] == [(addr(11), 16 * MICRO, 5),
                                                                              (addr(12), 7 * MICRO, 1)]
    assert found.sources[0].tx_hashes == ("0xf", "0xw", "0xx")  # 2 USD at (4, 0) comes before (4, 1)
    [found] = collect(t, deposits([(S, 9, 0, 10)]), f, top=1)
    assert found.source_count == 3 and len(found.sources) == 1


def test_transactions_tied_in_usd_and_order_rank_by_hash():
    t = transfers([(11, S, 4, 1, 2, 48, "0xz"), (11, S, 4, 1, 2, 48, "0xb"), (11, S, 4, 1, 2, 48, "0xy"),
                   (11, S, 4, 1, 2, 48, "0xa"), (11, S, 3, 0, 1, 36, "0xc")])
    [found] = collect(t, deposits([(S, 9, 0, 10)]), flagged([(11, "scam")]))
    assert found.sources[0].tx_hashes == ("0xa", "0xb", "0xy")


def _reference_indirect(index, flags, category, picked, top):
    """The implementation evidence.collect had before it was vectorised, kept as the specification."""
    ids, where = np.unique(index.source[picked], return_inverse=True)
    totals = np.zeros(len(ids), dtype=np.int64)
    np.add.at(totals, where, index.usd[picked])
    counts = np.bincount(where, minlength=len(ids))
    unknown = np.bincount(where, weights=index.unpriced[picked], minlength=len(ids)).astype(np.int64)
    cut = np.sort(totals)[::-1][min(top, len(totals)) - 1]
    near = np.flatnonzero(totals >= cut)
    names = index.addresses.take(pa.array(ids[near])).to_pylist()
    ranked = sorted(zip(near.tolist(), names), key=lambda item: (-int(totals[item[0]]), item[1]))[:top]
    sources = []
    for position, address in ranked:
        rows = picked[where == position]
        orders = index.order_of(rows)
        hashes = index.tx_hash.take(pa.array(index.row[rows])).to_pylist()
        best = sorted(zip((-index.usd[rows]).tolist(), orders.tolist(), hashes))[:evidence.TX_PER_SOURCE]
        sources.append(SourceEvidence(address, int(totals[position]), int(counts[position]),
                                      tuple(tx for _, _, tx in best), flags.lists.get((address, category), ()),
                                      int(unknown[position])))
    return tuple(sources), len(ids)


def _reference_collect(index: InboundIndex, flags: FlagView, deposits: Deposits, exposures: Exposures,
                       which=None, top=evidence.TOP_SOURCES):
    """evidence.collect as it was, one exposure at a time."""
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
                                                             unknown)], top=top)
            transfers, unpriced = 1, int(unknown)
        else:
            rows = flags.rows[int(exposures.category[i])]
            picked = rows[np.searchsorted(rows, exposures.lo[i]):np.searchsorted(rows, exposures.hi[i])]
            if lookback is not None:
                picked = picked[index.timestamp[picked] >= window_start(deposits.timestamp[d:d + 1], lookback)[0]]
            sources, count = _reference_indirect(index, flags, category, picked, top)
            transfers, unpriced = len(picked), int(index.unpriced[picked].sum())
        out.append(evidence.Evidence(deposits.deposit_id[d].as_py(), category, hop, int(exposures.flagged[i]),
                                     int(exposures.total[i]), sources, count, transfers, unpriced))
    return out


@st.composite
def funded(draw):
    """Senders 1-2 funded by many of 4-9, most of them flagged: ties in USD and order, unpriced rows, windows."""
    usd = st.sampled_from([0, 1, 2, 2.5, None])  # few values, so that sources tie
    rows = draw(st.lists(st.tuples(st.integers(4, 9), st.integers(1, 2), st.integers(0, 12), st.integers(0, 2), usd),
                         min_size=15, max_size=60))
    rows += draw(st.lists(st.tuples(st.integers(1, 12), st.integers(1, 12), st.integers(0, 12), st.integers(0, 2),
                                    usd), max_size=10))
    shuffled = draw(st.booleans())  # times that do not follow block order
    hashes = draw(st.sampled_from([None, 3]))  # None: one hash per transfer; 3: hashes shared between transfers
    rows = [row + (row[2] * 12 + (draw(st.integers(-30, 30)) if shuffled else 0),
                   f"0xt{i}" if hashes is None else f"0x{draw(st.integers(0, hashes))}") for i, row in enumerate(rows)]
    flags = draw(st.lists(st.tuples(st.integers(3, 10), st.sampled_from(CATEGORIES)), min_size=6, max_size=24))
    return dict(t=transfers(rows), d=deposits(draw(st.lists(st.tuples(st.integers(1, 3), st.integers(0, 14),
                                                                      st.integers(0, 3), usd), min_size=1, max_size=6))),
                f=flagged(flags), svc=None, as_of=0, method=draw(st.sampled_from(["haircut", "poison"])),
                lookback=draw(st.sampled_from([None, 0, 24, 60])))


@SETTINGS
@given(st.one_of(funded(), scenarios()), st.data(), st.integers(1, 6))
def test_collect_equals_the_one_at_a_time_reference(s, data, top):
    index, view, e = engine(s)
    which = data.draw(st.one_of(st.none(), st.lists(st.integers(0, len(e) - 1), max_size=12)) if len(e) else
                      st.none())
    found = evidence.collect(index, view, s["d"], exposures=e, which=None if which is None else np.array(which),
                             top=top)
    assert found == _reference_collect(index, view, s["d"], e, which, top)
    assert [type(x) for r in found for x in (r.source_count, r.transfer_count, r.unpriced_count)] == \
        [int] * 3 * len(found)
