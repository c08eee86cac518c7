"""Deadlines kept on cases: started by triggers, closed when met or no longer due.

The rules and the calendars are cases.deadlines (pure); this module stores what they
compute, inside the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from cases.deadlines import RULES, DeadlineRule, applicable, compute
from cases.models import Case, Deadline


def plan(trigger: str, jurisdictions: list[str], at: datetime,
         *, rules: tuple[DeadlineRule, ...] = RULES) -> list[dict]:
    """The deadline rows (without case_id) a trigger at `at` starts under these jurisdictions."""
    rows = []
    for rule in applicable(trigger, jurisdictions, rules):
        due, warn = compute(rule, at)
        rows.append(dict(rule_id=rule.id, jurisdiction=rule.jurisdiction, trigger=trigger, triggered_at=at,
                         due_at=due, warn_at=warn, status="open"))
    return rows


def start_deadlines(session: Session, case: Case, trigger: str, *, at: datetime,
                    rules: tuple[DeadlineRule, ...] = RULES) -> list[str]:
    """Add the deadlines a trigger starts on a case; the ids of the rules started."""
    rows = plan(trigger, case.jurisdictions, at, rules=rules)
    for row in rows:
        session.add(Deadline(case_id=case.id, **row))
    session.flush()
    return [row["rule_id"] for row in rows]


def close_deadlines(session: Session, case_id: int, *, at: datetime, status: str,
                    rule_ids: tuple[str, ...] | None = None) -> list[str]:
    """Mark a case's open deadlines (all, or those of `rule_ids`) met or cancelled; the ids closed."""
    query = select(Deadline).where(Deadline.case_id == case_id, Deadline.status == "open")
    if rule_ids is not None:
        query = query.where(Deadline.rule_id.in_(rule_ids))
    closed = []
    for deadline in session.exec(query).all():
        deadline.status, deadline.closed_at = status, at
        session.add(deadline)
        closed.append(deadline.rule_id)
    session.flush()
    return closed


def next_due(session: Session, case_id: int) -> datetime | None:
    """The nearest open deadline of a case (kept on the case for the queue's order)."""
    return session.execute(sa.select(sa.func.min(Deadline.due_at))
                           .where(Deadline.case_id == case_id, Deadline.status == "open")).scalar_one_or_none()
