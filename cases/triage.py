"""Case priority learned from analysts' outcomes: which open cases are likeliest to be escalated.

Decided cases (released or escalated) are the training data; `rank` orders each deadline
day's open cases by the model's probability of escalation. The model only orders work
within a day's deadlines, never changes a decision or a deadline, and guards against
feeding on itself: a fixed share of cases (chosen by a hash of their id, so the same ones
every time) stays in rule order, each ranked case records which order it is in and the
model's version, and starting a review records both on the audit trail. Without a model
(cold start) the queue is in rule order: nearest deadline first.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlmodel import select

from cases import audit
from cases.access import require
from cases.db import Store
from cases.lifecycle import OPEN_STATES
from cases.models import Case, Exposure
from cases.service import acting_user, unit_of_work
from kyt import risk
from kyt.rules import CATEGORIES

RULES_SHARE = 0.2
"""The share of open cases kept in rule order, so that outcomes keep coming from unranked work."""

FEATURES: tuple[tuple[str, str], ...] = (
    ("usd_value", "the deposit's USD value (missing when unpriced)"),
    ("min_hop", "1 when some exposure is direct, else 2"),
    ("categories", "how many categories it is exposed to"),
    ("sender_risk", "the sender's address-risk probability (missing without a model)"),
    ("customer_cases", "cases the customer had before this one"),
    ("customer_escalated", "of them, escalated"),
    ("unpriced", "1 when some exposure's share or USD is unknown"),
) + tuple((f"{category}_hop{hop}", f"largest {category.replace('_', ' ')} share at hop {hop}")
          for category in CATEGORIES for hop in (1, 2))
NAMES = tuple(name for name, _ in FEATURES)


@dataclass
class Ranked:
    """What a ranking did."""

    model: str
    ranked: int
    in_model_order: int
    in_rule_order: int


def in_rule_order(case_id: int, share: float = RULES_SHARE) -> bool:
    """Whether a case belongs to the share kept in rule order (the same answer every time)."""
    digest = hashlib.sha256(f"rule-order:{case_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


def _features(session, cases: list[Case]) -> np.ndarray:
    """One row of NAMES per case, from the case, its exposures and the customer's earlier cases."""
    ids = [c.id for c in cases]
    shares: dict[int, dict[str, float]] = defaultdict(dict)
    unknown: set[int] = set()
    for case_id, category, hop, share, usd in session.exec(
            select(Exposure.case_id, Exposure.category, Exposure.hop, Exposure.share, Exposure.usd)
            .where(Exposure.case_id.in_(ids))).all() if ids else []:
        key = f"{category}_hop{hop}"
        if share is None or usd is None:
            unknown.add(case_id)
        shares[case_id][key] = max(shares[case_id].get(key, 0.0), float(share) if share is not None else 1.0)
    customers = sorted({c.customer_id for c in cases})
    history: dict[str, list[tuple[datetime, str | None]]] = defaultdict(list)
    for customer, opened, outcome in session.exec(
            select(Case.customer_id, Case.opened_at, Case.outcome).where(Case.customer_id.in_(customers))).all() \
            if customers else []:
        history[customer].append((opened, outcome))
    rows = []
    for case in cases:
        earlier = [outcome for opened, outcome in history[case.customer_id] if opened < case.opened_at]
        risk_record = case.sender_risk or {}
        row = {"usd_value": float(case.usd_value) if case.usd_value is not None else np.nan,
               "min_hop": case.min_hop, "categories": len(case.categories),
               "sender_risk": float(risk_record.get("probability", np.nan)),
               "customer_cases": len(earlier), "customer_escalated": sum(o == "escalated" for o in earlier),
               "unpriced": float(case.id in unknown), **shares[case.id]}
        rows.append([float(row.get(name, 0.0)) for name in NAMES])
    return np.array(rows, dtype=np.float64).reshape(len(cases), len(NAMES))


def training_data(store: Store, actor: str) -> tuple[np.ndarray, np.ndarray]:
    """Features and outcomes (1 escalated, 0 released) of every decided case."""
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "rank_queue")
        decided = session.exec(select(Case).where(Case.outcome.in_(("released", "escalated"))).order_by(Case.id)).all()
        return _features(session, decided), np.array([c.outcome == "escalated" for c in decided], dtype=np.int64)


def train(store: Store, actor: str, seed: int = 0, now: datetime | None = None) -> risk.RiskModel:
    """A model of escalation from the decided cases; ModelError while there are too few of either outcome."""
    x, y = training_data(store, actor)
    try:
        model = risk.train(x, y, NAMES, seed=seed, source={"cases": int(len(y))}, now=now)
    except risk.ModelError as error:
        raise risk.ModelError(f"{error} (cold start: the queue stays in rule order until there are)") from None
    model.version = "triage-" + model.version.removeprefix("risk-")
    return model


def _day(case: Case) -> str:
    return case.next_due_at.date().isoformat() if case.next_due_at else "none"


def rank(store: Store, actor: str, model: risk.RiskModel, now: datetime, share: float = RULES_SHARE) -> Ranked:
    """Give every open case its place within its deadline day: by the model, or by rule order for the held share.

    Within a day, model-ordered cases are spread by their rank in probability and rule-ordered
    ones by their rank in deadline order, so that both kinds are worked throughout the day.
    """
    if model.features != NAMES:
        raise risk.ModelError(f"{model.version} is not a triage model (its features are not the cases')")
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "rank_queue")
        cases = session.exec(select(Case).where(Case.status.in_(OPEN_STATES))
                             .order_by(Case.next_due_at, Case.id)).all()
        probability = risk.probabilities(model, _features(session, cases)) if cases else np.empty(0)
        days: dict[tuple[str, bool], list[tuple[float, int]]] = defaultdict(list)
        for i, case in enumerate(cases):
            held = in_rule_order(case.id, share)
            days[(_day(case), held)].append((i if held else -probability[i], i))
        for (_, held), members in days.items():
            members.sort()
            for place, (_, i) in enumerate(members):
                case = cases[i]
                case.priority = 1.0 - place / len(members)
                case.priority_model = model.version
                case.queue_order = "rules" if held else "model"
                session.add(case)
        held_count = sum(c.queue_order == "rules" for c in cases)
        done = Ranked(model.version, len(cases), len(cases) - held_count, held_count)
        audit.append(session, user.name, "queue.ranked", now, None, {},
                     {"model": model.version, "ranked": done.ranked, "model_order": done.in_model_order,
                      "rule_order": done.in_rule_order, "rules_share": share})
        return done
