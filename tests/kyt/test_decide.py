"""Decisions: the most severe matching action, exact thresholds, and the ids of what matched."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given, settings, strategies as st

from graph.exposure import Exposures
from kyt.decide import at_least, decide, joined_names
from kyt.rules import parse_policy

POLICY = parse_policy('''
[[rules]]
id = "s-direct"
description = "d."
category = "sanctions"
hop = 1
min_share = 0
min_usd = 10
action = "freeze"

[[rules]]
id = "s-any"
description = "d."
category = "sanctions"
hop = 1
min_share = 0
min_usd = 0
action = "review"

[[rules]]
id = "s-share"
description = "d."
category = "sanctions"
hop = 2
min_share = 0.1
min_usd = 0
action = "freeze"

[[rules]]
id = "anything-indirect"
description = "d."
category = "*"
hop = 2
min_share = 0.5
min_usd = 0
action = "review"
''')


def exposures(rows):
    """(deposit, category code, hop, flagged, total, value[, unpriced flagged[, unpriced total]]), USD in micro-dollars.

    Shares are haircut shares; a value of None is a deposit without a price; the unpriced
    total defaults to the unpriced flagged count.
    """
    rows = [tuple(r) + (0,) * (7 - len(r)) for r in rows]
    rows = [r if len(r) == 8 else r + (r[6],) for r in rows]
    cols = list(zip(*rows)) if rows else [[]] * 8
    known = np.array([v is not None for v in cols[5]], dtype=bool)
    cols[5] = [0 if v is None else v for v in cols[5]]
    deposit, category, hop, flagged, total, value, unknown, unknown_total = [np.array(c, dtype=np.int64) for c in cols]
    zeros = np.zeros(len(rows), dtype=np.int64)
    return Exposures(["mixer", "sanctions"], "haircut", None, deposit, category, hop, value, flagged, total, zeros,
                     zeros, unknown_total, unknown, known)


def test_most_severe_action_wins_and_all_matches_are_kept():
    e = exposures([(0, 1, 1, 1, 1, 50_000_000), (1, 1, 1, 1, 1, 9_999_999), (2, 0, 2, 3, 4, 10**6),
                   (3, 1, 2, 1, 10, 10**6), (3, 0, 2, 1, 2, 10**6)])
    d = decide(e, 5, POLICY)
    assert [d.decision(i) for i in range(5)] == ["freeze", "review", "review", "freeze", "allow"]
    assert d.rule_ids() == {0: ["s-direct", "s-any"], 1: ["s-any"], 2: ["anything-indirect"],
                            3: ["s-share", "anything-indirect"]}
    assert d.counts() == {"allow": 1, "review": 2, "freeze": 2}


def test_thresholds_are_inclusive_and_exact():
    assert at_least(np.array([1]), np.array([10]), Fraction(1, 10)).tolist() == [True]
    big = 10**17
    assert at_least(np.array([big - 1]), np.array([10 * big]), Fraction(1, 10)).tolist() == [False]
    assert at_least(np.array([big + 1]), np.array([10 * big]), Fraction(1, 10)).tolist() == [True]
    e = exposures([(0, 1, 1, 1, 1, 10_000_000), (1, 1, 1, 1, 1, 9_999_999)])
    assert [decide(e, 2, POLICY).decision(i) for i in range(2)] == ["freeze", "review"]


def test_usd_threshold_uses_the_exact_product():
    # $30 * 1/3 = exactly $10: matches min_usd = 10; a micro-dollar less does not
    e = exposures([(0, 1, 2, 1, 3, 30_000_000), (1, 1, 2, 1, 3, 29_999_999)])
    policy = parse_policy(POLICY_TEXT_USD)
    assert [decide(e, 2, policy).decision(i) for i in range(2)] == ["freeze", "allow"]


POLICY_TEXT_USD = '''
[[rules]]
id = "usd"
description = "d."
category = "sanctions"
hop = 2
min_share = 0
min_usd = 10
action = "freeze"
'''


def test_no_exposure_means_allow():
    d = decide(exposures([]), 3, POLICY)
    assert d.counts() == {"allow": 3, "review": 0, "freeze": 0} and d.rule_ids() == {}


UNPRICED = POLICY_TEXT_USD + '''
[[rules]]
id = "mixer-share"
description = "d."
category = "mixer"
hop = 2
min_share = 0.5
min_usd = 100
action = "review"

[[rules]]
id = "unpriced"
description = "d."
category = "*"
hop = 2
min_share = 0
min_usd = 0
action = "review"
unpriced = true
'''


def test_unknown_values_pass_no_threshold_and_go_to_review_when_a_rule_could_match():
    policy = parse_policy(UNPRICED)
    e = exposures([
        (0, 1, 2, 1, 3, None),  # sanctions, deposit without a price: usd unknown
        (1, 1, 2, 0, 0, 50_000_000, 2),  # all the flagged funding unpriced: share unknown
        (2, 1, 2, 1, 3, 30_000_000, 1),  # priced share 1/3 would give $10, but flagged funding has no price
        (3, 0, 2, 1, 3, 90_000_000, 1),  # mixer: even a share of 1 gives $90, under the rule's $100
        (4, 0, 2, 1, 4, None),  # mixer, deposit without a price, share 1/4 under the rule's 0.5
        (5, 1, 2, 1, 3, 9_000_000, 1),  # sanctions: a share of 1 gives $9, under $10
        (6, 1, 2, 1, 1, 30_000_000, 0, 1),  # clean funding without a price: the priced share 1 is a bound
        (7, 1, 2, 1, 4, 30_000_000, 0, 1),  # the same bound, 1/4, gives $7.50: under $10 whatever the price
    ])
    d = decide(e, 8, policy)
    assert [d.decision(i) for i in range(8)] == ["review", "review", "review", "allow", "allow", "allow", "review",
                                                 "allow"]
    assert d.rule_ids() == {0: ["unpriced"], 1: ["unpriced"], 2: ["unpriced"], 6: ["unpriced"]}


def test_thresholds_of_zero_match_unknown_values_and_higher_ones_do_not():
    e = exposures([(0, 1, 1, 0, 0, None), (1, 1, 2, 0, 0, 10**6, 1)])
    d = decide(e, 2, POLICY)  # s-direct needs $10, s-share a share of 0.1: neither is known
    assert d.rule_ids() == {0: ["s-any"]}


def test_unpriced_rules_need_thresholds_of_zero():
    import pytest
    from kyt.errors import PolicyError
    with pytest.raises(PolicyError, match="unpriced = true .* must be 0"):
        parse_policy(UNPRICED.replace('min_usd = 0\naction = "review"\nunpriced', 'min_usd = 5\naction = "review"\nunpriced'))
    with pytest.raises(PolicyError, match="unpriced must be true or false"):
        parse_policy(UNPRICED.replace("unpriced = true", 'unpriced = "yes"'))


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 12), width=st.sampled_from([1, 3, 64, 70]), data=st.data(), grouped=st.booleans())
def test_joined_names_are_each_rows_names_once_in_code_order(n, width, data, grouped):
    pairs = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, width - 1)), max_size=40))
    if grouped:
        pairs.sort(key=lambda pair: pair[0])
    names = [f"n{i}" for i in range(width)]
    rows = np.array([r for r, _ in pairs], dtype=np.int64)
    codes = np.array([c for _, c in pairs], dtype=np.int64)
    expected = [";".join(names[c] for c in sorted({c for r, c in pairs if r == row})) for row in range(n)]
    assert joined_names(rows, codes, names=names, n=n).tolist() == expected


class _Everything:
    """A set that holds every (hop, category) pair: the rule loop then skips nothing."""

    def __contains__(self, item) -> bool:
        return True


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 1), st.integers(1, 2), st.integers(0, 10**8),
                          st.integers(1, 10**8), st.one_of(st.none(), st.integers(0, 10**9)), st.integers(0, 2)),
                max_size=12))
def test_skipping_rules_without_exposures_of_their_hop_and_category_changes_no_match(rows):
    from unittest import mock

    from kyt import decide as module
    from kyt.rules import default_policy

    shown = exposures([(d, c, h, min(f, t), t, v, u) for d, c, h, f, t, v, u in rows])
    for policy in (POLICY, default_policy()):
        fast = module.matches(shown, policy)
        with mock.patch.object(module, "_present", lambda *args: _Everything()):
            every = module.matches(shown, policy)
        assert [a.tolist() for a in fast] == [a.tolist() for a in every]
