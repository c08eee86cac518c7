"""Messages to and from customers: each inquiry acknowledged at once, every reply linted before it leaves.

Each function is one transaction with its audit event. A blocked reply is kept (status
`blocked`, for the record) and ReplyBlocked is raised; a reply with warnings waits (`held`)
for a supervisor other than its author.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from cases import audit, lifecycle
from cases.access import require
from cases.db import Store
from cases.errors import FourEyesViolation, InvalidRequest, NotFound, ReplyBlocked
from cases.once import claim
from cases.models import Case, Inquiry, Message
from cases.replies import case_text, surveys
from cases.replies.case_text import ReplySettings
from cases.replies.linter import LintContext, LintResult, lint
from cases.replies.templates import CHANNELS, Rendered, catalog
from cases.schedule import close_deadlines, start_deadlines
from cases.service import acting_user, get_case, save_case, unit_of_work
from cases.tracking import tracking_number

LONGEST = 20_000
"""The longest message kept (characters)."""
TOPICS = ("frozen_deposit", "withdrawal", "account_access", "fees", "other")
"""What customers write about, for the quarterly tabulation by channel and topic."""
KINDS = ("inquiry", "complaint")


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise InvalidRequest(f"no {what} {value!r} ({what}s: {', '.join(allowed)})")
    return value


def _findings(result: LintResult, notes: bool = False) -> list[dict]:
    """The verdict's findings as stored and shown; with `notes`, the case-evidence notes for supervisors too."""
    return [{"rule_id": f.rule_id, "category": f.category, "severity": f.severity, "start": f.start,
             "end": f.end, "excerpt": f.excerpt, "reason": f.reason}
            for f in result.findings + (result.notes if notes else ())]


def _offered_ids(session: Session, case: Case, settings: ReplySettings) -> list[str]:
    return [info.id for info in case_text.offered(catalog(), session, case, settings=settings)]


def prepare(session: Session, case: Case, template_id: str, *, locale: str, channel: str, text: str | None,
            customer_name: str | None, settings: ReplySettings,
            now: datetime) -> tuple[Rendered, str, bool, LintResult]:
    """The template rendered for the case, the text to send (the agent's edit if any), whether edited, the verdict."""
    offered = _offered_ids(session, case, settings)
    if template_id not in offered:
        catalog().info(template_id)
        raise InvalidRequest(f"template {template_id!r} is not offered on case {case.id} now "
                             f"(offered: {', '.join(offered) or 'none'})")
    values = case_text.values(session, case, case_text.check_locale(locale), name=customer_name, settings=settings,
                              now=now, status_update=catalog().info(template_id).status_update)
    rendered = catalog().render(template_id, locale, _choice(channel, CHANNELS, "channel"), values=values)
    body = rendered.body if text is None else text.strip()
    if not body or len(body) > LONGEST:
        raise InvalidRequest(f"a reply has 1 to {LONGEST:,} characters, not {len(body):,}")
    edited = body != rendered.body.strip()
    context = case_text.lint_context(session, case, locale, template_id=template_id,
                                     approved_texts=(rendered.body,) if edited else (), values=values, edited=edited)
    return rendered, body, edited, lint(body, context)


def send(store: Store, actor: str, case_id: int, *, template_id: str, locale: str, channel: str, now: datetime,
         text: str | None = None, customer_name: str | None = None, settings: ReplySettings = ReplySettings(),
         inquiry_id: int | None = None, request_key: str | None = None) -> Message:
    """Send an approved template (or the agent's edit of it) on a case: sent, held for approval, or blocked."""
    blocked = None
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        claim(session, request_key, actor=user.name, action="message.send", now=now)
        require(user.name, user.role, "reply")
        case = get_case(session, case_id)
        rendered, body, edited, result = prepare(session, case, template_id, locale=locale, channel=channel, text=text,
                                                 customer_name=customer_name, settings=settings, now=now)
        if inquiry_id is not None:
            inquiry = session.get(Inquiry, inquiry_id)
            if inquiry is None or inquiry.case_id != case.id:
                raise InvalidRequest(f"inquiry {inquiry_id} is not an inquiry on case {case.id}")
        status = {"blocked": "blocked", "warn": "held", "clean": "sent"}[result.status]
        message = Message(case_id=case.id, inquiry_id=inquiry_id, direction="out", channel=channel, at=now,
                          template_id=template_id, locale=locale, subject=rendered.subject, body=body,
                          edited=edited, lint_status=result.status, findings=_findings(result, notes=True),
                          status=status,
                          author=user.name)
        session.add(message)
        session.flush()
        effects = (_after_sent(session, case, message, now=now, drafted=now, settings=settings) if status == "sent"
                   else {})
        audit.append(session, user.name, f"message.{status}", at=now, case_id=case.id,
                     after={"message": message.id, "template": template_id, "locale": locale, "channel": channel,
                            "edited": edited, "lint": result.status,
                            "rules": sorted({f.rule_id for f in result.findings}), **effects})
        if status == "blocked":
            blocked = result
        role = user.role
    if blocked is not None:
        raise ReplyBlocked(_findings(blocked))
    if role != "supervisor":  # the notes on the case's evidence are a supervisor's alone
        return message.model_copy(update={"findings": [f for f in message.findings if f["severity"] != "note"]})
    return message


def request_source_of_funds(store: Store, actor: str, case_id: int, *, locale: str, channel: str, now: datetime,
                            customer_name: str | None = None, settings: ReplySettings = ReplySettings(),
                            request_key: str | None = None) -> Message:
    """Ask the customer where the funds came from: the case awaits the customer and the request is sent, together."""
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        claim(session, request_key, actor=user.name, action="case.request_information", now=now)
        require(user.name, user.role, lifecycle.step("request_information").permission)
        case = get_case(session, case_id)
        state = lifecycle.next_state(case.status, "request_information")
        change = save_case(session, case, expected_version=None, now=now, status=state)
        audit.append(session, user.name, "case.request_information", at=now, case_id=case.id, before=change["before"],
                     after={**change["after"], "reason": "source of funds requested"})
        rendered, body, edited, result = prepare(session, case, "source_of_funds_request", locale=locale,
                                                 channel=channel, text=None, customer_name=customer_name,
                                                 settings=settings, now=now)
        if result.status != "clean":  # a shipped template that fails the linter is a defect, never sent
            raise InvalidRequest(f"the source-of-funds template ({locale}, {channel}) fails the linter")
        message = Message(case_id=case.id, direction="out", channel=channel, at=now,
                          template_id="source_of_funds_request", locale=locale, subject=rendered.subject, body=body,
                          edited=False, lint_status="clean", findings=[], status="sent", author=user.name)
        session.add(message)
        session.flush()
        effects = _after_sent(session, case, message, now=now, drafted=now, settings=settings)
        audit.append(session, user.name, "message.sent", at=now, case_id=case.id,
                     after={"message": message.id, "template": "source_of_funds_request", "locale": locale,
                            "channel": channel, "edited": False, "lint": "clean", "rules": [], **effects})
        return message


def _after_sent(session: Session, case: Case, message: Message, *, now: datetime, drafted: datetime,
                settings: ReplySettings) -> dict:
    """What a sent reply does: a status update meets NY-STATUS, a final reply resolves the inquiries
    received before it was written (and a complaint clock with them) and sends each its survey."""
    info = catalog().info(message.template_id)
    effects: dict = {}
    changed = False
    if info.status_update and case.status not in ("released", "closed"):
        effects["deadlines_closed"] = close_deadlines(session, case.id, at=now, status="met", rule_ids=("NY-STATUS",))
        effects["deadlines_started"] = start_deadlines(session, case, "customer_waiting", at=now)
        changed = True
    if info.resolves:
        resolved = session.exec(select(Inquiry).where(Inquiry.case_id == case.id, Inquiry.resolved_at.is_(None),
                                                      Inquiry.received_at <= drafted)).all()
        for inquiry in resolved:
            inquiry.resolved_at = now
            session.add(inquiry)
        session.flush()
        effects["inquiries_resolved"] = [inquiry.id for inquiry in resolved]
        effects["surveys"] = [surveys.invite(session, inquiry, agent=message.author, now=now, settings=settings)
                              for inquiry in resolved]
        effects["deadlines_met"] = _complaints_answered(session, case.id, now)
        changed = changed or bool(effects["deadlines_met"])
    if changed:
        effects["case"] = save_case(session, case, expected_version=None, now=now)["after"]
    return effects


def _complaints_answered(session: Session, case_id: int | None, now: datetime) -> list[str]:
    """The complaint deadline (EU-MICA-DECIDE) is met once no complaint on the case is open."""
    if case_id is None or session.exec(select(Inquiry.id).where(
            Inquiry.case_id == case_id, Inquiry.kind == "complaint", Inquiry.resolved_at.is_(None))).first():
        return []
    return close_deadlines(session, case_id, at=now, status="met", rule_ids=("EU-MICA-DECIDE",))


def _held(session: Session, message_id: int) -> Message:
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound(f"no message {message_id}")
    if message.status != "held":
        raise InvalidRequest(f"message {message_id} is {message.status}, not waiting for approval")
    return message


def _decide(session: Session, message: Message, status: str, *, by: str, now: datetime) -> None:
    """Move a held message to `status` only if it is still held (two supervisors at once: one wins)."""
    result = session.execute(sa.update(Message).where(Message.id == message.id, Message.status == "held")
                             .values(status=status, approved_by=by, approved_at=now))
    if result.rowcount != 1:
        raise InvalidRequest(f"message {message.id} was decided by someone else just now; reload")
    message.status, message.approved_by, message.approved_at = status, by, now


def approve(store: Store, actor: str, message_id: int, *, reason: str, now: datetime,
            settings: ReplySettings = ReplySettings(), request_key: str | None = None) -> Message:
    """A supervisor other than the author lets a held reply go (if it still fits the case), saying why: the reason
    is kept in the audit trail beside the linter's findings it overrides."""
    if not reason.strip():
        raise InvalidRequest("approving a held reply needs a reason: why may it go despite the linter's findings?")
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        claim(session, request_key, actor=user.name, action="message.approved", now=now)
        require(user.name, user.role, "approve_message")
        message = _held(session, message_id)
        if message.author == user.name:
            raise FourEyesViolation(f"{user.name} wrote message {message_id}; another supervisor must approve it")
        case = get_case(session, message.case_id)
        if message.template_id not in _offered_ids(session, case, settings):
            raise InvalidRequest(f"message {message_id} no longer fits case {case.id} ({case.status}); reject it")
        drafted = message.at
        _decide(session, message, "sent", by=user.name, now=now)
        message.at = now
        session.add(message)
        effects = _after_sent(session, case, message, now=now, drafted=drafted, settings=settings)
        audit.append(session, user.name, "message.approved", at=now, case_id=case.id, before={"status": "held"},
                     after={"message": message.id, "status": "sent", "reason": reason.strip()[:2000],
                            "findings": sorted({f["rule_id"] for f in message.findings if "rule_id" in f}), **effects})
        return message


def reject(store: Store, actor: str, message_id: int, *, note: str, now: datetime,
           request_key: str | None = None) -> Message:
    """A supervisor turns a held reply down; it is never sent."""
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        claim(session, request_key, actor=user.name, action="message.rejected", now=now)
        require(user.name, user.role, "approve_message")
        message = _held(session, message_id)
        _decide(session, message, "rejected", by=user.name, now=now)
        audit.append(session, user.name, "message.rejected", at=now, case_id=message.case_id, before={"status": "held"},
                     after={"message": message.id, "status": "rejected", "note": note})
        return message


def receive(store: Store, actor: str, *, now: datetime, channel: str, topic: str, locale: str, body: str,
            kind: str = "inquiry", case_id: int | None = None, customer_id: str | None = None,
            customer_name: str | None = None, settings: ReplySettings = ReplySettings()) -> tuple[Inquiry, Message]:
    """Record a customer's inquiry and send the acknowledgement with its tracking number at once."""
    _choice(channel, CHANNELS, "channel"), _choice(topic, TOPICS, "topic"), _choice(kind, KINDS, "kind")
    case_text.check_locale(locale)
    if not body.strip() or len(body.strip()) > LONGEST:
        raise InvalidRequest(f"the customer's message has 1 to {LONGEST:,} characters, not {len(body.strip()):,}")
    if customer_id is not None and len(customer_id.strip()) > 200:
        raise InvalidRequest("a customer id has at most 200 characters")
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "reply")
        case = get_case(session, case_id) if case_id is not None else None
        if case is not None and customer_id and customer_id.strip() != case.customer_id:
            raise InvalidRequest(f"case {case.id} belongs to another customer")
        if case is None and not (customer_id or "").strip():
            raise InvalidRequest("an inquiry outside a case needs the customer id")
        inquiry = Inquiry(tracking_number=case.tracking_number if case else tracking_number(),
                          case_id=case.id if case else None, customer_id=case.customer_id if case else customer_id.strip(),
                          kind=kind, channel=channel, topic=topic, locale=locale, received_at=now, acknowledged_at=now)
        session.add(inquiry)
        session.flush()
        session.add(Message(case_id=inquiry.case_id, inquiry_id=inquiry.id, direction="in", channel=channel, at=now,
                            locale=locale, body=body.strip(), lint_status="not_checked", status="received",
                            author=f"customer:{inquiry.customer_id}"))
        for name in (customer_name, None):  # a name that reads as a listed party's: greet without it
            values = (case_text.values(session, case, locale, name=name, settings=settings) if case else
                      {"customer_name": case_text.customer_name(name, locale),
                       "tracking_number": inquiry.tracking_number, "support_contact": settings.support_contact})
            ack = catalog().render("acknowledgement", locale, channel, values=values)
            result = lint(ack.body, case_text.lint_context(session, case, locale, template_id="acknowledgement",
                                                           approved_texts=(), values=values, edited=False) if case
                          else LintContext(hold=True, locale=locale, template_id="acknowledgement", learned=False))
            if result.status == "clean":
                break
        if result.status != "clean":  # a shipped template that fails the linter is a defect, never sent
            raise InvalidRequest(f"the acknowledgement template ({locale}, {channel}) fails the linter: "
                                 + "; ".join(f"{f.category}: {f.excerpt!r}" for f in result.findings))
        message = Message(case_id=inquiry.case_id, inquiry_id=inquiry.id, direction="out", channel=channel, at=now,
                          template_id="acknowledgement", locale=locale, subject=ack.subject, body=ack.body,
                          lint_status="clean", status="sent", author=user.name)
        session.add(message)
        session.flush()
        effects = {}
        if case is not None:
            started = start_deadlines(session, case, "inquiry_received", at=now)
            met = close_deadlines(session, case.id, at=now, status="met", rule_ids=("NY-ACK",))
            if kind == "complaint":
                started += start_deadlines(session, case, "complaint_received", at=now)
            effects = {"deadlines_started": started, "deadlines_met": met,
                       "case": save_case(session, case, expected_version=None, now=now)["after"]}
        audit.append(session, user.name, f"{kind}.received", at=now, case_id=inquiry.case_id,
                     after={"inquiry": inquiry.id, "tracking_number": inquiry.tracking_number, "channel": channel,
                            "topic": topic, "acknowledgement": message.id, **effects})
        return inquiry, message


def resolve(store: Store, actor: str, inquiry_id: int, *, now: datetime, request_key: str | None = None,
            settings: ReplySettings = ReplySettings()) -> Inquiry:
    """Mark an inquiry answered and send its satisfaction survey (final replies on a case do this themselves)."""
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        claim(session, request_key, actor=user.name, action="inquiry.resolved", now=now)
        require(user.name, user.role, "reply")
        inquiry = session.get(Inquiry, inquiry_id)
        if inquiry is None:
            raise NotFound(f"no inquiry {inquiry_id}")
        if inquiry.resolved_at is not None:
            raise InvalidRequest(f"inquiry {inquiry_id} was resolved on {inquiry.resolved_at:%Y-%m-%d %H:%M} UTC")
        inquiry.resolved_at = now
        session.add(inquiry)
        session.flush()
        met = _complaints_answered(session, inquiry.case_id, now)
        after = {"inquiry": inquiry.id, "deadlines_met": met,
                 **surveys.invite(session, inquiry, agent=user.name, now=now, settings=settings)}
        if met:
            after["case"] = save_case(session, get_case(session, inquiry.case_id), expected_version=None,
                                      now=now)["after"]
        audit.append(session, user.name, f"{inquiry.kind}.resolved", at=now, case_id=inquiry.case_id, after=after)
        return inquiry


def held(store: Store, actor: str) -> list[dict]:
    """Replies waiting for a supervisor's approval, oldest first, with the linter's findings."""
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "approve_message")
        rows = session.exec(select(Message).where(Message.status == "held").order_by(Message.at, Message.id)).all()
        return [m.model_dump() for m in rows]
