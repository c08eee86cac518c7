"""Every change to cases, in one place: each call is one transaction with its audit event.

Each function takes the acting user's name and `now`; it checks the user's permission,
the case's state (cases.lifecycle) and version (optimistic locking: a stale
`expected_version` raises Conflict), makes the change, starts or closes deadlines, appends
the audit event and commits, or changes nothing. A `request_key` (cases.once) is recorded
in the same transaction, so the same request sent twice is carried out once.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from typing import Iterator

import sqlalchemy as sa
from sqlmodel import Session, select

from cases import audit, lifecycle
from cases.access import require
from cases.db import Store
from cases.errors import Conflict, FourEyesViolation, InvalidRequest, NotFound
from cases.deadlines import CASE_BOUND
from cases.once import claim
from cases.models import Attachment, AuditEvent, Case, Deadline, Note, Proposal, User
from cases.schedule import close_deadlines, next_due, start_deadlines

SYSTEM_PREFIX = "system:"
CASE_FIELDS = ("status", "assignee", "snoozed_until", "snooze_reason", "outcome", "report_ref", "report_date",
               "closed_at", "next_due_at", "version")


@contextmanager
def unit_of_work(store: Store) -> Iterator[Session]:
    """A session whose transaction commits when the block ends, and rolls back on any error."""
    with store.writing_session() as session, session.begin():
        yield session


def acting_user(session: Session, name: str) -> User:
    """The active user called `name`; `system:<job>` is the account batch jobs act as."""
    if name.startswith(SYSTEM_PREFIX):
        return User(name=name, role="system")
    user = session.exec(select(User).where(User.name == name)).one_or_none()
    if user is None or not user.active:
        raise NotFound(f"no active user called {name!r}")
    return user


def get_case(session: Session, case_id: int) -> Case:
    """The case with this id; NotFound when there is none."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    return case


def _snapshot(case: Case) -> dict:
    return {field: getattr(case, field) for field in CASE_FIELDS}


def save_case(session: Session, case: Case, *, expected_version: int | None, now: datetime, **changes: object) -> dict:
    """Update the case if it is still at `expected_version`; (before, after) of what changed."""
    expected = case.version if expected_version is None else expected_version
    before = _snapshot(case)
    changes["next_due_at"] = next_due(session, case.id)
    values = {**changes, "updated_at": now, "version": expected + 1}
    result = session.execute(sa.update(Case).where(Case.id == case.id, Case.version == expected).values(**values))
    if result.rowcount != 1:
        actual = session.execute(sa.select(Case.version).where(Case.id == case.id)).scalar_one()
        last = session.execute(sa.select(AuditEvent.actor, AuditEvent.action, AuditEvent.at)
                               .where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq.desc()).limit(1)).first()
        raise Conflict(case.id, expected, actual, last=tuple(last) if last is not None else None)
    for field, value in values.items():
        setattr(case, field, value)
    after = _snapshot(case)
    changed = [f for f in CASE_FIELDS if before[f] != after[f]]
    return {"before": {f: before[f] for f in changed}, "after": {f: after[f] for f in changed}}


def transition(store: Store, actor: str, case_id: int, *, action: str, now: datetime,
               expected_version: int | None = None, reason: str = "", queue_view: str | None = None,
               request_key: str | None = None) -> Case:
    """Take a lifecycle action that needs no more than a reason: start_review, request_information,
    customer_replied, resume_review, close.

    Starting a review records where the case was picked up from (`queue_view`: "deadline" or
    "priority", as the screen showed it) beside its triage place, so that the triage model's
    later training can tell work it chose from work it did not."""
    if action not in ("start_review", "request_information", "customer_replied", "resume_review", "close"):
        raise InvalidRequest(f"{action!r} is not taken with transition(); use propose, approve or reject")
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        claim(session, request_key, actor=user.name, action="case.transition", now=now)
        step = lifecycle.step(action)
        require(user.name, user.role, step.permission)
        case = get_case(session, case_id)
        state = lifecycle.next_state(case.status, action)
        extra: dict[str, object] = {"status": state}
        if action == "close":  # service targets end with the case; legal obligations do not
            extra["closed_at"] = now
            close_deadlines(session, case.id, at=now, status="cancelled", rule_ids=CASE_BOUND)
        change = save_case(session, case, expected_version=expected_version, now=now, **extra)
        worked = {"queue_view": queue_view or "not from a queue", "queue_order": case.queue_order,
                  "priority": case.priority, "priority_model": case.priority_model} if action == "start_review" else {}
        audit.append(session, user.name, f"case.{action}", at=now, case_id=case.id, before=change["before"],
                     after={**change["after"], **({"reason": reason} if reason else {}), **worked})
        return case


def propose(store: Store, actor: str, case_id: int, *, kind: str, reason: str, now: datetime,
            expected_version: int | None = None, request_key: str | None = None) -> Proposal:
    """Propose to release or escalate; escalation means suspicion is determined (US-SAR-30 starts)."""
    if kind not in ("release", "escalation"):
        raise InvalidRequest(f"a proposal is a release or an escalation, not {kind!r}")
    if not reason.strip():
        raise InvalidRequest("a proposal needs a reason")
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        claim(session, request_key, actor=user.name, action="case.propose", now=now)
        action = f"propose_{kind}"
        require(user.name, user.role, lifecycle.step(action).permission)
        case = get_case(session, case_id)
        lifecycle.next_state(case.status, action)
        if _pending(session, case.id) is not None:
            raise InvalidRequest(f"case {case.id} already has a proposal waiting for approval")
        proposal = Proposal(case_id=case.id, kind=kind, reason=reason.strip(), proposed_by=user.name, proposed_at=now)
        session.add(proposal)
        session.flush()
        started = []
        if kind == "escalation" and not _open_deadline(session, case.id, "US-SAR-30"):
            started = start_deadlines(session, case, "suspicion_determined", at=now)
        change = save_case(session, case, expected_version=expected_version, now=now)
        audit.append(session, user.name, f"case.{action}", at=now, case_id=case.id, before=change["before"],
                     after={**change["after"], "proposal": proposal.id, "reason": proposal.reason,
                            "deadlines_started": started})
        return proposal


def _open_deadline(session: Session, case_id: int, rule_id: str) -> Deadline | None:
    return session.exec(select(Deadline).where(Deadline.case_id == case_id, Deadline.rule_id == rule_id,
                                               Deadline.status == "open")).first()


def _pending(session: Session, case_id: int) -> Proposal | None:
    return session.exec(select(Proposal).where(Proposal.case_id == case_id, Proposal.status == "pending")).first()


def approve(store: Store, actor: str, case_id: int, *, now: datetime, expected_version: int | None = None,
            note: str = "", report_ref: str | None = None, report_date: datetime | None = None,
            request_key: str | None = None) -> Case:
    """Approve the pending proposal (a supervisor who did not propose it); escalation records the report."""
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        claim(session, request_key, actor=user.name, action="case.approve", now=now)
        require(user.name, user.role, "approve")
        case = get_case(session, case_id)
        proposal = _pending(session, case.id)
        if proposal is None:
            raise InvalidRequest(f"case {case.id} has no proposal waiting for approval")
        if proposal.proposed_by == user.name:
            raise FourEyesViolation(f"{user.name} proposed this {proposal.kind} and may not also approve it")
        action = f"approve_{proposal.kind}"
        state = lifecycle.next_state(case.status, action)
        extra: dict[str, object] = {"status": state, "outcome": "released" if proposal.kind == "release" else "escalated"}
        if proposal.kind == "escalation":
            if not (report_ref or "").strip() or report_date is None:
                raise InvalidRequest("approving an escalation records the report: give its reference and date")
            extra.update(report_ref=report_ref.strip(), report_date=report_date)
        proposal.status, proposal.decided_by, proposal.decided_at, proposal.decision_note = "approved", user.name, now, note
        session.add(proposal)
        closed = close_deadlines(session, case.id, at=now, status="met", rule_ids=("INT-REVIEW",))
        if proposal.kind == "release":  # no report: a SAR clock started by an earlier suspicion ends unmet
            closed += close_deadlines(session, case.id, at=now, status="cancelled", rule_ids=("NY-STATUS", "US-SAR-30"))
        else:
            closed += close_deadlines(session, case.id, at=now, status="met", rule_ids=("US-SAR-30",))
        started = (start_deadlines(session, case, "report_filed", at=report_date)
                   if proposal.kind == "escalation" else [])
        change = save_case(session, case, expected_version=expected_version, now=now, **extra)
        audit.append(session, user.name, f"case.{action}", at=now, case_id=case.id, before=change["before"],
                     after={**change["after"], "proposal": proposal.id, "deadlines_closed": closed,
                            "deadlines_started": started})
        return case


def reject(store: Store, actor: str, case_id: int, *, note: str, now: datetime,
           expected_version: int | None = None, request_key: str | None = None) -> Case:
    """Turn the pending proposal down (a supervisor); the case stays in review."""
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        claim(session, request_key, actor=user.name, action="case.reject_proposal", now=now)
        require(user.name, user.role, "approve")
        case = get_case(session, case_id)
        lifecycle.next_state(case.status, "reject_proposal")
        proposal = _pending(session, case.id)
        if proposal is None:
            raise InvalidRequest(f"case {case.id} has no proposal waiting for approval")
        proposal.status, proposal.decided_by, proposal.decided_at, proposal.decision_note = "rejected", user.name, now, note
        session.add(proposal)
        # a rejected escalation withdraws the suspicion that started the SAR clock
        closed = close_deadlines(session, case.id, at=now, status="cancelled", rule_ids=("US-SAR-30",)) \
            if proposal.kind == "escalation" else []
        change = save_case(session, case, expected_version=expected_version, now=now)
        audit.append(session, user.name, "case.reject_proposal", at=now, case_id=case.id, before=change["before"],
                     after={**change["after"], "proposal": proposal.id, "note": note, "deadlines_closed": closed})
        return case


def check_assignee(session: Session, assignee: str | None) -> None:
    """NotFound or AccessDenied unless `assignee` (None: nobody) is an active user who may work cases."""
    if assignee is not None:
        target = acting_user(session, assignee)
        require(target.name, target.role, "work_case")


def assign(store: Store, actor: str, case_id: int, *, assignee: str | None, now: datetime,
           expected_version: int | None = None, request_key: str | None = None) -> Case:
    """Give the case to an analyst or supervisor (or to nobody)."""
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        claim(session, request_key, actor=user.name, action="case.assign", now=now)
        require(user.name, user.role, "work_case")
        check_assignee(session, assignee)
        case = get_case(session, case_id)
        if case.status == "closed":
            raise InvalidRequest(f"case {case.id} is closed")
        change = save_case(session, case, expected_version=expected_version, now=now, assignee=assignee)
        audit.append(session, user.name, "case.assign", at=now, case_id=case.id, before=change["before"],
                     after=change["after"])
        return case


def snooze(store: Store, actor: str, case_id: int, *, until: datetime, reason: str, now: datetime,
           expected_version: int | None = None, request_key: str | None = None) -> Case:
    """Keep the case out of the way until `until`, for a stated reason; deadlines keep running."""
    if until <= now:
        raise InvalidRequest("a snooze must end in the future")
    if not reason.strip():
        raise InvalidRequest("a snooze needs a reason")
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        claim(session, request_key, actor=user.name, action="case.snooze", now=now)
        require(user.name, user.role, "work_case")
        case = get_case(session, case_id)
        if case.status not in lifecycle.OPEN_STATES:
            raise InvalidRequest(f"case {case.id} is {case.status}; only open cases can be snoozed")
        change = save_case(session, case, expected_version=expected_version, now=now, snoozed_until=until,
                           snooze_reason=reason.strip())
        audit.append(session, user.name, "case.snooze", at=now, case_id=case.id, before=change["before"],
                     after=change["after"])
        return case


def add_note(store: Store, actor: str, case_id: int, *, body: str, now: datetime,
             request_key: str | None = None) -> Note:
    """Add an analyst's note to the case."""
    if not body.strip():
        raise InvalidRequest("a note cannot be empty")
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        claim(session, request_key, actor=user.name, action="case.note", now=now)
        require(user.name, user.role, "work_case")
        case = get_case(session, case_id)
        note = Note(case_id=case.id, author=user.name, written_at=now, body=body.strip())
        session.add(note)
        session.flush()
        audit.append(session, user.name, "case.note", at=now, case_id=case.id,
                     after={"note": note.id, "body": note.body})
        return note


def add_attachment(store: Store, actor: str, case_id: int, *, filename: str, media_type: str, size_bytes: int,
                   sha256: str, now: datetime) -> Attachment:
    """Record a file attached to the case (its name, type, size and SHA-256)."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256.lower()):
        raise InvalidRequest("sha256 must be 64 hex digits")
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "work_case")
        case = get_case(session, case_id)
        attachment = Attachment(case_id=case.id, filename=filename, media_type=media_type, size_bytes=size_bytes,
                                sha256=sha256.lower(), uploaded_by=user.name, uploaded_at=now)
        session.add(attachment)
        session.flush()
        audit.append(session, user.name, "case.attachment", at=now, case_id=case.id,
                     after={"attachment": attachment.id, "filename": filename, "sha256": attachment.sha256})
        return attachment


def record_status_update(store: Store, actor: str, case_id: int, *, now: datetime,
                         expected_version: int | None = None) -> Case:
    """A status update reached the waiting customer: NY-STATUS is met and the next one starts."""
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "work_case")
        case = get_case(session, case_id)
        if case.status in ("released", "closed"):
            raise InvalidRequest(f"case {case.id} is {case.status}: the customer is no longer waiting")
        closed = close_deadlines(session, case.id, at=now, status="met", rule_ids=("NY-STATUS",))
        started = start_deadlines(session, case, "customer_waiting", at=now)
        change = save_case(session, case, expected_version=expected_version, now=now)
        audit.append(session, user.name, "case.status_update_sent", at=now, case_id=case.id, before=change["before"],
                     after={**change["after"], "deadlines_closed": closed, "deadlines_started": started})
        return case


def deadline_list(session: Session, case_id: int) -> list[Deadline]:
    """A case's deadlines, soonest first (for callers that already hold a session)."""
    return list(session.exec(select(Deadline).where(Deadline.case_id == case_id).order_by(Deadline.due_at)).all())
