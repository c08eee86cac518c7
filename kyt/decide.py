"""From exposures to decisions: allow, review or freeze, with the ids of the rules that matched.

Thresholds compare the exact values (fractions of integer micro-dollars), not rounded text:
a vectorised float test settles every exposure that is clearly above or below a threshold,
and the few within 1e-9 of it are settled with exact integers.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from graph.exposure import Exposures
from kyt.rules import SEVERITY, Policy

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


def matches(exposures: Exposures, policy: Policy) -> tuple[np.ndarray, np.ndarray]:
    """(exposure position, rule position) of every match, ordered by exposure then rule."""
    hits_e, hits_r = [], []
    names = exposures.categories
    for r, rule in enumerate(policy.rules):
        chosen = exposures.hop == rule.hop
        if rule.category != "*":
            if rule.category not in names:
                continue
            chosen &= exposures.category == names.index(rule.category)
        candidates = np.flatnonzero(chosen)
        num, den = exposures.share_num[candidates], exposures.share_den[candidates]
        ok = at_least(num, den, rule.share_threshold)
        # usd (dollars) = value * num / (den * 1e6); the products may exceed int64, so the
        # exact comparison happens in Python for the rows near the threshold only.
        value = exposures.value[candidates]
        usd = value.astype(np.float64) * (num.astype(np.float64) / den.astype(np.float64)) / 1e6
        limit = float(rule.usd_threshold)
        usd_ok = usd >= limit
        if limit > 0:
            for i in np.flatnonzero(np.abs(usd - limit) <= _BAND * max(limit, 1.0)):
                exact = Fraction(int(value[i]) * int(num[i]), int(den[i]) * 1_000_000)
                usd_ok[i] = exact >= rule.usd_threshold
        else:
            usd_ok[:] = True
        picked = candidates[ok & usd_ok]
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

    def rule_ids(self) -> dict[int, list[str]]:
        """deposit -> ids of its matched rules in policy order, for deposits with any match."""
        out: dict[int, list[str]] = {}
        for d, r in zip(self.match_deposit.tolist(), self.match_rule.tolist()):
            ids = out.setdefault(d, [])
            rule_id = self.policy.rules[r].id
            if rule_id not in ids:
                ids.append(rule_id)
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
