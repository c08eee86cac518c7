"""Withdrawal destinations: hand-built graphs with exact exposures, and the engine against the reference."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph import reference
from graph.exposure import FlagView
from graph.index import InboundIndex
from graph.withdrawal_exposure import DestinationView, destination_exposures, floor_share
from tests.factories import MICRO, addr, flagged, services, transfers

D, LAZARUS, MIXER, A, B, X, Y, EXCHANGE, SCAM = 1, 10, 12, 2, 3, 4, 5, 30, 11
T = 1000  # seconds: after every transfer of the worked example (blocks up to 31, 12 s each)
FLAGS = [(LAZARUS, "sanctions"), (MIXER, "mixer")]

# docs/exposure.md, "Withdrawal destinations", worked example.
WORKED = [(LAZARUS, A, 10, 0, 600), (X, A, 11, 0, 400), (MIXER, B, 12, 0, 100), (LAZARUS, EXCHANGE, 13, 0, 5000),
          (A, D, 20, 0, 500), (LAZARUS, D, 21, 0, 200), (B, D, 22, 0, 300), (EXCHANGE, D, 23, 0, 1000),
          (D, MIXER, 30, 0, 250), (D, Y, 31, 0, 750), (LAZARUS, D, 90, 0, 10_000)]


def table(rows, f=FLAGS, destinations=(D,), as_of=T, svc=(EXCHANGE,), lookback_s=None):
    """{(destination, kind, hop, category): (flagged $, total $, unpriced total, unpriced flagged, transfers)}."""
    index = InboundIndex.build(transfers(rows))
    view = FlagView.build(index, flagged(f), as_of * MICRO)
    e = destination_exposures(index, view, pa.array([addr(n) for n in destinations]), as_of=as_of * MICRO,
                              services=services(list(svc)) if svc else None,
                              lookback=None if lookback_s is None else lookback_s * MICRO)
    return {(int(e.destination[i]), e.kind_name(i), int(e.hop[i]), e.categories[int(e.category[i])]):
            (Fraction(int(e.flagged[i]), MICRO), Fraction(int(e.total[i]), MICRO), int(e.unpriced_total[i]),
             int(e.unpriced_flagged[i]), int(e.flagged_transfers[i])) for i in range(len(e))}


def test_the_worked_example():
    assert table(WORKED) == {
        (0, "received", 1, "sanctions"): (200, 2000, 0, 0, 1),
        (0, "received", 2, "mixer"): (300, 2000, 0, 0, 1),
        (0, "received", 2, "sanctions"): (300, 2000, 0, 0, 1),
        (0, "sent", 1, "mixer"): (250, 1000, 0, 0, 1),
    }


def test_self_comes_first_and_the_order_is_destination_kind_hop_category():
    index = InboundIndex.build(transfers(WORKED))
    view = FlagView.build(index, flagged(FLAGS + [(D, "scam"), (D, "mixer")]), T * MICRO)
    e = destination_exposures(index, view, pa.array([addr(Y), addr(D)]), as_of=T * MICRO)
    got = [(int(e.destination[i]), e.kind_name(i), int(e.hop[i]), e.categories[int(e.category[i])])
           for i in range(len(e))]
    # Y received $750 from D (flagged mixer and scam), whose funding before it was 10% Lazarus: $75 at hop 2.
    assert got == [(0, "received", 1, "mixer"), (0, "received", 1, "scam"), (0, "received", 2, "sanctions"),
                   (1, "self", 0, "mixer"), (1, "self", 0, "scam"), (1, "received", 1, "sanctions"),
                   (1, "received", 2, "mixer"), (1, "received", 2, "sanctions"), (1, "sent", 1, "mixer")]
    assert e.share_known.all() and e.n_destinations == 2
    assert [Fraction(int(n), int(t)) for n, t in zip(e.share_num, e.share_den)] == [
        1, 1, Fraction(1, 10), 1, 1, Fraction(1, 10), Fraction(3, 20), Fraction(13, 20), Fraction(1, 4)]
    # 13/20: without a services list the exchange is a wallet like any other, and its $1,000 was all Lazarus's.


def test_hop2_contribution_is_floored_to_the_micro_dollar():
    rows = [(LAZARUS, A, 1, 0, 1), (X, A, 2, 0, 2), (A, D, 3, 0, 1)]
    assert table(rows) == {(0, "received", 2, "sanctions"): (Fraction(333_333, MICRO), 1, 0, 0, 1)}


def test_only_transfers_before_the_time_count_and_the_window_cuts_the_start():
    rows = [(LAZARUS, D, 10, 0, 100), (X, D, 20, 0, 300), (LAZARUS, D, 30, 0, 50)]  # at 120 s, 240 s, 360 s
    assert table(rows, as_of=360, svc=()) == {(0, "received", 1, "sanctions"): (100, 400, 0, 0, 1)}
    assert table(rows, as_of=361, svc=()) == {(0, "received", 1, "sanctions"): (150, 450, 0, 0, 2)}
    assert table(rows, as_of=361, svc=(), lookback_s=241) == {(0, "received", 1, "sanctions"): (150, 450, 0, 0, 2)}
    assert table(rows, as_of=361, svc=(), lookback_s=240) == {(0, "received", 1, "sanctions"): (50, 350, 0, 0, 1)}
    assert table(rows, as_of=300, svc=(), lookback_s=100) == {}  # from 200 s to 300 s: only the clean $300


def test_times_out_of_block_order_are_cut_by_time_not_by_block():
    rows = [(LAZARUS, D, 10, 0, 100, 500), (X, D, 20, 0, 300, 100)]
    assert table(rows, as_of=200, svc=()) == {}
    assert table(rows, as_of=501, svc=()) == {(0, "received", 1, "sanctions"): (100, 400, 0, 0, 1)}


def test_hop2_funding_is_the_deposit_definition_before_each_transfer():
    # A's Lazarus funding arrives after A paid D: it does not taint that payment.
    rows = [(X, A, 1, 0, 100), (A, D, 2, 0, 100), (LAZARUS, A, 3, 0, 100), (A, D, 4, 0, 100)]
    assert table(rows) == {(0, "received", 2, "sanctions"): (50, 200, 0, 0, 1)}


def test_a_service_destination_has_only_its_self_exposures():
    assert table(WORKED, f=FLAGS + [(EXCHANGE, "gambling")], destinations=(EXCHANGE,)) == {
        (0, "self", 0, "gambling"): (0, 0, 0, 0, 0)}
    assert table(WORKED, destinations=(EXCHANGE,), svc=()) == {(0, "received", 1, "sanctions"): (5000, 5000, 0, 0, 1)}


def test_unknown_destination_and_flagged_unknown_destination():
    assert table(WORKED, f=FLAGS + [(99, "sanctions")], destinations=(98, 99)) == {
        (1, "self", 0, "sanctions"): (0, 0, 0, 0, 0)}


def test_unpriced_values_are_counted_not_taken_as_zero():
    # An unpriced Lazarus transfer into D; A's funding has an unpriced part, so A's share is unknown.
    rows = [(LAZARUS, D, 1, 0, None), (X, D, 2, 0, 100), (LAZARUS, A, 3, 0, 50), (X, A, 4, 0, None),
            (A, D, 5, 0, 10), (D, LAZARUS, 6, 0, None)]
    got = table(rows)
    assert got == {(0, "received", 1, "sanctions"): (0, 110, 1, 1, 1),
                   (0, "received", 2, "sanctions"): (0, 110, 1, 1, 1),
                   (0, "sent", 1, "sanctions"): (0, 0, 1, 1, 1)}
    index = InboundIndex.build(transfers(rows))
    e = destination_exposures(index, FlagView.build(index, flagged(FLAGS), T * MICRO), pa.array([addr(D)]),
                              as_of=T * MICRO)
    assert not e.share_known.any() and e.incomplete.all()


def test_a_view_answers_for_many_times():
    index = InboundIndex.build(transfers(WORKED))
    view = DestinationView.build(index, FlagView.build(index, flagged(FLAGS), T * MICRO),
                                 services=services([EXCHANGE]))
    early = view.exposures([addr(D)], as_of=21 * 12 * MICRO)  # only A's $500 has arrived
    assert [(early.kind_name(i), int(early.flagged[i]), int(early.total[i])) for i in range(len(early))] == [
        ("received", 300 * MICRO, 500 * MICRO)]
    assert len(view.exposures(pa.array([addr(D)]), as_of=T * MICRO)) == 4


def test_floor_share_is_exact_beyond_int64_products():
    value, num, den = np.array([3 * 10**15]), np.array([7 * 10**14]), np.array([10**15 + 1])
    assert floor_share(value, num, den).tolist() == [3 * 10**15 * 7 * 10**14 // (10**15 + 1)]


CATEGORIES = ("sanctions", "scam", "mixer")
USD = st.sampled_from([0, 0.01, 1, 2.5, 100, 333.333333, 10**6, None])
ADDRESS = st.integers(1, 7)


@st.composite
def scenarios(draw):
    t_rows = draw(st.lists(st.tuples(ADDRESS, ADDRESS, st.integers(0, 12), st.integers(0, 3), USD),
                           min_size=draw(st.sampled_from([0, 10, 25])), max_size=40))
    if draw(st.booleans()):  # times that do not follow block order
        t_rows = [row + (row[2] * 12 + draw(st.integers(-30, 30)),) for row in t_rows]
    f_rows = draw(st.lists(st.tuples(ADDRESS, st.sampled_from(CATEGORIES), st.one_of(st.none(), st.integers(0, 60)),
                                     st.one_of(st.none(), st.integers(201, 400))), max_size=8))
    return dict(t_rows=t_rows, f_rows=f_rows, svc=draw(st.lists(ADDRESS, max_size=2, unique=True)),
                destinations=draw(st.lists(st.integers(1, 8), min_size=1, max_size=5)),
                as_of=draw(st.sampled_from([60, 100, 150, 250])) * MICRO,
                lookback=draw(st.sampled_from([None, 0, 24, 60])))


def engine(s, f_rows=None):
    index = InboundIndex.build(transfers(s["t_rows"]))
    view = FlagView.build(index, flagged(s["f_rows"] if f_rows is None else f_rows), s["as_of"],
                          categories=list(CATEGORIES))
    e = destination_exposures(index, view, pa.array([addr(n) for n in s["destinations"]]), as_of=s["as_of"],
                              services=services(s["svc"]) if s["svc"] else None,
                              lookback=None if s["lookback"] is None else s["lookback"] * MICRO)
    return [(int(e.destination[i]), e.categories[int(e.category[i])], e.kind_name(i), int(e.hop[i]),
             int(e.flagged[i]), int(e.total[i]), int(e.unpriced_total[i]), int(e.unpriced_flagged[i]),
             int(e.flagged_transfers[i]), Fraction(int(e.share_num[i]), int(e.share_den[i]))
             if e.share_known[i] else None) for i in range(len(e))]


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(scenarios())
def test_engine_equals_reference(s):
    ref = reference.destination_exposures(
        reference.build_graph(transfers(s["t_rows"])), [addr(n) for n in s["destinations"]], flagged(s["f_rows"]),
        as_of=s["as_of"], services=services(s["svc"]) if s["svc"] else None,
        lookback=None if s["lookback"] is None else s["lookback"] * MICRO)
    assert engine(s) == [(r.destination, r.category, r.kind, r.hop, r.flagged, r.total, r.unpriced_total,
                          r.unpriced_flagged, r.flagged_transfers, r.share) for r in ref]


@SETTINGS
@given(scenarios(), ADDRESS, st.sampled_from(CATEGORIES))
def test_adding_a_flagged_wallet_never_lowers_any_share(s, address, category):
    before = {row[:4]: row[4:] for row in engine(s)}
    after = {row[:4]: row[4:] for row in engine(s, s["f_rows"] + [(address, category)])}
    for key, (flagged_usd, total, unpriced_total, unknown, count, share) in before.items():
        assert key in after
        new_flagged, new_total, new_unpriced_total, new_unknown, new_count, new_share = after[key]
        assert (new_total, new_unpriced_total) == (total, unpriced_total)
        assert new_flagged >= flagged_usd and new_unknown >= unknown and new_count >= count
        if share is not None and new_share is not None:
            assert new_share >= share


@SETTINGS
@given(scenarios())
def test_shares_stay_between_zero_and_one(s):
    for _, _, kind, _, flagged_usd, total, unpriced_total, unknown, count, share in engine(s):
        assert 0 <= flagged_usd <= total and unknown <= count
        assert share is None or 0 <= share <= 1
        assert kind == "self" or count > 0
