"""From a withdrawal destination's exposures to a decision: allow, review or block, with the rules that matched.

A threshold rule matches an exposure of its kind, hop and category (or `*`) when the share
is at least min_share and the flagged USD at least min_flagged_usd, compared exactly. An
unknown share passes no min_share above 0; flagged USD with an unknown part passes when its
priced part does. A rule with `unpriced = true` matches the exposures with something
unknown that a threshold rule of the same kind and hop could match once the values are
known (the share could then reach 1 if flagged funds have no price, and stays at most the
priced share if only other funds have none), so that an unknown value is never read as
zero. Each withdrawal takes the most severe action matched: block > review > allow.

>>> from kyt.rules import default_policy
>>> [r.id for r in default_policy().withdrawal_rules if r.kind == "self" and r.action == "block"][0]
'sanctioned-destination'
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

import numpy as np

from graph.withdrawal_exposure import KINDS, WithdrawalExposures
from kyt.decide import at_least
from kyt.rules import WITHDRAWAL_ACTIONS, WITHDRAWAL_SEVERITY, Policy, WithdrawalRule


@dataclass
class WithdrawalDecisions:
    """The action of each withdrawal (index into WITHDRAWAL_ACTIONS) and the (rule, category) pairs that matched it."""

    code: np.ndarray
    match_destination: np.ndarray
    match_rule: np.ndarray
    """Positions in policy.withdrawal_rules, ordered by (destination, rule, category)."""
    match_category: np.ndarray
    """The category code (in `categories`) of the exposure each match is on."""
    categories: list[str]
    policy: Policy

    def __len__(self) -> int:
        return len(self.code)

    def action(self, n: int) -> str:
        """'allow', 'review' or 'block' for the n-th withdrawal."""
        return WITHDRAWAL_ACTIONS[int(self.code[n])]

    def rule_ids(self, n: int) -> list[str]:
        """Ids of the rules that matched the n-th withdrawal, each once, in policy order."""
        rules = self.match_rule[self.match_destination == n]
        return [self.policy.withdrawal_rules[int(r)].id for r in np.unique(rules)]

    def matched_categories(self, n: int) -> list[str]:
        """Categories of the exposures that matched a rule, sorted."""
        return sorted({self.categories[int(c)] for c in self.match_category[self.match_destination == n]})

    def counts(self) -> dict[str, int]:
        """How many withdrawals got each action."""
        counted = np.bincount(self.code, minlength=len(WITHDRAWAL_ACTIONS))
        return {name: int(counted[i]) for i, name in enumerate(WITHDRAWAL_ACTIONS)}


def chosen(exposures: WithdrawalExposures, rule: WithdrawalRule) -> np.ndarray:
    """The exposures of the rule's kind, hop and category (any category for `*`)."""
    out = (exposures.kind == KINDS.index(rule.kind)) & (exposures.hop == rule.hop)
    if rule.category != "*":
        names = exposures.categories
        out &= exposures.category == (names.index(rule.category) if rule.category in names else -1)
    return out


def passes(num: np.ndarray, den: np.ndarray, flagged: np.ndarray, *, rule: WithdrawalRule) -> np.ndarray:
    """Whether share num / den >= min_share (den > 0) and flagged micro-dollars >= min_flagged_usd, exactly."""
    least = min(ceil(rule.flagged_threshold * 10**6), np.iinfo(np.int64).max)
    return at_least(num, den, rule.share_threshold) & (flagged >= least)


def threshold_matches(exposures: WithdrawalExposures, rule: WithdrawalRule) -> np.ndarray:
    """Exposures a threshold rule matches: an unknown share passes only a min_share of 0."""
    rows = np.flatnonzero(chosen(exposures, rule) & (exposures.share_known | (rule.share_threshold == 0)))
    den = np.where(exposures.share_den[rows] > 0, exposures.share_den[rows], 1)
    out = np.zeros(len(exposures), dtype=bool)
    out[rows] = passes(exposures.share_num[rows], den, exposures.flagged[rows], rule=rule)
    return out


def possible(exposures: WithdrawalExposures, rule: WithdrawalRule) -> np.ndarray:
    """Incomplete exposures that a threshold rule could match once their unknown values are known."""
    rows = np.flatnonzero(chosen(exposures, rule) & exposures.incomplete)
    raised = (exposures.unpriced_flagged[rows] > 0) | (exposures.share_den[rows] == 0)
    num = np.where(raised, 1, exposures.share_num[rows])
    den = np.where(raised, 1, exposures.share_den[rows])
    flagged = np.where(exposures.unpriced_flagged[rows] > 0, np.iinfo(np.int64).max, exposures.flagged[rows])
    out = np.zeros(len(exposures), dtype=bool)
    out[rows] = passes(num, den, flagged, rule=rule)
    return out


def _present(exposures: WithdrawalExposures) -> set[tuple[str, int, str]]:
    """The (kind, hop, category) triples the exposures have, with (kind, hop, "*") for each (kind, hop)."""
    triples = set(zip(exposures.kind.tolist(), exposures.hop.tolist(), exposures.category.tolist()))
    return ({(KINDS[k], h, exposures.categories[c]) for k, h, c in triples}
            | {(KINDS[k], h, "*") for k, h, _ in triples})


def decide_withdrawals(exposures: WithdrawalExposures, policy: Policy) -> WithdrawalDecisions:
    """The most severe action matched per withdrawal (allow when nothing matches), with every match."""
    rules = policy.withdrawal_rules
    thresholds = [rule for rule in rules if not rule.unpriced]
    present = _present(exposures)
    incomplete = bool(exposures.incomplete.any())
    hits_e, hits_r = [], []
    for r, rule in enumerate(rules):
        if (rule.kind, rule.hop, rule.category) not in present or (rule.unpriced and not incomplete):
            continue  # nothing of its kind, hop and category (or nothing unknown): it cannot match
        if rule.unpriced:
            could = np.zeros(len(exposures), dtype=bool)
            for other in thresholds:
                if (other.kind, other.hop) == (rule.kind, rule.hop) and (
                        "*" in (rule.category, other.category) or other.category == rule.category):
                    could |= possible(exposures, other)
            picked = np.flatnonzero(chosen(exposures, rule) & could)
        else:
            picked = np.flatnonzero(threshold_matches(exposures, rule))
        hits_e.append(picked)
        hits_r.append(np.full(len(picked), r, dtype=np.int64))
    e = np.concatenate(hits_e).astype(np.int64) if hits_e else np.empty(0, dtype=np.int64)
    r = np.concatenate(hits_r) if hits_r else np.empty(0, dtype=np.int64)
    destination, category = exposures.destination[e], exposures.category[e]
    order = np.lexsort((category, r, destination))
    severity = np.array([WITHDRAWAL_SEVERITY[rule.action] for rule in rules], dtype=np.int8)
    code = np.zeros(exposures.n_destinations, dtype=np.int8)
    if len(e):
        np.maximum.at(code, destination, severity[r])
    return WithdrawalDecisions(code, destination[order], r[order], category[order], exposures.categories, policy)

