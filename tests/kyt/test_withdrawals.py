"""Withdrawal decisions: the destination's exposures through the withdrawal rules, on hand-built graphs."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings, strategies as st

from graph.exposure import FlagView
from graph.index import InboundIndex
from graph.withdrawal_exposure import destination_exposures
from kyt.rules import default_policy, parse_policy
from kyt.withdrawals import decide_withdrawals
from tests.factories import MICRO, addr, flagged, services, transfers
from tests.kyt.test_rules import RULE

D, LAZARUS, MIXER, A, B, X, Y, EXCHANGE, SCAM = 1, 10, 12, 2, 3, 4, 5, 30, 11
T = 1000
FLAGS = [(LAZARUS, "sanctions"), (MIXER, "mixer"), (SCAM, "scam")]
WORKED = [(LAZARUS, A, 10, 0, 600), (X, A, 11, 0, 400), (MIXER, B, 12, 0, 100), (LAZARUS, EXCHANGE, 13, 0, 5000),
          (A, D, 20, 0, 500), (LAZARUS, D, 21, 0, 200), (B, D, 22, 0, 300), (EXCHANGE, D, 23, 0, 1000),
          (D, MIXER, 30, 0, 250), (D, Y, 31, 0, 750)]


def decided(rows, destinations, *, f=FLAGS, policy=None):
    """[(action, rule ids, categories)] per destination, with the exchange as a service."""
    index = InboundIndex.build(transfers(rows))
    e = destination_exposures(index, FlagView.build(index, flagged(f), T * MICRO),
                              pa.array([addr(n) for n in destinations]), as_of=T * MICRO,
                              services=services([EXCHANGE]))
    out = decide_withdrawals(e, policy or default_policy())
    return [(out.action(n), out.rule_ids(n), out.matched_categories(n)) for n in range(len(destinations))]


def test_the_worked_example_is_reviewed_for_its_sanctioned_funding():
    # 10% of D's $2,000 came from Lazarus, 15% traces to it one step back; its 15% mixer trace and the
    # 25% it sent to a mixer meet no shipped rule.
    assert decided(WORKED, [D]) == [("review", ["destination-received-sanctions", "destination-traced-sanctions"],
                                     ["sanctions"])]


def test_flagged_destinations_and_a_batch():
    got = decided(WORKED, [LAZARUS, SCAM, 99, EXCHANGE, MIXER])
    assert got == [("block", ["sanctioned-destination"], ["sanctions"]),
                   ("review", ["scam-destination"], ["scam"]),
                   ("allow", [], []),
                   ("allow", [], []),  # a service: its receipts from Lazarus are not its customers' concern here
                   # the mixer got $250 from D, whose funding was 10% Lazarus: $25, 10%, traced one step back
                   ("review", ["mixer-destination", "destination-traced-sanctions"], ["mixer", "sanctions"])]


def test_share_thresholds_are_exact_and_the_dust_floor_holds():
    half = [(LAZARUS, D, 1, 0, 10), (X, D, 2, 0, 10)]
    assert decided(half, [D])[0][:2] == ("block", ["destination-funded-by-sanctions",
                                                   "destination-received-sanctions"])
    under = [(LAZARUS, D, 1, 0, 10), (X, D, 2, 0, 10.000001)]
    assert decided(under, [D])[0][:2] == ("review", ["destination-received-sanctions"])
    dust = [(LAZARUS, D, 1, 0, 9.999999)]  # 100% of a fresh address's funding, but under $10
    assert decided(dust, [D]) == [("allow", [], [])]


def test_sent_on_to_sanctioned_wallets():
    rows = [(X, D, 1, 0, 1000), (D, LAZARUS, 2, 0, 300), (D, Y, 3, 0, 700)]
    assert decided(rows, [D]) == [("review", ["destination-sent-sanctions"], ["sanctions"])]
    rows = [(X, D, 1, 0, 1000), (D, LAZARUS, 2, 0, 500), (D, Y, 3, 0, 500)]
    assert decided(rows, [D])[0][:2] == ("block", ["destination-feeds-sanctions", "destination-sent-sanctions"])


def test_unknown_values_go_to_review_only_where_a_rule_could_apply():
    unpriced_flagged = [(LAZARUS, D, 1, 0, None), (X, D, 2, 0, 100)]
    assert decided(unpriced_flagged, [D]) == [("review", ["destination-unpriced-received"], ["sanctions"])]
    unpriced_clean = [(LAZARUS, D, 1, 0, 5), (X, D, 2, 0, None)]  # at most 100% but only $5: under every floor
    assert decided(unpriced_clean, [D]) == [("allow", [], [])]
    unpriced_clean = [(LAZARUS, D, 1, 0, 50), (X, D, 2, 0, None)]  # at most 100% of $50: the rules could apply
    assert decided(unpriced_clean, [D]) == [("review", ["destination-unpriced-received"], ["sanctions"])]
    traced = [(LAZARUS, A, 1, 0, 100), (X, A, 2, 0, None), (A, D, 3, 0, 100)]  # A's share is unknown
    assert decided(traced, [D]) == [("review", ["destination-unpriced-traced"], ["sanctions"])]


def test_an_allow_rule_is_listed_but_never_raises_the_action():
    policy = parse_policy(RULE + '''
[[withdrawal_rules]]
id = "note-scam-funding"
description = "Scam funding is noted."
category = "scam"
kind = "received"
hop = 1
min_share = 0
action = "allow"

[[withdrawal_rules]]
id = "any-self"
description = "Any flagged destination is reviewed."
category = "*"
kind = "self"
hop = 0
min_share = 0
action = "review"
''')
    rows = [(SCAM, D, 1, 0, 1), (X, D, 2, 0, 99)]
    assert decided(rows, [D, MIXER], policy=policy) == [("allow", ["note-scam-funding"], ["scam"]),
                                                        ("review", ["any-self"], ["mixer"])]
    assert decide_withdrawals(destination_exposures(InboundIndex.build(transfers(rows)),
                                                    FlagView.build(InboundIndex.build(transfers(rows)),
                                                                   flagged(FLAGS), T * MICRO),
                                                    pa.array([addr(D), addr(MIXER), addr(Y)]), as_of=T * MICRO),
                              policy).counts() == {"allow": 2, "review": 1, "block": 0}


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([D, LAZARUS, MIXER, A, B, X, Y, EXCHANGE, SCAM]),
                          st.sampled_from([D, LAZARUS, MIXER, A, B, X, Y, EXCHANGE, SCAM]),
                          st.integers(1, 900), st.just(0), st.one_of(st.none(), st.integers(1, 10**5))),
                min_size=1, max_size=25))
def test_skipping_rules_without_exposures_of_their_kind_hop_and_category_changes_no_decision(rows):
    from unittest import mock

    from kyt import withdrawals as module

    rows = [r for r in rows if r[0] != r[1]]
    if not rows:
        return
    every = {(kind, hop, category) for kind in ("self", "received", "sent") for hop in range(3)
             for category in ["*"] + sorted({c for _, c in FLAGS})}
    fast = decided(rows, [D, LAZARUS, MIXER, A, B, X, Y, EXCHANGE, SCAM])
    with mock.patch.object(module, "_present", lambda exposures: every):
        slow = decided(rows, [D, LAZARUS, MIXER, A, B, X, Y, EXCHANGE, SCAM])
    assert fast == slow
