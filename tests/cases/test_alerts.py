"""Review alerts worked like cases: the queue, assignment, dismissal with a reason, a freeze case opened."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cases import alerts, queries, timeline
from cases.alerts import AlertFilter
from cases.errors import AccessDenied, AlreadyDone, Conflict, InvalidRequest, NotFound
from tests.cases.conftest import NOW

LATER = NOW + timedelta(hours=30)


def _ids(store, **chosen) -> list[str]:
    return [a.deposit_id for a in alerts.alert_queue(store, "ann", AlertFilter(**chosen)).rows]


def test_the_queue_lists_open_alerts_oldest_first_with_filters(store, cases):
    assert _ids(store) == ["D-1006", "D-1007", "D-1009", "D-1015", "D-1016"]
    page = alerts.alert_queue(store, "ann", AlertFilter(page_size=2, page=2))
    assert [a.deposit_id for a in page.rows] == ["D-1009", "D-1015"] and page.total == 5
    first = alerts.alert_queue(store, "ann", AlertFilter()).rows[0]
    assert _ids(store, category=first.categories[0]) and set(_ids(store, category="ransomware")) == set()
    alerts.assign(store, "ann", first.id, assignee="bob", now=NOW)
    assert _ids(store, assignee="bob") == ["D-1006"]
    with pytest.raises(InvalidRequest, match="is not a category name"):
        alerts.alert_queue(store, "ann", AlertFilter(category="no such; drop"))
    with pytest.raises(InvalidRequest, match="not 'gone'"):
        alerts.alert_queue(store, "ann", AlertFilter(status="gone"))
    with pytest.raises(AccessDenied):
        alerts.alert_queue(store, "sue", AlertFilter())


def test_a_dismissal_needs_a_reason_and_is_kept_with_the_alert(store, cases):
    first = alerts.alert_queue(store, "ann", AlertFilter()).rows[0]
    with pytest.raises(InvalidRequest, match="needs a reason"):
        alerts.dismiss(store, "ann", first.id, reason="  ", now=NOW)
    done = alerts.dismiss(store, "ann", first.id, reason="Exchange hot wallet, documented.", now=NOW,
                          expected_version=first.version)
    assert (done.status, done.reason, done.decided_by, done.version) == ("dismissed", "Exchange hot wallet, documented.",
                                                                         "ann", 2)
    assert _ids(store)[0] == "D-1007" and _ids(store, status="dismissed") == ["D-1006"]
    with pytest.raises(InvalidRequest, match="no longer open: it was dismissed by ann"):
        alerts.open_case(store, "bob", first.id, reason="freeze it", now=NOW)
    with pytest.raises(AccessDenied):
        alerts.dismiss(store, "sue", first.id + 1, reason="x", now=NOW)
    with pytest.raises(NotFound):
        alerts.dismiss(store, "ann", 999, reason="x", now=NOW)


def test_a_stale_version_is_a_conflict_that_names_the_last_change(store, cases):
    first = alerts.alert_queue(store, "ann", AlertFilter()).rows[0]
    alerts.assign(store, "bob", first.id, assignee="bob", now=NOW, expected_version=1)
    with pytest.raises(Conflict) as refused:
        alerts.dismiss(store, "ann", first.id, reason="not suspicious", now=NOW, expected_version=1)
    said = str(refused.value)
    assert said.startswith(f"alert {first.id} was changed by someone else (you had version 1, it is now 2")
    assert "the last change was assign by bob" in said
    assert alerts.get_alert(store, "ann", first.id).status == "open"


def test_opening_a_case_freezes_the_deposit_with_deadlines_and_a_trail(store, cases):
    first = alerts.alert_queue(store, "ann", AlertFilter()).rows[0]
    case = alerts.open_case(store, "ann", first.id, reason="The sender's funding is a known mixer's.", now=NOW,
                            expected_version=1)
    detail = queries.show(store, "ann", case.id)
    assert (detail.case.deposit_id, detail.case.status, detail.case.decision) == (first.deposit_id, "open", "freeze")
    assert detail.case.rule_ids == first.rule_ids and detail.case.snapshot["from_alert"] == first.id
    assert detail.case.next_due_at is not None and {d["rule_id"] for d in detail.deadlines}
    assert alerts.get_alert(store, "ann", first.id).case_id == case.id
    assert _ids(store, status="case_opened") == [first.deposit_id]
    titles = [e.title for e in timeline.timeline(store, "ann", case.id, now=NOW) if not e.ahead]
    assert titles == ["Case opened", "Opened from a review alert"]
    assert queries.verify_audit(store, "ada").ok


def test_the_same_click_twice_is_carried_out_once(store, cases):
    first = alerts.alert_queue(store, "ann", AlertFilter()).rows[0]
    key = "k" * 20
    case = alerts.open_case(store, "ann", first.id, reason="freeze", now=NOW, request_key=key)
    with pytest.raises(AlreadyDone, match="already done: case opened by ann"):
        alerts.open_case(store, "ann", first.id, reason="freeze", now=NOW, request_key=key)
    assert queries.queue(store, queries.QueueFilter(), actor="ann", now=NOW).total == 6
    assert case.id is not None


def test_the_summary_counts_open_alerts_their_age_and_categories_per_day(store, cases):
    first = alerts.alert_queue(store, "ann", AlertFilter()).rows[0]
    alerts.dismiss(store, "ann", first.id, reason="documented", now=NOW)
    found = alerts.summary(store, "sam", now=LATER)
    assert found["by_status"] == {"open": 4, "dismissed": 1, "case_opened": 0}
    assert found["oldest_open_hours"] == 30.0 and found["open_over_a_day"] == 4
    assert sum(found["open_by_category"].values()) >= 4
    raised = alerts.per_day(store, "sam", start=NOW - timedelta(days=1), end=LATER)
    assert {r["day"] for r in raised} == {NOW.date().isoformat()}
    assert sum(r["alerts"] for r in raised) == sum(len(a.categories) or 1 for a in alerts.alert_queue(
        store, "sam", AlertFilter(status=None)).rows)
    assert alerts.per_day(store, "sam", start=LATER, end=LATER + timedelta(days=1)) == []


def test_an_alert_changed_outside_the_trail_is_found_by_the_audit_check(store, cases):
    import sqlalchemy as sa

    first = alerts.alert_queue(store, "ann", AlertFilter()).rows[0]
    alerts.assign(store, "ann", first.id, assignee="ann", now=NOW)
    assert queries.verify_audit(store, "ada").ok
    with store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE alerts SET status = 'dismissed' WHERE id = :i"), {"i": first.id})
    verdict = queries.verify_audit(store, "ada")
    assert not verdict.ok and f"alert {first.id}: status is 'dismissed' but its events say 'open'" in verdict.problem


def test_a_second_analyst_opening_the_same_alert_gets_a_conflict_not_a_second_case(store, cases):
    first = alerts.alert_queue(store, "ann", AlertFilter()).rows[0]
    alerts.open_case(store, "ann", first.id, reason="freeze", now=NOW, expected_version=1)
    with pytest.raises((Conflict, InvalidRequest)):
        alerts.open_case(store, "bob", first.id, reason="freeze too", now=NOW, expected_version=1)
    assert queries.queue(store, queries.QueueFilter(), actor="ann", now=NOW).total == 6


def test_a_case_from_a_direct_rule_s_alert_is_a_hop_1_case(store, cases):
    found = alerts.alert_queue(store, "ann", AlertFilter()).rows
    direct = next(a for a in found if any("-direct" in r for r in a.rule_ids))
    indirect = next(a for a in found if all("-indirect" in r for r in a.rule_ids))
    assert alerts.open_case(store, "ann", direct.id, reason="x", now=NOW).min_hop == 1
    assert alerts.open_case(store, "ann", indirect.id, reason="x", now=NOW).min_hop == 2


def test_an_untouched_alert_edited_in_the_table_is_found_by_the_audit_check(store, cases):
    import sqlalchemy as sa

    first = alerts.alert_queue(store, "ann", AlertFilter()).rows[0]
    with store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE alerts SET assignee = 'mallory' WHERE id = :i"), {"i": first.id})
    verdict = queries.verify_audit(store, "ada")
    assert not verdict.ok and f"alert {first.id}: assignee is 'mallory' but its events say None" in verdict.problem
