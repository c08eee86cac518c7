"""A case's timeline: its audit trail in words, in order, with the messages' texts and the deadlines ahead."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cases import service, timeline
from cases.errors import AccessDenied
from cases.replies import conversations
from tests.cases.conftest import NOW


def test_every_step_of_a_case_is_on_its_timeline_in_order(store, cases):
    case_id = cases["D-1001"]
    service.transition(store, "ann", case_id, action="start_review", now=NOW + timedelta(minutes=1))
    service.add_note(store, "ann", case_id, body="Called the customer.", now=NOW + timedelta(minutes=2))
    inquiry, _ = conversations.receive(store, "sue", now=NOW + timedelta(minutes=3), channel="email",
                                       topic="frozen_deposit", locale="en", body="Where is my money?",
                                       case_id=case_id)
    service.propose(store, "ann", case_id, kind="release", reason="Payslips.", now=NOW + timedelta(minutes=4))
    service.approve(store, "sam", case_id, now=NOW + timedelta(minutes=5))
    entries = timeline.timeline(store, "ann", case_id, now=NOW + timedelta(minutes=6))
    past = [e for e in entries if not e.ahead]
    assert [e.title for e in past] == ["Case opened", "Review started", "Note", "Customer inquiry received",
                                       "Release proposed", "Release approved"]
    assert [e.actor for e in past][1:] == ["ann", "ann", "sue", "ann", "sam"]
    assert past[1].detail.startswith("open → in review")
    assert past[2].detail == "Called the customer."
    assert past[3].message == "Where is my money?"
    assert "reason: Payslips." in past[4].detail
    assert [e.at for e in past] == sorted(e.at for e in past)
    ahead = [e for e in entries if e.ahead]
    assert all(e.title.startswith("Deadline ") for e in ahead) and [e.at for e in ahead] == sorted(e.at for e in ahead)
    with pytest.raises(AccessDenied):
        timeline.timeline(store, "sue", case_id, now=NOW)
    assert inquiry.case_id == case_id


def test_describe_words_each_kind_of_event():
    assert timeline.describe("case.snooze", {}, {"snoozed_until": "2026-12-01", "snooze_reason": "waiting"}) == (
        "Snoozed", "why: waiting; until 2026-12-01")
    assert timeline.describe("message.held", {}, {"template": "status_update", "locale": "en", "channel": "chat"}) == (
        "Reply held for approval", "status update (en, chat)")
    assert timeline.describe("case.rescreened", {}, {"decision": "allow", "rule_ids": []}) == (
        "Re-screened", "would now be allow")
    assert timeline.describe("case.something_new", {}, {}) == ("case: something new", "")
