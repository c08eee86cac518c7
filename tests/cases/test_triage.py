"""Case priority learned from decided cases: trained, ranked within each deadline day, honest about its order."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from cases import queries, service, triage
from cases.errors import AccessDenied
from cases.models import Case, Exposure
from cases.queries import QueueFilter
from kyt.risk import ModelError
from tests.cases.conftest import NOW


def add_case(store, n: int, *, sanctions: bool, outcome: str | None = None, due_hours: int = 30) -> int:
    """A case of a sanctioned deposit (direct, $20,000) or of a little scam exposure ($300), stored as is."""
    with service.unit_of_work(store) as session:
        case = Case(deposit_id=f"T-{n}", customer_id=f"cust-{n % 4}", tx_hash=f"0x{n:064x}",
                    from_address=f"0x{n:040x}", to_address="0x" + "9" * 40, asset="ETH", amount=Decimal(1),
                    usd_value=Decimal(20_000 if sanctions else 300), deposit_time=NOW - timedelta(days=1),
                    block_number=n, position=0, decision="freeze", rule_ids=[], snapshot_id="s",
                    categories=["sanctions" if sanctions else "scam"], min_hop=1 if sanctions else 2,
                    jurisdictions=["US"], tracking_number=f"FC-T{n:08d}",
                    status="closed" if outcome else "open", outcome=outcome,
                    opened_at=NOW - timedelta(days=30 - n % 20), updated_at=NOW,
                    next_due_at=None if outcome else NOW + timedelta(hours=due_hours), version=1)
        session.add(case)
        session.flush()
        session.add(Exposure(case_id=case.id, category=case.categories[0], hop=case.min_hop,
                             share=Decimal(1) if sanctions else Decimal("0.05"),
                             usd=Decimal(20_000) if sanctions else Decimal(15), evidence={}))
        return case.id


def decided(store, count: int) -> None:
    for n in range(count):  # the analysts escalated the sanctioned deposits and released the scam traces
        add_case(store, 1000 + n, sanctions=n % 2 == 0, outcome="escalated" if n % 2 == 0 else "released")


def test_a_cold_start_keeps_the_rule_order_and_says_so(store):
    decided(store, 6)
    with pytest.raises(ModelError, match="at least 10 risky and 10 normal.*cold start: the queue stays in rule order"):
        triage.train(store, "sam", now=NOW)


def test_cases_likely_to_be_escalated_come_first_within_their_deadline_day(store):
    decided(store, 24)
    model = triage.train(store, "sam", now=NOW)
    assert model.version.startswith("triage-") and model.training["cases"] == 24
    scam = [add_case(store, n, sanctions=False, due_hours=20 + n) for n in range(1, 4)]
    sanctioned = [add_case(store, n, sanctions=True, due_hours=24 + n) for n in range(4, 7)]
    later = add_case(store, 7, sanctions=True, due_hours=60)  # the next day: after all of today's cases
    done = triage.rank(store, "sam", model, now=NOW, share=0.0)
    assert (done.ranked, done.in_model_order, done.in_rule_order) == (7, 7, 0)
    by_deadline = queries.queue(store, QueueFilter(), actor="ann", now=NOW)
    assert [r.id for r in by_deadline.rows] == scam + sanctioned + [later]  # the rule order
    by_priority = queries.queue(store, QueueFilter(order="priority"), actor="ann", now=NOW)
    assert {r.id for r in by_priority.rows[:3]} == set(sanctioned)
    assert {r.id for r in by_priority.rows[3:6]} == set(scam) and by_priority.rows[6].id == later
    assert all(r.priority_model == model.version and r.queue_order == "model" for r in by_priority.rows)


def test_a_share_stays_in_rule_order_and_starting_a_review_records_the_order(store):
    decided(store, 24)
    model = triage.train(store, "sam", now=NOW)
    ids = [add_case(store, n, sanctions=n % 2 == 0, due_hours=20 + n) for n in range(1, 30)]
    done = triage.rank(store, "sam", model, now=NOW)
    held = [i for i in ids if triage.in_rule_order(i)]
    assert done.in_rule_order == len(held) > 0 and done.in_model_order == len(ids) - len(held)
    page = queries.queue(store, QueueFilter(order="priority", page_size=100), actor="ann", now=NOW)
    rows = {r.id: r for r in page.rows}
    assert {i for i, r in rows.items() if r.queue_order == "rules"} == set(held)
    rule_places = sorted(held, key=lambda i: -rows[i].priority)
    assert rule_places == sorted(held)  # the held cases keep their deadline order among themselves
    service.transition(store, "ann", held[0], action="start_review", now=NOW, queue_view="priority")
    with store.engine.connect() as connection:
        after = connection.execute(sa.text("SELECT after FROM audit_events WHERE action = 'case.start_review'")).scalar_one()
    after = json.loads(after) if isinstance(after, str) else after
    assert (after["queue_view"], after["queue_order"], after["priority_model"]) == ("priority", "rules", model.version)
    assert after["priority"] == rows[held[0]].priority


def test_the_held_share_is_about_a_fifth_and_stable():
    held = [triage.in_rule_order(i) for i in range(20_000)]
    assert 0.19 < sum(held) / len(held) < 0.21
    assert held == [triage.in_rule_order(i) for i in range(20_000)]


def test_only_supervisors_admins_and_the_batch_account_rank_or_train(store):
    decided(store, 24)
    for person in ("ann", "sue"):
        with pytest.raises(AccessDenied):
            triage.training_data(store, person)
    model = triage.train(store, "ada", now=NOW)
    with pytest.raises(AccessDenied):
        triage.rank(store, "ann", model, now=NOW)
    with pytest.raises(ModelError, match="not a triage model"):
        from kyt.risk import RiskModel
        triage.rank(store, "sam", RiskModel(None, ("x",), "risk-x", 0.5, [0.0], ""), now=NOW)
