"""What the screening API knows of a deposit before scoring it, and what it keeps after: one answer per deposit id.

A deposit the API screened before gets its stored record back. A deposit the batch (or
`kyt watch`) already decided gets that decision: its case when it froze, its alert when it
was reviewed, else the decision the screening runs recorded. Only a deposit nobody decided
is scored; its frozen or reviewed outcome opens a case or an alert as the batch would (the
same idempotent opening), acting as `system:api:<key name>`, and the answer is kept.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from cases.api_models import ApiScreening
from cases.db import Store
from cases.models import Alert, Case, ScreeningRun
from cases.opening import open_run
from cases.screenings import unpack
from kyt.record import ScoreResult

API_ACTOR = "system:api:"
"""The account the API acts as, followed by the key's name (the audit trail names it)."""


def known(store: Store, deposit_ids: list[str]) -> dict[str, dict]:
    """Deposit id -> what is already known of it: a stored API answer, else a case, else an alert."""
    found: dict[str, dict] = {}
    with Session(store.engine) as session:
        for row in session.exec(select(ApiScreening).where(ApiScreening.deposit_id.in_(deposit_ids))).all():
            found[row.deposit_id] = {**row.record, "case_id": row.case_id, "replayed": True}
        rest = [d for d in deposit_ids if d not in found]
        if rest:
            for case in session.exec(select(Case).where(Case.deposit_id.in_(rest))).all():
                found[case.deposit_id] = _stored(case, case_id=case.id)
        rest = [d for d in rest if d not in found]
        if rest:
            for alert in session.exec(select(Alert).where(Alert.deposit_id.in_(rest))).all():
                found[alert.deposit_id] = _stored(alert, case_id=alert.case_id, alert_id=alert.id)
    return found


def _stored(row: Case | Alert, **ids: int | None) -> dict:
    """The answer for a deposit the batch already opened a case or an alert for (no exposures: see the case)."""
    return {"deposit_id": row.deposit_id, "customer_id": row.customer_id, "tx_hash": row.tx_hash, "chain": row.chain,
            "from_address": row.from_address, "to_address": row.to_address,
            "decision": row.decision if isinstance(row, Case) else "review",
            "rule_ids": list(row.rule_ids), "categories": list(row.categories), "snapshot_id": row.snapshot_id,
            **ids, "replayed": True}


def batch_decisions(store: Store) -> dict[str, tuple[str, str]]:
    """Deposit id -> (decision, snapshot id) of every deposit a screening run recorded, the latest run winning."""
    runs = ScreeningRun.__table__
    out: dict[str, tuple[str, str]] = {}
    with store.engine.connect() as connection:
        for snapshot_id, packed in connection.execute(sa.select(runs.c.snapshot_id, runs.c.decided)
                                                      .order_by(runs.c.id)).all():
            table = unpack(packed)
            for deposit_id, decision in zip(table["deposit_id"].to_pylist(), table["decision"].to_pylist()):
                out[deposit_id] = (decision, snapshot_id)
    return out


def keep(store: Store, result: ScoreResult, *, key_name: str, now: datetime) -> list[dict]:
    """Open the cases and alerts of a freshly scored result, store each deposit's answer; the answers, in order."""
    opened = open_run(store, result, now, actor=API_ACTOR + key_name)
    alerts = _alert_ids(store, [r.deposit_id for r in result.records("review", exposures=False)])
    answers = []
    for record in result.records():
        answer = record.as_json()
        answer["case_id"] = opened.case_ids.get(record.deposit_id)
        if record.deposit_id in alerts:
            answer["alert_id"] = alerts[record.deposit_id]
        answers.append(answer)
    with Session(store.engine) as session:
        stored = {row for row in session.exec(select(ApiScreening.deposit_id).where(
            ApiScreening.deposit_id.in_([a["deposit_id"] for a in answers]))).all()}
        for answer in answers:
            if answer["deposit_id"] not in stored:  # a concurrent call may have kept it first: its answer stands
                session.add(ApiScreening(deposit_id=answer["deposit_id"], record=answer, case_id=answer["case_id"],
                                         key_name=key_name, screened_at=now))
        try:
            session.commit()
        except sa.exc.IntegrityError:
            session.rollback()
    return answers


def _alert_ids(store: Store, deposit_ids: list[str]) -> dict[str, int]:
    if not deposit_ids:
        return {}
    with Session(store.engine) as session:
        return dict(session.exec(select(Alert.deposit_id, Alert.id).where(Alert.deposit_id.in_(deposit_ids))).all())
