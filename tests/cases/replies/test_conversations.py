"""Inquiries and replies on SQLite and PostgreSQL: acknowledged at once, linted, held, approved, recorded."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from cases import queries, service
from cases.errors import AccessDenied, FourEyesViolation, IllegalTransition, InvalidRequest, ReplyBlocked
from cases.models import AuditEvent, Deadline, Inquiry, Message
from cases.queries import QueueFilter
from cases import timeline
from cases.replies import conversations, views
from tests.cases.conftest import NOW

LATER = NOW + timedelta(hours=2)


def rows(store, model, **where):
    with store.session() as session:
        query = select(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return session.exec(query.order_by(model.seq if model is AuditEvent else model.id)).all()


def open_status(store, case_id):
    return [d for d in rows(store, Deadline, case_id=case_id, rule_id="NY-STATUS") if d.status == "open"]


def test_an_inquiry_on_a_case_is_acknowledged_at_once_with_the_cases_tracking_number(store, cases):
    case_id = cases["D-1001"]
    inquiry, ack = conversations.receive(store, "sue", now=NOW, channel="chat", topic="frozen_deposit", locale="it",
                                         body="Dove sono i miei soldi?",
                                         case_id=case_id, customer_name="Alice")
    case = queries.show(store, "ann", case_id).case
    assert inquiry.tracking_number == case.tracking_number and inquiry.acknowledged_at == NOW
    assert (ack.template_id, ack.status, ack.lint_status, ack.locale) == ("acknowledgement", "sent", "clean", "it")
    assert case.tracking_number in ack.body and "Alice" in ack.body
    messages = rows(store, Message, case_id=case_id)
    assert [(m.direction, m.status) for m in messages] == [("in", "received"), ("out", "sent")]
    assert [(d.rule_id, d.status, d.closed_at) for d in rows(store, Deadline, case_id=case_id, rule_id="NY-ACK")] == [
        ("NY-ACK", "met", NOW)]
    assert rows(store, AuditEvent)[-1].action == "inquiry.received"


def test_an_inquiry_outside_a_case_gets_its_own_tracking_number(store, cases):
    inquiry, ack = conversations.receive(store, "sue", now=NOW, channel="email", topic="fees", locale="fr",
                                         body="Frais trop élevés", kind="complaint",
                                         customer_id="zed")
    assert inquiry.case_id is None and inquiry.tracking_number.startswith("FC-")
    assert inquiry.tracking_number not in {c.tracking_number for c in rows(store, Inquiry) if c.case_id}
    assert ack.subject and inquiry.tracking_number in ack.body
    with pytest.raises(InvalidRequest, match="needs the customer id"):
        conversations.receive(store, "sue", now=NOW, channel="email", topic="fees", locale="fr", body="?")
    with pytest.raises(InvalidRequest, match="no topic"):
        conversations.receive(store, "sue", now=NOW, channel="email", topic="gossip", locale="fr", body="?",
                              customer_id="zed")


def test_a_clean_status_update_is_sent_and_meets_the_update_deadline(store, cases):
    case_id = cases["D-1001"]
    [before] = open_status(store, case_id)
    tomorrow = NOW + timedelta(days=1)
    message = conversations.send(store, "sue", case_id, template_id="status_update", locale="es", channel="email",
                                 now=tomorrow)
    assert (message.status, message.lint_status, message.edited) == ("sent", "clean", False)
    met = [d for d in rows(store, Deadline, case_id=case_id, rule_id="NY-STATUS") if d.id == before.id][0]
    assert (met.status, met.closed_at) == ("met", tomorrow)
    [after] = open_status(store, case_id)
    assert after.due_at > before.due_at
    event = rows(store, AuditEvent)[-1]
    assert event.action == "message.sent" and event.after["deadlines_closed"] == ["NY-STATUS"]
    assert queries.verify_audit(store, "sam").ok


def test_a_leaking_edit_is_refused_and_kept_only_as_a_blocked_record(store, cases):
    case_id = cases["D-1001"]
    version = queries.show(store, "ann", case_id).case.version
    with pytest.raises(ReplyBlocked) as caught:
        conversations.send(store, "sue", case_id, template_id="status_update", locale="en", channel="chat", now=LATER,
                           text="Your funds came from a wallet of the Lazarus group; we have told the police.")
    assert {f["category"] for f in caught.value.findings} >= {"flag_details", "investigation"}
    [message] = rows(store, Message, case_id=case_id)
    assert (message.status, message.lint_status) == ("blocked", "blocked")
    assert queries.show(store, "ann", case_id).case.version == version  # no update was sent
    assert len(open_status(store, case_id)) == 1
    assert rows(store, AuditEvent)[-1].action == "message.blocked"
    assert views.messages(store, "sue", case_id) == []  # support sees only what was received or sent


def test_the_cases_evidence_gives_a_supervisor_notes_and_never_changes_the_verdict(store, cases):
    case_id = cases["D-1001"]
    sender = queries.show(store, "ann", case_id).case.from_address
    text = f"Your deposit is temporarily restricted while we complete a review of wallet {sender[:10]}."
    sue, sam = (views.draft(store, who, case_id, template_id="under_review", locale="en", channel="chat", now=NOW,
                            text=text).verdict for who in ("sue", "sam"))
    assert sue.status == sam.status == "blocked" and sue.findings == sam.findings
    assert [f.rule_id for f in sue.blocking] == ["flags.chain_id"]
    assert sue.notes == () and [(n.rule_id, n.excerpt) for n in sam.notes] == [("case.evidence", sender[:10])]
    event = [e for e in rows(store, AuditEvent) if e.action == "reply.draft_blocked"][-1]
    assert (event.actor, event.after["rules"]) == ("sue", ["flags.chain_id"])
    # a held reply keeps the notes for the supervisor who decides it, and for nobody else
    held = conversations.send(store, "sue", case_id, template_id="status_update", locale="en", channel="chat", now=NOW,
                              text="Your deposit is still restricted under the sanctions rules; we will write again.")
    assert held.status == "held"
    [waiting] = conversations.held(store, "sam")
    assert ("case.evidence", "note", "sanctions") in {(f["rule_id"], f["severity"], f["excerpt"])
                                                      for f in waiting["findings"]}
    assert held.findings and all(f["severity"] != "note" for f in held.findings)  # what support got back
    analyst = [m for m in views.messages(store, "ann", case_id) if m["id"] == held.id][0]
    assert analyst["findings"] and all(f["severity"] != "note" for f in analyst["findings"])


def test_a_customer_named_like_a_listed_party_is_greeted_without_the_name(store, cases):
    case_id = cases["D-1001"]
    _, ack = conversations.receive(store, "sue", case_id=case_id, body="Where is my money?", channel="chat",
                                   topic="frozen_deposit", locale="en", now=NOW, customer_name="Roman Semenov")
    assert "Semenov" not in ack.body and ack.status == "sent" and "customer" in ack.body
    # an agent who types a listed name as the customer's name is blocked, greeting or not
    with pytest.raises(ReplyBlocked):
        conversations.send(store, "sue", case_id, template_id="status_update", locale="en", channel="chat", now=NOW,
                           customer_name="Semenov")


def test_a_reply_with_warnings_waits_for_a_different_supervisor(store, cases):
    case_id = cases["D-1001"]
    text = "Hello, your deposit is still temporarily restricted under OFAC rules. We will write again soon."
    held = conversations.send(store, "sam", case_id, template_id="status_update", locale="en", channel="chat", now=NOW,
                              text=text)
    assert held.status == "held" and {f["category"] for f in held.findings} >= {"sanctions"}
    assert len(open_status(store, case_id)) == 1 and open_status(store, case_id)[0].closed_at is None
    with pytest.raises(AccessDenied):
        conversations.approve(store, "sue", held.id, reason="checked", now=LATER)
    with pytest.raises(FourEyesViolation):
        conversations.approve(store, "sam", held.id, reason="checked", now=LATER)
    with pytest.raises(InvalidRequest, match="needs a reason"):
        conversations.approve(store, "sia", held.id, reason="  ", now=LATER)
    sent = conversations.approve(store, "sia", held.id, reason="OFAC named on purpose: the customer asked.", now=LATER)
    assert (sent.status, sent.approved_by, sent.at) == ("sent", "sia", LATER)
    [approved] = [e for e in timeline.timeline(store, "ann", case_id, now=LATER) if e.action == "message.approved"]
    assert approved.actor == "sia" and approved.detail.startswith("reason: OFAC named on purpose: the customer asked.")
    with pytest.raises(InvalidRequest, match="not waiting for approval"):
        conversations.reject(store, "sia", held.id, note="too late", now=LATER)
    assert [m["id"] for m in views.messages(store, "sue", case_id)] == [held.id]


def test_templates_follow_the_case_and_final_replies_resolve_the_inquiries(store, cases):
    case_id = cases["D-1001"]
    inquiry, _ = conversations.receive(store, "sue", now=NOW, channel="email", topic="frozen_deposit", locale="en",
                                       body="Where is it?",
                                       case_id=case_id)
    with pytest.raises(InvalidRequest, match="not offered"):
        conversations.send(store, "sue", case_id, template_id="released", locale="en", channel="email", now=NOW)
    service.transition(store, "ann", case_id, action="start_review", now=NOW)
    service.propose(store, "ann", case_id, kind="release", reason="source of funds explained", now=NOW)
    service.approve(store, "sam", case_id, now=NOW)
    offered = {t.id for t in views.offered_templates(store, "sue", case_id)}
    assert "released" in offered and "status_update" not in offered
    conversations.send(store, "sue", case_id, template_id="released", locale="en", channel="email", now=LATER)
    [resolved] = rows(store, Inquiry, id=inquiry.id)
    assert resolved.resolved_at == LATER


def test_the_sanctions_notice_is_offered_only_once_funds_are_blocked_under_sanctions(store, cases):
    case_id = cases["D-1001"]
    assert "sanctions_block" not in {t.id for t in views.offered_templates(store, "sue", case_id)}
    service.transition(store, "ann", case_id, action="start_review", now=NOW)
    service.propose(store, "ann", case_id, kind="escalation", reason="blocked property", now=NOW)
    service.approve(store, "sam", case_id, now=NOW, report_ref="BPR-1", report_date=NOW)
    offered = {t.id for t in views.offered_templates(store, "sue", case_id)}
    assert "sanctions_block" in offered and "status_update" in offered  # the customer still hears "under review"
    message = conversations.send(store, "sue", case_id, template_id="sanctions_block", locale="en", channel="email",
                                 now=LATER)
    assert message.status == "sent" and "OFAC" in message.body


def test_an_overdue_status_update_shows_in_the_queue(store, cases):
    case_id = cases["D-1001"]
    [deadline] = open_status(store, case_id)
    late = deadline.due_at + timedelta(hours=1)
    row = [r for r in queries.queue(store, QueueFilter(), actor="ann", now=late).rows if r.id == case_id][0]
    assert "NY-STATUS" in row.overdue
    conversations.send(store, "sue", case_id, template_id="status_update", locale="en", channel="chat", now=late)
    row = [r for r in queries.queue(store, QueueFilter(), actor="ann", now=late).rows if r.id == case_id][0]
    assert "NY-STATUS" not in row.overdue


def test_support_may_reply_but_not_approve_and_admins_may_not_reply(store, cases):
    case_id = cases["D-1001"]
    with pytest.raises(AccessDenied):
        conversations.send(store, "ada", case_id, template_id="status_update", locale="en", channel="chat", now=NOW)
    with pytest.raises(AccessDenied):
        views.offered_templates(store, "ada", case_id)


def test_a_complaint_on_an_eu_case_starts_the_decision_clock_and_resolving_it_meets_it(store, cases):
    case_id = cases["D-1001"]
    with store.writing_session() as session, session.begin():
        from cases.models import Case
        case = session.get(Case, case_id)
        case.jurisdictions = ["EU", "NY"]
        session.add(case)
    complaint, _ = conversations.receive(store, "sue", now=NOW, channel="email", topic="frozen_deposit", locale="en",
                                         body="I complain.",
                                         kind="complaint", case_id=case_id)
    [decide] = rows(store, Deadline, case_id=case_id, rule_id="EU-MICA-DECIDE")
    assert decide.status == "open" and decide.due_at.date().isoformat() == "2027-01-24"
    conversations.resolve(store, "sue", complaint.id, now=LATER)
    [decide] = rows(store, Deadline, case_id=case_id, rule_id="EU-MICA-DECIDE")
    assert (decide.status, decide.closed_at) == ("met", LATER)
    with pytest.raises(InvalidRequest, match="was resolved"):
        conversations.resolve(store, "sue", complaint.id, now=LATER)


def test_requesting_the_source_of_funds_moves_the_case_and_sends_the_request_together(store, cases):
    case_id = cases["D-1001"]
    with pytest.raises(IllegalTransition):  # an open case is not yet in review
        conversations.request_source_of_funds(store, "ann", case_id, locale="fr", channel="email", now=NOW)
    assert rows(store, Message, case_id=case_id) == []
    service.transition(store, "ann", case_id, action="start_review", now=NOW)
    message = conversations.request_source_of_funds(store, "ann", case_id, locale="fr", channel="email", now=LATER)
    assert queries.show(store, "ann", case_id).case.status == "awaiting_customer"
    assert (message.template_id, message.status, message.locale) == ("source_of_funds_request", "sent", "fr")
    actions = [e.action for e in rows(store, AuditEvent)][-2:]
    assert actions == ["case.request_information", "message.sent"]


def test_a_customer_name_cannot_carry_free_text(store, cases):
    case_id = cases["D-1001"]
    leak = "Alice. There's an ongoing inquiry, ours and an external one, so everything stays locked"
    with pytest.raises(InvalidRequest, match="only letters"):
        conversations.send(store, "sue", case_id, template_id="status_update", locale="en", channel="chat", now=NOW,
                           customer_name=leak)
    with pytest.raises(InvalidRequest, match="only letters"):
        conversations.receive(store, "sue", now=NOW, channel="chat", topic="fees", locale="en", body="hi",
                              customer_id="zed", customer_name=leak)
    sent = conversations.send(store, "sue", case_id, template_id="status_update", locale="fr", channel="chat", now=NOW,
                              customer_name="Anne-Marie O'Neil")
    assert "Anne-Marie O'Neil" in sent.body


def test_a_status_update_promises_the_next_update_not_the_one_it_meets(store, cases):
    case_id = cases["D-1001"]
    [due] = open_status(store, case_id)
    on_the_day = due.due_at - timedelta(hours=1)
    sent = conversations.send(store, "sue", case_id, template_id="status_update", locale="en", channel="email",
                              now=on_the_day)
    [after] = open_status(store, case_id)
    from cases.replies.wording import long_date
    from cases.replies.case_text import local_day
    with store.session() as session:
        from cases.models import Case
        case = session.get(Case, case_id)
        promised, met = long_date(local_day(case, after.due_at), "en"), long_date(local_day(case, due.due_at), "en")
    assert promised in sent.body and met not in sent.body


def test_an_unedited_template_is_never_held_for_its_own_dates(store, cases):
    case_id = cases["D-1001"]  # a sanctions case: its OFAC deadline falls on an update day
    for day in range(0, 20, 2):
        message = conversations.send(store, "sue", case_id, template_id="status_update", locale="en", channel="chat",
                                     now=NOW + timedelta(days=day))
        assert message.status == "sent", (day, message.findings)
    held = conversations.send(store, "sue", case_id, template_id="status_update", locale="en", channel="chat",
                              now=NOW + timedelta(days=21),
                              text="Still under review; we expect to decide by 24 December 2026.")
    assert held.status == "held" and "warn.date" in {f["rule_id"] for f in held.findings}


def test_approving_an_old_held_reply_resolves_only_what_came_before_it(store, cases):
    case_id = cases["D-1001"]
    service.transition(store, "ann", case_id, action="start_review", now=NOW)
    service.propose(store, "ann", case_id, kind="escalation", reason="blocked property", now=NOW)
    service.approve(store, "sam", case_id, now=NOW, report_ref="BPR-1", report_date=NOW)
    first, _ = conversations.receive(store, "sue", now=NOW, channel="email", topic="frozen_deposit", locale="en",
                                     body="Why?", kind="complaint",
                                     case_id=case_id)
    held = conversations.send(store, "sue", case_id, template_id="sanctions_block", locale="en", channel="email",
                              now=LATER,
                              text="Your deposit is blocked under U.S. sanctions regulations (OFAC); see ofac.treasury.gov.")
    assert held.status == "held"
    second, _ = conversations.receive(store, "sue", now=LATER + timedelta(days=3), channel="email",
                                      topic="frozen_deposit", locale="en", body="Still waiting", kind="complaint",
                                      case_id=case_id)
    version = queries.show(store, "ann", case_id).case.version
    conversations.approve(store, "sia", held.id, reason="checked", now=LATER + timedelta(days=4))
    resolved = {i.id: i.resolved_at for i in rows(store, Inquiry, case_id=case_id)}
    assert resolved[first.id] is not None and resolved[second.id] is None
    assert queries.show(store, "ann", case_id).case.version == version  # no deadline changed (no EU clock here)


def test_two_supervisors_deciding_one_held_reply_cannot_both_win(store, cases):
    case_id = cases["D-1001"]
    held = conversations.send(store, "sue", case_id, template_id="status_update", locale="en", channel="chat", now=NOW,
                              text="Your deposit is still under review under OFAC rules.")
    from cases.models import Message as M
    with store.writing_session() as session, session.begin():  # someone else rejects it in between
        session.get(M, held.id).status = "rejected"
    with pytest.raises(InvalidRequest):
        conversations.approve(store, "sia", held.id, reason="checked", now=LATER)


def test_an_inquiry_id_must_belong_to_the_case(store, cases):
    other, _ = conversations.receive(store, "sue", now=NOW, channel="chat", topic="fees", locale="en", body="hi",
                                     case_id=cases["D-1004"])
    with pytest.raises(InvalidRequest, match="not an inquiry on case"):
        conversations.send(store, "sue", cases["D-1001"], template_id="status_update", locale="en", channel="chat",
                           now=NOW, inquiry_id=other.id)
    with pytest.raises(InvalidRequest, match="not an inquiry on case"):
        conversations.send(store, "sue", cases["D-1001"], template_id="status_update", locale="en", channel="chat",
                           now=NOW, inquiry_id=999)


def test_the_verdict_on_free_text_is_the_same_on_every_case(store, cases):
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
    import linter_corpus
    lines = [r for r in linter_corpus.load(linter_corpus.CORPUS) if r["context"] == "hold"][::16]
    assert len(lines) > 60
    for line in lines:
        verdicts = {(v.status, v.findings) for v in (
            views.lint_for_case(store, "sue", case_id, text=line["text"], locale=line["locale"], now=NOW)
            for case_id in cases.values())}
        assert len(verdicts) == 1, line["id"]
