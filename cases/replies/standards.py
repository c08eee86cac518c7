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


def service_rows(store: Store, actor: str, *, start: datetime,
                 end: datetime) -> tuple[list[InquiryRow], list[UpdateRow]]:
    """Inquiries received in [start, end) and the NY-STATUS deadlines due or ended in it."""
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "view_service_figures")
        inquiries = session.exec(select(Inquiry).where(Inquiry.received_at >= start, Inquiry.received_at < end)
                                 .order_by(Inquiry.received_at, Inquiry.id)).all()
        in_window = sa.or_(sa.and_(Deadline.due_at >= start, Deadline.due_at < end),
                           sa.and_(Deadline.closed_at >= start, Deadline.closed_at < end))
        updates = session.exec(select(Deadline).where(Deadline.rule_id == "NY-STATUS", in_window)).all()
        return ([InquiryRow(i.kind, i.channel, i.topic, i.received_at, i.acknowledged_at, i.resolved_at)
                 for i in inquiries], [UpdateRow(d.due_at, d.closed_at, d.status) for d in updates])
