"""The supervisor's figures: cases opened and closed per day, frozen value, outcomes, time to decision.

`case_figures` reads plain rows for a period; `summarise` (pure) turns them into the figures.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from statistics import median

import sqlalchemy as sa
from sqlmodel import select

from cases import lifecycle
from cases.access import require
from cases.db import Store, utc_day
from cases.models import Case, Deadline, Proposal
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
    return _result([{"day": d, "opened": opened[d], "closed": closed[d]} for d in days],
                   frozen=[("", 1, int(r.usd_value is not None), r.usd_value) for r in frozen], by_category=by_category,
                   cases_by=cases_by,
                   decided=[((r.decided_at - r.opened_at).total_seconds() / 3600, r.outcome) for r in decided])


def _result(per_day: list[dict], *, frozen: list[tuple], by_category: dict, cases_by: Counter,
            decided: list[tuple[float, str]]) -> dict:
    """The figures from their parts: frozen cases as (categories, cases, cases with a price, their USD), decided
    cases as (hours to decision, outcome)."""
    hours = [h for h, _ in decided]
    outcomes = Counter(outcome for _, outcome in decided)
    return {
        "per_day": per_day,
        "frozen_cases": sum(n for _, n, _, _ in frozen),
        "frozen_usd": sum((v or Decimal(0) for _, _, _, v in frozen), Decimal(0)),
        "frozen_cases_without_price": sum(n - priced for _, n, priced, _ in frozen),
        "frozen_usd_by_category": dict(sorted(by_category.items())),
        "decided": len(decided), "released": outcomes["released"], "escalated": outcomes["escalated"],
        "release_rate": outcomes["released"] / len(decided) if decided else None,
        "median_hours_to_decision": median(hours) if hours else None,
        "decided_within_target": sum(h <= DECISION_TARGET_HOURS for h in hours),
        "cases_by_category_and_hop": [{"category": c, "hop": h, "cases": n} for (c, h), n in sorted(cases_by.items())],
    }


def case_rows(store: Store, actor: str, *, start: datetime, end: datetime) -> list[CaseRow]:
    """The cases opened in, closed in, decided in or still open during [start, end), one row each (the reference
    `summarise` reads; `case_figures` counts the same in the database)."""
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "view_service_figures")
        decided = (select(Proposal.case_id, sa.func.max(Proposal.decided_at).label("decided_at"))
                   .where(Proposal.status == "approved").group_by(Proposal.case_id).subquery())
        query = (select(Case.opened_at, Case.closed_at, Case.status, Case.outcome, Case.usd_value, Case.categories,
                        Case.min_hop, decided.c.decided_at)
                 .join(decided, decided.c.case_id == Case.id, isouter=True)
                 .where(Case.opened_at < end, sa.or_(Case.closed_at.is_(None), Case.closed_at >= start)))
        return [CaseRow(*row) for row in session.exec(query).all()]


def case_figures(store: Store, actor: str, *, start: datetime, end: datetime) -> dict:
    """`summarise` of `case_rows`, counted in the database: days, categories and hops grouped there, and only the
    frozen cases' values (summed exactly, here) and the decided cases' times fetched."""
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "view_service_figures")
        window = sa.and_(Case.opened_at < end, sa.or_(Case.closed_at.is_(None), Case.closed_at >= start))
        counted = {}
        for name, column in (("opened", Case.opened_at), ("closed", Case.closed_at)):
            day = utc_day(store, column)
            counted[name] = {date.fromisoformat(str(d)): n for d, n in session.execute(
                select(day, sa.func.count()).where(column >= start, column < end).group_by(day)).all()}
        text = sa.cast(Case.categories, sa.String)
        frozen_now = sa.and_(window, Case.status.in_(lifecycle.OPEN_STATES + ("escalated",)))
        if store.engine.dialect.name == "sqlite":  # values kept as text there: summed exactly here, not in SQL
            frozen = [(t, 1, int(v is not None), v) for t, v in session.execute(
                select(text, Case.usd_value).where(frozen_now)).all()]
        else:  # NUMERIC: PostgreSQL's sums are exact
            frozen = session.execute(select(text, sa.func.count(), sa.func.count(Case.usd_value),
                                            sa.func.sum(Case.usd_value)).where(frozen_now).group_by(text)).all()
        by_hop = session.execute(select(text, Case.min_hop, sa.func.count()).where(window)
                                 .group_by(text, Case.min_hop)).all()
        last = sa.func.max(Proposal.decided_at)
        decided = session.execute(select(Case.opened_at, Case.outcome, last).join(Proposal, Proposal.case_id == Case.id)
                                  .where(Proposal.status == "approved").group_by(Case.id, Case.opened_at, Case.outcome)
                                  .having(sa.and_(last >= start, last < end))).all()
    by_text: dict[str, Decimal] = defaultdict(Decimal)  # each distinct list of categories (as JSON text) once
    for categories, _, _, value in frozen:
        by_text[categories] += value or Decimal(0)
    by_category: dict[str, Decimal] = defaultdict(Decimal)
    for categories, value in by_text.items():
        for category in json.loads(categories) or ["none"]:
            by_category[category] += value
    cases_by: Counter = Counter()
    for categories, hop, n in by_hop:
        for category in json.loads(categories) or ["none"]:
            cases_by[(category, hop)] += n
    days = sorted(set(counted["opened"]) | set(counted["closed"]))
    return _result([{"day": d, "opened": counted["opened"].get(d, 0), "closed": counted["closed"].get(d, 0)}
                    for d in days], frozen=frozen, by_category=by_category, cases_by=cases_by,
                   decided=[((at - opened).total_seconds() / 3600, outcome) for opened, outcome, at in decided])


def day_range(start: date, end: date) -> list[date]:
    """Every day from start to end inclusive (for charts with empty days)."""
    return [date.fromordinal(n) for n in range(start.toordinal(), end.toordinal() + 1)]


def backlog(store: Store, actor: str, *, now: datetime, days: int = 14) -> list[dict]:
    """Open deadlines by the day they fall due (those already past as one "overdue" row), by rule, up to `days`
    ahead; counted in the database, so it costs the same however many cases are open."""
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "view_deadlines")
        day = utc_day(store, Deadline.due_at)
        open_ = (Deadline.status == "open")
        overdue = session.exec(select(Deadline.rule_id, sa.func.count()).where(open_, Deadline.due_at < now)
                               .group_by(Deadline.rule_id)).all()
        ahead = session.exec(select(day, Deadline.rule_id, sa.func.count())
                             .where(open_, Deadline.due_at >= now, Deadline.due_at < now + timedelta(days=days))
                             .group_by(day, Deadline.rule_id).order_by(day)).all()
    return ([{"due": "overdue", "rule": rule, "deadlines": n} for rule, n in sorted(overdue)]
            + [{"due": str(when), "rule": rule, "deadlines": n} for when, rule, n in ahead])
