"""Bulk inserts store exactly what the ORM would: times, exact decimals, JSON, defaults, upserts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlmodel import select

from cases.bulk import insert_columns, insert_rows, reserve_ids
from cases.models import Alert
from cases.service import unit_of_work

AT = datetime(2026, 12, 6, 3, 0, tzinfo=timezone(timedelta(hours=1)))


def alert_row(n: int, **changes) -> dict:
    row = dict(deposit_id=f"B-{n}", customer_id="c", tx_hash=f"0x{n:064x}", from_address="0x" + "1" * 40,
               to_address="0x" + "2" * 40, asset="ETH", amount=Decimal("0.000000000000000001") * n,
               usd_value=None if n % 2 else Decimal("12345678901234567890.123456789012345678"),
               deposit_time=AT, block_number=n, position=0, sender_risk={"p": 0.5, "features": ["a", "b"]},
               rule_ids=["r1", "r2"], categories=["scam"], snapshot_id="s", created_at=AT)
    return row | changes


def test_rows_come_back_as_the_orm_stores_them_with_defaults_filled(store):
    with unit_of_work(store) as session:
        ids = reserve_ids(session, Alert.__table__, 3)
        insert_rows(session, Alert.__table__, [alert_row(n, id=i) for n, i in zip((1, 2, 3), ids)])
    with store.session() as session:
        alerts = session.exec(select(Alert).order_by(Alert.id)).all()
    assert [a.id for a in alerts] == ids and len(set(ids)) == 3
    first, second = alerts[0], alerts[1]
    assert first.usd_value is None and second.usd_value == Decimal("12345678901234567890.123456789012345678")
    assert first.amount == Decimal("1E-18") and first.deposit_time == AT and first.created_at.tzinfo is not None
    assert first.sender_risk == {"p": 0.5, "features": ["a", "b"]} and first.rule_ids == ["r1", "r2"]
    assert first.status == "open"  # the column's default
    with unit_of_work(store) as session:  # ids reserved later never collide with rows already there
        more = reserve_ids(session, Alert.__table__, 2)
    assert min(more) > max(ids)


def test_equal_values_of_other_types_are_stored_as_their_own_type(store):
    """The conversion is done once per distinct value: 1 and True, ["1"] and [1] must not share it."""
    with unit_of_work(store) as session:
        ids = reserve_ids(session, Alert.__table__, 4)
        insert_rows(session, Alert.__table__, [
            alert_row(n, id=i, rule_ids=rules, sender_risk=risk) for n, i, rules, risk in zip(
                (1, 2, 3, 4), ids, (["1"], [1], [True], ["1"]), ({"p": 1}, {"p": True}, {"p": 1.0}, {"p": "1"}))])
    with store.session() as session:
        alerts = session.exec(select(Alert).order_by(Alert.id)).all()
    assert [a.rule_ids for a in alerts] == [["1"], [1], [True], ["1"]]
    assert [a.sender_risk for a in alerts] == [{"p": 1}, {"p": True}, {"p": 1.0}, {"p": "1"}]
    assert [type(a.sender_risk["p"]) for a in alerts] == [int, bool, float, str]
