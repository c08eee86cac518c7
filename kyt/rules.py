"""Risk rules as data: the TOML rules file, its validation, and the shipped default policy.

A rule matches an exposure of its category (or `*`) at its hop when share >= min_share and
usd >= min_usd, compared exactly (see kyt.decide). An unknown share or USD value (no price)
never passes a threshold above 0; rules with `unpriced = true` match exactly those exposures
where something unknown could raise them, so that unknown is never read as zero.
Withdrawal rules (`[[withdrawal_rules]]`) do the same for a withdrawal destination's
exposures (kyt.withdrawals): kind, hop, min_share and min_flagged_usd, allow / review / block.

>>> policy = default_policy()
>>> policy.rule("sanctions-direct").action
'freeze'
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import tomllib
from dataclasses import asdict, dataclass
from decimal import Decimal
from fractions import Fraction
from importlib import resources
from pathlib import Path

from kyt.errors import PolicyError

CATEGORIES = ("sanctions", "stolen_funds", "scam", "mixer", "ransomware", "darknet_market",
              "terrorist_financing", "fraud_shop", "gambling")
"""The built-in categories; a policy may add its own with `categories = [...]`."""

ACTIONS = ("review", "freeze")
SEVERITY = {"allow": 0, "review": 1, "freeze": 2}
RULE_KEYS = ("id", "description", "category", "hop", "min_share", "min_usd", "action", "unpriced")
REQUIRED_RULE_KEYS = ("id", "category", "hop", "min_share", "min_usd", "action")
POLICY_KEYS = ("name", "version", "description", "categories", "rules", "withdrawal_rules")
WITHDRAWAL_ACTIONS = ("allow", "review", "block")
WITHDRAWAL_SEVERITY = {"allow": 0, "review": 1, "block": 2}
WITHDRAWAL_HOPS = {"self": (0,), "received": (1, 2), "sent": (1,)}
"""The hops each kind of destination exposure has (docs/exposure.md, "Withdrawal destinations")."""
WITHDRAWAL_RULE_KEYS = ("id", "description", "category", "kind", "hop", "min_share", "min_flagged_usd", "action",
                        "unpriced")
REQUIRED_WITHDRAWAL_RULE_KEYS = ("id", "category", "kind", "hop", "min_share", "action")
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_CATEGORY = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Rule:
    """One named, documented rule."""

    id: str
    description: str
    category: str
    hop: int
    min_share: Decimal
    min_usd: Decimal
    action: str
    unpriced: bool = False
    """Matches exposures whose deposit or flagged funding has no known USD value, instead of thresholds."""

    @property
    def share_threshold(self) -> Fraction:
        return Fraction(self.min_share)

    @property
    def usd_threshold(self) -> Fraction:
        return Fraction(self.min_usd)


@dataclass(frozen=True)
class WithdrawalRule:
    """One named, documented rule on a withdrawal destination's exposure of one kind and hop."""

    id: str
    description: str
    category: str
    kind: str
    hop: int
    min_share: Decimal
    min_flagged_usd: Decimal
    action: str
    unpriced: bool = False
    """Matches exposures with unknown values that a threshold rule of the same kind and hop could match once known."""

    @property
    def share_threshold(self) -> Fraction:
        return Fraction(self.min_share)

    @property
    def flagged_threshold(self) -> Fraction:
        return Fraction(self.min_flagged_usd)


@dataclass(frozen=True)
class Policy:
    """A named, versioned list of rules and the categories it knows."""

    name: str
    version: str
    description: str
    categories: tuple[str, ...]
    rules: tuple[Rule, ...]
    withdrawal_rules: tuple[WithdrawalRule, ...] = ()

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id (KeyError if none)."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    @property
    def digest(self) -> str:
        """sha256 of the policy's canonical JSON: changes whenever any rule or threshold does."""
        body = {"name": self.name, "version": self.version, "categories": list(self.categories),
                "rules": [{k: str(v) for k, v in asdict(r).items() if k != "description" and not (k == "unpriced" and not v)}
                          for r in self.rules]}
        if self.withdrawal_rules:  # a policy without them keeps the digest it had before they existed
            body["withdrawal_rules"] = [{k: str(v) for k, v in asdict(r).items() if k != "description"}
                                        for r in self.withdrawal_rules]
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _unknown(key: str, allowed: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key {key!r}{hint}; allowed: {', '.join(allowed)}"


def _number(value: object, lo: Decimal, hi: Decimal | None) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return None
    number = Decimal(value)
    if not number.is_finite() or number < lo or (hi is not None and number > hi):
        return None
    return number


def _common_keys(raw: dict, where: str, *, keys: tuple, categories: set[str], problems: list[str]) -> bool:
    """The checks every rule (deposit or withdrawal) shares: known and required keys, id, description, category;
    False when keys are missing or unknown (nothing else can be checked)."""
    allowed, required = keys
    start = len(problems)
    problems += [f"{where}: {_unknown(k, allowed)}" for k in raw if k not in allowed]
    problems += [f"{where}: missing key {k!r}" for k in required if k not in raw]
    if len(problems) > start:
        return False
    if not isinstance(raw["id"], str) or not _ID.match(raw["id"]):
        problems.append(f"{where}: id {raw['id']!r} must be lowercase letters, digits, '-', '_' or '.'")
    if not isinstance(raw.get("description", ""), str):
        problems.append(f"{where}: description must be text: one sentence saying what the rule catches")
    category = raw["category"]
    if not isinstance(category, str) or (category != "*" and category not in categories):
        problems.append(f"{where}: unknown category {category!r}; known: {', '.join(sorted(categories))}"
                        " (declare new ones in the policy's `categories` list)")
    return True


def _rule(raw: dict, where: str, *, categories: set[str], problems: list[str]) -> Rule | None:
    start = len(problems)
    if not _common_keys(raw, where, keys=(RULE_KEYS, REQUIRED_RULE_KEYS), categories=categories, problems=problems):
        return None
    description = raw.get("description", "")
    category = raw["category"]
    if type(raw["hop"]) is not int or raw["hop"] not in (1, 2):
        problems.append(f"{where}: hop must be 1 or 2, not {raw['hop']!r}")
    share = _number(raw["min_share"], Decimal(0), Decimal(1))
    if share is None:
        problems.append(f"{where}: min_share must be a number from 0 to 1, not {raw['min_share']!r}")
    usd = _number(raw["min_usd"], Decimal(0), None)
    if usd is None:
        problems.append(f"{where}: min_usd must be a number of USD, 0 or more, not {raw['min_usd']!r}")
    if not isinstance(raw["action"], str) or raw["action"] not in ACTIONS:
        problems.append(f"{where}: unknown action {raw['action']!r}; allowed: {', '.join(ACTIONS)}")
    unpriced = raw.get("unpriced", False)
    if not isinstance(unpriced, bool):
        problems.append(f"{where}: unpriced must be true or false, not {unpriced!r}")
    elif unpriced and (share or usd):
        problems.append(f"{where}: a rule with unpriced = true matches unknown values, so min_share and min_usd"
                        " must be 0")
    if len(problems) > start:
        return None
    return Rule(raw["id"], description.strip(), category, raw["hop"], share, usd, raw["action"], unpriced)


def _withdrawal_rule(raw: dict, where: str, *, categories: set[str], problems: list[str]) -> WithdrawalRule | None:
    start = len(problems)
    if not _common_keys(raw, where, keys=(WITHDRAWAL_RULE_KEYS, REQUIRED_WITHDRAWAL_RULE_KEYS), categories=categories,
                        problems=problems):
        return None
    description = raw.get("description", "")
    category = raw["category"]
    kind = raw["kind"]
    if not isinstance(kind, str) or kind not in WITHDRAWAL_HOPS:
        problems.append(f"{where}: unknown kind {kind!r}; allowed: {', '.join(WITHDRAWAL_HOPS)}")
    elif type(raw["hop"]) is not int or raw["hop"] not in WITHDRAWAL_HOPS[kind]:
        hops = " or ".join(str(h) for h in WITHDRAWAL_HOPS[kind])
        problems.append(f"{where}: a {kind} rule's hop must be {hops}, not {raw['hop']!r}")
    share = _number(raw["min_share"], Decimal(0), Decimal(1))
    if share is None:
        problems.append(f"{where}: min_share must be a number from 0 to 1, not {raw['min_share']!r}")
    flagged_usd = _number(raw.get("min_flagged_usd", 0), Decimal(0), None)
    if flagged_usd is None:
        problems.append(f"{where}: min_flagged_usd must be a number of USD, 0 or more, not {raw['min_flagged_usd']!r}")
    elif flagged_usd and kind == "self":
        problems.append(f"{where}: a self rule has no flagged USD to compare: min_flagged_usd must be 0")
    if not isinstance(raw["action"], str) or raw["action"] not in WITHDRAWAL_ACTIONS:
        problems.append(f"{where}: unknown action {raw['action']!r}; allowed: {', '.join(WITHDRAWAL_ACTIONS)}")
    unpriced = raw.get("unpriced", False)
    if not isinstance(unpriced, bool):
        problems.append(f"{where}: unpriced must be true or false, not {unpriced!r}")
    elif unpriced and kind == "self":
        problems.append(f"{where}: a self exposure has no value to be unknown: unpriced must be false")
    elif unpriced and (share or flagged_usd):
        problems.append(f"{where}: a rule with unpriced = true matches unknown values, so min_share and"
                        " min_flagged_usd must be 0")
    if len(problems) > start:
        return None
    return WithdrawalRule(raw["id"], description.strip(), category, kind, raw["hop"], share, flagged_usd,
                          raw["action"], unpriced)


def _tables(data: dict, key: str, *, label: str, problems: list[str]) -> list[tuple[dict, str]]:
    """The [[key]] tables of a policy, each with where it is ("rule 2 ('id')"); non-tables are reported."""
    raw_tables = data.get(key, [])
    if not isinstance(raw_tables, list):
        problems.append(f"{key} must be a list of [[{key}]] tables")
        return []
    found = []
    for n, raw in enumerate(raw_tables, start=1):
        where = f"{label} {n}" + (f" ({raw.get('id')!r})" if isinstance(raw, dict) and "id" in raw else "")
        if isinstance(raw, dict):
            found.append((raw, where))
        else:
            problems.append(f"{where}: must be a table")
    return found


def parse_policy(text: str, path: str = "<rules>") -> Policy:
    """A policy from TOML text; PolicyError lists every problem found."""
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(path, [f"not valid TOML: {error}"]) from None
    problems = [_unknown(k, POLICY_KEYS) for k in data if k not in POLICY_KEYS]
    problems += [f"{k} must be text" for k in ("name", "version", "description") if not isinstance(data.get(k, ""), str)]
    extra = data.get("categories", [])
    if not isinstance(extra, list) or not all(isinstance(c, str) and _CATEGORY.match(c) for c in extra):
        problems.append("categories must be a list of lowercase names")
        extra = []
    categories = set(CATEGORIES) | set(extra)
    if not data.get("rules", []):
        problems.append("no rules: add at least one [[rules]] table")
    rules = [rule for raw, where in _tables(data, "rules", label="rule", problems=problems)
             if (rule := _rule(raw, where, categories=categories, problems=problems))]
    withdrawal_rules = [rule for raw, where in _tables(data, "withdrawal_rules", label="withdrawal rule",
                                                       problems=problems)
                        if (rule := _withdrawal_rule(raw, where, categories=categories, problems=problems))]
    seen: set[str] = set()
    for rule in [*rules, *withdrawal_rules]:
        if rule.id in seen:
            problems.append(f"rule {rule.id!r} is defined twice")
        seen.add(rule.id)
    if problems:
        raise PolicyError(path, problems)
    return Policy(str(data.get("name", Path(path).stem)), str(data.get("version", "unversioned")),
                  str(data.get("description", "")), tuple(sorted(set(extra))), tuple(rules),
                  tuple(withdrawal_rules))


def load_policy(path: str | Path) -> Policy:
    """A policy from a TOML rules file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PolicyError(str(path), [f"cannot be read: {error.strerror or error}"]) from None
    return parse_policy(text, str(path))


def default_policy_text() -> str:
    """The TOML of the shipped default policy."""
    return resources.files("kyt").joinpath("policies/default.toml").read_text(encoding="utf-8")


def default_policy() -> Policy:
    """The shipped default policy."""
    return parse_policy(default_policy_text(), "default policy")
