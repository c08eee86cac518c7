"""Decisions: the most severe matching action, exact thresholds, and the ids of what matched."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from graph.exposure import Exposures
from kyt.decide import at_least, decide
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
    """(deposit, category code, hop, flagged, total, value) with USD in micro-dollars (haircut shares)."""
    cols = list(zip(*rows)) if rows else [[]] * 6
    deposit, category, hop, flagged, total, value = [np.array(c, dtype=np.int64) for c in cols]
    zeros = np.zeros(len(rows), dtype=np.int64)
    return Exposures(["mixer", "sanctions"], "haircut", None, deposit, category, hop, value, flagged, total, zeros, zeros)


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
