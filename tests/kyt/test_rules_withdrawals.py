"""Withdrawal rules in the policy file: the shipped ones, their checks, and the digest."""

from __future__ import annotations

import pytest

from kyt.errors import PolicyError
from kyt.rules import default_policy, parse_policy
from tests.kyt.test_rules import RULE

WITHDRAWAL_RULE = '''
[[withdrawal_rules]]
id = "w1"
description = "One sentence."
category = "sanctions"
kind = "received"
hop = 1
min_share = 0.5
min_flagged_usd = 10
action = "block"
'''


def rejected(text):
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "rules.toml")
    return caught.value.problems


def test_a_withdrawal_rule_is_read_beside_the_deposit_rules():
    policy = parse_policy(RULE + WITHDRAWAL_RULE)
    (rule,) = policy.withdrawal_rules
    assert (rule.id, rule.kind, rule.hop, rule.min_share, rule.min_flagged_usd, rule.action) == (
        "w1", "received", 1, 0.5, 10, "block")
    assert [r.id for r in policy.rules] == ["r1"]
    assert parse_policy(RULE).withdrawal_rules == ()


def test_the_shipped_withdrawal_rules():
    policy = default_policy()
    rules = {r.id: r for r in policy.withdrawal_rules}
    assert all(r.description.endswith(".") for r in rules.values())
    assert (rules["sanctioned-destination"].kind, rules["sanctioned-destination"].action) == ("self", "block")
    assert {r.category for r in rules.values() if r.kind == "self" and r.action == "block"} == {
        "sanctions", "terrorist_financing", "darknet_market"}
    assert {r.category for r in rules.values() if r.kind == "self" and r.action == "review"} == {
        "ransomware", "stolen_funds", "scam", "mixer", "fraud_shop"}
    assert all(r.min_flagged_usd >= 10 for r in rules.values() if r.kind != "self" and not r.unpriced)
    assert {(r.kind, r.hop) for r in rules.values() if r.unpriced} == {("received", 1), ("received", 2), ("sent", 1)}


def test_problems_name_the_withdrawal_rule_and_its_position():
    text = RULE + WITHDRAWAL_RULE + WITHDRAWAL_RULE.replace('"w1"', '"w2"').replace('"received"', '"sent"').replace(
        "hop = 1", "hop = 2").replace('"block"', '"freeze"').replace("min_flagged_usd", "min_flaged_usd")
    assert rejected(text) == [
        "withdrawal rule 2 ('w2'): unknown key 'min_flaged_usd' (did you mean 'min_flagged_usd'?); allowed: id, "
        "description, category, kind, hop, min_share, min_flagged_usd, action, unpriced"]
    text = text.replace("min_flaged_usd", "min_flagged_usd")
    assert rejected(text) == ["withdrawal rule 2 ('w2'): a sent rule's hop must be 1, not 2",
                              "withdrawal rule 2 ('w2'): unknown action 'freeze'; allowed: allow, review, block"]


@pytest.mark.parametrize("change, message", [
    (('kind = "received"', 'kind = "forward"'), "unknown kind 'forward'; allowed: self, received, sent"),
    (("hop = 1", "hop = 3"), "a received rule's hop must be 1 or 2, not 3"),
    (('kind = "received"\nhop = 1', 'kind = "self"\nhop = 0'), "a self rule has no flagged USD to compare"),
    (('kind = "received"\nhop = 1', 'kind = "self"\nhop = 1'), "a self rule's hop must be 0, not 1"),
    (("min_share = 0.5", "min_share = 2"), "min_share must be a number from 0 to 1"),
    (("min_flagged_usd = 10", "min_flagged_usd = -1"), "min_flagged_usd must be a number of USD, 0 or more"),
    (("action", "unpriced = true\naction"), "a rule with unpriced = true matches unknown values"),
    (('category = "sanctions"', 'category = "sanction"'), "unknown category 'sanction'"),
    (('id = "w1"', 'id = "r1"'), "rule 'r1' is defined twice"),
])
def test_bad_withdrawal_rules_are_rejected(change, message):
    problems = rejected(RULE + WITHDRAWAL_RULE.replace(*change))
    assert any(message in p for p in problems), problems


def test_withdrawal_rules_must_be_tables_and_need_deposit_rules_beside_them():
    assert "withdrawal_rules must be a list of [[withdrawal_rules]] tables" in rejected("withdrawal_rules = 3\n" + RULE)
    assert rejected(WITHDRAWAL_RULE) == ["no rules: add at least one [[rules]] table"]


def test_digest_covers_withdrawal_rules_but_not_their_descriptions():
    base = parse_policy(RULE + WITHDRAWAL_RULE)
    assert parse_policy(RULE).digest != base.digest
    assert parse_policy(RULE + WITHDRAWAL_RULE.replace("One sentence.", "Other.")).digest == base.digest
    assert parse_policy(RULE + WITHDRAWAL_RULE.replace("min_share = 0.5", "min_share = 0.4")).digest != base.digest
