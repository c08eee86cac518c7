"""The case service on SQLite and PostgreSQL: lifecycle, four eyes, deadlines, audit, conflicts."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import select

from cases import queries, service, staff
from cases.errors import AccessDenied, Conflict, FourEyesViolation, IllegalTransition, InvalidRequest, NotFound
from cases.models import Case, Deadline
from cases.queries import QueueFilter
from tests.cases.conftest import NOW

LATER = NOW + timedelta(hours=1)
REPORT_DATE = datetime(2026, 11, 25, 10, tzinfo=timezone.utc)


def deadlines(store, case_id):
    with store.session() as session:
        return {(d.rule_id, d.status) for d in session.exec(select(Deadline).where(Deadline.case_id == case_id))}


def test_opened_case_holds_the_deposit_decision_exposures_and_deadlines(store, cases):
    detail = queries.show(store, "ann", cases["D-1001"])
    case = detail.case
    assert (case.status, case.customer_id, str(case.usd_value), case.decision) == ("open", "alice", "5000", "freeze")
    assert case.rule_ids == ["sanctions-indirect-share", "sanctions-indirect-amount", "sanctions-indirect-any"]
    assert case.deposit_time == datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc)
    assert case.snapshot["as_of"] == "2026-11-20T00:00:00Z" and case.snapshot_id == case.snapshot["id"]
    [exposure] = detail.exposures
    assert (exposure["category"], exposure["hop"], str(exposure["share"]), str(exposure["usd"])) == (
        "sanctions", 2, "0.8", "4000")
    assert exposure["evidence"]["sources"][0]["address"] == "0x098b716b8aaf21512996dc57eb0615e2383e2f96"
    assert {d["rule_id"] for d in detail.deadlines} == {"INT-REVIEW", "NY-STATUS", "US-OFAC-BLOCK", "US-OFAC-ANNUAL"}
    assert case.next_due_at == min(d["due_at"] for d in detail.deadlines)
    assert case.tracking_number.startswith("FC-") and detail.allowed_actions == ["start_review"]


def test_a_release_runs_to_the_end_with_four_eyes(store, cases):
    case_id = cases["D-1004"]
    service.transition(store, "ann", case_id, action="start_review", now=NOW)
    service.transition(store, "ann", case_id, action="request_information", now=NOW)
    service.transition(store, "ann", case_id, action="customer_replied", now=NOW)
    service.propose(store, "ann", case_id, kind="release", reason="Source of funds documented: salary.", now=NOW)
    with pytest.raises(AccessDenied):
        service.approve(store, "bob", case_id, now=NOW)  # an analyst never approves
    with pytest.raises(InvalidRequest, match="already has a proposal"):
        service.propose(store, "bob", case_id, kind="escalation", reason="second thoughts", now=NOW)
    released = service.approve(store, "sam", case_id, now=LATER, note="agreed")
    assert (released.status, released.outcome) == ("released", "released")
    assert ("INT-REVIEW", "met") in deadlines(store, case_id) and ("NY-STATUS", "cancelled") in deadlines(store, case_id)
    closed = service.transition(store, "ann", case_id, action="close", now=LATER)
    assert closed.status == "closed" and closed.closed_at == LATER
    # service targets end with the case; the OFAC reports on the blocked funds do not
    assert {rule for rule, status in deadlines(store, case_id) if status == "open"} == {"US-OFAC-BLOCK",
                                                                                       "US-OFAC-ANNUAL"}
    assert queries.verify_audit(store, "sam").ok


def test_the_proposer_can_never_approve_even_as_supervisor(store, cases):
    case_id = cases["D-1008"]
    service.transition(store, "sam", case_id, action="start_review", now=NOW)
    service.propose(store, "sam", case_id, kind="escalation", reason="Direct Garantex funds.", now=NOW)
    with pytest.raises(FourEyesViolation):
        service.approve(store, "sam", case_id, now=NOW, report_ref="SAR-1", report_date=REPORT_DATE)
    assert queries.show(store, "ann", case_id).case.status == "in_review"


def test_escalation_records_the_report_and_starts_continuing_activity_deadlines(store, cases):
    case_id = cases["D-1011"]
    service.transition(store, "ann", case_id, action="start_review", now=NOW)
    service.propose(store, "ann", case_id, kind="escalation", reason="Funds from a designated terrorist organisation.",
                    now=NOW)
    assert ("US-SAR-30", "open") in deadlines(store, case_id)
    with pytest.raises(InvalidRequest, match="reference and date"):
        service.approve(store, "sam", case_id, now=LATER)
    escalated = service.approve(store, "sam", case_id, now=LATER, report_ref="SAR-2026-0042", report_date=REPORT_DATE)
    assert (escalated.status, escalated.report_ref, escalated.report_date) == ("escalated", "SAR-2026-0042", REPORT_DATE)
    found = deadlines(store, case_id)
    assert {("US-SAR-30", "met"), ("US-SAR-CONT-REVIEW", "open"), ("US-SAR-CONT-FILE", "open")} <= found


def test_the_sar_clock_stops_unmet_when_the_escalation_is_turned_down_and_never_runs_twice(store, cases):
    case_id = cases["D-1001"]
    service.transition(store, "ann", case_id, action="start_review", now=NOW)
    service.propose(store, "ann", case_id, kind="escalation", reason="Lazarus funds.", now=NOW)
    service.reject(store, "sam", case_id, note="Not enough.", now=NOW)
    assert ("US-SAR-30", "cancelled") in deadlines(store, case_id)
    service.propose(store, "ann", case_id, kind="escalation", reason="More Lazarus funds found.", now=LATER)
    with store.session() as session:
        sar = [d for d in session.exec(select(Deadline).where(Deadline.case_id == case_id,
                                                              Deadline.rule_id == "US-SAR-30"))]
    assert sorted(d.status for d in sar) == ["cancelled", "open"]
    service.reject(store, "sia", case_id, note="Still not enough.", now=LATER)
    service.propose(store, "ann", case_id, kind="release", reason="Explained.", now=LATER)
    service.approve(store, "sam", case_id, now=LATER)
    assert ("US-SAR-30", "met") not in deadlines(store, case_id)


def test_each_status_update_meets_ny_status_and_starts_the_next(store, cases):
    case_id = cases["D-1009" if "D-1009" in cases else "D-1001"]
    first = {d["rule_id"]: d for d in queries.show(store, "ann", case_id).deadlines}["NY-STATUS"]
    service.record_status_update(store, "ann", case_id, now=NOW + timedelta(days=6))
    found = [d for d in queries.show(store, "ann", case_id).deadlines if d["rule_id"] == "NY-STATUS"]
    assert [d["status"] for d in found] == ["met", "open"]
    assert found[1]["triggered_at"] == NOW + timedelta(days=6) and found[1]["due_at"] > first["due_at"]
    tracking = queries.show(store, "ann", case_id).case.tracking_number
    [view] = queries.customer_view(store, "sue", tracking_number=tracking)
    assert view.next_update_due == found[1]["due_at"]


def test_a_rejected_proposal_leaves_the_case_in_review(store, cases):
    case_id = cases["D-1012"]
    service.transition(store, "ann", case_id, action="start_review", now=NOW)
    service.propose(store, "ann", case_id, kind="release", reason="Old funds.", now=NOW)
    service.reject(store, "sam", case_id, note="Lazarus funds are never old enough.", now=NOW)
    detail = queries.show(store, "ann", case_id)
    assert detail.case.status == "in_review" and detail.proposals[0]["status"] == "rejected"
    # a new proposal may follow
    service.propose(store, "bob", case_id, kind="escalation", reason="Lazarus funds.", now=NOW)


def test_illegal_transitions_name_the_state_and_the_action(store, cases):
    with pytest.raises(IllegalTransition, match="cannot close a case that is open"):
        service.transition(store, "ann", cases["D-1001"], action="close", now=NOW)
    with pytest.raises(IllegalTransition):
        service.propose(store, "ann", cases["D-1001"], kind="release", reason="too early", now=NOW)
    with pytest.raises(NotFound):
        service.transition(store, "ann", 999, action="start_review", now=NOW)
    with pytest.raises(NotFound):
        service.transition(store, "nobody", cases["D-1001"], action="start_review", now=NOW)


def test_assign_note_attach_and_snooze(store, cases):
    case_id = cases["D-1001"]
    service.assign(store, "sam", case_id, assignee="ann", now=NOW)
    with pytest.raises(AccessDenied):
        service.assign(store, "sam", case_id, assignee="sue", now=NOW)  # support does not work cases
    service.add_note(store, "ann", case_id, body="Called the customer; documents promised.", now=NOW)
    service.add_attachment(store, "ann", case_id, filename="payslip.pdf", media_type="application/pdf",
                           size_bytes=52_311, sha256="ab" * 32, now=NOW)
    with pytest.raises(InvalidRequest):
        service.snooze(store, "ann", case_id, until=NOW - timedelta(days=1), reason="past", now=NOW)
    service.snooze(store, "ann", case_id, until=NOW + timedelta(days=2), reason="Waiting for the bank's letter.",
                   now=NOW)
    detail = queries.show(store, "ann", case_id)
    assert detail.case.assignee == "ann" and detail.case.snooze_reason == "Waiting for the bank's letter."
    assert [n["body"] for n in detail.notes] == ["Called the customer; documents promised."]
    assert detail.attachments[0]["sha256"] == "ab" * 32
    page = queries.queue(store, QueueFilter(), actor="ann", now=NOW)
    assert case_id not in [r.id for r in page.rows]  # snoozed cases leave the queue until the snooze ends
    assert case_id in [r.id for r in queries.queue(store, QueueFilter(), actor="ann", now=NOW + timedelta(days=3)).rows]


def test_queue_orders_by_nearest_deadline_and_filters(store, cases):
    service.transition(store, "ann", cases["D-1004"], action="start_review", now=NOW)
    service.propose(store, "ann", cases["D-1004"], kind="escalation", reason="Garantex.", now=NOW)  # adds US-SAR-30
    page = queries.queue(store, QueueFilter(), actor="ann", now=NOW)
    assert page.total == 5 and [r.next_due_at for r in page.rows] == sorted(r.next_due_at for r in page.rows)

    def customers(**chosen) -> list[str]:
        return [r.customer_id for r in queries.queue(store, QueueFilter(**chosen), actor="ann", now=NOW).rows]

    assert set(customers(category="terrorist_financing")) == {"ken"}
    assert set(customers(hop=1)) == {"heidi", "ken"}
    assert set(customers(min_usd=5000)) == {"alice", "heidi", "leo"}
    assert customers(status="in_review") == ["dave"]
    two = queries.queue(store, QueueFilter(page=2, page_size=2), actor="ann", now=NOW)
    assert (two.total, len(two.rows)) == (5, 2)


def test_support_sees_only_the_customer_safe_view(store, cases):
    case_id = cases["D-1011"]
    tracking = queries.show(store, "ann", case_id).case.tracking_number
    service.transition(store, "ann", case_id, action="start_review", now=NOW)
    service.propose(store, "ann", case_id, kind="escalation", reason="TF.", now=NOW)
    service.approve(store, "sam", case_id, now=NOW, report_ref="SAR-9", report_date=REPORT_DATE)
    [view] = queries.customer_view(store, "sue", tracking_number=tracking.lower())
    assert view.status == "under_review"  # an escalation is never hinted at
    assert set(vars(view)) == {"tracking_number", "customer_id", "status", "asset", "amount", "deposit_time",
                               "next_update_due", "case_id"}  # the case id is the platform's own reference
    assert view.next_update_due is not None
    assert [v.tracking_number for v in queries.customer_view(store, "sue", customer_id="ken")] == [tracking]
    for forbidden in (lambda: queries.show(store, "sue", case_id),
                      lambda: queries.queue(store, QueueFilter(), actor="sue", now=NOW),
                      lambda: queries.due(store, "sue", NOW, within=timedelta(days=3)),
                      lambda: queries.verify_audit(store, "sue")):
        with pytest.raises(AccessDenied):
            forbidden()


def test_a_stale_version_is_a_conflict_and_changes_nothing(store, cases):
    case_id = cases["D-1001"]
    seen = queries.show(store, "ann", case_id).case.version
    service.transition(store, "ann", case_id, action="start_review", now=NOW, expected_version=seen)
    with pytest.raises(Conflict) as caught:
        service.assign(store, "bob", case_id, assignee="bob", now=NOW, expected_version=seen)
    assert (caught.value.expected, caught.value.actual) == (seen, seen + 1)
    assert str(caught.value) == (f"case {case_id} was changed by someone else (you had version {seen}, it is now "
                                 f"{seen + 1}; the last change was start review by ann at 2026-11-24 15:00 UTC); "
                                 "reload it and try again")  # who did what, and when
    detail = queries.show(store, "ann", case_id)
    assert detail.case.assignee is None and detail.case.version == seen + 1


def test_two_people_acting_at_once_one_wins_and_nothing_is_lost(store, cases):
    case_id = cases["D-1001"]
    version = queries.show(store, "ann", case_id).case.version
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def act(name):
        barrier.wait()
        try:
            service.assign(store, name, case_id, assignee=name, now=NOW, expected_version=version)
            outcomes[name] = "won"
        except Conflict as error:
            outcomes[name] = error

    threads = [threading.Thread(target=act, args=(name,)) for name in ("ann", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [name for name, outcome in outcomes.items() if outcome == "won"]
    assert len(winners) == 1 and sum(isinstance(o, Conflict) for o in outcomes.values()) == 1
    detail = queries.show(store, "ann", case_id)
    assert detail.case.assignee == winners[0] and detail.case.version == version + 1
    assert queries.verify_audit(store, "sam").ok


def test_the_audit_chain_names_an_altered_event(store, cases):
    service.add_note(store, "ann", cases["D-1001"], body="first", now=NOW)
    assert queries.verify_audit(store, "ada").ok
    with store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 7"))
    verdict = queries.verify_audit(store, "ada")
    assert not verdict.ok and verdict.seq == 7 and "event 7" in verdict.problem and "altered" in verdict.problem


def test_the_audit_chain_names_a_missing_event_and_a_cut_end(store, cases):
    with store.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM audit_events WHERE seq = 4"))
    verdict = queries.verify_audit(store, "ada")
    assert verdict.seq == 4 and "event 4 is missing" in verdict.problem
    with store.engine.begin() as connection:
        last = connection.execute(sa.text("SELECT max(seq) FROM audit_events")).scalar_one()
        connection.execute(sa.text(f"DELETE FROM audit_events WHERE seq >= 4"))
    verdict = queries.verify_audit(store, "ada")
    assert "events at the end are missing" in verdict.problem and verdict.seq == 4 and last > 4


def test_a_failed_change_leaves_no_audit_event(store, cases):
    before = queries.verify_audit(store, "ada").checked
    with pytest.raises(IllegalTransition):
        service.transition(store, "ann", cases["D-1001"], action="close", now=NOW)
    with pytest.raises(Conflict):
        service.assign(store, "ann", cases["D-1001"], assignee="ann", now=NOW, expected_version=99)
    assert queries.verify_audit(store, "ada").checked == before
    with store.session() as session:
        assert session.get(Case, cases["D-1001"]).assignee is None


def test_users_are_created_by_admins_with_known_roles(store):
    with pytest.raises(AccessDenied):
        staff.add_user(store, "sam", "eve", role="analyst", now=NOW)
    with pytest.raises(InvalidRequest, match="unknown role"):
        staff.add_user(store, "ada", "eve", role="root", now=NOW)
    created, _ = staff.add_user(store, "ada", "eve", role="analyst", now=NOW, password="s3cret passphrase")
    assert created.password_hash.startswith("$argon2id$")
    with pytest.raises(InvalidRequest, match="already"):
        staff.add_user(store, "ada", "eve", role="support", now=NOW)


def test_forged_events_outside_the_chain_are_found(store, cases):
    with store.engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO audit_events (seq, case_id, actor, at, action, before, after, prev_hash, hash) "
            "VALUES (0, 1, 'sam', '2026-11-24 00:00:00', 'case.approve_release', '{}', '{}', 'x', 'y')"))
    verdict = queries.verify_audit(store, "ada")
    assert verdict.seq == 0 and "not part of the chain" in verdict.problem
    with store.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM audit_events WHERE seq = 0"))
        last = connection.execute(sa.text("SELECT max(seq) FROM audit_events")).scalar_one()
        connection.execute(sa.text(
            "INSERT INTO audit_events (seq, case_id, actor, at, action, before, after, prev_hash, hash) "
            f"VALUES ({last + 1}, 1, 'sam', '2026-11-24 00:00:00', 'case.close', '{{}}', '{{}}', 'x', 'y')"))
    verdict = queries.verify_audit(store, "ada")
    assert not verdict.ok and verdict.seq == last + 1


def test_filters_take_names_in_any_case_and_refuse_wildcards(store, cases):
    assert queries.queue(store, QueueFilter(category="Sanctions"), actor="ann", now=NOW).total == 5
    assert queries.queue(store, QueueFilter(jurisdiction="ny"), actor="ann", now=NOW).total == 5
    with pytest.raises(InvalidRequest, match="not a category name"):
        queries.queue(store, QueueFilter(category="%"), actor="ann", now=NOW)


def test_amounts_keep_18_places_on_both_databases_and_huge_ones_are_refused(store, scenario_result):
    from dataclasses import replace

    import pyarrow as pa

    from cases.opening import open_run

    amounts = scenario_result.deposits.amount.to_pylist()
    amounts[0] = "0.1234567890123456789012"  # D-1001
    precise = replace(scenario_result, deposits=replace(scenario_result.deposits, amount=pa.array(amounts)))
    ids = open_run(store, precise, NOW).case_ids
    assert str(queries.show(store, "ann", ids["D-1001"]).case.amount) == "0.123456789012345679"
    amounts[3] = "123456789012345678901.5"  # D-1004: 21 whole digits
    huge = replace(scenario_result, deposits=replace(scenario_result.deposits, amount=pa.array(amounts),
                                                     deposit_id=pa.array([f"X{i}" for i in range(len(amounts))])))
    with pytest.raises(InvalidRequest, match="deposit X3: .* more than 20 digits"):
        open_run(store, huge, NOW)


def test_closed_cases_are_not_reassigned_and_user_names_are_trimmed(store, cases):
    case_id = cases["D-1004"]
    service.transition(store, "ann", case_id, action="start_review", now=NOW)
    service.propose(store, "ann", case_id, kind="release", reason="ok", now=NOW)
    service.approve(store, "sam", case_id, now=NOW)
    service.transition(store, "ann", case_id, action="close", now=NOW)
    with pytest.raises(InvalidRequest, match="closed"):
        service.assign(store, "sam", case_id, assignee="ann", now=NOW)
    staff.add_user(store, "ada", " eve ", role="analyst", now=NOW)
    with pytest.raises(InvalidRequest, match="already"):
        staff.add_user(store, "ada", "eve  ", role="support", now=NOW)


def test_alerts_are_checked_and_audited_even_without_freezes(store, scenario_result):
    from dataclasses import replace

    import numpy as np

    from cases.opening import open_run

    review_only = replace(scenario_result, decisions=replace(
        scenario_result.decisions, code=np.where(scenario_result.decisions.code == 2, 1,
                                                 scenario_result.decisions.code).astype(np.int8)))
    with pytest.raises(AccessDenied):
        open_run(store, review_only, NOW, actor="sue")
    with pytest.raises(NotFound):
        open_run(store, review_only, NOW, actor="nobody")
    done = open_run(store, review_only, NOW)
    assert (done.opened, done.alerts) == (0, 10)
    with store.engine.connect() as connection:
        events = connection.execute(sa.text("SELECT count(*) FROM audit_events WHERE action = 'alert.opened'"))
        assert events.scalar_one() == 10
