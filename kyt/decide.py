"""From exposures to decisions: allow, review or freeze, with the ids of the rules that matched.

Thresholds compare the exact values (fractions of integer micro-dollars), not rounded text:
a vectorised float test settles every exposure that is clearly above or below a threshold,
and the few within 1e-9 of it are settled with exact integers. An unknown share or USD value
passes no threshold above 0; `unpriced` rules catch those exposures instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from fractions import Fraction

import numpy as np

from graph.exposure import Exposures
from kyt.rules import SEVERITY, Policy, Rule

DECISIONS = ("allow", "review", "freeze")
_BAND = 1e-9


def at_least(num: np.ndarray, den: np.ndarray, threshold: Fraction) -> np.ndarray:
    """Exactly whether num / den >= threshold, for int64 arrays with den > 0."""
    if threshold <= 0:
        return np.ones(len(num), dtype=bool)
    value = num.astype(np.float64) / den.astype(np.float64)
    limit = float(threshold)
    out = value >= limit
    close = np.flatnonzero(np.abs(value - limit) <= _BAND * max(limit, 1.0))
    for i in close:
        out[i] = Fraction(int(num[i]), int(den[i])) >= threshold
    return out


def _passes(num: np.ndarray, den: np.ndarray, value: np.ndarray, *, rule: Rule, value_known: np.ndarray) -> np.ndarray:
    """Whether share num/den >= the rule's min_share and usd value * share >= its min_usd, exactly.

    Rows whose value is not known pass the USD test (they are upper bounds, see `_possible`).
    """
    ok = at_least(num, den, rule.share_threshold)
    # usd (dollars) = value * num / (den * 1e6); the products may exceed int64, so the
    # exact comparison happens in Python for the rows near the threshold only.
    usd = value.astype(np.float64) * (num.astype(np.float64) / den.astype(np.float64)) / 1e6
    limit = float(rule.usd_threshold)
    usd_ok = usd >= limit
    if limit > 0:
        for i in np.flatnonzero(np.abs(usd - limit) <= _BAND * max(limit, 1.0)):
            exact = Fraction(int(value[i]) * int(num[i]), int(den[i]) * 1_000_000)
            usd_ok[i] = exact >= rule.usd_threshold
    else:
        usd_ok[:] = True
    return ok & (usd_ok | ~value_known)


def _chosen(exposures: Exposures, rule: Rule) -> np.ndarray:
    """The exposures of the rule's category (or any, for `*`) at its hop."""
    chosen = exposures.hop == rule.hop
    if rule.category != "*":
        names = exposures.categories
        chosen &= exposures.category == (names.index(rule.category) if rule.category in names else -1)
    return chosen


def _possible(exposures: Exposures, rule: Rule) -> np.ndarray:
    """Incomplete exposures that the threshold rule could match once the unknown values are known.

    Flagged funding of unknown value could make the share as large as 1; clean funding of
    unknown value only lowers it, so the priced share is its bound; a deposit of unknown value
    could be worth any amount.
    """
    out = np.zeros(len(exposures), dtype=bool)
    rows = np.flatnonzero(_chosen(exposures, rule) & exposures.incomplete)
    raised = (exposures.unpriced_flagged[rows] > 0) | (exposures.share_den[rows] == 0)
    num = np.where(raised, 1, exposures.share_num[rows])
    den = np.where(raised, 1, exposures.share_den[rows])
    out[rows] = _passes(num, den, exposures.value[rows], rule=rule, value_known=exposures.value_known[rows])
    return out


def _present(hop: np.ndarray, category: np.ndarray, names: list[str]) -> set[tuple[int, str]]:
    """The (hop, category) pairs the exposures have, with (hop, "*") for each hop they have."""
    pairs = set(zip(hop.tolist(), category.tolist()))
    return {(h, names[c]) for h, c in pairs} | {(h, "*") for h, _ in pairs}


def matches(exposures: Exposures, policy: Policy) -> tuple[np.ndarray, np.ndarray]:
    """(exposure position, rule position) of every match, ordered by exposure then rule.

    A threshold rule needs the share and USD it tests to be known (or its threshold to be 0).
    An `unpriced` rule matches the incomplete exposures of its category and hop that some
    threshold rule could match once the unknown values are known, so unknown is never zero.
    """
    hits_e, hits_r = [], []
    thresholds = [rule for rule in policy.rules if not rule.unpriced]
    present = _present(exposures.hop, exposures.category, exposures.categories)
    incomplete = bool(exposures.incomplete.any())
    for r, rule in enumerate(policy.rules):
        if (rule.hop, rule.category) not in present or (rule.unpriced and not incomplete):
            continue  # no exposure of its hop and category (or none unknown): it cannot match
        chosen = _chosen(exposures, rule)
        if rule.unpriced:
            possible = np.zeros(len(exposures), dtype=bool)
            for other in thresholds:
                if other.hop == rule.hop and ("*" in (rule.category, other.category) or other.category == rule.category):
                    possible |= _possible(exposures, other)
            picked = np.flatnonzero(chosen & possible)
        else:
            known = (exposures.share_known | (rule.share_threshold == 0)) \
                & (exposures.usd_known | (rule.usd_threshold == 0))
            candidates = np.flatnonzero(chosen & known)
            num, den = exposures.share_num[candidates], exposures.share_den[candidates]
            den = np.where(den == 0, 1, den)  # an unknown share, reaching here only under thresholds of 0
            picked = candidates[_passes(num, den, exposures.value[candidates], rule=rule,
                                        value_known=np.ones(len(candidates), dtype=bool))]
        hits_e.append(picked)
        hits_r.append(np.full(len(picked), r))
    if not hits_e:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    e, r = np.concatenate(hits_e).astype(np.int64), np.concatenate(hits_r).astype(np.int64)
    order = np.lexsort((r, e))
    return e[order], r[order]


@dataclass
class Decisions:
    """The decision of each deposit (index into DECISIONS) and the rules that matched it."""

    code: np.ndarray
    match_deposit: np.ndarray
    match_rule: np.ndarray
    policy: Policy

    def decision(self, d: int) -> str:
        return DECISIONS[int(self.code[d])]

    def counts(self) -> dict[str, int]:
        """How many deposits got each decision."""
        counted = np.bincount(self.code, minlength=len(DECISIONS))
        return {name: int(counted[i]) for i, name in enumerate(DECISIONS)}

    @cached_property
    def rule_texts(self) -> np.ndarray:
        """Per deposit, the ids of its matched rules in policy order, joined by ';' ('' for none)."""
        return joined_names(self.match_deposit, self.match_rule, names=[r.id for r in self.policy.rules], n=len(self.code))

    def rule_ids(self) -> dict[int, list[str]]:
        """deposit -> ids of its matched rules in policy order, for deposits with any match."""
        texts = self.rule_texts
        return {int(d): texts[d].split(";") for d in np.unique(self.match_deposit)}


def joined_names(rows: np.ndarray, codes: np.ndarray, *, names: list[str], n: int) -> np.ndarray:
    """For each of n rows, the names of the codes it has (each once, in code order) joined by ';'.

    Works per distinct combination, so a million rows with a handful of combinations cost
    a few vector operations.

    >>> joined_names(np.array([0, 0, 2, 0]), np.array([1, 0, 1, 1]), names=["a", "b"], n=3).tolist()
    ['a;b', '', 'b']
    """
    out = np.full(n, "", dtype=object)
    if not len(rows):
        return out
    if np.all(rows[1:] >= rows[:-1]):  # grouped by row already (exposures and matches are): no sort
        starts = np.r_[True, rows[1:] != rows[:-1]]
        present, where = rows[starts], np.cumsum(starts) - 1
    else:
        present, where = np.unique(rows, return_inverse=True)
    words = np.zeros((len(present), (len(names) + 63) // 64), dtype=np.uint64)
    for w in range(words.shape[1]):
        chosen = codes // 64 == w
        np.bitwise_or.at(words[:, w], where[chosen], np.left_shift(np.uint64(1), (codes[chosen] % 64).astype(np.uint64)))
    if words.shape[1] == 1:  # up to 64 names: one number per row
        combos, which = np.unique(words[:, 0], return_inverse=True)
        combos = combos[:, None]
    else:
        combos, which = np.unique(words, axis=0, return_inverse=True)
    texts = np.array([";".join(names[64 * w + b] for w in range(len(combo)) for b in range(64)
                               if int(combo[w]) >> b & 1) for combo in combos], dtype=object)
    out[present] = texts[which.ravel()]
    return out


def decide(exposures: Exposures, n_deposits: int, policy: Policy) -> Decisions:
    """The most severe matching action per deposit (allow when nothing matches)."""
    e, r = matches(exposures, policy)
    severity = np.array([SEVERITY[rule.action] for rule in policy.rules], dtype=np.int8)
    code = np.zeros(n_deposits, dtype=np.int8)
    deposits = exposures.deposit[e]
    if len(e):
        np.maximum.at(code, deposits, severity[r])
    order = np.lexsort((r, deposits))
    return Decisions(code, deposits[order], r[order], policy)
