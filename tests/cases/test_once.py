"""One action per click: a request key carried out once, refused the second time, with nothing done twice."""

from __future__ import annotations

import pytest

from cases import once, queries, service
from cases.errors import AlreadyDone, InvalidRequest
from cases.replies import conversations, views
from tests.cases.conftest import NOW


def test_a_note_sent_twice_with_its_key_is_added_once(store, cases):
    case_id = cases["D-1001"]
    key = once.request_key("ann", "note", case_id, 1, "Called")
    service.add_note(store, "ann", case_id, body="Called", now=NOW, request_key=key)
    with pytest.raises(AlreadyDone) as again:
        service.add_note(store, "ann", case_id, body="Called", now=NOW, request_key=key)
    assert str(again.value) == ("already done: note by ann at 2026-11-24 15:00:00 UTC; nothing was done twice")
    assert len(queries.show(store, "ann", case_id).notes) == 1
    service.add_note(store, "ann", case_id, body="Called", now=NOW)  # without a key: a command, carried out


def test_a_reply_and_a_step_are_carried_out_once(store, cases):
    case_id = sorted(cases.values())[1]
    key = once.request_key("sue", "send", case_id, "acknowledgement")
    sent = conversations.send(store, "sue", case_id, template_id="acknowledgement", locale="en", channel="email",
                              now=NOW, request_key=key)
    with pytest.raises(AlreadyDone):
        conversations.send(store, "sue", case_id, template_id="acknowledgement", locale="en", channel="email",
                           now=NOW, request_key=key)
    assert [m["id"] for m in views.messages(store, "ann", case_id)] == [sent.id]
    step = once.request_key("ann", "start", case_id, 1)
    service.transition(store, "ann", case_id, action="start_review", now=NOW, expected_version=1, request_key=step)
    with pytest.raises(AlreadyDone):  # not a conflict with oneself
        service.transition(store, "ann", case_id, action="start_review", now=NOW, expected_version=1,
                           request_key=step)


def test_a_key_is_a_short_plain_token():
    with pytest.raises(InvalidRequest, match="16 to 64"):
        once.claim(None, "short", actor="ann", action="x", now=NOW)
    assert len(once.request_key("a", 1)) == 40 and once.request_key("a", 1) != once.request_key("a", 2)
