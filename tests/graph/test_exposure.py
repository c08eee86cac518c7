"""Hand-built graphs with exact expected exposures, one test per rule of the definition."""

from __future__ import annotations

from fractions import Fraction

import pytest

from graph.exposure import FlagView, score
from graph.index import InboundIndex
from graph.money import share_text, usd_text
from tests.factories import MICRO, deposits, flagged, services, transfers

NOW = 10**10  # seconds: after every listing in these tests
S, SANCTIONED, SCAM, CLEAN, MIXER, EXCHANGE = 1, 10, 11, 20, 12, 30


def exposures(t, d, f, as_of=NOW, svc=None, method="haircut", lookback_s=None):
    """{(deposit, category, hop): (share, usd in dollars)} as exact fractions."""
    index = InboundIndex.build(t)
    view = FlagView.build(index, f, as_of * MICRO)
    e = score(index, view, d, services=svc, method=method, lookback=None if lookback_s is None else lookback_s * MICRO)
    return {(int(e.deposit[i]), e.categories[int(e.category[i])], int(e.hop[i])):
            (Fraction(int(e.share_num[i]), int(e.share_den[i])),
             Fraction(int(e.value[i]) * int(e.share_num[i]), int(e.share_den[i]) * MICRO))
            for i in range(len(e))}


def test_haircut_share_is_flagged_part_of_prior_funding():
    t = transfers([(SANCTIONED, S, 10, 0, 300), (CLEAN, S, 11, 0, 100)])
    got = exposures(t, deposits([(S, 20, 0, 1000)]), flagged([(SANCTIONED, "sanctions")]))
    assert got == {(0, "sanctions", 2): (Fraction(3, 4), Fraction(750))}


def test_direct_exposure_is_whole_deposit_and_indirect_is_computed_too():
    t = transfers([(SCAM, S, 10, 0, 50), (CLEAN, S, 11, 0, 150)])
    f = flagged([(S, "sanctions"), (SCAM, "scam")])
    got = exposures(t, deposits([(S, 20, 0, 40)]), f)
    assert got == {(0, "sanctions", 1): (Fraction(1), Fraction(40)),
                   (0, "scam", 2): (Fraction(1, 4), Fraction(10))}


def test_same_block_counts_only_earlier_positions():
    t = transfers([(SANCTIONED, S, 20, 1, 100), (CLEAN, S, 20, 3, 100), (SANCTIONED, S, 20, 5, 800)])
    d = deposits([(S, 20, 4, 60), (S, 20, 1, 60), (S, 20, 6, 60)])
    got = exposures(t, d, flagged([(SANCTIONED, "sanctions")]))
    assert got == {(0, "sanctions", 2): (Fraction(1, 2), Fraction(30)),
                   (2, "sanctions", 2): (Fraction(9, 10), Fraction(54))}


def test_funding_after_the_deposit_never_counts():
    t = transfers([(CLEAN, S, 5, 0, 100), (SANCTIONED, S, 21, 0, 1_000_000)])
    assert exposures(t, deposits([(S, 20, 0, 100)]), flagged([(SANCTIONED, "sanctions")])) == {}


def test_deposit_that_is_also_a_transfer_is_scored_the_same():
    rows = [(SANCTIONED, S, 10, 0, 100), (CLEAN, S, 11, 0, 300)]
    d = deposits([(S, 20, 2, 80)])
    f = flagged([(SANCTIONED, "sanctions")])
    with_own = transfers(rows + [(S, 999_999, 20, 2, 80)])
    assert exposures(transfers(rows), d, f) == exposures(with_own, d, f) == {
        (0, "sanctions", 2): (Fraction(1, 4), Fraction(20))}


def test_services_stop_indirect_exposure_but_not_direct():
    t = transfers([(SANCTIONED, EXCHANGE, 10, 0, 1000), (CLEAN, EXCHANGE, 11, 0, 1000)])
    f = flagged([(SANCTIONED, "sanctions")])
    assert exposures(t, deposits([(EXCHANGE, 20, 0, 50)]), f, svc=services([EXCHANGE])) == {}
    assert exposures(t, deposits([(EXCHANGE, 20, 0, 50)]), f) == {
        (0, "sanctions", 2): (Fraction(1, 2), Fraction(25))}
    flagged_service = flagged([(SANCTIONED, "sanctions"), (EXCHANGE, "sanctions")])
    assert exposures(t, deposits([(EXCHANGE, 20, 0, 50)]), flagged_service, svc=services([EXCHANGE])) == {
        (0, "sanctions", 1): (Fraction(1), Fraction(50))}


def test_a_service_funding_the_sender_still_counts_in_the_total():
    t = transfers([(EXCHANGE, S, 10, 0, 900), (SANCTIONED, S, 11, 0, 100)])
    got = exposures(t, deposits([(S, 20, 0, 100)]), flagged([(SANCTIONED, "sanctions")]), svc=services([EXCHANGE]))
    assert got == {(0, "sanctions", 2): (Fraction(1, 10), Fraction(10))}


@pytest.mark.parametrize("as_of, expected", [
    (99, {}),                                                   # before the listing
    (100, {(0, "sanctions", 1): (Fraction(1), Fraction(10)),    # listed_at <= T
           (0, "sanctions", 2): (Fraction(1), Fraction(10))}),
    (199, {(0, "sanctions", 1): (Fraction(1), Fraction(10)),
           (0, "sanctions", 2): (Fraction(1), Fraction(10))}),
    (200, {}),                                                  # T < delisted_at fails: delisted
])
def test_flags_count_only_between_listing_and_delisting(as_of, expected):
    t = transfers([(SANCTIONED, S, 10, 0, 10)])
    f = flagged([(S, "sanctions", 100, 200), (SANCTIONED, "sanctions", 100, 200)])
    assert exposures(t, deposits([(S, 20, 0, 10)]), f, as_of=as_of) == expected


def test_a_relisted_wallet_is_flagged_in_either_interval():
    t = transfers([(SANCTIONED, S, 10, 0, 10)])
    f = flagged([(SANCTIONED, "sanctions", 100, 200), (SANCTIONED, "sanctions", 300, None)])
    d = deposits([(S, 20, 0, 10)])
    assert exposures(t, d, f, as_of=250) == {}
    assert exposures(t, d, f, as_of=350) == {(0, "sanctions", 2): (Fraction(1), Fraction(10))}


def test_zero_value_and_self_transfers_never_count():
    t = transfers([(SANCTIONED, S, 10, 0, 0), (S, S, 11, 0, 500), (CLEAN, S, 12, 0, 100)])
    f = flagged([(SANCTIONED, "sanctions"), (S, "scam", 10**11)])  # S flagged only in the future
    assert exposures(t, deposits([(S, 20, 0, 100)]), f) == {}
    t2 = transfers([(SANCTIONED, S, 10, 0, 0), (S, S, 11, 0, 500), (SANCTIONED, S, 12, 0, 100)])
    assert exposures(t2, deposits([(S, 20, 0, 100)]), f) == {(0, "sanctions", 2): (Fraction(1), Fraction(100))}


def test_several_categories_on_one_wallet_each_count_in_full():
    t = transfers([(MIXER, S, 10, 0, 200), (CLEAN, S, 11, 0, 600)])
    f = flagged([(MIXER, "mixer"), (MIXER, "sanctions"), (MIXER, "mixer")])
    got = exposures(t, deposits([(S, 20, 0, 100)]), f)
    assert got == {(0, "mixer", 2): (Fraction(1, 4), Fraction(25)),
                   (0, "sanctions", 2): (Fraction(1, 4), Fraction(25))}


def test_poison_takes_the_whole_deposit_when_any_funding_is_flagged():
    t = transfers([(SCAM, S, 10, 0, 0.01), (CLEAN, S, 11, 0, 5000)])
    f = flagged([(SCAM, "scam")])
    d = deposits([(S, 20, 0, 4000)])
    haircut = exposures(t, d, f)
    poison = exposures(t, d, f, method="poison")
    assert haircut == {(0, "scam", 2): (Fraction(1, 500001), Fraction(4000, 500001))}
    assert poison == {(0, "scam", 2): (Fraction(1), Fraction(4000))}


def test_lookback_window_keeps_only_recent_funding():
    day = 86_400
    t = transfers([(SANCTIONED, S, 10, 0, 100, 1000 * day), (CLEAN, S, 11, 0, 300, 1360 * day),
                   (SANCTIONED, S, 12, 0, 100, 1365 * day)])
    d = deposits([(S, 20, 0, 100, 1365 * day + 10)])
    f = flagged([(SANCTIONED, "sanctions")])
    assert exposures(t, d, f) == {(0, "sanctions", 2): (Fraction(2, 5), Fraction(40))}
    assert exposures(t, d, f, lookback_s=365 * day) == {(0, "sanctions", 2): (Fraction(1, 4), Fraction(25))}
    # the window's start is inclusive: time >= time(d) - W
    assert exposures(t, d, f, lookback_s=365 * day + 10) == {(0, "sanctions", 2): (Fraction(2, 5), Fraction(40))}
    assert exposures(t, d, f, lookback_s=365 * day + 9) == {(0, "sanctions", 2): (Fraction(1, 4), Fraction(25))}
    assert exposures(t, d, f, lookback_s=3) == {}


def test_lookback_is_exact_when_a_file_has_times_out_of_block_order():
    # block 11 carries an earlier time than block 10: the window is applied transfer by transfer
    t = transfers([(SANCTIONED, S, 10, 0, 100, 5000), (CLEAN, S, 11, 0, 300, 100), (SANCTIONED, S, 12, 0, 100, 5100)])
    d = deposits([(S, 20, 0, 100, 5200)])
    f = flagged([(SANCTIONED, "sanctions")])
    assert exposures(t, d, f, lookback_s=1000) == {(0, "sanctions", 2): (Fraction(1), Fraction(100))}
    assert exposures(t, d, f, lookback_s=100) == {(0, "sanctions", 2): (Fraction(1), Fraction(100))}
    assert exposures(t, d, f, lookback_s=99) == {}
    assert exposures(t, d, f, lookback_s=10**6) == {(0, "sanctions", 2): (Fraction(2, 5), Fraction(40))}


def test_unknown_sender_and_sender_without_funding_have_no_indirect_exposure():
    t = transfers([(SANCTIONED, CLEAN, 10, 0, 100)])
    f = flagged([(SANCTIONED, "sanctions"), (77, "scam")])
    got = exposures(t, deposits([(77, 20, 0, 5), (CLEAN, 5, 0, 5)]), f)
    assert got == {(0, "scam", 1): (Fraction(1), Fraction(5))}


def test_rows_are_ordered_by_deposit_hop_category():
    t = transfers([(SANCTIONED, 2, 1, 0, 10), (SCAM, 2, 1, 1, 10)])
    f = flagged([(SANCTIONED, "sanctions"), (SCAM, "scam"), (2, "mixer"), (3, "scam")])
    index = InboundIndex.build(t)
    e = score(index, FlagView.build(index, f, NOW * MICRO), deposits([(3, 5, 0, 1), (2, 5, 0, 1)]))
    assert [(int(a), e.categories[int(c)], int(h)) for a, c, h in zip(e.deposit, e.category, e.hop)] == [
        (0, "scam", 1), (1, "mixer", 1), (1, "sanctions", 2), (1, "scam", 2)]


def test_text_of_shares_and_usd_is_exact_and_rounded_half_even():
    assert share_text(1, 3) == "0.3333333333"
    assert share_text(2, 3) == "0.6666666667"
    assert share_text(1, 1) == "1"
    assert usd_text(1, 1, 2) == "0"          # half a micro-dollar rounds to even (0)
    assert usd_text(3, 1, 2) == "0.000002"   # 1.5 micro-dollars rounds to 2
    assert usd_text(100 * MICRO, 1, 3) == "33.333333"
    assert usd_text(10**12 * MICRO, 1, 1) == "1000000000000"


def unknowns(t, d, f, method="haircut", lookback_s=None):
    """{(deposit, category, hop): (share or None, usd in dollars or None, unpriced total, unpriced flagged)}."""
    index = InboundIndex.build(t)
    view = FlagView.build(index, f, NOW * MICRO)
    e = score(index, view, d, services=None, method=method, lookback=None if lookback_s is None else lookback_s * MICRO)
    return {(int(e.deposit[i]), e.categories[int(e.category[i])], int(e.hop[i])):
            (Fraction(int(e.share_num[i]), int(e.share_den[i])) if e.share_known[i] else None,
             Fraction(int(e.value[i]) * int(e.share_num[i]), int(e.share_den[i]) * MICRO) if e.usd_known[i] else None,
             int(e.unpriced_total[i]), int(e.unpriced_flagged[i]))
            for i in range(len(e))}


def test_funding_without_a_price_leaves_the_haircut_share_unknown_and_is_counted():
    t = transfers([(SANCTIONED, S, 10, 0, 100), (SANCTIONED, S, 10, 1, None), (CLEAN, S, 11, 0, None),
                   (CLEAN, S, 11, 1, 300)])
    f = flagged([(SANCTIONED, "sanctions")])
    assert unknowns(t, deposits([(S, 20, 0, 50)]), f) == {(0, "sanctions", 2): (None, None, 2, 1)}
    assert unknowns(t, deposits([(S, 20, 0, 50)]), f, method="poison") == {
        (0, "sanctions", 2): (Fraction(1), Fraction(50), 2, 1)}


def test_clean_funding_without_a_price_makes_the_share_unknown_too():
    t = transfers([(SANCTIONED, S, 10, 0, 100), (CLEAN, S, 11, 0, None)])  # the clean part could be huge
    got = unknowns(t, deposits([(S, 20, 0, 1000)]), flagged([(SANCTIONED, "sanctions")]))
    assert got == {(0, "sanctions", 2): (None, None, 1, 0)}


def test_a_sender_funded_by_flagged_transfers_of_unknown_value_alone_is_still_exposed():
    t = transfers([(SCAM, S, 10, 0, None), (CLEAN, S, 11, 0, None)])
    f = flagged([(SCAM, "scam")])
    assert unknowns(t, deposits([(S, 20, 0, 50)]), f) == {(0, "scam", 2): (None, None, 2, 1)}
    assert unknowns(t, deposits([(S, 20, 0, 50)]), f, method="poison") == {(0, "scam", 2): (Fraction(1), Fraction(50), 2, 1)}


def test_unpriced_clean_funding_alone_makes_no_exposure():
    t = transfers([(CLEAN, S, 10, 0, None), (SCAM, S, 30, 0, None)])  # the scam funding comes after the deposit
    assert unknowns(t, deposits([(S, 20, 0, 50)]), flagged([(SCAM, "scam")])) == {}


def test_a_deposit_without_a_price_has_exposures_of_unknown_usd():
    t = transfers([(SANCTIONED, S, 10, 0, 100), (CLEAN, S, 11, 0, 300)])
    f = flagged([(S, "scam"), (SANCTIONED, "sanctions")])
    assert unknowns(t, deposits([(S, 20, 0, None)]), f) == {(0, "scam", 1): (Fraction(1), None, 0, 0),
                                                            (0, "sanctions", 2): (Fraction(1, 4), None, 0, 0)}


def test_priced_funding_alone_keeps_the_share_known_beside_an_unpriced_deposit_elsewhere():
    t = transfers([(SANCTIONED, S, 10, 0, 100), (CLEAN, S, 11, 0, 300), (CLEAN, 2, 12, 0, None)])
    got = unknowns(t, deposits([(S, 20, 0, 40)]), flagged([(SANCTIONED, "sanctions")]))
    assert got == {(0, "sanctions", 2): (Fraction(1, 4), Fraction(10), 0, 0)}


def test_unpriced_funding_outside_the_lookback_window_is_not_counted():
    t = transfers([(SANCTIONED, S, 10, 0, None, 100), (SANCTIONED, S, 11, 0, 10, 900), (CLEAN, S, 12, 0, None, 950)])
    got = unknowns(t, deposits([(S, 20, 0, 50, 1000)]), flagged([(SANCTIONED, "sanctions")]), lookback_s=200)
    assert got == {(0, "sanctions", 2): (None, None, 1, 0)}  # only the clean unpriced one is in the window
    got = unknowns(t, deposits([(S, 20, 0, 50, 1000)]), flagged([(SANCTIONED, "sanctions")]), lookback_s=50)
    assert got == {}  # the window holds the clean unpriced transfer alone
