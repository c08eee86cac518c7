"""The support inbox: inquiries with their targets, what support may see, and the times against the targets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cases.errors import AccessDenied, InvalidRequest
from cases.replies import conversations, inbox
from tests.cases.conftest import NOW


def _receive(store, at, **fields):
    return conversations.receive(store, "sue", now=at, channel="email", topic="frozen_deposit", locale="en",
                                 body=fields.pop("body", "Where is my deposit?"), **fields)[0]


def test_the_inbox_lists_open_inquiries_oldest_first_with_due_times(store, cases):
    case_id = cases["D-1001"]
    first = _receive(store, NOW, case_id=case_id)
    second = _receive(store, NOW + timedelta(hours=1), customer_id="C-77", body="My withdrawal is slow.")
    rows = inbox.inbox(store, "sue")
    assert [r.id for r in rows] == [first.id, second.id]
    row = rows[0]
    assert (row.tracking_number, row.case_status, row.customer_words) == (first.tracking_number, "under_review",
                                                                          "Where is my deposit?")
    assert row.first_response_at == NOW and row.first_response_due == NOW + timedelta(minutes=5)
    assert row.resolution_due == NOW + timedelta(hours=24) and row.last_reply_at is None
    assert [r.state(NOW + timedelta(hours=1)) for r in rows] == ["open", "open"]
    assert rows[0].state(NOW + timedelta(hours=21)) == "due soon"
    assert rows[0].state(NOW + timedelta(hours=25)) == "overdue"
    assert rows[1].case_status is None
    assert not {"evidence", "exposures", "from_address", "notes"} & set(vars(row))
    assert [r.id for r in inbox.inbox(store, "sue", tracking_number=second.tracking_number.lower())] == [second.id]


def test_an_answer_and_a_resolution_show_in_the_times(store, cases):
    case_id = cases["D-1001"]
    asked = _receive(store, NOW, case_id=case_id)
    conversations.send(store, "sue", case_id, template_id="under_review", locale="en", channel="email",
                       now=NOW + timedelta(hours=2), inquiry_id=asked.id)
    conversations.resolve(store, "sue", asked.id, now=NOW + timedelta(hours=3))
    assert inbox.inbox(store, "sue") == []
    [row] = inbox.inbox(store, "sue", shown="resolved")
    assert row.last_reply_at == NOW + timedelta(hours=2) and row.resolved_at == NOW + timedelta(hours=3)
    assert inbox.inquiry(store, "sue", asked.id) == row
    figures = inbox.response_times([row], NOW + timedelta(hours=4))
    assert figures == {"open": 0, "overdue": 0, "first_response_within_target": 1, "first_responses": 1,
                       "resolved": 1, "resolved_within_target": 1, "median_hours_to_resolve": 3.0}


def test_the_inbox_refuses_what_it_does_not_know(store, cases):
    with pytest.raises(InvalidRequest, match="not 'later'"):
        inbox.inbox(store, "sue", shown="later")
    with pytest.raises(AccessDenied):
        inbox.inbox(store, "ada")
