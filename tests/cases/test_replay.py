"""Raw edits of state that were never events: each kind found by replaying the cases, alerts and replies."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from cases import queries, service
from cases.replies import conversations
from tests.cases.conftest import NOW

LATER = NOW + timedelta(days=2)
WARNING_TEXT = "Hello, your deposit is still temporarily restricted under OFAC rules. We will write again soon."


@pytest.fixture
def worked(store, cases):
    """The scenario's cases worked through most paths: review, assignment, snooze, a release, replies, an inquiry."""
    first, second, third = cases["D-1004"], cases["D-1001"], cases["D-1008"]
    service.transition(store, "ann", first, action="start_review", now=NOW)
    service.assign(store, "sam", first, assignee="ann", now=NOW)
    service.propose(store, "ann", first, kind="release", reason="Salary, documented.", now=NOW)
    service.approve(store, "sam", first, now=LATER, note="agreed")
    service.snooze(store, "ann", third, until=LATER, reason="waiting for the bank", now=NOW)
    conversations.send(store, "sue", second, template_id="status_update", locale="en", channel="chat", now=NOW)
    held = conversations.send(store, "sam", second, template_id="status_update", locale="en", channel="chat",
                              now=NOW, text=WARNING_TEXT)
    conversations.approve(store, "sia", held.id, reason="checked", now=LATER)
    inquiry, _ = conversations.receive(store, "sue", now=NOW, channel="chat", topic="frozen_deposit", locale="en",
                                       body="Where is my money?", case_id=third)
    conversations.resolve(store, "sue", inquiry.id, now=LATER)
    assert queries.verify_audit(store, "sam").ok, queries.verify_audit(store, "sam").problem
    return store, {"released": first, "replied": second, "snoozed": third}


def edit(store, statement: str, **values) -> None:
    with store.engine.begin() as connection:
        assert connection.execute(sa.text(statement), values).rowcount == 1


def problem(store) -> str:
    verdict = queries.verify_audit(store, "sam")
    assert not verdict.ok
    return verdict.problem


def test_a_case_status_edited_in_the_table(worked):
    store, ids = worked
    edit(store, "UPDATE cases SET status = 'released', outcome = 'released' WHERE id = :id", id=ids["snoozed"])
    assert problem(store).startswith(f"case {ids['snoozed']}: status is 'released' but its events say 'open'")


def test_an_assignee_edited_in_the_table(worked):
    store, ids = worked
    edit(store, "UPDATE cases SET assignee = 'mallory' WHERE id = :id", id=ids["released"])
    assert problem(store).startswith(f"case {ids['released']}: assignee is 'mallory' but its events say 'ann'")


def earliest_open_deadline(store, case_id: int) -> int:
    with store.engine.begin() as connection:
        return connection.execute(sa.text("SELECT id FROM deadlines WHERE case_id = :c AND status = 'open' "
                                          "ORDER BY due_at LIMIT 1"), {"c": case_id}).scalar_one()


def test_a_deadline_moved_in_the_table(worked):
    store, ids = worked
    first = earliest_open_deadline(store, ids["replied"])
    edit(store, "UPDATE deadlines SET due_at = '2030-01-01 00:00:00' WHERE id = :id", id=first)
    assert f"case {ids['replied']}: next_due_at (the earliest open deadline)" in problem(store)


def test_a_deadline_closed_in_the_table(worked):
    store, ids = worked
    first = earliest_open_deadline(store, ids["snoozed"])
    edit(store, "UPDATE deadlines SET status = 'met' WHERE id = :id", id=first)
    assert f"case {ids['snoozed']}: next_due_at (the earliest open deadline)" in problem(store)


def test_an_alert_edited_in_the_table(worked):
    store, _ = worked
    edit(store, "UPDATE alerts SET status = 'closed' WHERE id = 1")
    assert problem(store).startswith("alert 1: status is 'closed' but its events say 'open'")


def test_an_alert_s_rules_edited_in_the_table(worked):
    store, _ = worked
    edit(store, "UPDATE alerts SET rule_ids = '[]' WHERE id = 2")
    assert problem(store).startswith("alert 2: rule_ids is [] but its events say")


def test_a_reply_s_status_edited_in_the_table(worked):
    store, _ = worked
    with store.engine.begin() as connection:
        held = connection.execute(sa.text("SELECT id FROM messages WHERE approved_by IS NOT NULL")).scalar_one()
    edit(store, "UPDATE messages SET status = 'held' WHERE id = :id", id=held)
    assert problem(store).startswith(f"message {held}: status is 'held' but its events say 'sent'")


def test_a_case_inserted_without_events(worked):
    store, _ = worked
    with store.engine.begin() as connection:
        columns = [c for c in connection.execute(sa.text("SELECT * FROM cases WHERE id = 1")).keys() if c != "id"]
        chosen = ["'D-FAKE'" if c == "deposit_id" else "'FC-FAKE-0000'" if c == "tracking_number" else c
                  for c in columns]
        connection.execute(sa.text(f"INSERT INTO cases ({', '.join(columns)}) SELECT {', '.join(chosen)} "
                                   "FROM cases WHERE id = 1"))
    assert "existence is 'a case' but its events say 'no case.opened event'" in problem(store)
