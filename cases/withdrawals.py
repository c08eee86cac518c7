"""Withdrawals the screening API decided: one answer per withdrawal id, and the held ones as alerts for analysts.

A withdrawal blocked or sent to review is held: its row opens with status `open` and an
audit event, in one transaction, acting as `system:api:<key name>`. An analyst closes it
with a reason (released to send, or kept blocked and reported elsewhere), also audited.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from cases import audit
from cases.access import require
from cases.api_models import WithdrawalScreening
from cases.db import Store
from cases.errors import InvalidRequest, NotFound
from cases.service import acting_user, unit_of_work

ANSWER_FIELDS = ("withdrawal_id", "customer_id", "chain", "address", "asset", "amount", "usd_value", "decision",
                 "rule_ids", "categories", "snapshot_id")
HELD = ("block", "review")
"""The decisions that hold a withdrawal for an analyst."""
CLOSINGS = ("released", "kept_blocked")


def known(store: Store, withdrawal_ids: list[str]) -> dict[str, dict]:
    """Withdrawal id -> the answer stored for it, marked as replayed."""
    with Session(store.engine) as session:
        rows = session.exec(select(WithdrawalScreening).where(WithdrawalScreening.withdrawal_id.in_(withdrawal_ids)))
        return {row.withdrawal_id: {**row.record, "replayed": True} for row in rows.all()}


def keep(store: Store, answers: list[dict], *, key_name: str, now: datetime) -> list[dict]:
    """Store fresh answers (a held one opens its alert, audited); the answers with `alert_id` where held.

    A withdrawal another call stored first keeps that call's answer, which is returned instead.
    """
    actor = "system:api:" + key_name
    out = []
    for answer in answers:
        try:
            with unit_of_work(store) as session:
                held = answer["decision"] in HELD
                row = WithdrawalScreening(
                    withdrawal_id=answer["withdrawal_id"], customer_id=answer["customer_id"], chain=answer["chain"],
                    address=answer["address"], asset=answer["asset"], amount=answer["amount"],
                    usd_value=answer["usd_value"], decision=answer["decision"], rule_ids=answer["rule_ids"],
                    categories=answer["categories"], snapshot_id=answer["snapshot_id"], record={},
                    status="open" if held else None, key_name=key_name, screened_at=now)
                session.add(row)
                session.flush()
                stored = {**answer, "alert_id": row.id if held else None}
                row.record = stored
                if held:
                    audit.append(session, actor, "withdrawal.held", at=now,
                                 after={"withdrawal": row.withdrawal_id, "decision": row.decision,
                                        "rules": row.rule_ids, "alert": row.id})
            out.append({**stored, "replayed": False})
        except sa.exc.IntegrityError:  # a concurrent call kept this withdrawal first: its answer stands
            out.append(known(store, [answer["withdrawal_id"]])[answer["withdrawal_id"]])
    return out


def store_allowed(store: Store, rows: list[dict]) -> None:
    """Keep allowed withdrawals' answers (rows of `answer`, `key_name`, `screened_at`) in one transaction: no alert,
    no audit event, nothing is held; an id already kept keeps its first answer."""
    if not rows:
        return
    with store.writing_session() as session, session.begin():
        kept = set(session.exec(select(WithdrawalScreening.withdrawal_id).where(
            WithdrawalScreening.withdrawal_id.in_([r["answer"]["withdrawal_id"] for r in rows]))).all())
        fresh = {r["answer"]["withdrawal_id"]: r for r in rows if r["answer"]["withdrawal_id"] not in kept}
        if fresh:  # one statement for the batch, not an object per row
            session.execute(sa.insert(WithdrawalScreening), [
                {**{field: row["answer"][field] for field in ANSWER_FIELDS},
                 "record": {**row["answer"], "alert_id": None}, "status": None, "key_name": row["key_name"],
                 "screened_at": row["screened_at"]} for row in fresh.values()])


def screened_ids(store: Store) -> set[str]:
    """Every withdrawal id the database holds an answer for (the server keeps them, to look up only those)."""
    with Session(store.engine) as session:
        return set(session.exec(select(WithdrawalScreening.withdrawal_id)).all())


def held(store: Store, actor: str, *, limit: int = 200) -> list[WithdrawalScreening]:
    """The open held withdrawals, oldest first, as an analyst sees them."""
    with Session(store.engine) as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "view_case")
        rows = session.exec(select(WithdrawalScreening).where(WithdrawalScreening.status == "open")
                            .order_by(WithdrawalScreening.screened_at, WithdrawalScreening.id).limit(limit)).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def close(store: Store, actor: str, alert_id: int, *, outcome: str, reason: str, now: datetime) -> WithdrawalScreening:
    """Close a held withdrawal, as an analyst or supervisor: `released` (it may be sent) or `kept_blocked`."""
    if outcome not in CLOSINGS:
        raise InvalidRequest(f"a held withdrawal is closed as {' or '.join(CLOSINGS)}, not {outcome!r}")
    if not reason.strip():
        raise InvalidRequest("closing a held withdrawal needs a reason")
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "work_case")
        row = session.get(WithdrawalScreening, alert_id)
        if row is None or row.status is None:
            raise NotFound(f"no held withdrawal {alert_id}")
        if row.status != "open":
            raise InvalidRequest(f"held withdrawal {alert_id} was already closed ({row.status}) by {row.closed_by}")
        row.status, row.closed_by, row.closed_at, row.reason = outcome, user.name, now, reason.strip()
        session.add(row)
        audit.append(session, user.name, "withdrawal.close", at=now, before={"status": "open"},
                     after={"withdrawal": row.withdrawal_id, "status": outcome, "reason": row.reason})
        session.flush()
        session.expunge(row)
        return row
