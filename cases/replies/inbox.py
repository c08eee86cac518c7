"""The support inbox: customers' inquiries by tracking number, with their response targets and the times met.

A row carries only what support may see: the inquiry, the customer's status in words, the
due times and when they were met; nothing of the investigation. The targets are the
service standards': a first response within 5 minutes (the acknowledgement) and a
resolution within 24 hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

import sqlalchemy as sa
from sqlmodel import Session, select

from cases import lifecycle
from cases.access import require
from cases.db import Store
from cases.errors import InvalidRequest, NotFound
from cases.models import Case, Inquiry, Message
from cases.replies.standards import FIRST_RESPONSE_TARGET_S
from cases.service import acting_user

RESOLUTION_TARGET = timedelta(hours=24)
"""An inquiry is resolved within 24 hours of its receipt (service standard)."""
FIRST_RESPONSE_TARGET = timedelta(seconds=FIRST_RESPONSE_TARGET_S)
SHOWN = ("open", "resolved", "all")


@dataclass(frozen=True)
class InboxRow:
    """One inquiry as support sees it."""

    id: int
    tracking_number: str
    case_id: int | None
    customer_id: str
    kind: str
    topic: str
    channel: str
    locale: str
    received_at: datetime
    first_response_due: datetime
    first_response_at: datetime | None
    resolution_due: datetime
    resolved_at: datetime | None
    last_reply_at: datetime | None
    """The last message sent on it after the acknowledgement (None: nobody has answered yet)."""
    case_status: str | None
    """The customer's status of the case in words the customer may read (None outside a case)."""
    customer_words: str

    def state(self, now: datetime) -> str:
        """resolved, overdue (past its resolution target), due soon (within 4 hours), or open."""
        if self.resolved_at is not None:
            return "resolved"
        if now > self.resolution_due:
            return "overdue"
        return "due soon" if self.resolution_due - now <= timedelta(hours=4) else "open"


def inbox(store: Store, actor: str, *, shown: str = "open", tracking_number: str | None = None,
          inquiry_id: int | None = None, limit: int = 200) -> list[InboxRow]:
    """Inquiries, oldest first (open ones, resolved ones, or all), optionally for one tracking number or one id."""
    if shown not in SHOWN:
        raise InvalidRequest(f"the inbox shows {', '.join(SHOWN)} inquiries, not {shown!r}")
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "reply")
        return _read(session, shown=shown, tracking_number=tracking_number, inquiry_id=inquiry_id, limit=limit)


def by_tracking_number(store: Store, actor: str, tracking_number: str, *, now: datetime) -> list[dict]:
    """The inquiries under a tracking number as the platform's systems may see them (no words, no investigation):
    kind, channel, topic, the times, the state and the customer's case status."""
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "view_customer_status")
        rows = _read(session, shown="all", tracking_number=tracking_number, inquiry_id=None, limit=200)
    return [{"inquiry_id": r.id, "tracking_number": r.tracking_number, "customer_id": r.customer_id,
             "kind": r.kind, "channel": r.channel, "topic": r.topic, "state": r.state(now),
             "received_at": r.received_at.isoformat(), "resolution_due": r.resolution_due.isoformat(),
             "first_response_at": r.first_response_at and r.first_response_at.isoformat(),
             "last_reply_at": r.last_reply_at and r.last_reply_at.isoformat(),
             "resolved_at": r.resolved_at and r.resolved_at.isoformat(), "case_status": r.case_status} for r in rows]


def _read(session: Session, *, shown: str, tracking_number: str | None, inquiry_id: int | None,
          limit: int) -> list[InboxRow]:
    """The inbox rows of a query, inside the caller's session."""
    query = select(Inquiry)
    if shown == "open":
        query = query.where(Inquiry.resolved_at.is_(None))
    elif shown == "resolved":
        query = query.where(Inquiry.resolved_at.is_not(None))
    if tracking_number and tracking_number.strip():
        query = query.where(Inquiry.tracking_number == tracking_number.strip().upper())
    if inquiry_id is not None:
        query = query.where(Inquiry.id == inquiry_id)
    found = session.exec(query.order_by(Inquiry.received_at, Inquiry.id).limit(limit)).all()
    ids = [i.id for i in found]
    words = dict(session.exec(select(Message.inquiry_id, Message.body).where(
        Message.inquiry_id.in_(ids), Message.direction == "in")).all()) if ids else {}
    sent: dict[int, list[tuple[int, datetime]]] = {}
    for inquiry_id, message_id, at in (session.exec(select(Message.inquiry_id, Message.id, Message.at).where(
            Message.inquiry_id.in_(ids), Message.direction == "out", Message.status == "sent",
            sa.or_(Message.template_id.is_(None), Message.template_id != "satisfaction_survey"))).all()
            if ids else []):
        sent.setdefault(inquiry_id, []).append((message_id, at))
    # the first message sent on an inquiry is its acknowledgement, sent when it arrived; its survey is no reply
    replies = {i: max(at for _, at in sorted(rows)[1:]) for i, rows in sent.items() if len(rows) > 1}
    case_ids = {i.case_id for i in found if i.case_id is not None}
    states = {c.id: lifecycle.customer_status(c.status, c.outcome) for c in session.exec(
        select(Case).where(Case.id.in_(case_ids))).all()} if case_ids else {}
    return [InboxRow(i.id, i.tracking_number, i.case_id, i.customer_id, i.kind, i.topic, i.channel, i.locale,
                     i.received_at, i.received_at + FIRST_RESPONSE_TARGET, i.acknowledged_at,
                     i.received_at + RESOLUTION_TARGET, i.resolved_at, replies.get(i.id),
                     states.get(i.case_id), words.get(i.id, "")) for i in found]


def inquiry(store: Store, actor: str, inquiry_id: int) -> InboxRow:
    """One inquiry of the inbox."""
    found = inbox(store, actor, shown="all", inquiry_id=inquiry_id)
    if not found:
        raise NotFound(f"no inquiry {inquiry_id}")
    return found[0]


def response_times(rows: list[InboxRow], now: datetime) -> dict:
    """How the inbox stands against its targets: first responses within 5 minutes, resolutions within 24 hours.

    >>> response_times([], datetime(2026, 1, 1))["open"]
    0
    """
    firsts = [(r.first_response_at - r.received_at).total_seconds() for r in rows if r.first_response_at]
    done = [(r.resolved_at - r.received_at).total_seconds() / 3600 for r in rows if r.resolved_at]
    return {"open": sum(r.resolved_at is None for r in rows),
            "overdue": sum(r.state(now) == "overdue" for r in rows),
            "first_response_within_target": sum(s <= FIRST_RESPONSE_TARGET_S for s in firsts),
            "first_responses": len(firsts),
            "resolved": len(done),
            "resolved_within_target": sum(h <= RESOLUTION_TARGET.total_seconds() / 3600 for h in done),
            "median_hours_to_resolve": round(median(done), 2) if done else None}
