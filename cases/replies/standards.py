"""Service standards: first response, time to resolution, status updates on time; the quarterly tabulation.

The figures are computed from plain rows (pure); `service_rows` reads them for a period.

>>> quarter("2026Q4")
(datetime.datetime(2026, 10, 1, 0, 0, tzinfo=datetime.timezone.utc), datetime.datetime(2027, 1, 1, 0, 0, tzinfo=datetime.timezone.utc))
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from statistics import median

import sqlalchemy as sa
from sqlmodel import select

from cases.access import require
from cases.db import Store
from cases.errors import InvalidRequest
from cases.models import Deadline, Inquiry
from cases.service import acting_user

FIRST_RESPONSE_TARGET_S = 300
"""First response within 5 minutes (industry seed material, NY-ACK)."""


@dataclass(frozen=True)
class InquiryRow:
    kind: str
    channel: str
    topic: str
    received_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None


@dataclass(frozen=True)
class UpdateRow:
    """One NY-STATUS deadline: when it was due, when (and how) it ended."""

    due_at: datetime
    closed_at: datetime | None
    status: str


def quarter(text: str) -> tuple[datetime, datetime]:
    """The [start, end) of a quarter written 2026Q4."""
    match = re.fullmatch(r"(\d{4})[Qq]([1-4])", text.strip())
    if not match:
        raise InvalidRequest(f"{text!r} is not a quarter such as 2026Q4")
    year, number = int(match.group(1)), int(match.group(2))
    start = datetime(year, 3 * number - 2, 1, tzinfo=timezone.utc)
    end = datetime(year + (number == 4), 1 if number == 4 else 3 * number + 1, 1, tzinfo=timezone.utc)
    return start, end


def _hours(seconds: list[float]) -> float | None:
    return round(sum(seconds) / len(seconds) / 3600, 2) if seconds else None


def tabulate(rows: list[InquiryRow], end: datetime) -> list[dict]:
    """Inquiries and complaints by kind, channel and topic: received, resolved, still open at `end`, mean hours to resolve."""
    groups: dict[tuple[str, str, str], list[InquiryRow]] = {}
    for row in rows:
        groups.setdefault((row.kind, row.channel, row.topic), []).append(row)
    out = []
    for (kind, channel, topic), items in sorted(groups.items()):
        done = [r for r in items if r.resolved_at is not None and r.resolved_at < end]
        out.append({"kind": kind, "channel": channel, "topic": topic, "received": len(items), "resolved": len(done),
                    "open_at_end": len(items) - len(done),
                    "avg_hours_to_resolve": _hours([(r.resolved_at - r.received_at).total_seconds() for r in done])})
    return out


def figures(rows: list[InquiryRow], updates: list[UpdateRow], now: datetime) -> dict:
    """First response and resolution times by channel and topic, and status updates sent on time."""
    by_group = []
    for group in tabulate(rows, now):
        items = [r for r in rows if (r.kind, r.channel, r.topic) == (group["kind"], group["channel"], group["topic"])]
        firsts = [(r.acknowledged_at - r.received_at).total_seconds() for r in items if r.acknowledged_at]
        by_group.append({**group, "median_first_response_s": median(firsts) if firsts else None,
                         "first_response_within_target": sum(s <= FIRST_RESPONSE_TARGET_S for s in firsts),
                         "unanswered": len(items) - len(firsts)})
    due = [u for u in updates if u.due_at <= now or u.status == "met"]
    on_time = [u for u in due if u.status == "met" and u.closed_at is not None and u.closed_at <= u.due_at]
    late = [u for u in due if u not in on_time and u.status != "cancelled"]
    return {"groups": by_group, "updates_due": len(on_time) + len(late), "updates_on_time": len(on_time),
            "updates_late_or_missed": len(late), "first_response_target_s": FIRST_RESPONSE_TARGET_S}


def inquiry_rows(store: Store, actor: str, *, start: datetime, end: datetime) -> list[InquiryRow]:
    """Inquiries received in [start, end), oldest first."""
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "view_service_figures")
        found = session.execute(sa.select(Inquiry.kind, Inquiry.channel, Inquiry.topic, Inquiry.received_at,
                                          Inquiry.acknowledged_at, Inquiry.resolved_at)
                                .where(Inquiry.received_at >= start, Inquiry.received_at < end)
                                .order_by(Inquiry.received_at, Inquiry.id)).all()
        return [InquiryRow(*row) for row in found]


def service_rows(store: Store, actor: str, *, start: datetime,
                 end: datetime) -> tuple[list[InquiryRow], list[UpdateRow]]:
    """Inquiries received in [start, end) and the NY-STATUS deadlines due or ended in it."""
    inquiries = inquiry_rows(store, actor, start=start, end=end)
    with store.session() as session:
        in_window = sa.or_(sa.and_(Deadline.due_at >= start, Deadline.due_at < end),
                           sa.and_(Deadline.closed_at >= start, Deadline.closed_at < end))
        updates = session.execute(sa.select(Deadline.due_at, Deadline.closed_at, Deadline.status)
                                  .where(Deadline.rule_id == "NY-STATUS", in_window)).all()
        return inquiries, [UpdateRow(*row) for row in updates]


def daily(rows: list[InquiryRow]) -> list[dict]:
    """Per day of receipt: the median first response (seconds) and the median time to resolve (hours), for charts
    against the targets (5 minutes, 24 hours); None where no inquiry of that day was answered or resolved."""
    days: dict[str, list[InquiryRow]] = {}
    for row in rows:
        days.setdefault(row.received_at.date().isoformat(), []).append(row)
    out = []
    for day, items in sorted(days.items()):
        firsts = [(r.acknowledged_at - r.received_at).total_seconds() for r in items if r.acknowledged_at]
        done = [(r.resolved_at - r.received_at).total_seconds() / 3600 for r in items if r.resolved_at]
        out.append({"day": day, "first_response_s": median(firsts) if firsts else None,
                    "hours_to_resolve": round(median(done), 2) if done else None, "received": len(items)})
    return out


def status_updates(store: Store, actor: str, *, start: datetime, end: datetime, now: datetime) -> dict[str, int]:
    """`figures`' counts of status updates (NY-STATUS deadlines due or ended in [start, end)) due, on time, and
    late or missed by `now`, counted in the database."""
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "view_service_figures")
        in_window = sa.or_(sa.and_(Deadline.due_at >= start, Deadline.due_at < end),
                           sa.and_(Deadline.closed_at >= start, Deadline.closed_at < end))
        met = Deadline.status == "met"
        due = sa.or_(Deadline.due_at <= now, met)
        on_time = sa.and_(met, Deadline.closed_at.is_not(None), Deadline.closed_at <= Deadline.due_at)
        late = sa.and_(due, sa.not_(on_time), Deadline.status != "cancelled")

        def counted(condition):
            return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

        on, behind = session.execute(sa.select(counted(on_time), counted(late))
                                     .where(Deadline.rule_id == "NY-STATUS", in_window)).one()
    return {"updates_due": int(on) + int(behind), "updates_on_time": int(on), "updates_late_or_missed": int(behind)}
