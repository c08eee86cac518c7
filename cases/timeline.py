"""A case's timeline: every recorded event in order, in words, with who and when, and the deadlines ahead.

The events are the case's audit trail (decisions, notes, requests to the customer, replies,
approvals, deadline changes, re-screening and chain notes), so the timeline shows exactly
what the trail holds; the messages they name are joined for their text. `describe` is pure.

>>> describe("case.assign", {"assignee": None}, {"assignee": "ann", "version": 2})
('Assigned', 'to ann')
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlmodel import select

from cases.access import require
from cases.db import Store
from cases.models import AuditEvent, Deadline, Message
from cases.service import acting_user, get_case

WORDS = {
    "case.opened": "Case opened", "alert.case_opened": "Opened from a review alert",
    "case.start_review": "Review started", "case.request_information": "Customer asked for information",
    "case.customer_replied": "Customer replied", "case.resume_review": "Review resumed without the customer",
    "case.close": "Case closed", "case.propose_release": "Release proposed",
    "case.propose_escalation": "Escalation proposed", "case.approve_release": "Release approved",
    "case.approve_escalation": "Escalation approved, report filed", "case.reject_proposal": "Proposal turned down",
    "case.assign": "Assigned", "case.snooze": "Snoozed", "case.note": "Note", "case.attachment": "File attached",
    "case.status_update_sent": "Status update sent", "case.deadlines_recomputed": "Deadlines recomputed",
    "case.rescreened": "Re-screened", "case.withdrawn": "Removed from the chain by a reorganisation",
    "case.restored": "Back on the chain", "request.linked": "Linked to a freeze request", "message.sent": "Reply sent", "message.held": "Reply held for approval",
    "message.blocked": "Reply blocked: it would tip the customer off", "message.approved": "Held reply approved and sent",
    "message.rejected": "Held reply turned down", "reply.draft_blocked": "A support draft was blocked by the linter",
    "inquiry.received": "Customer inquiry received", "complaint.received": "Complaint received",
    "inquiry.resolved": "Inquiry resolved", "complaint.resolved": "Complaint resolved",
}
"""What each recorded action is called on the timeline."""


@dataclass(frozen=True)
class Entry:
    """One line of the timeline: when, who, what (words) and the detail; `ahead` for a deadline still to come."""

    at: datetime
    actor: str
    action: str
    title: str
    detail: str
    message: str | None = None
    """The text of the message the event sent, held or received, when there is one."""
    ahead: bool = False


def _deadlines(after: dict) -> str:
    parts = []
    if after.get("deadlines_started"):
        parts.append("deadlines started: " + ", ".join(after["deadlines_started"]))
    closed = after.get("deadlines_closed") or after.get("deadlines_met")
    if closed:
        parts.append("deadlines ended: " + ", ".join(closed))
    return "; ".join(parts)


def describe(action: str, before: dict, after: dict) -> tuple[str, str]:
    """The title and the detail of a recorded event, in words."""
    title = WORDS.get(action, action.replace(".", ": ").replace("_", " "))
    parts = []
    if "status" in after and "status" in before and action.startswith("case."):
        parts.append(f"{before['status'].replace('_', ' ')} → {after['status'].replace('_', ' ')}")
    if action == "case.assign":
        parts.append(f"to {after['assignee']}" if after.get("assignee") else "unassigned")
    for key, label in (("reason", "reason"), ("body", ""), ("note", "note"), ("report_ref", "report"),
                       ("snooze_reason", "why")):
        if isinstance(after.get(key), str) and after[key]:
            parts.append(f"{label}: {after[key]}" if label else after[key])
    if action == "case.snooze" and after.get("snoozed_until"):
        parts.append(f"until {after['snoozed_until']}")
    if action.startswith("message.") and after.get("template"):
        parts.append(f"{after['template'].replace('_', ' ')} ({after.get('locale', '')}, {after.get('channel', '')})")
    if action == "case.rescreened":
        parts.append(f"would now be {after.get('decision')}" + (f" by {', '.join(after['rule_ids'])}"
                                                                 if after.get("rule_ids") else ""))
    if action in ("case.withdrawn", "case.restored") and after.get("block") is not None:
        parts.append(f"block {after['block']:,}")
    if action == "case.opened" and after.get("rule_ids"):
        parts.append("rules: " + ", ".join(after["rule_ids"]))
    if action == "request.linked":
        usd = "an unknown amount" if after.get("stolen_usd") is None else f"${Decimal(after['stolen_usd']):,.2f}" + (
            " at least (values without a price stand behind it)" if after.get("value_unknown") else "")
        parts.append(f"request {after.get('request')} from {after.get('requester')}: {usd} of the stolen funds "
                     f"reached this deposit, {after.get('hop')} step(s) from them; answer due {after.get('deadline')}")
    if after.get("from_alert"):
        parts.append(f"from alert {after['from_alert']}")
    deadlines = _deadlines(after)
    if deadlines:
        parts.append(deadlines)
    return title, "; ".join(parts)


def timeline(store: Store, actor: str, case_id: int, *, now: datetime) -> list[Entry]:
    """The case's events, oldest first, followed by its open deadlines still ahead (by due time)."""
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "view_case")
        get_case(session, case_id)
        events = session.exec(select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)).all()
        texts = {m.id: m for m in session.exec(select(Message).where(Message.case_id == case_id)).all()}
        ahead = session.exec(select(Deadline).where(Deadline.case_id == case_id, Deadline.status == "open")
                             .order_by(Deadline.due_at)).all()
    entries = []
    by_inquiry = {m.inquiry_id: m for m in texts.values() if m.direction == "in" and m.inquiry_id is not None}
    for event in events:
        title, detail = describe(event.action, event.before or {}, event.after or {})
        message = texts.get(event.after.get("message")) if event.after else None
        if message is None and event.action.endswith(".received"):
            message = by_inquiry.get(event.after.get("inquiry"))
        entries.append(Entry(event.at, event.actor, event.action, title, detail,
                             message.body if message is not None else None))
    for deadline in ahead:
        state = "overdue" if deadline.due_at < now else "due"
        entries.append(Entry(deadline.due_at, "", "deadline.due", f"Deadline {deadline.rule_id} {state}",
                             f"{deadline.jurisdiction}, started by {deadline.trigger.replace('_', ' ')} on "
                             f"{deadline.triggered_at:%Y-%m-%d %H:%M} UTC", ahead=True))
    return entries
