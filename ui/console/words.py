"""The words the console shows for the codes the data holds: statuses, decisions, actions, categories, rules.

One place, so that every page says the same thing; a code without words is shown as
itself with underscores as spaces, never hidden.

>>> status("awaiting_customer"), category("mixer"), decision("freeze")
('Waiting for the customer', 'Mixer', 'Freeze')
"""

from __future__ import annotations

from functools import cache

from graph.behaviour import BEHAVIOUR
from graph.features import FEATURES

CASE_STATUS = {"open": "Open, not started", "in_review": "In review", "awaiting_customer": "Waiting for the customer",
               "released": "Released", "escalated": "Escalated (reported)", "closed": "Closed"}
ALERT_STATUS = {"open": "Open", "dismissed": "Dismissed", "case_opened": "Frozen: case opened"}
CUSTOMER_STATUS = {"under_review": "Under review", "awaiting_your_information": "Waiting for the customer's information",
                   "released": "Released", "closed": "Closed"}
DECISION = {"freeze": "Freeze", "review": "Review", "allow": "Allow"}
CATEGORY = {"sanctions": "Sanctions", "stolen_funds": "Stolen funds (hacks, thefts)", "scam": "Scam or phishing",
            "mixer": "Mixer", "darknet_market": "Darknet market", "ransomware": "Ransomware",
            "terrorist_financing": "Terrorist financing", "fraud_shop": "Fraud shop", "*": "Any category"}
INQUIRY_STATE = {"open": "Open", "due soon": "Due within 4 hours", "overdue": "Past its 24-hour target",
                 "resolved": "Resolved"}
MESSAGE_STATUS = {"received": "Received", "sent": "Sent", "held": "Waiting for a supervisor",
                  "blocked": "Blocked (not sent)", "rejected": "Turned down (not sent)"}
LANGUAGE = {"en": "English", "it": "Italiano", "fr": "Français", "es": "Español", "de": "Deutsch",
            "pt": "Português"}
TOPIC = {"frozen_deposit": "Frozen deposit", "withdrawal": "Withdrawal", "account_access": "Account access",
         "fees": "Fees", "other": "Other"}


def _plain(code: str | None) -> str:
    return "—" if not code else code.replace("_", " ").capitalize()


def status(code: str | None) -> str:
    """A case's status in words."""
    return CASE_STATUS.get(code or "", _plain(code))


def alert_status(code: str | None) -> str:
    return ALERT_STATUS.get(code or "", _plain(code))


def customer_status(code: str | None) -> str:
    return CUSTOMER_STATUS.get(code or "", _plain(code))


def decision(code: str | None) -> str:
    return DECISION.get(code or "", _plain(code))


def category(code: str | None) -> str:
    return CATEGORY.get(code or "", _plain(code))


def categories(codes: list[str] | tuple[str, ...]) -> str:
    return ", ".join(category(c) for c in codes) or "—"


def inquiry_state(code: str) -> str:
    return INQUIRY_STATE.get(code, _plain(code))


def message_status(code: str | None) -> str:
    return MESSAGE_STATUS.get(code or "", _plain(code))


FINDING = {"learned_signal": "Learned signal", "free_text": "Free text", "statutory_date": "A date",
           "flag_details": "Flag details", "suspicion_crime": "Suspicion of crime", "authority_timing":
           "Timing tied to the authorities", "confirm_deny": "Confirms or denies a report", "reporting": "Reporting",
           "investigation": "Investigation", "accusation": "Accusation", "sanctions": "Sanctions wording"}


FEATURE_MEANING = dict(FEATURES) | dict(BEHAVIOUR)
"""What each address-risk feature measures, for the model's reasons."""


def sender_risk(risk: dict) -> str:
    """The address-risk model's suggestion in words: the probability, from when it reviews, the model, and the
    features that raised it most (each with what it measures)."""
    reasons = "; ".join(f"{name} (+{weight:.2f}: {FEATURE_MEANING.get(name, 'a feature of the model')})"
                        for name, weight in risk.get("top_features", [])) or "none above a typical normal address"
    return (f"**Sender's address risk** {risk['probability']:.0%} by model `{risk['model']}` (it suggests a review "
            f"from {risk['threshold']:.0%}; it ranks, it never freezes) · raised most by: {reasons}")


def finding(rule_id: str, category: str) -> str:
    """A linter finding's kind in words, with the rule that found it, e.g. "Learned signal (signal.learned)"."""
    return f"{FINDING.get(category, _plain(category))} ({rule_id})"


def language(code: str | None) -> str:
    """A language code as its name in that language, e.g. Italiano."""
    return LANGUAGE.get(code or "", code or "—")


def topic(code: str | None) -> str:
    return TOPIC.get(code or "", _plain(code))


@cache
def _sentences() -> dict[str, str]:
    from kyt.rules import default_policy
    from kyt.sender_risk import MODEL_RULE

    return {rule.id: rule.description for rule in default_policy().rules + (MODEL_RULE,)}


def rule_sentence(rule_id: str) -> str:
    """What a rule of the shipped policy says (the policy is read once per process)."""
    return _sentences().get(rule_id, "(not in the shipped policy)")


def rule_names(rule_ids: list[str] | tuple[str, ...]) -> str:
    """Rule ids followed by what they say, e.g. `sanctions-direct (any direct exposure to a sanctioned wallet)`."""
    known = _sentences()
    return "; ".join(f"{r} ({known[r].rstrip('.')})" if r in known else r for r in rule_ids) or "—"
