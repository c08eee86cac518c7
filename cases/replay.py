"""Replay: each case, alert and reply rebuilt from its audit events, compared with the row as stored.

A change made in a table directly, never written as an event (a case's status or assignee,
an alert, a reply's status), leaves the row different from what its events say; a
deadline changed directly leaves its case's next due time different from the earliest
open deadline. `mismatches` names each such row. Fields an older event did not record (a
case opened before its events carried the next due time) are not compared until an event
sets them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlmodel import Session

from cases.models import Alert, AuditEvent, Case, Deadline, Message

CASE_FIELDS = ("status", "assignee", "snoozed_until", "snooze_reason", "outcome", "report_ref", "report_date",
               "closed_at", "next_due_at", "version")
"""The fields of a case that every change records, before and after (cases.service.save_case)."""
OPENED = {"status": "open", "assignee": None, "snoozed_until": None, "snooze_reason": None, "outcome": None,
          "report_ref": None, "report_date": None, "closed_at": None, "version": 1}
"""A case as it opens (its next due time comes with the event that opened it)."""
ALERT_FIELDS = ("deposit_id", "rule_ids", "snapshot_id")
ALERT_CHANGES = ("status", "assignee", "reason", "decided_by", "decided_at", "case_id", "version")
"""The fields of an alert that its changes record (cases.alerts)."""
ALERT_OPENED = {"status": "open", "assignee": None, "reason": None, "decided_by": None, "decided_at": None,
                "case_id": None, "version": 1}
"""An alert as it opens."""
MESSAGE_STATUS = {"message.sent": "sent", "message.held": "held", "message.blocked": "blocked",
                  "message.approved": "sent", "message.rejected": "rejected"}


@dataclass(frozen=True)
class Mismatch:
    """A row whose stored value differs from what its events say."""

    table: str
    row: int
    field: str
    stored: object
    replayed: object

    def __str__(self) -> str:
        return (f"{self.table} {self.row}: {self.field} is {_shown(self.stored)} but its events say "
                f"{_shown(self.replayed)} (changed outside the audit trail)")


def _shown(value: object) -> str:
    return repr(value.isoformat() if isinstance(value, datetime) else value)


def _same(stored: object, replayed: object) -> bool:
    """Equal as the audit trail keeps values: times as instants, whatever their zone or spelling."""
    if isinstance(stored, datetime) or isinstance(replayed, datetime):
        return _instant(stored) == _instant(replayed)
    return stored == replayed


def _instant(value: object) -> datetime | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def mismatches(session: Session, batch: int = 5000) -> list[Mismatch]:
    """Every row (cases, alerts, replies) that differs from the replay of its events, in table and id order."""
    cases: dict[int, dict] = {}
    alerts: dict[int, dict] = {}
    messages: dict[int, str] = {}
    after_seq = 0
    while True:
        events = session.execute(sa.select(AuditEvent.seq, AuditEvent.case_id, AuditEvent.action, AuditEvent.after)
                                 .where(AuditEvent.seq > after_seq).order_by(AuditEvent.seq).limit(batch)).all()
        for _, case_id, action, after in events:
            _apply(action, case_id, after or {}, cases=cases, alerts=alerts, messages=messages)
        if len(events) < batch:
            break
        after_seq = events[-1].seq
    found = _compare_cases(session, cases) + _compare_alerts(session, alerts)
    for row_id, status in session.execute(sa.select(Message.id, Message.status).order_by(Message.id)):
        if row_id in messages and messages[row_id] != status:
            found.append(Mismatch("message", row_id, "status", status, messages[row_id]))
    return found


def _apply(action: str, case_id: int | None, after: dict, *, cases: dict, alerts: dict, messages: dict) -> None:
    """One event's effect on the replayed rows."""
    if action == "case.opened" and case_id is not None:
        cases[case_id] = dict(OPENED, **({"next_due_at": after["next_due_at"]} if "next_due_at" in after else {}))
    elif case_id in cases:  # a case's own event names its fields; a reply's or inquiry's nests them under "case"
        changed = after if action.startswith("case.") else after.get("case")
        if isinstance(changed, dict):
            cases[case_id].update({k: v for k, v in changed.items() if k in CASE_FIELDS})
    if action == "alert.opened" and "alert" in after:
        alerts[after["alert"]] = {**ALERT_OPENED, **{k: after[k] for k in ALERT_FIELDS if k in after}}
    elif action.startswith("alert.") and after.get("alert") in alerts:
        alerts[after["alert"]].update({k: v for k, v in after.items() if k in ALERT_CHANGES})
    if action in MESSAGE_STATUS and "message" in after:
        messages[after["message"]] = MESSAGE_STATUS[action]
    if action.endswith(".received") and "acknowledgement" in after:  # an inquiry's acknowledgement goes out at once
        messages[after["acknowledgement"]] = "sent"


def _compare_cases(session: Session, cases: dict[int, dict]) -> list[Mismatch]:
    found = []
    earliest = dict(session.execute(sa.select(Deadline.case_id, sa.func.min(Deadline.due_at))
                                    .where(Deadline.status == "open").group_by(Deadline.case_id)).all())
    columns = [getattr(Case, f) for f in CASE_FIELDS]
    for row in session.execute(sa.select(Case.id, *columns).order_by(Case.id)):
        replayed = cases.get(row.id)
        if replayed is None:
            found.append(Mismatch("case", row.id, "existence", "a case", "no case.opened event"))
            continue
        for field in CASE_FIELDS:
            if field in replayed and not _same(getattr(row, field), replayed[field]):
                found.append(Mismatch("case", row.id, field, getattr(row, field), replayed[field]))
        if not _same(row.next_due_at, earliest.get(row.id)):
            found.append(Mismatch("case", row.id, "next_due_at (the earliest open deadline)", row.next_due_at,
                                  earliest.get(row.id)))
    return found


def _compare_alerts(session: Session, alerts: dict[int, dict]) -> list[Mismatch]:
    found = []
    fields = ALERT_FIELDS + ALERT_CHANGES
    for row in session.execute(sa.select(Alert.id, *[getattr(Alert, f) for f in fields]).order_by(Alert.id)):
        replayed = alerts.get(row.id)
        if replayed is None:
            found.append(Mismatch("alert", row.id, "existence", "an alert", "no alert.opened event"))
            continue
        for field, value in replayed.items():
            if not _same(getattr(row, field), value):
                found.append(Mismatch("alert", row.id, field, getattr(row, field), value))
    return found
