"""What the screening API knows of a deposit before scoring it, and what it keeps after: one answer per deposit id.

A deposit the API screened before gets its stored record back. A deposit the batch (or
`kyt watch`) already decided gets that decision: its case when it froze, its alert when it
was reviewed, else the decision the screening runs recorded. Only a deposit nobody decided
is scored; its frozen or reviewed outcome opens a case or an alert as the batch would (the
same idempotent opening), acting as `system:api:<key name>`, and the answer is kept.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from cases.api_models import ApiScreening
from cases.db import Store
from cases.models import Alert, Case, ScreeningRun
from cases.opening import open_cases
from cases.screenings import unpack
from kyt.record import ScoreResult

API_ACTOR = "system:api:"
"""The account the API acts as, followed by the key's name (the audit trail names it)."""


def known(store: Store, deposit_ids: list[str]) -> dict[str, dict]:
    """Deposit id -> what is already known of it: a stored API answer, else a case, else an alert (three indexed
    look-ups on one connection, the screening API's hot path)."""
    found: dict[str, dict] = {}
    with store.engine.connect() as connection:
        table = ApiScreening.__table__
        for deposit_id, record, case_id in connection.execute(sa.select(
                table.c.deposit_id, table.c.record, table.c.case_id).where(table.c.deposit_id.in_(deposit_ids))):
            found[deposit_id] = {**record, "case_id": case_id, "replayed": True}
        for model in (Case, Alert):
            rest = [d for d in deposit_ids if d not in found]
            if not rest:
                break
            columns = model.__table__.c
            for row in connection.execute(sa.select(*[columns[name] for name in _STORED + ("id",)]
                                                    + ([columns.case_id] if model is Alert else []))
                                          .where(columns.deposit_id.in_(rest))).mappings():
                found[row["deposit_id"]] = _stored(dict(row), case=model is Case)
    return found


_STORED = ("deposit_id", "customer_id", "tx_hash", "chain", "from_address", "to_address", "rule_ids", "categories",
           "snapshot_id")


def _stored(row: dict, *, case: bool) -> dict:
    """The answer for a deposit the batch already opened a case or an alert for (no exposures: see the case)."""
    ids = {"case_id": row["id"]} if case else {"case_id": row.get("case_id"), "alert_id": row["id"]}
    return {**{k: row[k] for k in _STORED[:6]}, "decision": "freeze" if case else "review",
            "rule_ids": list(row["rule_ids"] or []), "categories": list(row["categories"] or []),
            "snapshot_id": row["snapshot_id"], **ids, "replayed": True}


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
    """Open the cases and alerts of a freshly scored result and store the answers of those deposits (an allowed
    deposit's answer is left to `store_answers`, in batches); the answers, in order."""
    records = result.records()  # built once: the cases, the alerts and the answers are made from them
    frozen = [r for r in records if r.decision == "freeze"]
    reviewed = [replace(r, exposures=None) for r in records if r.decision == "review"]  # an alert keeps none
    opened = (open_cases(store, frozen + reviewed, snapshot=result.snapshot, now=now, actor=API_ACTOR + key_name)
              if frozen or reviewed else None)
    alerts = _alert_ids(store, [r.deposit_id for r in reviewed])
    answers = []
    for record in records:
        answer = record.as_json()
        answer["case_id"] = opened.case_ids.get(record.deposit_id) if opened else None
        if record.deposit_id in alerts:
            answer["alert_id"] = alerts[record.deposit_id]
        answers.append(answer)
    store_answers(store, [{"deposit_id": a["deposit_id"], "record": a, "case_id": a["case_id"], "key_name": key_name,
                           "screened_at": now} for a in answers if a["decision"] != "allow"])
    return answers


def store_answers(store: Store, rows: list[dict]) -> None:
    """Keep answers (dicts of ApiScreening's fields) in one transaction; an id already kept keeps its first answer."""
    if not rows:
        return
    fresh = list({r["deposit_id"]: r for r in reversed(rows)}.values())[::-1]  # the first answer of each id
    with store.writing_session() as session, session.begin():
        dialect = session.get_bind().dialect.name
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(ApiScreening)
        # an id stored already (by the batch before, or by a call racing this one) keeps its first answer
        session.execute(insert.on_conflict_do_nothing(index_elements=["deposit_id"]), fresh)


def _alert_ids(store: Store, deposit_ids: list[str]) -> dict[str, int]:
    if not deposit_ids:
        return {}
    with Session(store.engine) as session:
        return dict(session.exec(select(Alert.deposit_id, Alert.id).where(Alert.deposit_id.in_(deposit_ids))).all())
