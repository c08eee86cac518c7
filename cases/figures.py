"""The supervisor's figures: cases opened and closed per day, frozen value, outcomes, time to decision.

`case_figures` reads plain rows for a period; `summarise` (pure) turns them into the figures.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from statistics import median

import sqlalchemy as sa
from sqlmodel import select

from cases import lifecycle
from cases.access import require
from cases.db import Store
from cases.models import Case, Proposal
from cases.service import acting_user

DECISION_TARGET_HOURS = 72
"""INT-REVIEW: release or escalation within 3 business days (shown against 72 hours)."""


@dataclass(frozen=True)
class CaseRow:
    opened_at: datetime
    closed_at: datetime | None
    status: str
    outcome: str | None
    usd_value: Decimal | None
    categories: list[str]
    min_hop: int
    decided_at: datetime | None
    """When the approved release or escalation was approved."""


def summarise(rows: list[CaseRow], start: datetime, end: datetime) -> dict:
    """Per-day counts, frozen value now, outcome rates, hours to decision, cases by category and hop."""
    opened, closed = Counter(), Counter()
    for row in rows:
        if start <= row.opened_at < end:
            opened[row.opened_at.date()] += 1
        if row.closed_at and start <= row.closed_at < end:
            closed[row.closed_at.date()] += 1
    days = sorted(set(opened) | set(closed))
    frozen = [r for r in rows if r.status in lifecycle.OPEN_STATES + ("escalated",)]
    by_category: dict[str, Decimal] = defaultdict(Decimal)
    cases_by: Counter = Counter()
    for row in rows:
        for category in row.categories or ["none"]:
            cases_by[(category, row.min_hop)] += 1
    for row in frozen:
        for category in row.categories or ["none"]:
            by_category[category] += row.usd_value or Decimal(0)
    decided = [r for r in rows if r.decided_at and start <= r.decided_at < end]
    hours = [(r.decided_at - r.opened_at).total_seconds() / 3600 for r in decided]
    outcomes = Counter(r.outcome for r in decided)
    return {
        "per_day": [{"day": d, "opened": opened[d], "closed": closed[d]} for d in days],
        "frozen_cases": len(frozen), "frozen_usd": sum((r.usd_value or Decimal(0) for r in frozen), Decimal(0)),
        "frozen_cases_without_price": sum(r.usd_value is None for r in frozen),
        "frozen_usd_by_category": dict(sorted(by_category.items())),
        "decided": len(decided), "released": outcomes["released"], "escalated": outcomes["escalated"],
        "release_rate": outcomes["released"] / len(decided) if decided else None,
        "median_hours_to_decision": median(hours) if hours else None,
        "decided_within_target": sum(h <= DECISION_TARGET_HOURS for h in hours),
        "cases_by_category_and_hop": [{"category": c, "hop": h, "cases": n} for (c, h), n in sorted(cases_by.items())],
    }


def case_figures(store: Store, actor: str, *, start: datetime, end: datetime) -> dict:
    """The figures for cases opened in, closed in, decided in or still open during [start, end)."""
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "view_service_figures")
        decided = (select(Proposal.case_id, sa.func.max(Proposal.decided_at).label("decided_at"))
                   .where(Proposal.status == "approved").group_by(Proposal.case_id).subquery())
        query = (select(Case.opened_at, Case.closed_at, Case.status, Case.outcome, Case.usd_value, Case.categories,
                        Case.min_hop, decided.c.decided_at)
                 .join(decided, decided.c.case_id == Case.id, isouter=True)
                 .where(Case.opened_at < end, sa.or_(Case.closed_at.is_(None), Case.closed_at >= start)))
        rows = [CaseRow(*row) for row in session.exec(query).all()]
    return summarise(rows, start, end)


def day_range(start: date, end: date) -> list[date]:
    """Every day from start to end inclusive (for charts with empty days)."""
    return [date.fromordinal(n) for n in range(start.toordinal(), end.toordinal() + 1)]
