"""Rules files: the shipped policy is valid and documented; bad files are rejected clearly."""

from __future__ import annotations

import pytest

from kyt.errors import PolicyError
from kyt.rules import CATEGORIES, default_policy, load_policy, parse_policy

RULE = '''
[[rules]]
id = "r1"
description = "One sentence."
category = "sanctions"
hop = 1
min_share = 0
min_usd = 10
action = "freeze"
'''


def rejected(text):
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "rules.toml")
    return caught.value.problems


def test_default_policy_covers_the_required_cases_and_documents_every_rule():
    policy = default_policy()
    assert all(rule.description.endswith(".") for rule in policy.rules)
    by_id = {rule.id: rule for rule in policy.rules}
    assert by_id["sanctions-direct"].action == "freeze" and by_id["sanctions-direct"].hop == 1
    assert by_id["terrorist-financing-direct"].action == "freeze"
    for category in ("sanctions", "terrorist_financing"):
        indirect = [r for r in policy.rules if r.category == category and r.hop == 2 and r.action == "freeze"]
        assert indirect and all(r.min_share > 0 or r.min_usd > 0 for r in indirect)
    for category in ("stolen_funds", "ransomware", "darknet_market"):
        assert {(r.hop, r.action) for r in policy.rules if r.category == category} == {(1, "freeze"), (2, "review")}
    for category in ("scam", "mixer"):
        assert {r.action for r in policy.rules if r.category == category} == {"review"}
    assert all(r.min_usd >= 10 for r in policy.rules if r.action == "freeze")  # the dust floor


def test_a_valid_file_loads(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('name = "mine"\nversion = "3"\n' + RULE)
    policy = load_policy(path)
    assert (policy.name, policy.version, policy.rules[0].min_usd) == ("mine", "3", 10)


def test_unknown_key_is_rejected_with_a_suggestion():
    problems = rejected(RULE.replace("min_usd", "min_usdd"))
    assert "rule 1 ('r1'): unknown key 'min_usdd' (did you mean 'min_usd'?)" in problems[0]
    assert any("missing key 'min_usd'" in p for p in problems)


def test_unknown_category_action_hop_and_ranges_are_each_reported():
    text = RULE.replace('"sanctions"', '"sanction"').replace('"freeze"', '"block"').replace("hop = 1", "hop = 3")
    text = text.replace("min_share = 0", "min_share = 1.5").replace("min_usd = 10", "min_usd = -1")
    problems = rejected(text)
    assert any("unknown category 'sanction'" in p for p in problems)
    assert any("unknown action 'block'; allowed: review, freeze" in p for p in problems)
    assert any("hop must be 1 or 2, not 3" in p for p in problems)
    assert any("min_share must be a number from 0 to 1, not Decimal('1.5')" in p for p in problems)
    assert any("min_usd must be a number of USD, 0 or more" in p for p in problems)


def test_top_level_unknown_key_duplicates_and_empty_files():
    assert "unknown key 'rule'" in rejected('rule = 1\n' + RULE)[0]
    assert rejected(RULE + RULE) == ["rule 'r1' is defined twice"]
    assert rejected("") == ["no rules: add at least one [[rules]] table"]
    assert rejected("[[rules]\n")[0].startswith("not valid TOML")


def test_new_categories_can_be_declared():
    policy = parse_policy('categories = ["phishing_kit"]\n' + RULE.replace('"sanctions"', '"phishing_kit"'))
    assert policy.categories == ("phishing_kit",)
    assert "phishing_kit" not in CATEGORIES


def test_digest_changes_with_thresholds_not_with_descriptions():
    base = parse_policy(RULE)
    assert parse_policy(RULE.replace("One sentence.", "Another.")).digest == base.digest
    assert parse_policy(RULE.replace("min_usd = 10", "min_usd = 11")).digest != base.digest


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(PolicyError, match="cannot be read"):
        load_policy(tmp_path / "none.toml")


@pytest.mark.parametrize("change, message", [
    (("min_share = 0", "min_share = nan"), "min_share must be a number from 0 to 1"),
    (("min_usd = 10", "min_usd = inf"), "min_usd must be a number of USD, 0 or more"),
    (("min_usd = 10", "min_usd = nan"), "min_usd must be a number of USD, 0 or more"),
    (('category = "sanctions"', 'category = ["sanctions"]'), "unknown category ['sanctions']"),
    (('category = "sanctions"', "category = {a = 1}"), "unknown category {'a': 1}"),
    (("hop = 1", "hop = 1.0"), "hop must be 1 or 2"),
    (('action = "freeze"', "action = 2"), "unknown action 2"),
    (('description = "One sentence."', "description = 3"), "description must be text"),
])
def test_odd_values_are_rejected_not_crashed(change, message):
    problems = rejected(RULE.replace(*change))
    assert any(message in p for p in problems), problems


def test_the_design_example_without_description_is_accepted():
    rule = parse_policy(RULE.replace('description = "One sentence."\n', "")).rules[0]
    assert rule.description == "" and rule.action == "freeze"


def test_name_and_version_must_be_text():
    assert rejected("version = 3\n" + RULE) == ["version must be text"]
