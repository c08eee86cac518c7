"""The supervisor's backlog: open deadlines counted by due day and rule, in the database."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from cases import figures, queries
from tests.cases.conftest import NOW


def test_the_backlog_counts_every_open_deadline_once(store, cases):
    later = NOW + timedelta(days=10)
    rows = figures.backlog(store, "sam", now=later, days=400)
    detail = [queries.show(store, "sam", c) for c in cases.values()]
    open_due = [d["due_at"] for x in detail for d in x.deadlines if d["status"] == "open"]
    assert sum(r["deadlines"] for r in rows) == sum(due < later + timedelta(days=400) for due in open_due)
    overdue = sum(r["deadlines"] for r in rows if r["due"] == "overdue")
    assert overdue == sum(due < later for due in open_due) and overdue > 0
    days = [r["due"] for r in rows if r["due"] != "overdue"]
    assert days == sorted(days)
    assert figures.backlog(store, "sam", now=NOW - timedelta(days=1), days=1) == []


def test_due_counts_match_the_deadlines_due_and_a_limit_keeps_the_soonest(store, cases):
    later = NOW + timedelta(days=10)
    every = queries.due(store, "sam", later, within=timedelta(days=3))
    counts = queries.due_counts(store, "sam", later, within=timedelta(days=3))
    assert counts == {"overdue": sum(d.overdue for d in every), "at_risk": sum(not d.overdue for d in every)}
    assert counts["overdue"] > 0
    assert queries.due(store, "sam", later, within=timedelta(days=3), limit=2) == every[:2]


def test_the_figures_counted_in_the_database_equal_the_reference_over_the_rows(store, cases):
    from cases import service

    ids = sorted(cases.values())
    for number, case_id in enumerate(ids[:3]):
        at = NOW + timedelta(hours=number + 1)
        service.transition(store, "ann", case_id, action="start_review", now=at)
        service.propose(store, "ann", case_id, kind="release" if number < 2 else "escalation", reason="why", now=at)
        service.approve(store, "sam", case_id, now=at + timedelta(hours=30), report_ref="SAR-1" if number == 2 else None,
                        report_date=at if number == 2 else None)
    service.transition(store, "ann", ids[0], action="close", now=NOW + timedelta(days=2))
    with store.engine.begin() as connection:  # a frozen deposit without a USD price: unknown, never $0
        connection.execute(sa.text("UPDATE cases SET usd_value = NULL WHERE id = :i"), {"i": ids[4]})
    for start, end in ((NOW - timedelta(days=1), NOW + timedelta(days=3)), (NOW + timedelta(days=1), NOW + timedelta(days=5)),
                       (NOW - timedelta(days=9), NOW - timedelta(days=8))):
        reference = figures.summarise(figures.case_rows(store, "sam", start=start, end=end), start, end)
        assert figures.case_figures(store, "sam", start=start, end=end) == reference
    found = figures.case_figures(store, "sam", start=NOW - timedelta(days=1), end=NOW + timedelta(days=3))
    assert (found["decided"], found["released"], found["escalated"], found["frozen_cases"]) == (3, 2, 1, 3)
    assert found["per_day"][-1]["closed"] == 1 and found["frozen_cases_without_price"] == 1


def test_status_updates_counted_in_the_database_equal_the_reference(store, cases):
    from cases import service
    from cases.replies import standards

    ids = sorted(cases.values())
    service.record_status_update(store, "ann", ids[0], now=NOW + timedelta(days=1))  # on time
    service.record_status_update(store, "ann", ids[1], now=NOW + timedelta(days=20))  # late
    for start, end, now in ((NOW, NOW + timedelta(days=40), NOW + timedelta(days=40)),
                            (NOW, NOW + timedelta(days=40), NOW + timedelta(days=2)),
                            (NOW - timedelta(days=5), NOW - timedelta(days=1), NOW)):
        rows, updates = standards.service_rows(store, "sam", start=start, end=end)
        reference = standards.figures(rows, updates, now)
        counted = standards.status_updates(store, "sam", start=start, end=end, now=now)
        assert counted == {k: reference[k] for k in counted}
    assert standards.status_updates(store, "sam", start=NOW, end=NOW + timedelta(days=40),
                                    now=NOW + timedelta(days=40))["updates_on_time"] >= 1
