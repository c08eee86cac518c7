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
import sqlalchemy as sa
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


CHUNK = 1_000
"""Ids asked for per query (PostgreSQL takes at most 65,535 parameters in one statement)."""


def _chunks(values: list) -> list[list]:
    return [values[i:i + CHUNK] for i in range(0, len(values), CHUNK)]


def _features(session, cases: list[Case]) -> np.ndarray:
    """One row of NAMES per case, from the case, its exposures and the customer's earlier cases.

    An earlier case counts as escalated only if it was closed before this case opened: what
    an analyst could have known then, not what was decided later.
    """
    shares: dict[int, dict[str, float]] = defaultdict(dict)
    unknown: set[int] = set()
    for part in _chunks([c.id for c in cases]):
        for case_id, category, hop, share, usd in session.exec(
                select(Exposure.case_id, Exposure.category, Exposure.hop, Exposure.share, Exposure.usd)
                .where(Exposure.case_id.in_(part))).all():
            key = f"{category}_hop{hop}"
            if share is None or usd is None:
                unknown.add(case_id)
            shares[case_id][key] = max(shares[case_id].get(key, 0.0), float(share) if share is not None else 1.0)
    history: dict[str, list[tuple[datetime, datetime | None, str | None]]] = defaultdict(list)
    for part in _chunks(sorted({c.customer_id for c in cases})):
        for customer, opened, closed, outcome in session.exec(
                select(Case.customer_id, Case.opened_at, Case.closed_at, Case.outcome)
                .where(Case.customer_id.in_(part))).all():
            history[customer].append((opened, closed, outcome))
    rows = []
    for case in cases:
        earlier = history[case.customer_id]
        risk_record = case.sender_risk or {}
        row = {"usd_value": float(case.usd_value) if case.usd_value is not None else np.nan,
               "min_hop": case.min_hop, "categories": len(case.categories),
               "sender_risk": float(risk_record.get("probability", np.nan)),
               "customer_cases": sum(opened < case.opened_at for opened, _, _ in earlier),
               "customer_escalated": sum(outcome == "escalated" and closed is not None and closed < case.opened_at
                                         for _, closed, outcome in earlier),
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


def train(store: Store, actor: str, now: datetime, *, seed: int = 0) -> risk.RiskModel:
    """A model of escalation from the decided cases; ModelError while there are too few of either outcome."""
    x, y = training_data(store, actor)
    try:
        model = risk.train(x, y, NAMES, seed=seed, source={"cases": int(len(y))}, now=now, calibration="sigmoid")
    except risk.ModelError as error:
        raise risk.ModelError(f"{error} (cold start: the queue stays in rule order until there are)") from None
    model.version = "triage-" + model.version.removeprefix("risk-")
    return model


def _day(case: Case) -> str:
    return case.next_due_at.date().isoformat() if case.next_due_at else "none"


def rank(store: Store, actor: str, model: risk.RiskModel, *, now: datetime, share: float = RULES_SHARE) -> Ranked:
    """Give every open case its place within its deadline day: by the model, or by rule order for the held share.

    Within a day, model-ordered cases are spread by their rank in probability and rule-ordered
    ones by their rank in deadline order ((place + 1/2) / count, highest first), so that both
    kinds are worked throughout the day. The cases are read and scored first; only the
    writing holds the database's write lock.
    """
    if model.features != NAMES:
        raise risk.ModelError(f"{model.version} is not a triage model (its features are not the cases')")
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "rank_queue")
        cases = session.exec(select(Case).where(Case.status.in_(OPEN_STATES))
                             .order_by(Case.next_due_at, Case.id)).all()
        probability = risk.probabilities(model, _features(session, cases)) if cases else np.empty(0)
    days: dict[tuple[str, bool], list[tuple[float, int]]] = defaultdict(list)
    for i, case in enumerate(cases):
        held = in_rule_order(case.id, share)
        days[(_day(case), held)].append((i if held else -probability[i], i))
    updates = []
    for (_, held), members in days.items():
        members.sort()
        for place, (_, i) in enumerate(members):
            updates.append({"case_id": cases[i].id, "priority": 1.0 - (place + 0.5) / len(members),
                            "priority_model": model.version, "queue_order": "rules" if held else "model"})
    held_count = sum(u["queue_order"] == "rules" for u in updates)
    done = Ranked(model.version, len(updates), len(updates) - held_count, held_count)
    table = Case.__table__
    with unit_of_work(store) as session:
        if updates:  # only the triage columns: no decision, deadline or version changes
            session.execute(table.update().where(table.c.id == sa.bindparam("case_id"))
                            .values(priority=sa.bindparam("priority"), priority_model=sa.bindparam("priority_model"),
                                    queue_order=sa.bindparam("queue_order")), updates)
        audit.append(session, user.name, "queue.ranked", at=now,
                     after={"model": model.version, "ranked": done.ranked, "model_order": done.in_model_order,
                            "rule_order": done.in_rule_order, "rules_share": share})
    return done
